//! Provisioning sources and their import runs: a file is read, planned against the org's users
//! (a preview anyone can read), then applied in one unit of work, all or nothing.

use std::collections::HashMap;

use rollcall_domain::provisioning::{
    self, Format, Known, MissingPolicy, Mode, Plan, Said, SourceSettings,
};
use rollcall_domain::{Actor, AuditAction, RunId, Source, SourceId, User, UserChange, UserId};
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

/// What became of an import.
#[derive(Debug)]
pub enum ImportOutcome {
    /// The file (or a row's match) cannot be applied: every problem, nothing written.
    Refused(Vec<Problem>),
    /// Planned and not applied (a dry run).
    Preview(Plan),
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

    /// Reads `file` as the source's format, plans it, and applies it unless `dry_run`. `mode`
    /// overrides the source's own for this run.
    #[instrument(skip_all, fields(org.id = %who.org_id, source = %source_name))]
    pub async fn import(
        &self,
        who: &Principal,
        source_name: &str,
        file: &[u8],
        mode: Option<Mode>,
        dry_run: bool,
    ) -> Result<ImportOutcome, AppError> {
        let source = self.source(who, source_name).await?;
        if source.paused && !dry_run {
            return Err(AppError::invalid(
                "source",
                format!(
                    "'{}' is paused: resume it before importing",
                    source.name.as_str()
                ),
            ));
        }
        let rows = match source.format {
            Format::PlainCsv => match rollcall_import::plain::read(file) {
                Ok(rows) => rows,
                Err(problems) => return Ok(ImportOutcome::Refused(problems)),
            },
        };
        let known = self
            .store
            .provisioning_candidates(who.org_id, &source.name)
            .await?;
        let mode = mode.unwrap_or(source.mode);
        let plan = match provisioning::plan(&source.name, mode, source.policy, &rows, &known) {
            Ok(plan) => plan,
            Err(problems) => {
                let problems = problems
                    .into_iter()
                    .map(|(line, err)| {
                        Problem::at_line(line, format!("{}: {}", err.field, err.message))
                    })
                    .collect();
                return Ok(ImportOutcome::Refused(problems));
            }
        };
        if dry_run {
            return Ok(ImportOutcome::Preview(plan));
        }
        let actor = Actor::Source {
            id: source.id,
            label: source.name.as_str().to_owned(),
            run: Some(RunId::new()),
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
        self.write_run(who, &known, &after, &changes).await?;
        let counts = plan.counts();
        tracing::info!(?counts, "import run applied");
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
        for change in changes {
            if new_users.iter().any(|u| u.id() == change.user.id()) {
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
        Ok(uow.commit().await?)
    }
}
