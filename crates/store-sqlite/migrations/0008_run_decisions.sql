-- What happens to an import run after it is kept: a held run is approved (and applied) or
-- rejected by an admin; an applied run can be undone. Who decided, and when, stays with it.
create table import_run_next (
    org_id blob not null references org (org_id),
    run_id blob not null,
    source_id blob not null,
    actor_label text not null,
    file_name text not null,
    checksum text not null,
    mode text not null check (mode in ('full', 'delta')),
    outcome text not null check (outcome in ('applied', 'refused', 'held', 'rejected')),
    counts text not null,
    report text not null,
    started_at integer not null,
    finished_at integer not null,
    -- The admin who approved or rejected a held run, and when.
    decided_by text,
    decided_at integer,
    -- The admin who undid an applied run, and when.
    undone_by text,
    undone_at integer,
    primary key (org_id, run_id)
);
insert into import_run_next (org_id, run_id, source_id, actor_label, file_name, checksum, mode,
    outcome, counts, report, started_at, finished_at)
select org_id, run_id, source_id, actor_label, file_name, checksum, mode, outcome, counts,
    report, started_at, finished_at
from import_run;
drop table import_run;
alter table import_run_next rename to import_run;
create index import_run_by_source on import_run (org_id, source_id, started_at);

-- A held run's file, kept until an admin approves or rejects the run.
create table held_file (
    org_id blob not null,
    run_id blob not null,
    file blob not null,
    primary key (org_id, run_id)
);

-- Everyone an applied run changed, as they were before it: what its undo puts back. A user
-- whose version is no longer `version_after` was changed since, and the undo leaves them be.
-- `status_before` is null for a user the run created.
create table run_touch (
    org_id blob not null,
    run_id blob not null,
    user_id blob not null,
    version_after integer not null,
    status_before text check (status_before in ('active', 'inactive', 'archived')),
    source_before text,
    external_id_before text,
    said_before text check (said_before in ('enabled', 'disabled', 'gone')),
    primary key (org_id, run_id, user_id)
);

-- Sources may read OneRoster packages too, and name a drop folder. `version` counts the runs
-- applied (or undone) through a source: a run planned at one version applies only while the
-- source is still at it (two runs of one source never apply over each other).
create table source_next (
    org_id blob not null references org (org_id),
    source_id blob not null,
    name text not null,
    format text not null check (format in ('plain_csv', 'oneroster')),
    mode text not null check (mode in ('full', 'delta')),
    missing_student text not null check (missing_student in ('archive', 'deactivate', 'keep')),
    missing_teacher text not null check (missing_teacher in ('archive', 'deactivate', 'keep')),
    missing_staff text not null check (missing_staff in ('archive', 'deactivate', 'keep')),
    missing_admin text not null check (missing_admin in ('archive', 'deactivate', 'keep')),
    paused integer not null,
    created_at integer not null,
    version integer not null,
    -- A folder `rollcall serve` watches for the source's files (as SFTP delivers them).
    drop_folder text,
    primary key (org_id, source_id)
);
insert into source_next (org_id, source_id, name, format, mode, missing_student, missing_teacher,
    missing_staff, missing_admin, paused, created_at, version)
select org_id, source_id, name, format, mode, missing_student, missing_teacher, missing_staff,
    missing_admin, paused, created_at, 0
from source;
drop table source;
alter table source_next rename to source;
create unique index source_name on source (org_id, name);

-- An org's provisioning settings; an org without a row has the defaults.
create table provisioning_settings (
    org_id blob primary key references org (org_id),
    -- A run is held when it would remove more than this percentage of a source's people...
    safeguard_percent integer not null check (safeguard_percent between 0 and 100),
    -- ...and at least this many.
    safeguard_floor integer not null check (safeguard_floor >= 0),
    -- A held run's creates and updates are applied at once (only its removals wait).
    apply_rest_when_held integer not null
);

-- Files of drop folders claimed for import: one row per file (by name and SHA-256), written by
-- the one server process that imports it, however many watch the folder.
create table drop_claim (
    org_id blob not null,
    source_id blob not null,
    file_name text not null,
    checksum text not null,
    claimed_by text not null,
    claimed_at integer not null,
    primary key (org_id, source_id, file_name, checksum)
);

-- Rosters: the classes a source sends, and who is in them with their role.
create table roster (
    org_id blob not null,
    roster_id blob not null,
    source_id blob not null,
    external_id text not null,
    title text not null,
    code text not null,
    school text not null,
    primary key (org_id, roster_id)
);
create unique index roster_by_source on roster (org_id, source_id, external_id);
create table roster_member (
    org_id blob not null,
    roster_id blob not null,
    user_id blob not null,
    role text not null check (role in ('teacher', 'student', 'other')),
    primary key (org_id, roster_id, user_id)
);
create index roster_member_by_user on roster_member (org_id, user_id);
