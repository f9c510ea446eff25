-- Reports and analytics.
--
-- The dashboard's figures come from `learning_tally`: per course and month, how many enrolments,
-- starts and completions of counted people (the status rules count active people only) fell in
-- that month, and the credits their starts consumed. Statement triggers keep it right in the
-- same transaction as every change it depends on: enrolments made, moved on or removed, and
-- people whose status crosses in or out of active (their enrolments leave or rejoin the
-- figures). A statement that enrols a million people updates the tally once, by group.
-- `rollcall_store::report` can recompute it from scratch, which the tests compare it with.

create index enrolment_by_date on enrolment (org_id, enrolled_at, course_id, user_id);
comment on index enrolment_by_date is
    'The completion report and its export walk enrolments newest first, a page after the last row shown.';

create table learning_tally (
    org_id uuid not null,
    course_id uuid not null,
    month text not null,
    enrolled bigint not null default 0,
    started bigint not null default 0,
    completed bigint not null default 0,
    credits bigint not null default 0,
    primary key (org_id, course_id, month)
);
comment on table learning_tally is
    'Per course and month (YYYY-MM, UTC): the enrolments, starts and completions of counted people that fell in it, and the credits their starts consumed. Kept by triggers on enrolment and user_account.';
comment on index learning_tally_pkey is 'A month of a course''s figures, found by the triggers that move it; the dashboard sums an org''s.';

create function tally_month(at bigint) returns text language sql stable as $$
    select to_char(to_timestamp(at / 1000000) at time zone 'UTC', 'YYYY-MM')
$$;

-- The statement adding `sign` times the figures of the enrolments `e` (and their people `u`)
-- that the from-clause `source` yields: run by each trigger, where the transition tables it
-- names are in scope.
create function tally_statement(source text, sign int) returns text language sql immutable as $$
    select format($q$
        insert into learning_tally as t (org_id, course_id, month, enrolled, started, completed, credits)
        select d.org_id, d.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
               sum(d.credits)
        from (
            select e.org_id, e.course_id, tally_month(e.enrolled_at) as month, %2$s as enrolled,
                   0 as started, 0 as completed, 0 as credits
            from %1$s
            union all
            select e.org_id, e.course_id, tally_month(e.started_at), 0, %2$s,
                   0, %2$s * e.credits_used
            from %1$s and e.started_at is not null
            union all
            select e.org_id, e.course_id, tally_month(e.completed_at), 0, 0, %2$s, 0
            from %1$s and e.completed_at is not null
        ) d group by d.org_id, d.course_id, d.month
        on conflict (org_id, course_id, month) do update set
            enrolled = t.enrolled + excluded.enrolled, started = t.started + excluded.started,
            completed = t.completed + excluded.completed, credits = t.credits + excluded.credits
    $q$, source, sign)
$$;

create function enrolment_tally() returns trigger language plpgsql as $$
declare
    counted text := ' e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id'
        ' and u.status = ''active''';
begin
    if tg_op in ('UPDATE', 'DELETE') then
        execute tally_statement('old_rows' || counted, -1);
    end if;
    if tg_op in ('UPDATE', 'INSERT') then
        execute tally_statement('new_rows' || counted, 1);
    end if;
    return null;
end
$$;

create trigger enrolment_tally_insert after insert on enrolment
    referencing new table as new_rows for each statement execute function enrolment_tally();
create trigger enrolment_tally_update after update on enrolment
    referencing old table as old_rows new table as new_rows
    for each statement execute function enrolment_tally();
create trigger enrolment_tally_delete after delete on enrolment
    referencing old table as old_rows for each statement execute function enrolment_tally();

-- People who stop being counted take their enrolments out of the figures; people counted again
-- bring them back, with their dates as they were.
create function user_tally() returns trigger language plpgsql as $$
declare
    crossed text := ' c join enrolment e on e.org_id = c.org_id and e.user_id = c.user_id'
        ' where true';
begin
    execute tally_statement(
        '(select n.org_id, n.user_id from new_rows n join old_rows o using (org_id, user_id)'
        ' where n.status = ''active'' and o.status <> ''active'')' || crossed, 1);
    execute tally_statement(
        '(select n.org_id, n.user_id from new_rows n join old_rows o using (org_id, user_id)'
        ' where n.status <> ''active'' and o.status = ''active'')' || crossed, -1);
    return null;
end
$$;

create trigger user_tally_status after update on user_account
    referencing old table as old_rows new table as new_rows
    for each statement execute function user_tally();

-- Whatever enrolments exist already.
insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
select d.org_id, d.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
       sum(d.credits)
from (
    select e.org_id, e.course_id, tally_month(e.enrolled_at) as month, 1 as enrolled,
           0 as started, 0 as completed, 0 as credits
    from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id
    where u.status = 'active'
    union all
    select e.org_id, e.course_id, tally_month(e.started_at), 0, 1, 0, e.credits_used
    from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id
    where u.status = 'active' and e.started_at is not null
    union all
    select e.org_id, e.course_id, tally_month(e.completed_at), 0, 0, 1, 0
    from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id
    where u.status = 'active' and e.completed_at is not null
) d group by d.org_id, d.course_id, d.month;

create index credit_top_ups on credit_entry (org_id, amount) where kind = 'top_up';
comment on index credit_top_ups is
    'Credits consumed are those topped up and no longer left: the org''s top-ups summed from this index alone.';
