-- What each import run changed in its source's rosters (classes made, renamed or removed;
-- members who joined or left), as JSON: undoing the run takes those changes back where nothing
-- changed them since.
create table run_roster_changes (
    org_id uuid not null,
    run_id uuid not null,
    changes text not null,
    primary key (org_id, run_id)
);
comment on index run_roster_changes_pkey is
    'A run''s roster changes, read when the run is undone.';
