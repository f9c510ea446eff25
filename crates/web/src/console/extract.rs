//! Who is visiting: the session behind the cookie, checked against the database at every
//! request; and the CSRF check every change must pass.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use rollcall_app::{App, Visitor, csrf_matches};
use rollcall_domain::Role;

use super::pages::{Chrome, MessagePage};
use super::{SESSION_COOKIE, render};

/// Paths a user who must change their password may still reach.
const ALLOWED_BEFORE_PASSWORD_CHANGE: &[&str] = &["/account", "/account/password", "/sign-out"];

/// What a page says after a redirect, by the `notice` its address carries: a fixed sentence per
/// known code, so that no address can make the console say anything else.
const NOTICES: &[(&str, &str)] = &[(
    "password_changed",
    "Your new password is set. Use it the next time you sign in.",
)];

/// Where to go after `what` is done, with the page saying so.
pub fn with_notice(path: &str, what: &str) -> String {
    format!("{path}?notice={what}")
}

fn notice(query: Option<&str>) -> Option<&'static str> {
    let code = query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("notice="))?;
    NOTICES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, sentence)| *sentence)
}

/// A signed-in visitor, with what every page's frame shows.
pub struct SignedIn {
    pub visitor: Visitor,
    pub chrome: Chrome,
}

pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// For htmx, shows `response` (a form with its error) in the dialog instead of the row.
pub fn in_dialog(headers: &HeaderMap, mut response: Response) -> Response {
    if is_htmx(headers) {
        let headers = response.headers_mut();
        headers.insert("hx-retarget", HeaderValue::from_static("#dialog"));
        headers.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
    }
    response
}

/// Sends the browser to `to`: a redirect, or for htmx an `HX-Redirect` it follows.
pub fn go_to(headers: &HeaderMap, to: &str) -> Response {
    if is_htmx(headers) {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(value) = HeaderValue::from_str(to) {
            response.headers_mut().insert("hx-redirect", value);
        }
        response
    } else {
        Redirect::to(to).into_response()
    }
}

impl FromRequestParts<App> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(go_to(&parts.headers, "/sign-in"));
        };
        let visitor = match app.visitor(cookie.value()).await {
            Ok(visitor) => visitor,
            Err(rollcall_app::AppError::Unauthenticated) => {
                return Err(go_to(&parts.headers, "/sign-in?expired=1"));
            }
            Err(err) => {
                crate::failure::log(&err);
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response());
            }
        };
        if visitor.user.must_change_password()
            && !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path())
        {
            return Err(go_to(&parts.headers, "/account"));
        }
        let org_name = match app.org(visitor.user.org_id()).await {
            Ok(org) => org.name.as_str().to_owned(),
            Err(_) => String::new(),
        };
        let chrome = Chrome {
            org_name,
            user_name: visitor.user.display_name(),
            is_admin: matches!(visitor.user.role(), Role::Admin),
            sees_rosters: matches!(visitor.user.role(), Role::Admin | Role::Teacher),
            csrf: visitor.session.csrf_token.clone(),
            flash: notice(parts.uri.query()).unwrap_or_default().to_owned(),
            bare: false,
        };
        Ok(Self { visitor, chrome })
    }
}

/// A signed-in admin; anyone else gets a 403 page.
pub struct Admin(pub SignedIn);

impl FromRequestParts<App> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, app).await?;
        if signed_in.chrome.is_admin {
            Ok(Self(signed_in))
        } else {
            let page = MessagePage::new(
                signed_in.chrome,
                "Administrators only",
                "This page is for administrators of your organisation.",
                "/account",
                "Go to your account",
            );
            Err((StatusCode::FORBIDDEN, render(&page)).into_response())
        }
    }
}

impl SignedIn {
    /// Refuses a change whose form field or `X-CSRF-Token` header does not carry this
    /// session's token.
    pub fn check_csrf(
        &self,
        headers: &HeaderMap,
        form_token: Option<&str>,
    ) -> Result<(), Response> {
        let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        let presented = form_token
            .filter(|t| !t.is_empty())
            .or(header)
            .unwrap_or_default();
        if csrf_matches(&self.visitor.session, presented) {
            return Ok(());
        }
        tracing::warn!(user.id = %self.visitor.user.id(), "a change without a valid CSRF token was refused");
        let page = MessagePage::new(
            self.chrome.clone(),
            "This form has expired",
            "The form did not carry a valid security token, so nothing was changed. Reload the page and try again.",
            "/",
            "Back",
        );
        Err((StatusCode::FORBIDDEN, render(&page)).into_response())
    }
}
