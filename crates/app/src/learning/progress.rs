//! A learner's way through a course (start, lessons, completion, certificate), and the training
//! history admins read of anyone, whatever their status.

use std::collections::HashMap;

use rollcall_domain::learning::{
    self, Certificate, Course, Enrolment, Graded, LearningError, Started, VerificationCode,
};
use rollcall_domain::{CertificateId, CourseId, LessonId, User, UserId, rules};

use super::learner;
use crate::{App, AppError, Principal};

/// A course as its learner sees it.
#[derive(Debug, Clone)]
pub struct MyCourse {
    pub course: Course,
    pub enrolment: Enrolment,
    pub certificate: Option<Certificate>,
}

/// What the completion step did.
#[derive(Debug, Clone)]
pub struct Finished {
    pub course: MyCourse,
    /// The quiz attempt, marked (none for a course marked complete).
    pub graded: Option<Graded>,
}

/// Everything a person did in training, for admins, whatever the person's status.
#[derive(Debug, Clone)]
pub struct TrainingHistory {
    pub user: User,
    /// Each course they were enrolled in, as its learner would see it.
    pub records: Vec<MyCourse>,
    /// Credits their first starts consumed, in all.
    pub credits_used: u64,
}

impl App {
    /// The courses `who` is enrolled in, newest enrolment first. An inactive or archived person
    /// opens none (their enrolments stay).
    pub async fn my_courses(&self, who: &Principal) -> Result<Vec<MyCourse>, AppError> {
        let me = self.may_learn(who).await?;
        self.courses_of(&me).await
    }

    /// One of `who`'s courses; a course they are not enrolled in is not found.
    pub async fn my_course(&self, who: &Principal, id: CourseId) -> Result<MyCourse, AppError> {
        let me = self.may_learn(who).await?;
        let course = self.learner_course(who, id).await?;
        let enrolment = self
            .store
            .enrolment(who.org_id, id, me.id())
            .await?
            .ok_or(AppError::NotFound("course"))?;
        self.with_certificate(course, enrolment).await
    }

    /// Starts a course: the first start consumes its credits, once, or is refused (and nothing
    /// consumed) when the org has too few; a later start just opens it.
    pub async fn start_course(&self, who: &Principal, id: CourseId) -> Result<MyCourse, AppError> {
        let course = self.learner_course(who, id).await?;
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let me = locked_learner(uow.as_mut(), who).await?;
        let enrolment = uow.lock_enrolment(who.org_id, id, me.id()).await?;
        let enrolment = match learning::start(me.status(), &course, enrolment.as_ref()) {
            Err(LearningError::NotEnrolled) => return Err(AppError::NotFound("course")),
            Err(err) => return Err(err.into()),
            Ok(Started::Again) => enrolment,
            Ok(Started::First { cost }) => {
                if !uow
                    .start_enrolment(who.org_id, id, me.id(), now, cost)
                    .await?
                {
                    return Err(AppError::internal("starting a course", StartedTwice));
                }
                if cost > 0 {
                    let balance = match uow.take_credits(who.org_id, cost).await? {
                        Ok(after) => after,
                        Err(balance) => {
                            return Err(LearningError::NotEnoughCredits { cost, balance }.into());
                        }
                    };
                    uow.insert_credit_entry(&learning::CreditEntry {
                        id: rollcall_domain::CreditEntryId::new(),
                        org_id: who.org_id,
                        at: now,
                        kind: learning::CreditKind::Consumption,
                        amount: cost,
                        balance_after: balance,
                        course_id: Some(id),
                        user_id: Some(me.id()),
                        actor: me.display_name(),
                        reason: format!("first start of {}", course.title),
                    })
                    .await?;
                }
                uow.lock_enrolment(who.org_id, id, me.id()).await?
            }
        };
        uow.commit().await?;
        let enrolment = enrolment.ok_or(AppError::NotFound("course"))?;
        self.with_certificate(course, enrolment).await
    }

    /// Marks a lesson read (opening it is reading it).
    pub async fn read_lesson(
        &self,
        who: &Principal,
        id: CourseId,
        lesson: LessonId,
    ) -> Result<MyCourse, AppError> {
        let course = self.learner_course(who, id).await?;
        let mut uow = self.store.begin().await?;
        let me = locked_learner(uow.as_mut(), who).await?;
        let enrolment = uow.lock_enrolment(who.org_id, id, me.id()).await?;
        let after = learning::complete_lesson(me.status(), &course, enrolment.as_ref(), lesson)
            .map_err(not_found_if_not_enrolled)?;
        if let Some(before) = enrolment.filter(|e| e.version != after.version) {
            uow.update_enrolment(&after, before.version).await?;
            uow.commit().await?;
        }
        self.with_certificate(course, after).await
    }

    /// The completion step: quiz `answers`, or none to mark the course complete. A completion
    /// issues the certificate; one posted twice is refused.
    pub async fn finish_course(
        &self,
        who: &Principal,
        id: CourseId,
        answers: Option<&[usize]>,
    ) -> Result<Finished, AppError> {
        let course = self.learner_course(who, id).await?;
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let me = locked_learner(uow.as_mut(), who).await?;
        let enrolment = uow.lock_enrolment(who.org_id, id, me.id()).await?;
        let (after, graded) =
            learning::finish(me.status(), &course, enrolment.as_ref(), answers, now)
                .map_err(not_found_if_not_enrolled)?;
        let expected = enrolment.map_or(0, |e| e.version);
        uow.update_enrolment(&after, expected).await?;
        let certificate = match after.completed_at {
            Some(at) => {
                let certificate = Certificate::issue(
                    who.org_id,
                    me.id(),
                    id,
                    &me.display_name(),
                    &course.title,
                    at,
                );
                uow.insert_certificate(&certificate).await?;
                Some(certificate)
            }
            None => None,
        };
        uow.commit().await?;
        Ok(Finished {
            course: MyCourse {
                course,
                enrolment: after,
                certificate,
            },
            graded,
        })
    }

    /// One of `who`'s own certificates; nobody else's is found, and an inactive or archived
    /// person opens none.
    pub async fn my_certificate(
        &self,
        who: &Principal,
        id: CertificateId,
    ) -> Result<Certificate, AppError> {
        let me = self.may_learn(who).await?;
        self.store
            .certificate(who.org_id, id)
            .await?
            .filter(|c| c.user_id == me.id())
            .ok_or(AppError::NotFound("certificate"))
    }

    /// Any certificate of the org, for an admin (whatever its holder's status).
    pub async fn certificate(
        &self,
        who: &Principal,
        id: CertificateId,
    ) -> Result<Certificate, AppError> {
        who.require_admin()?;
        self.store
            .certificate(who.org_id, id)
            .await?
            .ok_or(AppError::NotFound("certificate"))
    }

    /// The certificate a verification code names in the org, for anyone: `None` when the code
    /// names none (or cannot be a code).
    pub async fn verify_certificate(
        &self,
        org_slug: &str,
        code: &str,
    ) -> Result<Option<Certificate>, AppError> {
        // An address naming no org (or no possible one) verifies nothing, as a wrong code.
        let org = match self.org_by_slug(org_slug).await {
            Ok(org) => org,
            Err(AppError::NotFound(_) | AppError::Invalid(_)) => return Ok(None),
            Err(err) => return Err(err),
        };
        let Some(code) = VerificationCode::parse(code) else {
            return Ok(None);
        };
        Ok(self.store.certificate_by_code(org.id, &code).await?)
    }

    /// A person's whole training history, whatever their status.
    pub async fn training_history(
        &self,
        who: &Principal,
        user: UserId,
    ) -> Result<TrainingHistory, AppError> {
        who.require_admin()?;
        let user = self
            .store
            .user(who.org_id, user)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        debug_assert!(rules::rules(user.status()).history_visible_to_admins);
        let records = self.courses_of(&user).await?;
        let credits_used = records
            .iter()
            .map(|r| u64::from(r.enrolment.credits_used))
            .sum();
        Ok(TrainingHistory {
            user,
            records,
            credits_used,
        })
    }

    /// Every course `person` is enrolled in, newest enrolment first, with their certificate.
    async fn courses_of(&self, person: &User) -> Result<Vec<MyCourse>, AppError> {
        let org = person.org_id();
        let courses: HashMap<CourseId, Course> = self
            .store
            .courses(org)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut certificates: HashMap<CourseId, Certificate> = self
            .store
            .user_certificates(org, person.id())
            .await?
            .into_iter()
            .map(|c| (c.course_id, c))
            .collect();
        Ok(self
            .store
            .user_enrolments(org, person.id())
            .await?
            .into_iter()
            .filter_map(|enrolment| {
                Some(MyCourse {
                    course: courses.get(&enrolment.course_id)?.clone(),
                    certificate: certificates.remove(&enrolment.course_id),
                    enrolment,
                })
            })
            .collect())
    }

    /// `who`, if the rules let them open courses now.
    async fn may_learn(&self, who: &Principal) -> Result<User, AppError> {
        let me = learner(self.store.as_ref(), who).await?;
        learning::access(me.status(), None)
            .map(drop)
            .or_else(|err| match err {
                LearningError::NotEnrolled => Ok(()),
                other => Err(other),
            })?;
        Ok(me)
    }

    /// A course for a learner: it must exist (enrolment is checked by the step).
    async fn learner_course(&self, who: &Principal, id: CourseId) -> Result<Course, AppError> {
        self.store
            .course(who.org_id, id)
            .await?
            .ok_or(AppError::NotFound("course"))
    }

    async fn with_certificate(
        &self,
        course: Course,
        enrolment: Enrolment,
    ) -> Result<MyCourse, AppError> {
        let certificate = match enrolment.completed_at {
            Some(_) => self
                .store
                .user_certificates(enrolment.org_id, enrolment.user_id)
                .await?
                .into_iter()
                .find(|c| c.course_id == course.id),
            None => None,
        };
        Ok(MyCourse {
            course,
            enrolment,
            certificate,
        })
    }
}

/// The learner `who` is, locked in `uow`: their status cannot change until the step is written.
async fn locked_learner(
    uow: &mut dyn rollcall_store::UnitOfWork,
    who: &Principal,
) -> Result<User, AppError> {
    let id = who.actor.user_id().ok_or(AppError::Forbidden)?;
    uow.user(who.org_id, id)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// A course someone is not enrolled in is, to them, no course at all.
fn not_found_if_not_enrolled(err: LearningError) -> AppError {
    match err {
        LearningError::NotEnrolled => AppError::NotFound("course"),
        other => other.into(),
    }
}

/// The enrolment was locked unstarted, yet its start found it started: a bug.
#[derive(Debug, thiserror::Error)]
#[error("an enrolment locked as not started was found started")]
struct StartedTwice;
