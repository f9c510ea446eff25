-- Why each index exists, kept in the catalog (psql: \di+), and one that no longer has a reader.
-- Every index begins with org_id where its table has one (see the shard test).

-- Nothing reads a run's audit events by run: undo reads run_touch. The index only cost writes,
-- above all on a roster import's bulk path.
drop index audit_event_by_run;

-- Search plans are chosen from the search vector's lexeme statistics (search.rs). A larger
-- sample lists ~3,000 lexemes instead of ~1,000, so a prefix that is neither very common nor
-- rare is estimated from its own frequency; ANALYZE samples 120,000 rows instead of 30,000.
alter table user_account alter column search_vector set statistics 400;

comment on index user_account_pkey is
    'A user by id: every read and write of one user, and a page''s rows by id.';
comment on index user_account_by_family is
    'The Users screen sorted by family name within a status: pages walk it in order, and a search whose word begins the family name seeks its range.';
comment on index user_account_by_given is
    'The Users screen sorted by given name within a status: as user_account_by_family.';
comment on index user_account_by_created is
    'The Users screen sorted by when people joined, within a status.';
comment on index user_account_by_status_changed is
    'The Users screen sorted by the last status change, within a status.';
comment on index user_account_search is
    'Word-prefix search: each term''s prefixes of one to five letters under the org''s key and the term''s kind; GIN intersects the words. Also counts a search''s matches.';
comment on index user_account_username is
    'Usernames are unique within an org; sign-in finds the user by username.';
comment on index user_account_username_skeleton is
    'No two usernames of an org may look alike (the same skeleton of confusable characters).';
comment on index user_account_email is
    'E-mail addresses are unique within an org; sign-in finds the user by e-mail.';
comment on index user_account_external_id is
    'A provisioning source''s id for a person is unique within the org: imports match rows to users by it.';
comment on index audit_event_pkey is 'An audit event by id.';
comment on index audit_event_by_user is
    'A user''s history, oldest first (their page in the console and the API).';
comment on index api_token_pkey is 'An API token by id (listing and revoking).';
comment on index api_token_digest is
    'A request''s bearer token is found by its digest; digests are unique.';
comment on index session_pkey is 'A request''s session cookie is found by its digest.';
comment on index session_by_user is
    'A user''s sessions, all ended at once when they stop being active.';
comment on index sign_in_throttle_pkey is
    'Failed sign-ins counted per key (account and client address), shared by every server process.';
comment on index sign_in_throttle_by_last is
    'Expired throttle rows are deleted oldest first.';
comment on index org_pkey is 'An org by id.';
comment on index org_slug is 'An org by the slug in its sign-in address; slugs are unique.';
comment on index source_pkey is 'A provisioning source by id.';
comment on index source_name is 'Source names are unique within an org; the CLI names a source.';
comment on index source_said_pkey is
    'What a source last said of a user, read with the directory an import compares against.';
comment on index import_run_pkey is 'An import run by id (its page, approval and undo).';
comment on index import_run_by_source is 'A source''s runs, newest first.';
comment on index run_touch_pkey is 'The users a run changed and how: what undo puts back.';
comment on index held_file_pkey is 'The file of a run held for approval, applied when approved.';
comment on index drop_claim_pkey is
    'A file in a drop folder is imported once: the first process to claim it by name and checksum.';
comment on index provisioning_settings_pkey is 'An org''s provisioning settings.';
comment on index roster_pkey is 'A roster by id.';
comment on index roster_by_source is
    'A source''s id for a class is unique within that source: imports match rosters by it.';
comment on index roster_member_pkey is 'A roster''s members, and one membership by roster and user.';
comment on index roster_member_by_user is
    'The rosters a user belongs to, and a user''s memberships removed when a source drops them.';
comment on index server_secret_pkey is 'A server-wide secret by name.';
