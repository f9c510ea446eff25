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

/// Shows how far an export has got, on one line of a terminal (and nothing elsewhere).
struct Progress {
    shown: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        Self {
            shown: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    /// Rows a second so far.
    fn rate(&self, rows: u64) -> u128 {
        let millis = self.started.elapsed().as_millis().max(1);
        u128::from(rows) * 1000 / millis
    }

    fn tick(&mut self, rows: u64) {
        if self.shown && self.last.elapsed().as_millis() >= 200 {
            self.last = Instant::now();
            let spinner = ['|', '/', '-', '\\'][usize::try_from(rows / 5_000 % 4).unwrap_or(0)];
            eprint!(
                "\r{spinner} {rows} rows written, {} a second ",
                self.rate(rows)
            );
        }
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
async fn write_all(export: &mut ReportExport, out: &mut dyn Write, to: &str) -> Result<u64> {
    let mut progress = Progress::new();
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
    let mut export = app.report_export(&who, &filter).await?;
    if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        write_all(&mut export, &mut out, "stdout").await?;
        return Ok(());
    }
    let partial = partial_path(&args.output);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = write_all(&mut export, &mut out, &args.output.display().to_string()).await;
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
