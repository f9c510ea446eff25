-- Actors beyond people: an event names the API token, provisioning source or SCIM connection
-- that made it (actor_id), and the import run or SCIM request it belongs to (run_id), so a run
-- can be undone event by event.
alter table audit_event add column actor_id uuid;
alter table audit_event add column run_id uuid;
create index audit_event_by_run on audit_event (org_id, run_id) where run_id is not null;

-- 0001's header says every key and index starts with org_id. org_slug does not, on purpose:
-- the org table is the directory of tenants itself (sign-in finds an org by its slug before it
-- knows its id); distributed by org, it is a reference table copied to every node.
