-- A run's report, ten thousand lines to a row, in order: a run of a million people is never
-- written or read as one value. Runs kept before this have their report in import_run.report
-- (new runs leave it '[]'); a run's report is that column's lines, then its parts'.
create table import_run_report (
    org_id uuid not null,
    run_id uuid not null,
    part bigint not null,
    lines text not null,
    primary key (org_id, run_id, part)
);
comment on index import_run_report_pkey is 'A run''s report parts, in order.';
