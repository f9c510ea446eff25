-- Which of its user's names a search term is: 1 the whole family name's key, 2 the whole given
-- name's key, 0 any other term (a part of a longer name, the username, the e-mail). A listing
-- sorted by a name finds the users whose sorted name begins with a word by seeking in its own
-- index, and asks this table only for the word's other matches: the kind travels in the
-- primary key's leaf entries, so that question reads the index alone.
alter table user_term add column kind smallint not null default 0;
update user_term t
   set kind = case when t.term = u.family_key then 1 when t.term = u.given_key then 2 else 0 end
  from user_account u
 where u.org_id = t.org_id and u.user_id = t.user_id;
alter table user_term drop constraint user_term_pkey;
alter table user_term add primary key (org_id, term, user_id) include (kind);
