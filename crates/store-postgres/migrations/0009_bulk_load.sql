-- The search table is an index the store keeps itself, written beside its user in the same
-- transaction. Its foreign key checked every term of a load one row at a time (about half
-- the time of a large import), and users are never deleted: the check guarded nothing.
alter table user_term drop constraint user_term_org_id_user_id_fkey;
