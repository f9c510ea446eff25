//! Rosters: the classes a source sends (OneRoster `classes.csv`) and who is in them, with their
//! role (`enrollments.csv`). A roster lists its members by the status rules: inactive members
//! are shown and marked, archived ones are hidden (and kept: they come back with their record).

use crate::ids::{OrgId, RosterId, SourceId, UserId};
use crate::rules;
use crate::user::User;

/// A member's part in a roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberRole {
    Teacher,
    Student,
    /// An administrator or proctor of the class, or a role of the source's own (`ext:`).
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
