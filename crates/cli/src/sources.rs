//! `rollcall source …` and `rollcall import`: provisioning sources and their runs.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use rollcall_app::{App, ImportOutcome, ImportRequest, NewSource, Principal, SettingsChange};
use rollcall_domain::provisioning::{MissingPolicy, Mode, Outcome, Plan, RunRecord, WhenMissing};
use rollcall_domain::roster::RosterChanges;
use rollcall_domain::{RunId, UserId};

use crate::commands::{principal, shown};

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Add a provisioning source.
    Add {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The name its users carry as their source, like `sis` or `hr-feed`.
        name: String,
        /// The files it reads: `plain-csv` (docs/formats/plain-csv.md) or `oneroster`
        /// (OneRoster 1.1 or 1.2 packages, zipped or as a folder: docs/formats/oneroster.md).
        #[arg(long, default_value = "plain-csv")]
        format: String,
        /// `full` (people a run no longer lists are handled by the policy) or `delta`.
        #[arg(long, default_value = "full")]
        mode: String,
        /// What happens to missing students: archive, deactivate or keep.
        #[arg(long, default_value = "archive")]
        missing_students: String,
        /// What happens to missing teachers, staff and admins (each unless set below).
        #[arg(long, default_value = "keep")]
        missing_adults: String,
        /// What happens to missing teachers (default: as `--missing-adults`).
        #[arg(long)]
        missing_teachers: Option<String>,
        /// What happens to missing staff (default: as `--missing-adults`).
        #[arg(long)]
        missing_staff: Option<String>,
        /// What happens to missing admins (default: as `--missing-adults`).
        #[arg(long)]
        missing_admins: Option<String>,
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
    /// Name the folder `rollcall serve` watches for the source's files (as SFTP delivers
    /// them): each new complete file is imported once and moved to `processed/` with its
    /// outcome. `--stop` stops watching.
    Watch {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        name: String,
        /// An absolute path on the server.
        #[arg(required_unless_present = "stop")]
        folder: Option<String>,
        #[arg(long, conflicts_with = "folder")]
        stop: bool,
    },
    /// Show or set the org's safeguard, for all its sources: a run that would deactivate or
    /// archive more than PERCENT of a source's people, and at least FLOOR of them, is held
    /// for an admin's approval.
    Safeguard {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
        percent: Option<u32>,
        #[arg(long)]
        floor: Option<usize>,
        /// Apply a held run's creates, links, updates and reactivations at once, holding only
        /// its removals (`true`), or hold the whole run (`false`, the default).
        #[arg(long)]
        apply_rest_when_held: Option<bool>,
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
            missing_teachers,
            missing_staff,
            missing_admins,
        } => {
            let who = principal(&app, &org).await?;
            let parse = |raw: &str| raw.parse::<WhenMissing>().map_err(|e| anyhow!("{e}"));
            let adult = |raw: Option<String>| parse(raw.as_deref().unwrap_or(&missing_adults));
            let policy = MissingPolicy {
                student: parse(&missing_students)?,
                teacher: adult(missing_teachers)?,
                staff: adult(missing_staff)?,
                admin: adult(missing_admins)?,
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
                if let Some(folder) = &source.drop_folder {
                    println!("{:<20} watches {}", "", shown(folder));
                }
            }
        }
        SourceCommand::Safeguard {
            org,
            percent,
            floor,
            apply_rest_when_held,
        } => {
            let change = SettingsChange {
                safeguard_percent: percent,
                safeguard_floor: floor,
                apply_rest_when_held,
            };
            safeguard(&app, &org, change).await?;
        }
        SourceCommand::Watch {
            org,
            name,
            folder,
            stop,
        } => watch(&app, &org, &name, if stop { None } else { folder }).await?,
        SourceCommand::Pause { org, name } => pause(&app, &org, &name, true).await?,
        SourceCommand::Resume { org, name } => pause(&app, &org, &name, false).await?,
    }
    Ok(())
}

/// Shows the org's safeguard, or sets what `change` names.
async fn safeguard(app: &App, org: &str, change: SettingsChange) -> Result<()> {
    let who = principal(app, org).await?;
    let settings = if change.safeguard_percent.is_none()
        && change.safeguard_floor.is_none()
        && change.apply_rest_when_held.is_none()
    {
        app.provisioning_settings(&who).await
    } else {
        app.set_provisioning_settings(&who, change).await
    }
    .map_err(|e| anyhow!("{e}"))?;
    println!(
        "A run is held when it would remove more than {}% of a source's people and at least \
         {}; {}.",
        settings.safeguard.percent,
        settings.safeguard.floor,
        if settings.apply_rest_when_held {
            "the rest of a held run is applied at once"
        } else {
            "a held run waits whole"
        }
    );
    Ok(())
}

/// Names the folder `rollcall serve` watches for the source's files, or stops watching.
async fn watch(app: &App, org: &str, name: &str, folder: Option<String>) -> Result<()> {
    let who = principal(app, org).await?;
    let source = app
        .set_drop_folder(&who, name, folder.as_deref())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    match &source.drop_folder {
        Some(folder) => println!(
            "rollcall serve watches {} for {}'s files",
            shown(folder),
            source.name.as_str()
        ),
        None => println!("{} has no drop folder", source.name.as_str()),
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
    // A OneRoster package delivered as a folder is zipped as it is read.
    let bytes = if file.is_dir() {
        rollcall_import::oneroster::pack_folder(file)
    } else {
        std::fs::read(file)
    }
    .with_context(|| format!("reading {}", file.display()))?;
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
        .import(&who, &request, bytes.into())
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
        ImportOutcome::Held { run, plan, rest } => {
            print_plan(&plan);
            if let Some(rest) = rest {
                println!(
                    "Applied at once: created {}, linked {}, updated {}, reactivated {}, \
                     restored {}.",
                    rest.created, rest.linked, rest.updated, rest.reactivated, rest.restored
                );
            }
            bail!(
                "held for approval as run {run}: it would remove {} at once, and nothing \
                 of that was changed. Check the file (a truncated export archives whoever it \
                 leaves out), then `rollcall runs approve --org {org} {run}` (with --exclude \
                 USER_ID for anyone to keep) or `rollcall runs reject --org {org} {run}`",
                match plan.removals() {
                    1 => "1 person".to_owned(),
                    n => format!("{n} people"),
                },
                org = shown(org),
            );
        }
        ImportOutcome::Applied { run, plan } => {
            print_plan(&plan);
            print_classes(&app, &who, run, false).await?;
            println!("Applied as run {run}.");
        }
    }
    Ok(())
}

fn print_plan(plan: &Plan) {
    let c = plan.counts();
    println!(
        "created {}, linked {}, updated {}, deactivated {}, reactivated {}, archived {}, \
         restored {}, kept {}, unchanged {}, skipped {}",
        c.created,
        c.linked,
        c.updated,
        c.deactivated,
        c.reactivated,
        c.archived,
        c.restored,
        c.kept,
        c.unchanged,
        c.skipped
    );
    for note in &plan.notes {
        println!("  note: {}", shown(note));
    }
    let classes = plan
        .classes
        .as_ref()
        .map(RosterChanges::summary)
        .unwrap_or_default();
    if !classes.is_empty() {
        println!("In its classes: {classes}.");
    }
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
    for line in &plan.skipped {
        let at = line.line.map_or_else(String::new, |l| format!("line {l}"));
        let who = line.external_id.as_deref().map(shown).unwrap_or_default();
        println!("  {at:<10} {who:<24} {}", shown(&line.what));
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
    /// Approve a held run: its file is planned again and applied, except the removals of the
    /// users excluded.
    Approve {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: RunId,
        /// A user (by id, as `runs show` lists them) whose removal is not approved: they stay
        /// as they are, and the source leaves them be. Repeatable.
        #[arg(long = "exclude")]
        excluded: Vec<UserId>,
    },
    /// Reject a held run: nothing of it is applied.
    Reject {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: RunId,
    },
    /// Undo an applied run: statuses back, users it created archived, links undone. Users
    /// changed since the run are left as they are, and listed.
    Undo {
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
                .run_history(&who, source.as_deref(), limit)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            for run in runs {
                let c = run.counts;
                // An applied run taken back reads as such, as on its console page.
                let outcome = match run.undone {
                    Some(_) => "undone",
                    None => run.outcome.as_str(),
                };
                println!(
                    "{}  {}  {:<8} {:<24} created {}, archived {}, deactivated {}, updated {}  by {}",
                    run.id,
                    run.started_at.format("%Y-%m-%d %H:%M"),
                    outcome,
                    shown(&run.file_name),
                    c.created,
                    c.archived,
                    c.deactivated,
                    c.updated,
                    shown(&run.actor_label)
                );
            }
        }
        RunCommand::Show { org, id } => show_run(&app, &org, id).await?,
        RunCommand::Approve { org, id, excluded } => {
            let who = principal(&app, &org).await?;
            match app
                .approve_run(&who, id, &excluded)
                .await
                .map_err(|e| anyhow!("{e}"))?
            {
                ImportOutcome::Applied { plan, .. } => {
                    print_plan(&plan);
                    println!("Approved and applied run {id}.");
                }
                ImportOutcome::Refused(problems) => {
                    for problem in &problems {
                        eprintln!("{}", shown(&problem.to_string()));
                    }
                    bail!(
                        "run {id} no longer applies to the org as it is now: {} problem(s); it \
                         stays held and nothing changed",
                        problems.len()
                    );
                }
                other => bail!("unexpected outcome of an approval: {other:?}"),
            }
        }
        RunCommand::Reject { org, id } => {
            let who = principal(&app, &org).await?;
            app.reject_run(&who, id).await.map_err(|e| anyhow!("{e}"))?;
            println!("Rejected run {id}: nothing of it was applied.");
        }
        RunCommand::Undo { org, id } => {
            let who = principal(&app, &org).await?;
            let undo = app.undo_run(&who, id).await.map_err(|e| anyhow!("{e}"))?;
            let people = if undo.reverted == 1 {
                "person"
            } else {
                "people"
            };
            println!("Undid run {id}: {} {people} put back.", undo.reverted);
            if undo.rosters_reverted > 0 {
                println!(
                    "Roster changes taken back (classes, members): {}.",
                    undo.rosters_reverted
                );
            }
            if undo.rosters_unrecorded {
                println!(
                    "Classes left as they are: this run was applied before runs kept their class \
                     changes."
                );
            }
            if undo.rosters_left_alone > 0 {
                println!(
                    "Roster changes left as they are, changed since the run: {}.",
                    undo.rosters_left_alone
                );
            }
            if !undo.left_alone.is_empty() {
                println!(
                    "Left as they are, changed since the run ({}):",
                    undo.left_alone.len()
                );
                for user in &undo.left_alone {
                    println!("  {}  {}", user.id(), shown(&user.display_name()));
                }
            }
        }
    }
    Ok(())
}

/// What an applied run changed in classes (OneRoster packages), when it changed anything; for
/// a held run, what approving it would change.
async fn print_classes(app: &App, who: &Principal, run: RunId, held: bool) -> Result<()> {
    let made = app
        .run_roster_changes(who, run)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let summary = made
        .as_ref()
        .map(RosterChanges::summary)
        .unwrap_or_default();
    if !summary.is_empty() {
        let when = if held { "If approved, in" } else { "In" };
        println!("{when} its classes: {summary}.");
    }
    Ok(())
}

/// `runs show`: the run, its source by name, and what it did to classes.
async fn show_run(app: &App, org: &str, id: RunId) -> Result<()> {
    let who = principal(app, org).await?;
    let mut run = app.run(&who, id).await.map_err(|e| anyhow!("{e}"))?;
    app.identify_created(&who, &mut run, usize::MAX)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let sources = app
        .provisioning_sources(&who)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let source = sources.iter().find(|s| s.id == run.source_id);
    print_run(
        &run,
        source.map_or("a source since removed", |s| s.name.as_str()),
    );
    print_classes(app, &who, id, run.outcome == Outcome::Held).await
}

fn print_run(run: &RunRecord, source: &str) {
    println!(
        "{} {} ({} run of {}, sha256 {}) by {}, {} to {}",
        run.outcome.as_str(),
        shown(&run.file_name),
        run.mode.as_str(),
        shown(source),
        run.checksum,
        shown(&run.actor_label),
        run.started_at,
        run.finished_at
    );
    if let Some(decided) = &run.decided {
        println!(
            "{} by {} at {}",
            run.outcome.as_str(),
            shown(&decided.by),
            decided.at
        );
    }
    if let Some(undone) = &run.undone {
        println!("undone by {} at {}", shown(&undone.by), undone.at);
    }
    for note in &run.notes {
        println!("  note: {}", shown(note));
    }
    for line in &run.report {
        let at = line
            .line
            .map_or_else(|| "missing".to_owned(), |l| format!("line {l}"));
        let who = line.external_id.as_deref().map(shown).unwrap_or_default();
        let user = line.user_id.map(|id| id.to_string()).unwrap_or_default();
        println!("  {at:<10} {who:<24} {user:<36} {}", shown(&line.what));
    }
}
