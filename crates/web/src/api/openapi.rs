//! The OpenAPI description, generated from the handlers and types themselves.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{FieldProblem, Problem, RowProblem};
use super::{connections, learning, provisioning, reports, rosters, rules, segments, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "Rollcall", description = "The user directory and user lifecycle of a learning platform."),
    paths(users::list, users::create, users::show, users::edit, users::change_status,
        users::change_statuses, users::events, rules::status_rules, provisioning::list_sources,
        provisioning::add_source, provisioning::show_source, provisioning::edit_source,
        provisioning::import, provisioning::list_runs, provisioning::show_run,
        provisioning::approve_run, provisioning::reject_run, provisioning::undo_run,
        provisioning::settings, provisioning::edit_settings, rosters::list, rosters::show, rosters::message,
        learning::list_courses, learning::create_course, learning::show_course,
        learning::edit_course, learning::retire_course, learning::enrol, learning::people,
        learning::credits, learning::top_up, learning::outbox, learning::training,
        learning::certificate, learning::certificate_pdf, learning::my_courses,
        learning::my_course, learning::start, learning::read_lesson, learning::finish,
        learning::my_certificate_pdf, learning::verify, learning::write_message,
        connections::list, connections::add, connections::show, connections::add_token,
        connections::revoke_token, connections::requests, segments::list, segments::create,
        segments::preview, segments::show, segments::replace, segments::delete,
        segments::members, segments::reach, segments::message, segments::everyone_reach,
        segments::message_everyone, reports::figures,
        reports::segment_figures, reports::completions, reports::completions_csv),
    components(schemas(
        users::UserBody, users::UserListBody, users::CreateUserBody, users::EditUserBody,
        users::StatusBody, users::StatusChangedBody, users::EventBody, users::ActorBody,
        users::EventListBody, users::BulkStatusBody, users::BulkStatusChangedBody,
        users::LeftOutBody, rules::StatusRulesBody, rules::RuleBody, rules::StatusDetailBody,
        rules::TransitionBody, provisioning::SourceBody, provisioning::SourceListBody,
        provisioning::MissingBody, provisioning::MissingInput, provisioning::NewSourceBody,
        provisioning::SourcePatchBody, provisioning::CountsBody, provisioning::ReportLineBody,
        provisioning::PreviewBody, provisioning::RunBody, provisioning::RunListBody,
        provisioning::ApproveBody, RowProblem,
        provisioning::UndoBody, provisioning::SettingsBody, provisioning::SettingsPatchBody,
        provisioning::RosterFile, rosters::RosterBody, rosters::RosterListBody,
        rosters::MemberBody, rosters::RosterMembersBody, rosters::RosterMessageInput, learning::LessonBody,
        learning::QuestionBody, learning::CompletionBody, learning::CourseBody,
        learning::CourseListBody, learning::LessonInput, learning::CourseInput,
        learning::TallyBody, learning::CourseDetailBody, learning::RetireBody, learning::EnrolBody,
        learning::EnrolledBody, learning::EnrolmentBody, learning::PersonBody,
        learning::PeopleBody, learning::CreditEntryBody, learning::CreditUseBody,
        learning::CreditsBody, learning::TopUpBody, learning::MessageBody,
        learning::MessageListBody, learning::CertificateBody, learning::TrainingRecordBody,
        learning::TrainingBody, learning::LearnerQuestionBody, learning::MyCourseBody,
        learning::MyCoursesBody, learning::FinishBody, learning::FinishedBody,
        learning::VerifiedBody, learning::MessageInput, learning::WrittenBody,
        connections::ScimTokenBody, connections::ScimConnectionBody,
        connections::ScimConnectionListBody, connections::NewScimConnectionBody,
        connections::MadeScimConnectionBody, connections::NewScimTokenBody,
        connections::MadeScimTokenBody, connections::ScimRequestBody,
        connections::ScimRequestListBody, segments::SegmentBody, segments::SegmentListBody,
        segments::SegmentInput, segments::RuleInput, segments::SegmentPreviewBody,
        segments::SegmentMembersBody, segments::SegmentReachBody, segments::SegmentMessageInput,
        reports::CourseFiguresBody, reports::MonthFiguresBody, reports::FiguresBody,
        reports::SegmentFiguresBody, reports::ReportRowBody, reports::ReportPageBody,
        Problem, FieldProblem
    )),
    modifiers(&BearerToken, &ProblemResponses),
    tags((name = "users", description = "People of an org and their status"),
        (name = "status rules", description = "What each status means, as the code enforces it"),
        (name = "provisioning", description = "Sources that create, update and archive people \
            from roster files; their runs, held runs' approval, and undo"),
        (name = "learning", description = "Courses, enrolments, credits, certificates and the \
            outbox; a learner's own courses under /me; the public check of a certificate"),
        (name = "scim", description = "SCIM connections of identity providers: their tokens \
            and last requests. The SCIM 2.0 protocol itself is served under /scim/v2 \
            (docs/scim.md)"),
        (name = "segments", description = "People picked out by a rule on their fields \
            (docs/segments.md): previewed, counted and listed as the status rules say"),
        (name = "reports", description = "The dashboard's figures and the completion report: \
            active people's results count, inactive and archived people's are in the report's \
            archived tab"))
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Every error is a problem document: each error response is described as
/// `application/problem+json`, and each operation lists the errors any request can meet
/// (unreadable body, missing token, not an admin, the service failing or saturated), not only
/// the ones its handler names.
struct ProblemResponses;

/// Errors any operation of the kind can answer, with their descriptions.
const ANY_REQUEST: [(&str, &str); 2] = [
    ("500", "Something failed on our side; nothing was changed"),
    (
        "503",
        "The database does not answer, or the service is saturated (see Retry-After)",
    ),
];
const WITH_TOKEN: [(&str, &str); 2] = [
    (
        "401",
        "No token, or a token that is revoked or whose user may not sign in",
    ),
    ("403", "The token's user is not an admin of the org"),
];
const WITH_BODY: [(&str, &str); 4] = [
    ("400", "The body is not JSON, or has data after it"),
    ("413", "The body is larger than the limit"),
    ("415", "The body is not sent as application/json"),
    (
        "422",
        "A field is missing, unknown or invalid; each is named",
    ),
];
const WITH_PARAMETERS: [(&str, &str); 1] = [("422", "A parameter is invalid; each is named")];

fn problem_response(description: &str) -> utoipa::openapi::Response {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut common: Vec<(&str, &str)> = ANY_REQUEST.to_vec();
                if secured {
                    common.extend(WITH_TOKEN);
                }
                match &operation.request_body {
                    Some(body) if body.content.contains_key("application/json") => {
                        common.extend(WITH_BODY);
                    }
                    // A file upload: only its size can be refused before it is read.
                    Some(_) => common.push(WITH_BODY[1]),
                    None => {}
                }
                if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    common.extend(WITH_PARAMETERS);
                }
                let responses = &mut operation.responses.responses;
                for (status, description) in common {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem_response(description).into());
                }
                for (status, response) in responses.iter_mut() {
                    let utoipa::openapi::RefOr::T(response) = response else {
                        continue;
                    };
                    if (status.starts_with('4') || status.starts_with('5'))
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response.content.insert(PROBLEM_JSON.to_owned(), content);
                    }
                }
            }
        }
    }
}

/// The OpenAPI document, pretty-printed, as committed in `openapi.json`.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    env!("CARGO_PKG_VERSION").clone_into(&mut doc.info.version);
    doc.to_pretty_json().unwrap_or_default() + "\n"
}

pub async fn serve() -> impl axum::response::IntoResponse {
    let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap_or_default();
    Json(doc)
}
