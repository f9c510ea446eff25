//! Rollcall's use cases. Each one checks the caller's powers, asks the domain, and writes what
//! the domain decided (the change, its audit events, the sessions it ends) in one unit of work.
//!
//! The web and CLI layers call these and nothing below them.

mod error;
mod forms;
mod learning;
mod listing;
mod orgs;
mod passwords;
mod provisioning;
mod reports;
mod rosters;
mod scim;
mod segments;
mod sessions;
mod status;
mod throttle;
mod tokens;
mod users;

use std::collections::HashMap;
use std::sync::Arc;

use rollcall_domain::{Actor, AuditEvent, OrgId, Role, Timestamp, User, UserChange, UserId};
use rollcall_store::{Store, UnitOfWork};

pub use error::{AppError, ErrorClass};
pub use forms::FORM_TOKEN_HOURS;
pub use learning::{
    CourseSummary, Credits, Delivered, Enrolled, Finished, Mailer, MyCourse, SendError,
    TrainingHistory, Written,
};
pub use listing::{Cursor, ListUsers, UserPage};
pub use provisioning::{ImportOutcome, ImportRequest, NewSource, SettingsChange, Undo};
pub use rollcall_store::{StoreError, UserSort};
pub use scim::{
    Connection, DEFAULT_REQUESTS_PER_MINUTE, NewConnection, ROLE_ATTRIBUTES, ScimCaller, ScimGroup,
    ScimRequestLine, ScimUser, if_match_allows,
};

pub use reports::{
    CSV_COLUMNS, DASHBOARD_MONTHS, MAX_REPORT_PAGE, ReportExport, ReportPage, ReportRequest,
    csv_header, decode_key, encode_key,
};
pub use rollcall_store::report::Figures;
pub use rollcall_store::report_rows::{CourseFigures, MonthFigures, ReportRow};
pub use rollcall_store::segment::{SegmentReach, SegmentTally};
pub use segments::{NewSegment, PREVIEW_MEMBERS, Segment, SegmentPreview};
pub use sessions::{SESSION_HOURS, SignedIn, Visitor, csrf_matches};
pub use status::{
    BulkChange, BulkOutcome, ChangeStatus, Changed, LeftOut, MAX_BULK, StatusChanged,
};
pub use users::{CreateUser, EditUser};

/// Where the time comes from; tests may substitute their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock, truncated to the microseconds both stores keep.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = chrono::Utc::now();
        chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}

/// Who is asking, within which org, with which powers.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: OrgId,
    pub actor: Actor,
    pub role: Role,
}

impl Principal {
    /// The operator at the command line (or Rollcall itself): an admin of `org_id`.
    pub fn system(org_id: OrgId, label: &str) -> Self {
        Self {
            org_id,
            actor: Actor::system(label),
            role: Role::Admin,
        }
    }

    /// A token's caller: its owner's powers, recorded as the token.
    pub fn token(token: &rollcall_domain::ApiToken, owner: &rollcall_domain::User) -> Self {
        Self {
            org_id: token.org_id,
            actor: Actor::Token {
                id: token.id,
                user_id: owner.id(),
                label: format!("{} (token {})", owner.display_name(), token.name),
            },
            role: owner.role(),
        }
    }

    /// A person in the console.
    pub fn user(user: &rollcall_domain::User) -> Self {
        Self {
            org_id: user.org_id(),
            actor: Actor::User {
                id: user.id(),
                label: user.display_name(),
            },
            role: user.role(),
        }
    }

    fn require_admin(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Teacher | Role::Staff | Role::Student => Err(AppError::Forbidden),
        }
    }
}

/// The use cases, over one store.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    throttle: Arc<throttle::Throttle>,
    /// Each SCIM connection's allowance of requests.
    scim_limits: Arc<scim::RateLimits>,
    /// Each SCIM connection's last requests.
    scim_log: Arc<scim::RequestLog>,
    /// SCIM writes waiting to be written together.
    scim_batch: Arc<scim::Batcher>,
    /// The key that signs sign-in forms, once read (see [`forms`]).
    form_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// How many rows of an import run are read, planned and written at once.
    import_part: usize,
}

impl App {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_clock(store, Arc::new(SystemClock))
    }

    pub fn with_clock(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        passwords::prepare();
        Self {
            store,
            clock,
            throttle: Arc::default(),
            scim_limits: Arc::default(),
            scim_log: Arc::default(),
            scim_batch: Arc::default(),
            form_key: Arc::default(),
            import_part: provisioning::IMPORT_PART,
        }
    }

    /// The same app, reading, planning and writing import runs `rows` at a time (five thousand
    /// by default): a test sees a short file cross its parts.
    #[must_use]
    pub fn with_import_part(mut self, rows: usize) -> Self {
        self.import_part = rows.max(1);
        self
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Which database this runs on: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Is the database answering?
    pub async fn healthy(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }
}

/// Writes one user's change as the domain decided it: the row (if still at `expected`), the
/// event recording it, and the end of the user's sessions when the change ends them (all but
/// `keep`, the session that made the change).
async fn write_change(
    uow: &mut dyn UnitOfWork,
    change: &UserChange,
    expected: i64,
    keep: Option<&str>,
) -> Result<(), AppError> {
    // The row is locked at `expected` by now: a stale write here is someone else's bug.
    uow.update_user(&change.user, expected).await?;
    uow.record(std::slice::from_ref(&change.event)).await?;
    let returning = learning::returning([change]);
    learning::enrol_joiners(uow, change.user.org_id(), &returning, change.event.at).await?;
    if change.ends_sessions {
        uow.delete_user_sessions(change.user.org_id(), change.user.id(), keep)
            .await?;
    }
    if change.revokes_tokens {
        let event = &change.event;
        let revoked = uow
            .revoke_user_tokens(change.user.org_id(), change.user.id(), event.at)
            .await?;
        if revoked > 0 {
            let revoked = change
                .user
                .tokens_revoked_event(&event.actor, event.at, revoked);
            uow.record(&[revoked]).await?;
        }
    }
    Ok(())
}

/// Writes many changes as `write_change` writes one, by the batch (an import run's): each
/// user's last state from the version before their first change, every event in one insert,
/// then the sessions and tokens the changes end. Used where no session is kept.
async fn write_changes(uow: &mut dyn UnitOfWork, changes: &[&UserChange]) -> Result<(), AppError> {
    let Some(first) = changes.first() else {
        return Ok(());
    };
    let org = first.user.org_id();
    // Per user, in the order first met: the index of their last change, and the version
    // their first change was made from.
    let mut last: HashMap<UserId, (usize, i64)> = HashMap::with_capacity(changes.len());
    let mut order = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        last.entry(change.user.id())
            .and_modify(|(at, _)| *at = i)
            .or_insert_with(|| {
                order.push(change.user.id());
                (i, change.user.version() - 1)
            });
    }
    let users: Vec<(User, i64)> = order
        .iter()
        .filter_map(|id| last.get(id))
        .map(|&(i, expected)| (changes[i].user.clone(), expected))
        .collect();
    uow.update_users(&users).await?;
    let events: Vec<AuditEvent> = changes.iter().map(|c| c.event.clone()).collect();
    uow.record(&events).await?;
    let returning = learning::returning(changes.iter().copied());
    learning::enrol_joiners(uow, org, &returning, first.event.at).await?;
    // Each user once, whichever of their changes ends their sessions.
    let ending: Vec<UserId> = changes
        .iter()
        .filter(|c| c.ends_sessions)
        .map(|c| c.user.id())
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    uow.delete_sessions_of(org, &ending).await?;
    // Tokens end with the first change that revokes them, as it recorded.
    let mut revoking: HashMap<UserId, &UserChange> = HashMap::new();
    for change in changes.iter().filter(|c| c.revokes_tokens) {
        revoking.entry(change.user.id()).or_insert(change);
    }
    let mut by_time: HashMap<Timestamp, Vec<UserId>> = HashMap::new();
    for (id, change) in &revoking {
        by_time.entry(change.event.at).or_default().push(*id);
    }
    let mut revoked_events = Vec::new();
    for (at, ids) in by_time {
        for (id, revoked) in uow.revoke_tokens_of(org, &ids, at).await? {
            if let Some(change) = revoking.get(&id).filter(|_| revoked > 0) {
                let event = &change.event;
                revoked_events.push(change.user.tokens_revoked_event(
                    &event.actor,
                    event.at,
                    revoked,
                ));
            }
        }
    }
    uow.record(&revoked_events).await?;
    Ok(())
}

/// The version a write must find: one the caller sent, or one read for them (a caller who sent
/// none must not be told which version they sent).
#[derive(Debug, Clone, Copy)]
enum Expected {
    Sent(i64),
    Read(i64),
}

impl Expected {
    fn from_input(sent: Option<i64>, read: i64) -> Self {
        sent.map_or(Self::Read(read), Self::Sent)
    }

    fn version(self) -> i64 {
        match self {
            Self::Sent(version) | Self::Read(version) => version,
        }
    }
}

/// The user, locked in `uow`, if they are still at the version expected.
async fn locked_at(
    uow: &mut dyn UnitOfWork,
    org: OrgId,
    id: rollcall_domain::UserId,
    expected: Expected,
) -> Result<rollcall_domain::User, AppError> {
    let user = uow.user(org, id).await?.ok_or(AppError::NotFound("user"))?;
    if user.version() != expected.version() {
        return Err(AppError::Stale {
            what: "user",
            sent: match expected {
                Expected::Sent(version) => Some(version),
                Expected::Read(_) => None,
            },
            current: user.version(),
        });
    }
    Ok(user)
}
