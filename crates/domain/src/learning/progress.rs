//! Enrolments and progress: who is enrolled in a course and how, and what a learner may do next
//! (open a lesson, start, read, finish). Each decision asks the status rules first: an inactive
//! or archived person keeps every enrolment and result, and opens nothing.

use std::fmt;

use crate::Timestamp;
use crate::error::FieldError;
use crate::ids::{CourseId, LessonId, OrgId, RosterId, UserId};
use crate::learning::course::{Completion, Course, Quiz};
use crate::rules;
use crate::status::Status;

/// How someone came to be enrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolMethod {
    /// The course enrols everyone in the org who is not archived, now and as people join.
    Everyone,
    /// An admin ticked them.
    Selected,
    /// They are a member of this roster.
    Roster(RosterId),
}

impl EnrolMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Selected => "selected",
            Self::Roster(_) => "roster",
        }
    }

    pub const fn roster(self) -> Option<RosterId> {
        match self {
            Self::Roster(id) => Some(id),
            Self::Everyone | Self::Selected => None,
        }
    }

    /// The statuses this method enrols: everyone's takes in all but the archived (inactive
    /// people silently, without access); a pick or a roster, whom pickers and rosters show.
    pub fn takes_in(self) -> Vec<Status> {
        Status::ALL
            .iter()
            .copied()
            .filter(|&status| match self {
                Self::Everyone => {
                    rules::rules(status).everyone_enrolment != rules::EveryoneEnrolment::Excluded
                }
                Self::Selected | Self::Roster(_) => {
                    rules::rules(status).search != rules::SearchVisibility::Hidden
                }
            })
            .collect()
    }

    /// A method as stored (its word and, for a roster, the roster's id).
    pub fn from_stored(word: &str, roster: Option<RosterId>) -> Option<Self> {
        match (word, roster) {
            ("everyone", _) => Some(Self::Everyone),
            ("selected", _) => Some(Self::Selected),
            ("roster", Some(id)) => Some(Self::Roster(id)),
            _ => None,
        }
    }
}

/// How far someone got in a course: what a course's people are filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    NotStarted,
    InProgress,
    Completed,
}

impl Progress {
    pub const ALL: [Self; 3] = [Self::NotStarted, Self::InProgress, Self::Completed];

    /// `not_started`, `in_progress`, `completed`: as addresses and the API name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == word)
    }

    /// In words: `not started`, `in progress`, `completed`.
    pub const fn words(self) -> &'static str {
        match self {
            Self::NotStarted => "not started",
            Self::InProgress => "in progress",
            Self::Completed => "completed",
        }
    }
}

/// One person's place in one course: how they were enrolled, and how far they got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub org_id: OrgId,
    pub course_id: CourseId,
    pub user_id: UserId,
    pub method: EnrolMethod,
    /// Who enrolled them (an admin, a token, Rollcall for an everyone-course), as recorded.
    pub enrolled_by: String,
    pub enrolled_at: Timestamp,
    /// Their first start: when the course's credits were consumed.
    pub started_at: Option<Timestamp>,
    pub credits_used: u32,
    pub lessons_done: Vec<LessonId>,
    pub completed_at: Option<Timestamp>,
    /// The percentage of their last quiz attempt.
    pub score: Option<u8>,
    pub attempts: u32,
    pub version: i64,
}

impl Enrolment {
    pub fn new(
        org_id: OrgId,
        course_id: CourseId,
        user_id: UserId,
        method: EnrolMethod,
        enrolled_by: &str,
        at: Timestamp,
    ) -> Self {
        Self {
            org_id,
            course_id,
            user_id,
            method,
            enrolled_by: enrolled_by.to_owned(),
            enrolled_at: at,
            started_at: None,
            credits_used: 0,
            lessons_done: Vec::new(),
            completed_at: None,
            score: None,
            attempts: 0,
            version: 1,
        }
    }

    pub const fn progress(&self) -> Progress {
        match (self.started_at, self.completed_at) {
            (_, Some(_)) => Progress::Completed,
            (Some(_), None) => Progress::InProgress,
            (None, None) => Progress::NotStarted,
        }
    }

    /// `not started`, `in progress` or `completed`.
    pub const fn state(&self) -> &'static str {
        self.progress().words()
    }

    /// How many of the course's lessons (as it is now) they have read.
    pub fn lessons_read(&self, course: &Course) -> usize {
        course
            .lessons
            .iter()
            .filter(|l| self.lessons_done.contains(&l.id))
            .count()
    }

    /// Progress through the course in percent: lessons read, and the completion step.
    pub fn percent(&self, course: &Course) -> u8 {
        if self.completed_at.is_some() {
            return 100;
        }
        let steps = course.lessons.len() + 1;
        let done = self.lessons_read(course);
        u8::try_from(done * 100 / steps).unwrap_or(100)
    }
}

/// Why a learner may not do what they asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LearningError {
    /// Their status takes every course away (the status rules).
    NoAccess(Status),
    NotEnrolled,
    /// The course is retired: kept with everyone's record, opened by nobody.
    Retired,
    /// A lesson or the completion step before the course was started.
    NotStarted,
    NoSuchLesson,
    /// The completion step while lessons are still unread.
    LessonsLeft(usize),
    AlreadyCompleted(Timestamp),
    /// Quiz answers for a course completed by marking it, or none for a quiz.
    WrongStep(&'static str),
    /// The answers do not fit the quiz.
    Answers(FieldError),
    /// The org has fewer credits than the course costs.
    NotEnoughCredits {
        cost: u32,
        balance: i64,
    },
}

impl fmt::Display for LearningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAccess(status) => write!(
                f,
                "this account is {}: it cannot open courses or certificates",
                status.as_str()
            ),
            Self::NotEnrolled => f.write_str("you are not enrolled in this course"),
            Self::Retired => f.write_str(
                "this course is retired: its lessons are closed (completions and certificates \
                 are kept)",
            ),
            Self::NotStarted => f.write_str("start the course first"),
            Self::NoSuchLesson => f.write_str("this course has no such lesson"),
            Self::LessonsLeft(1) => f.write_str("one lesson is still unread"),
            Self::LessonsLeft(n) => write!(f, "{n} lessons are still unread"),
            Self::AlreadyCompleted(at) => write!(
                f,
                "this course was already completed on {}",
                at.format("%Y-%m-%d")
            ),
            Self::WrongStep(what) => f.write_str(what),
            Self::Answers(err) => write!(f, "{}: {}", err.field, err.message),
            Self::NotEnoughCredits { cost, balance } => write!(
                f,
                "starting this course takes {cost} credit{}, and the organisation has {balance} \
                 left: ask an administrator to top up",
                if *cost == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::error::Error for LearningError {}

/// What a person with `status` may do with `course`: nothing unless the status rules let them
/// open courses and they are enrolled.
pub fn access(status: Status, enrolment: Option<&Enrolment>) -> Result<&Enrolment, LearningError> {
    if !rules::rules(status).may_open_courses {
        return Err(LearningError::NoAccess(status));
    }
    enrolment.ok_or(LearningError::NotEnrolled)
}

/// What a start does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The first start: consumes the course's cost, once.
    First { cost: u32 },
    /// Started before: nothing is consumed again.
    Again,
}

/// A learner starting (or coming back to) a course.
pub fn start(
    status: Status,
    course: &Course,
    enrolment: Option<&Enrolment>,
) -> Result<Started, LearningError> {
    let enrolment = access(status, enrolment)?;
    if enrolment.started_at.is_some() {
        return Ok(Started::Again);
    }
    if course.retired {
        return Err(LearningError::Retired);
    }
    Ok(Started::First {
        cost: course.credit_cost,
    })
}

/// The enrolment with `lesson` read (unchanged when it was read before).
pub fn complete_lesson(
    status: Status,
    course: &Course,
    enrolment: Option<&Enrolment>,
    lesson: LessonId,
) -> Result<Enrolment, LearningError> {
    let enrolment = access(status, enrolment)?;
    if course.retired {
        return Err(LearningError::Retired);
    }
    if enrolment.started_at.is_none() {
        return Err(LearningError::NotStarted);
    }
    if course.lesson(lesson).is_none() {
        return Err(LearningError::NoSuchLesson);
    }
    let mut after = enrolment.clone();
    // Reading a lesson again after completing the course changes nothing.
    if after.completed_at.is_none() && !after.lessons_done.contains(&lesson) {
        after.lessons_done.push(lesson);
        after.version += 1;
    }
    Ok(after)
}

/// A quiz attempt, marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graded {
    pub correct: usize,
    pub total: usize,
    pub percent: u8,
    pub passed: bool,
}

/// Marks `answers` (one option per question, from 0) against `quiz`.
pub fn grade(quiz: &Quiz, answers: &[usize]) -> Result<Graded, FieldError> {
    let total = quiz.questions.len();
    if answers.len() != total {
        return Err(FieldError::new(
            "answers",
            format!("must answer each of the {total} questions, one answer each"),
        ));
    }
    let mut correct = 0;
    for (i, (question, &answer)) in quiz.questions.iter().zip(answers).enumerate() {
        if answer >= question.options.len() {
            return Err(FieldError::new(
                format!("answers[{i}]"),
                "is not one of the question's answers",
            ));
        }
        if answer == question.answer {
            correct += 1;
        }
    }
    let percent = u8::try_from(correct * 100 / total.max(1)).unwrap_or(100);
    Ok(Graded {
        correct,
        total,
        percent,
        passed: percent >= quiz.pass_mark,
    })
}

/// The completion step: the enrolment after it (completed, or one failed quiz attempt more) and
/// the marked attempt for a quiz. `answers` are for a quiz, `None` to mark a course complete.
pub fn finish(
    status: Status,
    course: &Course,
    enrolment: Option<&Enrolment>,
    answers: Option<&[usize]>,
    now: Timestamp,
) -> Result<(Enrolment, Option<Graded>), LearningError> {
    let enrolment = open(status, course, enrolment)?;
    let unread = course.lessons.len() - enrolment.lessons_read(course);
    if unread > 0 {
        return Err(LearningError::LessonsLeft(unread));
    }
    let mut after = enrolment.clone();
    after.version += 1;
    match (&course.completion, answers) {
        (Completion::MarkComplete, None) => {
            after.completed_at = Some(now);
            Ok((after, None))
        }
        (Completion::Quiz(quiz), Some(answers)) => {
            let graded = grade(quiz, answers).map_err(LearningError::Answers)?;
            after.attempts += 1;
            after.score = Some(graded.percent);
            if graded.passed {
                after.completed_at = Some(now);
            }
            Ok((after, Some(graded)))
        }
        (Completion::MarkComplete, Some(_)) => Err(LearningError::WrongStep(
            "this course has no quiz: mark it complete instead",
        )),
        (Completion::Quiz(_), None) => Err(LearningError::WrongStep(
            "this course ends with a quiz: answer it to complete the course",
        )),
    }
}

/// The enrolment of someone who may work in the course now: allowed, enrolled, the course open,
/// started and not yet completed.
fn open<'e>(
    status: Status,
    course: &Course,
    enrolment: Option<&'e Enrolment>,
) -> Result<&'e Enrolment, LearningError> {
    let enrolment = access(status, enrolment)?;
    if let Some(at) = enrolment.completed_at {
        return Err(LearningError::AlreadyCompleted(at));
    }
    if course.retired {
        return Err(LearningError::Retired);
    }
    if enrolment.started_at.is_none() {
        return Err(LearningError::NotStarted);
    }
    Ok(enrolment)
}
