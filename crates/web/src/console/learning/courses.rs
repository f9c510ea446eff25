//! Courses in the console, for admins: the list, the course form, a course's page with its
//! people, and enrolments (everyone, people picked, a roster), each confirmed before it acts.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, ListUsers};
use rollcall_domain::learning::{
    Completion, Course, CourseDraft, LessonDraft, Progress, Question, Quiz,
};
use rollcall_domain::{CourseId, LessonId, Status, UserId, rules};
use serde::Deserialize;

use super::pages::{
    CourseConfirmPage, CourseFields, CourseFormPage, CourseLine, CoursePage, CoursesPage,
    EnrolPage, LessonFields, PersonLine, PickLine, QuestionFields, TallyLine,
};
use super::{day, parse_id};
use crate::console::errors::{explain, failure_page};
use crate::console::extract::{Admin, SignedIn};
use crate::console::render;

/// People a course's page lists at once.
const PEOPLE_PAGE: u64 = 50;
/// People the picker shows at once.
const PICKER_PAGE: usize = 100;
/// The most people "enrol everyone matching" takes in at once.
const MATCHING_MAX: usize = 10_000;

fn failure(signed_in: &SignedIn, err: &AppError) -> Response {
    failure_page(signed_in.chrome.clone(), err, "/courses", "Back to courses")
}

/// "Quiz (pass at 80%)" or "Marked complete".
fn completion_words(course: &Course) -> String {
    match &course.completion {
        Completion::MarkComplete => "The learner marks it complete".to_owned(),
        Completion::Quiz(quiz) => format!(
            "A quiz of {} question{}, passed at {}%",
            quiz.questions.len(),
            if quiz.questions.len() == 1 { "" } else { "s" },
            quiz.pass_mark
        ),
    }
}

pub async fn index(State(app): State<App>, Admin(signed_in): Admin) -> Response {
    match app.courses(&signed_in.visitor.principal).await {
        Ok(courses) => render(&CoursesPage {
            chrome: signed_in.chrome,
            courses: courses
                .iter()
                .map(|c| CourseLine {
                    id: c.id.to_string(),
                    title: c.title.clone(),
                    lessons: c.lessons.len(),
                    completion: match c.completion {
                        Completion::MarkComplete => "Marking it complete",
                        Completion::Quiz(_) => "A quiz",
                    },
                    cost: c.credit_cost,
                    everyone: c.everyone.is_some(),
                    retired: c.retired,
                })
                .collect(),
        }),
        Err(err) => failure(&signed_in, &err),
    }
}

/// The form's fields for `course` (or a new one), with one empty lesson and question to add.
fn fields_of(course: Option<&Course>) -> CourseFields {
    let mut fields = CourseFields {
        cost: "0".to_owned(),
        pass_mark: "80".to_owned(),
        ..CourseFields::default()
    };
    if let Some(course) = course {
        fields.version = course.version.to_string();
        fields.title.clone_from(&course.title);
        fields.description.clone_from(&course.description);
        fields.cost = course.credit_cost.to_string();
        fields.lessons = course
            .lessons
            .iter()
            .map(|l| LessonFields {
                id: l.id.to_string(),
                title: l.title.clone(),
                body: l.body.clone(),
            })
            .collect();
        if let Completion::Quiz(quiz) = &course.completion {
            fields.quiz = true;
            fields.pass_mark = quiz.pass_mark.to_string();
            fields.questions = quiz
                .questions
                .iter()
                .map(|q| QuestionFields {
                    prompt: q.prompt.clone(),
                    options: q.options.join("\n"),
                    answer: (q.answer + 1).to_string(),
                })
                .collect();
        }
    }
    fields.lessons.push(LessonFields::default());
    fields.questions.push(QuestionFields::default());
    fields
}

pub async fn new_form(Admin(signed_in): Admin) -> Response {
    render(&CourseFormPage {
        chrome: signed_in.chrome,
        id: String::new(),
        form: fields_of(None),
        error: String::new(),
    })
}

/// The course form as posted: repeated fields, one per lesson and question.
#[derive(Debug, Deserialize)]
pub struct CourseForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    credit_cost: String,
    #[serde(default)]
    completion: String,
    #[serde(default)]
    pass_mark: String,
    #[serde(default)]
    lesson_id: Vec<String>,
    #[serde(default)]
    lesson_title: Vec<String>,
    #[serde(default)]
    lesson_body: Vec<String>,
    #[serde(default)]
    question_prompt: Vec<String>,
    #[serde(default)]
    question_options: Vec<String>,
    #[serde(default)]
    question_answer: Vec<String>,
}

impl CourseForm {
    /// The draft the form describes: blank lessons and questions left out.
    fn draft(&self) -> Result<CourseDraft, AppError> {
        let number = |text: &str, field: &str, what: &str| -> Result<u32, AppError> {
            text.trim()
                .parse()
                .map_err(|_| AppError::invalid(field, format!("must be {what}")))
        };
        let credit_cost = number(&self.credit_cost, "credit_cost", "a whole number from 0")?;
        let lessons = (0..self.lesson_title.len().max(self.lesson_body.len()))
            .map(|i| {
                let text = |list: &[String]| list.get(i).cloned().unwrap_or_default();
                (
                    text(&self.lesson_id),
                    text(&self.lesson_title),
                    text(&self.lesson_body),
                )
            })
            .filter(|(_, title, body)| !title.trim().is_empty() || !body.trim().is_empty())
            .map(|(id, title, body)| LessonDraft {
                id: id.parse::<LessonId>().ok(),
                title,
                body,
            })
            .collect();
        let completion = if self.completion == "quiz" {
            let pass_mark = number(&self.pass_mark, "pass_mark", "a percentage from 1 to 100")?;
            let mut questions = Vec::new();
            for i in 0..self.question_prompt.len() {
                let text = |list: &[String]| list.get(i).cloned().unwrap_or_default();
                let (prompt, options) = (text(&self.question_prompt), text(&self.question_options));
                if prompt.trim().is_empty() && options.trim().is_empty() {
                    continue;
                }
                let n = questions.len() + 1;
                let answer = number(
                    &text(&self.question_answer),
                    &format!("question {n}'s right answer"),
                    "the number of one of its answers, from 1",
                )?;
                if answer == 0 {
                    return Err(AppError::invalid(
                        format!("question {n}'s right answer"),
                        "must be the number of one of its answers, from 1",
                    ));
                }
                questions.push(Question {
                    prompt,
                    options: options
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    answer: usize::try_from(answer - 1).unwrap_or(usize::MAX),
                });
            }
            Completion::Quiz(Quiz {
                pass_mark: u8::try_from(pass_mark).unwrap_or(0),
                questions,
            })
        } else {
            Completion::MarkComplete
        };
        Ok(CourseDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            lessons,
            completion,
            credit_cost,
        })
    }

    /// The fields as typed, to show again with an error.
    fn fields(&self) -> CourseFields {
        let at = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
        CourseFields {
            version: self.version.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            cost: self.credit_cost.clone(),
            quiz: self.completion == "quiz",
            pass_mark: self.pass_mark.clone(),
            lessons: (0..self.lesson_title.len())
                .map(|i| LessonFields {
                    id: at(&self.lesson_id, i),
                    title: at(&self.lesson_title, i),
                    body: at(&self.lesson_body, i),
                })
                .collect(),
            questions: (0..self.question_prompt.len())
                .map(|i| QuestionFields {
                    prompt: at(&self.question_prompt, i),
                    options: at(&self.question_options, i),
                    answer: at(&self.question_answer, i),
                })
                .collect(),
        }
    }
}

pub async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<CourseForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let saved = match form.draft() {
        Ok(draft) => app.create_course(&signed_in.visitor.principal, draft).await,
        Err(err) => Err(err),
    };
    match saved {
        Ok(course) => Redirect::to(&format!("/courses/{}", course.id)).into_response(),
        Err(err) => form_failure(&signed_in, "", &form, &err),
    }
}

/// The form again, as typed, with what was wrong.
fn form_failure(signed_in: &SignedIn, id: &str, form: &CourseForm, err: &AppError) -> Response {
    let (status, message) = explain(err);
    let page = CourseFormPage {
        chrome: signed_in.chrome.clone(),
        id: id.to_owned(),
        form: form.fields(),
        error: message,
    };
    (status, render(&page)).into_response()
}

pub async fn edit_form(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
) -> Response {
    let course = match parse_id::<CourseId>(&id, "course") {
        Ok(id) => app.course(&signed_in.visitor.principal, id).await,
        Err(err) => Err(err),
    };
    match course {
        Ok(summary) => render(&CourseFormPage {
            chrome: signed_in.chrome,
            id,
            form: fields_of(Some(&summary.course)),
            error: String::new(),
        }),
        Err(err) => failure(&signed_in, &err),
    }
}

pub async fn save(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<CourseForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let saved = async {
        let course = parse_id::<CourseId>(&id, "course")?;
        let draft = form.draft()?;
        let version = form.version.parse().ok();
        app.edit_course(&signed_in.visitor.principal, course, version, draft)
            .await
    };
    match saved.await {
        Ok(course) => Redirect::to(&format!("/courses/{}?notice=saved", course.id)).into_response(),
        Err(err) => form_failure(&signed_in, &id, &form, &err),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct CourseQuery {
    #[serde(default)]
    after: String,
    /// Only the people this far: `not_started`, `in_progress`, `completed`.
    #[serde(default)]
    progress: String,
    #[serde(default)]
    notice: String,
    /// How many an enrolment just took in.
    enrolled: Option<u64>,
}

/// What a course's page says after an action: a fixed sentence per code, or a count.
fn course_notice(query: &CourseQuery) -> String {
    if let Some(n) = query.enrolled {
        return match n {
            0 => "Nobody new to enrol: everyone it takes in is enrolled already.".to_owned(),
            1 => "1 person is enrolled.".to_owned(),
            n => format!("{n} people are enrolled."),
        };
    }
    match query.notice.as_str() {
        "saved" => "The course is saved.",
        "retired" => "The course is retired: its lessons are closed, and every record is kept.",
        "reopened" => "The course is open again.",
        _ => "",
    }
    .to_owned()
}

pub async fn show(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Query(query): Query<CourseQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let loaded = async {
        let id = parse_id::<CourseId>(&id, "course")?;
        let summary = app.course(who, id).await?;
        let after = query.after.parse::<UserId>().ok();
        let progress = Progress::parse(&query.progress);
        let people = app
            .course_people(who, id, progress, after, PEOPLE_PAGE)
            .await?;
        let rosters = app.rosters(who).await?;
        Ok::<_, AppError>((summary, people, rosters))
    };
    let (summary, people, rosters) = match loaded.await {
        Ok(loaded) => loaded,
        Err(err) => return failure(&signed_in, &err),
    };
    let course = &summary.course;
    let next = if people.len() as u64 == PEOPLE_PAGE {
        people
            .last()
            .map(|(e, _)| e.user_id.to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let tally = Status::ALL
        .iter()
        .filter(|s| !rules::is_archived(**s))
        .map(|&status| {
            let t = summary
                .tally
                .iter()
                .find(|(s, _)| *s == status)
                .map(|(_, t)| *t)
                .unwrap_or_default();
            TallyLine {
                status: rules::presentation(status).label,
                enrolled: t.enrolled,
                started: t.started,
                completed: t.completed,
            }
        })
        .collect();
    render(&CoursePage {
        id: course.id.to_string(),
        title: course.title.clone(),
        description: course.description.clone(),
        retired: course.retired,
        lessons: course.lessons.iter().map(|l| l.title.clone()).collect(),
        completion: completion_words(course),
        cost: course.credit_cost,
        everyone: course
            .everyone
            .as_ref()
            .map(|(at, by)| {
                format!(
                    "Everyone but the archived, as they join (since {}, by {by})",
                    day(*at)
                )
            })
            .unwrap_or_default(),
        tally,
        people: people
            .iter()
            .map(|(e, u)| PersonLine {
                id: u.id().to_string(),
                name: u.display_name(),
                badge: rules::presentation(u.status()).badge.unwrap_or_default(),
                method: format!(
                    "{}, {}",
                    method_words(e.method.as_str()),
                    day(e.enrolled_at)
                ),
                state: e.state(),
                percent: e.percent(course),
                completed: e.completed_at.map(day).unwrap_or_default(),
            })
            .collect(),
        next,
        progress: Progress::parse(&query.progress)
            .map(Progress::as_str)
            .unwrap_or_default()
            .to_owned(),
        progress_tabs: std::iter::once(("", "Everyone"))
            .chain(Progress::ALL.iter().map(|p| (p.as_str(), p.words())))
            .collect(),
        rosters: rosters
            .into_iter()
            .map(|r| (r.roster.id.to_string(), r.roster.title))
            .collect(),
        notice: course_notice(&query),
        chrome: signed_in.chrome,
    })
}

fn method_words(method: &str) -> &'static str {
    match method {
        "everyone" => "Everyone",
        "roster" => "With a roster",
        _ => "Picked",
    }
}

/// What a confirmation asks, for `action` on a course (`roster`: the roster's title).
fn confirmation(
    course: &Course,
    action: &str,
    roster: Option<&str>,
) -> Option<(String, Vec<String>, String, bool)> {
    Some(match action {
        "enrol-roster" => (
            format!("Enrol {}'s members in {}?", roster?, course.title),
            vec![
                "Every member of the roster who is not enrolled yet is enrolled now; members \
                 who join the roster later are not."
                    .to_owned(),
                "Active members get an enrolment notice. Inactive members are enrolled \
                 silently: they open nothing until reactivated. Archived people are left out."
                    .to_owned(),
                "Enrolling uses no credit; a learner's first start does.".to_owned(),
            ],
            "Enrol the roster".to_owned(),
            false,
        ),
        "everyone" => (
            format!("Enrol everyone in {}?", course.title),
            vec![
                "Everyone in your organisation who is not archived is enrolled now, and everyone \
                 who joins later too."
                    .to_owned(),
                "Active people get an enrolment notice. Inactive people are enrolled silently: \
                 they open nothing until reactivated, and then get no late notice."
                    .to_owned(),
                "Enrolling uses no credit; a learner's first start does.".to_owned(),
            ],
            "Enrol everyone".to_owned(),
            false,
        ),
        "retire" => (
            format!("Retire {}?", course.title),
            vec![
                "Nobody can start it or open its lessons any more, and nobody new is enrolled."
                    .to_owned(),
                "Every enrolment, result and certificate is kept; you can open it again."
                    .to_owned(),
            ],
            "Retire the course".to_owned(),
            true,
        ),
        "reopen" => (
            format!("Open {} again?", course.title),
            vec!["Learners enrolled can start it and read its lessons again.".to_owned()],
            "Open the course".to_owned(),
            false,
        ),
        _ => return None,
    })
}

#[derive(Debug, Deserialize, Default)]
pub struct ConfirmQuery {
    #[serde(default)]
    roster: String,
}

pub async fn confirm(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<ConfirmQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let found = async {
        let course = app
            .course(who, parse_id::<CourseId>(&id, "course")?)
            .await?;
        let roster = if action == "enrol-roster" {
            let roster = parse_id::<rollcall_domain::RosterId>(&query.roster, "roster")?;
            let (roster, _) = app.roster(who, roster).await?;
            Some(roster)
        } else {
            None
        };
        Ok::<_, AppError>((course.course, roster))
    };
    let (course, roster) = match found.await {
        Ok(found) => found,
        Err(err) => return failure(&signed_in, &err),
    };
    let title = roster.as_ref().map(|r| r.title.as_str());
    let Some((heading, lines, button, danger)) = confirmation(&course, &action, title) else {
        return failure(&signed_in, &AppError::NotFound("page"));
    };
    render(&CourseConfirmPage {
        chrome: signed_in.chrome,
        action: format!("/courses/{id}/{action}"),
        id,
        heading,
        lines,
        button,
        danger,
        roster: roster.map(|r| r.id.to_string()).unwrap_or_default(),
    })
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    roster: String,
}

pub async fn act(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let who = &signed_in.visitor.principal;
    let done = async {
        let course = parse_id::<CourseId>(&id, "course")?;
        let notice = match action.as_str() {
            "everyone" => {
                let done = app.enrol_everyone(who, course).await?;
                format!("enrolled={}", done.enrolled)
            }
            "enrol-roster" => {
                let roster = parse_id(&form.roster, "roster")?;
                let done = app.enrol_roster(who, course, roster).await?;
                format!("enrolled={}", done.enrolled)
            }
            "retire" => {
                app.retire_course(who, course, true).await?;
                "notice=retired".to_owned()
            }
            "reopen" => {
                app.retire_course(who, course, false).await?;
                "notice=reopened".to_owned()
            }
            _ => return Err(AppError::NotFound("page")),
        };
        Ok::<_, AppError>(notice)
    };
    match done.await {
        Ok(notice) => enrolled_redirect(&id, &notice),
        Err(err) => failure(&signed_in, &err),
    }
}

/// Back to the course's page, which says what was done.
fn enrolled_redirect(id: &str, notice: &str) -> Response {
    Redirect::to(&format!("/courses/{id}?{notice}")).into_response()
}

#[derive(Debug, Deserialize, Default)]
pub struct PickerQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    q: String,
}

impl PickerQuery {
    /// The Users listing's status filter for the tab: `active`, or `all` (everyone a picker
    /// shows: the status rules leave the archived out).
    fn filter(&self) -> &'static str {
        if self.tab == "all" { "all" } else { "active" }
    }
}

async fn picker_page(
    app: &App,
    signed_in: &SignedIn,
    id: &str,
    query: &PickerQuery,
    error: String,
) -> Response {
    let who = &signed_in.visitor.principal;
    let loaded = async {
        let course = app.course(who, parse_id(id, "course")?).await?.course;
        let page = app
            .list_users(
                who,
                ListUsers {
                    status: Some(query.filter().to_owned()),
                    q: Some(query.q.clone()).filter(|q| !q.trim().is_empty()),
                    limit: Some(PICKER_PAGE),
                    ..ListUsers::default()
                },
            )
            .await?;
        Ok::<_, AppError>((course, page))
    };
    let (course, page) = match loaded.await {
        Ok(loaded) => loaded,
        Err(err) => return failure(signed_in, &err),
    };
    let status = if error.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EnrolPage {
        chrome: signed_in.chrome.clone(),
        id: id.to_owned(),
        title: course.title,
        tab: query.filter().to_owned(),
        q: query.q.clone(),
        more: page.next.is_some(),
        people: page
            .users
            .iter()
            .map(|u| PickLine {
                id: u.id().to_string(),
                name: u.display_name(),
                login: u.login().to_owned(),
                role: u.role().as_str().to_owned(),
                badge: rules::presentation(u.status()).badge.unwrap_or_default(),
            })
            .collect(),
        error,
    };
    (status, render(&page)).into_response()
}

pub async fn picker(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Query(query): Query<PickerQuery>,
) -> Response {
    picker_page(&app, &signed_in, &id, &query, String::new()).await
}

#[derive(Debug, Deserialize)]
pub struct PickForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    tab: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    user: Vec<String>,
    #[serde(default)]
    all_matching: String,
}

pub async fn enrol_picked(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<PickForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let query = PickerQuery {
        tab: form.tab.clone(),
        q: form.q.clone(),
    };
    let who = &signed_in.visitor.principal;
    let done = async {
        let course = parse_id::<CourseId>(&id, "course")?;
        let users = if form.all_matching.is_empty() {
            form.user
                .iter()
                .map(|u| parse_id::<UserId>(u, "user"))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            matching(&app, who, &query).await?
        };
        if users.is_empty() {
            return Err(AppError::invalid(
                "users",
                "tick at least one person, or enrol everyone matching",
            ));
        }
        app.enrol_selected(who, course, &users).await
    };
    match done.await {
        Ok(done) => enrolled_redirect(&id, &format!("enrolled={}", done.enrolled)),
        Err(err) => {
            let (_, message) = explain(&err);
            picker_page(&app, &signed_in, &id, &query, message).await
        }
    }
}

/// Everyone the picker's tab and search match, up to [`MATCHING_MAX`].
async fn matching(
    app: &App,
    who: &rollcall_app::Principal,
    query: &PickerQuery,
) -> Result<Vec<UserId>, AppError> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .list_users(
                who,
                ListUsers {
                    status: Some(query.filter().to_owned()),
                    q: Some(query.q.clone()).filter(|q| !q.trim().is_empty()),
                    limit: Some(500),
                    cursor,
                    ..ListUsers::default()
                },
            )
            .await?;
        ids.extend(page.users.iter().map(rollcall_domain::User::id));
        if ids.len() > MATCHING_MAX {
            return Err(AppError::invalid(
                "users",
                format!(
                    "more than {MATCHING_MAX} people match: narrow the search, or enrol everyone \
                     from the course's page"
                ),
            ));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(ids),
        }
    }
}
