-- Orgs, users, their history and API tokens.
-- Timestamps are microseconds since the Unix epoch (UTC); ids are UUIDv7 as 16-byte blobs.
-- Every key and index starts with org_id: queries never cross tenants.

create table org (
    org_id blob primary key,
    slug text not null,
    name text not null,
    created_at integer not null
);
create unique index org_slug on org (slug);

create table user_account (
    -- The integer key links a user to their row in the user_search full-text index.
    user_rowid integer primary key,
    org_id blob not null references org (org_id),
    user_id blob not null,
    username text,
    -- Lower-cased copies: usernames and e-mails are unique ignoring case.
    username_key text,
    email text,
    email_key text,
    given_name text not null,
    family_name text not null,
    -- The names' search terms (transliterated, lower-case, letters and digits): the sort order
    -- of the Users screen, and a range of them is everyone whose name begins with a word.
    given_key text not null,
    family_key text not null,
    role text not null check (role in ('admin', 'teacher', 'staff', 'student')),
    status text not null check (status in ('active', 'inactive', 'archived')),
    source text not null,
    external_id text,
    prevent_archiving integer not null,
    password_hash text,
    must_change_password integer not null,
    attributes text not null,
    -- ' term term … ': lets a scan in listing order check a query word with instr().
    search_text text not null,
    created_at integer not null,
    updated_at integer not null,
    status_changed_at integer not null,
    version integer not null
);
create unique index user_account_id on user_account (org_id, user_id);
create unique index user_account_username on user_account (org_id, username_key);
create unique index user_account_email on user_account (org_id, email_key);
create unique index user_account_external_id on user_account (org_id, source, external_id);
-- One index per listing order, led by status: each status filter walks its own range in order.
-- Listings read their page in two steps: first the 50-odd row ids in order, from indexes alone,
-- then those rows. Reading a row costs a random page; reading an index entry rarely does. So
-- each listing index also carries what a listing filters on (role, source, the search text),
-- and a compact index keyed by row id carries what a full-text match is filtered and sorted by.
create index user_account_by_family
    on user_account (org_id, status, family_key, given_key, user_id, role, source, search_text);
create index user_account_by_given
    on user_account (org_id, status, given_key, family_key, user_id, role, source, search_text);
create index user_account_by_created
    on user_account (org_id, status, created_at, user_id, role, source, search_text);
create index user_account_by_status_changed
    on user_account (org_id, status, status_changed_at, user_id, role, source, search_text);
create index user_account_keys
    on user_account (user_rowid, org_id, status, role, source, family_key, given_key, created_at,
                     status_changed_at, user_id);

-- Word-prefix search. Terms are already folded to [a-z0-9] by the domain, so the ascii tokenizer
-- keeps each one whole; prefix indexes make prefixes of up to five letters cheap (usernames and
-- e-mails make many distinct terms, which a longer prefix would otherwise have to merge). The whole
-- family and given names (equal to family_key and given_key) have columns of their own: a query
-- sorted by family name finds those matches by seeking in user_account_by_family, and asks this
-- index only for the rest.
create virtual table user_search using fts5 (
    family,
    given,
    other,
    content = '',
    contentless_delete = 1,
    detail = column,
    prefix = '1 2 3 4 5',
    tokenize = 'ascii'
);

create table audit_event (
    event_id blob primary key,
    org_id blob not null,
    user_id blob not null,
    at integer not null,
    actor_kind text not null,
    actor_user_id blob,
    actor_label text not null,
    action text not null,
    from_status text,
    to_status text,
    reason text,
    -- JSON array of field names.
    changed_fields text not null
);
create index audit_event_by_user on audit_event (org_id, user_id, at);

create table api_token (
    token_id blob primary key,
    org_id blob not null references org (org_id),
    user_id blob not null,
    name text not null,
    -- SHA-256 of the secret; the secret itself is never stored.
    digest text not null,
    created_at integer not null,
    revoked_at integer
);
create unique index api_token_digest on api_token (org_id, digest);
