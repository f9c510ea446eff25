-- Listings read their page in two steps: first the 50-odd row ids in order, from indexes alone,
-- then those rows. Reading a row costs a random page; reading an index entry rarely does. So
-- each listing index also carries what a listing filters on (role, source, the search text),
-- and a compact index keyed by row id carries what a full-text match is filtered and sorted by.
drop index user_account_by_family;
drop index user_account_by_given;
drop index user_account_by_created;
drop index user_account_by_status_changed;
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
