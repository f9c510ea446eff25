//! API authentication: `Authorization: Bearer <token>`, checked on every request.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rollcall_app::{App, Principal};

use super::Problem;
use super::error::from_app;

/// The caller behind a valid token whose user may still sign in.
pub struct ApiPrincipal(pub Principal);

impl FromRequestParts<App> for ApiPrincipal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                Problem::unauthenticated("send an API token as 'Authorization: Bearer <token>'")
            })?;
        app.authenticate_token(token)
            .await
            .map(Self)
            .map_err(|err| from_app(err, false))
    }
}
