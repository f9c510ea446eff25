//! The Users screen, the edit dialog and a user's page: what they share.

pub mod edit;
pub mod list;
pub mod new;
pub mod profile;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rollcall_app::{App, AppError, CreateUser, EditUser};
use rollcall_domain::{ListFilter, Role, User, UserId, rules};
use serde::Deserialize;

use super::extract::SignedIn;
use super::pages::{MessagePage, Row, RowAction, RowPartial, UserForm};
use super::render;

pub fn role_names() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

/// A user's row, as the rules say to show it.
pub fn row(user: &User) -> Row {
    let shown = rules::presentation(user.status());
    let switch = shown
        .switch
        .and_then(|to| rules::admin_transition(user.status(), to));
    Row {
        id: user.id().to_string(),
        name: user.display_name(),
        sort_name: format!(
            "{}, {}",
            user.family_name().as_str(),
            user.given_name().as_str()
        ),
        login: user.login().to_owned(),
        role: user.role().as_str().to_owned(),
        source: user.source().as_str().to_owned(),
        status_label: shown.label,
        badge: shown.badge,
        signs_in: user.may_sign_in(),
        switch_to: switch.map(|t| t.to.as_str()),
        switch_verb: switch.map_or("", |t| t.verb),
        actions: user
            .admin_transitions()
            .iter()
            .map(|t| RowAction {
                to: t.to.as_str(),
                verb: t.verb,
            })
            .collect(),
    }
}

/// A row rendered alone, or nothing when the user no longer belongs under `back`'s filter.
pub fn row_html(user: &User, back: &str, oob: bool) -> String {
    if !rules::shown_under(user.status(), filter_of(back)) {
        return String::new();
    }
    let partial = RowPartial {
        row: row(user),
        back: back.to_owned(),
        oob,
    };
    askama::Template::render(&partial).unwrap_or_else(|err| {
        tracing::error!(error = %err, "a user row failed to render");
        String::new()
    })
}

/// The status filter a Users-screen address shows (Active when it names none).
pub fn filter_of(back: &str) -> ListFilter {
    back.split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("status="))
        .and_then(|value| value.parse().ok())
        .unwrap_or_default()
}

/// Only addresses within the Users screen are followed back to.
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with("/users") && !b.starts_with("//") => b.to_owned(),
        _ => "/users".to_owned(),
    }
}

pub fn user_form(user: &User) -> UserForm {
    UserForm {
        version: user.version(),
        given_name: user.given_name().as_str().to_owned(),
        family_name: user.family_name().as_str().to_owned(),
        username: user
            .username()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default(),
        email: user
            .email()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        role: user.role().as_str().to_owned(),
        active: user.may_sign_in(),
        prevent_archiving: user.prevent_archiving(),
    }
}

/// The user `id` of the visitor's org, or the page to answer with instead.
pub async fn load(app: &App, signed_in: &SignedIn, id: &str) -> Result<User, Response> {
    let id: UserId = id.parse().map_err(|_| not_found(signed_in))?;
    match app.user(&signed_in.visitor.principal, id).await {
        Ok(user) => Ok(user),
        Err(AppError::NotFound(_)) => Err(not_found(signed_in)),
        Err(err) => Err(failure_page(signed_in, &err)),
    }
}

/// The page for a user id that names nobody in the visitor's org.
pub fn not_found(signed_in: &SignedIn) -> Response {
    let page = MessagePage::new(
        signed_in.chrome.clone(),
        "No such user",
        "That user does not exist in your organisation.",
        "/users",
        "Back to users",
    );
    (StatusCode::NOT_FOUND, render(&page)).into_response()
}

/// A page saying why a request failed.
pub fn failure_page(signed_in: &SignedIn, err: &AppError) -> Response {
    super::errors::failure_page(signed_in.chrome.clone(), err, "/users", "Back to users")
}

/// What every change to one user starts with: the form's CSRF token, then the user.
pub async fn load_for_change(
    app: &App,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
) -> Result<User, Response> {
    signed_in.check_csrf(headers, Some(csrf))?;
    load(app, signed_in, id).await
}

/// The details form of the edit dialog and of a user's page.
#[derive(Debug, Deserialize, Default)]
pub struct DetailsForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    pub active: Option<String>,
    prevent_archiving: Option<String>,
    #[serde(default)]
    pub temporary_password: String,
    /// Why the status changes, when the Active switch moved.
    #[serde(default)]
    pub reason: String,
    back: Option<String>,
}

impl DetailsForm {
    pub fn edit(&self, with_prevent_archiving: bool) -> EditUser {
        let optional = |v: &str| Some(Some(v.trim().to_owned()).filter(|v| !v.is_empty()));
        EditUser {
            version: Some(self.version),
            username: optional(&self.username),
            email: optional(&self.email),
            given_name: Some(self.given_name.clone()),
            family_name: Some(self.family_name.clone()),
            role: Some(self.role.clone()),
            external_id: None,
            prevent_archiving: with_prevent_archiving.then_some(self.prevent_archiving.is_some()),
            attributes: None,
        }
    }

    /// A new user of these details, added by hand.
    pub fn create(&self) -> CreateUser {
        let optional = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        CreateUser {
            username: optional(&self.username),
            email: optional(&self.email),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            role: self.role.clone(),
            prevent_archiving: Some(self.prevent_archiving.is_some()),
            ..CreateUser::default()
        }
    }

    /// The form as typed, to show again with an error.
    pub fn as_form(&self) -> UserForm {
        UserForm {
            version: self.version,
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            role: self.role.clone(),
            active: self.active.is_some(),
            prevent_archiving: self.prevent_archiving.is_some(),
        }
    }
}
