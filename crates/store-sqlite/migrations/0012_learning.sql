-- Learning: courses, enrolments and progress, the org's credits, certificates, and the e-mail
-- outbox. Every key and index starts with the org.
--
-- Why each index exists (primary keys aside), one line each:
--   course_by_title: the org's courses, by title.
--   enrolment_by_user: a person's courses ("my courses", their training history).
--   certificate_code: codes are unique within an org; the public page verifies one by it.
--   certificate_of_enrolment: one certificate per person and course.
--   certificate_by_user: a person's certificates.
--   credit_entry_by_course: credits consumed per course.
--   credit_entry_by_user: credits consumed per person.
--   outbox_by_user: the messages addressed to a person.
--   outbox_queue: the messages due for delivery, per org, earliest first.

-- A course and its lessons, edited together: `lessons` and `completion` are JSON documents
-- (lesson ids stay stable across edits, so progress survives reordering).
create table course (
    org_id blob not null references org (org_id),
    course_id blob not null,
    title text not null,
    description text not null,
    lessons text not null,
    completion text not null,
    credit_cost integer not null check (credit_cost >= 0),
    retired integer not null default 0,
    -- Set when the course enrols everyone: since when, and by whom.
    everyone_since integer,
    everyone_by text,
    version integer not null,
    created_at integer not null,
    updated_at integer not null,
    primary key (org_id, course_id)
);
create index course_by_title on course (org_id, title);

-- One person's place in one course: how they were enrolled and how far they got. A rowid table,
-- so that a person's courses are found by enrolment_by_user even before the planner has
-- statistics (with the key as the table, SQLite walks the org's whole key instead).
create table enrolment (
    org_id blob not null,
    course_id blob not null,
    user_id blob not null,
    method text not null check (method in ('everyone', 'selected', 'roster')),
    roster_id blob,
    enrolled_by text not null,
    enrolled_at integer not null,
    started_at integer,
    credits_used integer not null default 0,
    lessons_done text not null default '[]',
    completed_at integer,
    score integer,
    attempts integer not null default 0,
    version integer not null default 1,
    primary key (org_id, course_id, user_id)
);
create index enrolment_by_user on enrolment (org_id, user_id);

-- A certificate of completion, with the names as they were the day it was issued.
create table certificate (
    org_id blob not null,
    certificate_id blob not null,
    user_id blob not null,
    course_id blob not null,
    code text not null,
    issued_at integer not null,
    learner_name text not null,
    course_title text not null,
    primary key (org_id, certificate_id)
);
create unique index certificate_code on certificate (org_id, code);
create unique index certificate_of_enrolment on certificate (org_id, course_id, user_id);
create index certificate_by_user on certificate (org_id, user_id);

-- An org's credits: the balance (one row, what a start locks) and the ledger it sums.
create table credit_account (
    org_id blob primary key references org (org_id),
    balance integer not null
);
create table credit_entry (
    org_id blob not null,
    entry_id blob not null,
    at integer not null,
    kind text not null check (kind in ('top_up', 'consumption')),
    amount integer not null check (amount > 0),
    balance_after integer not null,
    course_id blob,
    user_id blob,
    actor text not null,
    reason text not null,
    primary key (org_id, entry_id)
);
create index credit_entry_by_course on credit_entry (org_id, course_id) where course_id is not null;
create index credit_entry_by_user on credit_entry (org_id, user_id) where user_id is not null;

-- E-mail to people: queued for delivery, or suppressed (never sent) with the reason. Ids grow
-- with time, so the key lists the outbox newest first.
create table outbox_message (
    org_id blob not null,
    message_id blob not null,
    user_id blob not null,
    to_address text not null,
    subject text not null,
    body text not null,
    kind text not null check (kind in ('enrolment', 'admin')),
    state text not null check (state in ('queued', 'sent', 'suppressed', 'failed')),
    reason text,
    attempts integer not null default 0,
    next_attempt_at integer not null,
    created_at integer not null,
    sent_at integer,
    -- The worker delivering it, until when (a worker that dies lets go when this passes).
    claimed_by text,
    claimed_until integer,
    primary key (org_id, message_id)
);
create index outbox_by_user on outbox_message (org_id, user_id);
create index outbox_queue on outbox_message (org_id, next_attempt_at) where state = 'queued';
