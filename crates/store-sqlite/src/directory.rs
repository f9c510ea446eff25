//! What an import run reads of the org besides the roll, straight from the file (see
//! [`crate::file_reader`]): the users its rows may name or clash with (found by id, external
//! id, username, look-alike username and e-mail), each with what their source last said.
//! Every statement is prepared once and stepped on a blocking thread.

use std::path::PathBuf;

use rollcall_domain::provisioning::{Known, Wanted};
use rollcall_domain::{OrgId, Source, UserId};
use rollcall_store::StoreResult;
use rollcall_store::rows::{UserColumns, corrupt, parse_said, select_known};
use uuid::Uuid;

use crate::file_reader::{self, blocking, failed, uuid_at};

/// The org's users: the columns of [`UserColumns`], in its order, then what the user's source
/// last said (see [`select_known`]).
fn known_in_org() -> String {
    format!("{}?1", select_known())
}

/// The users `wanted` names or may clash with, each once, with what their source last said.
pub(crate) async fn wanted(file: PathBuf, org: OrgId, wanted: Wanted) -> StoreResult<Vec<Known>> {
    blocking(move || {
        let mut conn = file_reader::open(&file)?;
        // One read transaction: the lookups and the users are of the same moment.
        let tx = conn.transaction().map_err(failed)?;
        let ids = ids_of(&tx, org, &wanted)?;
        let mut statement = tx
            .prepare(&format!("{} and u.user_id = ?2", known_in_org()))
            .map_err(failed)?;
        let mut known = Vec::with_capacity(ids.len());
        for id in ids {
            let mut rows = statement
                .query(rusqlite::params![org.as_uuid().as_bytes(), id.as_bytes()])
                .map_err(failed)?;
            if let Some(row) = rows.next().map_err(failed)? {
                known.push(known_of(row)?);
            }
        }
        Ok(known)
    })
    .await
}

/// The ids of the users `wanted` names, sorted, each once: the source's users by id, and
/// whoever holds one of its values.
fn ids_of(conn: &rusqlite::Connection, org: OrgId, wanted: &Wanted) -> StoreResult<Vec<Uuid>> {
    let org = org.as_uuid();
    let mut ids: Vec<Uuid> = wanted.ids.iter().map(UserId::as_uuid).collect();
    let lookups = [
        ("external_id", true, &wanted.manual_external_ids),
        ("username_key", false, &wanted.username_keys),
        ("username_skeleton", false, &wanted.username_skeletons),
        ("email_key", false, &wanted.email_keys),
    ];
    for (column, manual, values) in lookups {
        if values.is_empty() {
            continue;
        }
        let only_manual = if manual { " and source = ?3" } else { "" };
        let mut statement = conn
            .prepare(&format!(
                "select user_id from user_account where org_id = ?1 and {column} = ?2{only_manual}"
            ))
            .map_err(failed)?;
        for value in values {
            let mut rows = if manual {
                statement.query(rusqlite::params![org.as_bytes(), value, Source::MANUAL])
            } else {
                statement.query(rusqlite::params![org.as_bytes(), value])
            }
            .map_err(failed)?;
            while let Some(row) = rows.next().map_err(failed)? {
                ids.push(uuid_at(row, 0)?);
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A row of [`known_in_org`].
fn known_of(row: &rusqlite::Row<'_>) -> StoreResult<Known> {
    let value = |i: usize| row.get_ref(i).map_err(failed);
    let text =
        |i: usize| -> StoreResult<String> { Ok(value(i)?.as_str().map_err(corrupt)?.to_owned()) };
    let maybe_text = |i: usize| -> StoreResult<Option<String>> {
        Ok(value(i)?
            .as_str_or_null()
            .map_err(corrupt)?
            .map(str::to_owned))
    };
    let int = |i: usize| -> StoreResult<i64> { value(i)?.as_i64().map_err(corrupt) };
    let user = UserColumns {
        org_id: uuid_at(row, 0)?,
        user_id: uuid_at(row, 1)?,
        username: maybe_text(2)?,
        username_key: maybe_text(3)?,
        username_skeleton: maybe_text(4)?,
        email: maybe_text(5)?,
        email_key: maybe_text(6)?,
        given_name: text(7)?,
        family_name: text(8)?,
        given_key: text(9)?,
        family_key: text(10)?,
        role: text(11)?,
        status: text(12)?,
        source: text(13)?,
        external_id: maybe_text(14)?,
        prevent_archiving: int(15)? != 0,
        password_hash: maybe_text(16)?,
        must_change_password: int(17)? != 0,
        attributes: text(18)?,
        search_text: text(19)?,
        created_at: int(20)?,
        updated_at: int(21)?,
        status_changed_at: int(22)?,
        version: int(23)?,
    };
    Ok(Known {
        said: parse_said(value(24)?.as_str_or_null().map_err(corrupt)?)?,
        user: user.into_user()?,
    })
}
