-- Orgs, users, their history and API tokens.
-- Timestamps are microseconds since the Unix epoch (UTC), as in the SQLite store: exact and
-- identical on both backends. Every primary key, unique key and index starts with org_id, and
-- no query joins across orgs, so the tables can be distributed by org_id (Citus) as they are.

create table org (
    org_id uuid primary key,
    slug text not null,
    name text not null,
    created_at bigint not null
);
create unique index org_slug on org (slug);

create table user_account (
    org_id uuid not null references org (org_id),
    user_id uuid not null,
    username text,
    -- Lower-cased copies: usernames and e-mails are unique ignoring case.
    username_key text,
    email text,
    email_key text,
    given_name text not null,
    family_name text not null,
    -- Transliterated, lower-cased names, compared byte by byte ("C") like the SQLite store.
    given_key text collate "C" not null,
    family_key text collate "C" not null,
    role text not null check (role in ('admin', 'teacher', 'staff', 'student')),
    status text not null check (status in ('active', 'inactive', 'archived')),
    source text not null,
    external_id text,
    prevent_archiving boolean not null,
    password_hash text,
    must_change_password boolean not null,
    -- JSON object of free attributes (department, grade, …).
    attributes text not null,
    -- ' term term … ': lets a scan in listing order check a query word with strpos().
    search_text text not null,
    created_at bigint not null,
    updated_at bigint not null,
    status_changed_at bigint not null,
    version bigint not null,
    primary key (org_id, user_id)
);
create unique index user_account_username on user_account (org_id, username_key);
create unique index user_account_email on user_account (org_id, email_key);
create unique index user_account_external_id on user_account (org_id, source, external_id);
-- One index per listing order, led by status: each status filter walks its own range in order.
create index user_account_by_family on user_account (org_id, status, family_key, given_key, user_id);
create index user_account_by_given on user_account (org_id, status, given_key, family_key, user_id);
create index user_account_by_created on user_account (org_id, status, created_at, user_id);
create index user_account_by_status_changed on user_account (org_id, status, status_changed_at, user_id);

-- Word-prefix search: one row per (user, term); a prefix is a range scan of the primary key.
create table user_term (
    org_id uuid not null,
    term text collate "C" not null,
    user_id uuid not null,
    primary key (org_id, term, user_id),
    foreign key (org_id, user_id) references user_account (org_id, user_id)
);

create table audit_event (
    event_id uuid not null,
    org_id uuid not null,
    user_id uuid not null,
    at bigint not null,
    actor_kind text not null,
    actor_user_id uuid,
    actor_label text not null,
    action text not null,
    from_status text,
    to_status text,
    reason text,
    -- JSON array of field names.
    changed_fields text not null,
    primary key (org_id, event_id)
);
create index audit_event_by_user on audit_event (org_id, user_id, at);

create table api_token (
    token_id uuid not null,
    org_id uuid not null references org (org_id),
    user_id uuid not null,
    name text not null,
    -- SHA-256 of the secret; the secret itself is never stored.
    digest text not null,
    created_at bigint not null,
    revoked_at bigint,
    primary key (org_id, token_id)
);
create unique index api_token_digest on api_token (org_id, digest);
