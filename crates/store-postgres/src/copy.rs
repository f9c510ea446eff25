//! Many rows at once through `COPY … FROM STDIN` (text format): PostgreSQL's fastest way in,
//! several times a multi-row `insert`, inside the caller's transaction like any statement.

use rollcall_store::StoreResult;
use rollcall_store::sql::Value;
use sqlx::PgConnection;

use crate::db_error;

/// At least this many rows go through `COPY`; fewer, through a multi-row `insert`.
pub(crate) const COPY_MIN: usize = 1_000;

/// The data is sent in pieces of about this size, so a large load is never held whole as text.
const PIECE: usize = 4 << 20;

/// Copies `rows` into `target` (`table (column, …)`); `values` gives a row's values in the
/// columns' order.
pub(crate) async fn copy_rows<T, R>(
    conn: &mut PgConnection,
    target: &str,
    rows: &[T],
    values: fn(&T) -> R,
) -> StoreResult<()>
where
    T: Sync,
    R: IntoIterator<Item = Value>,
{
    let mut sink = conn
        .copy_in_raw(&format!("copy {target} from stdin"))
        .await
        .map_err(db_error)?;
    let mut text = String::with_capacity(PIECE + 4096);
    for row in rows {
        push_row(&mut text, values(row));
        if text.len() >= PIECE {
            let piece = std::mem::replace(&mut text, String::with_capacity(PIECE + 4096));
            if let Err(err) = sink.send(piece.into_bytes()).await {
                // Ends the copy so the connection can report the failure and roll back.
                let _ = sink.abort("the copy failed").await;
                return Err(db_error(err));
            }
        }
    }
    if !text.is_empty() {
        sink.send(text.into_bytes()).await.map_err(db_error)?;
    }
    sink.finish().await.map_err(db_error)?;
    Ok(())
}

/// One line of `COPY`'s text format: values separated by tabs, `\N` for null.
fn push_row(out: &mut String, row: impl IntoIterator<Item = Value>) {
    for (i, value) in row.into_iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match value {
            Value::Uuid(id) | Value::OptUuid(Some(id)) => push_display(out, id),
            Value::Text(text) | Value::OptText(Some(text)) => push_text(out, &text),
            Value::Int(n) | Value::OptInt(Some(n)) => push_display(out, n),
            Value::Bool(b) => out.push(if b { 't' } else { 'f' }),
            Value::Bytes(bytes) => {
                out.push_str("\\\\x");
                for byte in bytes {
                    push_display(out, format_args!("{byte:02x}"));
                }
            }
            Value::OptUuid(None) | Value::OptText(None) | Value::OptInt(None) => {
                out.push_str("\\N");
            }
        }
    }
    out.push('\n');
}

fn push_display(out: &mut String, value: impl std::fmt::Display) {
    use std::fmt::Write as _;
    let _ = write!(out, "{value}");
}

/// Text with the characters `COPY` gives a meaning (backslash, tab, line breaks) escaped.
fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_copy_reads_them() {
        let mut out = String::new();
        push_row(
            &mut out,
            [
                Value::Text("a\tb\\c\nd\re".to_owned()),
                Value::OptText(None),
                Value::Int(-7),
                Value::Bool(false),
                Value::Bytes(vec![0, 255]),
                Value::OptUuid(Some(uuid::Uuid::nil())),
            ],
        );
        assert_eq!(
            out,
            "a\\tb\\\\c\\nd\\re\t\\N\t-7\tf\t\\\\x00ff\t00000000-0000-0000-0000-000000000000\n"
        );
    }
}
