-- Segments: named rules that pick out the people of an org by their fields (role, source,
-- attributes). Membership is never stored: whoever the rule matches now is a member, so it
-- follows every change of a person's fields.
create table segment (
    org_id blob not null references org (org_id),
    segment_id blob not null,
    name text not null,
    -- The name in lower case: names are unique in an org, ignoring case.
    name_key text not null,
    -- The rule in its plain written form.
    rule text not null,
    created_by text not null,
    created_at integer not null,
    updated_at integer not null,
    version integer not null,
    primary key (org_id, segment_id)
);
create unique index segment_name_key on segment (org_id, name_key);

-- Why each index exists:
--   segment_name_key: a segment's name is unique in its org, ignoring case, and the org's
--     segments are listed by name.
