//! `/api/v1/courses`, `/credits`, `/outbox`, a user's `/training`, the learner's `/me/…` and
//! the public `/verify/{org}/{code}`: learning through the API, obeying the same status rules
//! as the console (an inactive learner's token stops working at once; their records stay).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_app::{App, MyCourse, TrainingHistory};
use rollcall_domain::learning::{
    Certificate, Completion, Course, CourseDraft, CreditEntry, Enrolment, LessonDraft, Message,
    MessageState, Progress, Question, Quiz,
};
use rollcall_domain::{CertificateId, CourseId, FieldError, LessonId, RosterId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Problem;
use super::auth::ApiPrincipal;
use super::extract::{ApiJson, ApiQuery, OptionalJson, limit_within};
use super::users::UserBody;

/// A lesson: its text is Markdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct LessonBody {
    pub id: Uuid,
    pub title: String,
    pub body: String,
}

/// A quiz question, with the index (from 0) of its right answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    pub prompt: String,
    pub options: Vec<String>,
    pub answer: usize,
}

/// How a course is completed: `mark_complete`, or `quiz` with its pass mark and questions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionBody {
    /// `mark_complete` or `quiz`.
    #[schema(pattern = "^(mark_complete|quiz)$")]
    pub kind: String,
    /// The percentage of right answers that passes (quiz only): 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub pass_mark: Option<u8>,
    #[serde(default)]
    pub questions: Vec<QuestionBody>,
}

/// A course as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseBody {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub lessons: Vec<LessonBody>,
    pub completion: CompletionBody,
    pub credit_cost: u32,
    pub retired: bool,
    /// Enrols everyone (but the archived), as they join, since this time.
    pub everyone_since: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&Course> for CourseBody {
    fn from(c: &Course) -> Self {
        Self {
            id: c.id.as_uuid(),
            title: c.title.clone(),
            description: c.description.clone(),
            lessons: c
                .lessons
                .iter()
                .map(|l| LessonBody {
                    id: l.id.as_uuid(),
                    title: l.title.clone(),
                    body: l.body.clone(),
                })
                .collect(),
            completion: match &c.completion {
                Completion::MarkComplete => CompletionBody {
                    kind: "mark_complete".to_owned(),
                    pass_mark: None,
                    questions: Vec::new(),
                },
                Completion::Quiz(quiz) => CompletionBody {
                    kind: "quiz".to_owned(),
                    pass_mark: Some(quiz.pass_mark),
                    questions: quiz
                        .questions
                        .iter()
                        .map(|q| QuestionBody {
                            prompt: q.prompt.clone(),
                            options: q.options.clone(),
                            answer: q.answer,
                        })
                        .collect(),
                },
            },
            credit_cost: c.credit_cost,
            retired: c.retired,
            everyone_since: c.everyone.as_ref().map(|(at, _)| *at),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourseListBody {
    pub courses: Vec<CourseBody>,
}

/// A lesson as an admin writes it: `id` keeps a lesson the course has (and everyone's progress
/// in it); without one it is new.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonInput {
    pub id: Option<Uuid>,
    pub title: String,
    pub body: String,
}

/// A course as written: all of it (an edit replaces the course with this).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub lessons: Vec<LessonInput>,
    pub completion: CompletionBody,
    #[serde(default)]
    pub credit_cost: u32,
    /// For an edit: the version read; a course changed since is refused.
    pub version: Option<i64>,
}

impl CourseInput {
    fn draft(self) -> Result<(CourseDraft, Option<i64>), Problem> {
        // Checked whatever the kind, as the document says it.
        if self
            .completion
            .pass_mark
            .is_some_and(|mark| !(1..=100).contains(&mark))
        {
            return Err(Problem::invalid(vec![FieldError::new(
                "completion.pass_mark",
                "must be a percentage from 1 to 100",
            )]));
        }
        let completion = match self.completion.kind.as_str() {
            "mark_complete" => Completion::MarkComplete,
            "quiz" => Completion::Quiz(Quiz {
                pass_mark: self.completion.pass_mark.unwrap_or(0),
                questions: self
                    .completion
                    .questions
                    .into_iter()
                    .map(|q| Question {
                        prompt: q.prompt,
                        options: q.options,
                        answer: q.answer,
                    })
                    .collect(),
            }),
            _ => {
                return Err(Problem::invalid(vec![FieldError::new(
                    "completion.kind",
                    "must be mark_complete or quiz",
                )]));
            }
        };
        let draft = CourseDraft {
            title: self.title,
            description: self.description,
            lessons: self
                .lessons
                .into_iter()
                .map(|l| LessonDraft {
                    id: l.id.map(LessonId::from_uuid),
                    title: l.title,
                    body: l.body,
                })
                .collect(),
            completion,
            credit_cost: self.credit_cost,
        };
        Ok((draft, self.version))
    }
}

fn course_id(id: &str) -> Result<CourseId, Problem> {
    id.parse().map_err(|_| Problem::not_found("course"))
}

#[utoipa::path(get, path = "/api/v1/courses", tag = "learning",
    responses((status = 200, body = CourseListBody)), security(("token" = [])))]
pub async fn list_courses(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<CourseListBody>, Problem> {
    let courses = app.courses(&who).await?;
    Ok(Json(CourseListBody {
        courses: courses.iter().map(CourseBody::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/courses", tag = "learning", request_body = CourseInput,
    responses((status = 201, body = CourseBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn create_course(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<CourseInput>,
) -> Result<Response, Problem> {
    let (draft, _) = body.draft()?;
    let course = app.create_course(&who, draft).await?;
    let mut response = (StatusCode::CREATED, Json(CourseBody::from(&course))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/courses/{}", course.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// How many of a course's people are where, for one status.
#[derive(Debug, Serialize, ToSchema)]
pub struct TallyBody {
    pub status: String,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
}

/// A course with its people counted by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseDetailBody {
    pub course: CourseBody,
    pub tally: Vec<TallyBody>,
}

#[utoipa::path(get, path = "/api/v1/courses/{id}", tag = "learning",
    params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = CourseDetailBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn show_course(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<CourseDetailBody>, Problem> {
    let summary = app.course(&who, course_id(&id)?).await?;
    Ok(Json(CourseDetailBody {
        course: CourseBody::from(&summary.course),
        tally: summary
            .tally
            .iter()
            .map(|(status, t)| TallyBody {
                status: status.as_str().to_owned(),
                enrolled: t.enrolled,
                started: t.started,
                completed: t.completed,
            })
            .collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/courses/{id}", tag = "learning", request_body = CourseInput,
    params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = CourseBody), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn edit_course(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CourseInput>,
) -> Result<Json<CourseBody>, Problem> {
    let id = course_id(&id)?;
    let (draft, version) = body.draft()?;
    let course = app.edit_course(&who, id, version, draft).await?;
    Ok(Json(CourseBody::from(&course)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireBody {
    /// `true` retires the course (records kept); `false` opens it again.
    pub retired: bool,
}

#[utoipa::path(post, path = "/api/v1/courses/{id}/retire", tag = "learning",
    request_body = RetireBody, params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = CourseBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn retire_course(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RetireBody>,
) -> Result<Json<CourseBody>, Problem> {
    let course = app
        .retire_course(&who, course_id(&id)?, body.retired)
        .await?;
    Ok(Json(CourseBody::from(&course)))
}

/// Whom to enrol: `everyone` (now and as people join), the `selected` `users`, or a `roster`'s
/// members. Archived people are never enrolled; inactive ones are, silently.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// `everyone`, `selected`, `roster` or `segment` (the people a segment picks out now,
    /// each enrolled as selected).
    #[schema(pattern = "^(everyone|selected|roster|segment)$")]
    pub method: String,
    #[serde(default)]
    pub users: Vec<Uuid>,
    pub roster: Option<Uuid>,
    pub segment: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolledBody {
    /// People newly enrolled (those enrolled already are left as they are).
    pub enrolled: u64,
}

#[utoipa::path(post, path = "/api/v1/courses/{id}/enrolments", tag = "learning",
    request_body = EnrolBody, params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = EnrolledBody), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn enrol(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EnrolBody>,
) -> Result<Json<EnrolledBody>, Problem> {
    let id = course_id(&id)?;
    let done = match body.method.as_str() {
        "everyone" => app.enrol_everyone(&who, id).await?,
        "selected" => {
            let users: Vec<UserId> = body.users.into_iter().map(UserId::from_uuid).collect();
            app.enrol_selected(&who, id, &users).await?
        }
        "roster" => {
            let roster = body.roster.ok_or_else(|| {
                Problem::invalid(vec![FieldError::new("roster", "is required for a roster")])
            })?;
            app.enrol_roster(&who, id, RosterId::from_uuid(roster))
                .await?
        }
        "segment" => {
            let segment = body.segment.ok_or_else(|| {
                Problem::invalid(vec![FieldError::new(
                    "segment",
                    "is required for a segment",
                )])
            })?;
            app.enrol_segment(&who, id, rollcall_domain::SegmentId::from_uuid(segment))
                .await?
        }
        _ => {
            return Err(Problem::invalid(vec![FieldError::new(
                "method",
                "must be everyone, selected, roster or segment",
            )]));
        }
    };
    Ok(Json(EnrolledBody {
        enrolled: done.enrolled,
    }))
}

/// Someone's place in a course.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentBody {
    pub course_id: Uuid,
    pub user_id: Uuid,
    /// `everyone`, `selected` or `roster`.
    pub method: String,
    pub roster_id: Option<Uuid>,
    pub enrolled_by: String,
    pub enrolled_at: chrono::DateTime<chrono::Utc>,
    /// `not_started`, `in_progress` or `completed`.
    pub progress: String,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub credits_used: u32,
    pub lessons_read: Vec<Uuid>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The last quiz attempt's percentage.
    pub score: Option<u8>,
    pub attempts: u32,
}

impl From<&Enrolment> for EnrolmentBody {
    fn from(e: &Enrolment) -> Self {
        Self {
            course_id: e.course_id.as_uuid(),
            user_id: e.user_id.as_uuid(),
            method: e.method.as_str().to_owned(),
            roster_id: e.method.roster().map(|r| r.as_uuid()),
            enrolled_by: e.enrolled_by.clone(),
            enrolled_at: e.enrolled_at,
            progress: e.progress().as_str().to_owned(),
            started_at: e.started_at,
            credits_used: e.credits_used,
            lessons_read: e.lessons_done.iter().map(LessonId::as_uuid).collect(),
            completed_at: e.completed_at,
            score: e.score,
            attempts: e.attempts,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonBody {
    pub user: UserBody,
    pub enrolment: EnrolmentBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeopleBody {
    pub people: Vec<PersonBody>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Only those this far: `not_started`, `in_progress` or `completed`.
    #[param(pattern = "^(not_started|in_progress|completed)?$")]
    pub progress: Option<String>,
    /// The last user id of the previous page.
    pub after: Option<Uuid>,
    /// At most this many (1 to 500; 100 by default).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/courses/{id}/people", tag = "learning",
    params(("id" = Uuid, Path, description = "The course's id"), PeopleQuery),
    responses((status = 200, body = PeopleBody), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn people(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PeopleQuery>,
) -> Result<Json<PeopleBody>, Problem> {
    let id = course_id(&id)?;
    let progress = match query.progress.as_deref() {
        None | Some("") => None,
        Some(word) => Some(Progress::parse(word).ok_or_else(|| {
            Problem::invalid(vec![FieldError::new(
                "progress",
                "must be not_started, in_progress or completed",
            )])
        })?),
    };
    let limit = limit_within(query.limit, 100, 500)?;
    let after = query.after.map(UserId::from_uuid);
    let people = app.course_people(&who, id, progress, after, limit).await?;
    let next = (people.len() as u64 == limit)
        .then(|| people.last().map(|(e, _)| e.user_id.as_uuid()))
        .flatten();
    Ok(Json(PeopleBody {
        people: people
            .iter()
            .map(|(e, u)| PersonBody {
                user: UserBody::from(u),
                enrolment: EnrolmentBody::from(e),
            })
            .collect(),
        next,
    }))
}

/// One line of the credit ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditEntryBody {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    /// `top_up` or `consumption`.
    pub kind: String,
    pub amount: u32,
    pub balance_after: i64,
    pub course_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub actor: String,
    pub reason: String,
}

impl From<&CreditEntry> for CreditEntryBody {
    fn from(e: &CreditEntry) -> Self {
        Self {
            id: e.id.as_uuid(),
            at: e.at,
            kind: e.kind.as_str().to_owned(),
            amount: e.amount,
            balance_after: e.balance_after,
            course_id: e.course_id.map(|c| c.as_uuid()),
            user_id: e.user_id.map(|u| u.as_uuid()),
            actor: e.actor.clone(),
            reason: e.reason.clone(),
        }
    }
}

/// Credits used by one course or one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditUseBody {
    /// The course's or the person's id.
    pub id: Uuid,
    /// The course's title or the person's name, when they still exist.
    pub name: Option<String>,
    /// The person's status now (people only): inactive and archived people stay counted.
    pub status: Option<String>,
    pub credits: i64,
    pub starts: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditsBody {
    pub balance: i64,
    /// The newest entries of the ledger.
    pub entries: Vec<CreditEntryBody>,
    pub by_course: Vec<CreditUseBody>,
    pub by_user: Vec<CreditUseBody>,
}

#[utoipa::path(get, path = "/api/v1/credits", tag = "learning",
    responses((status = 200, body = CreditsBody)), security(("token" = [])))]
pub async fn credits(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<CreditsBody>, Problem> {
    let credits = app.credits(&who).await?;
    Ok(Json(CreditsBody {
        balance: credits.balance,
        entries: credits.entries.iter().map(CreditEntryBody::from).collect(),
        by_course: credits
            .by_course
            .iter()
            .map(|(used, title)| CreditUseBody {
                id: used.of.as_uuid(),
                name: title.clone(),
                status: None,
                credits: used.credits,
                starts: used.starts,
            })
            .collect(),
        by_user: credits
            .by_user
            .iter()
            .map(|(used, user)| CreditUseBody {
                id: used.of.as_uuid(),
                name: user.as_ref().map(rollcall_domain::User::display_name),
                status: user.as_ref().map(|u| u.status().as_str().to_owned()),
                credits: used.credits,
                starts: used.starts,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpBody {
    /// Credits to add: 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub amount: i64,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/credits/top-ups", tag = "learning", request_body = TopUpBody,
    responses((status = 201, body = CreditEntryBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn top_up(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<TopUpBody>,
) -> Result<Response, Problem> {
    let entry = app.top_up(&who, body.amount, &body.reason).await?;
    Ok((StatusCode::CREATED, Json(CreditEntryBody::from(&entry))).into_response())
}

/// A message of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    pub id: Uuid,
    pub user_id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// `enrolment` or `admin`.
    pub kind: String,
    /// `queued`, `sent`, `suppressed` or `failed`.
    pub state: String,
    /// Why it was suppressed, or its last delivery error.
    pub reason: Option<String>,
    pub attempts: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&Message> for MessageBody {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.as_uuid(),
            user_id: m.user_id.as_uuid(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            kind: m.kind.as_str().to_owned(),
            state: m.state.as_str().to_owned(),
            reason: m.reason.clone(),
            attempts: m.attempts,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageListBody {
    pub messages: Vec<MessageBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages in this state: `queued`, `sent`, `suppressed` or `failed`.
    #[param(pattern = "^(queued|sent|suppressed|failed)?$")]
    pub state: Option<String>,
    /// At most this many, newest first (1 to 1,000; 100 by default).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/outbox", tag = "learning", params(OutboxQuery),
    responses((status = 200, body = MessageListBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn outbox(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> Result<Json<MessageListBody>, Problem> {
    let state = match query.state.as_deref() {
        None | Some("") => None,
        Some(word) => Some(MessageState::from_stored(word).ok_or_else(|| {
            Problem::invalid(vec![FieldError::new(
                "state",
                "must be queued, sent, suppressed or failed",
            )])
        })?),
    };
    let limit = limit_within(query.limit, 100, 1_000)?;
    let messages = app.outbox(&who, state, limit).await?;
    Ok(Json(MessageListBody {
        messages: messages.iter().map(MessageBody::from).collect(),
    }))
}

/// A certificate: what the public check shows, and its ids.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateBody {
    pub id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    /// The verification code, as printed: `7K2M-Q9XD-4TRA-0PZ8`.
    pub code: String,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub learner_name: String,
    pub course_title: String,
}

impl From<&Certificate> for CertificateBody {
    fn from(c: &Certificate) -> Self {
        Self {
            id: c.id.as_uuid(),
            user_id: c.user_id.as_uuid(),
            course_id: c.course_id.as_uuid(),
            code: c.code.to_string(),
            issued_at: c.issued_at,
            learner_name: c.learner_name.clone(),
            course_title: c.course_title.clone(),
        }
    }
}

/// One course of a person's training history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingRecordBody {
    pub course_id: Uuid,
    pub course_title: String,
    pub enrolment: EnrolmentBody,
    pub certificate: Option<CertificateBody>,
}

/// A person's whole training history, whatever their status.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingBody {
    pub user: UserBody,
    pub records: Vec<TrainingRecordBody>,
    pub credits_used: u64,
}

impl From<&TrainingHistory> for TrainingBody {
    fn from(t: &TrainingHistory) -> Self {
        Self {
            user: UserBody::from(&t.user),
            records: t
                .records
                .iter()
                .map(|r| TrainingRecordBody {
                    course_id: r.course.id.as_uuid(),
                    course_title: r.course.title.clone(),
                    enrolment: EnrolmentBody::from(&r.enrolment),
                    certificate: r.certificate.as_ref().map(CertificateBody::from),
                })
                .collect(),
            credits_used: t.credits_used,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/users/{id}/training", tag = "learning",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = TrainingBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn training(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<TrainingBody>, Problem> {
    let id: UserId = id.parse().map_err(|_| Problem::not_found("user"))?;
    let history = app.training_history(&who, id).await?;
    Ok(Json(TrainingBody::from(&history)))
}

fn certificate_id(id: &str) -> Result<CertificateId, Problem> {
    id.parse().map_err(|_| Problem::not_found("certificate"))
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "learning",
    params(("id" = Uuid, Path, description = "The certificate's id")),
    responses((status = 200, body = CertificateBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn certificate(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<CertificateBody>, Problem> {
    let certificate = app.certificate(&who, certificate_id(&id)?).await?;
    Ok(Json(CertificateBody::from(&certificate)))
}

/// A certificate as a PDF response.
async fn pdf_response(
    app: &App,
    headers: &HeaderMap,
    certificate: &Certificate,
) -> Result<Response, Problem> {
    let org = app.org(certificate.org_id).await?;
    let verify = crate::console::verify_url(headers, org.slug.as_str());
    let bytes =
        crate::certificate::pdf(certificate, org.name.as_str(), &verify).map_err(|why| {
            tracing::error!(%why, "a certificate could not be drawn");
            Problem::from(rollcall_app::AppError::internal(
                "drawing a certificate",
                std::io::Error::other(why),
            ))
        })?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"certificate-{}.pdf\"",
        certificate.code.as_str()
    )) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}/pdf", tag = "learning",
    params(("id" = Uuid, Path, description = "The certificate's id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn certificate_pdf(
    State(app): State<App>,
    headers: HeaderMap,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let certificate = app.certificate(&who, certificate_id(&id)?).await?;
    pdf_response(&app, &headers, &certificate).await
}

/// A quiz question as a learner sees it: without its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearnerQuestionBody {
    pub prompt: String,
    pub options: Vec<String>,
}

/// A course as its learner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCourseBody {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub lessons: Vec<LessonBody>,
    /// `mark_complete` or `quiz`.
    pub completion: String,
    pub pass_mark: Option<u8>,
    pub questions: Vec<LearnerQuestionBody>,
    pub credit_cost: u32,
    pub retired: bool,
    pub enrolment: EnrolmentBody,
    /// Progress through the course, in percent.
    pub percent: u8,
    pub certificate: Option<CertificateBody>,
}

impl From<&MyCourse> for MyCourseBody {
    fn from(m: &MyCourse) -> Self {
        let full = CourseBody::from(&m.course);
        Self {
            id: full.id,
            title: full.title,
            description: full.description,
            lessons: full.lessons,
            completion: full.completion.kind,
            pass_mark: full.completion.pass_mark,
            questions: full
                .completion
                .questions
                .into_iter()
                .map(|q| LearnerQuestionBody {
                    prompt: q.prompt,
                    options: q.options,
                })
                .collect(),
            credit_cost: m.course.credit_cost,
            retired: m.course.retired,
            enrolment: EnrolmentBody::from(&m.enrolment),
            percent: m.enrolment.percent(&m.course),
            certificate: m.certificate.as_ref().map(CertificateBody::from),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyCoursesBody {
    pub courses: Vec<MyCourseBody>,
}

#[utoipa::path(get, path = "/api/v1/me/courses", tag = "learning",
    responses((status = 200, body = MyCoursesBody)), security(("token" = [])))]
pub async fn my_courses(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<MyCoursesBody>, Problem> {
    let courses = app.my_courses(&who).await?;
    Ok(Json(MyCoursesBody {
        courses: courses.iter().map(MyCourseBody::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/me/courses/{id}", tag = "learning",
    params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = MyCourseBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn my_course(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<MyCourseBody>, Problem> {
    let mine = app.my_course(&who, course_id(&id)?).await?;
    Ok(Json(MyCourseBody::from(&mine)))
}

#[utoipa::path(post, path = "/api/v1/me/courses/{id}/start", tag = "learning",
    params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = MyCourseBody), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Too few credits, or the course is retired")),
    security(("token" = [])))]
pub async fn start(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<MyCourseBody>, Problem> {
    let mine = app.start_course(&who, course_id(&id)?).await?;
    Ok(Json(MyCourseBody::from(&mine)))
}

#[utoipa::path(post, path = "/api/v1/me/courses/{id}/lessons/{lesson}/read", tag = "learning",
    params(("id" = Uuid, Path, description = "The course's id"),
        ("lesson" = Uuid, Path, description = "The lesson's id")),
    responses((status = 200, body = MyCourseBody), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("token" = [])))]
pub async fn read_lesson(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path((id, lesson)): Path<(String, String)>,
) -> Result<Json<MyCourseBody>, Problem> {
    let lesson: LessonId = lesson.parse().map_err(|_| Problem::not_found("lesson"))?;
    let mine = app.read_lesson(&who, course_id(&id)?, lesson).await?;
    Ok(Json(MyCourseBody::from(&mine)))
}

/// The completion step: the quiz's `answers` (one option index, from 0, per question), or
/// nothing to mark a course complete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishBody {
    pub answers: Option<Vec<usize>>,
}

/// The course after its completion step, and the marked quiz attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinishedBody {
    pub course: MyCourseBody,
    pub passed: Option<bool>,
    pub percent: Option<u8>,
}

#[utoipa::path(post, path = "/api/v1/me/courses/{id}/finish", tag = "learning",
    request_body = FinishBody, params(("id" = Uuid, Path, description = "The course's id")),
    responses((status = 200, body = FinishedBody), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Lessons unread, or completed already"),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn finish(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<FinishBody>,
) -> Result<Json<FinishedBody>, Problem> {
    let answers = body.and_then(|b| b.answers);
    let done = app
        .finish_course(&who, course_id(&id)?, answers.as_deref())
        .await?;
    Ok(Json(FinishedBody {
        course: MyCourseBody::from(&done.course),
        passed: done.graded.map(|g| g.passed),
        percent: done.graded.map(|g| g.percent),
    }))
}

#[utoipa::path(get, path = "/api/v1/me/certificates/{id}/pdf", tag = "learning",
    params(("id" = Uuid, Path, description = "The certificate's id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn my_certificate_pdf(
    State(app): State<App>,
    headers: HeaderMap,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let certificate = app.my_certificate(&who, certificate_id(&id)?).await?;
    pdf_response(&app, &headers, &certificate).await
}

/// What the public check of a code shows: only the name, the course and the date.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedBody {
    pub learner_name: String,
    pub course_title: String,
    pub completed_on: chrono::NaiveDate,
}

#[utoipa::path(get, path = "/api/v1/verify/{org}/{code}", tag = "learning",
    params(("org" = String, Path, description = "The org's slug"),
        ("code" = String, Path, description = "The certificate's verification code")),
    responses((status = 200, body = VerifiedBody),
        (status = 404, body = Problem, description = "No certificate of the org has this code")))]
pub async fn verify(
    State(app): State<App>,
    Path((org, code)): Path<(String, String)>,
) -> Result<Json<VerifiedBody>, Problem> {
    let certificate = app
        .verify_certificate(&org, &code)
        .await?
        .ok_or_else(|| Problem::not_found("certificate"))?;
    Ok(Json(VerifiedBody {
        learner_name: certificate.learner_name,
        course_title: certificate.course_title,
        completed_on: certificate.issued_at.date_naive(),
    }))
}

/// An admin's message: to these people, queued for the active ones with an address, kept as
/// suppressed (with the reason) for the others.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    pub users: Vec<Uuid>,
    /// One line of at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub subject: String,
    /// At most 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "\\S")]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WrittenBody {
    pub queued: usize,
    pub suppressed: usize,
}

impl From<rollcall_app::Written> for WrittenBody {
    fn from(written: rollcall_app::Written) -> Self {
        Self {
            queued: written.queued,
            suppressed: written.suppressed,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/messages", tag = "learning", request_body = MessageInput,
    responses((status = 201, body = WrittenBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn write_message(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<MessageInput>,
) -> Result<Response, Problem> {
    let to: Vec<UserId> = body.users.into_iter().map(UserId::from_uuid).collect();
    let written = app
        .write_message(&who, &to, &body.subject, &body.body)
        .await?;
    Ok((StatusCode::CREATED, Json(WrittenBody::from(written))).into_response())
}
