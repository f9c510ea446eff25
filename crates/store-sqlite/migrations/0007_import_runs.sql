-- Import runs, kept as history: which source, who, which file (name and SHA-256), what it did
-- (counts, and a line per person it changed or per problem that refused it), and when.
-- A refused run is kept too: nothing changed, and the report says why. A held run changed
-- nothing either: it would have removed too many people at once (the safeguard).
create table import_run (
    org_id blob not null references org (org_id),
    run_id blob not null,
    source_id blob not null,
    actor_label text not null,
    file_name text not null,
    checksum text not null,
    mode text not null check (mode in ('full', 'delta')),
    outcome text not null check (outcome in ('applied', 'refused', 'held')),
    -- JSON: the counts of each kind of change.
    counts text not null,
    -- JSON: [{line, external_id, what}] per person changed or kept, or per problem.
    report text not null,
    started_at integer not null,
    finished_at integer not null,
    primary key (org_id, run_id)
);
create index import_run_by_source on import_run (org_id, source_id, started_at);
