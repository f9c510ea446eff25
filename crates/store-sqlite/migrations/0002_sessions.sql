-- Console sessions. The cookie holds the secret; only its SHA-256 is kept here. A session ends
-- when it expires, when its user signs out, and (in the same transaction) when its user stops
-- being allowed to sign in.
create table session (
    org_id blob not null,
    digest text not null,
    user_id blob not null,
    -- Echoed by forms and htmx requests that change something.
    csrf_token text not null,
    created_at integer not null,
    expires_at integer not null,
    primary key (org_id, digest)
);
create index session_by_user on session (org_id, user_id);
