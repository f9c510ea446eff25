//! Reading roster files into the rows the provisioning planner takes
//! ([`rollcall_domain::provisioning::Row`]).
//!
//! A file is read whole or not at all: one bad row and the reader answers with every problem
//! it found (line, column, value, why), so an import never applies half a file. Each format is
//! documented in `docs/formats/` with a sample file the tests read.

mod digest;
pub mod oneroster;
pub mod plain;
mod table;

use std::fmt::{self, Write as _};

use rollcall_domain::provisioning::{Digest, Format, Mode, Row};

/// Asked of each person's row before it is read whole, with its line, external id and digest:
/// whether it sends them exactly as before, so the reader passes over it (see
/// [`rollcall_domain::provisioning::Roll::quiet`]).
pub type Quiet<'a> = dyn FnMut(u64, &str, Digest) -> bool + 'a;

/// Handed each person's row as it is read, in the file's order (rows [`Quiet`] passes over are
/// not): a run may plan a long file part by part instead of holding every row. The rows are the
/// file's only if the read ends without a problem.
pub type Sink<'a> = dyn FnMut(Row) + 'a;

/// A file (or package) read whole.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub rows: Vec<Row>,
    /// Full or delta, when the file says (a OneRoster package does); else the run's or the
    /// source's.
    pub mode: Option<Mode>,
    /// Rows read and knowingly left out (parents and guardians), each with why.
    pub skipped: Vec<Skipped>,
    /// What the reader did not read, and why (files of a package, columns).
    pub notes: Vec<String>,
    /// Classes and their members, when the package sends them.
    pub rosters: Option<RosterSet>,
    /// Rows passed over: sent exactly as before.
    pub quiet: usize,
    /// The orgs a package sent (its `orgs.csv`), for its source to keep.
    pub orgs: Option<rollcall_domain::provisioning::OrgsSent>,
}

/// The classes of a package and who is in them.
#[derive(Debug, Clone, Default)]
pub struct RosterSet {
    /// The classes file is the full list (bulk): the source's classes it leaves out are gone.
    pub classes_full: bool,
    pub classes: Vec<ClassRow>,
    /// The enrollments file is the full list (bulk): it replaces every membership.
    pub enrollments_full: bool,
    pub enrollments: Vec<EnrollmentRow>,
    /// What the reader noted of them, for the preview (moved to [`Read::notes`]).
    pub notes: Vec<String>,
}

/// One class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRow {
    pub line: u64,
    pub external_id: String,
    pub title: String,
    pub code: String,
    /// The name of its school, when the package names the org (`None`: the class keeps the
    /// school it has).
    pub school: Option<String>,
    /// A delta's `tobedeleted`.
    pub deleted: bool,
}

/// One enrollment: a current one, or in a delta one that ends (deleted, or with an end date
/// passed). A bulk file's ended or future enrolments are not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentRow {
    pub line: u64,
    /// The enrolment's `sourcedId` (without one, its class and person joined by U+001F).
    pub external_id: String,
    /// Empty in a deletion that names only the enrolment.
    pub class: String,
    /// The person's `sourcedId`; empty in a deletion that names only the enrolment.
    pub user: String,
    pub role: rollcall_domain::roster::MemberRole,
    /// A delta's `tobedeleted`, or an end date passed.
    pub deleted: bool,
}

/// Lines for a note: the first ten, and how many more (`4, 9, 12 and 3 more`).
pub fn listed_lines(lines: &[u64]) -> String {
    const LISTED: usize = 10;
    let listed: Vec<String> = lines.iter().take(LISTED).map(u64::to_string).collect();
    match lines.len().checked_sub(LISTED) {
        Some(more @ 1..) => format!("{} and {more} more", listed.join(", ")),
        _ => listed.join(", "),
    }
}

/// A row left out of a run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub line: u64,
    pub external_id: String,
    pub why: String,
}

/// Something wrong at one place of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file of a package the problem is in (`users.csv`).
    pub file: Option<String>,
    /// The line, counting the header as line 1 (0: the file or package as a whole).
    pub line: u64,
    /// The column's header as the file writes it, when one column is at fault.
    pub column: Option<String>,
    /// What the file holds there.
    pub value: Option<String>,
    pub reason: String,
}

impl Problem {
    pub fn at_line(line: u64, reason: impl Into<String>) -> Self {
        Self {
            file: None,
            line,
            column: None,
            value: None,
            reason: reason.into(),
        }
    }

    pub fn at(line: u64, column: &str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            file: None,
            line,
            column: Some(column.to_owned()),
            value: Some(value.to_owned()),
            reason: reason.into(),
        }
    }
}

impl Problem {
    /// A problem the planner found with a person's row (`field` as the planner names it: a
    /// username or e-mail another row has, an external id listed twice), named as the file of
    /// `format` writes it: in a OneRoster package, users.csv and its column.
    pub fn of_row(format: Format, line: u64, field: &str, reason: impl Into<String>) -> Self {
        let (file, column) = match format {
            Format::PlainCsv | Format::Scim => (None, field),
            Format::OneRoster => {
                let column = match field {
                    "external_id" => "sourcedId",
                    "given_name" => "givenName",
                    "family_name" => "familyName",
                    other => other,
                };
                (Some("users.csv".to_owned()), column)
            }
        };
        Self {
            file,
            line,
            column: Some(column.to_owned()),
            value: None,
            reason: reason.into(),
        }
    }

    /// The same problem, in a file of a package.
    #[must_use]
    pub fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_owned());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Where, then what: line 0 is the file (or package) as a whole.
        let mut at = match (&self.file, self.line) {
            (Some(file), 0) => file.clone(),
            (Some(file), line) => format!("{file} line {line}"),
            (None, 0) => String::new(),
            (None, line) => format!("line {line}"),
        };
        if let Some(column) = &self.column {
            write!(at, ", column {column}")?;
        }
        if let Some(value) = &self.value {
            // Shown escaped: a value may hold anything.
            write!(at, " ({value:?})")?;
        }
        if at.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{at}: {}", self.reason)
        }
    }
}

/// Problems listed at most; past it the list ends with one that says how many more there were.
pub const MAX_PROBLEMS: usize = 1_000;

/// Collects problems up to [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub(crate) struct Report {
    problems: Vec<Problem>,
    more: u64,
}

impl Report {
    pub(crate) fn push(&mut self, problem: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.more += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub(crate) fn finish(mut self) -> Vec<Problem> {
        if self.more > 0 {
            let line = self.problems.last().map_or(1, |p| p.line);
            self.problems.push(Problem::at_line(
                line,
                format!("{} more problems not listed", self.more),
            ));
        }
        self.problems
    }
}
