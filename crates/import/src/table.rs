//! One CSV file: its header, and each row's fields with its line, read one row at a time or
//! whole. UTF-8 with or
//! without a byte-order mark, CRLF or LF, RFC 4180 quoting; blank rows skipped.

use std::collections::VecDeque;
use std::io;

use crate::{Problem, Report};

/// A file read through the CSV reader, counting its lines as it goes: a row's line is one more
/// than the line breaks before its first byte. The CSV reader's own count takes only `\n` for
/// a line break, and may place a row after `\r\n` at the `\n`: in a file of `\r\n` lines (as
/// Windows writes them) every row would be counted a line too early, and in a file of `\r`
/// lines (old Mac spreadsheets) all on line 1. Here `\r\n`, `\n` and a lone `\r` each end a
/// line, as they end a row.
pub struct Lines<R> {
    inner: R,
    /// Bytes read so far.
    read: u64,
    /// The line breaks the reader has not yet asked about: where each starts and ends.
    breaks: VecDeque<(u64, u64)>,
    /// The last read ended on a `\r`: a `\n` first in the next one ends the same line.
    ended_cr: bool,
    /// Line breaks before the last offset asked about.
    counted: u64,
}

impl<R: io::Read> Lines<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            read: 0,
            breaks: VecDeque::new(),
            ended_cr: false,
            counted: 0,
        }
    }

    /// The line (the first is 1) of the row the CSV reader says starts at `offset`: that row
    /// starts after any line breaks found there (blank lines, or the `\n` of a `\r\n`).
    /// Offsets are asked in order.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        let mut cursor = offset;
        while let Some(&(start, end)) = self.breaks.front() {
            if start > cursor {
                break;
            }
            self.breaks.pop_front();
            self.counted += 1;
            cursor = cursor.max(end + 1);
        }
        self.counted + 1
    }
}

impl<R: io::Read> io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let start = self.read;
        let bytes = buf.get(..n).unwrap_or_default();
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let at = start + i as u64;
            let crlf = bytes.get(i) == Some(&b'\n')
                && match i.checked_sub(1) {
                    Some(before) => bytes.get(before) == Some(&b'\r'),
                    None => self.ended_cr,
                };
            match self.breaks.back_mut() {
                Some((_, end)) if crlf => *end = at,
                _ => self.breaks.push_back((at, at)),
            }
        }
        if let Some(&last) = bytes.last() {
            self.ended_cr = last == b'\r';
        }
        self.read += n as u64;
        Ok(n)
    }
}

/// A header as it is compared: lower case, without spaces, `_`, `-` or `.`.
pub fn squeezed(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A file's header: its columns as written, and as compared.
pub struct Header {
    /// The file's name, for problems.
    pub name: String,
    pub headers: Vec<String>,
    squeezed: Vec<String>,
}

impl Header {
    /// Where the column of this (squeezed) name sits.
    pub fn column(&self, squeezed_name: &str) -> Option<usize> {
        self.squeezed.iter().position(|h| h == squeezed_name)
    }

    /// Where a required column sits, found by its name as the format writes it (`enabledUser`)
    /// in any case or spacing; when it is missing, a problem in `report` names it so.
    pub(crate) fn need(&self, name: &str, report: &mut Report) -> Option<usize> {
        let wanted = squeezed(name);
        let found = self.column(&wanted);
        if found.is_none() {
            let hint = self
                .misspelt(&wanted)
                .map(|header| format!(" (is {header:?} meant to be it?)"))
                .unwrap_or_default();
            report.push(
                Problem::at_line(1, format!("has no {name} column{hint}")).in_file(&self.name),
            );
        }
        found
    }

    /// The header closest to `wanted` (squeezed), when it is a slip of a letter or two away.
    fn misspelt(&self, wanted: &str) -> Option<&str> {
        let most = if wanted.chars().count() > 6 { 2 } else { 1 };
        self.squeezed
            .iter()
            .zip(&self.headers)
            .map(|(have, header)| (strsim::damerau_levenshtein(have, wanted), header))
            .filter(|&(distance, _)| distance <= most)
            .min_by_key(|&(distance, _)| distance)
            .map(|(_, header)| header.as_str())
    }
}

/// A file's rows, read one at a time: a file of a million people is never held as fields.
pub struct Rows<'a> {
    reader: csv::Reader<Lines<&'a [u8]>>,
    record: csv::ByteRecord,
    /// A quote left open: nothing after it can be read.
    broken: bool,
}

impl<'a> Rows<'a> {
    /// Reads the header of `bytes` (a file named `name`); its problems, if any.
    pub fn open(name: &str, bytes: &'a [u8]) -> Result<(Header, Self), Vec<Problem>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Lines::new(bytes));
        let mut record = csv::ByteRecord::new();
        let headers = match reader.read_byte_record(&mut record) {
            Ok(false) => return Err(vec![Problem::at_line(1, "is empty").in_file(name)]),
            Err(err) => return Err(vec![csv_problem(&err, reader.get_mut()).in_file(name)]),
            Ok(true) => match texts(&record, None, 1) {
                Ok(mut headers) => {
                    if let Some(first) = headers.first_mut() {
                        *first = first.trim_start_matches('\u{feff}').to_owned();
                    }
                    headers
                }
                Err(problem) => return Err(vec![problem.in_file(name)]),
            },
        };
        let squeezed: Vec<String> = headers.iter().map(|h| squeezed(h)).collect();
        let mut report = Report::default();
        for (i, header) in squeezed.iter().enumerate() {
            if !header.is_empty() && squeezed[..i].contains(header) {
                report.push(
                    Problem::at(1, &headers[i], &headers[i], "names a column twice").in_file(name),
                );
            }
        }
        if !report.is_empty() {
            return Err(report.finish());
        }
        let header = Header {
            name: name.to_owned(),
            headers,
            squeezed,
        };
        Ok((
            header,
            Self {
                reader,
                record,
                broken: false,
            },
        ))
    }

    /// The next row that is not blank, with its line (the header is line 1) and as many fields
    /// as the header has; a row that is not (wrong field count, not UTF-8) goes to `report`
    /// and the next is read. `None` at the end, or after a quote left open.
    pub fn next_row(&mut self, header: &Header, report: &mut Report) -> Option<(u64, Vec<&str>)> {
        let (line, record) = self.next_record(header, report)?;
        Some((line, record.fields()))
    }

    /// The next row, as [`Rows::next_row`], its fields read where they lie: a row passed over
    /// is never copied.
    pub fn next_record(
        &mut self,
        header: &Header,
        report: &mut Report,
    ) -> Option<(u64, Record<'_>)> {
        loop {
            if self.broken {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(err) => {
                    let problem = csv_problem(&err, self.reader.get_mut());
                    report.push(problem.in_file(&header.name));
                    // A broken quote leaves the reader unable to tell where rows start again.
                    self.broken = true;
                    return None;
                }
            }
            let line = line_of(&self.record, self.reader.get_mut());
            if self
                .record
                .iter()
                .all(|field| field.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            if self.record.len() != header.headers.len() {
                let problem = wrong_count(&self.record, header.headers.len(), line);
                report.push(problem.in_file(&header.name));
                continue;
            }
            let text = self.record.as_slice().is_ascii()
                || self.record.iter().all(|f| std::str::from_utf8(f).is_ok());
            if !text {
                if let Err(problem) = texts(&self.record, Some(&header.headers), line) {
                    report.push(problem.in_file(&header.name));
                }
                continue;
            }
            return Some((line, Record(&self.record)));
        }
    }
}

/// A row whose every field is UTF-8 text, as many as the header's.
#[derive(Clone, Copy)]
pub struct Record<'r>(&'r csv::ByteRecord);

impl<'r> Record<'r> {
    /// The field at `i`, trimmed; empty past the end.
    pub fn get(self, i: usize) -> &'r str {
        self.0
            .get(i)
            .and_then(|f| std::str::from_utf8(f).ok())
            .map_or("", str::trim)
    }

    pub fn fields(self) -> Vec<&'r str> {
        self.0
            .iter()
            .map(|f| std::str::from_utf8(f).unwrap_or_default())
            .collect()
    }
}

/// A file's rows under its header, read whole (the small files of a package).
pub struct Table {
    pub header: Header,
    /// Each row's line (the header is line 1) and fields, as many as the header's.
    pub rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    /// Reads `bytes` whole; every problem, each in `name`, if any.
    pub fn read(name: &str, bytes: &[u8]) -> Result<Self, Vec<Problem>> {
        let (header, mut reader) = Rows::open(name, bytes)?;
        let mut report = Report::default();
        let mut rows = Vec::new();
        while let Some((line, fields)) = reader.next_row(&header, &mut report) {
            rows.push((line, fields.into_iter().map(str::to_owned).collect()));
        }
        if report.is_empty() {
            Ok(Self { header, rows })
        } else {
            Err(report.finish())
        }
    }

    /// Where the column of this (squeezed) name sits.
    pub fn column(&self, squeezed_name: &str) -> Option<usize> {
        self.header.column(squeezed_name)
    }
}

/// A row of `record.len()` fields where the header has `expected`. When a field holds a line
/// break, a quote was most likely left open: the rows after it were read into that field.
pub fn wrong_count(record: &csv::ByteRecord, expected: usize, line: u64) -> Problem {
    let mut why = format!(
        "has {} fields where the header has {}",
        record.len(),
        expected
    );
    if record
        .iter()
        .any(|field| field.contains(&b'\n') || field.contains(&b'\r'))
    {
        why.push_str(
            ": a quote (\") in it is probably never closed, so the lines after it were read \
             as part of one field",
        );
    }
    Problem::at_line(line, why)
}

/// The line `record` starts on.
pub fn line_of<R: io::Read>(record: &csv::ByteRecord, lines: &mut Lines<R>) -> u64 {
    record
        .position()
        .map_or(0, |position| lines.line_at(position.byte()))
}

/// What the CSV reader found wrong, on the line it found it.
pub fn csv_problem<R: io::Read>(err: &csv::Error, lines: &mut Lines<R>) -> Problem {
    let line = err
        .position()
        .map_or(1, |position| lines.line_at(position.byte()));
    Problem::at_line(line, format!("is not valid CSV: {err}"))
}

/// A record's fields as text, or the first that is not UTF-8.
pub fn texts(
    record: &csv::ByteRecord,
    headers: Option<&[String]>,
    line: u64,
) -> Result<Vec<String>, Problem> {
    record
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| {
                let column = headers
                    .and_then(|h| h.get(i))
                    .map_or_else(|| format!("#{}", i + 1), Clone::clone);
                Problem::at(
                    line,
                    &column,
                    &String::from_utf8_lossy(bytes),
                    "is not UTF-8 text (save the file as UTF-8)",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row's line and first field, as `Rows` reads `bytes`.
    fn lines_of(bytes: &[u8]) -> Vec<(u64, String)> {
        let (header, mut rows) = Rows::open("users.csv", bytes).unwrap_or_else(|_| panic!());
        let mut report = Report::default();
        let mut seen = Vec::new();
        while let Some((line, record)) = rows.next_record(&header, &mut report) {
            seen.push((line, record.get(0).to_owned()));
        }
        assert!(report.is_empty());
        seen
    }

    fn expected(rows: &[(u64, &str)]) -> Vec<(u64, String)> {
        rows.iter().map(|&(l, f)| (l, f.to_owned())).collect()
    }

    #[test]
    fn rows_are_numbered_by_the_lines_of_the_file_whatever_ends_them() {
        let want = expected(&[(2, "a"), (3, "b"), (4, "c")]);
        assert_eq!(lines_of(b"id,x\na,1\nb,2\nc,3\n"), want);
        assert_eq!(lines_of(b"id,x\r\na,1\r\nb,2\r\nc,3\r\n"), want);
        assert_eq!(lines_of(b"id,x\ra,1\rb,2\rc,3\r"), want);
        assert_eq!(lines_of(b"\xef\xbb\xbfid,x\r\na,1\r\nb,2\r\nc,3"), want);
    }

    #[test]
    fn blank_lines_and_quoted_line_breaks_count_as_lines() {
        let file = b"id,x\r\na,\"one\r\ntwo\"\r\n\r\nb,2\r\n\"c\",\"3\nfour\nfive\"\nd,4\n";
        let want = expected(&[(2, "a"), (5, "b"), (6, "c"), (9, "d")]);
        assert_eq!(lines_of(file), want);
    }

    #[test]
    fn a_line_break_split_between_two_reads_is_one_break() {
        // A reader that hands over one byte at a time splits every `\r\n`.
        struct Trickle<'a>(&'a [u8]);
        impl io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                let Some(slot) = buf.first_mut() else {
                    return Ok(0);
                };
                *slot = first;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut lines = Lines::new(Trickle(b"ab\r\ncd\ref\ngh\r\n\nij"));
        let mut all = Vec::new();
        io::Read::read_to_end(&mut lines, &mut all).unwrap_or_else(|_| panic!());
        assert_eq!(lines.line_at(4), 2, "after the first \\r\\n");
        assert_eq!(lines.line_at(7), 3, "after the lone \\r");
        assert_eq!(lines.line_at(10), 4, "after the \\n");
        // Where the CSV reader puts the last row: at the `\n` of its `\r\n`, a blank line before it.
        assert_eq!(
            lines.line_at(13),
            6,
            "after the last \\r\\n and a blank line"
        );
    }

    #[test]
    fn a_row_of_another_length_with_a_line_break_inside_suspects_an_open_quote() {
        let file = b"id,x,y\na,\"1,2\nb,3,4\n";
        let (header, mut rows) = Rows::open("users.csv", file).unwrap_or_else(|_| panic!());
        let mut report = Report::default();
        assert!(rows.next_record(&header, &mut report).is_none());
        let problems = report.finish();
        let text = problems[0].to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("never closed"), "{text}");
    }
}
