//! An import's directory on SQLite (every user of the org with what their source last said) and
//! a source's roll (its users, narrow), read in chunks of ten thousand, each chunk one JSON
//! array in one row. A row per user would
//! cost more in the driver (each value copied and handed from SQLite's thread) than in SQLite
//! itself: 20 µs a user, where SQLite builds the JSON in 2.

use rollcall_domain::provisioning::{Enrolled, Known, Roll};
use rollcall_domain::{OrgId, Source, UserId};
use rollcall_store::StoreResult;
use std::borrow::Cow;

use rollcall_store::rows::{USER_COLUMNS, UserColumns, corrupt, parse_digest, parse_said};
use serde::Deserialize;
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::db_error;

/// Users a chunk holds.
const CHUNK: i64 = 10_000;

/// One user as the JSON array holds them: the user's columns in `USER_COLUMNS` order (ids as
/// hex), then what their source last said.
#[derive(Debug, Deserialize)]
struct Entry {
    org_id: String,
    user_id: String,
    username: Option<String>,
    username_key: Option<String>,
    username_skeleton: Option<String>,
    email: Option<String>,
    email_key: Option<String>,
    given_name: String,
    family_name: String,
    given_key: String,
    family_key: String,
    role: String,
    status: String,
    source: String,
    external_id: Option<String>,
    prevent_archiving: i64,
    password_hash: Option<String>,
    must_change_password: i64,
    attributes: String,
    search_text: String,
    created_at: i64,
    updated_at: i64,
    status_changed_at: i64,
    version: i64,
    said: Option<String>,
}

impl Entry {
    fn into_known(self) -> StoreResult<(Uuid, Known)> {
        let id = |hex: &str| Uuid::parse_str(hex).map_err(corrupt);
        let user_id = id(&self.user_id)?;
        let said = parse_said(self.said.as_deref())?;
        let user = UserColumns {
            org_id: id(&self.org_id)?,
            user_id,
            username: self.username,
            username_key: self.username_key,
            username_skeleton: self.username_skeleton,
            email: self.email,
            email_key: self.email_key,
            given_name: self.given_name,
            family_name: self.family_name,
            given_key: self.given_key,
            family_key: self.family_key,
            role: self.role,
            status: self.status,
            source: self.source,
            external_id: self.external_id,
            prevent_archiving: self.prevent_archiving != 0,
            password_hash: self.password_hash,
            must_change_password: self.must_change_password != 0,
            attributes: self.attributes,
            search_text: self.search_text,
            created_at: self.created_at,
            updated_at: self.updated_at,
            status_changed_at: self.status_changed_at,
            version: self.version,
        }
        .into_user()?;
        Ok((user_id, Known { user, said }))
    }
}

/// `json_array(...)` of a user row `u` and its `said`, ids as hex.
fn row_as_json() -> String {
    let columns: Vec<String> = USER_COLUMNS
        .split(',')
        .map(str::trim)
        .map(|c| match c {
            "org_id" | "user_id" => format!("hex(u.{c})"),
            _ => format!("u.{c}"),
        })
        .collect();
    format!("json_array({}, s.said)", columns.join(", "))
}

pub(crate) async fn read(pool: &SqlitePool, org: OrgId) -> StoreResult<Vec<Known>> {
    let sql = format!(
        "select count(*), json_group_array(json(entry)) from (select {} as entry \
         from user_account u left join source_said s \
         on s.org_id = u.org_id and s.user_id = u.user_id \
         where u.org_id = ? and u.user_id > ? order by u.user_id limit ?)",
        row_as_json()
    );
    let mut known = Vec::new();
    let mut after = Uuid::nil();
    loop {
        let (count, chunk): (i64, String) = sqlx::query_as(&sql)
            .bind(org.as_uuid())
            .bind(after)
            .bind(CHUNK)
            .fetch_one(pool)
            .await
            .map_err(db_error)?;
        let entries: Vec<Entry> = serde_json::from_str(&chunk).map_err(corrupt)?;
        known.reserve(entries.len());
        for entry in entries {
            let (id, one) = entry.into_known()?;
            after = after.max(id);
            known.push(one);
        }
        if count < CHUNK {
            return Ok(known);
        }
    }
}

/// The users of `ids` with what their source last said, as one JSON array.
pub(crate) async fn known_by_ids(
    pool: &SqlitePool,
    org: OrgId,
    ids: &[Uuid],
) -> StoreResult<Vec<Known>> {
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
        "select json_group_array(json({})) from user_account u left join source_said s \
         on s.org_id = u.org_id and s.user_id = u.user_id where u.org_id = ",
        row_as_json()
    ));
    q.push_bind(org.as_uuid()).push(" and u.user_id in (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let (chunk,): (String,) = q.build_query_as().fetch_one(pool).await.map_err(db_error)?;
    let entries: Vec<Entry> = serde_json::from_str(&chunk).map_err(corrupt)?;
    entries
        .into_iter()
        .map(|entry| entry.into_known().map(|(_, known)| known))
        .collect()
}

/// One user of a roll as the JSON array holds them: external id, user id (hex), status, role,
/// prevent archiving, what the source said, and the digest (hex; empty when none or stale).
/// Only an external id may need unescaping.
type RollEntry<'a> = (
    Option<Cow<'a, str>>,
    &'a str,
    &'a str,
    &'a str,
    i64,
    Option<&'a str>,
    &'a str,
);

fn into_enrolled(entry: RollEntry<'_>) -> StoreResult<(String, Enrolled)> {
    let (external_id, user, status, role, prevent_archiving, said, digest) = entry;
    let digest = if digest.is_empty() {
        None
    } else {
        let bytes: Vec<u8> = (0..digest.len())
            .step_by(2)
            .map(|i| {
                digest
                    .get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(format!("'{digest}' is not a digest")))?;
        Some(parse_digest(&bytes)?)
    };
    let user = UserId::from_uuid(Uuid::parse_str(user).map_err(corrupt)?);
    Ok((
        external_id.map_or_else(|| user.to_string(), Cow::into_owned),
        Enrolled {
            user,
            status: status.parse().map_err(corrupt)?,
            role: role.parse().map_err(corrupt)?,
            prevent_archiving: prevent_archiving != 0,
            said: said.map(str::parse).transpose().map_err(corrupt)?,
            sent: digest,
        },
    ))
}

/// A roll's users by external id, as a chunk holds them.
type RollChunk = Vec<(String, Enrolled)>;

/// One chunk of a roll: a JSON array of [`RollEntry`].
fn parse_roll_chunk(chunk: &str) -> StoreResult<RollChunk> {
    let entries: Vec<RollEntry<'_>> = serde_json::from_str(chunk).map_err(corrupt)?;
    entries.into_iter().map(into_enrolled).collect()
}

/// Readers of one roll at once: SQLite answers each on its own connection and thread.
const LANES: u128 = 2;

/// A source's roll. The org's user ids are cut into [`LANES`] equal spans (ids grow with time,
/// and a source's people are spread over the org's span), each read in chunks by its own reader.
pub(crate) async fn roll(pool: &SqlitePool, org: OrgId, source: &Source) -> StoreResult<Roll> {
    let (low, high) = (
        end_id(pool, org, "min").await?,
        end_id(pool, org, "max").await?,
    );
    let (Some(low), Some(high)) = (low, high) else {
        return Ok(Roll::default());
    };
    let (low, high) = (low.as_u128(), high.as_u128());
    let span = (high - low) / LANES + 1;
    let mut lanes = Vec::new();
    for lane in 0..LANES {
        let first = low + span * lane;
        let last = if lane + 1 == LANES {
            high
        } else {
            first + span - 1
        };
        let (pool, source) = (pool.clone(), source.clone());
        lanes.push(tokio::spawn(async move {
            read_lane(&pool, org, &source, first, last).await
        }));
    }
    let mut users = Vec::new();
    for lane in lanes {
        users.extend(lane.await.map_err(corrupt)??);
    }
    Ok(Roll::new(users))
}

/// The org's lowest (`min`) or highest (`max`) user id. Asked apart: SQLite finds a lone min()
/// or max() at one end of the index, but walks the whole org for both in one query.
async fn end_id(pool: &SqlitePool, org: OrgId, end: &str) -> StoreResult<Option<Uuid>> {
    sqlx::query_scalar(&format!(
        "select {end}(user_id) from user_account where org_id = ?"
    ))
    .bind(org.as_uuid())
    .fetch_one(pool)
    .await
    .map_err(db_error)
}

/// The source's users whose ids lie from `first` to `last`, by id, a chunk at a time; SQLite
/// builds the next chunk while the last one is parsed on another thread.
async fn read_lane(
    pool: &SqlitePool,
    org: OrgId,
    source: &Source,
    first: u128,
    last: u128,
) -> StoreResult<RollChunk> {
    let sql = "select count(*), json_group_array(json_array(e, i, st, r, p, sa, d)), max(i) from \
         (select u.external_id e, hex(u.user_id) i, u.status st, u.role r, \
         u.prevent_archiving p, s.said sa, \
         hex(case when s.digest_version = u.version then s.digest end) d \
         from user_account u indexed by user_account_id left join source_said s \
         on s.org_id = u.org_id and s.user_id = u.user_id \
         where u.org_id = ? and u.user_id > ? and u.user_id <= ? and u.source = ? \
         order by u.user_id limit ?)";
    let mut users = Vec::new();
    let mut parsing: Option<tokio::task::JoinHandle<StoreResult<RollChunk>>> = None;
    // No user has the nil id: `first - 1` excludes nobody.
    let mut after = Uuid::from_u128(first.saturating_sub(1));
    loop {
        let (count, chunk, max): (i64, String, Option<String>) = sqlx::query_as(sql)
            .bind(org.as_uuid())
            .bind(after)
            .bind(Uuid::from_u128(last))
            .bind(source.as_str())
            .bind(CHUNK)
            .fetch_one(pool)
            .await
            .map_err(db_error)?;
        let parsed = tokio::task::spawn_blocking(move || parse_roll_chunk(&chunk));
        if let Some(earlier) = parsing.replace(parsed) {
            users.extend(earlier.await.map_err(corrupt)??);
        }
        match max {
            Some(max) if count == CHUNK => after = Uuid::parse_str(&max).map_err(corrupt)?,
            _ => break,
        }
    }
    if let Some(last) = parsing {
        users.extend(last.await.map_err(corrupt)??);
    }
    Ok(users)
}
