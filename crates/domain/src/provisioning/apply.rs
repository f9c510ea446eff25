//! Applying a plan, and undoing an applied run, in memory: the reference every store's write
//! agrees with. The changes come out as [`UserChange`]s with their audit events; what each
//! person was before the run comes out as [`Touch`]es, which is all an undo needs.

use std::collections::HashMap;

use super::{Digest, Item, Known, Listed, Plan, Row, Said, Step};
use crate::audit::{Actor, Reason};
use crate::error::FieldError;
use crate::ids::UserId;
use crate::rules;
use crate::status::{Role, Status};
use crate::user::{
    Attributes, ExternalId, NewUser, Source, StatusChange, TransitionError, User, UserChange,
    UserPatch,
};
use crate::{OrgId, Timestamp};

/// Why a plan could not be applied to the users it was planned against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("user {0} is changed by the plan but was not read with it")]
    NotRead(UserId),
    /// A step that takes its values from a row (a create, a link, an update) met without it.
    #[error("the row on line {0} was not read with its item")]
    RowNotRead(u64),
}

/// What a source sent of a listed person, kept for its next run: what it says of them and the
/// row's digest, as of the user's version once the run is done with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub user: UserId,
    pub said: Said,
    pub digest: Digest,
    pub version: i64,
}

/// How a person was before a run touched them; `None` in a [`Touch`] for someone it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub status: Status,
    pub source: Source,
    pub external_id: Option<ExternalId>,
    pub said: Option<Said>,
}

/// One person an applied run changed (or whose source's word it changed), kept so that the
/// run can be undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub user: UserId,
    /// The user's version once the run was done with them: a different version at undo time
    /// means someone changed them since, and the undo leaves them alone.
    pub version_after: i64,
    /// `None`: the run created them.
    pub before: Option<Before>,
}

impl Sent {
    /// What the source sent of a listed person, as the run left them.
    fn of(row: &Listed, now: &Known) -> Option<Self> {
        Some(Self {
            user: now.user.id(),
            said: now.said?,
            digest: row.digest?,
            version: now.user.version(),
        })
    }
}

/// A plan applied in memory.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The org's users after the run, with what the source now says of each.
    pub after: Vec<Known>,
    /// Every change, in order, each with its audit event.
    pub changes: Vec<UserChange>,
    /// Everyone the run changed, as they were before it.
    pub touches: Vec<Touch>,
    /// Every listed person with a digested row, as the source now sent them.
    pub sent: Vec<Sent>,
}

/// The org's users after `plan` is applied, with what the source remembers: the reference an
/// applying store must agree with. Each change comes with its audit event, by `actor` at `at`.
pub fn apply_in_memory(
    org: OrgId,
    source: &Source,
    plan: &Plan,
    rows: &[Row],
    known: &[Known],
    actor: &Actor,
    at: Timestamp,
) -> Result<Applied, ApplyError> {
    let applier = Applier::new(org, source, rows, &[], actor, at);
    applier.apply_to(&plan.items, known.to_vec())
}

/// Applies a plan a part at a time, as [`apply_in_memory`] applies it whole: a run of a
/// million rows is written a part at a time, and only one part's users are held at once.
/// Each part's [`Applied::after`] holds the users of that part only.
#[derive(Debug)]
pub struct Applier<'a> {
    org: OrgId,
    source: &'a Source,
    actor: &'a Actor,
    at: Timestamp,
    /// The file's listed rows, by line.
    rows: HashMap<u64, &'a Listed>,
    /// The users the plan was made against.
    known: HashMap<UserId, &'a Known>,
}

impl<'a> Applier<'a> {
    pub fn new(
        org: OrgId,
        source: &'a Source,
        rows: &'a [Row],
        known: &'a [Known],
        actor: &'a Actor,
        at: Timestamp,
    ) -> Self {
        let rows = rows
            .iter()
            .filter_map(|row| match row {
                Row::Listed(listed) => Some((listed.line, listed)),
                Row::Deleted { .. } => None,
            })
            .collect();
        let known = known.iter().map(|k| (k.user.id(), k)).collect();
        Self {
            org,
            source,
            actor,
            at,
            rows,
            known,
        }
    }

    /// What the source said of `user` when the plan was made.
    pub fn said_before(&self, user: UserId) -> Option<Said> {
        self.known.get(&user).and_then(|k| k.said)
    }

    /// `items` (a part of a plan, each user in one item) applied to the users they name.
    pub fn apply(&self, items: &[Item]) -> Result<Applied, ApplyError> {
        let mut seen = std::collections::HashSet::new();
        let theirs = items
            .iter()
            .filter_map(|item| item.user)
            .filter(|id| seen.insert(*id))
            .filter_map(|id| self.known.get(&id).map(|&k| k.clone()))
            .collect();
        self.apply_to(items, theirs)
    }

    /// `items` applied to `after`, the users as the plan found them.
    fn apply_to(&self, items: &[Item], mut after: Vec<Known>) -> Result<Applied, ApplyError> {
        let (org, source, actor, at) = (self.org, self.source, self.actor, self.at);
        let by_line = &self.rows;
        let mut position: HashMap<UserId, usize> = after
            .iter()
            .enumerate()
            .map(|(i, k)| (k.user.id(), i))
            .collect();
        let mut changes = Vec::new();
        let mut touches = Vec::new();
        let mut sent = Vec::new();
        for item in items {
            let row = item.line.and_then(|line| by_line.get(&line)).copied();
            let mut index = item.user.and_then(|id| position.get(&id).copied());
            if let Some(id) = item.user
                && index.is_none()
                && item.changes_anything()
            {
                return Err(ApplyError::NotRead(id));
            }
            let before = index.map(|i| Before {
                status: after[i].user.status(),
                source: after[i].user.source().clone(),
                external_id: after[i].user.external_id().cloned(),
                said: after[i].said,
            });
            let changes_before = changes.len();
            for step in &item.steps {
                let change = match (step, row, index) {
                    (Step::Create, Some(row), _) => {
                        let (user, event) = User::create(org, new_user(source, row), actor, at)?;
                        position.insert(user.id(), after.len());
                        after.push(Known {
                            user: user.clone(),
                            said: None,
                        });
                        index = Some(after.len() - 1);
                        UserChange {
                            user,
                            event,
                            ends_sessions: false,
                            revokes_tokens: false,
                        }
                    }
                    (Step::Link { .. }, Some(row), Some(i)) => {
                        after[i]
                            .user
                            .link(source.clone(), Some(row.external_id.clone()), actor, at)
                    }
                    (Step::Update { .. }, Some(row), Some(i)) => {
                        let Some(change) =
                            after[i].user.apply(patch(row, &after[i].user), actor, at)?
                        else {
                            continue;
                        };
                        change
                    }
                    (Step::Status { to, because }, _, Some(i)) => after[i].user.change_status(
                        StatusChange {
                            to: *to,
                            reason: Some(Reason::from_trusted(because.reason(source))),
                            temporary_password: None,
                        },
                        actor,
                        at,
                    )?,
                    (Step::Create | Step::Link { .. } | Step::Update { .. }, None, _) => {
                        return Err(ApplyError::RowNotRead(item.line.unwrap_or_default()));
                    }
                    _ => continue,
                };
                if let Some(i) = index {
                    after[i].user = change.user.clone();
                }
                changes.push(change);
            }
            let Some(i) = index else { continue };
            let said_changes = item.said.is_some_and(|said| after[i].said != Some(said));
            if let Some(said) = item.said {
                after[i].said = Some(said);
            }
            sent.extend(row.and_then(|row| Sent::of(row, &after[i])));
            if changes.len() > changes_before || said_changes {
                touches.push(Touch {
                    user: after[i].user.id(),
                    version_after: after[i].user.version(),
                    before,
                });
            }
        }
        Ok(Applied {
            after,
            changes,
            touches,
            sent,
        })
    }
}

pub(super) fn new_user(source: &Source, row: &Listed) -> NewUser {
    NewUser {
        username: row.username.clone(),
        email: row.email.clone(),
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        role: row.role.unwrap_or(Role::Student),
        source: source.clone(),
        external_id: Some(row.external_id.clone()),
        prevent_archiving: None,
        password: None,
        must_change_password: false,
        attributes: row.attributes.clone(),
    }
}

/// A user's attributes with the row's set over them. A school's name goes with its id: a row
/// that moves someone to another `school_id` without naming it (a OneRoster delta without
/// orgs.csv) leaves them no `school` name, rather than their old school's.
pub(super) fn merged(current: &Attributes, row: &Attributes) -> Attributes {
    let mut all = current.to_map();
    let moved = row
        .get("school_id")
        .zip(current.get("school_id"))
        .is_some_and(|(id, was)| id != was);
    if moved && row.get("school").is_none() {
        all.remove("school");
    }
    all.extend(row.iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
    Attributes::from_stored(&all)
}

fn patch(row: &Listed, user: &User) -> UserPatch {
    UserPatch {
        username: row.username.clone().map(Some),
        email: row.email.clone().map(Some),
        given_name: Some(row.given_name.clone()),
        family_name: Some(row.family_name.clone()),
        role: row.role,
        external_id: None,
        prevent_archiving: None,
        attributes: Some(merged(user.attributes(), &row.attributes)),
    }
}

/// What undoing a run does.
#[derive(Debug, Clone, Default)]
pub struct Undone {
    /// The changes, in order, each with its audit event.
    pub changes: Vec<UserChange>,
    /// What the source says of each person from now on (`None`: nothing, as before the run).
    pub said: Vec<(UserId, Option<Said>)>,
    /// People changed since the run (by anyone): left as they are.
    pub left_alone: Vec<UserId>,
    /// How many people's status or management went back.
    pub reverted: usize,
}

/// Undoes an applied run from its [`Touch`]es, against the users as they are now (`current`):
/// everyone's status goes back to what it was, whom it linked goes back to how they were
/// managed, whom it created is archived (and the source counts them as gone, so that the same
/// file brings them back). Fields the run updated keep their new values. Anyone changed since
/// the run is left alone and listed.
///
/// The changes are the run's own, taken back: `actor` is the run's source (as when it applied
/// them, so people it enabled again need no temporary password), and the reason names the
/// admin who asked, `undone_by`.
pub fn undo<S: std::hash::BuildHasher>(
    touches: &[Touch],
    current: &HashMap<UserId, User, S>,
    actor: &Actor,
    undone_by: &str,
    at: Timestamp,
) -> Result<Undone, ApplyError> {
    let reason = || {
        Some(Reason::from_trusted(format!(
            "import run undone by {}",
            undone_by.chars().take(200).collect::<String>()
        )))
    };
    let mut undone = Undone::default();
    for touch in touches {
        let Some(user) = current
            .get(&touch.user)
            .filter(|user| user.version() == touch.version_after)
        else {
            undone.left_alone.push(touch.user);
            continue;
        };
        let mut user = user.clone();
        let changes_before = undone.changes.len();
        let (target, said) = match &touch.before {
            Some(before) => {
                if user.source() != &before.source
                    || user.external_id() != before.external_id.as_ref()
                {
                    let change =
                        user.link(before.source.clone(), before.external_id.clone(), actor, at);
                    user = change.user.clone();
                    undone.changes.push(change);
                }
                (before.status, before.said)
            }
            None => (Status::Archived, Some(Said::Gone)),
        };
        for to in rules::path(user.status(), target) {
            let change = user.change_status(
                StatusChange {
                    to,
                    reason: reason(),
                    temporary_password: None,
                },
                actor,
                at,
            )?;
            user = change.user.clone();
            undone.changes.push(change);
        }
        if undone.changes.len() > changes_before {
            undone.reverted += 1;
        }
        undone.said.push((user.id(), said));
    }
    Ok(undone)
}
