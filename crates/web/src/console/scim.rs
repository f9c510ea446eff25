//! SCIM connections in the console: connecting an identity provider, its tokens (each shown
//! once), the people it manages and its last requests.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, ListUsers, NewConnection};
use rollcall_domain::TokenId;
use serde::Deserialize;

use super::errors::failure_page;
use super::extract::{Admin, SignedIn};
use super::pages::{RequestLine, ScimConnectionPage, TokenLine};
use super::render;

/// The pages of SCIM connections.
pub fn routes() -> axum::Router<App> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/scim-connections", post(add))
        .route("/scim-connections/{name}", get(show))
        .route("/scim-connections/{name}/tokens", post(add_token))
        .route("/scim-connections/{name}/tokens/{id}/revoke", post(revoke))
}

fn minute(at: rollcall_domain::Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

fn failure(signed_in: &SignedIn, err: &rollcall_app::AppError, back: &str) -> Response {
    failure_page(signed_in.chrome.clone(), err, back, "Back")
}

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
}

/// The connection's page; `secret` is a token just made.
async fn page(
    app: &App,
    signed_in: SignedIn,
    headers: &HeaderMap,
    name: &str,
    secret: String,
    notice: &str,
) -> Response {
    let who = &signed_in.visitor.principal;
    let connection = match app.scim_connection(who, name).await {
        Ok(connection) => connection,
        Err(err) => return failure(&signed_in, &err, "/sources"),
    };
    let requests = app.scim_requests(who, name).await.unwrap_or_default();
    let mut counts = [0u64; 3];
    for (i, status) in ["active", "inactive", "archived"].into_iter().enumerate() {
        let query = ListUsers {
            status: Some(status.to_owned()),
            source: Some(connection.source.name.as_str().to_owned()),
            ..ListUsers::default()
        };
        counts[i] = app.count_users(who, &query, 1_000_000).await.unwrap_or(0);
    }
    render(&ScimConnectionPage {
        chrome: signed_in.chrome,
        name: connection.source.name.as_str().to_owned(),
        paused: connection.source.paused,
        base_url: format!("{}/scim/v2", crate::public_origin(headers)),
        role_attribute: connection.settings.role_attribute.clone(),
        requests_per_minute: connection.settings.requests_per_minute,
        secret,
        notice: notice.to_owned(),
        tokens: connection
            .tokens
            .iter()
            .map(|t| TokenLine {
                id: t.id.to_string(),
                name: t.name.clone(),
                made: minute(t.created_at),
                last_used: t.last_used_at.map(minute).unwrap_or_default(),
                revoked: t.revoked_at.map(minute).unwrap_or_default(),
            })
            .collect(),
        requests: requests
            .iter()
            .map(|r| RequestLine {
                when: minute(r.at),
                method: r.method.clone(),
                path: r.path.clone(),
                status: r.status,
                outcome: StatusCode::from_u16(r.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or(""),
                ok: r.status < 400,
                id: r.request.to_string(),
            })
            .collect(),
        active: counts[0],
        inactive: counts[1],
        archived: counts[2],
    })
}

pub async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("revoked") => "Token revoked: requests sending it are refused.",
        _ => "",
    };
    page(&app, signed_in, &headers, &name, String::new(), notice).await
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role_attribute: String,
}

/// Adds a connection and shows its first token.
pub async fn add(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<AddForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let new = NewConnection {
        name: form.name,
        role_attribute: Some(form.role_attribute).filter(|r| !r.is_empty()),
        ..NewConnection::default()
    };
    match app
        .add_scim_connection(&signed_in.visitor.principal, new)
        .await
    {
        Ok((connection, secret)) => {
            let name = connection.source.name.as_str().to_owned();
            page(
                &app,
                signed_in,
                &headers,
                &name,
                secret,
                "Connection added.",
            )
            .await
        }
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    token_name: String,
}

/// Makes another token and shows it, once.
pub async fn add_token(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let token_name = Some(form.token_name.trim()).filter(|n| !n.is_empty());
    match app
        .create_scim_token(&signed_in.visitor.principal, &name, token_name)
        .await
    {
        Ok((_, secret)) => page(&app, signed_in, &headers, &name, secret, "Token made.").await,
        Err(err) => failure(&signed_in, &err, &format!("/scim-connections/{name}")),
    }
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn revoke(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path((name, id)): Path<(String, String)>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let back = format!("/scim-connections/{name}");
    let Ok(id) = id.parse::<TokenId>() else {
        return failure(
            &signed_in,
            &rollcall_app::AppError::NotFound("token"),
            &back,
        );
    };
    match app
        .revoke_scim_token(&signed_in.visitor.principal, &name, id)
        .await
    {
        Ok(()) => axum::response::Redirect::to(&format!("{back}?done=revoked")).into_response(),
        Err(err) => failure(&signed_in, &err, &back),
    }
}
