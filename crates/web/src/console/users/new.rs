//! Adding a user by hand, and giving one a temporary password.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use rollcall_app::App;
use rollcall_domain::Source;
use serde::Deserialize;

use super::profile::{changed_page, profile_page};
use super::{DetailsForm, load_for_change, role_names, user_form};
use crate::console::errors::explain;
use crate::console::extract::{Admin, SignedIn};
use crate::console::pages::{NewUserPage, UserForm};
use crate::console::render;

fn new_page(signed_in: &SignedIn, form: UserForm, error: String) -> NewUserPage {
    NewUserPage {
        chrome: signed_in.chrome.clone(),
        form,
        roles: role_names(),
        error,
    }
}

pub async fn new_user(Admin(signed_in): Admin) -> Response {
    let form = UserForm {
        role: "student".to_owned(),
        active: true,
        prevent_archiving: Source::manual().prevents_archiving_by_default(),
        ..UserForm::default()
    };
    render(&new_page(&signed_in, form, String::new()))
}

/// Adds the user with a temporary password (typed, or made and shown once) that they change
/// at their first sign-in; their page says so.
pub async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<DetailsForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let who = &signed_in.visitor.principal;
    let refuse = |err: &rollcall_app::AppError| {
        let (status, message) = explain(err);
        (
            status,
            render(&new_page(&signed_in, form.as_form(), message)),
        )
            .into_response()
    };
    let typed = Some(form.temporary_password.as_str());
    let (user, made) = match app
        .create_user_with_temporary_password(who, form.create(), typed)
        .await
    {
        Ok(done) => done,
        Err(err) => return refuse(&err),
    };
    let message = format!(
        "{} was added. They sign in with a temporary password and then choose their own.",
        user.display_name()
    );
    changed_page(&app, &signed_in, &user, &message, made).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    temporary_password: String,
}

/// A user's page's "Set a temporary password".
pub async fn reset_password(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let user = match load_for_change(&app, &signed_in, &headers, &form.csrf, &id).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    // Left empty, one is made (`App::reset_password`).
    match app
        .reset_password(
            &signed_in.visitor.principal,
            user.id(),
            Some(&form.temporary_password),
        )
        .await
    {
        Ok((user, made)) => {
            let message = format!(
                "{} has a new temporary password: their sessions have ended, and they choose \
                 their own at their next sign-in.",
                user.display_name()
            );
            changed_page(&app, &signed_in, &user, &message, made).await
        }
        Err(err) => {
            let (status, message) = explain(&err);
            let page = profile_page(&app, &signed_in, &user, user_form(&user), "", &message).await;
            (status, render(&page)).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct MessageForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

/// A user's page's "Send a message": queued when the rules let them receive e-mail, kept as
/// suppressed otherwise; the page says which.
pub async fn send_message(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<MessageForm>,
) -> Response {
    let user = match load_for_change(&app, &signed_in, &headers, &form.csrf, &id).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let written = app
        .write_message(
            &signed_in.visitor.principal,
            &[user.id()],
            &form.subject,
            &form.body,
        )
        .await;
    let (status, saved, error) = match written {
        Ok(w) if w.queued == 1 => (
            axum::http::StatusCode::OK,
            format!("Your message to {} is in the outbox.", user.display_name()),
            String::new(),
        ),
        Ok(_) => (
            axum::http::StatusCode::OK,
            format!(
                "Your message is kept in the outbox unsent: {}.",
                match rollcall_domain::learning::Delivery::to(&user) {
                    rollcall_domain::learning::Delivery::Suppress(why) => why,
                    rollcall_domain::learning::Delivery::Send(_) => String::new(),
                }
            ),
            String::new(),
        ),
        Err(err) => {
            let (status, message) = explain(&err);
            (status, String::new(), message)
        }
    };
    let page = profile_page(&app, &signed_in, &user, user_form(&user), &saved, &error).await;
    (status, render(&page)).into_response()
}
