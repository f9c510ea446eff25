//! Courses as admins write them, and enrolments: everyone, people picked, or a roster.

use std::collections::HashSet;

use rollcall_domain::learning::{Course, CourseDraft, EnrolMethod, Enrolment, Progress};
use rollcall_domain::provisioning::Wanted;
use rollcall_domain::{CourseId, FieldError, RosterId, Status, User, UserId};
use rollcall_store::Tally;

use super::enrol;
use crate::{App, AppError, Principal};

/// The most people one pick may enrol.
const MAX_PICKED: usize = 10_000;

/// A course with how many of its people are where, by their status.
#[derive(Debug, Clone)]
pub struct CourseSummary {
    pub course: Course,
    pub tally: Vec<(Status, Tally)>,
}

/// What an enrolment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enrolled {
    /// People newly enrolled (those enrolled already are left as they are).
    pub enrolled: u64,
}

impl App {
    pub async fn create_course(
        &self,
        who: &Principal,
        draft: CourseDraft,
    ) -> Result<Course, AppError> {
        who.require_admin()?;
        let course = Course::create(who.org_id, draft, self.now()).map_err(AppError::Invalid)?;
        let mut uow = self.store.begin().await?;
        uow.insert_course(&course).await?;
        uow.commit().await?;
        tracing::info!(course.id = %course.id, "course created");
        Ok(course)
    }

    /// Rewrites a course read at `version` (when the caller sent one).
    pub async fn edit_course(
        &self,
        who: &Principal,
        id: CourseId,
        version: Option<i64>,
        draft: CourseDraft,
    ) -> Result<Course, AppError> {
        who.require_admin()?;
        let mut uow = self.store.begin().await?;
        let course = locked_course(uow.as_mut(), who, id, version).await?;
        let revised = course
            .revise(draft, self.now())
            .map_err(AppError::Invalid)?;
        uow.update_course(&revised, course.version).await?;
        uow.commit().await?;
        Ok(revised)
    }

    /// Retires a course (no lesson opens, nobody starts it; every record is kept) or opens it
    /// again.
    pub async fn retire_course(
        &self,
        who: &Principal,
        id: CourseId,
        retired: bool,
    ) -> Result<Course, AppError> {
        who.require_admin()?;
        let mut uow = self.store.begin().await?;
        let course = locked_course(uow.as_mut(), who, id, None).await?;
        if course.retired == retired {
            return Ok(course);
        }
        let changed = course.with_retired(retired, self.now());
        uow.update_course(&changed, course.version).await?;
        // Opened again, an everyone-course takes in whoever joined while it was retired.
        if let (false, Some((_, by))) = (retired, &changed.everyone) {
            enrol(
                uow.as_mut(),
                &changed,
                EnrolMethod::Everyone,
                by,
                None,
                self.now(),
            )
            .await?;
        }
        uow.commit().await?;
        Ok(changed)
    }

    /// The org's courses, by title.
    pub async fn courses(&self, who: &Principal) -> Result<Vec<Course>, AppError> {
        who.require_admin()?;
        Ok(self.store.courses(who.org_id).await?)
    }

    /// A course, with its people counted by status.
    pub async fn course(&self, who: &Principal, id: CourseId) -> Result<CourseSummary, AppError> {
        who.require_admin()?;
        let course = self
            .store
            .course(who.org_id, id)
            .await?
            .ok_or(AppError::NotFound("course"))?;
        let tally = self.store.course_tally(who.org_id, id).await?;
        Ok(CourseSummary { course, tally })
    }

    /// A page of a course's people (only those this far, when given), in id order after
    /// `after`.
    pub async fn course_people(
        &self,
        who: &Principal,
        id: CourseId,
        progress: Option<Progress>,
        after: Option<UserId>,
        limit: u64,
    ) -> Result<Vec<(Enrolment, User)>, AppError> {
        who.require_admin()?;
        Ok(self
            .store
            .course_enrolments(who.org_id, id, progress, after, limit.clamp(1, 500))
            .await?)
    }

    /// Makes a course enrol everyone: all the org's people but the archived now (inactive ones
    /// silently, without access until reactivated), and everyone who joins later.
    pub async fn enrol_everyone(
        &self,
        who: &Principal,
        id: CourseId,
    ) -> Result<Enrolled, AppError> {
        who.require_admin()?;
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let course = open_course(uow.as_mut(), who, id).await?;
        let by = who.actor.label().to_owned();
        let course = if course.everyone.is_some() {
            course
        } else {
            let everyone = course.for_everyone(&by, now);
            uow.update_course(&everyone, course.version).await?;
            everyone
        };
        let enrolled = enrol(uow.as_mut(), &course, EnrolMethod::Everyone, &by, None, now).await?;
        uow.commit().await?;
        tracing::info!(course.id = %id, enrolled, "course enrols everyone");
        Ok(Enrolled { enrolled })
    }

    /// Enrols the people picked. Each must be a person of the org a picker shows (not
    /// archived); one who is not refuses the whole pick.
    pub async fn enrol_selected(
        &self,
        who: &Principal,
        id: CourseId,
        users: &[UserId],
    ) -> Result<Enrolled, AppError> {
        who.require_admin()?;
        if users.is_empty() {
            return Err(AppError::invalid("users", "pick at least one person"));
        }
        if users.len() > MAX_PICKED {
            return Err(AppError::invalid(
                "users",
                format!("at most {MAX_PICKED} people can be enrolled at once"),
            ));
        }
        let wanted = Wanted {
            ids: users.to_vec(),
            ..Wanted::default()
        };
        let found: std::collections::HashMap<UserId, Status> = self
            .store
            .provisioning_known(who.org_id, &wanted)
            .await?
            .into_iter()
            .map(|k| (k.user.id(), k.user.status()))
            .collect();
        let allowed = EnrolMethod::Selected.takes_in();
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        for (i, user) in users.iter().enumerate() {
            let field = format!("users[{i}]");
            match found.get(user) {
                _ if !seen.insert(user) => {}
                None => problems.push(FieldError::new(field, "is not a person of this org")),
                Some(status) if !allowed.contains(status) => problems.push(FieldError::new(
                    field,
                    format!("is {}: restore them before enrolling them", status.as_str()),
                )),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let picked: Vec<UserId> = seen.into_iter().copied().collect();
        let mut uow = self.store.begin().await?;
        let course = open_course(uow.as_mut(), who, id).await?;
        let by = who.actor.label().to_owned();
        let enrolled = enrol(
            uow.as_mut(),
            &course,
            EnrolMethod::Selected,
            &by,
            Some(&picked),
            self.now(),
        )
        .await?;
        uow.commit().await?;
        Ok(Enrolled { enrolled })
    }

    /// Enrols the people a segment picks out now (inactive members silently, as a pick
    /// would): each is enrolled as selected, so people who join the segment later are not
    /// enrolled by this, and people who leave it keep their place and progress.
    pub async fn enrol_segment(
        &self,
        who: &Principal,
        id: CourseId,
        segment: rollcall_domain::SegmentId,
    ) -> Result<Enrolled, AppError> {
        who.require_admin()?;
        let found = self.segment(who, segment).await?;
        let rule = self.segment_rule(who.org_id, &found.record.rule).await?;
        let mut uow = self.store.begin().await?;
        let course = open_course(uow.as_mut(), who, id).await?;
        let by = who.actor.label().to_owned();
        let enrolled = super::enrol_picked(
            uow.as_mut(),
            &course,
            EnrolMethod::Selected,
            &by,
            (None, Some(&rule)),
            self.now(),
        )
        .await?;
        uow.commit().await?;
        tracing::info!(course.id = %id, segment.id = %segment, enrolled, "segment enrolled");
        Ok(Enrolled { enrolled })
    }

    /// Enrols a roster's members as they are now (inactive members silently).
    pub async fn enrol_roster(
        &self,
        who: &Principal,
        id: CourseId,
        roster: RosterId,
    ) -> Result<Enrolled, AppError> {
        who.require_admin()?;
        if !self
            .store
            .rosters(who.org_id)
            .await?
            .iter()
            .any(|r| r.id == roster)
        {
            return Err(AppError::NotFound("roster"));
        }
        let mut uow = self.store.begin().await?;
        let course = open_course(uow.as_mut(), who, id).await?;
        let by = who.actor.label().to_owned();
        let method = EnrolMethod::Roster(roster);
        let enrolled = enrol(uow.as_mut(), &course, method, &by, None, self.now()).await?;
        uow.commit().await?;
        Ok(Enrolled { enrolled })
    }
}

/// The course, locked in `uow`, at `version` when the caller sent one.
async fn locked_course(
    uow: &mut dyn rollcall_store::UnitOfWork,
    who: &Principal,
    id: CourseId,
    version: Option<i64>,
) -> Result<Course, AppError> {
    let course = uow
        .lock_course(who.org_id, id)
        .await?
        .ok_or(AppError::NotFound("course"))?;
    if let Some(sent) = version.filter(|&v| v != course.version) {
        return Err(AppError::conflict(
            "version",
            format!(
                "the course was changed since you read it (you sent version {sent}, it is now \
                 at {}); reload it and apply your change again",
                course.version
            ),
        ));
    }
    Ok(course)
}

/// The course, locked, if it may take people in: a retired course enrols nobody.
async fn open_course(
    uow: &mut dyn rollcall_store::UnitOfWork,
    who: &Principal,
    id: CourseId,
) -> Result<Course, AppError> {
    let course = locked_course(uow, who, id, None).await?;
    if course.retired {
        return Err(AppError::conflict(
            "course",
            "this course is retired: open it again before enrolling anyone",
        ));
    }
    Ok(course)
}
