//! `rollcall source …` and `rollcall import`: provisioning sources and their runs.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use rollcall_app::{App, ImportOutcome, NewSource};
use rollcall_domain::provisioning::{Item, Kept, MissingPolicy, Mode, Plan, Step, WhenMissing};

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
) -> Result<()> {
    let who = principal(&app, org).await?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mode = mode
        .map(|m| m.parse::<Mode>())
        .transpose()
        .map_err(|e| anyhow!("{e}"))?;
    let outcome = app
        .import(&who, source, &bytes, mode, dry_run)
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
        if let Some(what) = describe(item) {
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

/// What a run does to one person, in words; nothing for someone it leaves as they are.
fn describe(item: &Item) -> Option<String> {
    let mut words: Vec<String> = item
        .steps
        .iter()
        .map(|step| match step {
            Step::Create => "create".to_owned(),
            Step::Link { by } => format!("link (matched by {by:?})").to_lowercase(),
            Step::Update { fields } => format!("update {}", fields.join(", ")),
            Step::Status { to, because } => {
                format!("{to} ({})", format!("{because:?}").to_lowercase())
            }
        })
        .collect();
    match item.kept {
        Some(Kept::PreventArchiving) => words.push("kept: prevent archiving is set".to_owned()),
        Some(Kept::Policy) => {
            words.push("kept: the org keeps missing users of this role".to_owned());
        }
        Some(Kept::AdminDecision) => words.push("kept: an admin's decision stands".to_owned()),
        None => {}
    }
    (!words.is_empty()).then(|| words.join("; "))
}
