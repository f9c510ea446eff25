-- Actors beyond people: an event names the API token, provisioning source or SCIM connection
-- that made it (actor_id), and the import run or SCIM request it belongs to (run_id), so a run
-- can be undone event by event.
alter table audit_event add column actor_id blob;
alter table audit_event add column run_id blob;
create index audit_event_by_run on audit_event (org_id, run_id) where run_id is not null;

-- 0001's header says every key and index starts with org_id. Two did not, and one still does
-- not: user_account_keys (keyed by row id for full-text matches) is rebuilt below led by org_id,
-- which every listing binds anyway; org_slug stays keyed by slug alone, because the org table is
-- the directory of tenants itself (sign-in finds an org by its slug before it knows its id).
-- user_rowid, the table's integer primary key, is SQLite's own row id and the full-text index's
-- key; SQLite is never sharded, so it needs no org_id in front.
drop index user_account_keys;
create index user_account_keys
    on user_account (org_id, user_rowid, status, role, source, family_key, given_key, created_at,
                     status_changed_at, user_id);
