//! Provisioning sources and their import runs: a file is read, planned against the org's users
//! (a preview anyone can read), then applied in one unit of work, all or nothing.

use std::collections::HashMap;
use std::fmt::Write as _;

use rollcall_domain::provisioning::{
    self, Counts, Format, Known, MissingPolicy, Mode, Outcome, Plan, ReportLine, RunRecord,
    Safeguard, Said, SourceSettings,
};
use rollcall_domain::token::sha256_hex;
use rollcall_domain::{
    Actor, AuditAction, RunId, Source, SourceId, User, UserChange, UserId, rules,
};
use rollcall_import::Problem;
use tracing::instrument;

use crate::{App, AppError, Principal, write_change};

/// A new source as typed.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: String,
    pub format: String,
    pub mode: String,
    pub policy: MissingPolicy,
}

/// An import as asked for.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The source's name.
    pub source: String,
    /// The file's name, for the history.
    pub file_name: String,
    /// `full` or `delta` for this run; the source's own when `None`.
    pub mode: Option<Mode>,
    /// Plan and print, change nothing, keep nothing.
    pub dry_run: bool,
    /// Apply even what the safeguard would hold.
    pub confirmed: bool,
}

/// What became of an import.
#[derive(Debug)]
pub enum ImportOutcome {
    /// The file (or a row's match) cannot be applied: every problem, nothing written.
    Refused(Vec<Problem>),
    /// Planned and not applied (a dry run).
    Preview(Plan),
    /// Planned and held, not applied: it would remove more people at once than the safeguard
    /// allows. Kept in the history; applied only when confirmed.
    Held(Plan),
    /// Applied, all of it.
    Applied(Plan),
}

impl App {
    /// Adds a provisioning source to the org.
    pub async fn add_source(
        &self,
        who: &Principal,
        new: NewSource,
    ) -> Result<SourceSettings, AppError> {
        who.require_admin()?;
        let name = Source::parse(&new.name)?;
        if name.is_manual() {
            return Err(AppError::invalid(
                "name",
                "'manual' is how users added by hand are marked; choose another name",
            ));
        }
        let source = SourceSettings {
            id: SourceId::new(),
            org_id: who.org_id,
            name,
            format: new.format.replace('-', "_").parse::<Format>()?,
            mode: new.mode.parse::<Mode>()?,
            policy: new.policy,
            paused: false,
            created_at: self.now(),
        };
        let mut uow = self.store.begin().await?;
        uow.insert_source(&source).await.map_err(|err| match err {
            rollcall_store::StoreError::Conflict { .. } => {
                AppError::invalid("name", "another source of this org has this name")
            }
            other => other.into(),
        })?;
        uow.commit().await?;
        Ok(source)
    }

    pub async fn provisioning_sources(
        &self,
        who: &Principal,
    ) -> Result<Vec<SourceSettings>, AppError> {
        who.require_admin()?;
        Ok(self.store.provisioning_sources(who.org_id).await?)
    }

    pub async fn source(&self, who: &Principal, name: &str) -> Result<SourceSettings, AppError> {
        who.require_admin()?;
        let name = Source::parse(name)?;
        self.store
            .source_by_name(who.org_id, &name)
            .await?
            .ok_or(AppError::NotFound("source"))
    }

    /// Pauses a source (its runs are refused) or resumes it.
    pub async fn set_source_paused(
        &self,
        who: &Principal,
        name: &str,
        paused: bool,
    ) -> Result<SourceSettings, AppError> {
        let source = self.source(who, name).await?;
        let mut uow = self.store.begin().await?;
        if !uow.set_source_paused(who.org_id, source.id, paused).await? {
            return Err(AppError::NotFound("source"));
        }
        uow.commit().await?;
        Ok(SourceSettings { paused, ..source })
    }

    /// Reads `file` as the source's format, plans it, and applies it unless a dry run. A run
    /// removing more people than the [`Safeguard`] allows is held unless confirmed.
    #[instrument(skip_all, fields(org.id = %who.org_id, source = %request.source))]
    pub async fn import(
        &self,
        who: &Principal,
        request: &ImportRequest,
        file: &[u8],
    ) -> Result<ImportOutcome, AppError> {
        let started_at = self.now();
        let source = self.source(who, &request.source).await?;
        if source.paused && !request.dry_run {
            return Err(AppError::invalid(
                "source",
                format!(
                    "'{}' is paused: resume it before importing",
                    source.name.as_str()
                ),
            ));
        }
        let mode = request.mode.unwrap_or(source.mode);
        let record = |outcome, counts, report| RunRecord {
            id: RunId::new(),
            org_id: who.org_id,
            source_id: source.id,
            actor_label: who.actor.label().to_owned(),
            file_name: request.file_name.chars().take(255).collect(),
            checksum: sha256_hex(file),
            mode,
            outcome,
            counts,
            report,
            started_at,
            finished_at: self.now(),
        };
        let rows = match source.format {
            Format::PlainCsv => rollcall_import::plain::read(file),
        };
        let known = match rows {
            Ok(_) => {
                self.store
                    .provisioning_candidates(who.org_id, &source.name)
                    .await?
            }
            Err(_) => Vec::new(),
        };
        let planned = rows.and_then(|rows| {
            provisioning::plan(&source.name, mode, source.policy, &rows, &known)
                .map(|plan| (rows, plan))
                .map_err(|problems| {
                    problems
                        .into_iter()
                        .map(|(line, err)| {
                            Problem::at_line(line, format!("{}: {}", err.field, err.message))
                        })
                        .collect()
                })
        });
        let (rows, plan) = match planned {
            Ok(planned) => planned,
            Err(problems) => {
                if !request.dry_run {
                    let report = problems.iter().map(problem_line).collect();
                    self.keep_unapplied(&record(Outcome::Refused, Counts::default(), report))
                        .await?;
                }
                return Ok(ImportOutcome::Refused(problems));
            }
        };
        if request.dry_run {
            return Ok(ImportOutcome::Preview(plan));
        }
        // Those the source could still remove: its people not archived already.
        let source_users = known
            .iter()
            .filter(|k| k.user.source() == &source.name && !rules::is_archived(k.user.status()))
            .count();
        if !request.confirmed && Safeguard::default().holds(&plan, source_users) {
            self.keep_unapplied(&record(Outcome::Held, plan.counts(), plan.report()))
                .await?;
            tracing::warn!(removals = plan.removals(), source_users, "import run held");
            return Ok(ImportOutcome::Held(plan));
        }
        let run = record(Outcome::Applied, plan.counts(), plan.report());
        let actor = Actor::Source {
            id: source.id,
            label: source.name.as_str().to_owned(),
            run: Some(run.id),
        };
        let (after, changes) = provisioning::apply_in_memory(
            who.org_id,
            &source.name,
            &plan,
            &rows,
            &known,
            &actor,
            self.now(),
        )
        .map_err(|err| AppError::internal("applying an import run", err))?;
        let run = RunRecord {
            finished_at: self.now(),
            ..run
        };
        self.write_run(who, &known, &after, &changes, &run).await?;
        tracing::info!(counts = ?plan.counts(), "import run applied");
        Ok(ImportOutcome::Applied(plan))
    }

    /// Writes a run's changes in one unit of work: users created whole, the others change by
    /// change (each checked against the version planned on), and what the source now says.
    async fn write_run(
        &self,
        who: &Principal,
        before: &[Known],
        after: &[Known],
        changes: &[UserChange],
        run: &RunRecord,
    ) -> Result<(), AppError> {
        let mut created: HashMap<UserId, User> = HashMap::new();
        let mut created_events = Vec::new();
        for change in changes {
            let id = change.user.id();
            if change.event.action == AuditAction::Created || created.contains_key(&id) {
                created.insert(id, change.user.clone());
                created_events.push(change.event.clone());
            }
        }
        let mut uow = self.store.begin().await?;
        let mut new_users: Vec<User> = created.into_values().collect();
        new_users.sort_by_key(User::id);
        uow.insert_users(who.org_id, &new_users).await?;
        uow.record(&created_events).await?;
        let new_ids: std::collections::HashSet<UserId> = new_users.iter().map(User::id).collect();
        for change in changes {
            if new_ids.contains(&change.user.id()) {
                continue;
            }
            write_change(uow.as_mut(), change, change.user.version() - 1, None).await?;
        }
        let was: HashMap<UserId, Option<Said>> =
            before.iter().map(|k| (k.user.id(), k.said)).collect();
        let said: Vec<(UserId, Said)> = after
            .iter()
            .filter_map(|k| {
                let now = k.said?;
                (was.get(&k.user.id()).copied().flatten() != Some(now))
                    .then_some((k.user.id(), now))
            })
            .collect();
        uow.put_said(who.org_id, &said).await?;
        uow.insert_run(run).await?;
        Ok(uow.commit().await?)
    }

    /// Keeps a refused or held run in the history (nothing else was written).
    async fn keep_unapplied(&self, run: &RunRecord) -> Result<(), AppError> {
        let mut uow = self.store.begin().await?;
        uow.insert_run(run).await?;
        Ok(uow.commit().await?)
    }

    /// The org's import runs, newest first (of one source when named), at most `limit`.
    pub async fn runs(
        &self,
        who: &Principal,
        source: Option<&str>,
        limit: u64,
    ) -> Result<Vec<RunRecord>, AppError> {
        who.require_admin()?;
        let source = match source {
            Some(name) => Some(self.source(who, name).await?.id),
            None => None,
        };
        Ok(self.store.runs(who.org_id, source, limit).await?)
    }

    pub async fn run(&self, who: &Principal, id: RunId) -> Result<RunRecord, AppError> {
        who.require_admin()?;
        self.store
            .run(who.org_id, id)
            .await?
            .ok_or(AppError::NotFound("import run"))
    }
}

/// A problem as a line of a run's report.
fn problem_line(problem: &Problem) -> ReportLine {
    let mut what = String::new();
    if let Some(column) = &problem.column {
        what.push_str("column ");
        what.push_str(column);
    }
    if let Some(value) = &problem.value {
        let _ = write!(what, " ({value:?})");
    }
    if !what.is_empty() {
        what.push_str(": ");
    }
    what.push_str(&problem.reason);
    ReportLine {
        line: Some(problem.line),
        external_id: None,
        what,
    }
}
