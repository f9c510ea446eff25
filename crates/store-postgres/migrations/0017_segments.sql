-- Segments: named rules that pick out the people of an org by their fields (role, source,
-- attributes). Membership is never stored: whoever the rule matches now is a member, so it
-- follows every change of a person's fields.
create table segment (
    org_id uuid not null references org (org_id),
    segment_id uuid not null,
    name text not null,
    name_key text not null,
    rule text not null,
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null,
    version bigint not null,
    primary key (org_id, segment_id)
);
comment on table segment is
    'Named rules that pick out the people of an org by their fields; membership is never stored, so it follows every change of a person''s fields. name_key is the name in lower case; rule is kept in its plain written form.';
comment on index segment_pkey is 'A segment is read, changed and deleted by its id.';
create unique index segment_name_key on segment (org_id, name_key);
comment on index segment_name_key is
    'A segment''s name is unique in its org, ignoring case, and the org''s segments are listed by name.';
