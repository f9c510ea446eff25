//! A source's roll read straight from the file (see [`crate::file_reader`]): the source's
//! users and what the org's sources last said of each, both in user id order, merged here. A
//! walk takes about half the time of SQLite's join, which looks up each user's `source_said`
//! row in turn; rows cross to the thread building the roll in batches, never one by one.

use std::path::{Path, PathBuf};

use rollcall_domain::provisioning::{Digest, Enrolled, Roll, Said};
use rollcall_domain::{OrgId, Source, UserId};
use rollcall_store::StoreResult;
use rollcall_store::rows::{corrupt, parse_digest, parse_said};
use uuid::Uuid;

use crate::file_reader::{self, blocking, failed, uuid_at};

/// What a source last said of a user, and the digest of the row it sent with the user's
/// version then.
type SaidOf = (Uuid, Option<Said>, Option<(Digest, i64)>);

/// The roll of `source` in `org`, read on a blocking thread.
pub(crate) async fn read(file: PathBuf, org: OrgId, source: Source) -> StoreResult<Roll> {
    blocking(move || read_now(&file, org, &source)).await
}

/// How many of the roll's people a walk hands over at a time.
const BATCH: usize = 4_096;

/// Both tables are walked in user id order, side by side, and merged on one thread, while this
/// one builds the roll from what the walk hands over, a batch at a time: hashing a million
/// external ids into the roll takes about as long as the walk, and the machine has two cores.
/// No list of a million is held beside the roll, and no row is looked up.
fn read_now(file: &Path, org: OrgId, source: &Source) -> StoreResult<Roll> {
    let (batches, received) = std::sync::mpsc::sync_channel::<StoreResult<Vec<Member>>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let walked = walk(file, org, source, &mut |batch| {
                // The roll being built stopped listening only when it failed.
                batches.send(Ok(batch)).is_ok()
            });
            if let Err(err) = walked {
                let _ = batches.send(Err(err));
            }
        });
        // The count only sizes the roll: read beside the walk, on a connection of its own.
        let count: i64 = file_reader::open(file)?
            .query_row(
                "select count(*) from user_account where org_id = ?1 and source = ?2",
                rusqlite::params![org.as_uuid().as_bytes(), source.as_str()],
                |row| row.get(0),
            )
            .map_err(failed)?;
        let mut failure = None;
        let members = received.iter().map_while(|batch| match batch {
            Ok(batch) => Some(batch),
            Err(err) => {
                failure = Some(err);
                None
            }
        });
        let capacity = usize::try_from(count).unwrap_or_default();
        let roll = Roll::with_capacity(capacity, members.flatten());
        match failure {
            Some(err) => Err(err),
            None => Ok(roll),
        }
    })
}

/// One of the roll's people: by external id (their user id when they have none).
type Member = (String, Enrolled);

/// Walks the source's users and what was said of them, in one read transaction (both walks see
/// the same moment), handing `hand` a batch at a time until it says to stop.
fn walk(
    file: &Path,
    org: OrgId,
    source: &Source,
    hand: &mut dyn FnMut(Vec<Member>) -> bool,
) -> StoreResult<()> {
    let mut conn = file_reader::open(file)?;
    let tx = conn.transaction().map_err(failed)?;
    let org_id = org.as_uuid();
    let mut said_walk = tx
        .prepare(
            "select user_id, said, digest, digest_version from source_said \
             where org_id = ?1 order by user_id",
        )
        .map_err(failed)?;
    let mut said_rows = said_walk.query([org_id.as_bytes()]).map_err(failed)?;
    let mut users_walk = tx
        .prepare(
            "select external_id, user_id, status, role, prevent_archiving, version \
             from user_account indexed by user_account_id \
             where org_id = ?1 and source = ?2 order by user_id",
        )
        .map_err(failed)?;
    let mut user_rows = users_walk
        .query(rusqlite::params![org_id.as_bytes(), source.as_str()])
        .map_err(failed)?;
    let mut said: Option<SaidOf> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = user_rows.next().map_err(failed)? {
        let (external_id, mut user, version) = user_of(row)?;
        let id = user.user.as_uuid();
        // What was said of users before this one belongs to people of other sources.
        while said.as_ref().is_none_or(|&(other, ..)| other < id) {
            let Some(row) = said_rows.next().map_err(failed)? else {
                said = None;
                break;
            };
            said = Some(said_of(row)?);
        }
        if let Some((_, was, sent)) = said.take_if(|&mut (other, ..)| other == id) {
            user.said = was;
            // Only while the user is as the source left them.
            user.sent = sent
                .filter(|&(_, kept)| kept == version)
                .map(|(digest, _)| digest);
        }
        batch.push((external_id, user));
        if batch.len() == BATCH && !hand(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))) {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        hand(batch);
    }
    Ok(())
}

fn said_of(row: &rusqlite::Row<'_>) -> StoreResult<SaidOf> {
    let value = |i: usize| row.get_ref(i).map_err(failed);
    let user = uuid_at(row, 0)?;
    let said = parse_said(value(1)?.as_str_or_null().map_err(corrupt)?)?;
    let digest = value(2)?.as_blob_or_null().map_err(corrupt)?;
    let version = value(3)?.as_i64_or_null().map_err(corrupt)?;
    let sent = match (digest, version) {
        (Some(digest), Some(version)) => Some((parse_digest(digest)?, version)),
        _ => None,
    };
    Ok((user, said, sent))
}

/// One user of the roll: by external id (their user id when they have none), and their
/// version.
fn user_of(row: &rusqlite::Row<'_>) -> StoreResult<(String, Enrolled, i64)> {
    let value = |i: usize| row.get_ref(i).map_err(failed);
    let text = |i: usize| -> StoreResult<&str> { value(i)?.as_str().map_err(corrupt) };
    let int = |i: usize| -> StoreResult<i64> { value(i)?.as_i64().map_err(corrupt) };
    let user = UserId::from_uuid(uuid_at(row, 1)?);
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
