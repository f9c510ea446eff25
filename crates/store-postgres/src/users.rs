//! Writing user rows with their search terms, and the two plans of a listing.

use rollcall_domain::{OrgId, User};
use rollcall_store::listing::{order_by, push_filters, push_page, push_word_checks};
use rollcall_store::rows::{USER_COLUMNS, UserColumns, user_columns_of_u};
use rollcall_store::sql::Value;
use rollcall_store::{StoreResult, UserQuery, UserSort, bind_user_columns};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::copy::{COPY_MIN, copy_rows};
use crate::db_error;

/// A term's kind (see migration 0010): the whole family name's key, the whole given name's
/// key, or another term.
const FAMILY: i16 = 1;
const GIVEN: i16 = 2;
const OTHER: i16 = 0;

/// One row of the search table: org, term, user, kind.
type TermRow<'a> = (Uuid, &'a str, Uuid, i16);

/// Every row of the search table for these users.
fn term_rows(rows: &[UserColumns]) -> Vec<TermRow<'_>> {
    rows.iter()
        .flat_map(|row| {
            row.terms()
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(move |term| {
                    let kind = if term == row.family_key {
                        FAMILY
                    } else if term == row.given_key {
                        GIVEN
                    } else {
                        OTHER
                    };
                    (row.org_id, term, row.user_id, kind)
                })
        })
        .collect()
}

async fn insert_terms(conn: &mut PgConnection, terms: &[TermRow<'_>]) -> StoreResult<()> {
    for chunk in terms.chunks(10_000) {
        let mut q =
            QueryBuilder::<Postgres>::new("insert into user_term (org_id, term, user_id, kind) ");
        q.push_values(chunk, |mut b, (org, term, user, kind)| {
            b.push_bind(*org)
                .push_bind((*term).to_owned())
                .push_bind(*user)
                .push_bind(*kind);
        });
        q.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Inserts users and their search terms.
pub(crate) async fn insert_user_rows(
    conn: &mut PgConnection,
    rows: &[UserColumns],
) -> StoreResult<()> {
    if rows.len() >= COPY_MIN {
        copy_rows(
            conn,
            &format!("user_account ({USER_COLUMNS})"),
            rows,
            UserColumns::values,
        )
        .await?;
        // In key order: each entry lands beside the last instead of at a random page.
        let mut terms = term_rows(rows);
        terms.sort_unstable();
        return copy_rows(
            conn,
            "user_term (org_id, term, user_id, kind)",
            &terms,
            |&(org, term, user, kind)| {
                [
                    Value::Uuid(org),
                    Value::Text(term.to_owned()),
                    Value::Uuid(user),
                    Value::Int(i64::from(kind)),
                ]
            },
        )
        .await;
    }
    // 24 columns × 2,000 rows stay below PostgreSQL's 65,535 bound parameters.
    for chunk in rows.chunks(2_000) {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("insert into user_account ({USER_COLUMNS}) "));
        q.push_values(chunk, |mut b, row| {
            bind_user_columns!(b, push_bind, row);
        });
        q.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    insert_terms(conn, &term_rows(rows)).await
}

/// Replaces a user's search terms (their terms changed).
pub(crate) async fn reindex_user(conn: &mut PgConnection, row: &UserColumns) -> StoreResult<()> {
    sqlx::query("delete from user_term where org_id = $1 and user_id = $2")
        .bind(row.org_id)
        .bind(row.user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    insert_terms(conn, &term_rows(std::slice::from_ref(row))).await
}

/// The exclusive upper bound of a prefix range: terms are [a-z0-9], all below '~'.
fn upper_bound(word: &str) -> String {
    format!("{word}~")
}

/// How many search entries a word's prefix covers, counting no further than the cut-off.
async fn entries(pool: &PgPool, cutoff: i64, org: OrgId, word: &str) -> StoreResult<i64> {
    sqlx::query_scalar(
        "select count(*) from (select 1 from user_term
         where org_id = $1 and term >= $2 and term < $3 limit $4) as hits",
    )
    .bind(org.as_uuid())
    .bind(word)
    .bind(upper_bound(word))
    .bind(cutoff)
    .fetch_one(pool)
    .await
    .map_err(db_error)
}

/// A word covering fewer entries than this many times the cut-off is gathered whole: its
/// users, intersected with the other gathered words', may be few even when each word is not.
const GATHER_FACTOR: i64 = 20;

/// Matched users up to this many times the cut-off are read by id and sorted: fewer rows than
/// a walk in listing order would check before it found a page (the matches may all sit at one
/// end of the order, say family names beginning with "ze").
const MATCHED_FACTOR: i64 = 5;

/// The users matching every word of `words` (each a prefix), when there are at most `max`.
async fn intersect(
    pool: &PgPool,
    org: OrgId,
    words: &[&String],
    max: i64,
) -> StoreResult<Option<Vec<Uuid>>> {
    let mut b = QueryBuilder::<Postgres>::new("select distinct user_id from (");
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            b.push(" intersect ");
        }
        b.push("select user_id from user_term where org_id = ")
            .push_bind(org.as_uuid())
            .push(" and term >= ")
            .push_bind((*word).clone())
            .push(" and term < ")
            .push_bind(upper_bound(word));
    }
    b.push(") as matched limit ")
        .push_bind(max.saturating_add(1));
    let ids: Vec<Uuid> = b
        .build_query_scalar()
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    Ok((i64::try_from(ids.len()).unwrap_or(i64::MAX) <= max).then_some(ids))
}

/// Starts the query for one of three plans: from the narrowest word's terms when it is
/// narrow; from the users every gatherable word matches, when they are few enough to read by
/// id; otherwise walking the listing's index in order and checking each row's search text.
async fn from_clause(
    pool: &PgPool,
    cutoff: i64,
    select: &str,
    org: OrgId,
    query: &UserQuery,
    counted: &[(i64, &String)],
) -> StoreResult<QueryBuilder<'static, Postgres>> {
    let gather = cutoff.saturating_mul(GATHER_FACTOR);
    let narrowest = counted
        .iter()
        .filter(|(n, _)| *n < cutoff)
        .min_by_key(|(n, _)| *n);
    let mut b = QueryBuilder::<Postgres>::new(select);
    b.push(" from user_account u where");
    push_filters(&mut b, org, query);
    if let Some((_, word)) = narrowest {
        b.push(" and u.user_id in (select t.user_id from user_term t where t.org_id = ")
            .push_bind(org.as_uuid())
            .push(" and t.term >= ")
            .push_bind((*word).clone())
            .push(" and t.term < ")
            .push_bind(upper_bound(word))
            .push(")");
    } else {
        let gathered: Vec<&String> = counted
            .iter()
            .filter(|(n, _)| *n < gather)
            .map(|(_, word)| *word)
            .collect();
        if !gathered.is_empty() {
            let max = cutoff.saturating_mul(MATCHED_FACTOR);
            if let Some(ids) = intersect(pool, org, &gathered, max).await? {
                b.push(" and u.user_id = any(").push_bind(ids).push(")");
            }
        }
    }
    push_word_checks(&mut b, &query.words, "strpos");
    Ok(b)
}

/// How many search entries each word's prefix covers, counting no further than `limit`.
async fn count_words<'w>(
    pool: &PgPool,
    limit: i64,
    org: OrgId,
    query: &'w UserQuery,
) -> StoreResult<Vec<(i64, &'w String)>> {
    let mut counted = Vec::with_capacity(query.words.len());
    for word in &query.words {
        counted.push((entries(pool, limit, org, word).await?, word));
    }
    Ok(counted)
}

/// The key column and term kind of the name a sort orders by first, if it orders by a name.
fn sorted_name(sort: UserSort) -> Option<(&'static str, i16)> {
    match sort {
        UserSort::FamilyName => Some(("family_key", FAMILY)),
        UserSort::GivenName => Some(("given_key", GIVEN)),
        UserSort::Created | UserSort::StatusChanged => None,
    }
}

/// Sorted by a name, and a word matches few users other than through that name (fewer than
/// the cut-off): the word, the name's key column, and those other users. The word's matches
/// through the name sit together in the listing's own index, however many they are.
async fn seek(
    pool: &PgPool,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Option<(String, &'static str, Vec<Uuid>)>> {
    let Some((column, kind)) = sorted_name(query.sort) else {
        return Ok(None);
    };
    for word in &query.words {
        // Counted by entry, not by user: a user may match twice (username and e-mail), and
        // the list is whole only when the entries stop before the limit.
        let mut rest: Vec<Uuid> = sqlx::query_scalar(
            "select user_id from user_term
             where org_id = $1 and term >= $2 and term < $3 and kind <> $4 limit $5",
        )
        .bind(org.as_uuid())
        .bind(word)
        .bind(upper_bound(word))
        .bind(kind)
        .bind(cutoff.saturating_add(1))
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
        if i64::try_from(rest.len()).unwrap_or(i64::MAX) <= cutoff {
            rest.sort_unstable();
            rest.dedup();
            return Ok(Some((word.clone(), column, rest)));
        }
    }
    Ok(None)
}

/// The page as the union of two short walks: the users whose sorted name begins with `word`
/// (a range of the listing's index, in order) and the word's other matches `rest`; each gives
/// at most a page, and the union is ordered once more.
fn seek_query(
    select: &str,
    org: OrgId,
    query: &UserQuery,
    (word, column, rest): (String, &str, Vec<Uuid>),
) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::<Postgres>::new(select);
    b.push(" from user_account u where u.org_id = ")
        .push_bind(org.as_uuid())
        .push(
            " and u.user_id in (select user_id from ((select u.user_id from user_account u where",
        );
    push_filters(&mut b, org, query);
    b.push(format_args!(" and u.{column} >= "))
        .push_bind(word.clone())
        .push(format_args!(" and u.{column} < "))
        .push_bind(upper_bound(&word));
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
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Vec<User>> {
    let select = format!("select {}", user_columns_of_u());
    let counted = count_words(pool, cutoff.saturating_mul(GATHER_FACTOR), org, query).await?;
    let narrow = counted.iter().any(|(n, _)| *n < cutoff);
    let seeking = if narrow || counted.is_empty() {
        None
    } else {
        seek(pool, cutoff, org, query).await?
    };
    let mut b = if let Some(seeking) = seeking {
        seek_query(&select, org, query, seeking)
    } else {
        let mut b = from_clause(pool, cutoff, &select, org, query, &counted).await?;
        push_page(&mut b, query);
        b
    };
    b.build_query_as::<UserColumns>()
        .fetch_all(pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(UserColumns::into_user)
        .collect()
}

/// Counts from the narrowest word's terms whenever words are given: the count stops at `cap`,
/// while a scan for a rare word would read the whole status.
pub(crate) async fn count(
    pool: &PgPool,
    org: OrgId,
    query: &UserQuery,
    cap: u64,
) -> StoreResult<u64> {
    let counted = count_words(pool, i64::MAX, org, query).await?;
    let mut b = from_clause(
        pool,
        i64::MAX,
        "select count(*) from (select 1",
        org,
        query,
        &counted,
    )
    .await?;
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
