//! A learner's side: their courses, a course's page (start, lessons, quiz or "mark complete"),
//! lessons, and their certificates; an admin's download of anyone's certificate; and the public
//! page where anyone checks a certificate's code.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, MyCourse};
use rollcall_domain::learning::{Certificate, Completion};
use rollcall_domain::{CertificateId, CourseId, LessonId};
use serde::Deserialize;

use super::pages::{LessonPage, MyCourseLine, MyCoursePage, MyCoursesPage, VerifyPage};
use super::{certificate_pdf, day, parse_id, verify_url};
use crate::console::errors::{explain, failure_page};
use crate::console::extract::{Admin, SignedIn};
use crate::console::pages::Chrome;
use crate::console::render;

fn failure(signed_in: &SignedIn, err: &AppError) -> Response {
    failure_page(
        signed_in.chrome.clone(),
        err,
        "/my/courses",
        "Back to my courses",
    )
}

pub async fn my_courses(State(app): State<App>, signed_in: SignedIn) -> Response {
    match app.my_courses(&signed_in.visitor.principal).await {
        Ok(courses) => render(&MyCoursesPage {
            chrome: signed_in.chrome,
            courses: courses
                .iter()
                .map(|c| MyCourseLine {
                    id: c.course.id.to_string(),
                    title: c.course.title.clone(),
                    description: c.course.description.clone(),
                    state: c.enrolment.state(),
                    percent: c.enrolment.percent(&c.course),
                    certificate: c
                        .certificate
                        .as_ref()
                        .map(|c| c.id.to_string())
                        .unwrap_or_default(),
                    retired: c.course.retired,
                })
                .collect(),
        }),
        Err(err) => failure(&signed_in, &err),
    }
}

/// The course's page for its learner, with what was just done or went wrong.
fn course_page(
    chrome: Chrome,
    headers: &HeaderMap,
    org_slug: &str,
    mine: &MyCourse,
    notice: &str,
    error: String,
) -> MyCoursePage {
    let (course, enrolment) = (&mine.course, &mine.enrolment);
    let lessons: Vec<(String, String, bool)> = course
        .lessons
        .iter()
        .map(|l| {
            (
                l.id.to_string(),
                l.title.clone(),
                enrolment.lessons_done.contains(&l.id),
            )
        })
        .collect();
    let next_lesson = lessons
        .iter()
        .find(|(_, _, read)| !read)
        .map(|(id, ..)| id.clone())
        .unwrap_or_default();
    let (quiz, pass_mark) = match &course.completion {
        Completion::MarkComplete => (Vec::new(), 0),
        Completion::Quiz(quiz) => (
            quiz.questions
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let options = q.options.iter().cloned().enumerate().collect();
                    (i + 1, q.prompt.clone(), options)
                })
                .collect(),
            quiz.pass_mark,
        ),
    };
    MyCoursePage {
        chrome,
        id: course.id.to_string(),
        title: course.title.clone(),
        description: course.description.clone(),
        started: enrolment.started_at.is_some(),
        retired: course.retired,
        cost: course.credit_cost,
        percent: enrolment.percent(course),
        unread: lessons.iter().filter(|(_, _, read)| !read).count(),
        lessons,
        next_lesson,
        quiz,
        pass_mark,
        completed: enrolment.completed_at.map(day).unwrap_or_default(),
        certificate: mine
            .certificate
            .as_ref()
            .map(|c| c.id.to_string())
            .unwrap_or_default(),
        code: mine
            .certificate
            .as_ref()
            .map(|c| c.code.to_string())
            .unwrap_or_default(),
        verify: verify_url(headers, org_slug),
        score: enrolment.score.map(|s| format!("{s}%")).unwrap_or_default(),
        error,
        notice: notice.to_owned(),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct CourseQuery {
    #[serde(default)]
    notice: String,
}

fn learner_notice(code: &str) -> &'static str {
    match code {
        "started" => "The course is started. Begin with the first lesson.",
        "failed" => "Not passed this time: read the lessons again if you like, then try again.",
        "completed" => "Well done: the course is complete, and your certificate is ready.",
        _ => "",
    }
}

async fn org_slug(app: &App, signed_in: &SignedIn) -> String {
    app.org(signed_in.visitor.principal.org_id)
        .await
        .map(|org| org.slug.as_str().to_owned())
        .unwrap_or_default()
}

pub async fn my_course(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<CourseQuery>,
) -> Response {
    let mine = match parse_id::<CourseId>(&id, "course") {
        Ok(id) => app.my_course(&signed_in.visitor.principal, id).await,
        Err(err) => Err(err),
    };
    match mine {
        Ok(mine) => {
            let slug = org_slug(&app, &signed_in).await;
            let notice = learner_notice(&query.notice);
            render(&course_page(
                signed_in.chrome.clone(),
                &headers,
                &slug,
                &mine,
                notice,
                String::new(),
            ))
        }
        Err(err) => failure(&signed_in, &err),
    }
}

/// A refusal shown on the course's page (no credits left, a step out of turn).
async fn refused_on_course_page(
    app: &App,
    headers: &HeaderMap,
    signed_in: &SignedIn,
    id: CourseId,
    err: &AppError,
) -> Response {
    let (status, message) = explain(err);
    match app.my_course(&signed_in.visitor.principal, id).await {
        Ok(mine) => {
            let slug = org_slug(app, signed_in).await;
            let page = course_page(signed_in.chrome.clone(), headers, &slug, &mine, "", message);
            (status, render(&page)).into_response()
        }
        Err(_) => failure(signed_in, err),
    }
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn start(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let id = match parse_id::<CourseId>(&id, "course") {
        Ok(id) => id,
        Err(err) => return failure(&signed_in, &err),
    };
    match app.start_course(&signed_in.visitor.principal, id).await {
        Ok(_) => Redirect::to(&format!("/my/courses/{id}?notice=started")).into_response(),
        Err(err) => refused_on_course_page(&app, &headers, &signed_in, id, &err).await,
    }
}

pub async fn lesson(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Path((id, lesson)): Path<(String, String)>,
) -> Response {
    let found = async {
        let id = parse_id::<CourseId>(&id, "course")?;
        let lesson = parse_id::<LessonId>(&lesson, "lesson")?;
        let mine = app.my_course(&signed_in.visitor.principal, id).await?;
        Ok::<_, AppError>((mine, lesson))
    };
    let (mine, lesson) = match found.await {
        Ok(found) => found,
        Err(err) => return failure(&signed_in, &err),
    };
    let course = &mine.course;
    let Some(at) = course.lessons.iter().position(|l| l.id == lesson) else {
        return failure(&signed_in, &AppError::NotFound("lesson"));
    };
    let refusal = if course.retired {
        Some(rollcall_domain::learning::LearningError::Retired)
    } else if mine.enrolment.started_at.is_none() {
        Some(rollcall_domain::learning::LearningError::NotStarted)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return refused_on_course_page(&app, &headers, &signed_in, course.id, &refusal.into())
            .await;
    }
    let this = &course.lessons[at];
    render(&LessonPage {
        chrome: signed_in.chrome,
        course_id: course.id.to_string(),
        course_title: course.title.clone(),
        id: this.id.to_string(),
        title: this.title.clone(),
        body: crate::markdown::to_html(&this.body),
        number: at + 1,
        of: course.lessons.len(),
        read: mine.enrolment.lessons_done.contains(&this.id),
        previous: at
            .checked_sub(1)
            .and_then(|i| course.lessons.get(i))
            .map(|l| l.id.to_string())
            .unwrap_or_default(),
    })
}

/// "Next lesson": the lesson is read; on to the next one, or back to the course after the last.
pub async fn read(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Path((id, lesson)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let (id, lesson) = match (
        parse_id::<CourseId>(&id, "course"),
        parse_id::<LessonId>(&lesson, "lesson"),
    ) {
        (Ok(id), Ok(lesson)) => (id, lesson),
        (Err(err), _) | (_, Err(err)) => return failure(&signed_in, &err),
    };
    match app
        .read_lesson(&signed_in.visitor.principal, id, lesson)
        .await
    {
        Ok(mine) => {
            let lessons = &mine.course.lessons;
            let next = lessons
                .iter()
                .position(|l| l.id == lesson)
                .and_then(|at| lessons.get(at + 1));
            let to = match next {
                Some(next) => format!("/my/courses/{id}/lessons/{}", next.id),
                None => format!("/my/courses/{id}"),
            };
            Redirect::to(&to).into_response()
        }
        Err(err) => refused_on_course_page(&app, &headers, &signed_in, id, &err).await,
    }
}

/// The completion step: `complete=1`, or the quiz's `answer_N` (N from 1: the option's index).
pub async fn finish(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.as_str());
    if let Err(refused) = signed_in.check_csrf(&headers, csrf) {
        return refused;
    }
    let id = match parse_id::<CourseId>(&id, "course") {
        Ok(id) => id,
        Err(err) => return failure(&signed_in, &err),
    };
    let answers = quiz_answers(&fields);
    let done = match &answers {
        Ok(answers) => {
            let answers = (!fields.iter().any(|(k, _)| k == "complete")).then_some(&answers[..]);
            app.finish_course(&signed_in.visitor.principal, id, answers)
                .await
        }
        Err(err) => Err(AppError::invalid("answers", err.clone())),
    };
    match done {
        Ok(finished) if finished.course.enrolment.completed_at.is_some() => {
            Redirect::to(&format!("/my/courses/{id}?notice=completed")).into_response()
        }
        Ok(_) => Redirect::to(&format!("/my/courses/{id}?notice=failed")).into_response(),
        Err(err) => refused_on_course_page(&app, &headers, &signed_in, id, &err).await,
    }
}

/// The answers posted as `answer_1`, `answer_2`…, in order; or why they cannot be read.
fn quiz_answers(fields: &[(String, String)]) -> Result<Vec<usize>, String> {
    let mut answers: Vec<(usize, usize)> = Vec::new();
    for (key, value) in fields {
        let Some(number) = key.strip_prefix("answer_") else {
            continue;
        };
        let (Ok(number), Ok(value)) = (number.parse::<usize>(), value.parse::<usize>()) else {
            return Err(format!("{key} is not an answer of this quiz"));
        };
        if answers.iter().any(|(n, _)| *n == number) {
            return Err(format!("question {number} was answered twice"));
        }
        answers.push((number, value));
    }
    answers.sort_unstable();
    for (i, (number, _)) in answers.iter().enumerate() {
        if *number != i + 1 {
            return Err(format!("question {} has no answer", i + 1));
        }
    }
    Ok(answers.into_iter().map(|(_, value)| value).collect())
}

pub async fn my_certificate(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let found = async {
        let id = parse_id::<CertificateId>(id.trim_end_matches(".pdf"), "certificate")?;
        app.my_certificate(who, id).await
    };
    match download(&app, &headers, found.await).await {
        Ok(pdf) => pdf,
        Err(err) => failure(&signed_in, &err),
    }
}

/// Any certificate of the org, downloaded by an admin on its holder's behalf.
pub async fn admin_certificate(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let found = async {
        let id = parse_id::<CertificateId>(id.trim_end_matches(".pdf"), "certificate")?;
        app.certificate(who, id).await
    };
    match download(&app, &headers, found.await).await {
        Ok(pdf) => pdf,
        Err(err) => failure_page(signed_in.chrome.clone(), &err, "/users", "Back to users"),
    }
}

/// The certificate found, as a PDF download naming its org and where to verify it.
async fn download(
    app: &App,
    headers: &HeaderMap,
    found: Result<Certificate, AppError>,
) -> Result<Response, AppError> {
    let certificate = found?;
    let org = app.org(certificate.org_id).await?;
    let verify = verify_url(headers, org.slug.as_str());
    Ok(certificate_pdf(&certificate, org.name.as_str(), &verify))
}

#[derive(Debug, Deserialize, Default)]
pub struct VerifyQuery {
    #[serde(default)]
    code: String,
}

/// The public check: `/verify/{org}?code=…` (or `/verify/{org}/{code}`, as printed).
pub async fn verify(
    State(app): State<App>,
    Path(org): Path<String>,
    Query(query): Query<VerifyQuery>,
) -> Response {
    verify_page(&app, &org, query.code.trim()).await
}

pub async fn verify_code(
    State(app): State<App>,
    Path((org, code)): Path<(String, String)>,
) -> Response {
    verify_page(&app, &org, &code).await
}

async fn verify_page(app: &App, org: &str, code: &str) -> Response {
    let code: String = code.chars().take(40).collect();
    let checked = !code.is_empty();
    let found = if checked {
        match app.verify_certificate(org, &code).await {
            Ok(found) => found,
            Err(err) => return crate::console::errors::failure(&err),
        }
    } else {
        match app.org_by_slug(org).await {
            Ok(_) => None,
            Err(err) => return crate::console::errors::failure(&err),
        }
    };
    let status = if checked && found.is_none() {
        axum::http::StatusCode::NOT_FOUND
    } else {
        axum::http::StatusCode::OK
    };
    let page = VerifyPage {
        chrome: Chrome::default(),
        org: org.to_owned(),
        code,
        checked,
        found: found.map(|c| (c.learner_name, c.course_title, day(c.issued_at))),
    };
    (status, render(&page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::quiz_answers;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn quiz_answers_are_read_in_question_order_and_every_gap_is_named() {
        let posted = fields(&[("_csrf", "x"), ("answer_2", "0"), ("answer_1", "3")]);
        assert_eq!(quiz_answers(&posted), Ok(vec![3, 0]));
        let gap = fields(&[("answer_1", "0"), ("answer_3", "1")]);
        assert_eq!(
            quiz_answers(&gap),
            Err("question 2 has no answer".to_owned())
        );
        let twice = fields(&[("answer_1", "0"), ("answer_1", "1")]);
        assert!(quiz_answers(&twice).unwrap_err().contains("twice"));
        let junk = fields(&[("answer_x", "0")]);
        assert!(quiz_answers(&junk).is_err());
    }
}
