//! Reads straight from the database file, on a read-only rusqlite connection of their own, for
//! walks over many rows: sqlx hands every row across threads as an owned copy, which on a
//! million rows costs more than the reading itself. Such a connection maps no file and keeps a
//! small page cache, so a long walk does not grow the process.

use std::path::Path;

use rollcall_store::rows::corrupt;
use rollcall_store::{StoreError, StoreResult};
use rusqlite::OpenFlags;
use uuid::Uuid;

/// The page cache of a walk, in KiB: it reads each page about once, in order.
const CACHE_KIB: i64 = 8 * 1024;

pub(crate) fn failed(err: rusqlite::Error) -> StoreError {
    StoreError::Database(Box::new(err))
}

/// The id in column `i` of `row` (a 16-byte blob).
pub(crate) fn uuid_at(row: &rusqlite::Row<'_>, i: usize) -> StoreResult<Uuid> {
    let bytes = row.get_ref(i).map_err(failed)?.as_blob().map_err(corrupt)?;
    Uuid::from_slice(bytes).map_err(corrupt)
}

/// A read-only connection to `file`.
pub(crate) fn open(file: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(failed)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(failed)?;
    Ok(conn)
}

/// `read` run on a blocking thread: a walk steps SQLite in the calling thread.
pub(crate) async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(read).await.map_err(corrupt)?
}
