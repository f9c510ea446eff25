-- SCIM 2.0 connections: a source of the org that an identity provider feeds over HTTP.

-- Sources may be SCIM connections (SQLite changes a check only by rebuilding the table).
create table source_next (
    org_id blob not null references org (org_id),
    source_id blob not null,
    name text not null,
    format text not null check (format in ('plain_csv', 'oneroster', 'scim')),
    mode text not null check (mode in ('full', 'delta')),
    missing_student text not null check (missing_student in ('archive', 'deactivate', 'keep')),
    missing_teacher text not null check (missing_teacher in ('archive', 'deactivate', 'keep')),
    missing_staff text not null check (missing_staff in ('archive', 'deactivate', 'keep')),
    missing_admin text not null check (missing_admin in ('archive', 'deactivate', 'keep')),
    paused integer not null,
    created_at integer not null,
    version integer not null,
    drop_folder text,
    primary key (org_id, source_id)
);
insert into source_next select org_id, source_id, name, format, mode, missing_student,
    missing_teacher, missing_staff, missing_admin, paused, created_at, version, drop_folder
from source;
drop table source;
alter table source_next rename to source;
create unique index source_name on source (org_id, name);

-- A connection's settings: where a person's role is read from, and how many requests a
-- minute its clients may make.
create table scim_connection (
    org_id blob not null,
    source_id blob not null,
    role_attribute text not null,
    requests_per_minute integer not null check (requests_per_minute > 0),
    primary key (org_id, source_id)
);

-- A connection's bearer tokens: shown once, kept as a SHA-256 digest, revocable.
create table scim_token (
    org_id blob not null,
    token_id blob not null,
    source_id blob not null,
    name text not null,
    digest text not null,
    created_at integer not null,
    -- Written at most once a minute per token.
    last_used_at integer,
    revoked_at integer,
    primary key (org_id, token_id)
);
-- Every request finds its token by digest.
create unique index scim_token_digest on scim_token (org_id, digest);

-- The SCIM resources of a connection: Users (owner: the person) and Groups (owner: the
-- roster). A resource keeps its document as the client sent it (normalised), for attributes
-- Rollcall does not map. A DELETEd resource keeps its row, with deleted_at: its id answers 404
-- for good, and a person created again gets a new id that points at the same owner.
create table scim_resource (
    org_id blob not null,
    scim_id blob not null,
    source_id blob not null,
    kind text not null check (kind in ('User', 'Group')),
    owner_id blob not null,
    -- userName or displayName as sent, and lower-cased: unique within the connection.
    name text not null,
    name_key text not null,
    external_id text,
    document text not null,
    created_at integer not null,
    updated_at integer not null,
    version integer not null,
    deleted_at integer,
    primary key (org_id, scim_id)
);
-- userName and displayName are unique per connection among live resources; clients filter on
-- them (userName eq) before every create.
create unique index scim_resource_name_key
    on scim_resource (org_id, source_id, kind, name_key) where deleted_at is null;
-- externalId is unique per connection among live resources, and filtered on.
create unique index scim_resource_external_id
    on scim_resource (org_id, source_id, kind, external_id)
    where deleted_at is null and external_id is not null;
-- Lists walk an org's resources in id order (the stable order of paging) by the primary key:
-- an index led by the connection would tempt a planner without statistics to walk it for a
-- lookup by name, and most orgs have one connection.
-- A person's or roster's resources.
create index scim_resource_by_owner on scim_resource (org_id, owner_id);
-- A person has at most one live User: two resources never share a person.
create unique index scim_resource_live_person
    on scim_resource (org_id, owner_id) where deleted_at is null and kind = 'User';
-- Deleted resources by name and by externalId: a create finds the person to restore. Few rows
-- are deleted, so these stay small and live rows never touch them.
create index scim_resource_deleted_name
    on scim_resource (org_id, source_id, kind, name_key) where deleted_at is not null;
create index scim_resource_deleted_external_id
    on scim_resource (org_id, source_id, kind, external_id) where deleted_at is not null;
-- Revoking a person's API tokens when they stop being active finds them by user.
create index api_token_by_user on api_token (org_id, user_id);

-- Why each index exists:
--   scim_token_digest: every request finds its token by the digest of the one it sends.
--   scim_resource_name_key: userName and displayName are unique per connection among live
--     resources, and clients look them up before each create.
--   scim_resource_external_id: externalId is unique per connection among live resources, and
--     looked up.
--   scim_resource_by_owner: a person's or roster's resources.
--   scim_resource_live_person: a person has at most one live User.
--   scim_resource_deleted_name: a create finds the deleted person to restore by name.
--   scim_resource_deleted_external_id: a create finds the deleted person to restore by
--     externalId.
--   api_token_by_user: revoking the tokens of someone who stops being active.
