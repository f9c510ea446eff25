//! Rosters: the classes a source sends (OneRoster `classes.csv`) and who is in them, with their
//! role (`enrollments.csv`). A roster lists its members by the status rules: inactive members
//! are shown and marked, archived ones are hidden (and kept: they come back with their record).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, RosterId, SourceId, UserId};
use crate::rules;
use crate::user::User;

/// A member's part in a roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Teacher,
    Student,
    /// An administrator of the class, or a role of the source's own (`ext:`).
    Other,
}

impl MemberRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Teacher => "teacher",
            Self::Student => "student",
            Self::Other => "other",
        }
    }

    /// A role as stored; `None` for a word that is not one.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "teacher" => Some(Self::Teacher),
            "student" => Some(Self::Student),
            "other" => Some(Self::Other),
            _ => None,
        }
    }
}

/// A class of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub id: RosterId,
    pub org_id: OrgId,
    pub source_id: SourceId,
    /// The class's id in the source (`sourcedId`).
    pub external_id: String,
    pub title: String,
    pub code: String,
    /// The school it is taught at, by name.
    pub school: String,
}

/// A roster as a listing shows it: how many members it has that a listing counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterSummary {
    pub roster: Roster,
    pub teachers: u64,
    pub students: u64,
}

/// One member as the source sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user: UserId,
    pub role: MemberRole,
}

/// The members a roster shows, by the status rules: archived people are left out (they stay in
/// the data), the others sorted teachers first, then by family and given name.
pub fn shown_members(mut members: Vec<(User, MemberRole)>) -> Vec<(User, MemberRole)> {
    members.retain(|(user, _)| !rules::is_archived(user.status()));
    members.sort_by(|(a, ra), (b, rb)| {
        (ra, a.family_name().as_str(), a.given_name().as_str()).cmp(&(
            rb,
            b.family_name().as_str(),
            b.given_name().as_str(),
        ))
    });
    members
}

/// One person's place in one roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seat {
    pub roster: RosterId,
    pub user: UserId,
    pub role: MemberRole,
}

/// A source's rosters and who sits in them, at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterState {
    pub rosters: Vec<Roster>,
    pub seats: Vec<Seat>,
}

/// What a package's run writes of its source's classes: the classes it lists (each with an id
/// of its own, kept only when the source has no class of that `external_id` yet) and whether
/// they are all of the source's classes; the classes it deletes; the seats it gives and takes
/// (by class `external_id`), and whether the seats it gives are all of the source's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterWrite {
    pub classes: Vec<Roster>,
    pub classes_full: bool,
    pub gone: Vec<String>,
    pub members: Vec<(String, UserId, MemberRole)>,
    pub removed: Vec<(String, UserId)>,
    pub members_full: bool,
    /// The enrolments behind the seats (see [`enrolments_written`]): all of the source's when
    /// `members_full`; those ended.
    pub enrolments: Vec<Enrolment>,
    pub enrolments_gone: Vec<String>,
}

/// One enrolment of a source: a person's part in a class, under the enrolment's own id in the
/// source (`sourcedId`). A seat is what a person's enrolments in one class make of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub external_id: String,
    /// The class's id in the source.
    pub class: String,
    pub user: UserId,
    pub role: MemberRole,
}

/// An enrolment as a package sends it. A deletion may name only its id: the class and person
/// are then those the source sent before. `user` is `None` when the person is nobody the run
/// has (a parent left out): such an enrolment seats nobody, and ends one the source had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEnrolment {
    pub external_id: String,
    /// Empty in a deletion that names only the enrolment.
    pub class: String,
    pub user: Option<UserId>,
    pub role: MemberRole,
    pub deleted: bool,
}

/// The id of an enrolment a file sends without a `sourcedId` of its own: its class and
/// person (their ids in the source), which no `sourcedId` is made of.
pub fn unnamed_enrolment_id(class: &str, user: &str) -> String {
    format!("{class}{UNNAMED}{user}")
}

/// Whether an enrolment's id is one [`unnamed_enrolment_id`] made.
pub fn is_unnamed(id: &str) -> bool {
    id.contains(UNNAMED)
}

/// Joins an unnamed enrolment's class and person: a control character, in no real id.
const UNNAMED: char = '\u{1f}';

/// What a package's enrolments write: the enrolments kept (all of the source's when `full`) and
/// those ended, and the seats they give and take by class `external_id` (see [`RosterWrite`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrolmentWrite {
    pub put: Vec<Enrolment>,
    pub gone: Vec<String>,
    pub full: bool,
    pub members: Vec<(String, UserId, MemberRole)>,
    pub removed: Vec<(String, UserId)>,
}

/// Works out what `sent` (all of the source's enrolments when `full`, else a delta's) makes of
/// the source's enrolments `before`, and of its seats. A person's seat in a class stands while
/// any of their enrolments there does, with the highest part among them (teacher, then
/// student, then other). An enrolment sent again under the same id with another class or
/// person moves: the seat it made is given up unless another enrolment holds it. A deletion
/// naming an id the source does not have takes out the seat of the class and person it names,
/// when no enrolment the source has holds that seat (seats made before enrolments were kept
/// by id have none).
pub fn enrolments_written(
    before: &[Enrolment],
    sent: &[SentEnrolment],
    full: bool,
) -> EnrolmentWrite {
    type Pair = (String, UserId);
    let mut now: HashMap<&str, (&str, UserId, MemberRole)> = if full {
        HashMap::new()
    } else {
        before
            .iter()
            .map(|e| (e.external_id.as_str(), (e.class.as_str(), e.user, e.role)))
            .collect()
    };
    let mut touched: HashSet<Pair> = HashSet::new();
    let mut gone: HashSet<&str> = HashSet::new();
    let mut taken: HashMap<&str, (&str, UserId, MemberRole)> = HashMap::new();
    // The enrolments by class and person, as the package goes, for deletions sent without an
    // id of their own.
    let mut by_pair = unnamed_deletions(sent, &now);
    for s in sent {
        let id = s.external_id.as_str();
        match now.remove(id) {
            Some((class, user, _)) => {
                touched.insert((class.to_owned(), user));
            }
            None => {
                if let (true, Some(user)) = (!s.class.is_empty(), s.user) {
                    touched.insert((s.class.clone(), user));
                }
            }
        }
        // A deletion without an id of its own ends all of the person's enrolments in the class.
        if let (true, Some(user), Some(pairs)) = (s.deleted && is_unnamed(id), s.user, &by_pair) {
            for ended in end_pair((s.class.as_str(), user), pairs, &mut now) {
                taken.remove(ended);
                gone.insert(ended);
            }
        }
        if let Some(user) = s.user.filter(|_| !s.deleted && !s.class.is_empty()) {
            // Two rows of one id in a package are one enrolment sent twice (a file without
            // sourcedIds knows enrolments by class and person): the higher part stands.
            let role = taken
                .get(id)
                .filter(|&&(class, earlier, _)| class == s.class && earlier == user)
                .map_or(s.role, |&(_, _, part)| part.min(s.role));
            now.insert(id, (s.class.as_str(), user, role));
            taken.insert(id, (s.class.as_str(), user, role));
            if let Some(pairs) = &mut by_pair {
                pairs.entry((s.class.as_str(), user)).or_default().push(id);
            }
            touched.insert((s.class.clone(), user));
            gone.remove(id);
        } else {
            taken.remove(id);
            gone.insert(id);
        }
    }
    // Each seat's part: the highest of the enrolments that hold it.
    let mut parts: HashMap<(&str, UserId), MemberRole> = HashMap::new();
    for &(class, user, role) in now.values() {
        parts
            .entry((class, user))
            .and_modify(|part| *part = (*part).min(role))
            .or_insert(role);
    }
    let mut write = EnrolmentWrite {
        full,
        gone: if full {
            Vec::new()
        } else {
            let had: HashSet<&str> = before.iter().map(|e| e.external_id.as_str()).collect();
            gone.into_iter()
                .filter(|id| had.contains(id))
                .map(str::to_owned)
                .collect()
        },
        ..EnrolmentWrite::default()
    };
    let changed: HashSet<&str> = sent.iter().map(|s| s.external_id.as_str()).collect();
    write.put = now
        .iter()
        .filter(|(id, _)| full || changed.contains(*id))
        .map(|(id, &(class, user, role))| Enrolment {
            external_id: (*id).to_owned(),
            class: class.to_owned(),
            user,
            role,
        })
        .collect();
    write.put.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    if full {
        write.members = parts
            .iter()
            .map(|(&(class, user), &role)| (class.to_owned(), user, role))
            .collect();
    } else {
        for (class, user) in touched {
            match parts.get(&(class.as_str(), user)) {
                Some(&role) => write.members.push((class, user, role)),
                None => write.removed.push((class, user)),
            }
        }
    }
    write.members.sort();
    write.removed.sort();
    write
}

/// The enrolments `now` by class and person, when `sent` holds a deletion without an id of
/// its own (see [`enrolments_written`]). An id may stay listed under a pair it has left: each
/// is checked against the enrolments when its pair is ended.
fn unnamed_deletions<'e>(
    sent: &[SentEnrolment],
    now: &HashMap<&'e str, (&'e str, UserId, MemberRole)>,
) -> Option<HashMap<(&'e str, UserId), Vec<&'e str>>> {
    sent.iter()
        .any(|s| s.deleted && is_unnamed(&s.external_id) && !s.class.is_empty())
        .then(|| by_class_and_person(now.iter().map(|(&id, &(c, u, _))| (id, c, u))))
}

/// Ends every enrolment in `now` of `pair` (class, person), whose ids `pairs` lists: the ids
/// ended.
fn end_pair<'e>(
    pair: (&str, UserId),
    pairs: &HashMap<(&'e str, UserId), Vec<&'e str>>,
    now: &mut HashMap<&'e str, (&'e str, UserId, MemberRole)>,
) -> Vec<&'e str> {
    let ids = pairs.get(&pair).into_iter().flatten().copied();
    let ended: Vec<&str> = ids
        .filter(|id| now.get(id).is_some_and(|&(c, u, _)| (c, u) == pair))
        .collect();
    for id in &ended {
        now.remove(id);
    }
    ended
}

/// Enrolment ids by class and person, from (id, class, person).
fn by_class_and_person<'e>(
    enrolments: impl Iterator<Item = (&'e str, &'e str, UserId)>,
) -> HashMap<(&'e str, UserId), Vec<&'e str>> {
    let mut pairs: HashMap<_, Vec<&str>> = HashMap::new();
    for (id, class, user) in enrolments {
        pairs.entry((class, user)).or_default().push(id);
    }
    pairs
}

impl RosterState {
    /// The state `write` leaves, written over this one as a store writes it: each class listed
    /// is added, or updated in place (keeping its id); a full list deletes the classes it
    /// leaves out; deleted classes take their seats with them; a full set of seats replaces
    /// every seat of the source, others are taken away or added (a member's new role replaces
    /// the old); a seat in a class the source does not have is not given.
    #[must_use]
    pub fn written(&self, write: &RosterWrite) -> Self {
        let mut rosters = self.rosters.clone();
        let mut at: HashMap<String, usize> = rosters
            .iter()
            .enumerate()
            .map(|(i, r)| (r.external_id.clone(), i))
            .collect();
        for class in &write.classes {
            if let Some(kept) = at.get(&class.external_id).and_then(|&i| rosters.get_mut(i)) {
                kept.title.clone_from(&class.title);
                kept.code.clone_from(&class.code);
                kept.school.clone_from(&class.school);
            } else {
                at.insert(class.external_id.clone(), rosters.len());
                rosters.push(class.clone());
            }
        }
        let listed: HashSet<&str> = write
            .classes
            .iter()
            .map(|c| c.external_id.as_str())
            .collect();
        let gone: HashSet<&str> = write.gone.iter().map(String::as_str).collect();
        rosters.retain(|r| {
            let external_id = r.external_id.as_str();
            (!write.classes_full || listed.contains(external_id)) && !gone.contains(external_id)
        });
        let by_class: HashMap<&str, RosterId> = rosters
            .iter()
            .map(|r| (r.external_id.as_str(), r.id))
            .collect();
        let kept: HashSet<RosterId> = rosters.iter().map(|r| r.id).collect();
        // Each seat by roster and member: a class of thousands is written in one pass.
        let mut seats: HashMap<(RosterId, UserId), MemberRole> = if write.members_full {
            HashMap::new()
        } else {
            self.seats
                .iter()
                .filter(|s| kept.contains(&s.roster))
                .map(|s| ((s.roster, s.user), s.role))
                .collect()
        };
        for (class, user) in &write.removed {
            if let Some(&roster) = by_class.get(class.as_str()) {
                seats.remove(&(roster, *user));
            }
        }
        for (class, user, role) in &write.members {
            if let Some(&roster) = by_class.get(class.as_str()) {
                seats.insert((roster, *user), *role);
            }
        }
        let seats = seats
            .into_iter()
            .map(|((roster, user), role)| Seat { roster, user, role })
            .collect();
        Self { rosters, seats }
    }
}

impl RosterState {
    /// The state `undo` leaves, written over this one as a store writes it: rosters removed
    /// with their seats, set back and restored; seats taken away (by roster and person), then
    /// given back.
    #[must_use]
    pub fn undone(&self, undo: &RosterUndo) -> Self {
        let removed: HashSet<RosterId> = undo.remove.iter().copied().collect();
        let unseated: HashSet<(RosterId, UserId)> =
            undo.unseat.iter().map(|s| (s.roster, s.user)).collect();
        let set_back: HashMap<RosterId, &Roster> =
            undo.set_back.iter().map(|r| (r.id, r)).collect();
        let mut rosters: Vec<Roster> = self
            .rosters
            .iter()
            .filter(|r| !removed.contains(&r.id))
            .map(|r| {
                set_back
                    .get(&r.id)
                    .map_or_else(|| r.clone(), |&r| r.clone())
            })
            .collect();
        rosters.extend(undo.restore.iter().cloned());
        let mut seats: Vec<Seat> = self
            .seats
            .iter()
            .filter(|s| !removed.contains(&s.roster) && !unseated.contains(&(s.roster, s.user)))
            .copied()
            .collect();
        seats.extend(undo.reseat.iter().copied());
        Self { rosters, seats }
    }
}

/// What an import run changed in its source's rosters: enough to take it back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterChanges {
    /// Rosters the run made.
    pub created: Vec<Roster>,
    /// Rosters whose title, code or school it changed: (before, after).
    pub updated: Vec<(Roster, Roster)>,
    /// Rosters it removed (a full package no longer listing the class).
    pub deleted: Vec<Roster>,
    /// Seats it added (a new member, or a member's new role).
    pub joined: Vec<Seat>,
    /// Seats it took away (a member gone, a member's old role, or a removed roster's members).
    pub left: Vec<Seat>,
    /// Enrolments it made, changed or ended (runs kept before enrolments were have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enrolments: Vec<EnrolmentChange>,
    /// Of the seats its enrolments had a part in, by class `external_id` and person, those the
    /// source had before the run with no enrolment holding them (seats made before enrolments
    /// were kept): an undo leaves them as they were. `None` for runs kept before this was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare_before: Option<Vec<(String, UserId)>>,
}

/// One change a run made to its source's classes, for a list: the class, the person whose
/// seat changed (none for a change of the class itself), and what happened, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassChange {
    pub roster: RosterId,
    pub user: Option<UserId>,
    pub what: String,
}

/// One enrolment a run changed: as it was (`None`: the run made it) and as the run left it
/// (`None`: the run ended it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentChange {
    pub before: Option<Enrolment>,
    pub after: Option<Enrolment>,
}

impl EnrolmentChange {
    /// The enrolments that differ between `before` and `after`, by id.
    pub fn between(before: &[Enrolment], after: &[Enrolment]) -> Vec<Self> {
        let was: HashMap<&str, &Enrolment> =
            before.iter().map(|e| (e.external_id.as_str(), e)).collect();
        let now: HashMap<&str, &Enrolment> =
            after.iter().map(|e| (e.external_id.as_str(), e)).collect();
        let made_or_changed = after
            .iter()
            .filter(|e| was.get(e.external_id.as_str()) != Some(e))
            .map(|e| Self {
                before: was.get(e.external_id.as_str()).map(|&e| e.clone()),
                after: Some(e.clone()),
            });
        let ended = before
            .iter()
            .filter(|e| !now.contains_key(e.external_id.as_str()))
            .map(|e| Self {
                before: Some(e.clone()),
                after: None,
            });
        made_or_changed.chain(ended).collect()
    }
}

/// What taking back `changes` does to the source's enrolments as they are (`current`): each
/// is set back (put, or ended by id) only where it is still as the run left it.
pub fn undo_enrolments(
    changes: &[EnrolmentChange],
    current: &[Enrolment],
) -> (Vec<Enrolment>, Vec<String>) {
    let now: HashMap<&str, &Enrolment> = current
        .iter()
        .map(|e| (e.external_id.as_str(), e))
        .collect();
    let (mut put, mut gone) = (Vec::new(), Vec::new());
    for change in changes {
        let Some(id) = change
            .after
            .as_ref()
            .or(change.before.as_ref())
            .map(|e| e.external_id.as_str())
        else {
            continue;
        };
        if now.get(id).copied() != change.after.as_ref() {
            continue;
        }
        match &change.before {
            Some(before) => put.push(before.clone()),
            None => gone.push(id.to_owned()),
        }
    }
    (put, gone)
}

impl RosterChanges {
    /// What a run changed in classes, in words: "3 classes made, 1 class changed, 40 members
    /// added" (empty when nothing).
    pub fn summary(&self) -> String {
        let counted = |n: usize, one: &str, many: &str, what: &str| {
            (n > 0).then(|| format!("{n} {} {what}", if n == 1 { one } else { many }))
        };
        // A member whose part changed left one seat and took another in the same class.
        let left: HashSet<(RosterId, UserId)> =
            self.left.iter().map(|s| (s.roster, s.user)).collect();
        let moved = self
            .joined
            .iter()
            .filter(|s| left.contains(&(s.roster, s.user)))
            .count();
        [
            counted(self.created.len(), "class", "classes", "made"),
            counted(self.updated.len(), "class", "classes", "changed"),
            counted(self.deleted.len(), "class", "classes", "removed"),
            counted(self.joined.len() - moved, "member", "members", "added"),
            counted(self.left.len() - moved, "member", "members", "taken out"),
            counted(moved, "member's part", "members' parts", "changed"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// Each change, for a list: the classes made, changed and removed, then the members
    /// whose part changed, who joined and who left, each class's in turn.
    pub fn itemised(&self) -> Vec<ClassChange> {
        let class = |roster: &Roster, what: String| ClassChange {
            roster: roster.id,
            user: None,
            what,
        };
        let mut lines: Vec<ClassChange> = Vec::new();
        lines.extend(
            self.created
                .iter()
                .map(|r| class(r, "class made".to_owned())),
        );
        lines.extend(self.updated.iter().map(|(before, after)| {
            let what = if before.title == after.title {
                "class's code or school changed".to_owned()
            } else {
                format!("class renamed from \u{201c}{}\u{201d}", before.title)
            };
            class(after, what)
        }));
        lines.extend(
            self.deleted
                .iter()
                .map(|r| class(r, "class removed".to_owned())),
        );
        let left: HashMap<(RosterId, UserId), MemberRole> = self
            .left
            .iter()
            .map(|s| ((s.roster, s.user), s.role))
            .collect();
        let joined: HashSet<(RosterId, UserId)> =
            self.joined.iter().map(|s| (s.roster, s.user)).collect();
        let mut seats: Vec<ClassChange> = self
            .joined
            .iter()
            .map(|s| {
                let what = match left.get(&(s.roster, s.user)) {
                    Some(was) => {
                        format!("part changed from {} to {}", was.as_str(), s.role.as_str())
                    }
                    None => format!("joined as {}", s.role.as_str()),
                };
                (s, what)
            })
            .chain(
                self.left
                    .iter()
                    .filter(|s| !joined.contains(&(s.roster, s.user)))
                    .map(|s| (s, format!("left (was {})", s.role.as_str()))),
            )
            .map(|(s, what)| ClassChange {
                roster: s.roster,
                user: Some(s.user),
                what,
            })
            .collect();
        seats.sort_by_key(|c| (c.roster, c.user));
        lines.extend(seats);
        lines
    }

    /// These changes, with the seats they had a part in that the source had before the run
    /// (`before`) with no enrolment (`had`) holding them: see [`Self::bare_before`].
    #[must_use]
    pub fn with_bare_seats(mut self, before: &RosterState, had: &[Enrolment]) -> Self {
        let class_of: HashMap<RosterId, &str> = before
            .rosters
            .iter()
            .map(|r| (r.id, r.external_id.as_str()))
            .collect();
        let seated: HashSet<(&str, UserId)> = before
            .seats
            .iter()
            .filter_map(|s| Some((*class_of.get(&s.roster)?, s.user)))
            .collect();
        let enrolled: HashSet<(&str, UserId)> =
            had.iter().map(|e| (e.class.as_str(), e.user)).collect();
        let mut bare: Vec<(String, UserId)> = touched_pairs(&self, before)
            .into_iter()
            .filter(|pair| seated.contains(pair) && !enrolled.contains(pair))
            .map(|(class, user)| (class.to_owned(), user))
            .collect();
        bare.sort();
        self.bare_before = Some(bare);
        self
    }

    /// The difference between a source's rosters before a run and after it.
    pub fn between(before: &RosterState, after: &RosterState) -> Self {
        let was: HashMap<RosterId, &Roster> = before.rosters.iter().map(|r| (r.id, r)).collect();
        let now: HashMap<RosterId, &Roster> = after.rosters.iter().map(|r| (r.id, r)).collect();
        let mut changes = Self::default();
        for roster in &after.rosters {
            match was.get(&roster.id) {
                None => changes.created.push(roster.clone()),
                Some(old) if *old != roster => {
                    changes.updated.push(((*old).clone(), roster.clone()));
                }
                Some(_) => {}
            }
        }
        changes.deleted = before
            .rosters
            .iter()
            .filter(|r| !now.contains_key(&r.id))
            .cloned()
            .collect();
        let sat: HashSet<&Seat> = before.seats.iter().collect();
        let sits: HashSet<&Seat> = after.seats.iter().collect();
        changes.joined = after
            .seats
            .iter()
            .filter(|s| !sat.contains(s))
            .copied()
            .collect();
        changes.left = before
            .seats
            .iter()
            .filter(|s| !sits.contains(s))
            .copied()
            .collect();
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.created.is_empty()
            && self.updated.is_empty()
            && self.deleted.is_empty()
            && self.joined.is_empty()
            && self.left.is_empty()
    }
}

/// The writes that take a run's class changes back: its rosters and seats, and the enrolments
/// behind the seats (`put` back, or ended by id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassUndo {
    pub rosters: RosterUndo,
    pub put: Vec<Enrolment>,
    pub gone: Vec<String>,
}

/// Takes `changes` back from the source's rosters and enrolments as they are now (`current`,
/// `enrolments`): rosters and seats as [`undo_rosters`] does, enrolments as [`undo_enrolments`]
/// does; then each seat the run had a part in (by its enrolments or its seats) in a class that
/// stands after the undo is made again from the enrolments the undo leaves, so that seats and
/// enrolments agree: a seat stands while an enrolment left holds it (another run's, say), in
/// the highest part among them. A seat none holds goes, unless it was one of the source's seats
/// no enrolment held before the run (`bare_before`: made before enrolments were kept), which is
/// left as [`undo_rosters`] leaves it. A class the run made goes as [`undo_rosters`] says; an
/// enrolment left in it waits for the class, as one sent before its class does.
pub fn undo_classes(
    changes: &RosterChanges,
    current: &RosterState,
    enrolments: &[Enrolment],
) -> ClassUndo {
    let (put, gone) = undo_enrolments(&changes.enrolments, enrolments);
    let mut left: HashMap<&str, &Enrolment> = enrolments
        .iter()
        .map(|e| (e.external_id.as_str(), e))
        .collect();
    for id in &gone {
        left.remove(id.as_str());
    }
    for e in &put {
        left.insert(e.external_id.as_str(), e);
    }
    let mut held: HashMap<(&str, UserId), MemberRole> = HashMap::new();
    for e in left.values() {
        held.entry((e.class.as_str(), e.user))
            .and_modify(|part| *part = (*part).min(e.role))
            .or_insert(e.role);
    }
    let mut undo = undo_rosters(changes, current);
    let after = current.undone(&undo);
    let roster_of: HashMap<&str, RosterId> = after
        .rosters
        .iter()
        .map(|r| (r.external_id.as_str(), r.id))
        .collect();
    let mut seats: HashMap<(RosterId, UserId), MemberRole> = after
        .seats
        .iter()
        .map(|s| ((s.roster, s.user), s.role))
        .collect();
    let bare: Option<HashSet<(&str, UserId)>> = changes.bare_before.as_ref().map(|bare| {
        bare.iter()
            .map(|(class, user)| (class.as_str(), *user))
            .collect()
    });
    for (class, user) in touched_pairs(changes, current) {
        let Some(&roster) = roster_of.get(class) else {
            continue;
        };
        match held.get(&(class, user)) {
            Some(&role) => {
                seats.insert((roster, user), role);
            }
            None if bare
                .as_ref()
                .is_some_and(|bare| !bare.contains(&(class, user))) =>
            {
                seats.remove(&(roster, user));
            }
            None => {}
        }
    }
    seats_written(&mut undo, changes, current, &seats);
    ClassUndo {
        rosters: undo,
        put,
        gone,
    }
}

/// The seats, by class `external_id` and person, a run had a part in: those its enrolments
/// were or are for, and those it gave or took.
fn touched_pairs<'c>(
    changes: &'c RosterChanges,
    current: &'c RosterState,
) -> HashSet<(&'c str, UserId)> {
    let class_of: HashMap<RosterId, &str> = current
        .rosters
        .iter()
        .chain(changes.created.iter())
        .chain(changes.deleted.iter())
        .map(|r| (r.id, r.external_id.as_str()))
        .collect();
    let by_enrolment = changes
        .enrolments
        .iter()
        .flat_map(|c| c.before.iter().chain(c.after.iter()))
        .map(|e| (e.class.as_str(), e.user));
    let by_seat = changes
        .joined
        .iter()
        .chain(changes.left.iter())
        .filter_map(|s| Some((*class_of.get(&s.roster)?, s.user)));
    by_enrolment.chain(by_seat).collect()
}

/// Sets `undo`'s seats to write, the difference between `current`'s seats and `seats` (those
/// of classes it removes go with them), and its tallies as written: a class or seat set back is
/// one change taken back; one of the run's that is neither as it was before the run nor set
/// back is one left alone.
fn seats_written(
    undo: &mut RosterUndo,
    changes: &RosterChanges,
    current: &RosterState,
    seats: &HashMap<(RosterId, UserId), MemberRole>,
) {
    let removed: HashSet<RosterId> = undo.remove.iter().copied().collect();
    let was: HashMap<(RosterId, UserId), MemberRole> = current
        .seats
        .iter()
        .map(|s| ((s.roster, s.user), s.role))
        .collect();
    undo.unseat = current
        .seats
        .iter()
        .filter(|s| !removed.contains(&s.roster) && seats.get(&(s.roster, s.user)) != Some(&s.role))
        .copied()
        .collect();
    undo.reseat = seats
        .iter()
        .filter(|&(key, role)| was.get(key) != Some(role))
        .map(|(&(roster, user), &role)| Seat { roster, user, role })
        .collect();
    undo.unseat.sort_by_key(|s| (s.roster, s.user));
    undo.reseat.sort_by_key(|s| (s.roster, s.user));
    let set: HashSet<(RosterId, UserId)> = undo
        .unseat
        .iter()
        .chain(undo.reseat.iter())
        .map(|s| (s.roster, s.user))
        .collect();
    let went_with_classes = current
        .seats
        .iter()
        .filter(|s| removed.contains(&s.roster))
        .count();
    let classes_set_back = undo.remove.len() + undo.restore.len() + undo.set_back.len();
    let classes_left = (changes.created.len() + changes.deleted.len() + changes.updated.len())
        .saturating_sub(classes_set_back);
    // A seat of the run's is left alone when it is not as before the run and was not set.
    let before_run: HashMap<(RosterId, UserId), MemberRole> = changes
        .left
        .iter()
        .map(|s| ((s.roster, s.user), s.role))
        .collect();
    let run_seats: HashSet<(RosterId, UserId)> = changes
        .joined
        .iter()
        .chain(changes.left.iter())
        .map(|s| (s.roster, s.user))
        .filter(|(roster, _)| !removed.contains(roster))
        .collect();
    let seats_left = run_seats
        .iter()
        .filter(|key| !set.contains(*key) && was.get(*key) != before_run.get(*key))
        .count();
    undo.reverted = classes_set_back + went_with_classes + set.len();
    undo.left_alone = classes_left + seats_left;
}

/// The writes that take a run's roster changes back, where nothing changed them since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterUndo {
    /// Rosters the run made, removed with their seats.
    pub remove: Vec<RosterId>,
    /// Rosters the run removed, made again as they were (same id).
    pub restore: Vec<Roster>,
    /// Rosters the run changed, set back as they were.
    pub set_back: Vec<Roster>,
    /// Seats the run added, taken away.
    pub unseat: Vec<Seat>,
    /// Seats the run took away, given back.
    pub reseat: Vec<Seat>,
    /// Changes taken back.
    pub reverted: usize,
    /// Changes left as they are: a later run or an admin changed the same roster or seat.
    pub left_alone: usize,
}

/// Takes `changes` back from `current`, the source's rosters as they are now: each change is
/// reverted only where it is still as the run left it.
pub fn undo_rosters(changes: &RosterChanges, current: &RosterState) -> RosterUndo {
    let by_id: HashMap<RosterId, &Roster> = current.rosters.iter().map(|r| (r.id, r)).collect();
    let external: HashSet<&str> = current
        .rosters
        .iter()
        .map(|r| r.external_id.as_str())
        .collect();
    let seated: HashMap<(RosterId, UserId), MemberRole> = current
        .seats
        .iter()
        .map(|s| ((s.roster, s.user), s.role))
        .collect();
    let mut undo = RosterUndo::default();
    let tally = |done: bool, undo: &mut RosterUndo| {
        if done {
            undo.reverted += 1;
        } else {
            undo.left_alone += 1;
        }
    };
    // A class the run made is removed only as the run left it: the same title, code and
    // school, and nobody in it but whom the run seated there (else a later run or an admin
    // made it theirs too, and it stays; the run's own seats in it are taken out below).
    let seated_by_run: HashSet<&Seat> = changes.joined.iter().collect();
    for roster in &changes.created {
        let untouched = by_id.get(&roster.id).is_some_and(|now| *now == roster)
            && current
                .seats
                .iter()
                .filter(|s| s.roster == roster.id)
                .all(|s| seated_by_run.contains(s));
        if untouched {
            undo.remove.push(roster.id);
        }
        tally(untouched, &mut undo);
    }
    for roster in &changes.deleted {
        let free = !external.contains(roster.external_id.as_str());
        if free {
            undo.restore.push(roster.clone());
        }
        tally(free, &mut undo);
    }
    for (before, after) in &changes.updated {
        let unchanged = by_id.get(&after.id).is_some_and(|now| *now == after);
        if unchanged {
            undo.set_back.push(before.clone());
        }
        tally(unchanged, &mut undo);
    }
    let removed: HashSet<RosterId> = undo.remove.iter().copied().collect();
    for seat in &changes.joined {
        if removed.contains(&seat.roster) {
            // Goes with its roster.
            undo.reverted += 1;
            continue;
        }
        let still = seated.get(&(seat.roster, seat.user)) == Some(&seat.role);
        if still {
            undo.unseat.push(*seat);
        }
        tally(still, &mut undo);
    }
    let standing: HashSet<RosterId> = current
        .rosters
        .iter()
        .map(|r| r.id)
        .filter(|id| !removed.contains(id))
        .chain(undo.restore.iter().map(|r| r.id))
        .collect();
    // A member whose role the run changed left one seat and took another: the old one is given
    // back only once the new one is taken away (if a later run moved them again, or took them
    // out, that stands).
    let unseated: HashSet<(RosterId, UserId)> =
        undo.unseat.iter().map(|s| (s.roster, s.user)).collect();
    let joined: HashSet<(RosterId, UserId)> =
        changes.joined.iter().map(|s| (s.roster, s.user)).collect();
    for seat in &changes.left {
        let key = (seat.roster, seat.user);
        let free = standing.contains(&seat.roster)
            && if joined.contains(&key) {
                unseated.contains(&key)
            } else {
                !seated.contains_key(&key)
            };
        if free {
            undo.reseat.push(*seat);
        }
        tally(free, &mut undo);
    }
    undo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(org: OrgId, source: SourceId, external: &str, title: &str) -> Roster {
        Roster {
            id: RosterId::new(),
            org_id: org,
            source_id: source,
            external_id: external.to_owned(),
            title: title.to_owned(),
            code: String::new(),
            school: "North High".to_owned(),
        }
    }

    fn seat(roster: &Roster, user: UserId, role: MemberRole) -> Seat {
        Seat {
            roster: roster.id,
            user,
            role,
        }
    }

    fn sorted(mut state: RosterState) -> RosterState {
        state.rosters.sort_by_key(|r| r.id);
        state.seats.sort_by_key(|s| (s.roster, s.user));
        state
    }

    #[test]
    fn a_write_is_worked_out_as_the_store_does_it() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (ada, ben) = (UserId::new(), UserId::new());
        let math = roster(org, source, "m", "Maths");
        let art = roster(org, source, "a", "Art");
        let before = RosterState {
            rosters: vec![math.clone(), art.clone()],
            seats: vec![
                seat(&math, ada, MemberRole::Student),
                seat(&art, ben, MemberRole::Student),
            ],
        };
        // A full list of classes that renames Maths and leaves Art out; seats sent as changes.
        let write = RosterWrite {
            classes: vec![roster(org, source, "m", "Maths 10")],
            classes_full: true,
            members: vec![
                ("m".to_owned(), ada, MemberRole::Teacher),
                ("m".to_owned(), ben, MemberRole::Student),
                ("nowhere".to_owned(), ben, MemberRole::Student),
            ],
            ..RosterWrite::default()
        };
        let after = before.written(&write);
        assert_eq!(after.rosters.len(), 1);
        assert_eq!(after.rosters[0].id, math.id, "kept in place");
        assert_eq!(after.rosters[0].title, "Maths 10");
        let mut seats = after.seats.clone();
        seats.sort_by_key(|s| s.role);
        assert_eq!(
            seats,
            [
                seat(&math, ada, MemberRole::Teacher),
                seat(&math, ben, MemberRole::Student)
            ],
            "Art's seat went with it; a class the source lacks seats nobody"
        );
        let made = RosterChanges::between(&before, &after);
        assert_eq!(
            made.summary(),
            "1 class changed, 1 class removed, 1 member added, 1 member taken out, 1 member's \
             part changed"
        );
        // A full set of seats replaces them all; a removal takes one away.
        let write = RosterWrite {
            removed: vec![("m".to_owned(), ada)],
            members_full: true,
            ..RosterWrite::default()
        };
        assert!(after.written(&write).seats.is_empty());
    }

    #[test]
    fn a_runs_class_changes_are_said_in_words_only_where_there_are_some() {
        let (org, source) = (OrgId::new(), SourceId::new());
        assert_eq!(RosterChanges::default().summary(), "");
        let math = roster(org, source, "m", "Maths");
        let art = roster(org, source, "a", "Art");
        let made = RosterChanges {
            created: vec![math.clone()],
            deleted: vec![art.clone()],
            left: vec![seat(&art, UserId::new(), MemberRole::Student); 2],
            ..RosterChanges::default()
        };
        assert_eq!(
            made.summary(),
            "1 class made, 1 class removed, 2 members taken out"
        );
        let joined = RosterChanges {
            joined: vec![seat(&math, UserId::new(), MemberRole::Teacher)],
            ..RosterChanges::default()
        };
        assert_eq!(joined.summary(), "1 member added");
        // A teacher who becomes a student left one seat and took another: one change of part.
        let ada = UserId::new();
        let moved = RosterChanges {
            joined: vec![
                seat(&math, ada, MemberRole::Student),
                seat(&math, UserId::new(), MemberRole::Student),
            ],
            left: vec![seat(&math, ada, MemberRole::Teacher)],
            ..RosterChanges::default()
        };
        assert_eq!(moved.summary(), "1 member added, 1 member's part changed");
    }

    #[test]
    fn a_run_taken_back_leaves_the_rosters_as_they_were() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (ada, ben, cat) = (UserId::new(), UserId::new(), UserId::new());
        let math = roster(org, source, "c1", "Math 7");
        let art = roster(org, source, "c2", "Art");
        let before = RosterState {
            rosters: vec![math.clone(), art.clone()],
            seats: vec![
                seat(&math, ada, MemberRole::Teacher),
                seat(&math, ben, MemberRole::Student),
                seat(&art, cat, MemberRole::Student),
            ],
        };
        // The run renames Math, drops Art, adds Music; Ben becomes a teacher, Cat joins Music.
        let renamed = Roster {
            title: "Mathematics 7".to_owned(),
            ..math.clone()
        };
        let music = roster(org, source, "c3", "Music");
        let after = RosterState {
            rosters: vec![renamed, music.clone()],
            seats: vec![
                seat(&math, ada, MemberRole::Teacher),
                seat(&math, ben, MemberRole::Teacher),
                seat(&music, cat, MemberRole::Student),
            ],
        };
        let changes = RosterChanges::between(&before, &after);
        assert_eq!(changes.created, vec![music]);
        assert_eq!(changes.deleted, vec![art]);
        assert_eq!(changes.updated.len(), 1);
        let undo = undo_rosters(&changes, &after);
        assert_eq!(undo.left_alone, 0);
        assert_eq!(sorted(after.undone(&undo)), sorted(before));
    }

    #[test]
    fn what_changed_since_the_run_is_left_alone() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (ada, ben) = (UserId::new(), UserId::new());
        let math = roster(org, source, "c1", "Math 7");
        let before = RosterState {
            rosters: vec![math.clone()],
            seats: vec![seat(&math, ada, MemberRole::Teacher)],
        };
        let renamed = Roster {
            title: "Mathematics 7".to_owned(),
            ..math.clone()
        };
        let after = RosterState {
            rosters: vec![renamed.clone()],
            seats: vec![
                seat(&math, ada, MemberRole::Teacher),
                seat(&math, ben, MemberRole::Student),
            ],
        };
        let changes = RosterChanges::between(&before, &after);
        // Since then, a later run renamed it again and made Ben a teacher.
        let later = RosterState {
            rosters: vec![Roster {
                title: "Algebra".to_owned(),
                ..renamed
            }],
            seats: vec![
                seat(&math, ada, MemberRole::Teacher),
                seat(&math, ben, MemberRole::Teacher),
            ],
        };
        let undo = undo_rosters(&changes, &later);
        assert_eq!(undo.left_alone, 2, "{undo:?}");
        assert!(undo.set_back.is_empty() && undo.unseat.is_empty());
        assert!(RosterChanges::between(&later, &later).is_empty());
    }

    #[test]
    fn a_class_the_run_made_stays_when_a_later_run_seated_someone_in_it() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (ada, ben) = (UserId::new(), UserId::new());
        let art = roster(org, source, "c2", "Art");
        let after = RosterState {
            rosters: vec![art.clone()],
            seats: vec![seat(&art, ada, MemberRole::Teacher)],
        };
        let changes = RosterChanges::between(&RosterState::default(), &after);
        let mut later = after.clone();
        later.seats.push(seat(&art, ben, MemberRole::Student));
        let undo = undo_rosters(&changes, &later);
        assert!(undo.remove.is_empty(), "{undo:?}");
        assert_eq!(undo.unseat, vec![seat(&art, ada, MemberRole::Teacher)]);
        assert_eq!((undo.reverted, undo.left_alone), (1, 1));
        // Untouched since, it goes with its seats.
        let undo = undo_rosters(&changes, &after);
        assert_eq!(undo.remove, vec![art.id]);
        assert_eq!(undo.left_alone, 0);
    }

    #[test]
    fn a_role_change_is_not_undone_over_a_later_removal() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let ben = UserId::new();
        let math = roster(org, source, "c1", "Math 7");
        let before = RosterState {
            rosters: vec![math.clone()],
            seats: vec![seat(&math, ben, MemberRole::Student)],
        };
        let after = RosterState {
            rosters: vec![math.clone()],
            seats: vec![seat(&math, ben, MemberRole::Teacher)],
        };
        let changes = RosterChanges::between(&before, &after);
        // A later run took Ben out of the class.
        let later = RosterState {
            rosters: vec![math.clone()],
            seats: Vec::new(),
        };
        let undo = undo_rosters(&changes, &later);
        assert!(undo.reseat.is_empty(), "{undo:?}");
        assert_eq!(undo.left_alone, 2);
        // Nothing changed since: Ben is a student again.
        let undo = undo_rosters(&changes, &after);
        assert_eq!(undo.unseat, vec![seat(&math, ben, MemberRole::Teacher)]);
        assert_eq!(undo.reseat, vec![seat(&math, ben, MemberRole::Student)]);
    }

    #[test]
    fn changes_survive_being_stored_as_json() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let math = roster(org, source, "c1", "Math 7");
        let changes = RosterChanges {
            created: vec![math.clone()],
            joined: vec![seat(&math, UserId::new(), MemberRole::Other)],
            ..RosterChanges::default()
        };
        let text = serde_json::to_string(&changes).unwrap();
        assert_eq!(
            serde_json::from_str::<RosterChanges>(&text).unwrap(),
            changes
        );
    }

    fn had(id: &str, class: &str, user: UserId, role: MemberRole) -> Enrolment {
        Enrolment {
            external_id: id.to_owned(),
            class: class.to_owned(),
            user,
            role,
        }
    }

    fn sent(
        id: &str,
        class: &str,
        user: Option<UserId>,
        role: MemberRole,
        deleted: bool,
    ) -> SentEnrolment {
        SentEnrolment {
            external_id: id.to_owned(),
            class: class.to_owned(),
            user,
            role,
            deleted,
        }
    }

    #[test]
    fn a_deletion_naming_only_its_id_takes_out_the_seat_it_made() {
        let sam = UserId::new();
        let before = [had("enr-1", "maths", sam, MemberRole::Student)];
        let write = enrolments_written(
            &before,
            &[sent("enr-1", "", None, MemberRole::Other, true)],
            false,
        );
        assert_eq!(write.removed, [("maths".to_owned(), sam)]);
        assert!(write.members.is_empty() && write.put.is_empty());
        assert_eq!(write.gone, ["enr-1"]);
    }

    #[test]
    fn a_seat_held_by_two_enrolments_stays_until_both_end() {
        let sam = UserId::new();
        let before = [
            had("enr-1", "maths", sam, MemberRole::Teacher),
            had("enr-2", "maths", sam, MemberRole::Student),
        ];
        let first = enrolments_written(
            &before,
            &[sent("enr-1", "", None, MemberRole::Other, true)],
            false,
        );
        assert_eq!(
            first.members,
            [("maths".to_owned(), sam, MemberRole::Student)],
            "the other enrolment still seats them, in its own part"
        );
        assert!(first.removed.is_empty());
        let left = [had("enr-2", "maths", sam, MemberRole::Student)];
        let second = enrolments_written(
            &left,
            &[sent("enr-2", "maths", Some(sam), MemberRole::Student, true)],
            false,
        );
        assert_eq!(second.removed, [("maths".to_owned(), sam)]);
    }

    #[test]
    fn an_enrolment_sent_again_with_another_class_moves_the_seat() {
        let sam = UserId::new();
        let before = [had("enr-1", "maths", sam, MemberRole::Student)];
        let write = enrolments_written(
            &before,
            &[sent(
                "enr-1",
                "physics",
                Some(sam),
                MemberRole::Student,
                false,
            )],
            false,
        );
        assert_eq!(write.removed, [("maths".to_owned(), sam)]);
        assert_eq!(
            write.members,
            [("physics".to_owned(), sam, MemberRole::Student)]
        );
        assert_eq!(
            write.put,
            [had("enr-1", "physics", sam, MemberRole::Student)]
        );
        assert!(write.gone.is_empty());
    }

    #[test]
    fn a_deletion_of_an_unknown_enrolment_takes_out_the_seat_no_enrolment_holds() {
        let (sam, kim) = (UserId::new(), UserId::new());
        // Kim's seat was made before enrolments were kept by id; Sam's is held by enr-2.
        let before = [had("enr-2", "maths", sam, MemberRole::Student)];
        let write = enrolments_written(
            &before,
            &[
                sent("enr-8", "maths", Some(kim), MemberRole::Student, true),
                sent("enr-9", "maths", Some(sam), MemberRole::Student, true),
            ],
            false,
        );
        assert_eq!(write.removed, [("maths".to_owned(), kim)]);
        assert_eq!(
            write.members,
            [("maths".to_owned(), sam, MemberRole::Student)]
        );
        assert!(write.gone.is_empty(), "nothing the source had ended");
    }

    #[test]
    fn a_full_list_replaces_every_enrolment_and_seats_each_person_once() {
        let (sam, kim) = (UserId::new(), UserId::new());
        let before = [had("old", "art", kim, MemberRole::Student)];
        let write = enrolments_written(
            &before,
            &[
                sent("enr-1", "maths", Some(sam), MemberRole::Student, false),
                sent("enr-2", "maths", Some(sam), MemberRole::Teacher, false),
                sent("enr-3", "maths", None, MemberRole::Student, false),
            ],
            true,
        );
        assert!(write.full);
        assert_eq!(
            write.members,
            [("maths".to_owned(), sam, MemberRole::Teacher)]
        );
        assert_eq!(
            write.put.len(),
            2,
            "the enrolment of nobody the run has is not kept"
        );
        assert!(write.removed.is_empty() && write.gone.is_empty());
    }

    #[test]
    fn a_runs_enrolments_are_taken_back_where_nothing_changed_them_since() {
        let (sam, kim) = (UserId::new(), UserId::new());
        let before = [
            had("ended", "maths", sam, MemberRole::Student),
            had("moved", "maths", kim, MemberRole::Student),
            had("kept", "art", kim, MemberRole::Student),
        ];
        let after = [
            had("moved", "physics", kim, MemberRole::Student),
            had("kept", "art", kim, MemberRole::Student),
            had("made", "art", sam, MemberRole::Teacher),
            had("made-too", "art", sam, MemberRole::Student),
        ];
        let changes = EnrolmentChange::between(&before, &after);
        assert_eq!(changes.len(), 4, "{changes:#?}");
        // Since the run, another run moved "made-too" on.
        let mut current = after.to_vec();
        current[3].class = "physics".to_owned();
        let (put, mut gone) = undo_enrolments(&changes, &current);
        gone.sort();
        assert_eq!(gone, ["made"]);
        let mut put: Vec<&str> = put.iter().map(|e| e.external_id.as_str()).collect();
        put.sort_unstable();
        assert_eq!(put, ["ended", "moved"]);
    }

    #[test]
    fn one_enrolment_sent_twice_in_a_package_keeps_its_higher_part() {
        let sam = UserId::new();
        // A file without sourcedIds: both rows are known as maths/Sam.
        let key = unnamed_enrolment_id("maths", &sam.to_string());
        let write = enrolments_written(
            &[],
            &[
                sent(&key, "maths", Some(sam), MemberRole::Teacher, false),
                sent(&key, "maths", Some(sam), MemberRole::Other, false),
            ],
            true,
        );
        assert_eq!(
            write.members,
            [("maths".to_owned(), sam, MemberRole::Teacher)]
        );
        assert_eq!(write.put.len(), 1);
    }

    #[test]
    fn a_delta_ending_one_enrolment_and_adding_another_for_the_same_seat_keeps_it() {
        let sam = UserId::new();
        let before = [had("enr-0", "maths", sam, MemberRole::Student)];
        let write = enrolments_written(
            &before,
            &[
                sent("enr-1", "maths", Some(sam), MemberRole::Teacher, false),
                sent("enr-0", "maths", Some(sam), MemberRole::Student, true),
            ],
            false,
        );
        assert_eq!(
            write.members,
            [("maths".to_owned(), sam, MemberRole::Teacher)]
        );
        assert!(write.removed.is_empty());
        assert_eq!(write.gone, ["enr-0"]);
    }

    /// One run's changes to a source's classes: the rosters and seats from `before` to `after`,
    /// and the enrolments from `had` to `has`.
    fn run(
        before: &RosterState,
        after: &RosterState,
        had: &[Enrolment],
        has: &[Enrolment],
    ) -> RosterChanges {
        RosterChanges {
            enrolments: EnrolmentChange::between(had, has),
            ..RosterChanges::between(before, after)
        }
        .with_bare_seats(before, had)
    }

    #[test]
    fn undoing_the_first_run_to_keep_enrolments_leaves_the_seats_it_found() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (sam, kim) = (UserId::new(), UserId::new());
        let maths = roster(org, source, "maths", "Maths");
        // Seats made before enrolments were kept: a bulk package now sends their enrolments,
        // makes Kim a teacher, and adds nobody.
        let before = RosterState {
            rosters: vec![maths.clone()],
            seats: vec![
                seat(&maths, sam, MemberRole::Student),
                seat(&maths, kim, MemberRole::Student),
            ],
        };
        let after = RosterState {
            rosters: vec![maths.clone()],
            seats: vec![
                seat(&maths, sam, MemberRole::Student),
                seat(&maths, kim, MemberRole::Teacher),
            ],
        };
        let sent = [
            had("enr-1", "maths", sam, MemberRole::Student),
            had("enr-2", "maths", kim, MemberRole::Teacher),
        ];
        let first = run(&before, &after, &[], &sent);
        assert_eq!(
            first.bare_before.as_deref().map(<[_]>::len),
            Some(2),
            "{first:?}"
        );
        let undo = undo_classes(&first, &after, &sent);
        assert_eq!(sorted(after.undone(&undo.rosters)), sorted(before.clone()));
        assert_eq!((undo.rosters.reverted, undo.rosters.left_alone), (1, 0));
        // A run kept before it said which seats were bare is undone the same way.
        let older = RosterChanges {
            bare_before: None,
            ..first
        };
        let undo = undo_classes(&older, &after, &sent);
        assert_eq!(sorted(after.undone(&undo.rosters)), sorted(before));
    }

    #[test]
    fn a_seat_given_to_enrolments_waiting_for_a_class_stays_while_they_do() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (sam, kim) = (UserId::new(), UserId::new());
        let art = roster(org, source, "art", "Art");
        let waiting = [had("enr-1", "art", sam, MemberRole::Student)];
        // The run made Art, seating Sam by his waiting enrolment; since, another run seated Kim.
        let made = RosterState {
            rosters: vec![art.clone()],
            seats: vec![seat(&art, sam, MemberRole::Student)],
        };
        let first = run(&RosterState::default(), &made, &waiting, &waiting);
        let now = RosterState {
            rosters: vec![art.clone()],
            seats: vec![
                seat(&art, sam, MemberRole::Student),
                seat(&art, kim, MemberRole::Student),
            ],
        };
        let both = [
            waiting[0].clone(),
            had("enr-2", "art", kim, MemberRole::Student),
        ];
        let undo = undo_classes(&first, &now, &both);
        assert!(undo.rosters.remove.is_empty(), "Kim keeps Art: {undo:?}");
        assert_eq!(
            sorted(now.undone(&undo.rosters)),
            sorted(now.clone()),
            "Sam's enrolment still holds his seat"
        );
    }

    #[test]
    fn undoing_a_run_keeps_a_seat_a_later_runs_enrolment_holds() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let sam = UserId::new();
        let maths = roster(org, source, "maths", "Maths");
        let empty = RosterState {
            rosters: vec![maths.clone()],
            seats: vec![],
        };
        let seated = RosterState {
            rosters: vec![maths.clone()],
            seats: vec![seat(&maths, sam, MemberRole::Teacher)],
        };
        // Run 1 seats Sam by enr-1; run 2 sends enr-2 for the same seat, a lower part.
        let one = [had("enr-1", "maths", sam, MemberRole::Teacher)];
        let two = [
            had("enr-1", "maths", sam, MemberRole::Teacher),
            had("enr-2", "maths", sam, MemberRole::Student),
        ];
        let first = run(&empty, &seated, &[], &one);
        let undo = undo_classes(&first, &seated, &two);
        assert_eq!(undo.gone, ["enr-1"]);
        assert!(undo.put.is_empty());
        let after = seated.undone(&undo.rosters);
        assert_eq!(
            after.seats,
            [seat(&maths, sam, MemberRole::Student)],
            "the seat stays, with the part of the enrolment left: {undo:?}"
        );
        // With no later enrolment, the seat goes as the run made it.
        let undo = undo_classes(&first, &seated, &one);
        assert!(seated.undone(&undo.rosters).seats.is_empty(), "{undo:?}");
    }

    #[test]
    fn undoing_a_run_takes_out_the_class_it_made_and_leaves_later_enrolments_waiting() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let sam = UserId::new();
        let maths = roster(org, source, "maths", "Maths");
        let seated = RosterState {
            rosters: vec![maths.clone()],
            seats: vec![seat(&maths, sam, MemberRole::Student)],
        };
        let one = [had("enr-1", "maths", sam, MemberRole::Student)];
        let first = run(&RosterState::default(), &seated, &[], &one);
        // A later delta sent enr-2 for the same seat: nothing changed in the rosters.
        let two = [
            had("enr-1", "maths", sam, MemberRole::Student),
            had("enr-2", "maths", sam, MemberRole::Student),
        ];
        let undo = undo_classes(&first, &seated, &two);
        assert_eq!(undo.rosters.remove, [maths.id], "{undo:?}");
        assert_eq!(undo.gone, ["enr-1"], "enr-2 is kept, waiting for its class");
        assert_eq!(seated.undone(&undo.rosters), RosterState::default());
    }

    #[test]
    fn undoing_runs_in_turn_leaves_no_seat_without_an_enrolment() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let sam = UserId::new();
        let maths = roster(org, source, "maths", "Maths");
        let state = |seats: Vec<Seat>| RosterState {
            rosters: vec![maths.clone()],
            seats,
        };
        let nobody = state(vec![]);
        let student = state(vec![seat(&maths, sam, MemberRole::Student)]);
        let teacher = state(vec![seat(&maths, sam, MemberRole::Teacher)]);
        // Run A seats Sam as a student (enr-a); run B makes him a teacher too (enr-b).
        let a = [had("enr-a", "maths", sam, MemberRole::Student)];
        let ab = [
            a[0].clone(),
            had("enr-b", "maths", sam, MemberRole::Teacher),
        ];
        let run_a = run(&nobody, &student, &[], &a);
        let run_b = run(&student, &teacher, &a, &ab);
        // Undo A: enr-b still makes him a teacher.
        let undo = undo_classes(&run_a, &teacher, &ab);
        let after_a = teacher.undone(&undo.rosters);
        assert_eq!(after_a, teacher, "{undo:?}");
        let b = [ab[1].clone()];
        // Then undo B: no enrolment holds the seat, and it goes (B's undo alone would give
        // back the student's seat A made).
        let undo = undo_classes(&run_b, &after_a, &b);
        assert_eq!(undo.gone, ["enr-b"]);
        assert_eq!(after_a.undone(&undo.rosters), nobody, "{undo:?}");
    }

    #[test]
    fn undoing_an_older_move_gives_back_no_seat_the_enrolment_no_longer_makes() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (sam, kim) = (UserId::new(), UserId::new());
        let maths = roster(org, source, "maths", "Maths");
        let art = roster(org, source, "art", "Art");
        let state = |seats: Vec<Seat>| RosterState {
            rosters: vec![maths.clone(), art.clone()],
            seats,
        };
        let before = state(vec![seat(&maths, sam, MemberRole::Student)]);
        let moved = state(vec![seat(&art, sam, MemberRole::Student)]);
        let run_1 = run(
            &before,
            &moved,
            &[had("enr-1", "maths", sam, MemberRole::Student)],
            &[had("enr-1", "art", sam, MemberRole::Student)],
        );
        // Since, enr-1 went on to Kim.
        let now = state(vec![seat(&art, kim, MemberRole::Student)]);
        let kims = [had("enr-1", "art", kim, MemberRole::Student)];
        let undo = undo_classes(&run_1, &now, &kims);
        assert!(undo.put.is_empty() && undo.gone.is_empty(), "{undo:?}");
        assert_eq!(
            now.undone(&undo.rosters),
            now,
            "Sam gets no seat back in Maths"
        );
    }

    #[test]
    fn undoing_a_part_change_gives_back_the_part_the_enrolments_left_make() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let sam = UserId::new();
        let maths = roster(org, source, "maths", "Maths");
        let state = |role| RosterState {
            rosters: vec![maths.clone()],
            seats: vec![seat(&maths, sam, role)],
        };
        // Run 1 makes enr-1 a teacher's; run 2 ends it and sends enr-2, a student's.
        let had_before = [had("enr-1", "maths", sam, MemberRole::Student)];
        let had_after = [had("enr-1", "maths", sam, MemberRole::Teacher)];
        let first = run(
            &state(MemberRole::Student),
            &state(MemberRole::Teacher),
            &had_before,
            &had_after,
        );
        let now = [had("enr-2", "maths", sam, MemberRole::Student)];
        let undo = undo_classes(&first, &state(MemberRole::Student), &now);
        // enr-1 was ended since: it is not given back, and the seat is enr-2's.
        assert!(undo.put.is_empty() && undo.gone.is_empty(), "{undo:?}");
        assert_eq!(
            state(MemberRole::Student).undone(&undo.rosters),
            state(MemberRole::Student)
        );
        // Nothing changed since: the part goes back to the student's.
        let undo = undo_classes(&first, &state(MemberRole::Teacher), &had_after);
        assert_eq!(undo.put, had_before);
        assert_eq!(
            state(MemberRole::Teacher).undone(&undo.rosters),
            state(MemberRole::Student)
        );
    }

    #[test]
    fn a_deletion_without_an_id_ends_the_persons_enrolments_in_the_class() {
        let (sam, kim) = (UserId::new(), UserId::new());
        let before = [
            had("enr-1", "maths", sam, MemberRole::Student),
            had("enr-2", "maths", sam, MemberRole::Teacher),
            had("enr-3", "maths", kim, MemberRole::Student),
        ];
        let unnamed = unnamed_enrolment_id("maths", "sam-1");
        assert!(is_unnamed(&unnamed) && !is_unnamed("enr-1"));
        // Kept under its class and person too (sent once without an id): all three end.
        let mut before = before.to_vec();
        before.push(had(&unnamed, "maths", sam, MemberRole::Other));
        let write = enrolments_written(
            &before,
            &[sent(
                &unnamed,
                "maths",
                Some(sam),
                MemberRole::Student,
                true,
            )],
            false,
        );
        let mut gone = write.gone.clone();
        gone.sort();
        assert_eq!(gone, ["enr-1", "enr-2", unnamed.as_str()]);
        assert_eq!(write.removed, [("maths".to_owned(), sam)]);
        assert!(
            write.members.is_empty() && write.put.is_empty(),
            "{write:?}"
        );
        // One sent earlier in the same package ends too, and the seat with it.
        let write = enrolments_written(
            &[],
            &[
                sent("enr-5", "maths", Some(sam), MemberRole::Student, false),
                sent(&unnamed, "maths", Some(sam), MemberRole::Student, true),
            ],
            false,
        );
        assert!(
            write.put.is_empty() && write.members.is_empty(),
            "{write:?}"
        );
        assert_eq!(write.removed, [("maths".to_owned(), sam)]);
        // One the package moved to another class first is not of the pair any more: it stays.
        let write = enrolments_written(
            &before[..1],
            &[
                sent("enr-1", "history", Some(sam), MemberRole::Student, false),
                sent(&unnamed, "maths", Some(sam), MemberRole::Student, true),
            ],
            false,
        );
        assert!(write.gone.is_empty(), "{write:?}");
        assert_eq!(
            write.put,
            [had("enr-1", "history", sam, MemberRole::Student)]
        );
        // A deletion under an id of its own that the source lacks ends no other enrolment.
        let write = enrolments_written(
            &before,
            &[sent("enr-9", "maths", Some(sam), MemberRole::Student, true)],
            false,
        );
        assert!(
            write.gone.is_empty() && write.removed.is_empty(),
            "{write:?}"
        );
    }

    #[test]
    fn a_runs_class_changes_are_listed_one_by_one() {
        let (org, source) = (OrgId::new(), SourceId::new());
        let (ada, ben, cy) = (UserId::new(), UserId::new(), UserId::new());
        let maths = roster(org, source, "m", "Maths");
        let art = roster(org, source, "a", "Art");
        let before = RosterState {
            rosters: vec![maths.clone(), art.clone()],
            seats: vec![
                seat(&maths, ada, MemberRole::Student),
                seat(&maths, ben, MemberRole::Student),
                seat(&art, cy, MemberRole::Student),
            ],
        };
        let renamed = Roster {
            title: "Algebra".to_owned(),
            ..maths.clone()
        };
        let after = RosterState {
            rosters: vec![renamed],
            seats: vec![
                seat(&maths, ada, MemberRole::Teacher),
                seat(&maths, cy, MemberRole::Student),
            ],
        };
        let lines = RosterChanges::between(&before, &after).itemised();
        let said: Vec<(RosterId, Option<UserId>, &str)> = lines
            .iter()
            .map(|l| (l.roster, l.user, l.what.as_str()))
            .collect();
        assert_eq!(said.len(), 6, "{said:#?}");
        assert_eq!(
            &said[..2],
            [
                (maths.id, None, "class renamed from \u{201c}Maths\u{201d}"),
                (art.id, None, "class removed")
            ]
        );
        for expected in [
            (maths.id, Some(ada), "part changed from student to teacher"),
            (maths.id, Some(ben), "left (was student)"),
            (maths.id, Some(cy), "joined as student"),
            (art.id, Some(cy), "left (was student)"),
        ] {
            assert!(said.contains(&expected), "{expected:?} in {said:#?}");
        }
    }
}
