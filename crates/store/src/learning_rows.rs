//! The rows of learning's tables, as both backends read and write them.

use rollcall_domain::learning::{
    Certificate, Completion, Course, CreditEntry, CreditKind, EnrolMethod, Enrolment, Lesson,
    Message, MessageKind, MessageState, VerificationCode,
};
use rollcall_domain::{
    CertificateId, CourseId, CreditEntryId, LessonId, MessageId, OrgId, RosterId, UserId,
};
use sqlx::FromRow;
use uuid::Uuid;

use crate::StoreResult;
use crate::rows::{corrupt, from_micros, micros};
use crate::sql::Value;

pub(crate) const COURSE_COLUMNS: &str = "org_id, course_id, title, description, lessons, completion, \
     credit_cost, retired, everyone_since, everyone_by, version, created_at, updated_at";
pub(crate) const ENROLMENT_COLUMNS: &str = "org_id, course_id, user_id, method, roster_id, enrolled_by, \
     enrolled_at, started_at, credits_used, lessons_done, completed_at, score, attempts, version";
pub(crate) const CERTIFICATE_COLUMNS: &str = "org_id, certificate_id, user_id, course_id, code, issued_at, \
     learner_name, course_title";
pub(crate) const ENTRY_COLUMNS: &str = "org_id, entry_id, at, kind, amount, balance_after, course_id, \
     user_id, actor, reason";
pub(crate) const MESSAGE_COLUMNS: &str = "org_id, message_id, user_id, to_address, subject, body, kind, \
     state, reason, attempts, next_attempt_at, created_at, sent_at";

/// A `course` row.
#[derive(Debug, Clone, FromRow)]
pub struct CourseColumns {
    pub(crate) org_id: Uuid,
    pub(crate) course_id: Uuid,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) lessons: String,
    pub(crate) completion: String,
    pub(crate) credit_cost: i64,
    pub(crate) retired: bool,
    pub(crate) everyone_since: Option<i64>,
    pub(crate) everyone_by: Option<String>,
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl CourseColumns {
    pub(crate) fn values(course: &Course) -> StoreResult<Vec<Value>> {
        Ok(vec![
            course.org_id.as_uuid().into(),
            course.id.as_uuid().into(),
            course.title.as_str().into(),
            course.description.as_str().into(),
            serde_json::to_string(&course.lessons)
                .map_err(corrupt)?
                .into(),
            serde_json::to_string(&course.completion)
                .map_err(corrupt)?
                .into(),
            i64::from(course.credit_cost).into(),
            course.retired.into(),
            course.everyone.as_ref().map(|(at, _)| micros(*at)).into(),
            course.everyone.as_ref().map(|(_, by)| by.clone()).into(),
            course.version.into(),
            micros(course.created_at).into(),
            micros(course.updated_at).into(),
        ])
    }

    pub(crate) fn into_course(self) -> StoreResult<Course> {
        let lessons: Vec<Lesson> = serde_json::from_str(&self.lessons).map_err(corrupt)?;
        let completion: Completion = serde_json::from_str(&self.completion).map_err(corrupt)?;
        let everyone = match (self.everyone_since, self.everyone_by) {
            (Some(at), Some(by)) => Some((from_micros(at)?, by)),
            _ => None,
        };
        Ok(Course {
            id: CourseId::from_uuid(self.course_id),
            org_id: OrgId::from_uuid(self.org_id),
            title: self.title,
            description: self.description,
            lessons,
            completion,
            credit_cost: u32::try_from(self.credit_cost).map_err(corrupt)?,
            retired: self.retired,
            everyone,
            version: self.version,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
        })
    }
}

/// An `enrolment` row.
#[derive(Debug, Clone, FromRow)]
pub struct EnrolmentColumns {
    pub(crate) org_id: Uuid,
    pub(crate) course_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) method: String,
    pub(crate) roster_id: Option<Uuid>,
    pub(crate) enrolled_by: String,
    pub(crate) enrolled_at: i64,
    pub(crate) started_at: Option<i64>,
    pub(crate) credits_used: i64,
    pub(crate) lessons_done: String,
    pub(crate) completed_at: Option<i64>,
    pub(crate) score: Option<i64>,
    pub(crate) attempts: i64,
    pub(crate) version: i64,
}

impl EnrolmentColumns {
    pub(crate) fn into_enrolment(self) -> StoreResult<Enrolment> {
        let lessons: Vec<Uuid> = serde_json::from_str(&self.lessons_done).map_err(corrupt)?;
        let time = |at: Option<i64>| at.map(from_micros).transpose();
        Ok(Enrolment {
            org_id: OrgId::from_uuid(self.org_id),
            course_id: CourseId::from_uuid(self.course_id),
            user_id: UserId::from_uuid(self.user_id),
            method: EnrolMethod::from_stored(&self.method, self.roster_id.map(RosterId::from_uuid))
                .ok_or_else(|| corrupt(format!("enrolment method {}", self.method)))?,
            enrolled_by: self.enrolled_by,
            enrolled_at: from_micros(self.enrolled_at)?,
            started_at: time(self.started_at)?,
            credits_used: u32::try_from(self.credits_used).map_err(corrupt)?,
            lessons_done: lessons.into_iter().map(LessonId::from_uuid).collect(),
            completed_at: time(self.completed_at)?,
            score: self.score.map(u8::try_from).transpose().map_err(corrupt)?,
            attempts: u32::try_from(self.attempts).map_err(corrupt)?,
            version: self.version,
        })
    }
}

/// A `certificate` row.
#[derive(Debug, Clone, FromRow)]
pub struct CertificateColumns {
    pub(crate) org_id: Uuid,
    pub(crate) certificate_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) course_id: Uuid,
    pub(crate) code: String,
    pub(crate) issued_at: i64,
    pub(crate) learner_name: String,
    pub(crate) course_title: String,
}

impl CertificateColumns {
    pub(crate) fn into_certificate(self) -> StoreResult<Certificate> {
        Ok(Certificate {
            id: CertificateId::from_uuid(self.certificate_id),
            org_id: OrgId::from_uuid(self.org_id),
            user_id: UserId::from_uuid(self.user_id),
            course_id: CourseId::from_uuid(self.course_id),
            code: VerificationCode::parse(&self.code).ok_or_else(|| corrupt("certificate code"))?,
            issued_at: from_micros(self.issued_at)?,
            learner_name: self.learner_name,
            course_title: self.course_title,
        })
    }
}

/// A `credit_entry` row.
#[derive(Debug, Clone, FromRow)]
pub struct EntryColumns {
    pub(crate) org_id: Uuid,
    pub(crate) entry_id: Uuid,
    pub(crate) at: i64,
    pub(crate) kind: String,
    pub(crate) amount: i64,
    pub(crate) balance_after: i64,
    pub(crate) course_id: Option<Uuid>,
    pub(crate) user_id: Option<Uuid>,
    pub(crate) actor: String,
    pub(crate) reason: String,
}

impl EntryColumns {
    pub(crate) fn into_entry(self) -> StoreResult<CreditEntry> {
        Ok(CreditEntry {
            id: CreditEntryId::from_uuid(self.entry_id),
            org_id: OrgId::from_uuid(self.org_id),
            at: from_micros(self.at)?,
            kind: CreditKind::from_stored(&self.kind)
                .ok_or_else(|| corrupt(format!("credit entry kind {}", self.kind)))?,
            amount: u32::try_from(self.amount).map_err(corrupt)?,
            balance_after: self.balance_after,
            course_id: self.course_id.map(CourseId::from_uuid),
            user_id: self.user_id.map(UserId::from_uuid),
            actor: self.actor,
            reason: self.reason,
        })
    }
}

/// An `outbox_message` row.
#[derive(Debug, Clone, FromRow)]
pub struct MessageColumns {
    pub(crate) org_id: Uuid,
    pub(crate) message_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) to_address: String,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) kind: String,
    pub(crate) state: String,
    pub(crate) reason: Option<String>,
    pub(crate) attempts: i64,
    pub(crate) next_attempt_at: i64,
    pub(crate) created_at: i64,
    pub(crate) sent_at: Option<i64>,
}

impl MessageColumns {
    pub(crate) fn values(m: &Message) -> Vec<Value> {
        vec![
            m.org_id.as_uuid().into(),
            m.id.as_uuid().into(),
            m.user_id.as_uuid().into(),
            m.to.as_str().into(),
            m.subject.as_str().into(),
            m.body.as_str().into(),
            m.kind.as_str().into(),
            m.state.as_str().into(),
            m.reason.clone().into(),
            i64::from(m.attempts).into(),
            micros(m.next_attempt_at).into(),
            micros(m.created_at).into(),
            m.sent_at.map(micros).into(),
        ]
    }

    pub(crate) fn into_message(self) -> StoreResult<Message> {
        Ok(Message {
            id: MessageId::from_uuid(self.message_id),
            org_id: OrgId::from_uuid(self.org_id),
            user_id: UserId::from_uuid(self.user_id),
            to: self.to_address,
            subject: self.subject,
            body: self.body,
            kind: MessageKind::from_stored(&self.kind)
                .ok_or_else(|| corrupt(format!("message kind {}", self.kind)))?,
            state: MessageState::from_stored(&self.state)
                .ok_or_else(|| corrupt(format!("message state {}", self.state)))?,
            reason: self.reason,
            attempts: u32::try_from(self.attempts).map_err(corrupt)?,
            next_attempt_at: from_micros(self.next_attempt_at)?,
            created_at: from_micros(self.created_at)?,
            sent_at: self.sent_at.map(from_micros).transpose()?,
        })
    }
}

/// A tally row: a status and its counts.
#[derive(Debug, Clone, FromRow)]
pub struct TallyColumns {
    pub(crate) status: String,
    pub(crate) enrolled: i64,
    pub(crate) started: i64,
    pub(crate) completed: i64,
}

/// A credit use row: whose, how many credits, in how many starts.
#[derive(Debug, Clone, FromRow)]
pub struct UseColumns {
    pub(crate) of: Uuid,
    pub(crate) credits: i64,
    pub(crate) starts: i64,
}
