//! Writing user rows with their search vectors, and the three plans of a listing.
//!
//! Search goes through one GIN index on `user_account.search_vector` (migration 0011): each of
//! a user's terms gives its prefixes of one to five letters as lexemes, led by the org's key
//! and the term's kind (the whole family name, the whole given name, anything else). A query
//! word is one exact lexeme per kind, and GIN intersects the words' posting lists itself.

use std::collections::BTreeSet;

use rollcall_domain::{OrgId, User};
use rollcall_store::listing::{order_by, push_filters, push_page, push_word_checks};
use rollcall_store::rows::{USER_COLUMNS, UserColumns, user_columns_of_u};
use rollcall_store::sql::Value;
use rollcall_store::{StoreResult, UserQuery, UserSort, bind_user_columns};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::copy::{COPY_MIN, copy_rows};
use crate::db_error;
use crate::stats::LexemeStats;

/// The longest prefix indexed; a longer word is found by its first this many letters and
/// checked against the row's search text.
const PREFIX_MAX: usize = 5;

/// The kinds of term, as the letter after the org's key: which of the user's names it is.
const FAMILY: char = 'f';
const GIVEN: char = 'g';
const OTHER: char = 'o';
const KINDS: [char; 3] = [FAMILY, GIVEN, OTHER];

/// The org's key at the head of each of its lexemes: the last 12 hex digits of its id (the
/// random part of a UUIDv7). Two orgs sharing one would only read each other's postings and
/// drop them on the row's `org_id`; no search depends on it for isolation.
fn org_key(org: Uuid) -> String {
    let hex = org.simple().to_string();
    hex[hex.len() - 12..].to_owned()
}

/// A user row's search vector in `tsvector`'s text form: every prefix of every term, with its
/// kind, under the org's key. Terms are [a-z0-9], so lexemes need no quoting.
pub(crate) fn search_vector(row: &UserColumns) -> String {
    vector(row.org_id, row.terms(), &row.family_key, &row.given_key)
}

fn vector(org: Uuid, terms: &str, family_key: &str, given_key: &str) -> String {
    let key = org_key(org);
    let mut lexemes = BTreeSet::new();
    for term in terms.split(' ').filter(|t| !t.is_empty()) {
        let kind = if term == family_key {
            FAMILY
        } else if term == given_key {
            GIVEN
        } else {
            OTHER
        };
        for n in 1..=term.len().min(PREFIX_MAX) {
            if let Some(prefix) = term.get(..n) {
                lexemes.insert(format!("{key}{kind}{prefix}"));
            }
        }
    }
    lexemes.into_iter().collect::<Vec<_>>().join(" ")
}

/// The lexeme of `word` for one kind (the word cut to the indexed prefix length).
fn lexeme(key: &str, kind: char, word: &str) -> String {
    let cut = word.get(..word.len().min(PREFIX_MAX)).unwrap_or(word);
    format!("{key}{kind}{cut}")
}

/// `tsquery` text requiring every word, each found in any of `kinds_of(i)`.
fn tsquery(key: &str, words: &[String], kinds_of: impl Fn(usize) -> Vec<char>) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let any: Vec<String> = kinds_of(i)
                .into_iter()
                .map(|kind| format!("'{}'", lexeme(key, kind, word)))
                .collect();
            format!("({})", any.join(" | "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

async fn insert_vectors(conn: &mut PgConnection, rows: &[UserColumns]) -> StoreResult<()> {
    // 25 columns × 2,000 rows stay below PostgreSQL's 65,535 bound parameters.
    for chunk in rows.chunks(2_000) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "insert into user_account ({USER_COLUMNS}, search_vector) "
        ));
        q.push_values(chunk, |mut b, row| {
            bind_user_columns!(b, push_bind, row);
            b.push_bind(search_vector(row))
                .push_unseparated("::tsvector");
        });
        q.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Inserts users with their search vectors: many through `COPY`, a few in multi-row inserts.
pub(crate) async fn insert_user_rows(
    conn: &mut PgConnection,
    rows: &[UserColumns],
) -> StoreResult<()> {
    if rows.len() < COPY_MIN {
        return insert_vectors(conn, rows).await;
    }
    copy_rows(
        conn,
        &format!("user_account ({USER_COLUMNS}, search_vector)"),
        rows,
        |row| {
            let mut values = row.values().into_iter().collect::<Vec<_>>();
            values.push(Value::Text(search_vector(row)));
            values
        },
    )
    .await
}

/// Rewrites a user's search vector (their terms changed).
pub(crate) async fn reindex_user(conn: &mut PgConnection, row: &UserColumns) -> StoreResult<()> {
    sqlx::query(
        "update user_account set search_vector = $3::tsvector where org_id = $1 and user_id = $2",
    )
    .bind(row.org_id)
    .bind(row.user_id)
    .bind(search_vector(row))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// The exclusive upper bound of a prefix range: terms are [a-z0-9], all below '~'.
fn upper_bound(word: &str) -> String {
    format!("{word}~")
}

/// A word is gathered from the index only while the lexemes it reads cover at most this many
/// times the cut-off in users (by the table's statistics): GIN builds the whole intersection
/// before the first row, so its cost grows with the shortest posting list read.
const GATHER_FACTOR: f64 = 40.0;

/// A seek reads up to this many times the cut-off in postings: more than a gather, as the
/// walk it saves may cross most of the listing.
const SEEK_READ_FACTOR: f64 = 150.0;

/// A seek's other matches are gathered up to this many times the cut-off: they are read by id
/// and sorted, which stays cheap well past the cut-off, while without them the listing is
/// walked from its start to the sorted name's range (two broad words such as "z sa", whose
/// matches sit together far down the list). They are looked for only when the statistics say
/// they may be that few.
const SEEK_REST_FACTOR: i32 = 5;

/// The users of the slice matching `tsq` (and every long word), when there are at most
/// `cutoff` of them.
async fn gather(
    pool: &PgPool,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
    tsq: String,
) -> StoreResult<Option<Vec<Uuid>>> {
    let mut b = QueryBuilder::<Postgres>::new("select u.user_id from user_account u where");
    push_filters(&mut b, org, query);
    b.push(" and u.search_vector @@ ")
        .push_bind(tsq)
        .push("::tsquery");
    push_long_word_checks(&mut b, &query.words);
    b.push(" limit ").push_bind(cutoff.saturating_add(1));
    let ids: Vec<Uuid> = b
        .build_query_scalar()
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    Ok((i64::try_from(ids.len()).unwrap_or(i64::MAX) <= cutoff).then_some(ids))
}

/// Words longer than the indexed prefix are checked on the row.
fn push_long_word_checks(b: &mut QueryBuilder<'static, Postgres>, words: &[String]) {
    let long: Vec<String> = words
        .iter()
        .filter(|w| w.len() > PREFIX_MAX)
        .cloned()
        .collect();
    push_word_checks(b, &long, "strpos");
}

/// The key column and term kind of the name a sort orders by first, if it orders by a name.
fn sorted_name(sort: UserSort) -> Option<(&'static str, char)> {
    match sort {
        UserSort::FamilyName => Some(("family_key", FAMILY)),
        UserSort::GivenName => Some(("given_key", GIVEN)),
        UserSort::Created | UserSort::StatusChanged => None,
    }
}

/// Where a listing's rows come from.
enum Rows {
    /// Walk the listing's index in order, checking each row's search text: no words, or
    /// words so broad that a page is found within a short walk.
    Scan,
    /// The few users every word matches, gathered from the search index.
    Matched(Vec<Uuid>),
    /// Sorted by a name that begins with `word` for many users: those sit together in the
    /// listing's own index (a seek), and `rest` are the few who match otherwise.
    Seek {
        word: String,
        column: &'static str,
        rest: Vec<Uuid>,
    },
}

/// Chooses the plan from the statistics: gather when the words' lexemes are short enough to
/// intersect, seek when sorted by a name that one word begins, else walk.
async fn choose(
    pool: &PgPool,
    stats: &LexemeStats,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Rows> {
    if query.words.is_empty() {
        return Ok(Rows::Scan);
    }
    let key = org_key(org.as_uuid());
    #[allow(clippy::cast_precision_loss, reason = "a threshold of an estimate")]
    let limit = cutoff as f64;
    // The postings a word reads (each kind's list), and the users it matches: at least the
    // most of any one kind (a given name and the login that begins with it are one user).
    let per_kind = |i: usize, kinds: &[char]| -> Vec<f64> {
        kinds
            .iter()
            .map(|kind| stats.users(&lexeme(&key, *kind, &query.words[i])))
            .collect()
    };
    let postings = |i: usize, kinds: &[char]| -> f64 { per_kind(i, kinds).into_iter().sum() };
    let matching =
        |i: usize, kinds: &[char]| -> f64 { per_kind(i, kinds).into_iter().fold(0.0, f64::max) };
    let shortest = |kinds_of: &dyn Fn(usize) -> Vec<char>| {
        (0..query.words.len())
            .map(|i| postings(i, &kinds_of(i)))
            .fold(f64::INFINITY, f64::min)
    };
    let every_kind = |_: usize| KINDS.to_vec();
    if shortest(&every_kind) <= limit * GATHER_FACTOR {
        let tsq = tsquery(&key, &query.words, every_kind);
        if let Some(ids) = gather(pool, cutoff, org, query, tsq).await? {
            return Ok(Rows::Matched(ids));
        }
    }
    if let Some((column, sorted)) = sorted_name(query.sort) {
        // The word whose range of sorted names is the shortest first: that range is walked
        // until a page is found, and the other words may be rare within it.
        let mut order: Vec<usize> = (0..query.words.len()).collect();
        order.sort_by(|a, b| postings(*a, &[sorted]).total_cmp(&postings(*b, &[sorted])));
        for i in order {
            let word = &query.words[i];
            // The word's matches outside the sorted name, that match every other word too.
            let kinds_of = |j: usize| -> Vec<char> {
                KINDS
                    .into_iter()
                    .filter(|kind| j != i || *kind != sorted)
                    .collect()
            };
            let expected = (0..query.words.len())
                .map(|j| matching(j, &kinds_of(j)) / stats.rows().max(1.0))
                .product::<f64>()
                * stats.rows();
            if shortest(&kinds_of) > limit * SEEK_READ_FACTOR
                || expected > limit * f64::from(SEEK_REST_FACTOR)
            {
                continue;
            }
            let tsq = tsquery(&key, &query.words, kinds_of);
            let most = cutoff.saturating_mul(i64::from(SEEK_REST_FACTOR));
            if let Some(rest) = gather(pool, most, org, query, tsq).await? {
                return Ok(Rows::Seek {
                    word: word.clone(),
                    column,
                    rest,
                });
            }
        }
    }
    Ok(Rows::Scan)
}

/// The page as the union of two short walks: the users whose sorted name begins with `word`
/// (a range of the listing's index, in order) and the word's other matches `rest`; each gives
/// at most a page, and the union is ordered once more.
fn seek_query(
    select: &str,
    org: OrgId,
    query: &UserQuery,
    word: &str,
    column: &str,
    rest: Vec<Uuid>,
) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::<Postgres>::new(select);
    b.push(" from user_account u where u.org_id = ")
        .push_bind(org.as_uuid())
        .push(
            " and u.user_id in (select user_id from ((select u.user_id from user_account u where",
        );
    push_filters(&mut b, org, query);
    b.push(format_args!(" and u.{column} >= "))
        .push_bind(word.to_owned())
        .push(format_args!(" and u.{column} < "))
        .push_bind(upper_bound(word));
    push_word_checks(&mut b, &query.words, "strpos");
    push_page(&mut b, query);
    b.push(") union (select u.user_id from user_account u where");
    push_filters(&mut b, org, query);
    b.push(" and u.user_id = any(").push_bind(rest).push(")");
    push_word_checks(&mut b, &query.words, "strpos");
    push_page(&mut b, query);
    b.push(")) as arms)")
        .push(format_args!(" order by {} limit ", order_by(query, "u.")))
        .push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
    b
}

pub(crate) async fn list(
    pool: &PgPool,
    stats: &LexemeStats,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Vec<User>> {
    let select = format!("select {}", user_columns_of_u());
    let matched = match choose(pool, stats, cutoff, org, query).await? {
        Rows::Seek { word, column, rest } => {
            return fetch(seek_query(&select, org, query, &word, column, rest), pool).await;
        }
        Rows::Matched(ids) => Some(ids),
        Rows::Scan => None,
    };
    let mut b = QueryBuilder::<Postgres>::new(select);
    b.push(" from user_account u where");
    push_filters(&mut b, org, query);
    if let Some(ids) = matched {
        b.push(" and u.user_id = any(").push_bind(ids).push(")");
    }
    push_word_checks(&mut b, &query.words, "strpos");
    push_page(&mut b, query);
    fetch(b, pool).await
}

/// Runs a page's query and reads its users.
async fn fetch(mut b: QueryBuilder<'static, Postgres>, pool: &PgPool) -> StoreResult<Vec<User>> {
    b.build_query_as::<UserColumns>()
        .fetch_all(pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(UserColumns::into_user)
        .collect()
}

/// Counts through the search index whenever words are given: the intersection is exact, and
/// the count stops at `cap`, while a walk for a rare word would read the whole status.
pub(crate) async fn count(
    pool: &PgPool,
    org: OrgId,
    query: &UserQuery,
    cap: u64,
) -> StoreResult<u64> {
    let mut b = QueryBuilder::<Postgres>::new("select count(*) from (select 1");
    b.push(" from user_account u where");
    push_filters(&mut b, org, query);
    if !query.words.is_empty() {
        let tsq = tsquery(&org_key(org.as_uuid()), &query.words, |_| KINDS.to_vec());
        b.push(" and u.search_vector @@ ")
            .push_bind(tsq)
            .push("::tsquery");
        push_long_word_checks(&mut b, &query.words);
    }
    b.push(" limit ")
        .push_bind(i64::try_from(cap).unwrap_or(i64::MAX))
        .push(") as hits");
    let n: i64 = b
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    Ok(u64::try_from(n).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lexeme_is_a_prefix_of_a_term_under_the_orgs_key_and_its_kind() {
        let org = Uuid::parse_str("01a24565-af33-7295-b587-e6ee4a7c67e2").unwrap();
        let vector = vector(org, "wei valmor weivalmor12", "valmor", "wei");
        let lexemes: Vec<&str> = vector.split(' ').collect();
        assert!(lexemes.iter().all(|l| l.starts_with("e6ee4a7c67e2")));
        for expected in ["e6ee4a7c67e2gw", "e6ee4a7c67e2gwei", "e6ee4a7c67e2fvalmo"] {
            assert!(lexemes.contains(&expected), "{expected} in {vector}");
        }
        // Five letters at most; the login is another kind of term.
        assert!(lexemes.contains(&"e6ee4a7c67e2oweiva"));
        assert!(!lexemes.iter().any(|l| l.len() > 12 + 1 + PREFIX_MAX));
        assert!(!lexemes.contains(&"e6ee4a7c67e2fwei"));
    }

    #[test]
    fn a_query_asks_each_word_in_the_kinds_given_cut_to_the_indexed_prefix() {
        let words = ["wei".to_owned(), "valentina".to_owned()];
        let tsq = tsquery("k", &words, |i| {
            if i == 0 { vec![GIVEN] } else { KINDS.to_vec() }
        });
        assert_eq!(tsq, "('kgwei') & ('kfvalen' | 'kgvalen' | 'kovalen')");
    }
}
