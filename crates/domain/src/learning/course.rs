//! A course: a title, a description, ordered lessons written in Markdown, a completion step and
//! a credit cost. Admins write a [`CourseDraft`]; only a draft that validates becomes a course.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::error::FieldError;
use crate::ids::{CourseId, LessonId, OrgId};

/// The longest lesson body accepted, in bytes of Markdown.
pub const MAX_LESSON_BYTES: usize = 100_000;
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 5_000;
const MAX_LESSONS: usize = 200;
const MAX_QUESTIONS: usize = 100;
const MAX_OPTIONS: usize = 10;
const MAX_OPTION: usize = 500;
/// The highest cost a course may have, in credits.
const MAX_COST: u32 = 100_000;

/// One page of a course, in Markdown (rendered safely: raw HTML is shown as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: LessonId,
    pub title: String,
    pub body: String,
}

/// One question of a quiz: its options and which one is right (from 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub prompt: String,
    pub options: Vec<String>,
    pub answer: usize,
}

/// A short quiz: passed with at least `pass_mark` percent of right answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quiz {
    pub pass_mark: u8,
    pub questions: Vec<Question>,
}

/// How a learner completes a course once every lesson is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Completion {
    /// The learner says they are done.
    MarkComplete,
    Quiz(Quiz),
}

impl Completion {
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::MarkComplete => "mark_complete",
            Self::Quiz(_) => "quiz",
        }
    }
}

/// A course of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    pub id: CourseId,
    pub org_id: OrgId,
    pub title: String,
    pub description: String,
    pub lessons: Vec<Lesson>,
    pub completion: Completion,
    /// Credits a learner's first start consumes (0: free).
    pub credit_cost: u32,
    /// Retired: kept with every learner's record, but no lesson opens and nobody starts it.
    pub retired: bool,
    /// Everyone in the org (but the archived) is enrolled, now and as people join: since when
    /// and by whom.
    pub everyone: Option<(Timestamp, String)>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A lesson as an admin writes it: `id` names a lesson the course has (kept, with everyone's
/// progress in it); none makes a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonDraft {
    pub id: Option<LessonId>,
    pub title: String,
    pub body: String,
}

/// A course as an admin writes it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseDraft {
    pub title: String,
    pub description: String,
    pub lessons: Vec<LessonDraft>,
    pub completion: Completion,
    pub credit_cost: u32,
}

impl Course {
    /// A new, open course from a draft, or every problem of the draft.
    pub fn create(
        org_id: OrgId,
        draft: CourseDraft,
        now: Timestamp,
    ) -> Result<Self, Vec<FieldError>> {
        let lessons = draft.checked(&[])?;
        Ok(Self {
            id: CourseId::new(),
            org_id,
            title: draft.title.trim().to_owned(),
            description: draft.description.trim().to_owned(),
            lessons,
            completion: draft.completion,
            credit_cost: draft.credit_cost,
            retired: false,
            everyone: None,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// The course as `draft` rewrites it (lessons named by id keep their id), one version on.
    pub fn revise(&self, draft: CourseDraft, now: Timestamp) -> Result<Self, Vec<FieldError>> {
        let lessons = draft.checked(&self.lessons)?;
        Ok(Self {
            title: draft.title.trim().to_owned(),
            description: draft.description.trim().to_owned(),
            lessons,
            completion: draft.completion,
            credit_cost: draft.credit_cost,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        })
    }

    /// The course retired (or opened again), one version on.
    #[must_use]
    pub fn with_retired(&self, retired: bool, now: Timestamp) -> Self {
        Self {
            retired,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    /// The course enrolling everyone from `now` on (by `by`), one version on.
    #[must_use]
    pub fn for_everyone(&self, by: &str, now: Timestamp) -> Self {
        Self {
            everyone: Some((now, by.to_owned())),
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    pub fn lesson(&self, id: LessonId) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.id == id)
    }

    /// The draft that writes this course as it is (what an edit form starts from).
    pub fn draft(&self) -> CourseDraft {
        CourseDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            lessons: self
                .lessons
                .iter()
                .map(|l| LessonDraft {
                    id: Some(l.id),
                    title: l.title.clone(),
                    body: l.body.clone(),
                })
                .collect(),
            completion: self.completion.clone(),
            credit_cost: self.credit_cost,
        }
    }
}

impl CourseDraft {
    /// The draft's lessons, ids kept from `had` where named; or every problem, each naming its
    /// field (`lessons[2].title`, `completion.questions[0].answer`).
    fn checked(&self, had: &[Lesson]) -> Result<Vec<Lesson>, Vec<FieldError>> {
        let mut problems = Vec::new();
        text(&mut problems, "title", &self.title, MAX_TITLE, true);
        text(
            &mut problems,
            "description",
            &self.description,
            MAX_DESCRIPTION,
            false,
        );
        if self.lessons.is_empty() {
            problems.push(FieldError::new("lessons", "must hold at least one lesson"));
        }
        if self.lessons.len() > MAX_LESSONS {
            problems.push(FieldError::new(
                "lessons",
                format!("may hold at most {MAX_LESSONS} lessons"),
            ));
        }
        let mut lessons = Vec::with_capacity(self.lessons.len());
        for (i, lesson) in self.lessons.iter().enumerate() {
            let field = |name: &str| format!("lessons[{i}].{name}");
            text(
                &mut problems,
                &field("title"),
                &lesson.title,
                MAX_TITLE,
                true,
            );
            if lesson.body.trim().is_empty() {
                problems.push(FieldError::new(field("body"), "is required"));
            }
            if lesson.body.len() > MAX_LESSON_BYTES {
                problems.push(FieldError::new(
                    field("body"),
                    format!("is too long: at most {MAX_LESSON_BYTES} bytes"),
                ));
            }
            let id = match lesson.id {
                Some(id) if !had.iter().any(|l| l.id == id) => {
                    problems.push(FieldError::new(
                        field("id"),
                        "is not a lesson of this course",
                    ));
                    id
                }
                Some(id) if lessons.iter().any(|l: &Lesson| l.id == id) => {
                    problems.push(FieldError::new(field("id"), "names a lesson twice"));
                    id
                }
                Some(id) => id,
                None => LessonId::new(),
            };
            lessons.push(Lesson {
                id,
                title: lesson.title.trim().to_owned(),
                body: lesson.body.clone(),
            });
        }
        if let Completion::Quiz(quiz) = &self.completion {
            check_quiz(&mut problems, quiz);
        }
        if self.credit_cost > MAX_COST {
            problems.push(FieldError::new(
                "credit_cost",
                format!("may be at most {MAX_COST} credits"),
            ));
        }
        if problems.is_empty() {
            Ok(lessons)
        } else {
            Err(problems)
        }
    }
}

fn check_quiz(problems: &mut Vec<FieldError>, quiz: &Quiz) {
    if !(1..=100).contains(&quiz.pass_mark) {
        problems.push(FieldError::new(
            "completion.pass_mark",
            "must be a percentage from 1 to 100",
        ));
    }
    if quiz.questions.is_empty() {
        problems.push(FieldError::new(
            "completion.questions",
            "must hold at least one question",
        ));
    }
    if quiz.questions.len() > MAX_QUESTIONS {
        problems.push(FieldError::new(
            "completion.questions",
            format!("may hold at most {MAX_QUESTIONS} questions"),
        ));
    }
    for (i, question) in quiz.questions.iter().enumerate() {
        let field = |name: &str| format!("completion.questions[{i}].{name}");
        text(
            problems,
            &field("prompt"),
            &question.prompt,
            MAX_OPTION,
            true,
        );
        if !(2..=MAX_OPTIONS).contains(&question.options.len()) {
            problems.push(FieldError::new(
                field("options"),
                format!("must offer from 2 to {MAX_OPTIONS} answers"),
            ));
        }
        for (j, option) in question.options.iter().enumerate() {
            text(
                problems,
                &field(&format!("options[{j}]")),
                option,
                MAX_OPTION,
                true,
            );
        }
        if question.answer >= question.options.len() {
            problems.push(FieldError::new(
                field("answer"),
                "must name one of the question's answers",
            ));
        }
    }
}

/// Checks a text field: required (not blank) when `required`, at most `max` characters.
fn text(problems: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        problems.push(FieldError::new(field, "is required"));
    } else if value.trim().chars().count() > max {
        problems.push(FieldError::new(
            field,
            format!("is too long: at most {max} characters"),
        ));
    }
}
