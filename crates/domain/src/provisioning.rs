//! Provisioning: planning a source's run against the people the org already has.
//!
//! A source (a roster feed, an HR export) sends its people as rows. [`plan`] compares them with
//! the org's users and says, person by person, what the run would do and why: create, link a
//! user the source did not manage yet, update fields, and change statuses (a disabled row makes
//! a user inactive, a re-enabled one active again; a full run that no longer lists someone
//! applies the org's policy for their role; someone who reappears is restored). It is pure: the
//! preview, the safeguard and the apply all read the same [`Plan`], and [`apply_in_memory`] is
//! the reference an applying store must agree with.
//!
//! **An admin's decision sticks.** For every user it manages, a source remembers what it last
//! said of them ([`Said`]). It moves a user's status only when what it says changes: re-running
//! an unchanged file never undoes an admin who deactivated, reactivated or restored someone.

mod apply;
#[cfg(test)]
mod tests;

pub use apply::{Applied, Applier, ApplyError, Before, Sent, Touch, Undone, apply_in_memory, undo};

use std::collections::{HashMap, HashSet};

use smallvec::{SmallVec, smallvec};

use apply::merged;
#[cfg(test)]
use apply::new_user;

use crate::error::FieldError;
use crate::ids::UserId;
use crate::rules;
use crate::status::{Role, Status};
use crate::user::{Attributes, Email, ExternalId, PersonName, Source, User, Username};
use crate::{OrgId, Timestamp};

/// A word stored for a value, and read back.
macro_rules! words {
    ($name:ident, $what:literal { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $word),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = FieldError;

            fn from_str(text: &str) -> Result<Self, FieldError> {
                match text.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok(Self::$variant),)+
                    other => Err(FieldError::new(
                        $what,
                        format!(
                            "'{other}' is not one of {}",
                            [$($word),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

words!(Said, "said" { Enabled => "enabled", Disabled => "disabled", Gone => "gone" });
words!(Mode, "mode" { Full => "full", Delta => "delta" });
words!(WhenMissing, "when_missing" { Archive => "archive", Deactivate => "deactivate", Keep => "keep" });
words!(Format, "format" { PlainCsv => "plain_csv", OneRoster => "oneroster", Scim => "scim" });

/// The file format a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Rollcall's documented columns, or other platforms' upload files.
    PlainCsv,
    /// OneRoster 1.1 or 1.2 CSV packages (zipped).
    OneRoster,
    /// A SCIM 2.0 connection: an identity provider sends people one request at a time, never
    /// files.
    Scim,
}

/// A provisioning source of an org: what it reads, how, and what it does to people it no
/// longer lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    pub id: crate::SourceId,
    pub org_id: OrgId,
    /// The name users' `source` carries.
    pub name: Source,
    pub format: Format,
    /// What a run is unless it says otherwise.
    pub mode: Mode,
    pub policy: MissingPolicy,
    /// A paused source's runs are refused until it is resumed.
    pub paused: bool,
    /// A folder `rollcall serve` watches for the source's files.
    pub drop_folder: Option<String>,
    pub created_at: Timestamp,
    /// Counts the runs applied (or undone) through the source: a run planned at one version
    /// applies only while the source is still at it.
    pub version: i64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied, all of it.
    Applied,
    /// Not applied: the file or a row could not be; the report says why.
    Refused,
    /// Not applied (yet): it would remove more people at once than the safeguard allows, and
    /// waits for an admin to approve or reject it.
    Held,
    /// Held, then rejected by an admin: never applied.
    Rejected,
}

words!(Outcome, "outcome" {
    Applied => "applied", Refused => "refused", Held => "held", Rejected => "rejected"
});

/// Who decided something about a run, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub by: String,
    pub at: Timestamp,
}

/// How many removals a run may make before it is held: more than `percent` of the source's
/// users **and** at least `floor` people. An empty or truncated full file must never archive a
/// school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Safeguard {
    pub percent: u32,
    pub floor: usize,
}

impl Default for Safeguard {
    fn default() -> Self {
        Self {
            percent: 10,
            floor: 20,
        }
    }
}

impl Safeguard {
    /// Whether `plan`, run over a source that manages `source_users` people, must be held.
    pub fn holds(self, plan: &Plan, source_users: usize) -> bool {
        let removals = plan.removals();
        removals >= self.floor && removals * 100 > source_users * self.percent as usize
    }

    /// A safeguard as an admin sets it: a percentage from 0 to 100 and a floor of people.
    pub fn new(percent: u32, floor: usize) -> Result<Self, FieldError> {
        if percent > 100 {
            return Err(FieldError::new(
                "safeguard_percent",
                "must be a percentage from 0 to 100",
            ));
        }
        if floor > 10_000_000 {
            return Err(FieldError::new(
                "safeguard_floor",
                "must be a number of people from 0 to 10000000",
            ));
        }
        Ok(Self { percent, floor })
    }
}

/// An org's provisioning settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProvisioningSettings {
    pub safeguard: Safeguard,
    /// When a run is held, apply its creates, links, updates and reactivations at once and hold
    /// only its removals; by default the whole run waits.
    pub apply_rest_when_held: bool,
}

/// One line of a run's report: a person it changed or kept, or a problem that refused it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportLine {
    pub line: Option<u64>,
    pub external_id: Option<String>,
    /// The user concerned, when there is one already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// One of the run's removals (what the safeguard counts, and an approval may exclude).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removal: bool,
    /// What the line is, as the counts name it (`created`, `archived`, `kept`, `skipped`, …);
    /// empty for a problem.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    pub what: String,
}

/// A run as history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: crate::RunId,
    pub org_id: OrgId,
    pub source_id: crate::SourceId,
    /// Who started it (an admin, a token, the command line, a drop folder).
    pub actor_label: String,
    pub file_name: String,
    /// SHA-256 of the file, in hex.
    pub checksum: String,
    pub mode: Mode,
    pub outcome: Outcome,
    pub counts: Counts,
    pub report: Vec<ReportLine>,
    /// What the reader noted of the file (see [`Plan::notes`]).
    pub notes: Vec<String>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// Who approved (outcome applied) or rejected a held run.
    pub decided: Option<Decision>,
    /// Who undid an applied run.
    pub undone: Option<Decision>,
}

/// What a source last said of a user's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Said {
    /// Listed, enabled.
    Enabled,
    /// Listed, disabled (OneRoster `enabledUser=false`).
    Disabled,
    /// No longer listed by a full run, or deleted by a delta one; the policy was applied.
    Gone,
}

/// A person as a source's file lists them, every field already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The row's line in its file (the header is line 1).
    pub line: u64,
    pub external_id: ExternalId,
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub given_name: PersonName,
    pub family_name: PersonName,
    /// `None` when the file says nothing of roles: a new person is a student, a known one
    /// keeps theirs.
    pub role: Option<Role>,
    /// Whether a person the org does not have yet may be created from this row. Not from a
    /// OneRoster 1.2 delta row whose roles the package leaves out: it changes someone and keeps
    /// their role, and nobody is made a student for want of one.
    pub creates: bool,
    pub enabled: bool,
    /// The attributes the row sets; others the person has are left as they are.
    pub attributes: Attributes,
    /// The row as the source sent it, digested (see [`Digest`]); `None` when the reader keeps
    /// none.
    pub digest: Option<Digest>,
}

/// A digest of a row as its source sent it: the fields the reader reads, by column name and
/// as written. Kept beside what the source said of the user, with the user's version: a later
/// file sending the same digest for a user unchanged since sends nothing new, and the run
/// passes over that row without reading it further (see [`Roll`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 16]);

/// One row of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Listed(Listed),
    /// A delta run's deletion (`tobedeleted`): handled as a full run handles someone missing.
    Deleted {
        line: u64,
        external_id: ExternalId,
    },
}

impl Row {
    /// The row's line in its file.
    pub fn line(&self) -> u64 {
        match self {
            Row::Listed(listed) => listed.line,
            Row::Deleted { line, .. } => *line,
        }
    }

    /// The id the source gives the person.
    pub fn external_id(&self) -> &ExternalId {
        match self {
            Row::Listed(listed) => &listed.external_id,
            Row::Deleted { external_id, .. } => external_id,
        }
    }
}

/// An org a source's packages named (OneRoster `orgs.csv`): a school or district, by its
/// `sourcedId`. A source keeps the orgs it sent, so that a later package without `orgs.csv` (a
/// nightly delta of people) still names its people's schools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOrg {
    pub external_id: String,
    pub name: String,
    /// As the package wrote it (`school`, `district`, …).
    pub kind: String,
}

/// The orgs a package sent: all of the source's when `full` (a bulk `orgs.csv`), else changes,
/// with those it deletes (`tobedeleted`) by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgsSent {
    pub full: bool,
    pub orgs: Vec<SourceOrg>,
    pub gone: Vec<String>,
}

/// Whether a run is the whole list (who is missing is gone) or only changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Delta,
}

/// What happens to a user a full run no longer lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenMissing {
    Archive,
    Deactivate,
    Keep,
}

/// The org's policy per role for users missing from a full run. By default students are
/// archived and adults kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingPolicy {
    pub student: WhenMissing,
    pub teacher: WhenMissing,
    pub staff: WhenMissing,
    pub admin: WhenMissing,
}

impl Default for MissingPolicy {
    fn default() -> Self {
        Self {
            student: WhenMissing::Archive,
            teacher: WhenMissing::Keep,
            staff: WhenMissing::Keep,
            admin: WhenMissing::Keep,
        }
    }
}

impl MissingPolicy {
    pub fn for_role(&self, role: Role) -> WhenMissing {
        match role {
            Role::Student => self.student,
            Role::Teacher => self.teacher,
            Role::Staff => self.staff,
            Role::Admin => self.admin,
        }
    }
}

/// A user of the org as the planner sees them: who they are, and what this source last said
/// of them (`None`: it never has, or they are not its user).
#[derive(Debug, Clone)]
pub struct Known {
    pub user: User,
    pub said: Option<Said>,
}

/// One of a source's users as a run first sees them: enough to tell a row sent as before from
/// one that must be read, and to apply the policy when the file leaves the user out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub user: UserId,
    pub status: Status,
    pub role: Role,
    pub prevent_archiving: bool,
    pub said: Option<Said>,
    /// The digest of the row this source last sent, while the user is unchanged since: `None`
    /// when it sent none, or when the user changed after (by anyone).
    pub sent: Option<Digest>,
}

/// A source's users by external id, narrow: what a run reads of the org before the file, so
/// that a row sent exactly as before costs a lookup ([`Roll::quiet`]), and only the other rows
/// are read whole and planned against whole users.
#[derive(Debug, Default)]
pub struct Roll {
    /// Each user, and whether a row of this run named them yet.
    by_external: HashMap<String, (Enrolled, Heard)>,
    /// Rows sent as before.
    quiet: usize,
    /// Rows sent as before whose user's status is an admin's decision (not what the row says).
    kept: Vec<(u64, ExternalId, UserId)>,
}

impl Roll {
    pub fn new(users: impl IntoIterator<Item = (String, Enrolled)>) -> Self {
        Self::with_capacity(0, users)
    }

    /// A roll made room for `capacity` users at once: a million users added one by one would
    /// at one point hold the table twice, as it grows.
    pub fn with_capacity(
        capacity: usize,
        users: impl IntoIterator<Item = (String, Enrolled)>,
    ) -> Self {
        let mut by_external = HashMap::with_capacity(capacity);
        by_external.extend(
            users
                .into_iter()
                .map(|(external_id, user)| (external_id, (user, Heard::Not))),
        );
        Self {
            by_external,
            quiet: 0,
            kept: Vec::new(),
        }
    }

    /// The roll of `source` among `known`, without digests (every row is read whole).
    pub fn of(source: &Source, known: &[Known]) -> Self {
        Self::new(known.iter().filter(|k| k.user.source() == source).map(|k| {
            let external_id = k
                .user
                .external_id()
                .map_or_else(|| k.user.id().to_string(), |e| e.as_str().to_owned());
            (
                external_id,
                Enrolled {
                    user: k.user.id(),
                    status: k.user.status(),
                    role: k.user.role(),
                    prevent_archiving: k.user.prevent_archiving(),
                    said: k.said,
                    sent: None,
                },
            )
        }))
    }

    /// How many users the source has.
    pub fn len(&self) -> usize {
        self.by_external.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_external.is_empty()
    }

    /// The source's user of this external id.
    pub fn get(&self, external_id: &str) -> Option<&Enrolled> {
        self.by_external.get(external_id).map(|(user, _)| user)
    }

    /// Whether the row at `line` sends its user exactly as the source last did (the same
    /// digest, the user unchanged since, and listed then): it changes nothing, and it is
    /// counted as unchanged (or kept, when the user's status is an admin's decision). A user's
    /// second row is never quiet, whichever of the two is read whole: the planner reports it,
    /// even when it plans the first before the second is read.
    pub fn quiet(&mut self, line: u64, external_id: &str, digest: Digest) -> bool {
        let Some((user, heard)) = self.by_external.get_mut(external_id) else {
            return false;
        };
        let first = *heard == Heard::Not;
        if first {
            *heard = Heard::Read;
        }
        let listed_as = match user.said {
            Some(Said::Enabled) => true,
            Some(Said::Disabled) => false,
            Some(Said::Gone) | None => return false,
        };
        if !first || user.sent != Some(digest) {
            return false;
        }
        *heard = Heard::Quiet;
        self.quiet += 1;
        if !rules::is_unchanged(user.status, rules::enabled_status(listed_as)) {
            let external_id = ExternalId::from_stored(external_id.to_owned());
            self.kept.push((line, external_id, user.user));
        }
        true
    }

    /// Every user of the roll, with their external id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Enrolled)> {
        self.by_external
            .iter()
            .map(|(external_id, (user, _))| (external_id.as_str(), user))
    }

    /// Whether a row of this run already sent this external id as before (was passed over as
    /// quiet): a file read again passes over the same rows.
    pub fn heard(&self, external_id: &str) -> bool {
        self.by_external
            .get(external_id)
            .is_some_and(|(_, heard)| *heard == Heard::Quiet)
    }

    /// The users no row of the run sent as before, with their external ids.
    pub fn unheard(&self) -> impl Iterator<Item = (&str, &Enrolled)> {
        self.by_external
            .iter()
            .filter(|(_, (_, heard))| *heard != Heard::Quiet)
            .map(|(external_id, (user, _))| (external_id.as_str(), user))
    }
}

/// What a run's rows have said of one of the roll's users so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    Not,
    /// Sent as before, by a row passed over.
    Quiet,
    /// Named by a row read whole.
    Read,
}

/// The users a run must read whole before its rows are planned ([`plan_with_roll`]): the
/// source's users its rows name, and anyone else they may be matched with or clash with.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The source's users named by external id.
    pub ids: Vec<UserId>,
    /// External ids a user added by hand may have (to be linked).
    pub manual_external_ids: Vec<String>,
    pub username_keys: Vec<String>,
    pub username_skeletons: Vec<String>,
    pub email_keys: Vec<String>,
}

impl Wanted {
    /// What the rows (those not passed over as quiet) need.
    pub fn of(rows: &[Row], roll: &Roll) -> Self {
        let mut wanted = Self::default();
        for row in rows {
            let external_id = row.external_id();
            match roll.get(external_id.as_str()) {
                Some(user) => wanted.ids.push(user.user),
                None => wanted
                    .manual_external_ids
                    .push(external_id.as_str().to_owned()),
            }
            let Row::Listed(listed) = row else { continue };
            if let Some(name) = &listed.username {
                wanted.username_keys.push(name.key());
                wanted.username_skeletons.push(name.skeleton());
            }
            if let Some(email) = &listed.email {
                wanted.email_keys.push(email.key());
            }
        }
        wanted
    }

    /// How many values are looked up.
    pub fn len(&self) -> usize {
        self.ids.len()
            + self.manual_external_ids.len()
            + self.username_keys.len()
            + self.username_skeletons.len()
            + self.email_keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a listed person was found among the org's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    ExternalId,
    Username,
    Email,
}

/// Why a status moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Because {
    /// The source disabled them.
    Disabled,
    /// The source enabled them again.
    Enabled,
    /// They were gone and the source lists them again.
    Reappeared,
    /// A full run no longer lists them.
    Missing,
    /// A delta run deleted them (OneRoster's `tobedeleted`): handled as someone missing.
    Deleted,
}

impl Because {
    fn reason(self, source: &Source) -> String {
        let name = source.as_str();
        match self {
            Self::Disabled => format!("disabled by {name}"),
            Self::Enabled => format!("enabled again by {name}"),
            Self::Reappeared => format!("listed again by {name}"),
            Self::Missing => format!("no longer listed by {name}"),
            Self::Deleted => format!("deleted by {name}"),
        }
    }
}

/// Why a run leaves someone as they are where it might have changed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Missing, but prevent-archiving is set.
    PreventArchiving,
    /// Missing, and the org's policy keeps users of their role.
    Policy,
    /// The source says what it said before; an admin's different decision stands.
    AdminDecision,
    /// An admin excluded them from a held run's removals when approving it.
    Excluded,
    /// A removal that was not in the held run an admin approved: the next run decides.
    NotApproved,
}

/// One thing a run does to one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A new user from the row (active; a disabled row adds a [`Step::Status`]).
    Create,
    /// A user managed by hand (or by no source) becomes this source's: its source and external
    /// id change; its prevent-archiving flag stays as it was.
    Link {
        by: MatchedBy,
    },
    /// Fields the source changed.
    Update {
        fields: Fields,
    },
    Status {
        to: Status,
        because: Because,
    },
}

/// What a run does to one person, in order: a create or a link, an update, moves of status.
/// Held in place, not each in a list of its own: a run of a million rows has a million items.
pub type Steps = SmallVec<[Step; 4]>;

/// Which of a person's fields a row changes, of those a source sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fields(u8);

impl Fields {
    pub const USERNAME: Self = Self(1);
    pub const EMAIL: Self = Self(1 << 1);
    pub const GIVEN_NAME: Self = Self(1 << 2);
    pub const FAMILY_NAME: Self = Self(1 << 3);
    pub const ROLE: Self = Self(1 << 4);
    pub const ATTRIBUTES: Self = Self(1 << 5);
    const NAMES: [&'static str; 6] = [
        "username",
        "email",
        "given_name",
        "family_name",
        "role",
        "attributes",
    ];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// These fields and `other`.
    #[must_use]
    pub fn and(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The fields' names, in the order above.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .enumerate()
            .filter(move |(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, name)| name)
    }
}

/// What a run does to one person, and what the source will remember of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The row's line; none for a user a full run no longer lists.
    pub line: Option<u64>,
    pub external_id: ExternalId,
    /// The user concerned; none for one the run creates.
    pub user: Option<UserId>,
    pub steps: Steps,
    pub kept: Option<Kept>,
    /// What the source says of them after this run (`None`: nothing new to remember).
    pub said: Option<Said>,
}

/// A whole run: one item per row, then one per user a full run no longer lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub items: Vec<Item>,
    /// Rows sent exactly as before (see [`Roll::quiet`]): unchanged, without an item each.
    pub quiet: usize,
    /// Rows the file holds and the run leaves out, each with why (parents and guardians).
    pub skipped: Vec<ReportLine>,
    /// What the reader did not read (files of a package), for the preview.
    pub notes: Vec<String>,
    /// What the run would do to its source's classes (a OneRoster package's), worked out for a
    /// preview; `None` when it is not (a file without classes, a run being applied).
    pub classes: Option<crate::roster::RosterChanges>,
}

/// How many people each kind of change touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Counts {
    pub created: usize,
    pub linked: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub reactivated: usize,
    pub archived: usize,
    pub restored: usize,
    pub kept: usize,
    pub unchanged: usize,
    /// Rows left out (parents and guardians).
    pub skipped: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            skipped: self.skipped.len(),
            unchanged: self.quiet,
            ..Counts::default()
        };
        for item in &self.items {
            if item.steps.is_empty() {
                if item.kept.is_some() {
                    counts.kept += 1;
                } else {
                    counts.unchanged += 1;
                }
            }
            for step in &item.steps {
                match step {
                    Step::Create => counts.created += 1,
                    Step::Link { .. } => counts.linked += 1,
                    Step::Update { .. } => counts.updated += 1,
                    Step::Status {
                        to: Status::Inactive,
                        ..
                    } => counts.deactivated += 1,
                    Step::Status {
                        to: Status::Archived,
                        ..
                    } => counts.archived += 1,
                    Step::Status {
                        to: Status::Active,
                        because: Because::Reappeared,
                    } => counts.restored += 1,
                    Step::Status {
                        to: Status::Active, ..
                    } => counts.reactivated += 1,
                }
            }
        }
        counts
    }

    /// How many people the run deactivates or archives because it no longer lists them.
    pub fn removals(&self) -> usize {
        self.items.iter().filter(|item| item.is_removal()).count()
    }

    /// The run without its removals: those people stay as they are, and the source does not
    /// remember them as gone yet (the held part of a run applied in two parts).
    #[must_use]
    pub fn without_removals(&self) -> Self {
        Self {
            items: self
                .items
                .iter()
                .filter(|item| !item.is_removal())
                .cloned()
                .collect(),
            quiet: self.quiet,
            skipped: self.skipped.clone(),
            notes: self.notes.clone(),
            // Worked out for the whole run: this part's are not.
            classes: None,
        }
    }

    /// The run as an admin approved it: removals of people in `excluded` are dropped and the
    /// source remembers them as gone (the decision sticks); removals of people not in `held`
    /// (the removals the admin saw) are dropped for the next run to decide.
    #[must_use]
    pub fn approved(mut self, held: &HashSet<UserId>, excluded: &HashSet<UserId>) -> Self {
        for item in &mut self.items {
            if !item.is_removal() {
                continue;
            }
            let Some(user) = item.user else { continue };
            if excluded.contains(&user) {
                item.steps.clear();
                item.kept = Some(Kept::Excluded);
            } else if !held.contains(&user) {
                item.steps.clear();
                item.kept = Some(Kept::NotApproved);
                item.said = None;
            }
        }
        self
    }

    /// Whether the run changes anyone.
    pub fn changes_anything(&self) -> bool {
        self.items.iter().any(Item::changes_anything)
    }
}

/// What a run may not do, row by row: each names its line, the column and why.
pub type Problems = Vec<(u64, FieldError)>;

/// The org's users, indexed as the planner looks them up.
struct Directory<'a> {
    known: &'a [Known],
    by_external: HashMap<(&'a str, &'a str), usize>,
    by_username: HashMap<String, usize>,
    /// Usernames by what they look like: no two in an org may look alike.
    by_skeleton: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
}

impl<'a> Directory<'a> {
    fn new(known: &'a [Known]) -> Self {
        let mut by_external = HashMap::new();
        let mut by_username = HashMap::new();
        let mut by_skeleton = HashMap::new();
        let mut by_email = HashMap::new();
        for (i, k) in known.iter().enumerate() {
            if let Some(id) = k.user.external_id() {
                by_external.insert((k.user.source().as_str(), id.as_str()), i);
            }
            if let Some(name) = k.user.username() {
                by_username.insert(name.key(), i);
                by_skeleton.insert(name.skeleton(), i);
            }
            if let Some(email) = k.user.email() {
                by_email.insert(email.key(), i);
            }
        }
        Self {
            known,
            by_external,
            by_username,
            by_skeleton,
            by_email,
        }
    }

    /// The user a row names: this source's by external id; else a manual user by external id,
    /// username, then e-mail (to be linked). A username or e-mail of another source's user is
    /// a problem: two sources cannot manage one person. So is the username or e-mail of an
    /// administrator added by hand: a file must not take over (rename, demote, archive) the
    /// people who run the org by naming them; an admin hands one over by giving them the row's
    /// external id.
    fn find(
        &self,
        source: &Source,
        row: &Listed,
    ) -> Result<Option<(usize, MatchedBy)>, FieldError> {
        let external = row.external_id.as_str();
        if let Some(&i) = self.by_external.get(&(source.as_str(), external)) {
            return Ok(Some((i, MatchedBy::ExternalId)));
        }
        if let Some(&i) = self.by_external.get(&(Source::MANUAL, external)) {
            return Ok(Some((i, MatchedBy::ExternalId)));
        }
        let candidates = [
            (
                row.username
                    .as_ref()
                    .map(Username::key)
                    .and_then(|k| self.by_username.get(&k)),
                MatchedBy::Username,
                "username",
            ),
            (
                row.email
                    .as_ref()
                    .map(Email::key)
                    .and_then(|k| self.by_email.get(&k)),
                MatchedBy::Email,
                "email",
            ),
        ];
        for (found, by, field) in candidates {
            let Some(&i) = found else { continue };
            let owner = self.known[i].user.source();
            if owner.is_manual() {
                self.not_an_admin(i, field)?;
                return Ok(Some((i, by)));
            }
            if owner != source {
                return Err(FieldError::new(
                    field,
                    format!(
                        "belongs to a user managed by the source '{}'",
                        owner.as_str()
                    ),
                ));
            }
            return Err(FieldError::new(
                field,
                format!(
                    "belongs to this source's user with external id '{}'",
                    self.known[i]
                        .user
                        .external_id()
                        .map_or("", ExternalId::as_str)
                ),
            ));
        }
        Ok(None)
    }

    /// Refuses to link the manual user at `i` by their `field` (username or e-mail) when they
    /// are an administrator.
    fn not_an_admin(&self, i: usize, field: &str) -> Result<(), FieldError> {
        let user = &self.known[i].user;
        if user.role() != Role::Admin {
            return Ok(());
        }
        let field_name = if field == "email" { "e-mail" } else { field };
        Err(FieldError::new(
            field,
            format!(
                "belongs to {} {}, an administrator added by hand: a source takes over an \
                 administrator only by external id, never by {field_name} (give them this \
                 row's external id on their page to hand them to the source, or change the \
                 file's {field_name})",
                user.given_name().as_str(),
                user.family_name().as_str()
            ),
        ))
    }

    /// Whether the row would give the user at `found` (or a new user) a username or e-mail
    /// another user of the org has.
    fn clash(&self, found: Option<usize>, row: &Listed) -> Result<(), FieldError> {
        let owners = [
            (
                row.username
                    .as_ref()
                    .map(Username::skeleton)
                    .and_then(|k| self.by_skeleton.get(&k)),
                "username",
            ),
            (
                row.email
                    .as_ref()
                    .map(Email::key)
                    .and_then(|k| self.by_email.get(&k)),
                "email",
            ),
        ];
        for (owner, field) in owners {
            let Some(&owner) = owner else { continue };
            if Some(owner) == found {
                continue;
            }
            let other = &self.known[owner].user;
            let whose = match other.external_id() {
                Some(id) if !other.source().is_manual() => format!(
                    "the user with external id '{}' of the source '{}'",
                    id.as_str(),
                    other.source().as_str()
                ),
                _ => format!(
                    "{} {}, added by hand",
                    other.given_name().as_str(),
                    other.family_name().as_str()
                ),
            };
            let looks_alike = field == "username"
                && other.username().map(Username::key) != row.username.as_ref().map(Username::key);
            return Err(FieldError::new(
                field,
                if looks_alike {
                    format!(
                        "looks like the username of {whose} (it differs only in case, width or \
                         look-alike characters)"
                    )
                } else {
                    format!("already belongs to {whose}")
                },
            ));
        }
        Ok(())
    }
}

/// The external ids, usernames and e-mails a file has listed so far, each with its first line.
/// Kept as 128-bit digests of the values, not the values: a file of a million rows would
/// otherwise hold three million strings until its last row is planned. Two different values
/// share a digest by chance about once in 2^128 pairs.
#[derive(Default)]
struct Seen {
    /// By digest, as four words and the first line as one: twenty bytes an entry.
    first: HashMap<[u32; 4], u32>,
}

/// What kind of value [`Seen`] holds, hashed with it: an e-mail may look like a username.
#[derive(Clone, Copy, Hash)]
enum Listing {
    ExternalId,
    Username,
    Email,
}

impl Seen {
    /// The line that listed `value` first, unless it is this one.
    fn first(&mut self, kind: Listing, value: &str, line: u64) -> Option<u64> {
        use std::collections::hash_map::Entry;
        use std::hash::{Hash, Hasher};
        let half = |seed: u8| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (seed, kind, value).hash(&mut hasher);
            hasher.finish()
        };
        let (a, b) = (half(0), half(1));
        // Truncations: the halves of each digest; a line past four billion reads as that.
        #[allow(clippy::cast_possible_truncation)]
        let key = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        match self.first.entry(key) {
            Entry::Occupied(first) => Some(u64::from(*first.get())),
            Entry::Vacant(slot) => {
                slot.insert(u32::try_from(line).unwrap_or(u32::MAX));
                None
            }
        }
    }

    /// The row's username or e-mail when an earlier row has it (or one that looks the same).
    fn twice(&mut self, row: &Listed) -> Option<FieldError> {
        if let Some(name) = &row.username
            && let Some(first) = self.first(Listing::Username, &name.skeleton(), row.line)
        {
            return Some(FieldError::new(
                "username",
                format!(
                    "'{}' is also on line {first} (or one that looks the same)",
                    name.as_str()
                ),
            ));
        }
        if let Some(email) = &row.email
            && let Some(first) = self.first(Listing::Email, &email.key(), row.line)
        {
            return Some(FieldError::new(
                "email",
                format!("'{}' is also on line {first}", email.as_str()),
            ));
        }
        None
    }
}

/// Plans a run of `source` over `rows`, against `known` (the org's users, with what this
/// source last said of each). Refused with every row's problem when any row cannot be applied.
pub fn plan(
    source: &Source,
    mode: Mode,
    policy: MissingPolicy,
    rows: &[Row],
    known: &[Known],
) -> Result<Plan, Problems> {
    plan_with_roll(source, mode, policy, rows, known, &Roll::of(source, known))
}

/// Plans a run whose quiet rows (sent as before) were already passed over into `roll`: `rows`
/// are the others, and `known` holds, whole, every user they may name or clash with (by
/// external id, username, look-alike username or e-mail) and every user of the roll the run may
/// change. Those the roll holds and no row names are the source's missing users.
pub fn plan_with_roll(
    source: &Source,
    mode: Mode,
    policy: MissingPolicy,
    rows: &[Row],
    known: &[Known],
    roll: &Roll,
) -> Result<Plan, Problems> {
    let mut planner = Planner::new(source, policy);
    planner.part(rows, known, roll);
    planner.finish(mode, roll)
}

/// Plans a run part by part, in the file's order: each part's rows against the users they may
/// name or clash with (see [`plan_with_roll`]), so that no more of a long file than one part
/// need be held at once. What must hold across the whole file (an external id, username or
/// e-mail listed once, a user named by one row) is remembered from part to part. The plan is
/// the one [`plan_with_roll`] makes of all the rows at once. The roll is the one the rows were
/// read through: a part is planned once its rows are read, while later ones are.
pub struct Planner<'s> {
    source: &'s Source,
    policy: MissingPolicy,
    items: Vec<Item>,
    problems: Problems,
    seen: Seen,
    touched: HashSet<UserId>,
    /// Rows the run leaves out: deletions of people the source does not have.
    skipped: Vec<ReportLine>,
}

impl<'s> Planner<'s> {
    pub fn new(source: &'s Source, policy: MissingPolicy) -> Self {
        Self {
            source,
            policy,
            items: Vec::new(),
            problems: Problems::new(),
            seen: Seen::default(),
            touched: HashSet::new(),
            skipped: Vec::new(),
        }
    }

    /// Plans the next part of the rows (those not passed over as quiet) against `known`: every
    /// user these rows may name or clash with, whole.
    pub fn part(&mut self, rows: &[Row], known: &[Known], roll: &Roll) {
        let directory = Directory::new(known);
        self.items.reserve(rows.len());
        for row in rows {
            let (line, external_id) = (row.line(), row.external_id());
            if self
                .seen
                .first(Listing::ExternalId, external_id.as_str(), line)
                .is_some()
                || roll.heard(external_id.as_str())
            {
                self.problems.push((
                    line,
                    FieldError::new(
                        "external_id",
                        format!("'{}' is listed twice", external_id.as_str()),
                    ),
                ));
                continue;
            }
            match row {
                Row::Listed(listed) => self.listed(listed, &directory, known),
                Row::Deleted { line, external_id } => match roll.get(external_id.as_str()) {
                    Some(user) => {
                        self.touched.insert(user.user);
                        self.items
                            .push(plan_missing(self.policy, external_id, user, Some(*line)));
                    }
                    // Nothing to delete, and nobody else's person is touched: said, not done.
                    None => self.skipped.push(ReportLine {
                        line: Some(*line),
                        external_id: Some(external_id.as_str().to_owned()),
                        user_id: None,
                        removal: false,
                        kind: "skipped".to_owned(),
                        what: "skipped: to be deleted, and this source has nobody by this id"
                            .to_owned(),
                    }),
                },
            }
        }
    }

    fn listed(&mut self, listed: &Listed, directory: &Directory<'_>, known: &[Known]) {
        let line = listed.line;
        if let Some(twice) = self.seen.twice(listed) {
            self.problems.push((line, twice));
            return;
        }
        let found = directory.find(self.source, listed).and_then(|found| {
            directory.clash(found.map(|(i, _)| i), listed)?;
            Ok(found)
        });
        match found {
            Ok(None) if !listed.creates => self.problems.push((
                line,
                FieldError::new(
                    "role",
                    "names nobody Rollcall has, and the package sends no role for them: send \
                     the new person's role (in OneRoster 1.2, a row of roles.csv)",
                ),
            )),
            Ok(found) => {
                if let Some((i, _)) = found
                    && !self.touched.insert(known[i].user.id())
                {
                    self.problems.push((
                        line,
                        FieldError::new(
                            "external_id",
                            "names a user another row of this file names too",
                        ),
                    ));
                    return;
                }
                self.items.push(plan_listed(
                    self.source,
                    listed,
                    found.map(|(i, by)| (&known[i], by)),
                ));
            }
            Err(problem) => self.problems.push((line, problem)),
        }
    }

    /// The whole plan, once every part is planned: the rows' items, then those the roll kept
    /// as an admin left them, then (in a full run) the source's users no row named. Refused
    /// with every row's problem when any row cannot be applied.
    pub fn finish(self, mode: Mode, roll: &Roll) -> Result<Plan, Problems> {
        let Self {
            policy,
            mut items,
            problems,
            touched,
            skipped,
            ..
        } = self;
        if !problems.is_empty() {
            return Err(problems);
        }
        items.extend(roll.kept.iter().map(|(line, external_id, id)| Item {
            line: Some(*line),
            external_id: external_id.clone(),
            user: Some(*id),
            steps: Steps::new(),
            kept: Some(Kept::AdminDecision),
            said: None,
        }));
        if mode == Mode::Full {
            let mut missing: Vec<(&str, &Enrolled)> = roll
                .unheard()
                .filter(|(_, user)| !touched.contains(&user.user))
                .collect();
            missing.sort_unstable_by_key(|(external_id, _)| *external_id);
            items.extend(missing.into_iter().map(|(external_id, user)| {
                plan_missing(
                    policy,
                    &ExternalId::from_stored(external_id.to_owned()),
                    user,
                    None,
                )
            }));
        }
        Ok(Plan {
            items,
            // Those kept have an item each.
            quiet: roll.quiet - roll.kept.len(),
            skipped,
            ..Plan::default()
        })
    }
}

/// A listed person: created, or found (and linked when the source did not manage them yet).
fn plan_listed(source: &Source, row: &Listed, found: Option<(&Known, MatchedBy)>) -> Item {
    let says = if row.enabled {
        Said::Enabled
    } else {
        Said::Disabled
    };
    let Some((known, by)) = found else {
        let mut steps = smallvec![Step::Create];
        if !row.enabled {
            steps.push(Step::Status {
                to: Status::Inactive,
                because: Because::Disabled,
            });
        }
        return Item {
            line: Some(row.line),
            external_id: row.external_id.clone(),
            user: None,
            steps,
            kept: None,
            said: Some(says),
        };
    };
    let user = &known.user;
    let mut steps = Steps::new();
    let ours = user.source() == source;
    if !ours {
        steps.push(Step::Link { by });
    }
    let fields = changed_fields(user, row);
    if !fields.is_empty() {
        steps.push(Step::Update { fields });
    }
    // A user linked just now has never heard from this source.
    let said_before = if ours { known.said } else { None };
    let mut kept = None;
    if !ours {
        // Their status is an admin's until the source changes what it says of them: linking
        // never reactivates, restores or deactivates anyone. What it says is remembered.
        if !rules::is_unchanged(user.status(), rules::enabled_status(row.enabled)) {
            kept = Some(Kept::AdminDecision);
        }
    } else if said_before == Some(says) {
        if !rules::is_unchanged(user.status(), rules::enabled_status(row.enabled)) {
            kept = Some(Kept::AdminDecision);
        }
    } else if rules::is_archived(user.status()) && said_before != Some(Said::Gone) {
        // Archived by an admin, not by this source: only their reappearing after the source
        // let them go brings them back. What the source says is remembered all the same.
        kept = Some(Kept::AdminDecision);
    } else {
        steps.extend(status_steps(user.status(), says, said_before));
    }
    Item {
        line: Some(row.line),
        external_id: row.external_id.clone(),
        user: Some(user.id()),
        steps,
        kept,
        said: (said_before != Some(says)).then_some(says),
    }
}

/// The moves from `status` to what the source now says (it never says `Gone` here).
fn status_steps(status: Status, says: Said, before: Option<Said>) -> Vec<Step> {
    let target = rules::enabled_status(says == Said::Enabled);
    rules::path(status, target)
        .into_iter()
        .map(|to| {
            let because = if !rules::may_sign_in(to) {
                Because::Disabled
            } else if rules::is_archived(status) || before == Some(Said::Gone) {
                Because::Reappeared
            } else {
                Because::Enabled
            };
            Step::Status { to, because }
        })
        .collect()
}

/// Which of a found user's fields the row changes.
fn changed_fields(user: &User, row: &Listed) -> Fields {
    [
        (
            row.username.is_some() && user.username() != row.username.as_ref(),
            Fields::USERNAME,
        ),
        (
            row.email.is_some() && user.email() != row.email.as_ref(),
            Fields::EMAIL,
        ),
        (user.given_name() != &row.given_name, Fields::GIVEN_NAME),
        (user.family_name() != &row.family_name, Fields::FAMILY_NAME),
        (
            row.role.is_some_and(|role| role != user.role()),
            Fields::ROLE,
        ),
        (
            &merged(user.attributes(), &row.attributes) != user.attributes(),
            Fields::ATTRIBUTES,
        ),
    ]
    .into_iter()
    .filter(|&(changed, _)| changed)
    .fold(Fields::default(), |fields, (_, field)| fields.and(field))
}

/// A user of the source no longer listed (or deleted by a delta run).
fn plan_missing(
    policy: MissingPolicy,
    external_id: &ExternalId,
    user: &Enrolled,
    line: Option<u64>,
) -> Item {
    let mut item = Item {
        line,
        external_id: external_id.clone(),
        user: Some(user.user),
        steps: Steps::new(),
        kept: None,
        said: None,
    };
    if user.said == Some(Said::Gone) {
        // Said before: whatever an admin did since stands.
        return item;
    }
    let to = match policy.for_role(user.role) {
        WhenMissing::Keep => {
            item.kept = Some(Kept::Policy);
            return item;
        }
        _ if user.prevent_archiving => {
            item.kept = Some(Kept::PreventArchiving);
            return item;
        }
        WhenMissing::Archive => Status::Archived,
        WhenMissing::Deactivate => Status::Inactive,
    };
    if rules::transition_allowed(user.status, to) {
        // A row that deletes them has a line; someone missing has none.
        let because = match line {
            Some(_) => Because::Deleted,
            None => Because::Missing,
        };
        item.steps.push(Step::Status { to, because });
    }
    item.said = Some(Said::Gone);
    item
}

impl Item {
    /// Whether the item changes its person, or what the source remembers of them.
    pub fn changes_anything(&self) -> bool {
        !self.steps.is_empty() || self.said.is_some()
    }

    /// Whether this is one of the run's removals: someone it deactivates or archives because it
    /// no longer lists them.
    pub fn is_removal(&self) -> bool {
        self.steps.iter().any(|step| {
            matches!(
                step,
                Step::Status {
                    because: Because::Missing | Because::Deleted,
                    ..
                }
            )
        })
    }

    /// The count this person falls under, its main change first: created, linked, archived,
    /// deactivated, restored, reactivated, updated; else kept or unchanged.
    pub fn kind(&self) -> &'static str {
        let has = |wanted: &dyn Fn(&Step) -> bool| self.steps.iter().any(wanted);
        let status =
            |to: Status| move |step: &Step| matches!(step, Step::Status { to: t, .. } if *t == to);
        if has(&|s| matches!(s, Step::Create)) {
            "created"
        } else if has(&|s| matches!(s, Step::Link { .. })) {
            "linked"
        } else if has(&status(Status::Archived)) {
            "archived"
        } else if has(&status(Status::Inactive)) {
            "deactivated"
        } else if has(&|s| {
            matches!(
                s,
                Step::Status {
                    because: Because::Reappeared,
                    ..
                }
            )
        }) {
            "restored"
        } else if has(&status(Status::Active)) {
            "reactivated"
        } else if has(&|s| matches!(s, Step::Update { .. })) {
            "updated"
        } else if self.kept.is_some() {
            "kept"
        } else {
            "unchanged"
        }
    }

    /// What the run does to this person, in words; `None` when it leaves them as they are.
    pub fn describe(&self) -> Option<String> {
        let mut words: Vec<String> = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Create => "create".to_owned(),
                Step::Link { by } => format!(
                    "link (matched by {})",
                    match by {
                        MatchedBy::ExternalId => "external id",
                        MatchedBy::Username => "username",
                        MatchedBy::Email => "e-mail",
                    }
                ),
                Step::Update { fields } => {
                    format!("update {}", fields.names().collect::<Vec<_>>().join(", "))
                }
                Step::Status { to, because } => format!(
                    "{to} ({})",
                    match because {
                        Because::Disabled => "disabled",
                        Because::Enabled => "enabled again",
                        Because::Reappeared => "listed again",
                        Because::Missing => "no longer listed",
                        Because::Deleted => "deleted by the file",
                    }
                ),
            })
            .collect();
        match self.kept {
            Some(Kept::PreventArchiving) => words.push("kept: prevent archiving is set".to_owned()),
            // A row that deleted them has a line; someone missing has none.
            Some(Kept::Policy) if self.line.is_some() => words.push(
                "kept: deleted by the file, and the org keeps users of this role whom their \
                 source removes"
                    .to_owned(),
            ),
            Some(Kept::Policy) => {
                words.push("kept: the org keeps missing users of this role".to_owned());
            }
            Some(Kept::AdminDecision) => words.push("kept: an admin's decision stands".to_owned()),
            Some(Kept::Excluded) => {
                words.push("kept: excluded by an admin when approving".to_owned());
            }
            Some(Kept::NotApproved) => {
                words
                    .push("kept: not among the removals approved; the next run decides".to_owned());
            }
            None => {}
        }
        (!words.is_empty()).then(|| words.join("; "))
    }
}

impl Plan {
    /// The report of an applied run: a line per person it changed or kept.
    pub fn report(&self) -> Vec<ReportLine> {
        self.report_in_parts(usize::MAX).flatten().collect()
    }

    /// The report made `items` items at a time, then the rows skipped: a run of a million
    /// people is written without ever holding a million lines.
    pub fn report_in_parts(&self, items: usize) -> impl Iterator<Item = Vec<ReportLine>> + '_ {
        let line = |item: &Item| {
            item.describe().map(|what| ReportLine {
                line: item.line,
                external_id: Some(item.external_id.as_str().to_owned()),
                user_id: item.user,
                removal: item.is_removal(),
                kind: item.kind().to_owned(),
                what,
            })
        };
        self.items
            .chunks(items.max(1))
            .map(move |part| part.iter().filter_map(line).collect())
            .chain(std::iter::once(self.skipped.clone()))
    }
}
