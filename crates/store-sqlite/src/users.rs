//! Writing user rows with their search entries, and the two plans of a listing.

use rollcall_domain::{OrgId, User};
use rollcall_store::rows::{USER_COLUMNS, UserColumns, user_columns_of_u};
use rollcall_store::sql::{push_filters, push_page, push_word_checks};
use rollcall_store::{StoreError, StoreResult, UserQuery, bind_user_columns};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use crate::{current_version, db_error};

/// Inserts users and their search entries. Row ids are assigned here, on the single writer
/// connection inside its transaction, so each search entry can name its user's row.
pub(crate) async fn insert_user_rows(
    tx: &mut Transaction<'static, Sqlite>,
    rows: &[UserColumns],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let last: i64 = sqlx::query_scalar("select coalesce(max(user_rowid), 0) from user_account")
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)?;
    let numbered: Vec<(i64, &UserColumns)> = (last + 1..).zip(rows).collect();

    let mut q = QueryBuilder::<Sqlite>::new(format!(
        "insert into user_account (user_rowid, {USER_COLUMNS}) "
    ));
    q.push_values(&numbered, |mut b, (rowid, row)| {
        b.push_bind(*rowid);
        bind_user_columns!(b, push_bind, *row);
    });
    q.build().execute(&mut **tx).await.map_err(db_error)?;

    let mut q = QueryBuilder::<Sqlite>::new("insert into user_search (rowid, terms) ");
    q.push_values(&numbered, |mut b, (rowid, row)| {
        b.push_bind(*rowid).push_bind(row.terms().to_owned());
    });
    q.build().execute(&mut **tx).await.map_err(db_error)?;
    Ok(())
}

/// Overwrites a user's row if it is still at `expected_version`, re-indexing it for search
/// only when its terms changed (a status change does not touch the index).
pub(crate) async fn update_user_row(
    tx: &mut Transaction<'static, Sqlite>,
    user: &User,
    expected_version: i64,
) -> StoreResult<()> {
    let row = UserColumns::from_user(user);
    let found: Option<(i64, String)> = sqlx::query_as(
        "select user_rowid, search_text from user_account
         where org_id = ? and user_id = ? and version = ?",
    )
    .bind(row.org_id)
    .bind(row.user_id)
    .bind(expected_version)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    let Some((rowid, old_search_text)) = found else {
        return Err(match current_version(tx, row.org_id, row.user_id).await? {
            Some(current) => StoreError::Stale { current },
            None => StoreError::NotFound,
        });
    };
    let mut q = QueryBuilder::<Sqlite>::new("update user_account set (");
    q.push(USER_COLUMNS).push(") = (");
    {
        let mut b = q.separated(", ");
        bind_user_columns!(b, push_bind, &row);
    }
    q.push(") where user_rowid = ").push_bind(rowid);
    q.build().execute(&mut **tx).await.map_err(db_error)?;

    if old_search_text != row.search_text {
        sqlx::query("delete from user_search where rowid = ?")
            .bind(rowid)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        sqlx::query("insert into user_search (rowid, terms) values (?, ?)")
            .bind(rowid)
            .bind(row.terms())
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// The full-text expression requiring every word as a prefix: `"ada"* AND "love"*`.
/// Words are already reduced to [a-z0-9], so quoting them is enough.
fn match_expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Does the full-text index match fewer than `cutoff` rows, few enough to gather and sort?
async fn narrow_enough(pool: &SqlitePool, cutoff: i64, expression: &str) -> StoreResult<bool> {
    let entries: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from user_search where user_search match ? limit ?)",
    )
    .bind(expression)
    .bind(cutoff)
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    Ok(entries < cutoff)
}

/// Starts the query for either plan: through the full-text index when the words are narrow,
/// otherwise walking the listing's index in order and checking each row's search text.
async fn from_clause(
    pool: &SqlitePool,
    cutoff: i64,
    select: &str,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<QueryBuilder<'static, Sqlite>> {
    let mut b = QueryBuilder::<Sqlite>::new(select);
    let expression = match_expression(&query.words);
    if !query.words.is_empty() && narrow_enough(pool, cutoff, &expression).await? {
        // CROSS JOIN pins the order: matches first, then each one's row by its key.
        b.push(" from user_search s cross join user_account u on u.user_rowid = s.rowid")
            .push(" where s.user_search match ")
            .push_bind(expression)
            .push(" and");
        push_filters(&mut b, org, query);
    } else {
        b.push(" from user_account u where");
        push_filters(&mut b, org, query);
        push_word_checks(&mut b, &query.words, "instr");
    }
    Ok(b)
}

pub(crate) async fn list(
    pool: &SqlitePool,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Vec<User>> {
    let select = format!("select {}", user_columns_of_u());
    let mut b = from_clause(pool, cutoff, &select, org, query).await?;
    push_page(&mut b, query);
    b.build_query_as::<UserColumns>()
        .fetch_all(pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(UserColumns::into_user)
        .collect()
}

pub(crate) async fn count(
    pool: &SqlitePool,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
    cap: u64,
) -> StoreResult<u64> {
    let mut b = from_clause(pool, cutoff, "select count(*) from (select 1", org, query).await?;
    b.push(" limit ")
        .push_bind(i64::try_from(cap).unwrap_or(i64::MAX))
        .push(")");
    let n: i64 = b
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    Ok(u64::try_from(n).unwrap_or_default())
}
