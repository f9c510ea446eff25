//! The demo district's training: courses with lessons, an everyone-course and one for people
//! picked, credits topped up and consumed, learners part-way, finished (some failing a quiz
//! first) and certified, a few of them since deactivated, and the outbox those enrolments filled.

use anyhow::{Result, anyhow};
use rollcall_app::{App, ChangeStatus, ListUsers, Principal};
use rollcall_domain::learning::{Completion, CourseDraft, LessonDraft, Question, Quiz};
use rollcall_domain::{CourseId, User};

#[expect(
    clippy::needless_pass_by_value,
    reason = "the shape `map_err` hands errors to"
)]
fn fail(e: rollcall_app::AppError) -> anyhow::Error {
    anyhow!("{e}")
}

fn lesson(title: &str, body: &str) -> LessonDraft {
    LessonDraft {
        id: None,
        title: title.to_owned(),
        body: body.to_owned(),
    }
}

fn question(prompt: &str, options: &[&str], answer: usize) -> Question {
    Question {
        prompt: prompt.to_owned(),
        options: options.iter().map(|o| (*o).to_owned()).collect(),
        answer,
    }
}

fn fire_safety() -> CourseDraft {
    CourseDraft {
        title: "Fire safety at school".to_owned(),
        description: "What to do when the alarm sounds, and how to keep exits clear.".to_owned(),
        lessons: vec![
            lesson(
                "When the alarm sounds",
                "Stop what you are doing and **leave at once** by \
                 the nearest exit. Do not collect belongings.\n\n- Walk, do not run.\n- Close \
                 doors behind you.\n- Help anyone who needs it, if it is safe.",
            ),
            lesson(
                "Exits and assembly points",
                "Every room shows its two nearest exits on the \
                 plan by the door. The assembly point is the **north car park**; teachers take \
                 the register there.\n\n| Building | Assembly point |\n|---|---|\n| Main | North \
                 car park |\n| Sports hall | Playing field |",
            ),
            lesson(
                "Keeping exits clear",
                "Fire doors must close by themselves: never wedge them \
                 open. Report a blocked exit to the site office the same day.",
            ),
        ],
        completion: Completion::Quiz(Quiz {
            pass_mark: 100,
            questions: vec![
                question(
                    "Where is the main building's assembly point?",
                    &["The playing field", "The north car park", "The canteen"],
                    1,
                ),
                question(
                    "May a fire door be wedged open on a hot day?",
                    &["Yes, if a teacher is near", "No, never"],
                    1,
                ),
            ],
        }),
        credit_cost: 1,
    }
}

fn safeguarding() -> CourseDraft {
    CourseDraft {
        title: "Safeguarding essentials".to_owned(),
        description: "For every adult working with our students.".to_owned(),
        lessons: vec![
            lesson(
                "Recognising concerns",
                "Changes in behaviour, unexplained injuries and \
                 frequent absence can all be signs that a child needs help.",
            ),
            lesson(
                "Reporting",
                "Tell the designated safeguarding lead **the same day**, and \
                 write down what you saw and heard, in the words used.",
            ),
        ],
        completion: Completion::MarkComplete,
        credit_cost: 2,
    }
}

/// Up to `limit` people of `role` in `status`, by family name.
async fn people(
    app: &App,
    who: &Principal,
    role: &str,
    status: &str,
    limit: usize,
) -> Result<Vec<User>> {
    Ok(app
        .list_users(
            who,
            ListUsers {
                role: Some(role.into()),
                status: Some(status.into()),
                limit: Some(limit),
                ..ListUsers::default()
            },
        )
        .await
        .map_err(fail)?
        .users)
}

/// `learner` starts the course, reads `lessons` of its lessons, and (when all are read) answers
/// its quiz with `answers`, or marks it complete when the course has no quiz.
async fn study(
    app: &App,
    learner: &User,
    course: CourseId,
    lessons: usize,
    answers: &[&[usize]],
) -> Result<()> {
    let me = Principal::user(learner);
    let mine = app.start_course(&me, course).await.map_err(fail)?;
    for lesson in mine.course.lessons.iter().take(lessons) {
        app.read_lesson(&me, course, lesson.id)
            .await
            .map_err(fail)?;
    }
    if lessons < mine.course.lessons.len() {
        return Ok(());
    }
    match mine.course.completion {
        Completion::MarkComplete => {
            app.finish_course(&me, course, None).await.map_err(fail)?;
        }
        Completion::Quiz(_) => {
            for attempt in answers {
                app.finish_course(&me, course, Some(attempt))
                    .await
                    .map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// The learner whose sign-in the demo prints: an active student part-way through the fire
/// safety course (the same one on every run of the demo).
pub async fn learner(app: &App, who: &Principal) -> Result<User> {
    people(app, who, "student", "active", 40)
        .await?
        .into_iter()
        .nth(LEARNER)
        .ok_or_else(|| anyhow!("the demo has no active student"))
}

/// Which of the first active students [`learner`] is: one [`seed`] leaves part-way.
const LEARNER: usize = 2;

/// Seeds the training.
pub async fn seed(app: &App, who: &Principal) -> Result<()> {
    app.top_up(who, 400, "Annual licence, 2026/27")
        .await
        .map_err(fail)?;
    let fire = app.create_course(who, fire_safety()).await.map_err(fail)?;
    let enrolled = app.enrol_everyone(who, fire.id).await.map_err(fail)?;
    eprintln!("  {} people enrolled in {}", enrolled.enrolled, fire.title);

    let safe = app.create_course(who, safeguarding()).await.map_err(fail)?;
    let mut picked: Vec<User> = people(app, who, "teacher", "all", 30).await?;
    picked.extend(people(app, who, "staff", "all", 10).await?);
    let ids: Vec<_> = picked.iter().map(User::id).collect();
    app.enrol_selected(who, safe.id, &ids).await.map_err(fail)?;

    let students = people(app, who, "student", "active", 40).await?;
    let pass: &[usize] = &[1, 1];
    let fail_first: &[usize] = &[0, 1];
    for (i, student) in students.iter().enumerate() {
        match i % 4 {
            0 => study(app, student, fire.id, 3, &[pass]).await?,
            1 => study(app, student, fire.id, 3, &[fail_first, pass]).await?,
            2 => study(app, student, fire.id, 1, &[]).await?,
            _ => {}
        }
    }
    let teachers: Vec<&User> = picked.iter().filter(|t| t.may_sign_in()).take(12).collect();
    for (i, teacher) in teachers.iter().enumerate() {
        study(app, teacher, safe.id, if i % 3 == 0 { 1 } else { 2 }, &[]).await?;
    }
    // Two who finished have left since: their results and certificates stay.
    for leaver in students.iter().skip(4).step_by(8).take(2) {
        let change = ChangeStatus {
            status: "inactive".into(),
            reason: Some("Moved to another school".into()),
            ..ChangeStatus::default()
        };
        app.change_status(who, leaver.id(), change)
            .await
            .map_err(fail)?;
    }
    debug_assert_eq!(LEARNER % 4, 2, "the printed learner is part-way");
    Ok(())
}
