//! Learning's use cases: admins write courses, enrol people, top up credits and read everyone's
//! training history; learners start courses, read lessons, complete them and keep their
//! certificates. Every learner's step asks the domain's rules with the person's status as
//! stored now, not as their session remembers it.

mod courses;
mod credits;
mod outbox;
mod progress;

use rollcall_domain::learning::{
    Course, EnrolMethod, LearningError, MessageKind, NO_ADDRESS, NewMessage, suppressed_for,
};
use rollcall_domain::{OrgId, Status, Timestamp, User, UserChange, UserId, rules};
use rollcall_store::{Enrol, Store, StoreResult, UnitOfWork};

pub use courses::{CourseSummary, Enrolled};
pub use credits::Credits;
pub(crate) use outbox::admin_message;
pub use outbox::{Delivered, Mailer, SendError, Written};
pub use progress::{Finished, MyCourse, TrainingHistory};

use crate::{AppError, Principal};

/// Where each person's given name goes in a notice's body (a character no title or name holds).
const NAME: &str = "\u{1f}name\u{1f}";

impl From<LearningError> for AppError {
    fn from(err: LearningError) -> Self {
        Self::Learning(err)
    }
}

/// The notice of an enrolment in `course`.
fn enrolment_notice(course: &Course) -> NewMessage {
    NewMessage {
        kind: MessageKind::Enrolment,
        subject: format!("You are enrolled in {}", course.title),
        body: format!(
            "Hello {NAME},\n\nYou are enrolled in the course \"{}\".\n\nSign in and open My \
             courses to start it.",
            course.title
        ),
    }
}

/// Why each status's notices are kept unsent, as the rules say.
fn suppressions() -> Vec<(Status, String)> {
    Status::ALL
        .iter()
        .filter_map(|&status| Some((status, suppressed_for(status)?)))
        .collect()
}

/// Enrols people in `course` by `method` (`users`: only these), each sent the enrolment notice
/// or having it kept as suppressed; how many were enrolled.
async fn enrol(
    uow: &mut dyn UnitOfWork,
    course: &Course,
    method: EnrolMethod,
    by: &str,
    users: Option<&[UserId]>,
    at: Timestamp,
) -> StoreResult<u64> {
    enrol_picked(uow, course, method, by, (users, None), at).await
}

/// Enrols, as [`enrol`] does, only the people listed and the people a segment's rule picks out.
async fn enrol_picked(
    uow: &mut dyn UnitOfWork,
    course: &Course,
    method: EnrolMethod,
    by: &str,
    (users, rule): (Option<&[UserId]>, Option<&rollcall_domain::segment::Rule>),
    at: Timestamp,
) -> StoreResult<u64> {
    let notice = enrolment_notice(course);
    let statuses = method.takes_in();
    let suppressed = suppressions();
    uow.enrol(&Enrol {
        org: course.org_id,
        course: course.id,
        method,
        by,
        at,
        statuses: &statuses,
        users,
        rule,
        notice: &notice,
        name_marker: NAME,
        suppressed: &suppressed,
        no_address: NO_ADDRESS,
    })
    .await
}

/// Enrols people who just joined the org (made, or restored from the archive) in every open
/// course that enrols everyone.
pub(crate) async fn enrol_joiners(
    uow: &mut dyn UnitOfWork,
    org: OrgId,
    joiners: &[UserId],
    at: Timestamp,
) -> StoreResult<()> {
    if joiners.is_empty() {
        return Ok(());
    }
    for course in uow.everyone_courses(org).await? {
        if let Some((_, by)) = &course.everyone {
            enrol(uow, &course, EnrolMethod::Everyone, by, Some(joiners), at).await?;
        }
    }
    Ok(())
}

/// The people among `changes` who come back from the archive: they join again.
pub(crate) fn returning<'c>(changes: impl IntoIterator<Item = &'c UserChange>) -> Vec<UserId> {
    changes
        .into_iter()
        .filter(|c| {
            c.event.from_status.is_some_and(rules::is_archived)
                && c.event.to_status.is_some_and(|to| !rules::is_archived(to))
        })
        .map(|c| c.user.id())
        .collect()
}

/// The person `who` is, as stored now: a learner's steps need their status of this moment.
async fn learner(store: &dyn Store, who: &Principal) -> Result<User, AppError> {
    let id = who.actor.user_id().ok_or(AppError::Forbidden)?;
    store
        .user(who.org_id, id)
        .await?
        .ok_or(AppError::Unauthenticated)
}
