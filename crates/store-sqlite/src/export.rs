//! A report's export read straight from the file (see [`crate::file_reader`]): the statement
//! is stepped on a blocking thread, and each row is written as CSV where it lies.

use std::path::{Path, PathBuf};

use rollcall_store::StoreResult;
use rollcall_store::report_csv::{CsvChunk, CsvRow, CsvSender, Sent};
use rollcall_store::sql::Value;
use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::file_reader::{self, failed};

/// Starts walking `q`'s rows on a blocking thread; see [`CsvSender`].
pub(crate) fn spawn(file: PathBuf, text: String, values: Vec<Value>, sent: CsvSender) {
    tokio::task::spawn_blocking(move || {
        if let Err(e) = walk(&file, &text, &values, &sent) {
            let _ = sent.blocking_send(Err(e));
        }
    });
}

/// One statement, so one consistent picture of the file however long the reader takes.
fn walk(file: &Path, text: &str, values: &[Value], sent: &CsvSender) -> StoreResult<()> {
    let conn = file_reader::open(file)?;
    let mut statement = conn.prepare(text).map_err(failed)?;
    let mut rows = statement
        .query(rusqlite::params_from_iter(values.iter().map(Param)))
        .map_err(failed)?;
    let mut chunk = CsvChunk::with_room();
    while let Some(row) = rows.next().map_err(failed)? {
        chunk.push(&csv_row(row).map_err(failed)?);
        if chunk.is_full() {
            let full = std::mem::replace(&mut chunk, CsvChunk::with_room());
            if sent.blocking_send(Ok(Sent::Lines(full))).is_err() {
                // The reader went away: the statement ends here.
                return Ok(());
            }
        }
    }
    if chunk.rows > 0 {
        let _ = sent.blocking_send(Ok(Sent::Lines(chunk)));
    }
    let _ = sent.blocking_send(Ok(Sent::End));
    Ok(())
}

/// The columns of `REPORT_COLUMNS`, in order, as they lie in the row.
fn csv_row<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<CsvRow<'r>> {
    let text = |i: usize| -> rusqlite::Result<&'r str> { Ok(row.get_ref(i)?.as_str()?) };
    let maybe_text =
        |i: usize| -> rusqlite::Result<Option<&'r str>> { Ok(row.get_ref(i)?.as_str_or_null()?) };
    let maybe_int =
        |i: usize| -> rusqlite::Result<Option<i64>> { Ok(row.get_ref(i)?.as_i64_or_null()?) };
    let id = |i: usize| -> rusqlite::Result<uuid::Uuid> {
        let bytes = row.get_ref(i)?.as_blob()?;
        uuid::Uuid::from_slice(bytes)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, row_type(), Box::new(e)))
    };
    Ok(CsvRow {
        user_id: id(0)?,
        username: maybe_text(1)?,
        email: maybe_text(2)?,
        given_name: text(3)?,
        family_name: text(4)?,
        status: text(5)?,
        course_id: id(6)?,
        title: text(7)?,
        method: text(8)?,
        enrolled_at: row.get_ref(9)?.as_i64()?,
        started_at: maybe_int(10)?,
        completed_at: maybe_int(11)?,
        score: maybe_int(12)?,
        credits_used: row.get_ref(13)?.as_i64()?,
    })
}

fn row_type() -> rusqlite::types::Type {
    rusqlite::types::Type::Blob
}

/// A shared statement's value as SQLite binds it (as sqlx would: ids as 16-byte blobs,
/// booleans as integers).
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let value = match self.0 {
            Value::Uuid(id) | Value::OptUuid(Some(id)) => ValueRef::Blob(id.as_bytes()),
            Value::Text(t) | Value::OptText(Some(t)) => ValueRef::Text(t.as_bytes()),
            Value::Int(n) | Value::OptInt(Some(n)) => ValueRef::Integer(*n),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Bytes(b) => ValueRef::Blob(b),
            Value::OptUuid(None) | Value::OptText(None) | Value::OptInt(None) => ValueRef::Null,
        };
        Ok(ToSqlOutput::Borrowed(value))
    }
}
