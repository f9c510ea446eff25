//! The storage of Rollcall: the [`Store`] trait the use cases speak to, the [`UnitOfWork`] a
//! use case writes through, and the SQL both backends share.
//!
//! Two implementations stand behind it: `rollcall-store-sqlite` (the embedded default) and
//! `rollcall-store-postgres` (for scale). Both are [`SqlStore`]s: every query that reads the
//! same on both databases is written once here ([`shared`]); a backend adds only what truly
//! differs (its search plans, its bulk path, its migrations) through [`Backend`]. One
//! conformance suite (`rollcall-store-conformance`) holds both to the same behaviour. Every
//! method is scoped to one org: nothing crosses tenants.

mod backend;
pub mod learning;
pub mod learning_rows;
pub mod listing;
pub mod report;
pub mod report_csv;
pub mod report_rows;
pub mod rows;
pub mod scim;
pub mod scim_rows;
pub mod segment;
pub mod segment_rows;
pub mod shared;
pub mod sql;
mod value;

use async_trait::async_trait;
use rollcall_domain::provisioning::{
    Known, OrgsSent, Outcome, ProvisioningSettings, ReportLine, Roll, RunRecord, Said, Sent,
    SourceOrg, SourceSettings, Touch, Wanted,
};
use rollcall_domain::roster::{
    Enrolment, MemberRole, Roster, RosterChanges, RosterState, RosterUndo,
};
use rollcall_domain::{
    ApiToken, AuditEvent, Org, OrgId, OrgSlug, Role, RosterId, RunId, Session, Source, SourceId,
    Status, Timestamp, TokenId, User, UserId,
};

pub use rows::ThrottleRun;

/// A unit of work inserting at least this many users, into a table holding no more than it
/// brings, takes the backend's bulk-load path (SQLite makes the table's indexes again after
/// the rows instead of keeping them up row by row).
pub const BULK_LOAD_MIN: usize = 20_000;
pub use learning::{Enrol, LearningStore, LearningWork, Tally};
pub use shared::{Backend, SqlStore};

/// The cause of a storage failure, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken; `field` names it (`username`, `email`, `external_id`, `slug`).
    /// A username that only looks like another's is `username` too.
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// The row changed since it was read: the write named an old version.
    #[error("the record was changed by someone else (now at version {current})")]
    Stale { current: i64 },
    #[error("not found")]
    NotFound,
    /// A stored row that no longer reads as a valid domain value.
    #[error("unreadable row: {what}")]
    Corrupt { what: String },
    /// The database failed: unreachable, out of space, a bug in a query… Logged, never shown.
    #[error("the database failed")]
    Database(#[source] Cause),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps a unique-constraint violation, described by the name of the index or columns it
    /// hit, to the field at fault. Both backends name their indexes after the field.
    pub fn unique_violation(detail: &str) -> Self {
        // The look-alike index (`username_skeleton`) names the username too.
        let field = [
            "username",
            "email",
            "external_id",
            "slug",
            "digest",
            "name_key",
        ]
        .into_iter()
        .find(|field| detail.contains(field))
        .unwrap_or("id");
        Self::Conflict { field }
    }

    /// Classifies an error of the database driver.
    pub fn from_sqlx(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                // PostgreSQL names the constraint; SQLite names the columns in its message.
                Self::unique_violation(db.constraint().unwrap_or(db.message()))
            }
            sqlx::Error::RowNotFound => Self::NotFound,
            _ => Self::Database(Box::new(err)),
        }
    }
}

/// Checks that every migration in `applied` (version, SHA-384 in hex, as sqlx checks it) is
/// still in `migrator` unchanged, and that nothing else is: each backend's test lists what has
/// been applied, so an edited migration fails there before it fails on a real database.
pub fn check_applied_migrations(
    migrator: &sqlx::migrate::Migrator,
    applied: &[(i64, &str)],
) -> Result<(), String> {
    use std::fmt::Write as _;
    let found: Vec<(i64, String)> = migrator
        .iter()
        .map(|m| {
            let hex = m.checksum.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
            (m.version, hex)
        })
        .collect();
    for (version, checksum) in applied {
        match found.iter().find(|(v, _)| v == version) {
            Some((_, now)) if now == checksum => {}
            Some(_) => {
                return Err(format!(
                    "migration {version} was edited after it was applied"
                ));
            }
            None => {
                return Err(format!(
                    "migration {version} was removed after it was applied"
                ));
            }
        }
    }
    if found.len() != applied.len() {
        return Err("a new migration needs its line in the backend's list".to_owned());
    }
    Ok(())
}

/// A query word's search-index cut-off: once a prefix matches at least this many index entries,
/// walking the listing's own index in order and checking each row beats gathering every match
/// and sorting it (both backends decide the same way).
pub const BROAD_PREFIX_ENTRIES: i64 = 1_000;

/// The orders a user listing can come in. Each ends with the user id so it is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    /// Family name, then given name.
    #[default]
    FamilyName,
    /// Given name, then family name.
    GivenName,
    Created,
    StatusChanged,
}

/// Where a page starts: the sort key of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Two folded names ([`rollcall_domain::search::sort_key`]) and the id.
    Names(String, String, UserId),
    Time(Timestamp, UserId),
}

impl UserSort {
    /// The key of `user` in this order, as the stores compare it.
    pub fn key_of(self, user: &User) -> SortKey {
        use rollcall_domain::search::sort_key;
        let given = || sort_key(user.given_name().as_str());
        let family = || sort_key(user.family_name().as_str());
        match self {
            Self::FamilyName => SortKey::Names(family(), given(), user.id()),
            Self::GivenName => SortKey::Names(given(), family(), user.id()),
            Self::Created => SortKey::Time(user.created_at(), user.id()),
            Self::StatusChanged => SortKey::Time(user.status_changed_at(), user.id()),
        }
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    /// Byte order of the folded names (SQLite's BINARY, PostgreSQL's "C"), then the id.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Names(a1, a2, a3), Self::Names(b1, b2, b3)) => {
                (a1.as_bytes(), a2.as_bytes(), a3).cmp(&(b1.as_bytes(), b2.as_bytes(), b3))
            }
            (Self::Time(a1, a2), Self::Time(b1, b2)) => (a1, a2).cmp(&(b1, b2)),
            (Self::Names(..), Self::Time(..)) => std::cmp::Ordering::Less,
            (Self::Time(..), Self::Names(..)) => std::cmp::Ordering::Greater,
        }
    }
}

/// One status's slice of a user listing. The app merges slices when a filter spans statuses,
/// so each slice can walk its own index in order.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub status: Status,
    pub role: Option<Role>,
    pub source: Option<Source>,
    /// Query words ([`rollcall_domain::search::query_words`]); each must prefix a term.
    pub words: Vec<String>,
    pub sort: UserSort,
    pub descending: bool,
    /// Only rows strictly after this key (before it when descending).
    pub after: Option<SortKey>,
    pub limit: usize,
}

/// The storage of Rollcall: reads, and [`Store::begin`] for everything that writes.
///
/// Reads outside a unit of work see committed data and take no locks (on SQLite they go to
/// the readers' pool, beside the one writer).
#[async_trait]
pub trait Store:
    learning::LearningStore
    + report::ReportStore
    + scim::ScimStore
    + segment::SegmentStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Whether units of work are written one at a time (SQLite's one writer), so that writes
    /// arriving together are best written together.
    fn one_writer(&self) -> bool;

    /// Is the database answering?
    async fn ping(&self) -> StoreResult<()>;

    /// Starts a unit of work: reads and writes of any tables, applied together by
    /// [`UnitOfWork::commit`] or not at all (dropping it rolls everything back).
    async fn begin(&self) -> StoreResult<Box<dyn UnitOfWork>>;

    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn org_by_slug(&self, slug: &OrgSlug) -> StoreResult<Option<Org>>;
    /// The org, when the database holds exactly one.
    async fn only_org(&self) -> StoreResult<Option<Org>>;

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;
    /// The user whose username or e-mail is `login`, ignoring case (username first).
    async fn user_by_login(&self, org: OrgId, login: &str) -> StoreResult<Option<User>>;
    /// The distinct sources an org's users come from, in order.
    async fn sources(&self, org: OrgId) -> StoreResult<Vec<String>>;
    /// One status's page of users, in order.
    async fn list_users(&self, org: OrgId, query: &UserQuery) -> StoreResult<Vec<User>>;
    /// How many users of this status match the query's filters and words (paging ignored),
    /// counting no further than `cap` so a count never costs more than a page.
    async fn count_users(&self, org: OrgId, query: &UserQuery, cap: u64) -> StoreResult<u64>;
    /// A user's history, oldest first.
    async fn user_events(&self, org: OrgId, user: UserId) -> StoreResult<Vec<AuditEvent>>;

    /// A live session (not expired at `now`) and its user.
    async fn session_user(
        &self,
        org: OrgId,
        digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>>;
    /// A user's sessions, oldest first.
    async fn user_sessions(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Session>>;

    /// An org's provisioning sources, by name.
    async fn provisioning_sources(&self, org: OrgId) -> StoreResult<Vec<SourceSettings>>;
    async fn source_by_name(
        &self,
        org: OrgId,
        name: &Source,
    ) -> StoreResult<Option<SourceSettings>>;
    /// A source's users, narrow ([`Roll`]): what a run reads of the org before its file.
    async fn source_roll(&self, org: OrgId, source: &Source) -> StoreResult<Roll>;
    /// Which of these external ids the source's people have, each with its person: how a
    /// run's report finds the people it created (its lines of them carry no id).
    async fn source_users_by_external_id(
        &self,
        org: OrgId,
        source: &Source,
        external_ids: &[String],
    ) -> StoreResult<Vec<(String, UserId)>>;
    /// The users a run's rows may name or clash with ([`Wanted`]), whole, each with what their
    /// source last said of them; each once.
    async fn provisioning_known(&self, org: OrgId, wanted: &Wanted) -> StoreResult<Vec<Known>>;
    /// The org's rosters, by title.
    async fn rosters(&self, org: OrgId) -> StoreResult<Vec<Roster>>;
    /// Every membership of the org's rosters, with the member's status (for counts).
    async fn memberships(
        &self,
        org: OrgId,
    ) -> StoreResult<Vec<(RosterId, UserId, MemberRole, Status)>>;
    /// A roster's members, whole.
    async fn roster_members(
        &self,
        org: OrgId,
        roster: RosterId,
    ) -> StoreResult<Vec<(User, MemberRole)>>;
    /// Every org's sources that name a drop folder: what `rollcall serve` watches.
    async fn drop_folder_sources(&self) -> StoreResult<Vec<SourceSettings>>;
    /// The org's provisioning settings (the defaults until an admin sets them).
    async fn provisioning_settings(&self, org: OrgId) -> StoreResult<ProvisioningSettings>;
    /// Everyone an applied run changed, as they were before it.
    async fn run_touches(&self, org: OrgId, run: RunId) -> StoreResult<Vec<Touch>>;
    /// What a run changed in its source's rosters (none kept for runs that changed none); for
    /// a held run, what approving it would change, as worked out when it was held.
    async fn run_roster_changes(
        &self,
        org: OrgId,
        run: RunId,
    ) -> StoreResult<Option<RosterChanges>>;
    /// A held run's file, until it is approved or rejected.
    async fn held_file(&self, org: OrgId, run: RunId) -> StoreResult<Option<Vec<u8>>>;

    /// An org's import runs, newest first, of one source or all; at most `limit`.
    /// The org's runs, newest first; with their reports only when `reports` (a report holds a
    /// line per person, a history listing needs none).
    async fn runs(
        &self,
        org: OrgId,
        source: Option<SourceId>,
        limit: u64,
        reports: bool,
    ) -> StoreResult<Vec<RunRecord>>;
    async fn run(&self, org: OrgId, id: RunId) -> StoreResult<Option<RunRecord>>;

    async fn token_by_digest(&self, org: OrgId, digest: &str) -> StoreResult<Option<ApiToken>>;
    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>>;
}

/// One atomic step of a use case: what it reads here is locked against other writers until it
/// ends, and what it writes lands together on [`UnitOfWork::commit`], or not at all.
///
/// Writes of an existing user name the version they read and fail with
/// [`StoreError::Stale`] when it moved on. Business rules (which sessions end, which events
/// are written) are the caller's: a unit of work only stores.
#[async_trait]
pub trait UnitOfWork:
    learning::LearningWork + scim::ScimWork + segment::SegmentWork + Send
{
    async fn insert_org(&mut self, org: &Org) -> StoreResult<()>;

    /// The user, locked until this unit of work ends.
    async fn user(&mut self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;
    /// These users as this unit of work sees them, each with what their source last said of
    /// them (as [`Store::provisioning_known`] reads them, by id): an import run reads the
    /// people of a part as it writes them. With `lock`, their rows are locked until this unit
    /// of work ends, and the next [`UnitOfWork::update_users`] takes them from this read (each
    /// locked read replaces the last); without, they are only read.
    async fn provisioning_users(
        &mut self,
        org: OrgId,
        ids: &[UserId],
        lock: bool,
    ) -> StoreResult<Vec<Known>>;
    /// Inserts users of one org with their search entries. A large batch is the bulk path:
    /// one conflict rejects the whole unit of work.
    async fn insert_users(&mut self, org: OrgId, users: &[User]) -> StoreResult<()>;
    /// Replaces a user read at `expected_version` by `user` (whose version is one more).
    async fn update_user(&mut self, user: &User, expected_version: i64) -> StoreResult<()>;
    /// Replaces many users at once, each read at the version given with it (an import's
    /// changes): a few statements for all of them, not a few each. One missing or stale user
    /// fails the whole unit of work.
    async fn update_users(&mut self, users: &[(User, i64)]) -> StoreResult<()>;
    /// Appends audit events.
    async fn record(&mut self, events: &[AuditEvent]) -> StoreResult<()>;

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()>;
    async fn delete_session(&mut self, org: OrgId, digest: &str) -> StoreResult<()>;
    /// Ends every session of a user but `keep` (the one changing its password, say).
    async fn delete_user_sessions(
        &mut self,
        org: OrgId,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<()>;

    /// Ends every session of these users.
    async fn delete_sessions_of(&mut self, org: OrgId, users: &[UserId]) -> StoreResult<()>;

    async fn insert_token(&mut self, token: &ApiToken) -> StoreResult<()>;
    /// Revokes every live token of a user; returns how many there were.
    async fn revoke_user_tokens(
        &mut self,
        org: OrgId,
        user: UserId,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// Revokes every live token of these users; returns how many each had (those with none
    /// are left out).
    async fn revoke_tokens_of(
        &mut self,
        org: OrgId,
        users: &[UserId],
        at: Timestamp,
    ) -> StoreResult<Vec<(UserId, u64)>>;
    /// Marks a token revoked; `false` when no such live token exists.
    async fn revoke_token(&mut self, org: OrgId, id: TokenId, at: Timestamp) -> StoreResult<bool>;

    /// The throttle runs of `keys`, locked until this unit of work ends. A key never seen
    /// comes back fresh (no failures, last at 0), so the answer holds every key.
    async fn lock_throttle_runs(&mut self, keys: &[&str]) -> StoreResult<Vec<ThrottleRun>>;
    /// Writes runs, replacing what their keys held.
    async fn put_throttle_runs(&mut self, runs: &[ThrottleRun]) -> StoreResult<()>;
    /// Forgets runs whose last attempt came before `before_micros`, a batch of at most 1,000
    /// that no other unit of work holds; how many went.
    async fn prune_throttle_runs(&mut self, before_micros: i64) -> StoreResult<u64>;
    /// The shared secret called `name`; `fresh` becomes it when there is none yet, so every
    /// server reads the same value whichever came first.
    async fn server_secret(&mut self, name: &str, fresh: &str) -> StoreResult<String>;

    async fn insert_source(&mut self, source: &SourceSettings) -> StoreResult<()>;
    async fn insert_run(&mut self, run: &RunRecord) -> StoreResult<()>;
    /// Adds `lines` at the end of a kept run's report: a long run's report is written a part
    /// at a time after its run, never held whole.
    async fn add_report_lines(
        &mut self,
        org: OrgId,
        run: RunId,
        lines: &[ReportLine],
    ) -> StoreResult<()>;
    /// Rewrites a kept run (a held one approved or rejected, an applied one undone) that is
    /// still as read: outcome `was` and not undone. `false` when someone else decided first.
    async fn update_run(&mut self, run: &RunRecord, was: Outcome) -> StoreResult<bool>;
    /// Moves the source on from `version`, as a run planned at that version is applied;
    /// `false` when another run moved it first (the plan is stale). Two runs of one source never
    /// apply over each other.
    async fn claim_source(
        &mut self,
        org: OrgId,
        source: SourceId,
        version: i64,
    ) -> StoreResult<bool>;
    /// Names (or clears) the folder a source's files are dropped into.
    async fn set_drop_folder(
        &mut self,
        org: OrgId,
        source: SourceId,
        folder: Option<&str>,
    ) -> StoreResult<bool>;
    /// Claims a dropped file (by name and SHA-256) for import; `false` when another server
    /// process claimed it first.
    async fn claim_drop(
        &mut self,
        org: OrgId,
        source: SourceId,
        file_name: &str,
        checksum: &str,
        by: &str,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Writes a source's classes (new ones take the ids given; known ones keep theirs) and,
    /// when `full`, removes the source's classes not among them, with their members.
    async fn put_rosters(
        &mut self,
        org: OrgId,
        source: SourceId,
        rosters: &[Roster],
        full: bool,
    ) -> StoreResult<()>;
    /// Removes these classes of the source, with their members.
    async fn delete_rosters(
        &mut self,
        org: OrgId,
        source: SourceId,
        external_ids: &[String],
    ) -> StoreResult<()>;
    /// Writes memberships by the class's external id; when `full`, every membership of the
    /// source's rosters is replaced. `removed` memberships are taken out.
    async fn put_members(
        &mut self,
        org: OrgId,
        source: SourceId,
        members: &[(String, UserId, MemberRole)],
        removed: &[(String, UserId)],
        full: bool,
    ) -> StoreResult<()>;
    async fn insert_touches(
        &mut self,
        org: OrgId,
        run: RunId,
        touches: &[Touch],
    ) -> StoreResult<()>;
    /// A source's enrolments, by their ids in the source.
    async fn source_enrolments(
        &mut self,
        org: OrgId,
        source: SourceId,
    ) -> StoreResult<Vec<Enrolment>>;
    /// Writes a source's enrolments (each replacing the one of its id); when `full`, they
    /// replace every enrolment of the source. `gone` enrolments are taken out.
    async fn put_enrolments(
        &mut self,
        org: OrgId,
        source: SourceId,
        enrolments: &[Enrolment],
        gone: &[String],
        full: bool,
    ) -> StoreResult<()>;
    /// The orgs a source's packages named (schools, districts), by their ids in the source.
    async fn source_orgs(&mut self, org: OrgId, source: SourceId) -> StoreResult<Vec<SourceOrg>>;
    /// Keeps the orgs a package sent, each replacing the one of its id; when `sent.full`, they
    /// replace every org the source had. Its `gone` orgs are taken out.
    async fn put_source_orgs(
        &mut self,
        org: OrgId,
        source: SourceId,
        sent: &OrgsSent,
    ) -> StoreResult<()>;
    /// A source's rosters and their seats, as this unit of work sees them.
    async fn source_rosters(&mut self, org: OrgId, source: SourceId) -> StoreResult<RosterState>;
    /// Keeps what a run changed in its source's rosters, for its undo (or, for a held run,
    /// what approving it would change), in place of what was kept for it before.
    async fn put_run_roster_changes(
        &mut self,
        org: OrgId,
        run: RunId,
        changes: &RosterChanges,
    ) -> StoreResult<()>;
    /// Forgets what was kept of a run's roster changes (a held run's, when it is rejected).
    async fn delete_run_roster_changes(&mut self, org: OrgId, run: RunId) -> StoreResult<()>;
    /// Writes the undo of a run's roster changes.
    async fn undo_rosters(&mut self, org: OrgId, undo: &RosterUndo) -> StoreResult<()>;
    async fn put_held_file(&mut self, org: OrgId, run: RunId, file: &[u8]) -> StoreResult<()>;
    async fn delete_held_file(&mut self, org: OrgId, run: RunId) -> StoreResult<()>;
    async fn put_provisioning_settings(
        &mut self,
        org: OrgId,
        settings: &ProvisioningSettings,
    ) -> StoreResult<()>;
    /// Pauses or resumes a source; `false` when there is no such source.
    async fn set_source_paused(
        &mut self,
        org: OrgId,
        id: SourceId,
        paused: bool,
    ) -> StoreResult<bool>;
    /// Records what a source now says of each of these users (without a row's digest: their
    /// next row is read whole).
    async fn put_said(&mut self, org: OrgId, said: &[(UserId, Said)]) -> StoreResult<()>;
    /// Records what a source now says of each of these listed users, with their row's digest
    /// as of their version.
    async fn put_sent(&mut self, org: OrgId, sent: &[Sent]) -> StoreResult<()>;
    /// Forgets what sources said of these users (as if they never had).
    async fn forget_said(&mut self, org: OrgId, users: &[UserId]) -> StoreResult<()>;

    /// Applies everything written, at once.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
