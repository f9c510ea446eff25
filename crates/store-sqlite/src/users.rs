//! Writing user rows with their search entries, and the two plans of a listing.

use rollcall_domain::{OrgId, User};
use rollcall_store::listing::{order_by, push_filters, push_page, push_word_checks, sort_columns};
use rollcall_store::rows::{USER_COLUMNS, UserColumns, user_columns_of_u};
use rollcall_store::{
    BULK_LOAD_MIN, StoreError, StoreResult, UserQuery, UserSort, bind_user_columns,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::db_error;

/// A user's full-text columns: the whole family name, the whole given name, and every other
/// term (name parts, username, e-mail).
pub(crate) fn search_columns(row: &UserColumns) -> [String; 3] {
    let other: Vec<&str> = row
        .terms()
        .split(' ')
        .filter(|t| !t.is_empty() && *t != row.family_key && *t != row.given_key)
        .collect();
    [
        row.family_key.clone(),
        row.given_key.clone(),
        other.join(" "),
    ]
}

/// Rows per multi-row `insert`: 24 columns × 1,000 rows stay below SQLite's 32,766 bound
/// parameters.
const CHUNK: usize = 1_000;

/// Inserts users and their search entries. Row ids are assigned here, on the single writer
/// connection inside its transaction, so each search entry can name its user's row.
pub(crate) async fn insert_user_rows(
    conn: &mut SqliteConnection,
    rows: &[UserColumns],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if let [row] = rows {
        return insert_one(conn, row).await;
    }
    let last: i64 = sqlx::query_scalar("select coalesce(max(user_rowid), 0) from user_account")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let numbered: Vec<(i64, &UserColumns)> = (last + 1..).zip(rows).collect();
    let existing = usize::try_from(last).unwrap_or(usize::MAX);
    if rows.len() >= BULK_LOAD_MIN && rows.len() >= existing {
        bulk_load(conn, &numbered).await
    } else {
        insert_numbered(conn, &numbered).await
    }
}

/// One user (a person added by hand or by a SCIM client): SQLite numbers the row, which
/// names its search entry. Two statements, where a batch's numbering costs a third.
async fn insert_one(conn: &mut SqliteConnection, row: &UserColumns) -> StoreResult<()> {
    let mut q = QueryBuilder::<Sqlite>::new(format!("insert into user_account ({USER_COLUMNS}) "));
    q.push_values(std::iter::once(row), |mut b, row| {
        bind_user_columns!(b, push_bind, row);
    });
    q.push(" returning user_rowid");
    let rowid: i64 = q
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let [family, given, other] = search_columns(row);
    sqlx::query("insert into user_search (rowid, family, given, other) values (?, ?, ?, ?)")
        .bind(rowid)
        .bind(family)
        .bind(given)
        .bind(other)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// A large load: the table's indexes are dropped, the rows appended in row-id order, and each
/// index made again from its own definition. Making an index sorts its entries once; keeping it
/// while inserting would place each entry at random in a B-tree far larger than the page
/// cache, reading and writing the same pages again and again. All inside the caller's
/// transaction: a failure (a duplicate found when a unique index is made again) leaves
/// nothing, and readers see the table as it was until the commit.
async fn bulk_load(conn: &mut SqliteConnection, rows: &[(i64, &UserColumns)]) -> StoreResult<()> {
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select name, sql from sqlite_schema \
         where type = 'index' and tbl_name = 'user_account' and sql is not null",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    for (name, _) in &indexes {
        sqlx::query(&format!("drop index \"{name}\""))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    insert_numbered(conn, rows).await?;
    // Making an index sorts its entries: let the sorter use a helper thread.
    sqlx::query("pragma threads = 2")
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    for (_, sql) in &indexes {
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Inserts numbered rows and their search entries, a chunk at a time.
async fn insert_numbered(
    conn: &mut SqliteConnection,
    numbered: &[(i64, &UserColumns)],
) -> StoreResult<()> {
    for chunk in numbered.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "insert into user_account (user_rowid, {USER_COLUMNS}) "
        ));
        q.push_values(chunk, |mut b, (rowid, row)| {
            b.push_bind(*rowid);
            bind_user_columns!(b, push_bind, *row);
        });
        q.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    for chunk in numbered.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into user_search (rowid, family, given, other) ");
        q.push_values(chunk, |mut b, (rowid, row)| {
            let [family, given, other] = search_columns(row);
            b.push_bind(*rowid)
                .push_bind(family)
                .push_bind(given)
                .push_bind(other);
        });
        q.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Replaces a user's search entry (their terms changed).
pub(crate) async fn reindex_users(
    conn: &mut SqliteConnection,
    rows: &[UserColumns],
) -> StoreResult<()> {
    // 4 bound values a row, and the org's once: far below SQLite's limit.
    for chunk in rows.chunks(CHUNK) {
        let Some(first) = chunk.first() else {
            continue;
        };
        let mut delete = QueryBuilder::<Sqlite>::new(
            "delete from user_search where rowid in (select user_rowid from user_account \
             where org_id = ",
        );
        delete.push_bind(first.org_id).push(" and user_id in (");
        let mut ids = delete.separated(", ");
        for row in chunk {
            ids.push_bind(row.user_id);
        }
        delete.push("))");
        delete.build().execute(&mut *conn).await.map_err(db_error)?;
        let mut insert = QueryBuilder::<Sqlite>::new("with v (user_id, family, given, other) as (");
        insert.push_values(chunk, |mut values, row| {
            let [family, given, other] = search_columns(row);
            values
                .push_bind(row.user_id)
                .push_bind(family)
                .push_bind(given)
                .push_bind(other);
        });
        // Each row's key found by id, v row by v row: as a join, SQLite may choose to walk
        // every user of the table instead.
        insert
            .push(
                ") insert into user_search (rowid, family, given, other) \
                 select (select user_rowid from user_account where org_id = ",
            )
            .push_bind(first.org_id)
            .push(" and user_id = v.user_id), v.family, v.given, v.other from v");
        insert.build().execute(&mut *conn).await.map_err(db_error)?;
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

/// The rows the full-text index matches, when there are at most `cutoff` of them: few enough
/// to look up and sort. `None` when there are more (a broad word). The row ids come back as
/// one JSON array in one row, as the page's query takes them: thousands of one-value rows
/// would each cross from SQLite's thread to the caller's.
async fn narrow_matches(
    pool: &SqlitePool,
    cutoff: i64,
    expression: &str,
) -> StoreResult<Option<String>> {
    let (count, rowids): (i64, String) = sqlx::query_as(
        "select count(*), json_group_array(rowid) from \
         (select rowid from user_search where user_search match ? limit ?)",
    )
    .bind(expression)
    .bind(cutoff.saturating_add(1))
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    Ok((count <= cutoff).then_some(rowids))
}

/// A seek's other matches are gathered up to this many times the cut-off: they are read by id
/// and sorted, which stays cheap well past the cut-off, while without them the listing is
/// walked from its start to the sorted name's range (two broad words such as "z sa", whose
/// matches sit together far down the list).
const SEEK_REST_FACTOR: i64 = 5;

/// Where a listing's rows come from.
enum Rows {
    /// Every row: no words were typed, or they are broad. Walk the listing's index in order,
    /// checking each entry's search text.
    Scan,
    /// The rows the full-text index matched, already gathered (few of them), as a JSON
    /// array of row ids.
    Matched(String),
    /// Sorted by a name and one word `prefix` matches that name in few rows elsewhere: those
    /// rows (`Matched`), and everyone whose sorted name begins with `prefix`, found by seeking.
    SeekAndMatched { prefix: String, rest: String },
    /// The full-text index's matches, joined as they come (for counting up to a cap).
    Joined(String),
}

/// The name column a sort orders by first, if it orders by a name.
fn sorted_name(sort: UserSort) -> Option<(&'static str, &'static str)> {
    match sort {
        // (the full-text column holding the whole name, the key column of user_account)
        UserSort::FamilyName => Some(("family", "family_key")),
        UserSort::GivenName => Some(("given", "given_key")),
        UserSort::Created | UserSort::StatusChanged => None,
    }
}

/// Chooses the plan. Broad words (many matches) are found quickly by walking the listing in
/// order, unless they match the very name the listing is sorted by: then the matches sit
/// together, perhaps far down the list, and a seek to them beats any walk.
async fn choose(pool: &SqlitePool, cutoff: i64, query: &UserQuery) -> StoreResult<Rows> {
    if query.words.is_empty() {
        return Ok(Rows::Scan);
    }
    if let Some(rows) = narrow_matches(pool, cutoff, &match_expression(&query.words)).await? {
        return Ok(Rows::Matched(rows));
    }
    if let Some((column, _)) = sorted_name(query.sort) {
        // The longest word first: its range of sorted names is likely the shortest, and that
        // range is walked until a page is found (the other words may be rare within it).
        let mut order: Vec<usize> = (0..query.words.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(query.words[*i].len()));
        for i in order {
            let word = &query.words[i];
            // Matches of `word` outside the sorted name, that also match every other word.
            let others: Vec<String> = query
                .words
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, w)| format!("\"{w}\"*"))
                .collect();
            let mut expression = format!("(- {{{column}}} : \"{word}\"*)");
            for other in others {
                expression.push_str(" AND ");
                expression.push_str(&other);
            }
            let most = cutoff.saturating_mul(SEEK_REST_FACTOR);
            if let Some(rest) = narrow_matches(pool, most, &expression).await? {
                return Ok(Rows::SeekAndMatched {
                    prefix: word.clone(),
                    rest,
                });
            }
        }
    }
    Ok(Rows::Scan)
}

/// Pushes the matched rows as a source: a JSON array of row ids, joined to the compact index.
fn push_matched(
    b: &mut QueryBuilder<'static, Sqlite>,
    rowids: String,
    org: OrgId,
    query: &UserQuery,
) {
    // The matches travel as one JSON array; CROSS JOIN keeps them the outer loop.
    b.push(" from json_each(")
        .push_bind(rowids)
        .push(") m cross join user_account u indexed by user_account_keys")
        .push(" on u.user_rowid = m.value where");
    push_filters(b, org, query);
}

/// Starts the query, reading indexes only; `select` names what to take of `u`.
fn from_clause(
    select: &str,
    rows: Rows,
    org: OrgId,
    query: &UserQuery,
) -> QueryBuilder<'static, Sqlite> {
    let mut b = QueryBuilder::<Sqlite>::new(select);
    match rows {
        Rows::Matched(rowids) => push_matched(&mut b, rowids, org, query),
        Rows::Joined(expression) => {
            b.push(" from user_search s cross join user_account u indexed by user_account_keys")
                .push(" on u.user_rowid = s.rowid where s.user_search match ")
                .push_bind(expression)
                .push(" and");
            push_filters(&mut b, org, query);
        }
        Rows::Scan => {
            b.push(" from user_account u where");
            push_filters(&mut b, org, query);
            push_word_checks(&mut b, &query.words, "instr");
        }
        Rows::SeekAndMatched { .. } => {
            unreachable!("a seek is a union of two pages, built by `page_ids`")
        }
    }
    b
}

/// The row ids of one page, in order.
async fn page_ids(
    pool: &SqlitePool,
    rows: Rows,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Vec<i64>> {
    let Rows::SeekAndMatched { prefix, rest } = rows else {
        let mut b = from_clause("select u.user_rowid", rows, org, query);
        push_page(&mut b, query);
        return b
            .build_query_scalar()
            .fetch_all(pool)
            .await
            .map_err(db_error);
    };
    let Some((_, key)) = sorted_name(query.sort) else {
        return Err(StoreError::Corrupt {
            what: "a seek without a name sort".into(),
        });
    };
    // Both halves come sorted and limited; the union is sorted and limited once more.
    let keys = sort_columns(query.sort).join(", u.");
    let mut b = QueryBuilder::<Sqlite>::new(format!(
        "select user_rowid from (select * from (select u.user_rowid, u.{keys}"
    ));
    push_matched(&mut b, rest, org, query);
    push_page(&mut b, query);
    b.push(format_args!(
        ") union select * from (select u.user_rowid, u.{keys} from user_account u where"
    ));
    push_filters(&mut b, org, query);
    b.push(format_args!(" and u.{key} >= "))
        .push_bind(prefix.clone())
        .push(format_args!(" and u.{key} < "))
        .push_bind(format!("{prefix}~"));
    push_word_checks(&mut b, &query.words, "instr");
    push_page(&mut b, query);
    b.push(format_args!(
        ")) u order by {} limit ",
        order_by(query, "u.")
    ))
    .push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
    b.build_query_scalar()
        .fetch_all(pool)
        .await
        .map_err(db_error)
}

/// A page in two steps: the row ids in order from the indexes, then just those rows.
pub(crate) async fn list(
    pool: &SqlitePool,
    cutoff: i64,
    org: OrgId,
    query: &UserQuery,
) -> StoreResult<Vec<User>> {
    let rows = choose(pool, cutoff, query).await?;
    let ids = page_ids(pool, rows, org, query).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = QueryBuilder::<Sqlite>::new(format!(
        "select {} from user_account u where u.user_rowid in (",
        user_columns_of_u()
    ));
    let mut list = rows.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    rows.push(format_args!(") order by {}", order_by(query, "u.")));
    rows.build_query_as::<UserColumns>()
        .fetch_all(pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(UserColumns::into_user)
        .collect()
}

/// Counts through the full-text index whenever words are given: the count stops at `cap`, so
/// gathering matches is bounded, while a scan for a rare word would read the whole status.
pub(crate) async fn count(
    pool: &SqlitePool,
    org: OrgId,
    query: &UserQuery,
    cap: u64,
) -> StoreResult<u64> {
    let rows = if query.words.is_empty() {
        Rows::Scan
    } else {
        Rows::Joined(match_expression(&query.words))
    };
    let mut b = from_clause("select count(*) from (select 1", rows, org, query);
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
