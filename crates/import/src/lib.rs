//! Reading roster files into the rows the provisioning planner takes
//! ([`rollcall_domain::provisioning::Row`]).
//!
//! A file is read whole or not at all: one bad row and the reader answers with every problem
//! it found (line, column, value, why), so an import never applies half a file. Each format is
//! documented in `docs/formats/` with a sample file the tests read.

pub mod plain;

use std::fmt;

/// Something wrong at one place of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line, counting the header as line 1.
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
            line,
            column: None,
            value: None,
            reason: reason.into(),
        }
    }

    pub fn at(line: u64, column: &str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            line,
            column: Some(column.to_owned()),
            value: Some(value.to_owned()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(value) = &self.value {
            // Shown escaped: a value may hold anything.
            write!(f, " ({value:?})")?;
        }
        write!(f, ": {}", self.reason)
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
