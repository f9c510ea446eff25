-- Reports and analytics.
--
-- The dashboard's figures come from `learning_tally`: per course and month, how many enrolments,
-- starts and completions of counted people (the status rules count active people only) fell in
-- that month, and the credits their starts consumed. Triggers keep it right in the same
-- transaction as every change it depends on: an enrolment made, moved on or removed, and a
-- person's status crossing in or out of active (their enrolments leave or rejoin the figures).
-- `rollcall_store::report` can recompute it from scratch, which the tests compare it with.
--
-- Why each index exists:
--   enrolment_by_date: the completion report and its export walk enrolments newest first, a
--     page after the last row shown.

create index enrolment_by_date on enrolment (org_id, enrolled_at, course_id, user_id);

create table learning_tally (
    org_id blob not null,
    course_id blob not null,
    -- 'YYYY-MM', in UTC: the month each counted event fell in.
    month text not null,
    enrolled integer not null default 0,
    started integer not null default 0,
    completed integer not null default 0,
    credits integer not null default 0,
    primary key (org_id, course_id, month)
) without rowid;

-- An enrolment of a counted person joins the figures.
create trigger enrolment_tally_insert after insert on enrolment
when exists (select 1 from user_account u where u.org_id = new.org_id and u.user_id = new.user_id and u.status = 'active')
begin
    insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
    select new.org_id, new.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
           sum(d.credits)
    from (
        select strftime('%Y-%m', new.enrolled_at / 1000000, 'unixepoch') as month, 1 as enrolled, 0 as started,
               0 as completed, 0 as credits
        union all
        select strftime('%Y-%m', new.started_at / 1000000, 'unixepoch'), 0, 1, 0, new.credits_used where new.started_at is not null
        union all
        select strftime('%Y-%m', new.completed_at / 1000000, 'unixepoch'), 0, 0, 1, 0 where new.completed_at is not null
    ) d where true group by d.month
    on conflict (org_id, course_id, month) do update set
        enrolled = enrolled + excluded.enrolled, started = started + excluded.started,
        completed = completed + excluded.completed, credits = credits + excluded.credits;
end;

-- A removed enrolment of a counted person leaves them.
create trigger enrolment_tally_delete after delete on enrolment
when exists (select 1 from user_account u where u.org_id = old.org_id and u.user_id = old.user_id and u.status = 'active')
begin
    insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
    select old.org_id, old.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
           sum(d.credits)
    from (
        select strftime('%Y-%m', old.enrolled_at / 1000000, 'unixepoch') as month, -1 as enrolled, 0 as started,
               0 as completed, 0 as credits
        union all
        select strftime('%Y-%m', old.started_at / 1000000, 'unixepoch'), 0, -1, 0, -old.credits_used where old.started_at is not null
        union all
        select strftime('%Y-%m', old.completed_at / 1000000, 'unixepoch'), 0, 0, -1, 0 where old.completed_at is not null
    ) d where true group by d.month
    on conflict (org_id, course_id, month) do update set
        enrolled = enrolled + excluded.enrolled, started = started + excluded.started,
        completed = completed + excluded.completed, credits = credits + excluded.credits;
end;

-- A start or a completion moves the figures (lessons done alone do not).
create trigger enrolment_tally_update after update of enrolled_at, started_at, completed_at,
    credits_used on enrolment
when exists (select 1 from user_account u where u.org_id = new.org_id and u.user_id = new.user_id and u.status = 'active')
begin
    insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
    select old.org_id, old.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
           sum(d.credits)
    from (
        select strftime('%Y-%m', old.enrolled_at / 1000000, 'unixepoch') as month, -1 as enrolled, 0 as started,
               0 as completed, 0 as credits
        union all
        select strftime('%Y-%m', old.started_at / 1000000, 'unixepoch'), 0, -1, 0, -old.credits_used where old.started_at is not null
        union all
        select strftime('%Y-%m', old.completed_at / 1000000, 'unixepoch'), 0, 0, -1, 0 where old.completed_at is not null
    ) d where true group by d.month
    on conflict (org_id, course_id, month) do update set
        enrolled = enrolled + excluded.enrolled, started = started + excluded.started,
        completed = completed + excluded.completed, credits = credits + excluded.credits;
    insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
    select new.org_id, new.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
           sum(d.credits)
    from (
        select strftime('%Y-%m', new.enrolled_at / 1000000, 'unixepoch') as month, 1 as enrolled, 0 as started,
               0 as completed, 0 as credits
        union all
        select strftime('%Y-%m', new.started_at / 1000000, 'unixepoch'), 0, 1, 0, new.credits_used where new.started_at is not null
        union all
        select strftime('%Y-%m', new.completed_at / 1000000, 'unixepoch'), 0, 0, 1, 0 where new.completed_at is not null
    ) d where true group by d.month
    on conflict (org_id, course_id, month) do update set
        enrolled = enrolled + excluded.enrolled, started = started + excluded.started,
        completed = completed + excluded.completed, credits = credits + excluded.credits;
end;

-- A person who stops being counted takes their enrolments out of the figures; one who is
-- counted again brings them back, with their dates as they were.
create trigger user_tally_status after update of status on user_account
when (old.status = 'active') <> (new.status = 'active')
begin
    insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
    select d.org_id, d.course_id, d.month, sum(d.enrolled) * d.sign, sum(d.started) * d.sign,
           sum(d.completed) * d.sign, sum(d.credits) * d.sign
    from (
        select e.org_id, e.course_id, strftime('%Y-%m', e.enrolled_at / 1000000, 'unixepoch') as month, 1 as enrolled,
               0 as started, 0 as completed, 0 as credits,
               case when new.status = 'active' then 1 else -1 end as sign
        from enrolment e where e.org_id = new.org_id and e.user_id = new.user_id
        union all
        select e.org_id, e.course_id, strftime('%Y-%m', e.started_at / 1000000, 'unixepoch'), 0, 1, 0, e.credits_used,
               case when new.status = 'active' then 1 else -1 end
        from enrolment e
        where e.org_id = new.org_id and e.user_id = new.user_id and e.started_at is not null
        union all
        select e.org_id, e.course_id, strftime('%Y-%m', e.completed_at / 1000000, 'unixepoch'), 0, 0, 1, 0,
               case when new.status = 'active' then 1 else -1 end
        from enrolment e
        where e.org_id = new.org_id and e.user_id = new.user_id and e.completed_at is not null
    ) d where true group by d.org_id, d.course_id, d.month, d.sign
    on conflict (org_id, course_id, month) do update set
        enrolled = enrolled + excluded.enrolled, started = started + excluded.started,
        completed = completed + excluded.completed, credits = credits + excluded.credits;
end;

-- Whatever enrolments exist already.
insert into learning_tally (org_id, course_id, month, enrolled, started, completed, credits)
select d.org_id, d.course_id, d.month, sum(d.enrolled), sum(d.started), sum(d.completed),
       sum(d.credits)
from (
    select e.org_id, e.course_id, strftime('%Y-%m', e.enrolled_at / 1000000, 'unixepoch') as month, 1 as enrolled, 0 as started,
           0 as completed, 0 as credits
    from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id
    where u.status = 'active'
    union all
    select e.org_id, e.course_id, strftime('%Y-%m', e.started_at / 1000000, 'unixepoch'), 0, 1, 0, e.credits_used
    from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id
    where u.status = 'active' and e.started_at is not null
    union all
    select e.org_id, e.course_id, strftime('%Y-%m', e.completed_at / 1000000, 'unixepoch'), 0, 0, 1, 0
    from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id
    where u.status = 'active' and e.completed_at is not null
) d group by d.org_id, d.course_id, d.month;

-- Credits consumed are those topped up and no longer left: the top-ups, summed from this index
-- alone.
--   credit_top_ups: the org's top-ups and their amounts.
create index credit_top_ups on credit_entry (org_id, amount) where kind = 'top_up';
