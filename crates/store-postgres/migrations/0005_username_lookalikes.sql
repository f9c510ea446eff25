-- Usernames that only look alike (`admin`, Cyrillic `аdmin`, full-width `ａｄｍｉｎ`) are one
-- username: each row keeps its username's UTS #39 skeleton, unique per org. Rows written
-- before this migration get theirs from the server when it starts (the skeleton needs the
-- Unicode tables, not SQL).
alter table user_account add column username_skeleton text;
create unique index user_account_username_skeleton on user_account (org_id, username_skeleton);
