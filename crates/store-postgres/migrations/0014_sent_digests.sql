-- The digest of the row a source last sent of each user, and the user's version when it was
-- kept: a later row with the same digest, for a user unchanged since, is passed over without
-- being read (a million-person nightly file reads only the rows that changed).
alter table source_said add column digest bytea, add column digest_version bigint;
