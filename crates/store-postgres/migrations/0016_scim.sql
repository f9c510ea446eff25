-- SCIM 2.0 connections: a source of the org that an identity provider feeds over HTTP.

alter table source drop constraint source_format_check;
alter table source add constraint source_format_check
    check (format in ('plain_csv', 'oneroster', 'scim'));

create table scim_connection (
    org_id uuid not null,
    source_id uuid not null,
    role_attribute text not null,
    requests_per_minute bigint not null check (requests_per_minute > 0),
    primary key (org_id, source_id)
);
comment on index scim_connection_pkey is 'A connection''s settings are read with each request.';
comment on table scim_connection is
    'A connection''s settings: where a person''s role is read from, and how many requests a minute its clients may make.';

create table scim_token (
    org_id uuid not null,
    token_id uuid not null,
    source_id uuid not null,
    name text not null,
    digest text not null,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint,
    primary key (org_id, token_id)
);
comment on index scim_token_pkey is 'A token is revoked by its id.';
create unique index scim_token_digest on scim_token (org_id, digest);
comment on index scim_token_digest is 'Every request finds its token by digest.';

create table scim_resource (
    org_id uuid not null,
    scim_id uuid not null,
    source_id uuid not null,
    kind text not null check (kind in ('User', 'Group')),
    owner_id uuid not null,
    name text not null,
    name_key text not null,
    external_id text,
    document text not null,
    created_at bigint not null,
    updated_at bigint not null,
    version bigint not null,
    deleted_at bigint,
    primary key (org_id, scim_id)
);
comment on table scim_resource is
    'The SCIM resources of a connection: Users (owner: the person) and Groups (owner: the roster), each with its document as sent (normalised). A DELETEd resource keeps its row with deleted_at: its id answers 404 for good.';
create unique index scim_resource_name_key
    on scim_resource (org_id, source_id, kind, name_key) where deleted_at is null;
comment on index scim_resource_name_key is
    'userName and displayName are unique per connection among live resources; clients filter on them before every create.';
create unique index scim_resource_external_id
    on scim_resource (org_id, source_id, kind, external_id)
    where deleted_at is null and external_id is not null;
comment on index scim_resource_external_id is
    'externalId is unique per connection among live resources, and filtered on.';
comment on index scim_resource_pkey is
    'Lists walk an org''s resources in id order (the stable order of paging). No index is led by the connection: it would tempt a planner without statistics to walk it for a lookup by name, and most orgs have one connection.';
create index scim_resource_by_owner on scim_resource (org_id, owner_id);
comment on index scim_resource_by_owner is 'A person''s or roster''s resources.';
create unique index scim_resource_live_person
    on scim_resource (org_id, owner_id) where deleted_at is null and kind = 'User';
comment on index scim_resource_live_person is 'A person has at most one live User: two resources never share a person.';
create index scim_resource_deleted_name
    on scim_resource (org_id, source_id, kind, name_key) where deleted_at is not null;
comment on index scim_resource_deleted_name is
    'Deleted resources by name: a create finds the person to restore. Few rows are deleted, so it stays small and live rows never touch it.';
create index scim_resource_deleted_external_id
    on scim_resource (org_id, source_id, kind, external_id) where deleted_at is not null;
comment on index scim_resource_deleted_external_id is
    'Deleted resources by externalId: a create finds the person to restore.';
create index api_token_by_user on api_token (org_id, user_id);
comment on index api_token_by_user is 'Revoking a person''s API tokens when they stop being active finds them by user.';
