//! Import runs: a file is read and planned, then applied, held or refused. A held run waits
//! for an admin to approve it (with exclusions) or reject it; an applied run can be undone.
//! Every write of a run happens in one unit of work, all or nothing.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use rollcall_domain::provisioning::{
    self, Applied, Counts, Decision, Format, Mode, OrgsSent, Outcome, Plan, ReportLine, Roll, Row,
    RunRecord, SourceOrg, SourceSettings, Wanted,
};
use rollcall_domain::roster::{
    Enrolment, EnrolmentChange, Roster, RosterChanges, RosterState, RosterWrite, SentEnrolment,
    enrolments_written, undo_classes,
};
use rollcall_domain::token::sha256_hex;
use rollcall_domain::{Actor, AuditAction, RosterId, RunId, User, UserChange, UserId, rules};
use rollcall_import::{ClassRow, Problem, Read, RosterSet};
use rollcall_store::UnitOfWork;
use tracing::instrument;

use crate::{App, AppError, Principal, write_changes};

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

/// What became of an import (or of approving a held one).
#[derive(Debug)]
pub enum ImportOutcome {
    /// The file (or a row's match) cannot be applied: every problem, nothing written.
    Refused(Vec<Problem>),
    /// Planned and not applied (a dry run).
    Preview(Plan),
    /// Planned and held: it would remove more people at once than the safeguard allows. Kept
    /// in the history with its file until an admin approves or rejects it. `rest` is what was
    /// applied at once when the org applies a held run's creates and updates without waiting.
    Held {
        run: RunId,
        plan: Plan,
        rest: Option<Counts>,
    },
    /// Applied, all of it.
    Applied { run: RunId, plan: Plan },
}

/// What undoing a run did.
#[derive(Debug)]
pub struct Undo {
    pub run: RunRecord,
    /// How many people were put back.
    pub reverted: usize,
    /// People changed since the run, left as they are.
    pub left_alone: Vec<User>,
    /// How many of the run's roster changes (classes made, changed or removed; members who
    /// joined or left) were taken back.
    pub rosters_reverted: usize,
    /// Roster changes left as they are: changed again since the run.
    pub rosters_left_alone: usize,
    /// The run was applied before runs kept their class changes: its classes are left as they
    /// are.
    pub rosters_unrecorded: bool,
}

/// A file read and planned against the org as it was.
struct Planned {
    /// Full or delta: as the file says, else as asked, else the source's.
    mode: Mode,
    /// How many of the source's people it could still remove (those not archived already).
    source_users: usize,
    /// The source's people before the run, narrow, and which of them the file sent as before:
    /// the file is read again through it when the plan is written, and classes name their
    /// members by external id.
    roll: Arc<Roll>,
    plan: Plan,
    /// Classes and their members, when the file sends them.
    rosters: Option<RosterSet>,
    /// The orgs the source's earlier packages named, the file was read with (and is read
    /// again with), and those the file sends, for the source to keep.
    orgs: (Arc<Vec<SourceOrg>>, Option<OrgsSent>),
    /// The file, read again when the plan is written, unless `rows` holds what it sent.
    file: Bytes,
    /// The rows the file sent that were not sent as before, when they fit in [`KEPT_PARTS`]
    /// parts (as in a nightly file that changes a few people): the plan is written from them without
    /// reading the file again.
    rows: Option<Vec<Row>>,
    /// The version of each user the plan was made on: the plan is written only to users
    /// still at it.
    versions: HashMap<UserId, i64>,
}

impl Planned {
    /// The plan alone: the roll is let go here.
    fn into_plan(self) -> Plan {
        self.plan
    }
}

impl App {
    /// Reads `file` as the source's format, plans it, and applies it unless a dry run. A run
    /// removing more people than the org's safeguard allows is held unless confirmed.
    #[instrument(skip_all, fields(org.id = %who.org_id, source = %request.source))]
    pub async fn import(
        &self,
        who: &Principal,
        request: &ImportRequest,
        file: Bytes,
    ) -> Result<ImportOutcome, AppError> {
        let started_at = self.now();
        let mut laps = Laps::start();
        let source = self.source(who, &request.source).await?;
        refuse_files(&source)?;
        if !request.dry_run {
            refuse_paused(&source)?;
        }
        // Its counts and notes are the plan's, when there is one.
        let record = |mode, outcome, plan: Option<&Plan>, report| RunRecord {
            id: RunId::new(),
            org_id: who.org_id,
            source_id: source.id,
            actor_label: who.actor.label().to_owned(),
            file_name: request.file_name.chars().take(255).collect(),
            checksum: sha256_hex(&file),
            mode,
            outcome,
            counts: plan.map(Plan::counts).unwrap_or_default(),
            report,
            notes: plan.map(|plan| plan.notes.clone()).unwrap_or_default(),
            started_at,
            finished_at: self.now(),
            decided: None,
            undone: None,
        };
        let planned = match self.plan_file(who, &source, request.mode, &file).await? {
            Ok(planned) => planned,
            Err(problems) => {
                if !request.dry_run {
                    let report = problems.iter().map(problem_line).collect();
                    let mode = request.mode.unwrap_or(source.mode);
                    let run = record(mode, Outcome::Refused, None, report);
                    let mut uow = self.store.begin().await?;
                    uow.insert_run(&run).await?;
                    uow.commit().await?;
                }
                return Ok(ImportOutcome::Refused(problems));
            }
        };
        if request.dry_run {
            return self.preview(who, &source, planned).await;
        }
        let settings = self.store.provisioning_settings(who.org_id).await?;
        let source_users = planned.source_users;
        if !request.confirmed && settings.safeguard.holds(&planned.plan, source_users) {
            let apply_rest = settings.apply_rest_when_held;
            return self
                .hold(who, &source, planned, &file, apply_rest, record)
                .await;
        }
        let run = record(
            planned.mode,
            Outcome::Applied,
            Some(&planned.plan),
            Vec::new(),
        );
        laps.lap("planned");
        let mut uow = self.store.begin().await?;
        self.write_plan(uow.as_mut(), who, &source, &planned, &planned.plan, run.id)
            .await?;
        // The report is written once the roll is let go, a part at a time: a first run of a
        // million rows never holds a million lines.
        let plan = planned.into_plan();
        let run = RunRecord {
            finished_at: self.now(),
            ..run
        };
        uow.insert_run(&run).await?;
        for lines in plan.report_in_parts(self.import_part) {
            uow.add_report_lines(who.org_id, run.id, &lines).await?;
        }
        uow.commit().await?;
        laps.lap("applied");
        tracing::info!(counts = ?run.counts, %laps, "import run applied");
        Ok(ImportOutcome::Applied { run: run.id, plan })
    }

    /// Approves a held run: its file is planned again against the org as it is now, and
    /// applied, except the removals of `excluded` (the source remembers them as gone, so the
    /// next run leaves them be) and any removal that was not in the run the admin saw. When the
    /// file no longer applies (someone changed since), the run stays held and the problems are
    /// returned.
    #[instrument(skip_all, fields(org.id = %who.org_id, run.id = %id))]
    pub async fn approve_run(
        &self,
        who: &Principal,
        id: RunId,
        excluded: &[UserId],
    ) -> Result<ImportOutcome, AppError> {
        let held = self.held_run(who, id, "approved").await?;
        let source = self.source_by_id(who, held.source_id).await?;
        refuse_paused(&source)?;
        let later = self
            .store
            .runs(who.org_id, Some(source.id), 1_000, false)
            .await?
            .into_iter()
            .find(|run| run.outcome == Outcome::Applied && run.started_at > held.started_at);
        if let Some(later) = later {
            return Err(AppError::conflict(
                "run",
                format!(
                    "a later file of this source ({}, {}) was applied since this run was held: \
                     approving this one would undo what that one did; reject it",
                    later.file_name,
                    later.started_at.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        let seen: HashSet<UserId> = held
            .report
            .iter()
            .filter(|line| line.removal)
            .filter_map(|line| line.user_id)
            .collect();
        if let Some(stranger) = excluded.iter().find(|id| !seen.contains(id)) {
            return Err(AppError::invalid(
                "excluded",
                format!("user {stranger} is not among the removals of this run"),
            ));
        }
        let file = self
            .store
            .held_file(who.org_id, id)
            .await?
            .map(Bytes::from)
            .ok_or_else(|| AppError::conflict("run", "this held run's file is gone"))?;
        let planned = match self.plan_file(who, &source, Some(held.mode), &file).await? {
            Ok(planned) => planned,
            Err(problems) => return Ok(ImportOutcome::Refused(problems)),
        };
        let excluded: HashSet<UserId> = excluded.iter().copied().collect();
        let plan = planned.plan.clone().approved(&seen, &excluded);
        let now = self.now();
        let run = RunRecord {
            outcome: Outcome::Applied,
            counts: plan.counts(),
            report: plan.report(),
            finished_at: now,
            decided: Some(Decision {
                by: who.actor.label().to_owned(),
                at: now,
            }),
            ..held
        };
        let mut uow = self.store.begin().await?;
        self.write_plan(uow.as_mut(), who, &source, &planned, &plan, id)
            .await?;
        decided_first(uow.update_run(&run, Outcome::Held).await?)?;
        uow.delete_held_file(who.org_id, id).await?;
        uow.commit().await?;
        tracing::info!(counts = ?run.counts, excluded = excluded.len(), "held run approved");
        Ok(ImportOutcome::Applied { run: id, plan })
    }

    /// Holds a run the safeguard stops: its file is kept for approval, with what it would do
    /// to classes; the rest of it (all but its removals) is applied now when `apply_rest`.
    async fn hold(
        &self,
        who: &Principal,
        source: &SourceSettings,
        planned: Planned,
        file: &Bytes,
        apply_rest: bool,
        record: impl Fn(Mode, Outcome, Option<&Plan>, Vec<ReportLine>) -> RunRecord,
    ) -> Result<ImportOutcome, AppError> {
        // What it would do to classes, as the preview says it, before any of it is written.
        let classes = self.classes_of(who, source, &planned).await?;
        let mut uow = self.store.begin().await?;
        let mut rest_counts = None;
        if apply_rest {
            let rest = planned.plan.without_removals();
            let run = record(planned.mode, Outcome::Applied, Some(&rest), rest.report());
            self.write_plan(uow.as_mut(), who, source, &planned, &rest, run.id)
                .await?;
            uow.insert_run(&run).await?;
            rest_counts = Some(run.counts);
        }
        // Made after the rest's run: the held one comes first in the history.
        let report = planned.plan.report();
        let held = record(planned.mode, Outcome::Held, Some(&planned.plan), report);
        uow.insert_run(&held).await?;
        uow.put_held_file(who.org_id, held.id, file).await?;
        // What approving would do to classes, for the run's page: unless the rest of the
        // run, classes with it, was applied now.
        if let (Some(classes), false) = (&classes, apply_rest) {
            uow.put_run_roster_changes(who.org_id, held.id, classes)
                .await?;
        }
        uow.commit().await?;
        tracing::warn!(
            removals = planned.plan.removals(),
            source_users = planned.source_users,
            "import run held for approval"
        );
        Ok(ImportOutcome::Held {
            run: held.id,
            plan: Plan {
                classes,
                ..planned.plan
            },
            rest: rest_counts,
        })
    }

    /// Rejects a held run: nothing of it is ever applied.
    pub async fn reject_run(&self, who: &Principal, id: RunId) -> Result<RunRecord, AppError> {
        let held = self.held_run(who, id, "rejected").await?;
        let now = self.now();
        let run = RunRecord {
            outcome: Outcome::Rejected,
            decided: Some(Decision {
                by: who.actor.label().to_owned(),
                at: now,
            }),
            ..held
        };
        let mut uow = self.store.begin().await?;
        decided_first(uow.update_run(&run, Outcome::Held).await?)?;
        uow.delete_held_file(who.org_id, id).await?;
        uow.delete_run_roster_changes(who.org_id, id).await?;
        uow.commit().await?;
        Ok(run)
    }

    /// Undoes an applied run: statuses go back to what they were, whom it created is archived,
    /// whom it linked goes back to how they were managed. People changed since are left alone
    /// and listed.
    #[instrument(skip_all, fields(org.id = %who.org_id, run.id = %id))]
    pub async fn undo_run(&self, who: &Principal, id: RunId) -> Result<Undo, AppError> {
        let run = self.run(who, id).await?;
        if run.outcome != Outcome::Applied {
            return Err(AppError::conflict(
                "run",
                format!(
                    "this run was {}, not applied: there is nothing to undo",
                    run.outcome.as_str()
                ),
            ));
        }
        if let Some(undone) = &run.undone {
            return Err(AppError::conflict(
                "run",
                format!("this run was already undone by {}", undone.by),
            ));
        }
        let source = self.source_by_id(who, run.source_id).await?;
        let touches = self.store.run_touches(who.org_id, id).await?;
        let c = run.counts;
        let changed =
            c.created + c.linked + c.deactivated + c.reactivated + c.archived + c.restored;
        if touches.is_empty() && changed > 0 {
            return Err(AppError::conflict(
                "run",
                "this run was applied before Rollcall kept what undoing a run needs; change \
                 its people back by hand or with a new file",
            ));
        }
        let theirs = Wanted {
            ids: touches.iter().map(|touch| touch.user).collect(),
            ..Wanted::default()
        };
        let current: HashMap<UserId, User> = self
            .store
            .provisioning_known(who.org_id, &theirs)
            .await?
            .into_iter()
            .map(|k| (k.user.id(), k.user))
            .collect();
        let undone = provisioning::undo(
            &touches,
            &current,
            &source_actor(&source, id),
            who.actor.label(),
            self.now(),
        )
        .map_err(|err| AppError::internal("undoing an import run", err))?;
        let now = self.now();
        let run = RunRecord {
            undone: Some(Decision {
                by: who.actor.label().to_owned(),
                at: now,
            }),
            ..run
        };
        let roster_changes = self.store.run_roster_changes(who.org_id, id).await?;
        let mut uow = self.store.begin().await?;
        claim(uow.as_mut(), &source).await?;
        let changed: Vec<&UserChange> = undone.changes.iter().collect();
        write_changes(uow.as_mut(), &changed).await?;
        let (rosters_reverted, rosters_left_alone, rosters_unrecorded) =
            undo_rosters_of(uow.as_mut(), &source, roster_changes).await?;
        let said: Vec<_> = undone
            .said
            .iter()
            .filter_map(|&(user, said)| Some((user, said?)))
            .collect();
        let forgotten: Vec<UserId> = undone
            .said
            .iter()
            .filter(|(_, said)| said.is_none())
            .map(|&(user, _)| user)
            .collect();
        uow.put_said(who.org_id, &said).await?;
        uow.forget_said(who.org_id, &forgotten).await?;
        decided_first(uow.update_run(&run, Outcome::Applied).await?)?;
        uow.commit().await?;
        let left_alone = undone
            .left_alone
            .iter()
            .filter_map(|id| current.get(id).cloned())
            .collect();
        tracing::info!(
            reverted = undone.reverted,
            roster_changes_reverted = rosters_reverted,
            "import run undone"
        );
        Ok(Undo {
            run,
            reverted: undone.reverted,
            left_alone,
            rosters_reverted,
            rosters_left_alone,
            rosters_unrecorded,
        })
    }

    /// What an applied run changed in its source's classes, as kept for its undo (none for a
    /// run of a plain file, or one applied before runs kept them); what a held run would
    /// change, as worked out when it was held.
    pub async fn run_roster_changes(
        &self,
        who: &Principal,
        id: RunId,
    ) -> Result<Option<RosterChanges>, AppError> {
        who.require_admin()?;
        Ok(self.store.run_roster_changes(who.org_id, id).await?)
    }

    /// The titles of the classes `changes` name: as the org's classes are now, or as the run
    /// left them (a class it removed is the org's no longer).
    pub async fn class_titles(
        &self,
        who: &Principal,
        changes: &RosterChanges,
    ) -> Result<HashMap<RosterId, String>, AppError> {
        who.require_admin()?;
        let mut titles: HashMap<RosterId, String> = changes
            .created
            .iter()
            .chain(changes.deleted.iter())
            .chain(changes.updated.iter().map(|(_, after)| after))
            .map(|r| (r.id, r.title.clone()))
            .collect();
        let named: HashSet<RosterId> = changes
            .joined
            .iter()
            .chain(changes.left.iter())
            .map(|s| s.roster)
            .filter(|id| !titles.contains_key(id))
            .collect();
        if !named.is_empty() {
            let now = self.store.rosters(who.org_id).await?;
            titles.extend(
                now.into_iter()
                    .filter(|r| named.contains(&r.id))
                    .map(|r| (r.id, r.title)),
            );
        }
        Ok(titles)
    }

    /// The org's import runs, newest first (of one source when named), at most `limit`, with
    /// their reports.
    pub async fn runs(
        &self,
        who: &Principal,
        source: Option<&str>,
        limit: u64,
    ) -> Result<Vec<RunRecord>, AppError> {
        self.listed_runs(who, source, limit, true).await
    }

    /// The org's import runs as a history lists them: without their reports.
    pub async fn run_history(
        &self,
        who: &Principal,
        source: Option<&str>,
        limit: u64,
    ) -> Result<Vec<RunRecord>, AppError> {
        self.listed_runs(who, source, limit, false).await
    }

    async fn listed_runs(
        &self,
        who: &Principal,
        source: Option<&str>,
        limit: u64,
        reports: bool,
    ) -> Result<Vec<RunRecord>, AppError> {
        who.require_admin()?;
        let source = match source {
            Some(name) => Some(self.source(who, name).await?.id),
            None => None,
        };
        Ok(self.store.runs(who.org_id, source, limit, reports).await?)
    }

    pub async fn run(&self, who: &Principal, id: RunId) -> Result<RunRecord, AppError> {
        who.require_admin()?;
        self.store
            .run(who.org_id, id)
            .await?
            .ok_or(AppError::NotFound("import run"))
    }

    /// The names of these people as they are now ("Ada Lovelace"), by id: what a preview or a
    /// run's report shows beside each external id, so that an admin approving a held run sees
    /// whom they keep. People of other orgs, and ids that name nobody, are left out.
    pub async fn names_of(
        &self,
        who: &Principal,
        ids: &[UserId],
    ) -> Result<HashMap<UserId, String>, AppError> {
        who.require_admin()?;
        let known = self.known_by_id(who, ids).await?;
        Ok(known
            .iter()
            .map(|k| (k.user.id(), k.user.display_name()))
            .collect())
    }

    /// Gives the first `at_most` lines of `run`'s report about people it created the id of
    /// the source's person with that external id (the lines were made before those people had
    /// one), so that a report names and links them as it does everyone else. Lines the source
    /// no longer has a person for, and runs of a source since removed, are left as they are.
    pub async fn identify_created(
        &self,
        who: &Principal,
        run: &mut RunRecord,
        at_most: usize,
    ) -> Result<(), AppError> {
        who.require_admin()?;
        let source = match self.source_by_id(who, run.source_id).await {
            Ok(source) => source,
            Err(AppError::NotFound(_)) => return Ok(()),
            Err(err) => return Err(err),
        };
        let mut created: Vec<&mut ReportLine> = run
            .report
            .iter_mut()
            .filter(|line| line.user_id.is_none() && line.kind == "created")
            .take(at_most)
            .collect();
        for part in created.chunks_mut(self.import_part) {
            let external_ids: Vec<String> =
                part.iter().filter_map(|l| l.external_id.clone()).collect();
            let found: HashMap<String, UserId> = self
                .store
                .source_users_by_external_id(who.org_id, &source.name, &external_ids)
                .await?
                .into_iter()
                .collect();
            for line in part {
                line.user_id = line
                    .external_id
                    .as_ref()
                    .and_then(|e| found.get(e))
                    .copied();
            }
        }
        Ok(())
    }

    /// These people of the org as they are now, whole, read a part at a time.
    async fn known_by_id(
        &self,
        who: &Principal,
        ids: &[UserId],
    ) -> Result<Vec<provisioning::Known>, AppError> {
        let mut known = Vec::with_capacity(ids.len());
        for ids in ids.chunks(self.import_part) {
            let wanted = Wanted {
                ids: ids.to_vec(),
                ..Wanted::default()
            };
            known.extend(self.store.provisioning_known(who.org_id, &wanted).await?);
        }
        Ok(known)
    }

    /// A run that must be held to be `decided` (approved or rejected).
    async fn held_run(
        &self,
        who: &Principal,
        id: RunId,
        decided: &str,
    ) -> Result<RunRecord, AppError> {
        let run = self.run(who, id).await?;
        if run.outcome != Outcome::Held {
            let by = run
                .decided
                .as_ref()
                .map(|d| format!(" by {}", d.by))
                .unwrap_or_default();
            return Err(AppError::conflict(
                "run",
                format!(
                    "this run is {}{by}, not held: only a held run can be {decided}",
                    run.outcome.as_str()
                ),
            ));
        }
        Ok(run)
    }

    /// Reads `file` in the source's format and plans it against the org's users as they are,
    /// a part of [`IMPORT_PART`] rows at a time: no more of a long file is held than a part or two.
    ///
    /// The source's roll (its people, narrow) is read first; a row that sends someone exactly
    /// as before (see [`provisioning::Roll::quiet`]) is passed over. The other rows are planned
    /// a part at a time, against the users they may name or clash with, read then.
    async fn plan_file(
        &self,
        who: &Principal,
        source: &SourceSettings,
        asked: Option<Mode>,
        file: &Bytes,
    ) -> Result<Result<Planned, Vec<Problem>>, AppError> {
        let mut laps = Laps::start();
        let roll = self.store.source_roll(who.org_id, &source.name).await?;
        let known = Arc::new(self.known_orgs(who, source).await?);
        laps.lap("roll");
        let roll = Arc::new(Mutex::new(roll));
        let quiet = {
            let roll = Arc::clone(&roll);
            move |line, external_id: &str, digest| lock(&roll).quiet(line, external_id, digest)
        };
        let mut parts = read_in_parts(
            source.format,
            file.clone(),
            Arc::clone(&known),
            quiet,
            self.import_part,
        );
        let mut planner = provisioning::Planner::new(&source.name, source.policy);
        let mut versions = HashMap::new();
        let mut rows_read = 0;
        let mut kept: Option<Vec<Row>> = Some(Vec::new());
        while let Some(rows) = parts.next().await {
            let wanted = Wanted::of(&rows, &lock(&roll));
            let known = self.store.provisioning_known(who.org_id, &wanted).await?;
            planner.part(&rows, &known, &lock(&roll));
            rows_read += rows.len();
            versions.extend(known.iter().map(|k| (k.user.id(), k.user.version())));
            kept = kept.filter(|_| rows_read <= KEPT_PARTS * self.import_part);
            if let Some(kept) = &mut kept {
                kept.extend(rows);
            }
        }
        let read = parts.finish().await?;
        laps.lap("file and plan");
        let read = match read {
            Ok(read) => read,
            Err(problems) => return Ok(Err(problems)),
        };
        let mode = match mode_of(read.mode, asked, source.mode) {
            Ok(mode) => mode,
            Err(problem) => return Ok(Err(vec![problem])),
        };
        // The reader is done: the roll is this run's alone again.
        let roll = Arc::try_unwrap(roll)
            .map_err(|_| {
                let err = std::io::Error::other("the roll is still shared");
                AppError::internal("reading an import file", err)
            })?
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let source_users = roll
            .iter()
            .filter(|(_, user)| !rules::is_archived(user.status))
            .count();
        let mut plan = match planner.finish(mode, &roll) {
            Ok(plan) => plan,
            Err(problems) => {
                return Ok(Err(problems
                    .into_iter()
                    .map(|(line, err)| {
                        Problem::of_row(source.format, line, &err.field, err.message)
                    })
                    .collect()));
            }
        };
        self.read_versions(who, &plan, &mut versions).await?;
        laps.lap("missing");
        tracing::debug!(rows = rows_read, known = versions.len(), %laps, "import file planned");
        let Read {
            skipped,
            notes,
            rosters,
            orgs,
            ..
        } = read;
        plan.notes = notes;
        plan.notes.extend(orgs_note(&known, orgs.as_ref()));
        if let Some(rosters) = &rosters {
            plan.notes.extend(seated_nobody(rosters, &roll, &plan));
            plan.notes
                .extend(self.classless(who, source, rosters).await?);
            plan.notes
                .extend(self.unknown_ends(who, source, rosters).await?);
        }
        add_skipped(&mut plan, skipped);
        Ok(Ok(Planned {
            mode,
            source_users,
            roll: Arc::new(roll),
            plan,
            rosters,
            orgs: (known, orgs),
            file: file.clone(),
            rows: kept,
            versions,
        }))
    }

    /// The orgs a source's earlier packages named (a source of plain files has none).
    async fn known_orgs(
        &self,
        who: &Principal,
        source: &SourceSettings,
    ) -> Result<Vec<SourceOrg>, AppError> {
        if source.format != Format::OneRoster {
            return Ok(Vec::new());
        }
        let mut uow = self.store.begin().await?;
        Ok(uow.source_orgs(who.org_id, source.id).await?)
    }

    /// A dry run's answer: the plan, with what it would do to classes when the file sends some.
    async fn preview(
        &self,
        who: &Principal,
        source: &SourceSettings,
        planned: Planned,
    ) -> Result<ImportOutcome, AppError> {
        let classes = self.classes_of(who, source, &planned).await?;
        Ok(ImportOutcome::Preview(Plan {
            classes,
            ..planned.plan
        }))
    }

    /// What applying `planned` would do to the source's classes; `None` for a file without
    /// classes. Read in a unit of work of its own, before the run's.
    async fn classes_of(
        &self,
        who: &Principal,
        source: &SourceSettings,
        planned: &Planned,
    ) -> Result<Option<RosterChanges>, AppError> {
        match &planned.rosters {
            Some(rosters) => Ok(Some(
                self.class_changes(who, source, &planned.plan, rosters, &planned.roll)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// What applying `plan` would do to the source's classes, worked out from them as they are
    /// (read in a unit of work that writes nothing) and what the run would write. The people it
    /// would create are given ids of their own for it.
    async fn class_changes(
        &self,
        who: &Principal,
        source: &SourceSettings,
        plan: &Plan,
        rosters: &RosterSet,
        roll: &Roll,
    ) -> Result<RosterChanges, AppError> {
        // Those the source does not have yet: the people the run would make or link.
        let joined: HashMap<String, UserId> = plan
            .items
            .iter()
            .filter(|item| roll.get(item.external_id.as_str()).is_none())
            .map(|item| {
                let id = item.user.unwrap_or_else(UserId::new);
                (item.external_id.as_str().to_owned(), id)
            })
            .collect();
        let (before, had) = {
            let mut uow = self.store.begin().await?;
            let before = uow.source_rosters(who.org_id, source.id).await?;
            (before, uow.source_enrolments(who.org_id, source.id).await?)
        };
        let write = roster_write(who, source, rosters, roll, &joined, (&before, &had));
        Ok(RosterChanges::between(&before, &before.written(&write)))
    }

    /// A note on the enrolments of `rosters` whose class is neither in the package nor one the
    /// source has: they seat nobody. `None` when there are none.
    async fn classless(
        &self,
        who: &Principal,
        source: &SourceSettings,
        rosters: &RosterSet,
    ) -> Result<Option<String>, AppError> {
        let sent: HashSet<&str> = rosters
            .classes
            .iter()
            .filter(|c| !c.deleted)
            .map(|c| c.external_id.as_str())
            .collect();
        let unsent: Vec<&rollcall_import::EnrollmentRow> = rosters
            .enrollments
            .iter()
            .filter(|e| !e.deleted && !sent.contains(e.class.as_str()))
            .collect();
        if unsent.is_empty() {
            return Ok(None);
        }
        let had = {
            let mut uow = self.store.begin().await?;
            uow.source_rosters(who.org_id, source.id).await?
        };
        let had: HashSet<&str> = had.rosters.iter().map(|r| r.external_id.as_str()).collect();
        let lines: Vec<u64> = unsent
            .iter()
            .filter(|e| !had.contains(e.class.as_str()))
            .map(|e| e.line)
            .collect();
        Ok((!lines.is_empty()).then(|| {
            format!(
                "enrollments.csv: {} enrolment(s) name a class that neither classes.csv nor this \
                 source has, so they seat nobody: line(s) {}",
                lines.len(),
                rollcall_import::listed_lines(&lines)
            )
        }))
    }

    /// A note on the deletions of `rosters` that name only an enrolment's id, and an id the
    /// source has no enrolment under: they change nothing. `None` when there are none.
    async fn unknown_ends(
        &self,
        who: &Principal,
        source: &SourceSettings,
        rosters: &RosterSet,
    ) -> Result<Option<String>, AppError> {
        let by_id: Vec<&rollcall_import::EnrollmentRow> = rosters
            .enrollments
            .iter()
            .filter(|e| e.deleted && e.class.is_empty())
            .collect();
        if by_id.is_empty() {
            return Ok(None);
        }
        let had = {
            let mut uow = self.store.begin().await?;
            uow.source_enrolments(who.org_id, source.id).await?
        };
        let had: HashSet<&str> = had.iter().map(|e| e.external_id.as_str()).collect();
        let lines: Vec<u64> = by_id
            .iter()
            .filter(|e| !had.contains(e.external_id.as_str()))
            .map(|e| e.line)
            .collect();
        Ok((!lines.is_empty()).then(|| {
            format!(
                "enrollments.csv: {} deletion(s) name an enrolment by a sourcedId this source \
                 has no enrolment under, so they change nothing: line(s) {}",
                lines.len(),
                rollcall_import::listed_lines(&lines)
            )
        }))
    }

    /// Adds to `versions` those of the people `plan` changes that no row named (the missing,
    /// those kept), as they are now.
    async fn read_versions(
        &self,
        who: &Principal,
        plan: &Plan,
        versions: &mut HashMap<UserId, i64>,
    ) -> Result<(), AppError> {
        let unread: Vec<UserId> = plan
            .items
            .iter()
            .filter(|item| item.changes_anything())
            .filter_map(|item| item.user)
            .filter(|id| !versions.contains_key(id))
            .collect();
        // Read a part at a time, and only their versions kept: a run may miss a million people.
        for ids in unread.chunks(self.import_part) {
            let known = self.known_by_id(who, ids).await?;
            versions.extend(known.iter().map(|k| (k.user.id(), k.user.version())));
        }
        Ok(())
    }

    /// Applies `plan` (all of the planned run, or a part of it) and writes it in `uow`, a part
    /// of [`IMPORT_PART`] people at a time: `file` is read again, through the roll the plan was made
    /// with, and each part's rows are applied with the plan's items for them, to the users
    /// they name as they are now; then the items no row sends (people kept as an admin left
    /// them, or missing). Users are created whole, the others change by change (each checked
    /// against the version planned on), with what the source now says and what the run's undo
    /// needs. Refused when another run of the source was applied since this one was planned.
    async fn write_plan(
        &self,
        uow: &mut dyn UnitOfWork,
        who: &Principal,
        source: &SourceSettings,
        planned: &Planned,
        plan: &Plan,
        run: RunId,
    ) -> Result<(), AppError> {
        let mut laps = Laps::start();
        claim(uow, source).await?;
        let mut part = PartWriter {
            uow,
            who,
            source,
            versions: &planned.versions,
            actor: source_actor(source, run),
            run,
            joined: HashMap::new(),
            keep_joined: planned.rosters.is_some(),
        };
        // The rows' items come first, in the rows' order.
        let mut items = plan.items.as_slice();
        if let Some(rows) = &planned.rows {
            for rows in rows.chunks(self.import_part) {
                items = self.write_rows(&mut part, rows, items).await?;
            }
        } else {
            let quiet = {
                let roll = Arc::clone(&planned.roll);
                move |_: u64, external_id: &str, _| roll.heard(external_id)
            };
            let mut parts = read_in_parts(
                source.format,
                planned.file.clone(),
                Arc::clone(&planned.orgs.0),
                quiet,
                self.import_part,
            );
            while let Some(rows) = parts.next().await {
                items = self.write_rows(&mut part, &rows, items).await?;
            }
            if parts.finish().await?.is_err() {
                let err = std::io::Error::other("the file read differently the second time");
                return Err(AppError::internal("reading an import file", err));
            }
        }
        // Only items no row sends are left (a row's item met here is refused by the applier).
        for these in items.chunks(self.import_part) {
            self.write_part(&mut part, &[], these).await?;
        }
        laps.lap("parts");
        let PartWriter { uow, joined, .. } = part;
        let made = match &planned.rosters {
            Some(rosters) => {
                let before = uow.source_rosters(who.org_id, source.id).await?;
                let had = uow.source_enrolments(who.org_id, source.id).await?;
                let write = roster_write(
                    who,
                    source,
                    rosters,
                    &planned.roll,
                    &joined,
                    (&before, &had),
                );
                write_rosters(uow, who, &write, source).await?;
                let after = uow.source_rosters(who.org_id, source.id).await?;
                let now = uow.source_enrolments(who.org_id, source.id).await?;
                RosterChanges {
                    enrolments: EnrolmentChange::between(&had, &now),
                    ..RosterChanges::between(&before, &after)
                }
                .with_bare_seats(&before, &had)
            }
            None => RosterChanges::default(),
        };
        if let Some(orgs) = &planned.orgs.1 {
            uow.put_source_orgs(who.org_id, source.id, orgs).await?;
        }
        // Every package's run keeps one, even empty (a package without classes): a package's
        // run without one was applied before runs kept them.
        if source.format == Format::OneRoster {
            uow.put_run_roster_changes(who.org_id, run, &made).await?;
        }
        laps.lap("rosters");
        tracing::debug!(%laps, "import run written");
        Ok(())
    }

    /// Writes `rows` with their items, the first of `items`; answers the items left.
    async fn write_rows<'i>(
        &self,
        part: &mut PartWriter<'_>,
        rows: &[Row],
        items: &'i [provisioning::Item],
    ) -> Result<&'i [provisioning::Item], AppError> {
        let lines: HashSet<u64> = rows.iter().map(Row::line).collect();
        let theirs = items
            .iter()
            .take_while(|item| item.line.is_some_and(|line| lines.contains(&line)))
            .count();
        let (these, rest) = items.split_at(theirs);
        self.write_part(part, rows, these).await?;
        Ok(rest)
    }

    /// Applies and writes `items`, the plan's items for `rows` (or for no row), to the users
    /// they name, read now in the unit of work: refused as stale when one that the items change
    /// is no longer at the version the plan was made on.
    async fn write_part(
        &self,
        part: &mut PartWriter<'_>,
        rows: &[Row],
        items: &[provisioning::Item],
    ) -> Result<(), AppError> {
        let changing: HashSet<UserId> = items
            .iter()
            .filter(|item| item.changes_anything())
            .filter_map(|item| item.user)
            .collect();
        let mut ids: Vec<UserId> = items.iter().filter_map(|item| item.user).collect();
        ids.sort_unstable();
        ids.dedup();
        // Only the people the part changes are locked (on PostgreSQL a lock writes to the
        // row): those it leaves as they are are read for what the source sent of them.
        let (to_change, as_they_are): (Vec<UserId>, Vec<UserId>) =
            ids.into_iter().partition(|id| changing.contains(id));
        let mut known = Vec::with_capacity(to_change.len() + as_they_are.len());
        for (ids, lock) in [(as_they_are, false), (to_change, true)] {
            if !ids.is_empty() {
                let read = part.uow.provisioning_users(part.who.org_id, &ids, lock);
                known.extend(read.await?);
            }
        }
        for k in known.iter().filter(|k| changing.contains(&k.user.id())) {
            if part.versions.get(&k.user.id()) != Some(&k.user.version()) {
                return Err(AppError::from(rollcall_store::StoreError::Stale {
                    current: k.user.version(),
                }));
            }
        }
        let in_part = provisioning::Applier::new(
            part.who.org_id,
            &part.source.name,
            rows,
            &known,
            &part.actor,
            self.now(),
        );
        let applied = in_part
            .apply(items)
            .map_err(|err| AppError::internal("applying an import run", err))?;
        if part.keep_joined {
            let source = &part.source.name;
            part.joined.extend(
                applied
                    .after
                    .iter()
                    .filter(|k| k.user.source() == source)
                    .filter_map(|k| Some((k.user.external_id()?.as_str().to_owned(), k.user.id()))),
            );
        }
        self.write_applied(&mut *part.uow, part.who, &in_part, applied, part.run)
            .await
    }

    /// Writes one part of an applied run (see [`Self::write_plan`]); `in_part` applied it,
    /// and knows what the source said of each user before the run.
    async fn write_applied(
        &self,
        uow: &mut dyn UnitOfWork,
        who: &Principal,
        in_part: &provisioning::Applier<'_>,
        applied: Applied,
        run: RunId,
    ) -> Result<(), AppError> {
        let Applied {
            after,
            changes,
            touches,
            sent,
        } = applied;
        // A user the run makes is inserted as the run leaves them, with every event of theirs;
        // the others change by change.
        let mut made_at: HashMap<UserId, usize> = HashMap::new();
        let mut new_users: Vec<User> = Vec::new();
        let mut created_events = Vec::new();
        let mut changes_of_others: Vec<UserChange> = Vec::new();
        for change in changes {
            let id = change.user.id();
            if change.event.action == AuditAction::Created {
                made_at.insert(id, new_users.len());
                new_users.push(change.user);
                created_events.push(change.event);
            } else if let Some(user) = made_at.get(&id).and_then(|&at| new_users.get_mut(at)) {
                *user = change.user;
                created_events.push(change.event);
            } else {
                changes_of_others.push(change);
            }
        }
        new_users.sort_by_key(User::id);
        uow.insert_users(who.org_id, &new_users).await?;
        let made: Vec<UserId> = new_users.iter().map(User::id).collect();
        crate::learning::enrol_joiners(uow, who.org_id, &made, self.now()).await?;
        uow.record(&created_events).await?;
        let changed: Vec<&UserChange> = changes_of_others.iter().collect();
        write_changes(uow, &changed).await?;
        // Listed people: what the source says with their row's digest, for the next run to
        // pass over. The others (gone, or left as they were): what it says, when that changed.
        let listed: HashSet<UserId> = sent.iter().map(|sent| sent.user).collect();
        let said: Vec<_> = after
            .iter()
            .filter(|k| !listed.contains(&k.user.id()))
            .filter_map(|k| {
                let now = k.said?;
                (in_part.said_before(k.user.id()) != Some(now)).then_some((k.user.id(), now))
            })
            .collect();
        uow.put_said(who.org_id, &said).await?;
        uow.put_sent(who.org_id, &sent).await?;
        uow.insert_touches(who.org_id, run, &touches).await?;
        Ok(())
    }
}

/// People a run applies and writes at once: a first run of a million rows holds only one
/// part's users in memory.
pub(crate) const IMPORT_PART: usize = 5_000;

/// A run whose rows not sent as before fit in this many parts keeps them for its writing, not
/// reading the file again: as many as the reader may have read ahead of the run.
const KEPT_PARTS: usize = 2;

/// Where a run writes its parts, and what it gathers on the way.
struct PartWriter<'a> {
    uow: &'a mut dyn UnitOfWork,
    who: &'a Principal,
    source: &'a SourceSettings,
    /// Each user's version when the run was planned.
    versions: &'a HashMap<UserId, i64>,
    actor: Actor,
    run: RunId,
    /// The source's people the run made or linked, by external id: classes name them.
    joined: HashMap<String, UserId>,
    /// Whether the file sends classes, which need `joined`.
    keep_joined: bool,
}

/// Reads `file` as `format` on a blocking thread, passing over the rows `quiet` says were sent
/// as before, and hands the other rows out a part of [`IMPORT_PART`] at a time, in the file's order:
/// the reader reads on while a part is planned or written, at most a part ahead. The handle
/// answers with what the reader read besides the rows, or every problem in the file.
fn read_in_parts(
    format: Format,
    file: Bytes,
    known: Arc<Vec<SourceOrg>>,
    mut quiet: impl FnMut(u64, &str, provisioning::Digest) -> bool + Send + 'static,
    size: usize,
) -> InParts {
    let size = size.max(1);
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let reader = tokio::task::spawn_blocking(move || {
        let mut part = Vec::with_capacity(size);
        // Once the receiver is gone (the run failed), the rest is read and let go.
        let mut open = true;
        let mut sink = |row| {
            part.push(row);
            if part.len() == size {
                let full = std::mem::replace(&mut part, Vec::with_capacity(size));
                open = open && tx.blocking_send(full).is_ok();
            }
        };
        let read = match format {
            Format::PlainCsv => rollcall_import::plain::read_into(&file[..], &mut quiet, &mut sink)
                .map(|quiet| Read {
                    quiet,
                    ..Read::default()
                }),
            Format::OneRoster => {
                rollcall_import::oneroster::read_zip_into(&file, &known, &mut quiet, &mut sink)
            }
            // Refused before any file is read (`refuse_files`).
            Format::Scim => Ok(Read::default()),
        };
        if open && !part.is_empty() {
            // The receiver may be gone: the run failed, and says why itself.
            let _ = tx.blocking_send(part);
        }
        read
    });
    InParts { rows: rx, reader }
}

/// What a package's orgs.csv (`sent`) changes in the orgs its source keeps (`known`), in
/// words; `None` when nothing.
fn orgs_note(known: &[SourceOrg], sent: Option<&OrgsSent>) -> Option<String> {
    let sent = sent?;
    let had: HashMap<&str, &SourceOrg> =
        known.iter().map(|o| (o.external_id.as_str(), o)).collect();
    let added = sent
        .orgs
        .iter()
        .filter(|o| !had.contains_key(o.external_id.as_str()))
        .count();
    let changed = sent
        .orgs
        .iter()
        .filter(|o| {
            had.get(o.external_id.as_str())
                .is_some_and(|h| h.name != o.name || h.kind != o.kind)
        })
        .count();
    let gone = if sent.full {
        let listed: HashSet<&str> = sent.orgs.iter().map(|o| o.external_id.as_str()).collect();
        known
            .iter()
            .filter(|o| !listed.contains(o.external_id.as_str()))
            .count()
    } else {
        sent.gone
            .iter()
            .filter(|id| had.contains_key(id.as_str()))
            .count()
    };
    let said: Vec<String> = [
        (added, "added"),
        (changed, "renamed or retyped"),
        (gone, "taken out"),
    ]
    .into_iter()
    .filter(|&(n, _)| n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    (!said.is_empty()).then(|| {
        format!(
            "orgs.csv: of the schools and districts this source names, {}; people and classes \
             take a new name when a package sends them again",
            said.join(", ")
        )
    })
}

/// Adds the rows the reader left out (parents, guardians, roles of nobody listed) to those the
/// planner did (deletions of nobody the source has), in the files' order (each line says its
/// file).
fn add_skipped(plan: &mut Plan, skipped: Vec<rollcall_import::Skipped>) {
    let planned_skips = std::mem::take(&mut plan.skipped);
    plan.skipped = skipped
        .into_iter()
        .map(|s| ReportLine {
            line: Some(s.line),
            external_id: Some(s.external_id),
            user_id: None,
            removal: false,
            kind: "skipped".to_owned(),
            what: format!("skipped ({}): {}", s.file, s.why),
        })
        .chain(planned_skips)
        .collect();
    plan.skipped.sort_by_key(|line| line.line);
}

/// A file being read on a blocking thread, its rows handed out a part at a time (see
/// [`read_in_parts`]).
struct InParts {
    rows: tokio::sync::mpsc::Receiver<Vec<Row>>,
    reader: tokio::task::JoinHandle<Result<Read, Vec<Problem>>>,
}

impl InParts {
    /// The next part of the rows, in the file's order; `None` once the file is read.
    async fn next(&mut self) -> Option<Vec<Row>> {
        self.rows.recv().await
    }

    /// What the reader read besides the rows, or every problem in the file: asked once every
    /// part is taken.
    async fn finish(self) -> Result<Result<Read, Vec<Problem>>, AppError> {
        self.reader
            .await
            .map_err(|err| AppError::internal("reading an import file", err))
    }
}

/// The roll, locked: shared between the reader, which marks who was sent as before, and the
/// planner.
fn lock(roll: &Mutex<Roll>) -> std::sync::MutexGuard<'_, Roll> {
    roll.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A run's mode: as its package says, else as asked, else the source's; a package asked to
/// run as it is not is refused.
fn mode_of(says: Option<Mode>, asked: Option<Mode>, default: Mode) -> Result<Mode, Problem> {
    match (says, asked) {
        (Some(says), Some(asked)) if says != asked => Err(Problem::at_line(
            0,
            format!(
                "the package is a {} package; it cannot be applied as a {} run",
                if says == Mode::Full { "bulk" } else { "delta" },
                asked.as_str()
            ),
        )),
        (Some(says), _) => Ok(says),
        (None, asked) => Ok(asked.unwrap_or(default)),
    }
}

/// What a package's run writes of classes and their members: a member is named by their id in
/// the source (people the run left out, such as parents, are not members). `joined`: the people
/// the run made or linked, by their id in the source. An enrolment naming nobody the run has
/// seats nobody (see [`seated_nobody`]). A class whose school the package does not name keeps
/// the school it has in `before`. Seats come of the source's enrolments, `had` before the run,
/// as the package's change them (see [`enrolments_written`]).
fn roster_write(
    who: &Principal,
    source: &SourceSettings,
    rosters: &RosterSet,
    roll: &Roll,
    joined: &HashMap<String, UserId>,
    (before, had): (&RosterState, &[Enrolment]),
) -> RosterWrite {
    let school_of: HashMap<&str, &str> = before
        .rosters
        .iter()
        .map(|r| (r.external_id.as_str(), r.school.as_str()))
        .collect();
    // The source's people as the run left them: those it made or linked, and those it had.
    let member = |external_id: &str| {
        joined
            .get(external_id)
            .copied()
            .or_else(|| roll.get(external_id).map(|user| user.user))
    };
    let (gone, kept): (Vec<&ClassRow>, Vec<&ClassRow>) =
        rosters.classes.iter().partition(|c| c.deleted);
    // A class the package deletes ends its enrolments, even those it sends; one it makes seats
    // the enrolments the source sent for it before it had it.
    let ended: HashSet<&str> = gone.iter().map(|c| c.external_id.as_str()).collect();
    let fresh: HashSet<&str> = kept
        .iter()
        .map(|c| c.external_id.as_str())
        .filter(|class| !school_of.contains_key(class))
        .collect();
    let resent: HashSet<&str> = rosters
        .enrollments
        .iter()
        .map(|e| e.external_id.as_str())
        .collect();
    let waiting = had
        .iter()
        .filter(|_| !rosters.enrollments_full)
        .filter(|e| fresh.contains(e.class.as_str()) && !resent.contains(e.external_id.as_str()))
        .map(|e| SentEnrolment {
            external_id: e.external_id.clone(),
            class: e.class.clone(),
            user: Some(e.user),
            role: e.role,
            deleted: false,
        });
    let sent: Vec<SentEnrolment> = waiting
        .chain(rosters.enrollments.iter().map(|e| SentEnrolment {
            external_id: e.external_id.clone(),
            class: e.class.clone(),
            user: member(&e.user),
            role: e.role,
            deleted: e.deleted || ended.contains(e.class.as_str()),
        }))
        .collect();
    let enrolments = enrolments_written(had, &sent, rosters.enrollments_full);
    RosterWrite {
        classes: kept
            .into_iter()
            .map(|c| Roster {
                id: RosterId::new(),
                org_id: who.org_id,
                source_id: source.id,
                external_id: c.external_id.clone(),
                title: c.title.clone(),
                code: c.code.clone(),
                school: c.school.clone().unwrap_or_else(|| {
                    let had = school_of.get(c.external_id.as_str());
                    had.map(|school| (*school).to_owned()).unwrap_or_default()
                }),
            })
            .collect(),
        classes_full: rosters.classes_full,
        gone: gone.into_iter().map(|c| c.external_id.clone()).collect(),
        members: enrolments.members,
        removed: enrolments.removed,
        members_full: enrolments.full,
        enrolments: enrolments.put,
        enrolments_gone: enrolments.gone,
    }
}

/// A note on the enrolments of `rosters` that seat nobody: their person is neither of the source
/// (`roll`) nor one `plan` makes or links (a parent left out, a sourcedId nobody has). `None`
/// when every enrolment seats someone.
fn seated_nobody(rosters: &RosterSet, roll: &Roll, plan: &Plan) -> Option<String> {
    // Only the people enrolments name that the source lacks are looked for among the plan's.
    let mut strangers: HashSet<&str> = rosters
        .enrollments
        .iter()
        .filter(|e| !e.deleted)
        .map(|e| e.user.as_str())
        .filter(|user| roll.get(user).is_none())
        .collect();
    if strangers.is_empty() {
        return None;
    }
    for item in &plan.items {
        strangers.remove(item.external_id.as_str());
    }
    let lines: Vec<u64> = rosters
        .enrollments
        .iter()
        .filter(|e| !e.deleted && strangers.contains(e.user.as_str()))
        .map(|e| e.line)
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "enrollments.csv: {} enrolment(s) name nobody this run has as a person (a parent or \
         guardian left out, or a sourcedId that users.csv does not list and Rollcall does not \
         have), so they put nobody in a class: line(s) {}",
        lines.len(),
        rollcall_import::listed_lines(&lines)
    ))
}

/// Writes a package's classes and their members (see [`roster_write`]).
async fn write_rosters(
    uow: &mut dyn UnitOfWork,
    who: &Principal,
    write: &RosterWrite,
    source: &SourceSettings,
) -> Result<(), AppError> {
    uow.put_rosters(who.org_id, source.id, &write.classes, write.classes_full)
        .await?;
    uow.delete_rosters(who.org_id, source.id, &write.gone)
        .await?;
    uow.put_members(
        who.org_id,
        source.id,
        &write.members,
        &write.removed,
        write.members_full,
    )
    .await?;
    uow.put_enrolments(
        who.org_id,
        source.id,
        &write.enrolments,
        &write.enrolments_gone,
        write.members_full,
    )
    .await?;
    Ok(())
}

/// Takes back a run's class changes (`made`, as it kept them) in `uow`: how many changes were
/// taken back, how many were left (changed since), and whether the run, a package's, kept
/// none (it was applied before runs kept them).
async fn undo_rosters_of(
    uow: &mut dyn UnitOfWork,
    source: &SourceSettings,
    made: Option<RosterChanges>,
) -> Result<(usize, usize, bool), AppError> {
    let Some(made) = made else {
        return Ok((0, 0, source.format == Format::OneRoster));
    };
    // The enrolments behind the seats go back too, so a later delta ending one by its id
    // finds it, and the seats are those the enrolments left make.
    let current = uow.source_rosters(source.org_id, source.id).await?;
    let enrolments = uow.source_enrolments(source.org_id, source.id).await?;
    let undo = undo_classes(&made, &current, &enrolments);
    uow.undo_rosters(source.org_id, &undo.rosters).await?;
    uow.put_enrolments(source.org_id, source.id, &undo.put, &undo.gone, false)
        .await?;
    Ok((undo.rosters.reverted, undo.rosters.left_alone, false))
}

/// Claims the source for a write planned while it was at the version read.
async fn claim(uow: &mut dyn UnitOfWork, source: &SourceSettings) -> Result<(), AppError> {
    if uow
        .claim_source(source.org_id, source.id, source.version)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::conflict(
            "source",
            "another run of this source was applied meanwhile; nothing was changed: try again",
        ))
    }
}

/// Someone else approved, rejected or undid the run between our read and our write.
fn decided_first(updated: bool) -> Result<(), AppError> {
    if updated {
        Ok(())
    } else {
        Err(AppError::conflict(
            "run",
            "someone else decided about this run at the same moment; nothing was changed: \
             reload it",
        ))
    }
}

/// The source as the actor of its run's changes (and of their undo).
fn source_actor(source: &SourceSettings, run: RunId) -> Actor {
    Actor::Source {
        id: source.id,
        label: source.name.as_str().to_owned(),
        run: Some(run),
    }
}

/// A SCIM connection's people come from its identity provider, one request at a time.
fn refuse_files(source: &SourceSettings) -> Result<(), AppError> {
    if source.format == Format::Scim {
        return Err(AppError::conflict(
            "source",
            format!(
                "'{}' is a SCIM connection: its identity provider sends people over SCIM, not in files",
                source.name.as_str()
            ),
        ));
    }
    Ok(())
}

fn refuse_paused(source: &SourceSettings) -> Result<(), AppError> {
    if source.paused {
        return Err(AppError::conflict(
            "source",
            format!(
                "'{}' is paused: resume it before importing",
                source.name.as_str()
            ),
        ));
    }
    Ok(())
}

/// A problem as a line of a run's report.
fn problem_line(problem: &Problem) -> ReportLine {
    let mut what = problem
        .file
        .as_ref()
        .map(|file| format!("{file}: "))
        .unwrap_or_default();
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
        line: (problem.line > 0).then_some(problem.line),
        external_id: None,
        user_id: None,
        removal: false,
        kind: String::new(),
        what,
    }
}

/// The time each phase of a run took, for the logs: `roll 120 ms, file 340 ms, …`.
struct Laps {
    started: std::time::Instant,
    last: std::time::Duration,
    /// Each phase, how long it took, and the process's memory at its end.
    done: Vec<(&'static str, std::time::Duration, Option<Resident>)>,
}

impl Laps {
    fn start() -> Self {
        Self {
            started: std::time::Instant::now(),
            last: std::time::Duration::ZERO,
            done: Vec::new(),
        }
    }

    /// Ends the phase `name`, begun when the last one ended.
    fn lap(&mut self, name: &'static str) {
        let now = self.started.elapsed();
        self.done
            .push((name, now.saturating_sub(self.last), resident_mib()));
        self.last = now;
    }
}

/// The process's resident memory now and at its peak so far, in MiB.
#[derive(Debug, Clone, Copy)]
struct Resident {
    now: u64,
    peak: u64,
}

/// The process's resident memory, where the system tells it (Linux).
fn resident_mib() -> Option<Resident> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(key))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024)
    };
    Some(Resident {
        now: mib("VmRSS:")?,
        peak: mib("VmHWM:")?,
    })
}

impl std::fmt::Display for Laps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, took, peak)) in self.done.iter().enumerate() {
            let comma = if i == 0 { "" } else { ", " };
            write!(f, "{comma}{name} {} ms", took.as_millis())?;
            if let Some(Resident { now, peak }) = peak {
                write!(f, " ({now} MiB, peak {peak})")?;
            }
        }
        Ok(())
    }
}
