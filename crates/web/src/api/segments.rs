//! Segments through the API: an org's people picked out by a rule on their fields, previewed
//! before they are saved, counted and listed as the status rules say (inactive members apart,
//! archived ones left out). The rule language is documented in docs/segments.md.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rollcall_app::{App, NewSegment, Segment};
use rollcall_domain::{FieldError, SegmentId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::ApiPrincipal;
use super::error::{Problem, from_app};
use super::extract::{ApiJson, ApiQuery, IfMatch};
use super::learning::WrittenBody;
use super::users::UserBody;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentBody {
    pub id: Uuid,
    pub name: String,
    /// The rule in its plain written form.
    pub rule: String,
    /// Active members now.
    pub active: u64,
    /// Inactive members now (listed, marked); archived people are never counted.
    pub inactive: u64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Send it back in `If-Match` to change the segment only as you read it.
    pub version: i64,
}

impl From<&Segment> for SegmentBody {
    fn from(s: &Segment) -> Self {
        Self {
            id: s.record.id.as_uuid(),
            name: s.record.name.clone(),
            rule: s.record.rule.clone(),
            active: s.tally.active,
            inactive: s.tally.inactive,
            created_by: s.record.created_by.clone(),
            created_at: s.record.created_at,
            updated_at: s.record.updated_at,
            version: s.record.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentListBody {
    pub segments: Vec<SegmentBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    /// 1 to 100 characters, unique in the org ignoring case.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    name: String,
    /// For example `role = student and department in ("Science", "Maths")`: at most 2,000
    /// characters.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    rule: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    rule: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentPreviewBody {
    /// The rule in its plain written form.
    pub rule: String,
    pub active: u64,
    pub inactive: u64,
    /// The first members, by family then given name.
    pub first: Vec<UserBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentMembersBody {
    /// By family then given name; inactive members carry their status.
    pub members: Vec<UserBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersParams {
    /// How many to pass over (0 by default).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    offset: Option<u64>,
    /// 1 to 500; 50 by default.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
}

fn segment_id(raw: &str) -> Result<SegmentId, Problem> {
    raw.parse::<Uuid>()
        .map(SegmentId::from_uuid)
        .map_err(|_| Problem::not_found("segment"))
}

#[utoipa::path(get, path = "/api/v1/segments", tag = "segments",
    responses((status = 200, body = SegmentListBody), (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn list(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<SegmentListBody>, Problem> {
    let segments = app.segments(&who).await?;
    Ok(Json(SegmentListBody {
        segments: segments.iter().map(SegmentBody::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/segments", tag = "segments",
    request_body = SegmentInput,
    responses((status = 201, body = SegmentBody), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn create(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<SegmentInput>,
) -> Result<Response, Problem> {
    let made = app
        .create_segment(
            &who,
            &NewSegment {
                name: body.name,
                rule: body.rule,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(SegmentBody::from(&made))).into_response())
}

#[utoipa::path(post, path = "/api/v1/segments/preview", tag = "segments",
    request_body = RuleInput,
    responses((status = 200, body = SegmentPreviewBody), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn preview(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<RuleInput>,
) -> Result<Json<SegmentPreviewBody>, Problem> {
    let preview = app.preview_segment(&who, &body.rule).await?;
    Ok(Json(SegmentPreviewBody {
        rule: preview.rule,
        active: preview.tally.active,
        inactive: preview.tally.inactive,
        first: preview.first.iter().map(UserBody::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id")),
    responses((status = 200, body = SegmentBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn show(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<SegmentBody>, Problem> {
    let segment = app.segment(&who, segment_id(&id)?).await?;
    Ok(Json(SegmentBody::from(&segment)))
}

#[utoipa::path(put, path = "/api/v1/segments/{id}", tag = "segments",
    request_body = SegmentInput,
    params(("id" = Uuid, Path, description = "The segment's id"),
        ("If-Match" = Option<String>, Header, description = "The version read, in quotes",
            pattern = r#"^\s*(W/)?"?-?[0-9]{1,18}"?\s*$"#)),
    responses((status = 200, body = SegmentBody), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn replace(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<SegmentInput>,
) -> Result<Json<SegmentBody>, Problem> {
    let segment = app
        .update_segment(
            &who,
            segment_id(&id)?,
            &NewSegment {
                name: body.name,
                rule: body.rule,
            },
            version,
        )
        .await
        .map_err(|err| from_app(err, version.is_some()))?;
    Ok(Json(SegmentBody::from(&segment)))
}

#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id")),
    responses((status = 204), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn delete(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    app.delete_segment(&who, segment_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/segments/{id}/members", tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id"), MembersParams),
    responses((status = 200, body = SegmentMembersBody), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn members(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<MembersParams>,
) -> Result<Json<SegmentMembersBody>, Problem> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::invalid(vec![FieldError::new(
            "limit",
            "a page holds 1 to 500 members",
        )]));
    }
    let offset = params.offset.unwrap_or(0);
    if i64::try_from(offset).is_err() {
        return Err(Problem::invalid(vec![FieldError::new(
            "offset",
            "must be at most 9223372036854775807",
        )]));
    }
    let members = app
        .segment_members(&who, segment_id(&id)?, offset, limit)
        .await?;
    Ok(Json(SegmentMembersBody {
        members: members.iter().map(UserBody::from).collect(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentReachBody {
    /// Active members with an e-mail address: a message reaches them.
    pub reached: u64,
    /// Active members without an address: left out.
    pub no_address: u64,
    /// Inactive members: left out, as the status rules say (their messages kept as
    /// suppressed).
    pub inactive: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentMessageInput {
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

#[utoipa::path(get, path = "/api/v1/segments/{id}/reach", tag = "segments",
    params(("id" = Uuid, Path, description = "The segment's id")),
    responses((status = 200, body = SegmentReachBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn reach(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<SegmentReachBody>, Problem> {
    let reach = app.segment_reach(&who, segment_id(&id)?).await?;
    Ok(Json(SegmentReachBody {
        reached: reach.reached,
        no_address: reach.no_address,
        inactive: reach.inactive,
    }))
}

#[utoipa::path(post, path = "/api/v1/segments/{id}/message", tag = "segments",
    request_body = SegmentMessageInput,
    params(("id" = Uuid, Path, description = "The segment's id")),
    responses((status = 201, body = WrittenBody), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn message(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SegmentMessageInput>,
) -> Result<Response, Problem> {
    let written = app
        .write_to_segment(&who, segment_id(&id)?, &body.subject, &body.body)
        .await?;
    Ok((StatusCode::CREATED, Json(WrittenBody::from(written))).into_response())
}

#[utoipa::path(get, path = "/api/v1/messages/everyone/reach", tag = "segments",
    responses((status = 200, body = SegmentReachBody), (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn everyone_reach(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<SegmentReachBody>, Problem> {
    let reach = app.everyone_reach(&who).await?;
    Ok(Json(SegmentReachBody {
        reached: reach.reached,
        no_address: reach.no_address,
        inactive: reach.inactive,
    }))
}

#[utoipa::path(post, path = "/api/v1/messages/everyone", tag = "segments",
    request_body = SegmentMessageInput,
    responses((status = 201, body = WrittenBody), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn message_everyone(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<SegmentMessageInput>,
) -> Result<Response, Problem> {
    let written = app
        .write_to_everyone(&who, &body.subject, &body.body)
        .await?;
    Ok((StatusCode::CREATED, Json(WrittenBody::from(written))).into_response())
}
