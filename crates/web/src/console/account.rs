//! Signing in and out, the account page, and changing one's password.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::{CookieJar, Form};
use rollcall_app::{App, AppError};
use rollcall_domain::Role;
use rollcall_domain::token::same_secret;
use serde::Deserialize;

use super::extract::{SignedIn, go_to, with_notice};
use super::pages::{AccountPage, Chrome, SignInPage};
use super::{SESSION_COOKIE, SIGN_IN_CSRF_COOKIE, render};
use crate::Settings;

/// `/`: admins to the Users screen, everyone else to their account.
pub async fn home(signed_in: SignedIn) -> Redirect {
    Redirect::to(home_path(signed_in.visitor.user.role()))
}

fn home_path(role: Role) -> &'static str {
    match role {
        Role::Admin => "/users",
        Role::Teacher | Role::Staff | Role::Student => "/my/courses",
    }
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    expired: Option<String>,
    signed_out: Option<String>,
}

fn cookie(name: &'static str, value: String, settings: &Settings) -> Cookie<'static> {
    let mut cookie = Cookie::new(name, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(settings.secure_cookies);
    cookie.set_path("/");
    cookie
}

/// The sign-in page with a fresh double-submit token in its cookie.
fn sign_in_form(jar: CookieJar, settings: &Settings, page: &SignInPage) -> (CookieJar, Response) {
    let jar = jar.add(cookie(
        SIGN_IN_CSRF_COOKIE,
        page.form_csrf.clone(),
        settings,
    ));
    (jar, render(page))
}

pub async fn sign_in_page(
    State(app): State<App>,
    axum::Extension(settings): axum::Extension<Settings>,
    Query(query): Query<SignInQuery>,
    jar: CookieJar,
) -> Response {
    let only_org = app.only_org_slug().await.ok().flatten();
    let notice = if query.expired.is_some() {
        "Your session has ended. Sign in again to continue."
    } else if query.signed_out.is_some() {
        "You have signed out."
    } else {
        ""
    };
    let form_csrf = match app.sign_in_form_token().await {
        Ok(token) => token,
        Err(err) => return super::errors::failure(&err),
    };
    let page = SignInPage {
        chrome: Chrome::default(),
        form_csrf,
        show_org: only_org.is_none(),
        org: only_org.unwrap_or_default(),
        login: String::new(),
        error: String::new(),
        notice: notice.to_owned(),
    };
    let (jar, body) = sign_in_form(jar, &settings, &page);
    (jar, body).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// Whether a request came from a page of another site: the browser says so (`Sec-Fetch-Site`),
/// or its `Origin` names another host than the one it was sent to.
fn from_another_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    match (text("origin"), text("host")) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, rest)| rest) != Some(host),
        _ => false,
    }
}

pub async fn sign_in(
    State(app): State<App>,
    axum::Extension(settings): axum::Extension<Settings>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = jar
        .get(SIGN_IN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let only_org = app.only_org_slug().await.ok().flatten();
    let form_csrf = match app.sign_in_form_token().await {
        Ok(token) => token,
        Err(err) => return super::errors::failure(&err),
    };
    let again = |error: &str| SignInPage {
        chrome: Chrome::default(),
        form_csrf: form_csrf.clone(),
        show_org: only_org.is_none(),
        org: form.org.clone(),
        login: form.login.clone(),
        error: error.to_owned(),
        notice: String::new(),
    };
    // The cookie and the field must agree, and the token must be one this deployment signed
    // (an attacker can plant a cookie of their own but cannot sign one); and the form must be
    // posted from this site's own page (a signed token fetched by an attacker and planted in a
    // victim's browser is still posted from the attacker's page).
    let genuine = !from_another_site(&headers)
        && !expected.is_empty()
        && same_secret(&expected, &form.csrf)
        && app
            .sign_in_form_token_is_good(&form.csrf)
            .await
            .unwrap_or(false);
    if !genuine {
        let page = again("This form has expired. Please sign in again.");
        let (jar, body) = sign_in_form(jar, &settings, &page);
        return (StatusCode::FORBIDDEN, jar, body).into_response();
    }
    match app
        .sign_in(
            &form.org,
            &form.login,
            &form.password,
            &crate::client_address(client.ip(), &headers, &settings.trusted_proxies).to_string(),
        )
        .await
    {
        Ok(signed_in) => {
            let jar = jar.remove(Cookie::from(SIGN_IN_CSRF_COOKIE)).add(cookie(
                SESSION_COOKIE,
                signed_in.cookie,
                &settings,
            ));
            (jar, Redirect::to("/")).into_response()
        }
        Err(err) => {
            let retry_after = err.retry_after_secs();
            let (status, message) = match err {
                AppError::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    "That username or e-mail and password do not match. Check them and try again.".to_owned(),
                ),
                AppError::AccountClosed => (
                    StatusCode::FORBIDDEN,
                    "This account is not active, so it cannot sign in. Ask your administrator if you need access.".to_owned(),
                ),
                other => super::errors::explain(&other),
            };
            let (jar, body) = sign_in_form(jar, &settings, &again(&message));
            let mut response = (status, jar, body).into_response();
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn sign_out(
    State(app): State<App>,
    headers: HeaderMap,
    jar: CookieJar,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    if let Err(err) = app.sign_out(&signed_in.visitor).await {
        crate::failure::log(&err);
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, go_to(&headers, "/sign-in?signed_out=1")).into_response()
}

fn account_view(signed_in: SignedIn, saved: &str, error: &str) -> AccountPage {
    let user = &signed_in.visitor.user;
    AccountPage {
        forced: user.must_change_password(),
        name: user.display_name(),
        login: user.login().to_owned(),
        role: user.role().as_str().to_owned(),
        saved: saved.to_owned(),
        error: error.to_owned(),
        chrome: signed_in.chrome,
    }
}

pub async fn account_page(signed_in: SignedIn) -> Response {
    render(&account_view(signed_in, "", ""))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change_password(
    State(app): State<App>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    if form.new_password != form.confirm_password {
        let page = account_view(
            signed_in,
            "",
            "The two new passwords differ. Type the same one twice.",
        );
        return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
    }
    let was_forced = signed_in.visitor.user.must_change_password();
    match app
        .change_own_password(
            &signed_in.visitor,
            &form.current_password,
            &form.new_password,
        )
        .await
    {
        Ok(user) if was_forced => {
            Redirect::to(&with_notice(home_path(user.role()), "password_changed")).into_response()
        }
        Ok(user) => {
            let mut signed_in = signed_in;
            signed_in.visitor.user = user;
            render(&account_view(
                signed_in,
                "Your password has been changed.",
                "",
            ))
        }
        Err(err) => {
            let (status, message) = super::errors::explain(&err);
            let page = account_view(signed_in, "", &message);
            (status, render(&page)).into_response()
        }
    }
}
