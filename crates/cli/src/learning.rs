//! `rollcall course` and `rollcall credits`: courses written as JSON files (the shape the API
//! takes), enrolments, and the org's credits.

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use rollcall_app::{App, AppError};
use rollcall_domain::learning::{Completion, Course, CourseDraft};
use rollcall_domain::{CourseId, RosterId, UserId};

use crate::commands::principal;

#[derive(Debug, Subcommand)]
pub enum CourseCommand {
    /// List the org's courses.
    List {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
    },
    /// Show a course: its lessons, and its people counted by status.
    Show {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: String,
    },
    /// Add a course written as JSON: `{"title", "description", "credit_cost", "lessons":
    /// [{"title", "body"}], "completion": {"kind": "mark_complete"} | {"kind": "quiz",
    /// "pass_mark", "questions": [{"prompt", "options", "answer"}]}}` (`answer` from 0).
    Add {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        /// The course's JSON file (`-` for standard input).
        file: String,
    },
    /// Rewrite a course from a JSON file; lessons that carry their `id` keep everyone's
    /// progress in them. `rollcall course export ID` prints one to start from.
    Edit {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: String,
        file: String,
    },
    /// Print a course as the JSON `add` and `edit` read.
    Export {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: String,
    },
    /// Retire a course (nobody starts it or opens its lessons; every record stays), or open
    /// it again with `--reopen`.
    Retire {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: String,
        #[arg(long)]
        reopen: bool,
    },
    /// Enrol people: `--everyone` (now and as people join), `--user` (repeatable: username,
    /// e-mail or id) or `--roster` (its members). Archived people are never enrolled;
    /// inactive ones are, without a notice.
    Enrol {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        id: String,
        #[arg(long, conflicts_with_all = ["user", "roster"])]
        everyone: bool,
        #[arg(long)]
        user: Vec<String>,
        #[arg(long, conflicts_with = "user")]
        roster: Option<String>,
        /// The people a segment (by id or name) picks out now, each enrolled as selected.
        #[arg(long, conflicts_with_all = ["user", "roster"])]
        segment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CreditsCommand {
    /// The balance, and what was used per course.
    Show {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
    },
    /// Add credits, with the reason kept in the ledger.
    TopUp {
        #[arg(long, env = "ROLLCALL_ORG")]
        org: String,
        amount: i64,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

fn fail(err: &AppError) -> anyhow::Error {
    let fields = err.fields();
    if fields.is_empty() {
        anyhow!("{}", err.public_message())
    } else {
        let lines: Vec<String> = fields
            .iter()
            .map(|f| format!("  {}: {}", f.field, f.message))
            .collect();
        anyhow!("refused, nothing was changed:\n{}", lines.join("\n"))
    }
}

fn read_draft(file: &str) -> Result<CourseDraft> {
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?
    };
    serde_json::from_str(&text).map_err(|err| {
        anyhow!(
            "{file}: line {}, column {}: {err}",
            err.line(),
            err.column()
        )
    })
}

fn course_id(id: &str) -> Result<CourseId> {
    id.parse().map_err(|_| anyhow!("'{id}' is not a course id"))
}

fn describe(course: &Course) -> String {
    let completion = match &course.completion {
        Completion::MarkComplete => "marked complete".to_owned(),
        Completion::Quiz(q) => format!("quiz of {}, pass at {}%", q.questions.len(), q.pass_mark),
    };
    format!(
        "{}  {}  ({} lessons, {completion}, {} credits{}{})",
        course.id,
        course.title,
        course.lessons.len(),
        course.credit_cost,
        if course.everyone.is_some() {
            ", enrols everyone"
        } else {
            ""
        },
        if course.retired { ", retired" } else { "" },
    )
}

pub async fn course(app: App, command: CourseCommand) -> Result<()> {
    match command {
        CourseCommand::List { org } => {
            let who = principal(&app, &org).await?;
            let courses = app.courses(&who).await.map_err(|e| fail(&e))?;
            if courses.is_empty() {
                eprintln!("No courses yet: add one with `rollcall course add FILE.json`.");
            }
            for course in &courses {
                println!("{}", describe(course));
            }
        }
        CourseCommand::Show { org, id } => {
            let who = principal(&app, &org).await?;
            let summary = app
                .course(&who, course_id(&id)?)
                .await
                .map_err(|e| fail(&e))?;
            println!("{}", describe(&summary.course));
            for (i, lesson) in summary.course.lessons.iter().enumerate() {
                println!("  lesson {}: {} ({})", i + 1, lesson.title, lesson.id);
            }
            for (status, tally) in &summary.tally {
                println!(
                    "  {:<9} enrolled {:>7}  started {:>7}  completed {:>7}",
                    status.as_str(),
                    tally.enrolled,
                    tally.started,
                    tally.completed
                );
            }
        }
        CourseCommand::Add { org, file } => {
            let who = principal(&app, &org).await?;
            let course = app
                .create_course(&who, read_draft(&file)?)
                .await
                .map_err(|e| fail(&e))?;
            println!("{}", describe(&course));
        }
        CourseCommand::Edit { org, id, file } => {
            let who = principal(&app, &org).await?;
            let course = app
                .edit_course(&who, course_id(&id)?, None, read_draft(&file)?)
                .await
                .map_err(|e| fail(&e))?;
            println!("{}", describe(&course));
        }
        CourseCommand::Export { org, id } => {
            let who = principal(&app, &org).await?;
            let summary = app
                .course(&who, course_id(&id)?)
                .await
                .map_err(|e| fail(&e))?;
            println!("{}", serde_json::to_string_pretty(&summary.course.draft())?);
        }
        CourseCommand::Retire { org, id, reopen } => {
            let who = principal(&app, &org).await?;
            let course = app
                .retire_course(&who, course_id(&id)?, !reopen)
                .await
                .map_err(|e| fail(&e))?;
            println!("{}", describe(&course));
        }
        CourseCommand::Enrol {
            org,
            id,
            everyone,
            user,
            roster,
            segment,
        } => {
            enrol(
                &app,
                &org,
                &id,
                everyone,
                &user,
                (roster.as_deref(), segment.as_deref()),
            )
            .await?;
        }
    }
    Ok(())
}

async fn enrol(
    app: &App,
    org: &str,
    id: &str,
    everyone: bool,
    users: &[String],
    (roster, segment): (Option<&str>, Option<&str>),
) -> Result<()> {
    let who = principal(app, org).await?;
    let id = course_id(id)?;
    let done = if everyone {
        app.enrol_everyone(&who, id).await
    } else if let Some(wanted) = segment {
        let segments = app.segments(&who).await.map_err(|e| fail(&e))?;
        let found = segments
            .iter()
            .find(|s| s.record.id.to_string() == wanted)
            .or_else(|| {
                segments
                    .iter()
                    .find(|s| s.record.name.to_lowercase() == wanted.to_lowercase())
            })
            .ok_or_else(|| anyhow!("no segment is called or numbered '{wanted}'"))?;
        app.enrol_segment(&who, id, found.record.id).await
    } else if let Some(roster) = roster {
        let roster: RosterId = roster
            .parse()
            .map_err(|_| anyhow!("'{roster}' is not a roster id"))?;
        app.enrol_roster(&who, id, roster).await
    } else if users.is_empty() {
        return Err(anyhow!(
            "say whom: --everyone, --user LOGIN (repeatable), --roster ID or --segment NAME"
        ));
    } else {
        let mut ids: Vec<UserId> = Vec::with_capacity(users.len());
        for login in users {
            let user = app.find_user(&who, login).await.map_err(|e| fail(&e))?;
            ids.push(user.id());
        }
        app.enrol_selected(&who, id, &ids).await
    }
    .map_err(|e| fail(&e))?;
    println!("{} newly enrolled", done.enrolled);
    Ok(())
}

pub async fn credits(app: App, command: CreditsCommand) -> Result<()> {
    match command {
        CreditsCommand::Show { org } => {
            let who = principal(&app, &org).await?;
            let credits = app.credits(&who).await.map_err(|e| fail(&e))?;
            println!("{} credits left", credits.balance);
            for (used, title) in &credits.by_course {
                println!(
                    "  {:>7} used by {:>6} first starts of {}",
                    used.credits,
                    used.starts,
                    title.as_deref().unwrap_or("(a removed course)")
                );
            }
        }
        CreditsCommand::TopUp {
            org,
            amount,
            reason,
        } => {
            let who = principal(&app, &org).await?;
            let entry = app
                .top_up(&who, amount, &reason)
                .await
                .map_err(|e| fail(&e))?;
            println!(
                "{} credits added; {} left",
                entry.amount, entry.balance_after
            );
        }
    }
    Ok(())
}
