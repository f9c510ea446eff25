//! `rollcall source …` and `rollcall import`: provisioning sources and their runs.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use rollcall_app::{App, ImportOutcome, ImportRequest, NewSource};
use rollcall_domain::RunId;
use rollcall_domain::provisioning::{MissingPolicy, Mode, Plan, WhenMissing};

use crate::commands::{principal, shown};

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Add a provisioning source.
    Add {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The name its users carry as their source, like `sis` or `hr-feed`.
        name: String,
        /// The files it reads: `plain-csv` (see docs/formats/plain-csv.md).
        #[arg(long, default_value = "plain-csv")]
        format: String,
        /// `full` (people a run no longer lists are handled by the policy) or `delta`.
        #[arg(long, default_value = "full")]
        mode: String,
        /// What happens to missing students: archive, deactivate or keep.
        #[arg(long, default_value = "archive")]
        missing_students: String,
        /// What happens to missing teachers, staff and admins.
        #[arg(long, default_value = "keep")]
        missing_adults: String,
    },
    /// List the org's sources.
    List {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
    },
    /// Pause a source: its runs are refused until it is resumed.
    Pause {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        name: String,
    },
    /// Resume a paused source.
    Resume {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        name: String,
    },
}

pub async fn source(app: App, command: SourceCommand) -> Result<()> {
    match command {
        SourceCommand::Add {
            org,
            name,
            format,
            mode,
            missing_students,
            missing_adults,
        } => {
            let who = principal(&app, &org).await?;
            let adults: WhenMissing = missing_adults.parse().map_err(|e| anyhow!("{e}"))?;
            let policy = MissingPolicy {
                student: missing_students.parse().map_err(|e| anyhow!("{e}"))?,
                teacher: adults,
                staff: adults,
                admin: adults,
            };
            let new = NewSource {
                name,
                format,
                mode,
                policy,
            };
            let source = app
                .add_source(&who, new)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("Added source {}", source.name.as_str());
        }
        SourceCommand::List { org } => {
            let who = principal(&app, &org).await?;
            for source in app
                .provisioning_sources(&who)
                .await
                .map_err(|e| anyhow!("{e}"))?
            {
                let policy = source.policy;
                println!(
                    "{:<20} {:<10} {:<6} missing: students {}, teachers {}, staff {}, admins {}{}",
                    source.name.as_str(),
                    source.format.as_str(),
                    source.mode.as_str(),
                    policy.student.as_str(),
                    policy.teacher.as_str(),
                    policy.staff.as_str(),
                    policy.admin.as_str(),
                    if source.paused { "  (paused)" } else { "" }
                );
            }
        }
        SourceCommand::Pause { org, name } => pause(&app, &org, &name, true).await?,
        SourceCommand::Resume { org, name } => pause(&app, &org, &name, false).await?,
    }
    Ok(())
}

/// Pauses a source, or resumes it.
async fn pause(app: &App, org: &str, name: &str, pause: bool) -> Result<()> {
    let who = principal(app, org).await?;
    let source = app
        .set_source_paused(&who, name, pause)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let state = if source.paused { "paused" } else { "resumed" };
    println!("Source {} {state}", source.name.as_str());
    Ok(())
}

/// `rollcall import FILE --source NAME`: previews with `--dry-run`, else applies.
pub async fn import(
    app: App,
    org: &str,
    source: &str,
    file: &PathBuf,
    mode: Option<String>,
    dry_run: bool,
    confirmed: bool,
) -> Result<()> {
    let who = principal(&app, org).await?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mode = mode
        .map(|m| m.parse::<Mode>())
        .transpose()
        .map_err(|e| anyhow!("{e}"))?;
    let request = ImportRequest {
        source: source.to_owned(),
        file_name: file_name(file),
        mode,
        dry_run,
        confirmed,
    };
    let outcome = app
        .import(&who, &request, &bytes)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    match outcome {
        ImportOutcome::Refused(problems) => {
            for problem in &problems {
                eprintln!("{}: {}", file.display(), shown(&problem.to_string()));
            }
            bail!(
                "{} was not imported: {} problem(s), nothing changed",
                file.display(),
                problems.len()
            );
        }
        ImportOutcome::Preview(plan) => {
            print_plan(&plan);
            println!("Dry run: nothing was changed.");
        }
        ImportOutcome::Held(plan) => {
            print_plan(&plan);
            bail!(
                "held, nothing changed: this run would remove {} people at once. Check the file \
                 (a truncated export archives whoever it leaves out), then run it again with \
                 --confirm-mass-removal",
                plan.removals()
            );
        }
        ImportOutcome::Applied(plan) => {
            print_plan(&plan);
            println!("Applied.");
        }
    }
    Ok(())
}

fn print_plan(plan: &Plan) {
    let c = plan.counts();
    println!(
        "created {}, linked {}, updated {}, deactivated {}, reactivated {}, archived {}, \
         restored {}, kept {}, unchanged {}",
        c.created,
        c.linked,
        c.updated,
        c.deactivated,
        c.reactivated,
        c.archived,
        c.restored,
        c.kept,
        c.unchanged
    );
    for item in &plan.items {
        if let Some(what) = item.describe() {
            let line = item
                .line
                .map_or_else(|| "missing".to_owned(), |l| format!("line {l}"));
            println!(
                "  {line:<10} {:<24} {what}",
                shown(item.external_id.as_str())
            );
        }
    }
}

/// The name a file is kept under in a run's history.
fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// The org's import runs, newest first.
    List {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// Only this source's runs.
        #[arg(long)]
        source: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// One run: its counts and its report, line by line.
    Show {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: RunId,
    },
}

pub async fn runs(app: App, command: RunCommand) -> Result<()> {
    match command {
        RunCommand::List { org, source, limit } => {
            let who = principal(&app, &org).await?;
            let runs = app
                .runs(&who, source.as_deref(), limit)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            for run in runs {
                let c = run.counts;
                println!(
                    "{}  {}  {:<8} {:<24} created {}, archived {}, deactivated {}, updated {}  by {}",
                    run.id,
                    run.started_at.format("%Y-%m-%d %H:%M"),
                    run.outcome.as_str(),
                    shown(&run.file_name),
                    c.created,
                    c.archived,
                    c.deactivated,
                    c.updated,
                    shown(&run.actor_label)
                );
            }
        }
        RunCommand::Show { org, id } => {
            let who = principal(&app, &org).await?;
            let run = app.run(&who, id).await.map_err(|e| anyhow!("{e}"))?;
            println!(
                "{} {} ({} run of {}, sha256 {}) by {}, {} to {}",
                run.outcome.as_str(),
                shown(&run.file_name),
                run.mode.as_str(),
                run.source_id,
                run.checksum,
                shown(&run.actor_label),
                run.started_at,
                run.finished_at
            );
            for line in &run.report {
                let at = line
                    .line
                    .map_or_else(|| "missing".to_owned(), |l| format!("line {l}"));
                let who = line.external_id.as_deref().map(shown).unwrap_or_default();
                println!("  {at:<10} {who:<24} {}", shown(&line.what));
            }
        }
    }
    Ok(())
}
