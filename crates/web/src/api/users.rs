//! `/api/v1/users`: list, create, read, edit, change status, history.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rollcall_app::{App, BulkChange, ChangeStatus, CreateUser, EditUser, ListUsers};
use rollcall_domain::{AuditEvent, User, UserId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Problem;
use super::auth::ApiPrincipal;
use super::error::from_app;
use super::extract::{ApiJson, ApiQuery, IfMatch, user_id};

/// A user as the API shows it. The password hash never leaves the server.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    pub username: Option<String>,
    pub email: Option<String>,
    pub given_name: String,
    pub family_name: String,
    /// `admin`, `teacher`, `staff` or `student`.
    pub role: String,
    /// `active`, `inactive` or `archived`.
    pub status: String,
    /// `manual`, or the provisioning source managing the user.
    pub source: String,
    pub external_id: Option<String>,
    pub prevent_archiving: bool,
    pub must_change_password: bool,
    pub attributes: BTreeMap<String, String>,
    /// Send it back (body or `If-Match`) with an edit.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id().as_uuid(),
            username: user.username().map(|u| u.as_str().to_owned()),
            email: user.email().map(|e| e.as_str().to_owned()),
            given_name: user.given_name().as_str().to_owned(),
            family_name: user.family_name().as_str().to_owned(),
            role: user.role().as_str().to_owned(),
            status: user.status().as_str().to_owned(),
            source: user.source().as_str().to_owned(),
            external_id: user.external_id().map(|e| e.as_str().to_owned()),
            prevent_archiving: user.prevent_archiving(),
            must_change_password: user.must_change_password(),
            attributes: user.attributes().to_map(),
            version: user.version(),
            created_at: user.created_at(),
            updated_at: user.updated_at(),
            status_changed_at: user.status_changed_at(),
        }
    }
}

/// One user, with its version as the ETag.
fn user_response(status: StatusCode, user: &User) -> Response {
    let mut response = (status, Json(UserBody::from(user))).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", user.version())) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `active` (default), `inactive`, `archived`, or `all` (active and inactive), in any case.
    #[param(
        pattern = r"^(\s*([Aa][Cc][Tt][Ii][Vv][Ee]|[Ii][Nn][Aa][Cc][Tt][Ii][Vv][Ee]|[Aa][Rr][Cc][Hh][Ii][Vv][Ee][Dd]|[Aa][Ll][Ll])\s*)?$"
    )]
    status: Option<String>,
    /// `student`, `teacher`, `staff` or `admin`, in any case; blank for every role.
    #[param(
        pattern = r"^(\s*([Ss][Tt][Uu][Dd][Ee][Nn][Tt]|[Tt][Ee][Aa][Cc][Hh][Ee][Rr]|[Ss][Tt][Aa][Ff][Ff]|[Aa][Dd][Mm][Ii][Nn])\s*)?$"
    )]
    role: Option<String>,
    /// A source's name; blank for every source.
    #[param(pattern = r"^(\s*[A-Za-z0-9._:-]{1,64}\s*)?$")]
    source: Option<String>,
    /// Words that must each begin the given name, family name, username or e-mail (case and
    /// accents ignored). Blank means no search. A search with no letter or digit in it (only
    /// `%`, `*`, `_`, punctuation or invisible characters) is refused with 422 naming `q`,
    /// rather than listing everyone.
    q: Option<String>,
    /// `family_name` (default), `given_name`, `created` or `status_changed`; `-` first reverses.
    #[param(pattern = r"^\s*-?(family_name|given_name|created|status_changed)?\s*$")]
    sort: Option<String>,
    /// 1 to 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserListBody {
    pub users: Vec<UserBody>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListParams),
    responses((status = 200, body = UserListBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn list(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<UserListBody>, Problem> {
    let input = ListUsers {
        status: params.status,
        role: params.role,
        source: params.source,
        q: params.q,
        sort: params.sort,
        limit: params.limit,
        cursor: params.cursor,
    };
    let page = app.list_users(&who, input).await?;
    Ok(Json(UserListBody {
        users: page.users.iter().map(UserBody::from).collect(),
        next: page.next,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    username: Option<String>,
    email: Option<String>,
    given_name: String,
    family_name: String,
    /// `student`, `teacher`, `staff` or `admin` (in any case).
    #[schema(
        pattern = r"^\s*([Ss][Tt][Uu][Dd][Ee][Nn][Tt]|[Tt][Ee][Aa][Cc][Hh][Ee][Rr]|[Ss][Tt][Aa][Ff][Ff]|[Aa][Dd][Mm][Ii][Nn])\s*$"
    )]
    role: String,
    /// `manual` unless given.
    source: Option<String>,
    external_id: Option<String>,
    /// On by default for users made by hand, off for provisioned ones.
    prevent_archiving: Option<bool>,
    /// An initial password (10 characters or more).
    password: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserBody,
    responses((status = 201, body = UserBody), (status = 400, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn create(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> Result<Response, Problem> {
    let input = CreateUser {
        username: body.username,
        email: body.email,
        given_name: body.given_name,
        family_name: body.family_name,
        role: body.role,
        source: body.source,
        external_id: body.external_id,
        prevent_archiving: body.prevent_archiving,
        password: body.password,
        attributes: body.attributes,
    };
    let user = app.create_user(&who, input).await?;
    let mut response = user_response(StatusCode::CREATED, &user);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/users/{}", user.id())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = UserBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn show(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let user = app.user(&who, user_id(&id)?).await?;
    Ok(user_response(StatusCode::OK, &user))
}

/// Present-and-null becomes `Some(None)`; absent stays `None` (via `#[serde(default)]`).
pub(super) fn nullable<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditUserBody {
    /// The version you read; or send it as `If-Match`.
    version: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    username: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    given_name: Option<String>,
    family_name: Option<String>,
    /// `student`, `teacher`, `staff` or `admin` (in any case).
    #[schema(
        pattern = r"^\s*([Ss][Tt][Uu][Dd][Ee][Nn][Tt]|[Tt][Ee][Aa][Cc][Hh][Ee][Rr]|[Ss][Tt][Aa][Ff][Ff]|[Aa][Dd][Mm][Ii][Nn])\s*$"
    )]
    role: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    external_id: Option<Option<String>>,
    prevent_archiving: Option<bool>,
    /// Replaces all attributes.
    attributes: Option<BTreeMap<String, String>>,
}

/// The version a write names: the body's, else `If-Match`'s (and whether it came from there).
fn version_of(body: Option<i64>, if_match: &IfMatch) -> (Option<i64>, bool) {
    match (body, if_match.0) {
        (Some(v), _) => (Some(v), false),
        (None, Some(v)) => (Some(v), true),
        (None, None) => (None, false),
    }
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = EditUserBody,
    params(("id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read, instead of `version`",
            pattern = r#"^\s*(W/)?"?-?[0-9]{1,18}"?\s*$"#)),
    responses((status = 200, body = UserBody), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn edit(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<EditUserBody>,
) -> Result<Response, Problem> {
    let id = user_id(&id)?;
    let (version, via_if_match) = version_of(body.version, &if_match);
    let input = EditUser {
        version,
        username: body.username,
        email: body.email,
        given_name: body.given_name,
        family_name: body.family_name,
        role: body.role,
        external_id: body.external_id,
        prevent_archiving: body.prevent_archiving,
        attributes: body.attributes,
    };
    let user = app
        .edit_user(&who, id, input)
        .await
        .map_err(|err| from_app(err, via_if_match))?;
    Ok(user_response(StatusCode::OK, &user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `active`, `inactive` or `archived` (in any case).
    #[schema(
        pattern = r"^\s*([Aa][Cc][Tt][Ii][Vv][Ee]|[Ii][Nn][Aa][Cc][Tt][Ii][Vv][Ee]|[Aa][Rr][Cc][Hh][Ii][Vv][Ee][Dd])\s*$"
    )]
    status: String,
    /// Why, for the history.
    reason: Option<String>,
    /// Needed when a user without e-mail gets sign-in back; they must change it at sign-in.
    temporary_password: Option<String>,
    /// Let Rollcall choose the temporary password; it is returned once.
    #[serde(default)]
    generate_temporary_password: bool,
    /// Refuse the change if the user has moved past this version (or send `If-Match`).
    version: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusChangedBody {
    pub user: UserBody,
    /// The temporary password Rollcall chose, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/status", tag = "users", request_body = StatusBody,
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = StatusChangedBody), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn change_status(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, Problem> {
    let id = user_id(&id)?;
    let (version, via_if_match) = version_of(body.version, &if_match);
    let input = ChangeStatus {
        status: body.status,
        reason: body.reason,
        temporary_password: body.temporary_password,
        generate_temporary_password: body.generate_temporary_password,
        version,
    };
    let changed = app
        .change_status(&who, id, input)
        .await
        .map_err(|err| from_app(err, via_if_match))?;
    let mut headers = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", changed.user.version())) {
        headers.insert(header::ETAG, etag);
    }
    let body = StatusChangedBody {
        user: UserBody::from(&changed.user),
        temporary_password: changed.temporary_password,
    };
    Ok((headers, Json(body)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkStatusBody {
    /// The users to move (at most 500).
    ids: Vec<Uuid>,
    /// `active`, `inactive` or `archived` (in any case).
    #[schema(
        pattern = r"^\s*([Aa][Cc][Tt][Ii][Vv][Ee]|[Ii][Nn][Aa][Cc][Tt][Ii][Vv][Ee]|[Aa][Rr][Cc][Hh][Ii][Vv][Ee][Dd])\s*$"
    )]
    status: String,
    /// Why, for each user's history.
    reason: Option<String>,
}

/// What a bulk change did, user by user. It happened in one transaction: every user in
/// `changed` moved, and nobody else did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkStatusChangedBody {
    pub changed: Vec<StatusChangedBody>,
    pub left_out: Vec<LeftOutBody>,
}

/// A user a bulk change left as they were.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeftOutBody {
    pub id: Uuid,
    /// Their name, when they exist in the org.
    pub name: Option<String>,
    /// Why they were left out.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/users/status", tag = "users", request_body = BulkStatusBody,
    responses((status = 200, body = BulkStatusChangedBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn change_statuses(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<BulkStatusBody>,
) -> Result<Json<BulkStatusChangedBody>, Problem> {
    let to = body
        .status
        .parse()
        .map_err(|err| Problem::invalid(vec![err]))?;
    let input = BulkChange {
        ids: body.ids.into_iter().map(UserId::from_uuid).collect(),
        to,
        reason: body.reason,
    };
    let outcome = app.bulk_change_status(&who, input).await?;
    Ok(Json(BulkStatusChangedBody {
        changed: outcome
            .changed
            .into_iter()
            .map(|done| StatusChangedBody {
                user: UserBody::from(&done.user),
                temporary_password: done.temporary_password,
            })
            .collect(),
        left_out: outcome
            .left_out
            .into_iter()
            .map(|left| LeftOutBody {
                id: left.id.as_uuid(),
                name: left.name,
                reason: left.why,
            })
            .collect(),
    }))
}

/// One entry of a user's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventBody {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// `created`, `updated`, `status_changed` or `tokens_revoked` (with a change that ended
    /// sign-in).
    pub action: String,
    pub actor: ActorBody,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: Option<String>,
    /// The fields an update changed.
    pub changed_fields: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActorBody {
    /// `user` (the console), `token` (the API), `source` (a provisioning source), `scim` (a
    /// SCIM connection) or `system` (Rollcall itself, or an operator at the command line).
    pub kind: String,
    /// The person: the console user, or the token's owner.
    pub user_id: Option<Uuid>,
    /// The token's, or the source's, id.
    pub id: Option<Uuid>,
    pub label: String,
    /// The import run, or the SCIM request, that made the change.
    pub run_id: Option<Uuid>,
}

impl From<&AuditEvent> for EventBody {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.as_uuid(),
            at: event.at,
            action: event.action.as_str().to_owned(),
            actor: {
                let actor = event.actor.to_stored();
                ActorBody {
                    kind: actor.kind,
                    user_id: actor.user_id.map(|id| id.as_uuid()),
                    id: actor.actor_id,
                    label: actor.label,
                    run_id: actor.run_id.map(|id| id.as_uuid()),
                }
            },
            from_status: event.from_status.map(|s| s.as_str().to_owned()),
            to_status: event.to_status.map(|s| s.as_str().to_owned()),
            reason: event.reason.as_ref().map(|r| r.as_str().to_owned()),
            changed_fields: event.changed_fields.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventListBody {
    /// Oldest first.
    pub events: Vec<EventBody>,
}

#[utoipa::path(get, path = "/api/v1/users/{id}/events", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = EventListBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn events(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<EventListBody>, Problem> {
    let events = app.user_events(&who, user_id(&id)?).await?;
    Ok(Json(EventListBody {
        events: events.iter().map(EventBody::from).collect(),
    }))
}
