-- Sign-in throttling, shared by every server process on this database. A key names an account
-- from one address, an account, or an address (see the app's throttle); a run is how many
-- attempts failed in a row and when the last one came. Runs that have faded are pruned.
-- Keys are bounded in length by the app (digests and truncated addresses). Not scoped by org:
-- an address is counted across every org it tries.
create table sign_in_throttle (
    key text primary key,
    failures bigint not null,
    last_at bigint not null
);
create index sign_in_throttle_by_last on sign_in_throttle (last_at);

-- Keys the servers share, created by the first server that needs one (the key that signs the
-- sign-in form's anti-forgery token, so any server accepts a form another one served).
create table server_secret (
    name text primary key,
    value text not null
);
