//! A listing's plans on PostgreSQL: which rows a page of a search is read from.
//!
//! A page is the first `limit` users, in the listing's order, that match every query word.
//! Three plans give the same page at different costs:
//!
//! - **gather**: every match read through the search index (GIN intersects the words' posting
//!   lists) and sorted; cheap while the matches are few;
//! - **seek**, when sorted by a name that one word begins: that name's range of the listing's
//!   own index, walked in order, united with the word's other matches (where it begins another
//!   term), read through the search index;
//! - **scan**: the listing's index walked from its start, each row checked; cheap while
//!   matches are common.
//!
//! The choice is made from PostgreSQL's own statistics of the search vector (see `stats`),
//! counting the rows each plan would read. An estimate only ever picks a plan: a gather or a
//! seek whose matches turn out more than it may read gives way to the next plan, and every
//! plan's page is the same (the conformance suite checks each against the domain).

use rollcall_domain::{OrgId, User};
use rollcall_store::listing::{order_by, push_filters, push_page, push_word_checks, sort_columns};
use rollcall_store::rows::{UserColumns, user_columns_of_u};
use rollcall_store::{StoreResult, UserQuery, UserSort};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::db_error;
use crate::stats::LexemeStats;
use crate::users::{FAMILY, GIVEN, KINDS, PREFIX_MAX, lexeme, org_key};

/// A gather, or a seek's other matches, reads at most this many times the cut-off in users
/// (read through the search index and sorted in memory), else gives way to the next plan.
const GATHER_FACTOR: i64 = 5;

/// A gather or a seek's other matches read at most this many times the cut-off in postings:
/// GIN builds the whole intersection before the first row, so its cost grows with the
/// shortest posting list of a word.
const READ_FACTOR: f64 = 150.0;

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

/// The exclusive upper bound of a prefix range: terms are [a-z0-9], all below '~'.
fn upper_bound(word: &str) -> String {
    format!("{word}~")
}

/// The key column and term kind of the name a sort orders by first, if it orders by a name.
fn sorted_name(sort: UserSort) -> Option<(&'static str, char)> {
    match sort {
        UserSort::FamilyName => Some(("family_key", FAMILY)),
        UserSort::GivenName => Some(("given_key", GIVEN)),
        UserSort::Created | UserSort::StatusChanged => None,
    }
}

/// Every kind but `kind`.
fn kinds_but(kind: char) -> Vec<char> {
    KINDS.into_iter().filter(|k| *k != kind).collect()
}

/// The kinds each word is looked for in by a seek's other matches: word `word` anywhere but
/// the sorted name, every other word anywhere.
fn rest_kinds(word: usize, sorted: char) -> impl Fn(usize) -> Vec<char> {
    move |j| {
        if j == word {
            kinds_but(sorted)
        } else {
            KINDS.to_vec()
        }
    }
}

/// What the statistics say of a query's words.
struct Estimates<'a> {
    stats: &'a LexemeStats,
    key: String,
    words: &'a [String],
}

impl Estimates<'_> {
    fn rows(&self) -> f64 {
        self.stats.rows().max(1.0)
    }

    fn per_kind(&self, i: usize, kinds: &[char]) -> impl Iterator<Item = f64> {
        kinds
            .iter()
            .map(move |kind| self.stats.users(&lexeme(&self.key, *kind, &self.words[i])))
    }

    /// The postings word `i` reads from the index in `kinds`.
    fn postings(&self, i: usize, kinds: &[char]) -> f64 {
        self.per_kind(i, kinds).sum()
    }

    /// The share of users word `i` matches in `kinds`, at least: the most of any one kind (a
    /// given name and the login that begins with it are one user).
    fn least(&self, i: usize, kinds: &[char]) -> f64 {
        (self.per_kind(i, kinds).fold(0.0, f64::max) / self.rows()).min(1.0)
    }

    /// Every word but `i`.
    fn others(&self, i: usize) -> impl Iterator<Item = usize> {
        (0..self.words.len()).filter(move |j| *j != i)
    }
}

/// Where a page's rows may come from, in the order tried.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    /// Every match, gathered from the search index, when they are few.
    Gather,
    /// The range of the sorted name's key that word `word` begins, and the word's other
    /// matches, gathered from the search index, when they are few.
    Seek {
        word: usize,
        column: &'static str,
        sorted: char,
    },
}

/// The plans worth trying before a scan, cheapest first, by the rows each would read (the
/// shares taken at their least, so a plan's reads are rather over- than under-estimated; a
/// gather that finds more matches than it may read gives way to the next plan).
fn plans(est: &Estimates<'_>, cutoff: i64, limit: usize, sort: UserSort) -> Vec<Plan> {
    let words = est.words.len();
    if words == 0 {
        return Vec::new();
    }
    #[allow(clippy::cast_precision_loss, reason = "thresholds of estimates")]
    let (gathered, limit) = ((cutoff * GATHER_FACTOR) as f64, limit as f64);
    #[allow(clippy::cast_precision_loss, reason = "thresholds of estimates")]
    let postings = cutoff as f64 * READ_FACTOR;
    let rows = est.rows();
    // The share of users every word matches in `kinds_of(j)`, and the postings the search
    // index reads for them (those of the shortest word).
    let share = |kinds_of: &dyn Fn(usize) -> Vec<char>| -> f64 {
        (0..words).map(|j| est.least(j, &kinds_of(j))).product()
    };
    let reads = |kinds_of: &dyn Fn(usize) -> Vec<char>| -> f64 {
        (0..words)
            .map(|j| est.postings(j, &kinds_of(j)))
            .fold(f64::INFINITY, f64::min)
    };
    let every = |_: usize| KINDS.to_vec();
    let mut candidates = Vec::new();
    let matches = rows * share(&every);
    if matches <= gathered && reads(&every) <= postings {
        candidates.push((matches, Plan::Gather));
    }
    let sorted_by = sorted_name(sort);
    // A scan reads rows until a page matches, or the whole status. Sorted by a name, the
    // matches where a word begins that name sit together in its range, which may lie at the
    // listing's end: only the others are taken as spread along the way.
    let scan = match sorted_by {
        Some((_, sorted)) => share(&|_| kinds_but(sorted)),
        None => share(&every),
    };
    let scan = (limit / scan.max(1.0 / rows)).min(rows);
    if let Some((column, sorted)) = sorted_by {
        for word in 0..words {
            let rest_kinds = rest_kinds(word, sorted);
            let rest = rows * share(&rest_kinds);
            // The range is read until a page also matches the other words, which cannot be
            // that same name.
            let hit: f64 = est
                .others(word)
                .map(|j| est.least(j, &kinds_but(sorted)))
                .product();
            let walk = (limit / hit.max(1.0 / rows)).min(est.postings(word, &[sorted]));
            if rest <= gathered && reads(&rest_kinds) <= postings {
                let plan = Plan::Seek {
                    word,
                    column,
                    sorted,
                };
                candidates.push((walk + rest, plan));
            }
        }
    }
    candidates.retain(|(cost, _)| *cost < scan);
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    candidates.into_iter().map(|(_, plan)| plan).collect()
}

pub(crate) async fn list(
    pool: &PgPool,
    stats: &LexemeStats,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Vec<User>> {
    let est = Estimates {
        stats,
        key: org_key(org.as_uuid()),
        words: &query.words,
    };
    let most = cutoff.saturating_mul(GATHER_FACTOR);
    for plan in plans(&est, cutoff, query.limit, query.sort) {
        tracing::debug!(?plan, words = ?query.words, "search plan");
        let page = match plan {
            Plan::Gather => {
                let tsq = tsquery(&est.key, &query.words, |_| KINDS.to_vec());
                gathered(pool, org, query, tsq, most).await?
            }
            Plan::Seek {
                word,
                column,
                sorted,
            } => {
                let tsq = tsquery(&est.key, &query.words, rest_kinds(word, sorted));
                sought(pool, org, query, tsq, most, &query.words[word], column).await?
            }
        };
        if let Some(users) = page {
            return Ok(users);
        }
    }
    let mut b = QueryBuilder::<Postgres>::new(format!("select {}", user_columns_of_u()));
    b.push(" from user_account u where");
    push_filters(&mut b, org, query);
    push_word_checks(&mut b, &query.words, "strpos");
    push_page(&mut b, query);
    b.build_query_as::<UserColumns>()
        .fetch_all(pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(UserColumns::into_user)
        .collect()
}

/// Opens `with <name> as materialized (…)`: the ids and sort keys of the slice's users
/// matching `tsq` (and every long word, checked on the row), at most `most + 1` of them. The
/// query words need no other check: each term's prefixes are its lexemes.
fn push_matches(
    b: &mut QueryBuilder<'static, Postgres>,
    name: &str,
    org: OrgId,
    query: &UserQuery,
    tsq: String,
    most: i64,
) {
    let keys: Vec<String> = sort_columns(query.sort)
        .iter()
        .map(|c| format!("u.{c}"))
        .collect();
    b.push(format_args!(
        "with {name} as materialized (select {} from user_account u where",
        keys.join(", ")
    ));
    push_filters(b, org, query);
    b.push(" and u.search_vector @@ ")
        .push_bind(tsq)
        .push("::tsquery");
    push_word_checks(b, &long_words(&query.words), "strpos");
    b.push(" limit ")
        .push_bind(most.saturating_add(1))
        .push(")");
}

/// The words longer than the indexed prefix: each is looked up by its prefix and checked on
/// the row.
fn long_words(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| w.len() > PREFIX_MAX)
        .cloned()
        .collect()
}

/// Continues a statement opened by `push_matches`: `n`, how many `name` holds, beside each
/// of the page's users, read by id from `ids` (a subquery giving at most a page of them).
fn push_page_by_ids(
    b: &mut QueryBuilder<'static, Postgres>,
    name: &str,
    org: OrgId,
    query: &UserQuery,
    ids: impl FnOnce(&mut QueryBuilder<'static, Postgres>),
) {
    b.push(format_args!(
        " select c.n, u.* from (select count(*) as n from {name}) as c left join lateral \
         (select {} from user_account u where u.org_id = ",
        user_columns_of_u()
    ))
    .push_bind(org.as_uuid())
    .push(" and u.user_id in (");
    ids(b);
    b.push(format_args!(") order by {} limit ", order_by(query, "u.")))
        .push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX))
        .push(format_args!(
            ") as u on true order by {}",
            order_by(query, "u.")
        ));
}

/// The page from every match, if there are at most `most`: one statement that gathers their
/// sort keys, takes a page of them and reads its users.
async fn gathered(
    pool: &PgPool,
    org: OrgId,
    query: &UserQuery,
    tsq: String,
    most: i64,
) -> StoreResult<Option<Vec<User>>> {
    let mut b = QueryBuilder::<Postgres>::new("");
    push_matches(&mut b, "matches", org, query, tsq, most);
    push_page_by_ids(&mut b, "matches", org, query, |b| {
        b.push("select u.user_id from matches u where true");
        push_page(b, query);
    });
    page_of(b, pool, most).await
}

/// The page as the union of two short walks: the users whose sorted name begins with `word`
/// (a range of the listing's index, in order) and the word's other matches (`tsq`, at most
/// `most` of them, else no page); each gives at most a page, and the union is ordered again.
async fn sought(
    pool: &PgPool,
    org: OrgId,
    query: &UserQuery,
    tsq: String,
    most: i64,
    word: &str,
    column: &str,
) -> StoreResult<Option<Vec<User>>> {
    let mut b = QueryBuilder::<Postgres>::new("");
    push_matches(&mut b, "rest", org, query, tsq, most);
    push_page_by_ids(&mut b, "rest", org, query, |b| {
        b.push("select user_id from ((select u.user_id from user_account u where");
        push_filters(b, org, query);
        b.push(format_args!(" and u.{column} >= "))
            .push_bind(word.to_owned())
            .push(format_args!(" and u.{column} < "))
            .push_bind(upper_bound(word));
        push_word_checks(b, &query.words, "strpos");
        push_page(b, query);
        b.push(") union (select u.user_id from rest u where true");
        push_page(b, query);
        b.push(")) as arms");
    });
    page_of(b, pool, most).await
}

/// Reads a page whose rows each carry `n`, the matches gathered, beside a user (none when the
/// page is empty): the page when `n` is at most `most`.
async fn page_of(
    mut b: QueryBuilder<'static, Postgres>,
    pool: &PgPool,
    most: i64,
) -> StoreResult<Option<Vec<User>>> {
    let rows: Vec<PgRow> = b.build().fetch_all(pool).await.map_err(db_error)?;
    let gathered: i64 = match rows.first() {
        Some(row) => row.try_get("n").map_err(db_error)?,
        None => 0,
    };
    if gathered > most {
        return Ok(None);
    }
    let mut users = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Option<Uuid> = row.try_get("user_id").map_err(db_error)?;
        if id.is_some() {
            users.push(UserColumns::from_row(row).map_err(db_error)?.into_user()?);
        }
    }
    Ok(Some(users))
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
        push_word_checks(&mut b, &long_words(&query.words), "strpos");
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
    fn a_query_asks_each_word_in_the_kinds_given_cut_to_the_indexed_prefix() {
        let words = ["wei".to_owned(), "valentina".to_owned()];
        let tsq = tsquery("k", &words, |i| {
            if i == 0 { vec![GIVEN] } else { KINDS.to_vec() }
        });
        assert_eq!(tsq, "('kgwei') & ('kfvalen' | 'kgvalen' | 'kovalen')");
    }

    /// A million users; "a" begins an eighth of the given names (and their logins) and a
    /// thirtieth of the family names, "lo" a thirtieth of the family names and nothing else
    /// listed; the lowest share listed is 0.2%.
    fn million() -> LexemeStats {
        LexemeStats::of(
            1_000_000.0,
            &[
                ("kga", 0.126),
                ("koa", 0.126),
                ("kfa", 0.033),
                ("kflo", 0.034),
                ("kfwei", 0.003),
            ],
            0.002,
        )
    }

    fn plans_for(stats: &LexemeStats, words: &[&str], sort: UserSort) -> Vec<Plan> {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        let est = Estimates {
            stats,
            key: "k".to_owned(),
            words: &words,
        };
        plans(&est, 1_000, 51, sort)
    }

    #[test]
    fn two_rare_words_are_gathered() {
        let plans = plans_for(&million(), &["wei", "zyx"], UserSort::FamilyName);
        assert_eq!(plans.first(), Some(&Plan::Gather));
    }

    #[test]
    fn one_broad_word_is_scanned_not_gathered() {
        // An eighth of the users: a page is found within a few hundred rows of the listing.
        assert_eq!(plans_for(&million(), &["a"], UserSort::FamilyName), vec![]);
        assert_eq!(plans_for(&million(), &["a"], UserSort::Created), vec![]);
    }

    #[test]
    fn a_seek_takes_the_word_that_begins_the_sorted_name_of_its_matches() {
        // Those who match "a lo" have a given name in "a" and a family name in "lo": the "lo"
        // range of family names holds a page within its first few hundred rows, where the
        // "a" range would be walked to its end for the few whose other names begin with "lo".
        let plans = plans_for(&million(), &["a", "lo"], UserSort::FamilyName);
        assert_eq!(
            plans.first(),
            Some(&Plan::Seek {
                word: 1,
                column: "family_key",
                sorted: FAMILY
            }),
            "{plans:?}"
        );
    }

    #[test]
    fn a_gather_comes_before_a_seek_that_would_read_as_many_matches_and_a_walk() {
        // Sorted by given name, "a" also begins the logins of everyone whose given name it
        // begins: its other matches are about all of them, so a seek reads more than a gather.
        let plans = plans_for(&million(), &["a", "lo"], UserSort::GivenName);
        assert_eq!(plans.first(), Some(&Plan::Gather), "{plans:?}");
    }

    #[test]
    fn a_word_that_begins_the_sorted_name_is_sought_not_scanned() {
        // "ro" begins a thirtieth of the family names, all in one range of the listing that
        // a scan would reach only after every family name before it.
        let stats = LexemeStats::of(1_000_000.0, &[("kfro", 0.034)], 0.002);
        let plans = plans_for(&stats, &["ro"], UserSort::FamilyName);
        assert!(
            matches!(plans.first(), Some(Plan::Seek { word: 0, .. })),
            "{plans:?}"
        );
        // Sorted by when they joined, its matches are spread along the listing.
        assert_eq!(plans_for(&stats, &["ro"], UserSort::Created), vec![]);
    }

    #[test]
    fn no_search_index_plan_without_words_or_statistics_of_a_name_sort() {
        assert_eq!(plans_for(&million(), &[], UserSort::FamilyName), vec![]);
        // Never analysed: every lexeme is taken as held by none, so gathering is cheap.
        let none = LexemeStats::default();
        assert_eq!(
            plans_for(&none, &["a"], UserSort::Created),
            vec![Plan::Gather]
        );
    }
}
