//! `rollcall report`: the completion report as CSV, to a file or stdout, with the same tabs and
//! filters as the console and the API. It is read a chunk at a time, and a file is written
//! whole or not at all: rows go to a file beside it, renamed into place once the last is in.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use rollcall_app::{App, Principal, ReportExport, ReportRequest, csv_header};

use crate::commands::principal;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long, env = "ROLLCALL_ORG")]
    org: String,
    /// `active` (the results the dashboard counts) or `archived` (inactive and archived
    /// people's).
    #[arg(long, default_value = "active")]
    tab: String,
    /// With `--tab archived`: inactive people only.
    #[arg(long)]
    inactive_only: bool,
    /// A course, by id or title.
    #[arg(long)]
    course: Option<String>,
    /// A segment, by id or name.
    #[arg(long)]
    segment: Option<String>,
    /// A roster, by id or title.
    #[arg(long)]
    roster: Option<String>,
    /// `enrolled` or `completed`: which date `--from` and `--to` apply to.
    #[arg(long, default_value = "enrolled")]
    dated_by: String,
    /// First day, `YYYY-MM-DD`.
    #[arg(long)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    #[arg(long)]
    to: Option<String>,
    /// `not_started`, `in_progress` or `completed`.
    #[arg(long)]
    progress: Option<String>,
    /// Where to write the CSV; `-` (the default) is stdout.
    #[arg(long, short, default_value = "-")]
    output: PathBuf,
}

/// The id of the one item whose id or name is `wanted` (names ignoring case).
fn one_of<'a>(
    what: &str,
    wanted: &str,
    items: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<String> {
    let items: Vec<(String, &str)> = items.into_iter().collect();
    if let Some((id, _)) = items.iter().find(|(id, _)| id == wanted) {
        return Ok(id.clone());
    }
    let named: Vec<&(String, &str)> = items
        .iter()
        .filter(|(_, name)| name.to_lowercase() == wanted.to_lowercase())
        .collect();
    match named.as_slice() {
        [(id, _)] => Ok(id.clone()),
        [] => Err(anyhow!("no {what} is called or numbered '{wanted}'")),
        _ => Err(anyhow!(
            "several {what}s are called '{wanted}': give its id"
        )),
    }
}

async fn request(app: &App, who: &Principal, args: &ReportArgs) -> Result<ReportRequest> {
    let course = match &args.course {
        Some(wanted) => {
            let courses = app.courses(who).await?;
            Some(one_of(
                "course",
                wanted,
                courses.iter().map(|c| (c.id.to_string(), c.title.as_str())),
            )?)
        }
        None => None,
    };
    let segment = match &args.segment {
        Some(wanted) => {
            let segments = app.segments(who).await?;
            Some(one_of(
                "segment",
                wanted,
                segments
                    .iter()
                    .map(|s| (s.record.id.to_string(), s.record.name.as_str())),
            )?)
        }
        None => None,
    };
    let roster = match &args.roster {
        Some(wanted) => {
            let rosters = app.rosters(who).await?;
            Some(one_of(
                "roster",
                wanted,
                rosters
                    .iter()
                    .map(|r| (r.roster.id.to_string(), r.roster.title.as_str())),
            )?)
        }
        None => None,
    };
    Ok(ReportRequest {
        tab: Some(args.tab.clone()),
        inactive_only: args.inactive_only,
        course,
        segment,
        roster,
        dated_by: Some(args.dated_by.clone()),
        from: args.from.clone(),
        to: args.to.clone(),
        progress: args.progress.clone(),
    })
}

/// Shows how far an export has got, on one line of a terminal (and nothing elsewhere): a bar
/// with the share done and the time left when the number of rows is known beforehand, the
/// rows so far otherwise.
struct Progress {
    shown: bool,
    expected: Option<u64>,
    started: Instant,
    last: Instant,
}

/// How wide the bar is, in characters.
const BAR: u64 = 30;

impl Progress {
    fn new(expected: Option<u64>) -> Self {
        Self {
            shown: std::io::stderr().is_terminal(),
            expected: expected.filter(|n| *n > 0),
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    /// Rows a second so far.
    fn rate(&self, rows: u64) -> u64 {
        let millis = self.started.elapsed().as_millis().max(1);
        u64::try_from(u128::from(rows) * 1000 / millis).unwrap_or(u64::MAX)
    }

    fn tick(&mut self, rows: u64) {
        if self.shown && self.last.elapsed().as_millis() >= 200 {
            self.last = Instant::now();
            eprint!("\r{} ", self.line(rows));
        }
    }

    /// The line shown after `rows` rows.
    fn line(&self, rows: u64) -> String {
        let rate = self.rate(rows);
        let Some(total) = self.expected else {
            let spinner = ['|', '/', '-', '\\'][usize::try_from(rows / 5_000 % 4).unwrap_or(0)];
            return format!("{spinner} {rows} rows written, {rate} a second");
        };
        // The figures are read just before the export: a row or two may come or go.
        let done = rows.min(total);
        let filled = done * BAR / total;
        let left = (total - done).checked_div(rate).unwrap_or(0);
        format!(
            "[{}{}] {:>3}% {rows} of {total} rows, {rate} a second, {left} s left",
            "#".repeat(usize::try_from(filled).unwrap_or(0)),
            "-".repeat(usize::try_from(BAR - filled).unwrap_or(0)),
            done * 100 / total,
        )
    }

    fn done(&self, rows: u64, to: &str) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
        eprintln!(
            "{rows} rows written to {to} in {:.1} s",
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// Writes every row of `export` to `out`; how many.
async fn write_all(
    export: &mut ReportExport,
    expected: Option<u64>,
    out: &mut dyn Write,
    to: &str,
) -> Result<u64> {
    let mut progress = Progress::new(expected);
    out.write_all(csv_header().as_bytes())?;
    let mut rows = 0_u64;
    while let Some((text, count)) = export.next_csv().await? {
        out.write_all(text.as_bytes())?;
        rows += count;
        progress.tick(rows);
    }
    out.flush()?;
    progress.done(rows, to);
    Ok(rows)
}

/// The file rows are written to before they are complete: beside `path`, hidden.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.part"))
}

pub async fn report(app: App, args: ReportArgs) -> Result<()> {
    let who = principal(&app, &args.org).await?;
    let request = request(&app, &who, &args).await?;
    let filter = request.parse()?;
    let expected = app.report_expected_rows(&who, &filter).await?;
    let mut export = app.report_export(&who, &filter).await?;
    if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        write_all(&mut export, expected, &mut out, "stdout").await?;
        return Ok(());
    }
    let partial = partial_path(&args.output);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = write_all(
        &mut export,
        expected,
        &mut out,
        &args.output.display().to_string(),
    )
    .await;
    drop(out);
    match written {
        Ok(_) => std::fs::rename(&partial, &args.output)
            .with_context(|| format!("moving the report to {}", args.output.display())),
        Err(err) => {
            // Nothing half-written is left behind.
            let _ = std::fs::remove_file(&partial);
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_the_share_done_when_the_rows_are_known() {
        let progress = Progress::new(Some(1_000));
        let line = progress.line(250);
        assert!(
            line.starts_with("[#######-----------------------]  25% 250 of 1000 rows,"),
            "{line}"
        );
        let past = progress.line(1_003);
        assert!(past.contains("100% 1003 of 1000 rows"), "{past}");
        let unknown = Progress::new(None).line(12);
        assert!(
            unknown.ends_with("12 rows written, 12000 a second")
                || unknown.contains("12 rows written"),
            "{unknown}"
        );
    }
}
