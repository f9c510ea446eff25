-- The orgs (schools, districts) a source's packages named, by their ids in the source
-- (OneRoster's org sourcedId): a later package without orgs.csv, such as a nightly delta of
-- people, still names its people's schools. A bulk orgs.csv replaces a source's orgs.
-- Indexes:
--   (the primary key) one org of a source by its id, and all of a source's.
create table source_org (
    org_id blob not null,
    source_id blob not null,
    external_id text not null,
    name text not null,
    kind text not null,
    primary key (org_id, source_id, external_id)
) without rowid;
