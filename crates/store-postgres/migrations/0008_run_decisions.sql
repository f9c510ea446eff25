-- What happens to an import run after it is kept: a held run is approved (and applied) or
-- rejected by an admin; an applied run can be undone. Who decided, and when, stays with it.
alter table import_run drop constraint import_run_outcome_check;
alter table import_run add constraint import_run_outcome_check
    check (outcome in ('applied', 'refused', 'held', 'rejected'));
-- The admin who approved or rejected a held run, and when.
alter table import_run add column decided_by text;
alter table import_run add column decided_at bigint;
-- The admin who undid an applied run, and when.
alter table import_run add column undone_by text;
alter table import_run add column undone_at bigint;

-- A held run's file, kept until an admin approves or rejects the run.
create table held_file (
    org_id uuid not null,
    run_id uuid not null,
    file bytea not null,
    primary key (org_id, run_id)
);

-- Everyone an applied run changed, as they were before it: what its undo puts back. A user
-- whose version is no longer `version_after` was changed since, and the undo leaves them be.
-- `status_before` is null for a user the run created.
create table run_touch (
    org_id uuid not null,
    run_id uuid not null,
    user_id uuid not null,
    version_after bigint not null,
    status_before text check (status_before in ('active', 'inactive', 'archived')),
    source_before text,
    external_id_before text,
    said_before text check (said_before in ('enabled', 'disabled', 'gone')),
    primary key (org_id, run_id, user_id)
);

-- Sources may read OneRoster packages too.
alter table source drop constraint source_format_check;
alter table source add constraint source_format_check
    check (format in ('plain_csv', 'oneroster'));
-- `version` counts the runs applied (or undone) through a source: a run planned at one version
-- applies only while the source is still at it (two runs of one source never apply over each
-- other).
alter table source add column version bigint not null default 0;
-- A folder `rollcall serve` watches for the source's files (as SFTP delivers them).
alter table source add column drop_folder text;

-- An org's provisioning settings; an org without a row has the defaults.
create table provisioning_settings (
    org_id uuid primary key references org (org_id),
    -- A run is held when it would remove more than this percentage of a source's people...
    safeguard_percent bigint not null check (safeguard_percent between 0 and 100),
    -- ...and at least this many.
    safeguard_floor bigint not null check (safeguard_floor >= 0),
    -- A held run's creates and updates are applied at once (only its removals wait).
    apply_rest_when_held boolean not null
);

-- Files of drop folders claimed for import: one row per file (by name and SHA-256), written by
-- the one server process that imports it, however many watch the folder.
create table drop_claim (
    org_id uuid not null,
    source_id uuid not null,
    file_name text not null,
    checksum text not null,
    claimed_by text not null,
    claimed_at bigint not null,
    primary key (org_id, source_id, file_name, checksum)
);

-- Rosters: the classes a source sends, and who is in them with their role.
create table roster (
    org_id uuid not null,
    roster_id uuid not null,
    source_id uuid not null,
    external_id text not null,
    title text not null,
    code text not null,
    school text not null,
    primary key (org_id, roster_id)
);
create unique index roster_by_source on roster (org_id, source_id, external_id);
create table roster_member (
    org_id uuid not null,
    roster_id uuid not null,
    user_id uuid not null,
    role text not null check (role in ('teacher', 'student', 'other')),
    primary key (org_id, roster_id, user_id)
);
create index roster_member_by_user on roster_member (org_id, user_id);
