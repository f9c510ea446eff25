//! A user's page: details, the status switch, and the history.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::App;
use rollcall_domain::{AuditAction, Status, User, rules};
use serde::Deserialize;

use super::{DetailsForm, load, load_for_change, role_names, user_form};
use crate::console::errors::capitalize;
use crate::console::errors::explain;
use crate::console::extract::{Admin, SignedIn};
use crate::console::pages::{HistoryLine, ProfilePage, TrainingLine, UserForm};
use crate::console::render;
use crate::console::status::{StatusRequest, apply_change, done_message, save};

pub async fn profile(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Query(q): Query<ProfileQuery>,
) -> Response {
    let user = match load(&app, &signed_in, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let saved = if q.saved.is_some() { "Saved." } else { "" };
    render(&profile_page(&app, &signed_in, &user, user_form(&user), saved, "").await)
}

#[derive(Debug, Deserialize, Default)]
pub struct ProfileQuery {
    saved: Option<String>,
}

pub async fn profile_page(
    app: &App,
    signed_in: &SignedIn,
    user: &User,
    form: UserForm,
    saved: &str,
    error: &str,
) -> ProfilePage {
    let events = app
        .user_events(&signed_in.visitor.principal, user.id())
        .await
        .unwrap_or_default();
    let history = events
        .iter()
        .rev()
        .map(|event| HistoryLine {
            at: event.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            who: event.actor.label().to_owned(),
            change: match (event.action, event.from_status, event.to_status) {
                (AuditAction::StatusChanged, Some(from), Some(to)) => {
                    format!("{} → {}", capitalize_status(from), capitalize_status(to))
                }
                (AuditAction::Created, _, _) => "Created".to_owned(),
                (AuditAction::TokensRevoked, _, _) => "API tokens revoked".to_owned(),
                _ => format!(
                    "Updated {}",
                    event.changed_fields.join(", ").replace('_', " ")
                ),
            },
            why: event
                .reason
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        })
        .collect();
    // The last import run that changed them, if one did.
    let last_run = events.iter().rev().find_map(|event| match &event.actor {
        rollcall_domain::Actor::Source {
            label,
            run: Some(run),
            ..
        } => Some((
            run.to_string(),
            format!("{label}, {}", event.at.format("%Y-%m-%d %H:%M UTC")),
        )),
        _ => None,
    });
    let (training, credits_used, training_error) = training_of(app, signed_in, user).await;
    ProfilePage {
        chrome: signed_in.chrome.clone(),
        training,
        training_error,
        credits_used,
        last_run,
        id: user.id().to_string(),
        name: user.display_name(),
        form,
        roles: role_names(),
        active_switch: rules::presentation(user.status()).active_switch,
        badge: rules::presentation(user.status()).badge.unwrap_or_default(),
        restore: rules::admin_transition(user.status(), rules::active_switch_target(true))
            .filter(|_| !rules::presentation(user.status()).active_switch)
            .map_or("", |t| t.verb),
        needs_password: user.needs_temporary_password_to(rules::active_switch_target(true)),
        source: user.source().as_str().to_owned(),
        external_id: user
            .external_id()
            .as_ref()
            .map_or("—".to_owned(), |e| e.as_str().to_owned()),
        attributes: user
            .attributes()
            .iter()
            .map(|(k, v)| (k.replace('_', " "), v.to_owned()))
            .collect(),
        created: user.created_at().format("%Y-%m-%d %H:%M UTC").to_string(),
        history,
        saved: saved.to_owned(),
        secret: String::new(),
        error: error.to_owned(),
    }
}

/// A person's training as their page lists it, the credits they used in all, and, when it could
/// not be read, why (said on the page, never shown as "not enrolled").
async fn training_of(
    app: &App,
    signed_in: &SignedIn,
    user: &User,
) -> (Vec<TrainingLine>, u64, String) {
    let training = app
        .training_history(&signed_in.visitor.principal, user.id())
        .await;
    let error = match &training {
        Ok(_) => String::new(),
        Err(err) => crate::console::errors::explain(err).1,
    };
    let training = training.ok();
    let credits_used = training.as_ref().map_or(0, |t| t.credits_used);
    let training = training
        .map(|t| {
            t.records
                .iter()
                .map(|r| TrainingLine {
                    course_id: r.course.id.to_string(),
                    course: r.course.title.clone(),
                    enrolled: format!(
                        "{} ({})",
                        r.enrolment.enrolled_at.format("%Y-%m-%d"),
                        r.enrolment.method.as_str()
                    ),
                    state: r.enrolment.state(),
                    percent: r.enrolment.percent(&r.course),
                    completed: r
                        .enrolment
                        .completed_at
                        .map(|at| at.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    score: r
                        .enrolment
                        .score
                        .map(|s| format!("{s}%"))
                        .unwrap_or_default(),
                    credits: r.enrolment.credits_used,
                    certificate: r
                        .certificate
                        .as_ref()
                        .map(|c| c.id.to_string())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    (training, credits_used, error)
}

/// A user's page after a change: what was done, and a temporary password it made (shown once).
pub async fn changed_page(
    app: &App,
    signed_in: &SignedIn,
    user: &User,
    message: &str,
    secret: Option<String>,
) -> Response {
    let mut page = profile_page(app, signed_in, user, user_form(user), message, "").await;
    page.secret = secret.unwrap_or_default();
    render(&page)
}

fn capitalize_status(status: Status) -> String {
    capitalize(status.as_str())
}

pub async fn save_details(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<DetailsForm>,
) -> Response {
    let user = match load_for_change(&app, &signed_in, &headers, &form.csrf, &id).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    match save(&app, &signed_in.visitor.principal, &user, &form, true).await {
        Ok(saved) => match (saved.status_message, saved.secret) {
            (None, _) => Redirect::to(&format!("/users/{}?saved=1", user.id())).into_response(),
            (Some(message), secret) => {
                let message = format!("Saved. {message}");
                changed_page(&app, &signed_in, &saved.user, &message, secret).await
            }
        },
        Err((now, err)) => {
            let (status, message) = crate::console::errors::explain(&err);
            let mut shown = form.as_form();
            shown.version = now.version();
            (
                status,
                render(&profile_page(&app, &signed_in, &now, shown, "", &message).await),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    version: i64,
    active: Option<String>,
    #[serde(default)]
    temporary_password: String,
}

/// The Restore button on an archived user's page (their status has no Active switch).
pub async fn switch(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Response {
    let user = match load_for_change(&app, &signed_in, &headers, &form.csrf, &id).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let to = rules::active_switch_target(form.active.is_some());
    if rules::is_unchanged(user.status(), to) {
        return Redirect::to(&format!("/users/{}", user.id())).into_response();
    }
    let request = StatusRequest {
        to,
        version: form.version,
        reason: String::new(),
        temporary_password: form.temporary_password.clone(),
    };
    match apply_change(&app, &signed_in.visitor.principal, &user, &request).await {
        Ok(changed) => {
            let message = done_message(&changed.user, &request);
            changed_page(
                &app,
                &signed_in,
                &changed.user,
                &message,
                changed.temporary_password,
            )
            .await
        }
        Err(err) => {
            let (status, message) = explain(&err);
            (
                status,
                render(
                    &profile_page(&app, &signed_in, &user, user_form(&user), "", &message).await,
                ),
            )
                .into_response()
        }
    }
}
