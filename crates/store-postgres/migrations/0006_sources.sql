-- Provisioning sources: the feeds that create, update and archive an org's users. A user's
-- `source` column names one of these (or `manual`).
create table source (
    org_id uuid not null references org (org_id),
    source_id uuid not null,
    name text not null,
    format text not null check (format in ('plain_csv')),
    -- What a run is unless it says otherwise: the whole list, or only changes.
    mode text not null check (mode in ('full', 'delta')),
    -- What happens to users of each role a full run no longer lists.
    missing_student text not null check (missing_student in ('archive', 'deactivate', 'keep')),
    missing_teacher text not null check (missing_teacher in ('archive', 'deactivate', 'keep')),
    missing_staff text not null check (missing_staff in ('archive', 'deactivate', 'keep')),
    missing_admin text not null check (missing_admin in ('archive', 'deactivate', 'keep')),
    -- A paused source's runs are refused (rostering services pause over the summer).
    paused boolean not null,
    created_at bigint not null,
    primary key (org_id, source_id)
);
create unique index source_name on source (org_id, name);

-- What a source last said of each user it manages (enabled, disabled, gone): it moves a
-- user's status only when this changes, so an admin's decision sticks.
create table source_said (
    org_id uuid not null,
    user_id uuid not null,
    said text not null check (said in ('enabled', 'disabled', 'gone')),
    primary key (org_id, user_id)
);
