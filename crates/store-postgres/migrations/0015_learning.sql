-- Learning: courses, enrolments and progress, the org's credits, certificates, and the e-mail
-- outbox. Every key and index starts with the org.

-- A course and its lessons, edited together: `lessons` and `completion` are JSON documents
-- (lesson ids stay stable across edits, so progress survives reordering).
create table course (
    org_id uuid not null references org (org_id),
    course_id uuid not null,
    title text not null,
    description text not null,
    lessons text not null,
    completion text not null,
    credit_cost bigint not null check (credit_cost >= 0),
    retired boolean not null default false,
    -- Set when the course enrols everyone: since when, and by whom.
    everyone_since bigint,
    everyone_by text,
    version bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (org_id, course_id)
);
create index course_by_title on course (org_id, title);

-- One person's place in one course: how they were enrolled and how far they got.
create table enrolment (
    org_id uuid not null,
    course_id uuid not null,
    user_id uuid not null,
    method text not null check (method in ('everyone', 'selected', 'roster')),
    roster_id uuid,
    enrolled_by text not null,
    enrolled_at bigint not null,
    started_at bigint,
    credits_used bigint not null default 0,
    lessons_done text not null default '[]',
    completed_at bigint,
    score bigint,
    attempts bigint not null default 0,
    version bigint not null default 1,
    primary key (org_id, course_id, user_id)
);
create index enrolment_by_user on enrolment (org_id, user_id);

-- A certificate of completion, with the names as they were the day it was issued.
create table certificate (
    org_id uuid not null,
    certificate_id uuid not null,
    user_id uuid not null,
    course_id uuid not null,
    code text not null,
    issued_at bigint not null,
    learner_name text not null,
    course_title text not null,
    primary key (org_id, certificate_id)
);
create unique index certificate_code on certificate (org_id, code);
create unique index certificate_of_enrolment on certificate (org_id, course_id, user_id);
create index certificate_by_user on certificate (org_id, user_id);

-- An org's credits: the balance (one row, what a start locks) and the ledger it sums.
create table credit_account (
    org_id uuid primary key references org (org_id),
    balance bigint not null
);
create table credit_entry (
    org_id uuid not null,
    entry_id uuid not null,
    at bigint not null,
    kind text not null check (kind in ('top_up', 'consumption')),
    amount bigint not null check (amount > 0),
    balance_after bigint not null,
    course_id uuid,
    user_id uuid,
    actor text not null,
    reason text not null,
    primary key (org_id, entry_id)
);
create index credit_entry_by_course on credit_entry (org_id, course_id) where course_id is not null;
create index credit_entry_by_user on credit_entry (org_id, user_id) where user_id is not null;

-- E-mail to people: queued for delivery, or suppressed (never sent) with the reason. Ids grow
-- with time, so the key lists the outbox newest first.
create table outbox_message (
    org_id uuid not null,
    message_id uuid not null,
    user_id uuid not null,
    to_address text not null,
    subject text not null,
    body text not null,
    kind text not null check (kind in ('enrolment', 'admin')),
    state text not null check (state in ('queued', 'sent', 'suppressed', 'failed')),
    reason text,
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    created_at bigint not null,
    sent_at bigint,
    -- The worker delivering it, until when (a worker that dies lets go when this passes).
    claimed_by text,
    claimed_until bigint,
    primary key (org_id, message_id)
);
create index outbox_by_user on outbox_message (org_id, user_id);
create index outbox_queue on outbox_message (org_id, next_attempt_at) where state = 'queued';

comment on index course_pkey is 'A course by id.';
comment on index course_by_title is 'The org''s courses, by title.';
comment on index enrolment_pkey is 'A person''s enrolment in a course; a course''s people in id order.';
comment on index enrolment_by_user is 'A person''s courses (my courses, their training history).';
comment on index certificate_pkey is 'A certificate by id (its download).';
comment on index certificate_code is 'Codes are unique within an org; the public page verifies one by it.';
comment on index certificate_of_enrolment is 'One certificate per person and course.';
comment on index certificate_by_user is 'A person''s certificates.';
comment on index credit_account_pkey is 'The org''s balance, locked by each first start.';
comment on index credit_entry_pkey is 'A ledger entry by id.';
comment on index credit_entry_by_course is 'Credits consumed per course.';
comment on index credit_entry_by_user is 'Credits consumed per person.';
comment on index outbox_message_pkey is 'A message by id; the org''s outbox newest first (ids grow with time).';
comment on index outbox_by_user is 'The messages addressed to a person.';
comment on index outbox_queue is 'The messages due for delivery, per org, earliest first.';
