-- A source's enrolments by their own ids (OneRoster's enrolment sourcedId): a delta may end an
-- enrolment by its id alone, or send it again with another class or person, and a person's
-- seat in a class stands while any of their enrolments there does. Seats made before this
-- have no enrolment here: a deletion naming their class and person still takes them out.
create table roster_enrolment (
    org_id uuid not null,
    source_id uuid not null,
    external_id text not null,
    class_external_id text not null,
    user_id uuid not null,
    role text not null check (role in ('teacher', 'student', 'other')),
    primary key (org_id, source_id, external_id)
);
comment on index roster_enrolment_pkey is
    'One enrolment of a source by its id, and all of a source''s enrolments.';
