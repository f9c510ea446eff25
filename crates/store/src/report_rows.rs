//! The rows of reports and figures as stored, and the types they read into.

use rollcall_domain::{CourseId, Status, Timestamp, UserId};
use sqlx::FromRow;
use uuid::Uuid;

use crate::StoreResult;
use crate::rows::{corrupt, from_micros};

/// One line of a completion report: a person's place in a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub user_id: UserId,
    pub username: Option<String>,
    pub email: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub status: Status,
    pub course_id: CourseId,
    pub course_title: String,
    /// How they were enrolled: `everyone`, `selected` or `roster`.
    pub method: String,
    pub enrolled_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub score: Option<u8>,
    pub credits_used: u32,
}

impl ReportRow {
    /// Where the next page starts: after this row.
    pub fn key(&self) -> ReportKey {
        ReportKey {
            enrolled_at: self.enrolled_at,
            course_id: self.course_id,
            user_id: self.user_id,
        }
    }
}

/// A place in a report's order (newest enrolment first, then course, then person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportKey {
    pub enrolled_at: Timestamp,
    pub course_id: CourseId,
    pub user_id: UserId,
}

pub const REPORT_COLUMNS: &str = "u.user_id, u.username, u.email, u.given_name, u.family_name, \
     u.status, e.course_id, c.title, e.method, e.enrolled_at, e.started_at, e.completed_at, \
     e.score, e.credits_used";

#[derive(Debug, FromRow)]
pub struct ReportColumns {
    pub(crate) user_id: Uuid,
    pub(crate) username: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    pub(crate) status: String,
    pub(crate) course_id: Uuid,
    pub(crate) title: String,
    pub(crate) method: String,
    pub(crate) enrolled_at: i64,
    pub(crate) started_at: Option<i64>,
    pub(crate) completed_at: Option<i64>,
    pub(crate) score: Option<i64>,
    pub(crate) credits_used: i64,
}

impl ReportColumns {
    pub fn into_row(self) -> StoreResult<ReportRow> {
        Ok(ReportRow {
            user_id: UserId::from_uuid(self.user_id),
            username: self.username,
            email: self.email,
            given_name: self.given_name,
            family_name: self.family_name,
            status: self
                .status
                .parse()
                .map_err(|_| corrupt(format!("status '{}'", self.status)))?,
            course_id: CourseId::from_uuid(self.course_id),
            course_title: self.title,
            method: self.method,
            enrolled_at: from_micros(self.enrolled_at)?,
            started_at: self.started_at.map(from_micros).transpose()?,
            completed_at: self.completed_at.map(from_micros).transpose()?,
            score: self.score.and_then(|s| u8::try_from(s).ok()),
            credits_used: u32::try_from(self.credits_used).unwrap_or(0),
        })
    }
}

/// A course's figures: its counted people's enrolments, starts, completions and the credits
/// their starts consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseFigures {
    pub course_id: CourseId,
    pub title: String,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    pub credits: u64,
}

/// A month's figures: the enrolments, starts and completions of counted people that fell in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonthFigures {
    /// `YYYY-MM`, in UTC.
    pub month: String,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    pub credits: u64,
}

#[derive(Debug, FromRow)]
pub struct FigureColumns {
    pub(crate) key: String,
    pub(crate) enrolled: i64,
    pub(crate) started: i64,
    pub(crate) completed: i64,
    pub(crate) credits: i64,
}

#[derive(Debug, FromRow)]
pub struct CourseFigureColumns {
    pub(crate) course_id: Uuid,
    pub(crate) title: String,
    pub(crate) enrolled: i64,
    pub(crate) started: i64,
    pub(crate) completed: i64,
    pub(crate) credits: i64,
}

/// A count as read: never negative.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl CourseFigureColumns {
    pub fn into_figures(self) -> CourseFigures {
        CourseFigures {
            course_id: CourseId::from_uuid(self.course_id),
            title: self.title,
            enrolled: count(self.enrolled),
            started: count(self.started),
            completed: count(self.completed),
            credits: count(self.credits),
        }
    }
}
