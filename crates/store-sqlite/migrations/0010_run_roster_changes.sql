-- What each import run changed in its source's rosters (classes made, renamed or removed;
-- members who joined or left), as JSON: undoing the run takes those changes back where nothing
-- changed them since. Keyed by its primary key only (no index of its own).
create table run_roster_changes (
    org_id blob not null,
    run_id blob not null,
    changes text not null,
    primary key (org_id, run_id)
);
