-- What the reader noted of a run's file (files of a package not read, schools named by their
-- id, enrolments let go), as a JSON array of sentences: a run from a drop folder has no preview,
-- and its notes are read in its history. Runs kept before this have none.
alter table import_run add column notes text not null default '[]';
