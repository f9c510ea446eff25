//! SCIM connections as admins manage them through the API: each with its tokens (a secret is
//! shown once, when made) and its last requests. The SCIM protocol itself is served under
//! `/scim/v2` (docs/scim.md).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rollcall_app::{App, Connection, NewConnection, ScimRequestLine};
use rollcall_domain::TokenId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::ApiPrincipal;
use super::error::Problem;
use super::extract::ApiJson;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScimTokenBody {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScimConnectionBody {
    pub name: String,
    /// Where people's roles are read from.
    pub role_attribute: String,
    pub requests_per_minute: u32,
    /// A paused connection's requests are refused (resume it as a source).
    pub paused: bool,
    /// The path its identity provider is given, after Rollcall's address.
    pub base_path: String,
    pub tokens: Vec<ScimTokenBody>,
}

impl From<&Connection> for ScimConnectionBody {
    fn from(c: &Connection) -> Self {
        Self {
            name: c.source.name.as_str().to_owned(),
            role_attribute: c.settings.role_attribute.clone(),
            requests_per_minute: c.settings.requests_per_minute,
            paused: c.source.paused,
            base_path: "/scim/v2".to_owned(),
            tokens: c
                .tokens
                .iter()
                .map(|t| ScimTokenBody {
                    id: t.id.as_uuid(),
                    name: t.name.clone(),
                    created_at: t.created_at,
                    last_used_at: t.last_used_at,
                    revoked_at: t.revoked_at,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScimConnectionListBody {
    pub connections: Vec<ScimConnectionBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScimConnectionBody {
    /// The name its people carry as their source (`okta`, `entra`): 1 to 64 of a-z, 0-9, `-`,
    /// `_`, `.` and `:` (kept in lower case; not `manual`).
    #[schema(pattern = r"^\s*[A-Za-z0-9._:-]{1,64}\s*$")]
    name: String,
    /// `userType` (the default), `title`, `roles`, `department`, `division`, `organization`
    /// or `costCenter`, in any case.
    #[schema(
        pattern = r"^\s*([Uu][Ss][Ee][Rr][Tt][Yy][Pp][Ee]|[Tt][Ii][Tt][Ll][Ee]|[Rr][Oo][Ll][Ee][Ss]|[Dd][Ee][Pp][Aa][Rr][Tt][Mm][Ee][Nn][Tt]|[Dd][Ii][Vv][Ii][Ss][Ii][Oo][Nn]|[Oo][Rr][Gg][Aa][Nn][Ii][Zz][Aa][Tt][Ii][Oo][Nn]|[Cc][Oo][Ss][Tt][Cc][Ee][Nn][Tt][Ee][Rr])\s*$"
    )]
    role_attribute: Option<String>,
    /// 12,000 unless given (1 to 1,000,000).
    #[schema(minimum = 1, maximum = 1_000_000)]
    requests_per_minute: Option<u32>,
    /// The first token's name (`default` unless given): 1 to 60 characters.
    #[schema(
        min_length = 1,
        max_length = 60,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    token_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MadeScimConnectionBody {
    pub connection: ScimConnectionBody,
    /// The first token's secret: shown this once.
    pub token: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScimTokenBody {
    /// 1 to 60 characters (`default` unless given).
    #[schema(
        min_length = 1,
        max_length = 60,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MadeScimTokenBody {
    pub id: Uuid,
    pub name: String,
    /// The secret: shown this once.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScimRequestBody {
    pub at: DateTime<Utc>,
    /// The id its changes carry in people's histories.
    pub request: Uuid,
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScimRequestListBody {
    /// Newest first; the last fifty seen by the server that answers.
    pub requests: Vec<ScimRequestBody>,
}

impl From<&ScimRequestLine> for ScimRequestBody {
    fn from(line: &ScimRequestLine) -> Self {
        Self {
            at: line.at,
            request: line.request.as_uuid(),
            method: line.method.clone(),
            path: line.path.clone(),
            status: line.status,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/scim-connections", tag = "scim",
    responses((status = 200, body = ScimConnectionListBody), (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn list(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<ScimConnectionListBody>, Problem> {
    let connections = app.scim_connections(&who).await?;
    Ok(Json(ScimConnectionListBody {
        connections: connections.iter().map(ScimConnectionBody::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/scim-connections", tag = "scim",
    request_body = NewScimConnectionBody,
    responses((status = 201, body = MadeScimConnectionBody), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "Another source of the org has this name"),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn add(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<NewScimConnectionBody>,
) -> Result<Response, Problem> {
    let (connection, token) = app
        .add_scim_connection(
            &who,
            NewConnection {
                name: body.name,
                role_attribute: body.role_attribute,
                requests_per_minute: body.requests_per_minute,
                token_name: body.token_name,
            },
        )
        .await?;
    let made = MadeScimConnectionBody {
        connection: ScimConnectionBody::from(&connection),
        token,
    };
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

#[utoipa::path(get, path = "/api/v1/scim-connections/{name}", tag = "scim",
    params(("name" = String, Path, description = "The connection's name")),
    responses((status = 200, body = ScimConnectionBody), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn show(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(name): Path<String>,
) -> Result<Json<ScimConnectionBody>, Problem> {
    let connection = app.scim_connection(&who, &name).await?;
    Ok(Json(ScimConnectionBody::from(&connection)))
}

#[utoipa::path(post, path = "/api/v1/scim-connections/{name}/tokens", tag = "scim",
    request_body = NewScimTokenBody,
    params(("name" = String, Path, description = "The connection's name")),
    responses((status = 201, body = MadeScimTokenBody), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn add_token(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<NewScimTokenBody>,
) -> Result<Response, Problem> {
    let (token, secret) = app
        .create_scim_token(&who, &name, body.name.as_deref())
        .await?;
    let made = MadeScimTokenBody {
        id: token.id.as_uuid(),
        name: token.name,
        token: secret,
    };
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/scim-connections/{name}/tokens/{id}", tag = "scim",
    params(("name" = String, Path, description = "The connection's name"),
        ("id" = Uuid, Path, description = "The token's id")),
    responses((status = 204), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn revoke_token(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    // A malformed id names no token: 404, as another connection's token would be.
    let id = id
        .parse::<Uuid>()
        .map_err(|_| Problem::not_found("token"))?;
    app.revoke_scim_token(&who, &name, TokenId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/scim-connections/{name}/requests", tag = "scim",
    params(("name" = String, Path, description = "The connection's name")),
    responses((status = 200, body = ScimRequestListBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn requests(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(name): Path<String>,
) -> Result<Json<ScimRequestListBody>, Problem> {
    let lines = app.scim_requests(&who, &name).await?;
    Ok(Json(ScimRequestListBody {
        requests: lines.iter().map(ScimRequestBody::from).collect(),
    }))
}
