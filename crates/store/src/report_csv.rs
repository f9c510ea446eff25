//! A completion report as CSV, written as the database hands the rows over: one statement
//! walks the rows in the enrolments' key order (course, then person), a task formats them and
//! passes the text on in chunks through a short queue. The reader sets the pace: when it stops
//! reading, the walk waits; when it goes away, the walk ends.

use std::fmt::Write as _;

use chrono::{Datelike as _, Timelike as _};

use uuid::Uuid;

use crate::report_rows::ReportColumns;
use crate::{StoreError, StoreResult};

/// About how much text a chunk holds before it is passed on.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Rows of a completion report as CSV: `user_id, username, email, given_name, family_name,
/// status, course_id, course, enrolled_by, enrolled_at, started_at, completed_at, score,
/// credits_used`, each line ended by a newline (RFC 4180 quoting: text in double quotes, a
/// quote doubled; times in UTC, RFC 3339 to the second; a missing value empty). Text a
/// spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first)
/// is written with a leading `'`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvChunk {
    pub text: String,
    pub rows: u64,
}

impl CsvChunk {
    /// An empty chunk with room for about [`CHUNK_BYTES`].
    pub fn with_room() -> Self {
        Self {
            text: String::with_capacity(CHUNK_BYTES + 1024),
            rows: 0,
        }
    }

    /// Whether the chunk is big enough to be passed on.
    pub fn is_full(&self) -> bool {
        self.text.len() >= CHUNK_BYTES
    }

    /// Appends one row as a CSV line.
    pub fn push(&mut self, row: &CsvRow<'_>) {
        let out = &mut self.text;
        let _ = write!(out, "{},", row.user_id);
        text(out, row.username);
        text(out, row.email);
        text(out, Some(row.given_name));
        text(out, Some(row.family_name));
        out.push_str(row.status);
        let _ = write!(out, ",{},", row.course_id);
        text(out, Some(row.title));
        out.push_str(row.method);
        out.push(',');
        time(out, Some(row.enrolled_at));
        time(out, row.started_at);
        time(out, row.completed_at);
        if let Some(score) = row.score {
            let _ = write!(out, "{score}");
        }
        let _ = writeln!(out, ",{}", row.credits_used);
        self.rows += 1;
    }
}

/// One row of a report as the CSV writes it, borrowed from wherever it was read.
#[derive(Debug, Clone, Copy)]
pub struct CsvRow<'a> {
    pub user_id: Uuid,
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub status: &'a str,
    pub course_id: Uuid,
    pub title: &'a str,
    pub method: &'a str,
    /// Microseconds since 1970, as every time is stored.
    pub enrolled_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub score: Option<i64>,
    pub credits_used: i64,
}

impl ReportColumns {
    pub(crate) fn as_csv(&self) -> CsvRow<'_> {
        CsvRow {
            user_id: self.user_id,
            username: self.username.as_deref(),
            email: self.email.as_deref(),
            given_name: &self.given_name,
            family_name: &self.family_name,
            status: &self.status,
            course_id: self.course_id,
            title: &self.title,
            method: &self.method,
            enrolled_at: self.enrolled_at,
            started_at: self.started_at,
            completed_at: self.completed_at,
            score: self.score,
            credits_used: self.credits_used,
        }
    }
}

/// A text value and its comma: quoted, quotes doubled, a formula defused; nothing when missing.
fn text(out: &mut String, value: Option<&str>) {
    if let Some(value) = value {
        out.push('"');
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            out.push('\'');
        }
        for (i, part) in value.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    }
    out.push(',');
}

/// A time in microseconds since 1970, as RFC 3339 UTC to the second, and its comma.
fn time(out: &mut String, micros: Option<i64>) {
    if let Some(at) =
        micros.and_then(|m| chrono::DateTime::from_timestamp(m.div_euclid(1_000_000), 0))
    {
        // Field by field: a format string would be parsed again for every value.
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            at.year(),
            at.month(),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        );
    }
    out.push(',');
}

/// What the walk of an export passes on: chunks of lines, then word that every row has come.
#[derive(Debug)]
pub enum Sent {
    Lines(CsvChunk),
    End,
}

/// The end of an export being read.
pub struct CsvRows {
    chunks: tokio::sync::mpsc::Receiver<StoreResult<Sent>>,
    ended: bool,
}

/// Where the walk of an export passes its chunks on.
pub type CsvSender = tokio::sync::mpsc::Sender<StoreResult<Sent>>;

impl CsvRows {
    /// The two ends of an export: the walk sends into the first, the reader reads the second.
    /// Two chunks wait at most: a reader that stops reading stops the walk.
    pub fn queue() -> (CsvSender, Self) {
        let (sent, chunks) = tokio::sync::mpsc::channel(2);
        (
            sent,
            Self {
                chunks,
                ended: false,
            },
        )
    }

    /// The next chunk of lines, or `None` once every row has come. A walk that stops before
    /// its end, whatever the reason, is an error: never a short export that looks whole.
    pub async fn next(&mut self) -> Option<StoreResult<CsvChunk>> {
        if self.ended {
            return None;
        }
        match self.chunks.recv().await {
            Some(Ok(Sent::Lines(chunk))) => Some(Ok(chunk)),
            Some(Ok(Sent::End)) => {
                self.ended = true;
                None
            }
            Some(Err(e)) => {
                self.ended = true;
                Some(Err(e))
            }
            None => {
                self.ended = true;
                Some(Err(StoreError::Database(Box::new(std::io::Error::other(
                    "the export stopped before its last row",
                )))))
            }
        }
    }
}

impl std::fmt::Debug for CsvRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRows").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(given: &'a str, username: Option<&'a str>) -> CsvRow<'a> {
        CsvRow {
            user_id: Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10),
            username,
            email: None,
            given_name: given,
            family_name: "Pupil",
            status: "active",
            course_id: Uuid::from_u128(1),
            title: "Fire, safety",
            method: "selected",
            // 2026-01-10T09:30:00.5Z
            enrolled_at: 1_768_037_400_500_000,
            started_at: Some(0),
            completed_at: None,
            score: Some(87),
            credits_used: 2,
        }
    }

    #[test]
    fn a_row_is_quoted_dated_and_defused() {
        let mut chunk = CsvChunk::default();
        chunk.push(&row("=Ann \"A\"", Some("ann")));
        chunk.push(&row("-", None));
        assert_eq!(chunk.rows, 2);
        assert_eq!(
            chunk.text,
            "01020304-0506-0708-090a-0b0c0d0e0f10,\"ann\",,\"'=Ann \"\"A\"\"\",\"Pupil\",active,\
             00000000-0000-0000-0000-000000000001,\"Fire, safety\",selected,\
             2026-01-10T09:30:00Z,1970-01-01T00:00:00Z,,87,2\n\
             01020304-0506-0708-090a-0b0c0d0e0f10,,,\"'-\",\"Pupil\",active,\
             00000000-0000-0000-0000-000000000001,\"Fire, safety\",selected,\
             2026-01-10T09:30:00Z,1970-01-01T00:00:00Z,,87,2\n"
        );
    }

    #[test]
    fn every_formula_lead_is_defused_and_other_text_is_not() {
        for lead in ["=", "+", "-", "@", "\t", "\r"] {
            let mut out = String::new();
            text(&mut out, Some(&format!("{lead}1")));
            assert_eq!(out, format!("\"'{lead}1\","));
        }
        let mut out = String::new();
        text(&mut out, Some("Ann-Marie"));
        text(&mut out, Some(""));
        assert_eq!(out, "\"Ann-Marie\",\"\",");
    }

    #[test]
    fn a_chunk_is_passed_on_once_it_holds_enough() {
        let mut chunk = CsvChunk::with_room();
        let mut pushed = 0;
        while !chunk.is_full() {
            chunk.push(&row("Ann", Some("ann")));
            pushed += 1;
        }
        assert_eq!(chunk.rows, pushed);
        assert!(pushed > 1_000, "{pushed} rows fill a chunk");
    }

    #[tokio::test]
    async fn a_walk_that_stops_without_its_end_is_an_error() {
        let (sent, mut rows) = CsvRows::queue();
        sent.send(Ok(Sent::Lines(CsvChunk::default())))
            .await
            .unwrap();
        drop(sent);
        assert!(matches!(rows.next().await, Some(Ok(_))));
        assert!(
            matches!(rows.next().await, Some(Err(_))),
            "never a short export that looks whole"
        );
        assert!(rows.next().await.is_none());

        let (sent, mut rows) = CsvRows::queue();
        sent.send(Ok(Sent::End)).await.unwrap();
        assert!(rows.next().await.is_none());
    }
}
