//! One CSV file: its header, and each row's fields with its line, read one row at a time or
//! whole. UTF-8 with or
//! without a byte-order mark, CRLF or LF, RFC 4180 quoting; blank rows skipped.

use crate::{Problem, Report};

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
}

/// A file's rows, read one at a time: a file of a million people is never held as fields.
pub struct Rows<'a> {
    reader: csv::Reader<&'a [u8]>,
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
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let headers = match reader.read_byte_record(&mut record) {
            Ok(false) => return Err(vec![Problem::at_line(1, "is empty").in_file(name)]),
            Err(err) => return Err(vec![csv_problem(&err).in_file(name)]),
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
                    report.push(csv_problem(&err).in_file(&header.name));
                    // A broken quote leaves the reader unable to tell where rows start again.
                    self.broken = true;
                    return None;
                }
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            if self
                .record
                .iter()
                .all(|field| field.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            if self.record.len() != header.headers.len() {
                report.push(
                    Problem::at_line(
                        line,
                        format!(
                            "has {} fields where the header has {}",
                            self.record.len(),
                            header.headers.len()
                        ),
                    )
                    .in_file(&header.name),
                );
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

pub fn csv_problem(err: &csv::Error) -> Problem {
    let line = err.position().map_or(1, csv::Position::line);
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
