//! The columns both backends store, and their conversion to and from domain values.
//!
//! Timestamps are kept as microseconds since the Unix epoch (UTC) in both databases: exact,
//! totally ordered, identical across backends. Attributes travel as JSON text.

use chrono::{DateTime, Utc};
use rollcall_domain::provisioning::{
    Before, Decision, Digest, Enrolled, Known, MissingPolicy, ReportLine, RunRecord, Said,
    SourceSettings, Touch,
};
use rollcall_domain::roster::{MemberRole, Roster};
use rollcall_domain::{
    Actor, ApiToken, Attributes, AuditAction, AuditEvent, Email, EventId, ExternalId, FieldError,
    Org, OrgId, OrgName, OrgSlug, PasswordHash, PersonName, Reason, RosterId, RunId, Session,
    Source, SourceId, StoredActor, StoredUser, Timestamp, TokenId, User, UserId, Username,
};
use uuid::Uuid;

use crate::StoreError;
use crate::value::Value;

/// The user columns, in the order [`crate::bind_user_columns!`] binds them.
pub const USER_COLUMNS: &str = "org_id, user_id, username, username_key, username_skeleton, email, \
    email_key, given_name, family_name, given_key, family_key, role, status, source, \
    external_id, prevent_archiving, password_hash, must_change_password, attributes, \
    search_text, created_at, updated_at, status_changed_at, version";
pub const USER_COLUMN_COUNT: usize = 24;

/// [`USER_COLUMNS`], each prefixed with the `u.` alias listings use.
pub fn user_columns_of_u() -> String {
    columns_of("u", USER_COLUMNS)
}

/// `columns` (a list such as [`USER_COLUMNS`]), each prefixed with `alias`.
pub fn columns_of(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|column| format!("{alias}.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Users as [`UserColumns`] read them, then what their source last said (`said`), up to
/// `where u.org_id = `: the org's value comes next.
pub fn select_known() -> String {
    format!(
        "select {}, s.said from user_account u left join source_said s \
         on s.org_id = u.org_id and s.user_id = u.user_id where u.org_id = ",
        user_columns_of_u()
    )
}

pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
    }
}

pub fn micros(at: Timestamp) -> i64 {
    at.timestamp_micros()
}

pub fn from_micros(value: i64) -> Result<Timestamp, StoreError> {
    DateTime::<Utc>::from_timestamp_micros(value).ok_or_else(|| corrupt("timestamp"))
}

fn parse_opt<T>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, StoreError> {
    raw.map(parse).transpose().map_err(corrupt)
}

/// Every value of a user row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserColumns {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub username: Option<String>,
    pub username_key: Option<String>,
    pub username_skeleton: Option<String>,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub given_key: String,
    pub family_key: String,
    pub role: String,
    pub status: String,
    pub source: String,
    pub external_id: Option<String>,
    pub prevent_archiving: bool,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub attributes: String,
    pub search_text: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub status_changed_at: i64,
    pub version: i64,
}

impl UserColumns {
    pub fn from_user(user: &User) -> Self {
        use rollcall_domain::search::{search_text, sort_key};
        Self {
            org_id: user.org_id().as_uuid(),
            user_id: user.id().as_uuid(),
            username: user.username().map(|u| u.as_str().to_owned()),
            username_key: user.username().map(Username::key),
            username_skeleton: user.username().map(Username::skeleton),
            email: user.email().map(|e| e.as_str().to_owned()),
            email_key: user.email().map(Email::key),
            given_name: user.given_name().as_str().to_owned(),
            family_name: user.family_name().as_str().to_owned(),
            given_key: sort_key(user.given_name().as_str()),
            family_key: sort_key(user.family_name().as_str()),
            role: user.role().as_str().to_owned(),
            status: user.status().as_str().to_owned(),
            source: user.source().as_str().to_owned(),
            external_id: user.external_id().map(|e| e.as_str().to_owned()),
            prevent_archiving: user.prevent_archiving(),
            password_hash: user.password().map(|p| p.as_str().to_owned()),
            must_change_password: user.must_change_password(),
            attributes: serde_json::to_string(user.attributes())
                .unwrap_or_else(|_| "{}".to_owned()),
            search_text: search_text(&user.search_terms()),
            created_at: micros(user.created_at()),
            updated_at: micros(user.updated_at()),
            status_changed_at: micros(user.status_changed_at()),
            version: user.version(),
        }
    }

    /// The values of [`USER_COLUMNS`], in order.
    pub fn values(&self) -> Vec<Value> {
        let mut values = Vec::with_capacity(USER_COLUMN_COUNT);
        macro_rules! each {
            ($($column:ident),+ $(,)?) => { $(values.push(self.$column.clone().into());)+ };
        }
        each!(
            org_id,
            user_id,
            username,
            username_key,
            username_skeleton,
            email,
            email_key,
            given_name,
            family_name,
            given_key,
            family_key,
            role,
            status,
            source,
            external_id,
            prevent_archiving,
            password_hash,
            must_change_password,
            attributes,
            search_text,
            created_at,
            updated_at,
            status_changed_at,
            version,
        );
        values
    }

    /// The columns whose value differs in `new`, with their new values. Writing only these
    /// keeps a status change from rewriting every index of the row (SQLite rewrites each index
    /// naming an assigned column).
    pub fn changed_columns(&self, new: &Self) -> Vec<(&'static str, Value)> {
        USER_COLUMNS
            .split(',')
            .map(str::trim)
            .zip(self.values().into_iter().zip(new.values()))
            .filter(|(_, (old, new))| old != new)
            .map(|(column, (_, new))| (column, new))
            .collect()
    }

    /// The user's search terms, space-separated (the search text without its outer spaces).
    pub fn terms(&self) -> &str {
        self.search_text.trim()
    }

    pub fn into_user(self) -> Result<User, StoreError> {
        let attributes = serde_json::from_str(&self.attributes).map_err(corrupt)?;
        Ok(User::from_stored(StoredUser {
            id: UserId::from_uuid(self.user_id),
            org_id: OrgId::from_uuid(self.org_id),
            username: self.username.map(Username::from_stored),
            email: self.email.map(Email::from_stored),
            given_name: PersonName::from_stored(self.given_name),
            family_name: PersonName::from_stored(self.family_name),
            role: self.role.parse().map_err(corrupt)?,
            status: self.status.parse().map_err(corrupt)?,
            source: Source::parse(&self.source).map_err(corrupt)?,
            external_id: self.external_id.map(ExternalId::from_stored),
            prevent_archiving: self.prevent_archiving,
            password: self.password_hash.map(PasswordHash::from_stored),
            must_change_password: self.must_change_password,
            attributes: Attributes::from_stored(&attributes),
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            status_changed_at: from_micros(self.status_changed_at)?,
            version: self.version,
        }))
    }
}

/// Binds the values of [`USER_COLUMNS`], in order, onto a query or a query builder's row.
#[macro_export]
macro_rules! bind_user_columns {
    ($q:expr, $bind:ident, $row:expr) => {{
        let r = $row;
        $q.$bind(r.org_id)
            .$bind(r.user_id)
            .$bind(r.username.clone())
            .$bind(r.username_key.clone())
            .$bind(r.username_skeleton.clone())
            .$bind(r.email.clone())
            .$bind(r.email_key.clone())
            .$bind(r.given_name.clone())
            .$bind(r.family_name.clone())
            .$bind(r.given_key.clone())
            .$bind(r.family_key.clone())
            .$bind(r.role.clone())
            .$bind(r.status.clone())
            .$bind(r.source.clone())
            .$bind(r.external_id.clone())
            .$bind(r.prevent_archiving)
            .$bind(r.password_hash.clone())
            .$bind(r.must_change_password)
            .$bind(r.attributes.clone())
            .$bind(r.search_text.clone())
            .$bind(r.created_at)
            .$bind(r.updated_at)
            .$bind(r.status_changed_at)
            .$bind(r.version)
    }};
}

/// The event columns, in the order [`crate::bind_event_columns!`] binds them.
pub const EVENT_COLUMNS: &str = "event_id, org_id, user_id, at, actor_kind, actor_user_id, \
    actor_label, action, from_status, to_status, reason, changed_fields, actor_id, run_id";
pub const EVENT_COLUMN_COUNT: usize = 14;

/// Every value of an audit event row.
#[derive(Debug, sqlx::FromRow)]
pub struct EventColumns {
    pub event_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub at: i64,
    pub actor_kind: String,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: Option<String>,
    pub changed_fields: String,
    /// The token's or the source's id.
    pub actor_id: Option<Uuid>,
    /// The import run or SCIM request that made the change.
    pub run_id: Option<Uuid>,
}

impl EventColumns {
    pub fn from_event(event: &AuditEvent) -> Self {
        let actor = event.actor.to_stored();
        Self {
            event_id: event.id.as_uuid(),
            org_id: event.org_id.as_uuid(),
            user_id: event.user_id.as_uuid(),
            at: micros(event.at),
            actor_kind: actor.kind,
            actor_user_id: actor.user_id.map(|id| id.as_uuid()),
            actor_label: actor.label,
            action: event.action.as_str().to_owned(),
            from_status: event.from_status.map(|s| s.as_str().to_owned()),
            to_status: event.to_status.map(|s| s.as_str().to_owned()),
            reason: event.reason.as_ref().map(|r| r.as_str().to_owned()),
            changed_fields: serde_json::to_string(&event.changed_fields)
                .unwrap_or_else(|_| "[]".to_owned()),
            actor_id: actor.actor_id,
            run_id: actor.run_id.map(|id| id.as_uuid()),
        }
    }

    /// The values of [`EVENT_COLUMNS`], in order.
    pub fn values(self) -> [Value; EVENT_COLUMN_COUNT] {
        [
            self.event_id.into(),
            self.org_id.into(),
            self.user_id.into(),
            self.at.into(),
            self.actor_kind.into(),
            self.actor_user_id.into(),
            self.actor_label.into(),
            self.action.into(),
            self.from_status.into(),
            self.to_status.into(),
            self.reason.into(),
            self.changed_fields.into(),
            self.actor_id.into(),
            self.run_id.into(),
        ]
    }

    pub fn into_event(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: EventId::from_uuid(self.event_id),
            org_id: OrgId::from_uuid(self.org_id),
            user_id: UserId::from_uuid(self.user_id),
            at: from_micros(self.at)?,
            actor: Actor::from_stored(StoredActor {
                kind: self.actor_kind,
                user_id: self.actor_user_id.map(UserId::from_uuid),
                actor_id: self.actor_id,
                label: self.actor_label,
                run_id: self.run_id.map(RunId::from_uuid),
            })
            .ok_or_else(|| corrupt("an event's actor"))?,
            action: AuditAction::from_stored(&self.action).ok_or_else(|| corrupt(&self.action))?,
            from_status: parse_opt(self.from_status.as_deref(), str::parse)?,
            to_status: parse_opt(self.to_status.as_deref(), str::parse)?,
            reason: Reason::parse(self.reason.as_deref()).map_err(corrupt)?,
            changed_fields: serde_json::from_str(&self.changed_fields).map_err(corrupt)?,
        })
    }
}

/// Binds the values of [`EVENT_COLUMNS`], in order.
#[macro_export]
macro_rules! bind_event_columns {
    ($q:expr, $bind:ident, $row:expr) => {{
        let r = $row;
        $q.$bind(r.event_id)
            .$bind(r.org_id)
            .$bind(r.user_id)
            .$bind(r.at)
            .$bind(r.actor_kind.clone())
            .$bind(r.actor_user_id)
            .$bind(r.actor_label.clone())
            .$bind(r.action.clone())
            .$bind(r.from_status.clone())
            .$bind(r.to_status.clone())
            .$bind(r.reason.clone())
            .$bind(r.changed_fields.clone())
            .$bind(r.actor_id)
            .$bind(r.run_id)
    }};
}

#[derive(Debug, sqlx::FromRow)]
pub struct OrgColumns {
    pub org_id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

impl OrgColumns {
    pub fn into_org(self) -> Result<Org, StoreError> {
        Ok(Org {
            id: OrgId::from_uuid(self.org_id),
            slug: OrgSlug::parse(&self.slug).map_err(corrupt)?,
            name: OrgName::parse(&self.name).map_err(corrupt)?,
            created_at: from_micros(self.created_at)?,
        })
    }
}

/// A provisioning source's columns.
#[derive(Debug, sqlx::FromRow)]
pub struct SourceColumns {
    pub org_id: Uuid,
    pub source_id: Uuid,
    pub name: String,
    pub format: String,
    pub mode: String,
    pub missing_student: String,
    pub missing_teacher: String,
    pub missing_staff: String,
    pub missing_admin: String,
    pub paused: bool,
    pub created_at: i64,
    pub drop_folder: Option<String>,
    pub version: i64,
}

impl SourceColumns {
    pub fn values(source: &SourceSettings) -> Vec<Value> {
        let policy = &source.policy;
        vec![
            source.org_id.as_uuid().into(),
            source.id.as_uuid().into(),
            source.name.as_str().into(),
            source.format.as_str().into(),
            source.mode.as_str().into(),
            policy.student.as_str().into(),
            policy.teacher.as_str().into(),
            policy.staff.as_str().into(),
            policy.admin.as_str().into(),
            source.paused.into(),
            micros(source.created_at).into(),
            source.drop_folder.clone().into(),
            source.version.into(),
        ]
    }

    pub fn into_source(self) -> Result<SourceSettings, StoreError> {
        Ok(SourceSettings {
            id: SourceId::from_uuid(self.source_id),
            org_id: OrgId::from_uuid(self.org_id),
            name: Source::parse(&self.name).map_err(corrupt)?,
            format: self.format.parse().map_err(corrupt)?,
            mode: self.mode.parse().map_err(corrupt)?,
            policy: MissingPolicy {
                student: self.missing_student.parse().map_err(corrupt)?,
                teacher: self.missing_teacher.parse().map_err(corrupt)?,
                staff: self.missing_staff.parse().map_err(corrupt)?,
                admin: self.missing_admin.parse().map_err(corrupt)?,
            },
            paused: self.paused,
            drop_folder: self.drop_folder,
            created_at: from_micros(self.created_at)?,
            version: self.version,
        })
    }
}

/// The columns of [`SourceColumns`], in the order of its values.
pub const SOURCE_COLUMNS: &str = "org_id, source_id, name, format, mode, missing_student, \
    missing_teacher, missing_staff, missing_admin, paused, created_at, drop_folder, version";

/// An import run's columns.
#[derive(Debug, sqlx::FromRow)]
pub struct RunColumns {
    pub org_id: Uuid,
    pub run_id: Uuid,
    pub source_id: Uuid,
    pub actor_label: String,
    pub file_name: String,
    pub checksum: String,
    pub mode: String,
    pub outcome: String,
    pub counts: String,
    pub report: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub undone_by: Option<String>,
    pub undone_at: Option<i64>,
    pub notes: String,
}

/// A run's columns beside one part of its report (`None` for a run without parts): a run and
/// its parts are read by one statement, so they are read as of one moment.
#[derive(Debug, sqlx::FromRow)]
pub struct RunPartColumns {
    #[sqlx(flatten)]
    pub run: RunColumns,
    pub lines: Option<String>,
}

impl RunPartColumns {
    /// The statement reading the runs `runs` selects (`select … from import_run …`, naming
    /// [`RUN_COLUMNS`]), each with its parts, in the order `order` gives (over the runs'
    /// columns) and then part by part.
    pub fn select(runs: &str, order: &str) -> String {
        format!(
            "select {}, p.lines from ({runs}) r left join import_run_report p \
             on p.org_id = r.org_id and p.run_id = r.run_id order by {order}, p.part",
            columns_of("r", RUN_COLUMNS)
        )
    }

    /// Rows of runs and their parts, in order, as runs: each run's report is the lines its
    /// row kept (runs written before the parts), then its parts' lines.
    pub fn into_runs(rows: Vec<Self>) -> Result<Vec<RunRecord>, StoreError> {
        let mut runs: Vec<RunRecord> = Vec::new();
        for Self { run, lines } in rows {
            let seen = runs
                .last()
                .is_some_and(|last| last.id.as_uuid() == run.run_id);
            if !seen {
                runs.push(run.into_run()?);
            }
            if let (Some(lines), Some(last)) = (lines, runs.last_mut()) {
                let part: Vec<ReportLine> = serde_json::from_str(&lines).map_err(corrupt)?;
                last.report.extend(part);
            }
        }
        Ok(runs)
    }
}

/// Lines of a run's report stored as one row of `import_run_report`.
pub const REPORT_PART: usize = 10_000;

/// The columns of [`RunColumns`], in the order of its values.
pub const RUN_COLUMNS: &str = "org_id, run_id, source_id, actor_label, file_name, checksum, \
    mode, outcome, counts, report, started_at, finished_at, decided_by, decided_at, undone_by, \
    undone_at, notes";

impl RunColumns {
    pub fn values(run: &RunRecord) -> Vec<Value> {
        vec![
            run.org_id.as_uuid().into(),
            run.id.as_uuid().into(),
            run.source_id.as_uuid().into(),
            run.actor_label.as_str().into(),
            run.file_name.as_str().into(),
            run.checksum.as_str().into(),
            run.mode.as_str().into(),
            run.outcome.as_str().into(),
            Self::counts(run).into(),
            // The report goes to `import_run_report`, a part at a time (see `report_parts`).
            "[]".into(),
            micros(run.started_at).into(),
            micros(run.finished_at).into(),
            run.decided.as_ref().map(|d| d.by.clone()).into(),
            run.decided.as_ref().map(|d| micros(d.at)).into(),
            run.undone.as_ref().map(|d| d.by.clone()).into(),
            run.undone.as_ref().map(|d| micros(d.at)).into(),
            serde_json::to_string(&run.notes)
                .unwrap_or_else(|_| "[]".to_owned())
                .into(),
        ]
    }

    /// The run's counts as stored: JSON.
    pub fn counts(run: &RunRecord) -> String {
        serde_json::to_string(&run.counts).unwrap_or_else(|_| "{}".to_owned())
    }

    /// A run's report lines as stored in `import_run_report`: JSON arrays of up to
    /// [`REPORT_PART`] lines each, in order. A run of a million people is never one value of a
    /// million lines, which the database would copy twice more as it writes it.
    pub fn report_parts(lines: &[ReportLine]) -> impl Iterator<Item = String> + '_ {
        lines
            .chunks(REPORT_PART)
            .map(|part| serde_json::to_string(part).unwrap_or_else(|_| "[]".to_owned()))
    }

    pub fn into_run(self) -> Result<RunRecord, StoreError> {
        Ok(RunRecord {
            id: RunId::from_uuid(self.run_id),
            org_id: OrgId::from_uuid(self.org_id),
            source_id: SourceId::from_uuid(self.source_id),
            actor_label: self.actor_label,
            file_name: self.file_name,
            checksum: self.checksum,
            mode: self.mode.parse().map_err(corrupt)?,
            outcome: self.outcome.parse().map_err(corrupt)?,
            counts: serde_json::from_str(&self.counts).map_err(corrupt)?,
            report: serde_json::from_str(&self.report).map_err(corrupt)?,
            started_at: from_micros(self.started_at)?,
            finished_at: from_micros(self.finished_at)?,
            decided: decision(self.decided_by, self.decided_at)?,
            undone: decision(self.undone_by, self.undone_at)?,
            notes: serde_json::from_str(&self.notes).map_err(corrupt)?,
        })
    }
}

fn decision(by: Option<String>, at: Option<i64>) -> Result<Option<Decision>, StoreError> {
    match (by, at) {
        (Some(by), Some(at)) => Ok(Some(Decision {
            by,
            at: from_micros(at)?,
        })),
        (None, None) => Ok(None),
        _ => Err(StoreError::Corrupt {
            what: "a run's decision has a name without a time, or a time without a name".into(),
        }),
    }
}

/// One row of `run_touch`: a person an applied run changed, as they were before it.
#[derive(Debug, sqlx::FromRow)]
pub struct TouchColumns {
    pub user_id: Uuid,
    pub version_after: i64,
    pub status_before: Option<String>,
    pub source_before: Option<String>,
    pub external_id_before: Option<String>,
    pub said_before: Option<String>,
}

/// The columns of `run_touch`, in the order of [`TouchColumns::values`].
pub const TOUCH_COLUMNS: &str = "org_id, run_id, user_id, version_after, status_before, \
    source_before, external_id_before, said_before";

impl TouchColumns {
    pub fn values(org: OrgId, run: RunId, touch: &Touch) -> Vec<Value> {
        let before = touch.before.as_ref();
        vec![
            org.as_uuid().into(),
            run.as_uuid().into(),
            touch.user.as_uuid().into(),
            touch.version_after.into(),
            before.map(|b| b.status.as_str().to_owned()).into(),
            before.map(|b| b.source.as_str().to_owned()).into(),
            before
                .and_then(|b| b.external_id.as_ref())
                .map(|id| id.as_str().to_owned())
                .into(),
            before
                .and_then(|b| b.said)
                .map(|said| said.as_str().to_owned())
                .into(),
        ]
    }

    pub fn into_touch(self) -> Result<Touch, StoreError> {
        let before = match (self.status_before, self.source_before) {
            (Some(status), Some(source)) => Some(Before {
                status: status.parse().map_err(corrupt)?,
                source: Source::parse(&source).map_err(corrupt)?,
                external_id: self.external_id_before.map(ExternalId::from_stored),
                said: parse_said(self.said_before.as_deref())?,
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::Corrupt {
                    what: "a run's touch has a status without a source, or a source without a \
                           status"
                        .into(),
                });
            }
        };
        Ok(Touch {
            user: UserId::from_uuid(self.user_id),
            version_after: self.version_after,
            before,
        })
    }
}

/// A roster's columns.
#[derive(Debug, sqlx::FromRow)]
pub struct RosterColumns {
    pub org_id: Uuid,
    pub roster_id: Uuid,
    pub source_id: Uuid,
    pub external_id: String,
    pub title: String,
    pub code: String,
    pub school: String,
}

/// The columns of [`RosterColumns`], in the order of its values.
pub const ROSTER_COLUMNS: &str = "org_id, roster_id, source_id, external_id, title, code, school";

impl RosterColumns {
    pub fn values(roster: &Roster) -> Vec<Value> {
        vec![
            roster.org_id.as_uuid().into(),
            roster.id.as_uuid().into(),
            roster.source_id.as_uuid().into(),
            roster.external_id.as_str().into(),
            roster.title.as_str().into(),
            roster.code.as_str().into(),
            roster.school.as_str().into(),
        ]
    }

    pub fn into_roster(self) -> Roster {
        Roster {
            id: RosterId::from_uuid(self.roster_id),
            org_id: OrgId::from_uuid(self.org_id),
            source_id: SourceId::from_uuid(self.source_id),
            external_id: self.external_id,
            title: self.title,
            code: self.code,
            school: self.school,
        }
    }
}

/// A membership with its member's status.
#[derive(Debug, sqlx::FromRow)]
pub struct MembershipColumns {
    pub roster_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub status: String,
}

/// A member, whole, with their role.
#[derive(Debug, sqlx::FromRow)]
pub struct MemberColumns {
    #[sqlx(flatten)]
    pub user: UserColumns,
    pub role: String,
}

pub fn member_role(text: &str) -> Result<MemberRole, StoreError> {
    MemberRole::from_stored(text).ok_or_else(|| StoreError::Corrupt {
        what: format!("'{text}' is not a roster role"),
    })
}

/// What a source said, as stored.
pub fn parse_said(said: Option<&str>) -> Result<Option<Said>, StoreError> {
    said.map(str::parse::<Said>).transpose().map_err(corrupt)
}

/// A stored digest (16 bytes).
pub fn parse_digest(bytes: &[u8]) -> Result<Digest, StoreError> {
    <[u8; 16]>::try_from(bytes).map(Digest).map_err(corrupt)
}

/// The columns of a source's roll ([`Enrolled`]): the digest only while the user's version is
/// the one it was kept with.
pub const ROLL_COLUMNS: &str = "u.external_id, u.user_id, u.status, u.role, u.prevent_archiving, \
     s.said, case when s.digest_version = u.version then s.digest end as digest";

/// One user of a source's roll.
#[derive(Debug, sqlx::FromRow)]
pub struct RollColumns {
    pub external_id: Option<String>,
    pub user_id: Uuid,
    pub status: String,
    pub role: String,
    pub prevent_archiving: bool,
    pub said: Option<String>,
    pub digest: Option<Vec<u8>>,
}

impl RollColumns {
    pub fn into_enrolled(self) -> Result<(String, Enrolled), StoreError> {
        let user = UserId::from_uuid(self.user_id);
        Ok((
            self.external_id.unwrap_or_else(|| user.to_string()),
            Enrolled {
                user,
                status: self.status.parse().map_err(corrupt)?,
                role: self.role.parse().map_err(corrupt)?,
                prevent_archiving: self.prevent_archiving,
                said: parse_said(self.said.as_deref())?,
                sent: self.digest.as_deref().map(parse_digest).transpose()?,
            },
        ))
    }
}

/// A user row with what their source last said of them.
#[derive(Debug, sqlx::FromRow)]
pub struct KnownColumns {
    #[sqlx(flatten)]
    pub user: UserColumns,
    pub said: Option<String>,
}

impl KnownColumns {
    pub fn into_known(self) -> Result<Known, StoreError> {
        Ok(Known {
            said: parse_said(self.said.as_deref())?,
            user: self.user.into_user()?,
        })
    }
}

/// One key's run of sign-in failures.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRun {
    pub key: String,
    /// Attempts counted since the run began (none: a fresh or faded key).
    pub failures: i64,
    /// When the last attempt came, in microseconds since the epoch (0 for a fresh key).
    pub last_at: i64,
}

/// The session columns, read back joined to their user's.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionColumns {
    pub digest: String,
    pub csrf_token: String,
    pub session_created_at: i64,
    pub expires_at: i64,
}

impl SessionColumns {
    pub fn into_session(self, user: &User) -> Result<Session, StoreError> {
        Ok(Session {
            digest: self.digest,
            org_id: user.org_id(),
            user_id: user.id(),
            csrf_token: self.csrf_token,
            created_at: from_micros(self.session_created_at)?,
            expires_at: from_micros(self.expires_at)?,
        })
    }
}

/// A session read back with its user.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionUserColumns {
    #[sqlx(flatten)]
    pub session: SessionColumns,
    #[sqlx(flatten)]
    pub user: UserColumns,
}

#[derive(Debug, sqlx::FromRow)]
pub struct TokenColumns {
    pub token_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub digest: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl TokenColumns {
    pub fn into_token(self) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: TokenId::from_uuid(self.token_id),
            org_id: OrgId::from_uuid(self.org_id),
            user_id: UserId::from_uuid(self.user_id),
            name: self.name,
            digest: self.digest,
            created_at: from_micros(self.created_at)?,
            revoked_at: self.revoked_at.map(from_micros).transpose()?,
        })
    }
}
