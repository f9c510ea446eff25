-- Word-prefix search through one GIN index instead of the user_term table. A user's search
-- vector holds, for each of their terms, its prefixes of one to five letters (as SQLite's FTS5
-- prefix indexes), each lexeme led by the org's key (the last 12 hex digits of its id) and the
-- term's kind: f the whole family name's key, g the whole given name's key, o any other term.
-- "Some term begins with 'val'" is then one exact lexeme per kind, and several words are
-- intersected inside the index, skipping through the longer posting lists; a word longer than
-- five letters is found by its first five and checked on the row. The org's key keeps every
-- lexeme within its org: a search reads no other org's postings. The vector is written by the
-- store beside search_text (users.rs, search_vector); this backfill writes the same lexemes.
alter table user_account add column search_vector tsvector not null default '';
update user_account u
   set search_vector = coalesce((
       select string_agg(distinct right(replace(u.org_id::text, '-', ''), 12)
                         || case when k.term = u.family_key then 'f'
                                 when k.term = u.given_key then 'g'
                                 else 'o' end
                         || left(k.term, n), ' ')
         from unnest(string_to_array(btrim(u.search_text), ' ')) as k(term),
              generate_series(1, least(5, length(k.term))) as n
        where k.term <> ''), '')::tsvector;
alter table user_account alter column search_vector drop default;
-- A write appends its lexemes to the index's pending list, merged into the index in sorted
-- batches (a bulk load's millions of lexemes cost a few merges, not millions of random inserts);
-- every search also reads that list, so it is kept short: 1 MB, merged when full and by vacuum.
create index user_account_search on user_account using gin (search_vector)
    with (fastupdate = on, gin_pending_list_limit = 1024);
drop table user_term;
