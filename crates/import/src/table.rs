//! One CSV file read whole: its header, and each row's fields with its line. UTF-8 with or
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

/// A file's rows under its header.
pub struct Table {
    /// The file's name, for problems.
    pub name: String,
    pub headers: Vec<String>,
    /// Each row's line (the header is line 1) and fields, as many as the header's.
    pub rows: Vec<(u64, Vec<String>)>,
    squeezed: Vec<String>,
}

impl Table {
    /// Reads `bytes` whole; every problem, each in `name`, if any.
    pub fn read(name: &str, bytes: &[u8]) -> Result<Self, Vec<Problem>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut report = Report::default();
        let mut records = reader.byte_records();
        let headers = match records.next() {
            None => return Err(vec![Problem::at_line(1, "is empty").in_file(name)]),
            Some(Err(err)) => return Err(vec![csv_problem(&err).in_file(name)]),
            Some(Ok(record)) => match texts(&record, None, 1) {
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
        for (i, header) in squeezed.iter().enumerate() {
            if !header.is_empty() && squeezed[..i].contains(header) {
                report.push(
                    Problem::at(1, &headers[i], &headers[i], "names a column twice").in_file(name),
                );
            }
        }
        let mut rows = Vec::new();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(err) => {
                    report.push(csv_problem(&err).in_file(name));
                    // A broken quote leaves the reader unable to tell where rows start again.
                    break;
                }
            };
            let line = record.position().map_or(0, csv::Position::line);
            if record
                .iter()
                .all(|field| field.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            if record.len() != headers.len() {
                report.push(
                    Problem::at_line(
                        line,
                        format!(
                            "has {} fields where the header has {}",
                            record.len(),
                            headers.len()
                        ),
                    )
                    .in_file(name),
                );
                continue;
            }
            match texts(&record, Some(&headers), line) {
                Ok(fields) => rows.push((line, fields)),
                Err(problem) => report.push(problem.in_file(name)),
            }
        }
        if report.is_empty() {
            Ok(Self {
                name: name.to_owned(),
                headers,
                rows,
                squeezed,
            })
        } else {
            Err(report.finish())
        }
    }

    /// Where the column of this (squeezed) name sits.
    pub fn column(&self, squeezed_name: &str) -> Option<usize> {
        self.squeezed.iter().position(|h| h == squeezed_name)
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
