//! `/api/v1/rosters`: the classes sources send and their members. An admin sees every roster,
//! a teacher the ones they teach; members are listed by the status rules.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rollcall_app::App;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Problem;
use super::auth::ApiPrincipal;
use super::extract::ApiJson;
use super::learning::WrittenBody;
use super::users::UserBody;

/// A roster, with how many teachers and students it shows (archived people left out).
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterBody {
    pub id: Uuid,
    pub source_id: Uuid,
    /// The class's id in its source.
    pub external_id: String,
    pub title: String,
    pub code: String,
    pub school: String,
    pub teachers: u64,
    pub students: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterListBody {
    pub rosters: Vec<RosterBody>,
}

/// A member of a roster.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    /// `teacher`, `student` or `other`.
    pub role: String,
    pub user: UserBody,
}

/// A roster and its members: inactive ones included (see their `status`), archived ones not.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterMembersBody {
    pub id: Uuid,
    pub title: String,
    pub code: String,
    pub school: String,
    pub members: Vec<MemberBody>,
}

#[utoipa::path(get, path = "/api/v1/rosters", tag = "provisioning",
    responses((status = 200, body = RosterListBody)),
    security(("token" = [])))]
pub async fn list(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<RosterListBody>, Problem> {
    let rosters = app.rosters(&who).await?;
    Ok(Json(RosterListBody {
        rosters: rosters
            .into_iter()
            .map(|r| RosterBody {
                id: r.roster.id.as_uuid(),
                source_id: r.roster.source_id.as_uuid(),
                external_id: r.roster.external_id,
                title: r.roster.title,
                code: r.roster.code,
                school: r.roster.school,
                teachers: r.teachers,
                students: r.students,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/rosters/{id}", tag = "provisioning",
    params(("id" = Uuid, Path, description = "The roster's id")),
    responses((status = 200, body = RosterMembersBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn show(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<RosterMembersBody>, Problem> {
    let id = id.parse().map_err(|_| Problem::not_found("roster"))?;
    let (roster, members) = app.roster(&who, id).await?;
    Ok(Json(RosterMembersBody {
        id: roster.id.as_uuid(),
        title: roster.title,
        code: roster.code,
        school: roster.school,
        members: members
            .iter()
            .map(|(user, role)| MemberBody {
                role: role.as_str().to_owned(),
                user: UserBody::from(user),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterMessageInput {
    /// One line of at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    subject: String,
    /// At most 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "\\S")]
    body: String,
}

#[utoipa::path(post, path = "/api/v1/rosters/{id}/message", tag = "provisioning",
    request_body = RosterMessageInput,
    params(("id" = Uuid, Path, description = "The roster's id")),
    responses((status = 201, body = WrittenBody), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn message(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RosterMessageInput>,
) -> Result<Response, Problem> {
    let id = id.parse().map_err(|_| Problem::not_found("roster"))?;
    let written = app
        .write_to_roster(&who, id, &input.subject, &input.body)
        .await?;
    Ok((StatusCode::CREATED, Json(WrittenBody::from(written))).into_response())
}
