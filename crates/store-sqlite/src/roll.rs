//! A source's roll read straight from the file (see [`crate::file_reader`]): what the org's
//! sources last said of each user, then the source's users, joined here by user id. Two scans
//! in storage order take half the time of SQLite's join, which looks up each user's
//! `source_said` row in turn, and no row crosses a thread.

use std::path::{Path, PathBuf};

use rollcall_domain::provisioning::{Digest, Enrolled, Roll, Said};
use rollcall_domain::{OrgId, Source, UserId};
use rollcall_store::StoreResult;
use rollcall_store::rows::{corrupt, parse_digest, parse_said};
use uuid::Uuid;

use crate::file_reader::{self, blocking, failed};

/// What a source last said of a user, and the digest of the row it sent with the user's
/// version then.
type SaidOf = (Uuid, Option<Said>, Option<(Digest, i64)>);

/// One of the source's users before what their source said is joined: their external id,
/// then what the roll keeps (without `said` and `sent`), and their version.
type UserOf = (String, Enrolled, i64);

/// The roll of `source` in `org`, read on a blocking thread.
pub(crate) async fn read(file: PathBuf, org: OrgId, source: Source) -> StoreResult<Roll> {
    blocking(move || read_now(&file, org, &source)).await
}

/// Both tables are read into lists, sorted by user id and merged: a million lookups in a
/// hash map cost more than the reading, each one a miss in the processor's cache.
fn read_now(file: &Path, org: OrgId, source: &Source) -> StoreResult<Roll> {
    let mut conn = file_reader::open(file)?;
    // One read transaction: both scans see the same moment.
    let tx = conn.transaction().map_err(failed)?;
    let org_id = org.as_uuid();
    let mut said: Vec<SaidOf> = Vec::new();
    {
        let mut statement = tx
            .prepare(
                "select user_id, said, digest, digest_version from source_said where org_id = ?1",
            )
            .map_err(failed)?;
        let mut rows = statement.query([org_id.as_bytes()]).map_err(failed)?;
        while let Some(row) = rows.next().map_err(failed)? {
            said.push(said_of(row)?);
        }
    }
    let mut users: Vec<UserOf> = Vec::new();
    {
        let mut statement = tx
            .prepare(
                "select external_id, user_id, status, role, prevent_archiving, version \
                 from user_account where org_id = ?1 and source = ?2",
            )
            .map_err(failed)?;
        let mut rows = statement
            .query(rusqlite::params![org_id.as_bytes(), source.as_str()])
            .map_err(failed)?;
        while let Some(row) = rows.next().map_err(failed)? {
            users.push(user_of(row)?);
        }
    }
    drop(tx);
    said.sort_unstable_by_key(|&(user, ..)| user);
    users.sort_unstable_by_key(|(_, user, _)| user.user);
    let mut said = said.into_iter().peekable();
    let joined: Vec<(String, Enrolled)> = users
        .into_iter()
        .map(|(external_id, mut user, version)| {
            let id = user.user.as_uuid();
            while said.next_if(|&(other, ..)| other < id).is_some() {}
            if let Some((_, was, sent)) = said.next_if(|&(other, ..)| other == id) {
                user.said = was;
                // Only while the user is as the source left them.
                user.sent = sent
                    .filter(|&(_, kept)| kept == version)
                    .map(|(digest, _)| digest);
            }
            (external_id, user)
        })
        .collect();
    Ok(Roll::new(joined))
}

fn said_of(row: &rusqlite::Row<'_>) -> StoreResult<SaidOf> {
    let value = |i: usize| row.get_ref(i).map_err(failed);
    let user = uuid(value(0)?.as_blob().map_err(corrupt)?)?;
    let said = parse_said(value(1)?.as_str_or_null().map_err(corrupt)?)?;
    let digest = value(2)?.as_blob_or_null().map_err(corrupt)?;
    let version = value(3)?.as_i64_or_null().map_err(corrupt)?;
    let sent = match (digest, version) {
        (Some(digest), Some(version)) => Some((parse_digest(digest)?, version)),
        _ => None,
    };
    Ok((user, said, sent))
}

/// One user of the roll: by external id (their user id when they have none).
fn user_of(row: &rusqlite::Row<'_>) -> StoreResult<UserOf> {
    let value = |i: usize| row.get_ref(i).map_err(failed);
    let text = |i: usize| -> StoreResult<&str> { value(i)?.as_str().map_err(corrupt) };
    let int = |i: usize| -> StoreResult<i64> { value(i)?.as_i64().map_err(corrupt) };
    let user = UserId::from_uuid(uuid(value(1)?.as_blob().map_err(corrupt)?)?);
    let external_id = match value(0)?.as_str_or_null().map_err(corrupt)? {
        Some(external_id) => external_id.to_owned(),
        None => user.to_string(),
    };
    let enrolled = Enrolled {
        user,
        status: text(2)?.parse().map_err(corrupt)?,
        role: text(3)?.parse().map_err(corrupt)?,
        prevent_archiving: int(4)? != 0,
        said: None,
        sent: None,
    };
    Ok((external_id, enrolled, int(5)?))
}

fn uuid(bytes: &[u8]) -> StoreResult<Uuid> {
    Uuid::from_slice(bytes).map_err(corrupt)
}
