//! Changing status from the console: the status column, the ⋯ menu, a user's page, and bulk.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, ChangeStatus, Principal, StatusChanged};
use rollcall_domain::{Status, User, UserId, rules};
use serde::Deserialize;

use super::extract::{Admin, SignedIn, in_dialog, is_htmx};
use super::pages::{BulkPage, ConfirmStatusPage, MessagePage};
use super::render;
use super::users::{
    explain, load, load_for_change, needs_temporary_password, not_found, profile_page, row_html,
    safe_back, user_form,
};

/// What an admin asked for.
pub struct StatusRequest {
    pub to: Status,
    pub version: i64,
    pub reason: String,
    pub temporary_password: String,
    /// Generate the temporary password when one is needed and none was typed.
    pub generate: bool,
}

pub async fn apply_change(
    app: &App,
    who: &Principal,
    user: &User,
    request: &StatusRequest,
) -> Result<StatusChanged, AppError> {
    let typed = Some(request.temporary_password.trim().to_owned()).filter(|p| !p.is_empty());
    let needs = needs_temporary_password(user) && rules::restores_sign_in(user.status, request.to);
    let input = ChangeStatus {
        status: request.to.as_str().to_owned(),
        reason: Some(request.reason.clone()),
        generate_temporary_password: needs && typed.is_none() && request.generate,
        temporary_password: typed,
        version: Some(request.version),
    };
    app.change_status(who, user.id, input).await
}

/// The words of a confirmation: heading, explanation, and whether it takes access away.
fn wording(user: &User, to: Status) -> (String, String, bool) {
    let name = user.display_name();
    if rules::restores_sign_in(user.status, to) {
        let verb = if matches!(
            rules::rules(user.status).search,
            rules::SearchVisibility::Hidden
        ) {
            "Restore"
        } else {
            "Reactivate"
        };
        (
            format!("{verb} {name}?"),
            format!(
                "{name} will be able to sign in again, with their history and enrolments as they were."
            ),
            false,
        )
    } else if matches!(rules::rules(to).search, rules::SearchVisibility::Hidden) {
        (
            format!("Archive {name}?"),
            format!(
                "{name} will not be able to sign in and will leave search and rosters. Their history is kept and they can be restored."
            ),
            true,
        )
    } else {
        (
            format!("Deactivate {name}?"),
            format!(
                "{name} will be signed out at once and will not be able to sign in. Their history is kept and they can be reactivated at any time."
            ),
            true,
        )
    }
}

#[derive(Debug, Deserialize)]
pub struct ConfirmQuery {
    to: String,
    back: Option<String>,
}

pub async fn confirm(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Query(q): Query<ConfirmQuery>,
) -> Response {
    let user = match load(&app, &signed_in, &id).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let Ok(to) = q.to.parse::<Status>() else {
        return not_found(&signed_in);
    };
    let back = safe_back(q.back.as_deref());
    render(&confirm_page(
        &signed_in,
        &headers,
        &user,
        to,
        back,
        String::new(),
    ))
}

/// The confirmation of a status change (as a dialog for htmx), with an error when it failed.
fn confirm_page(
    signed_in: &SignedIn,
    headers: &HeaderMap,
    user: &User,
    to: Status,
    back: String,
    error: String,
) -> ConfirmStatusPage {
    let (heading, explanation, destructive) = wording(user, to);
    let mut chrome = signed_in.chrome.clone();
    chrome.bare = is_htmx(headers);
    ConfirmStatusPage {
        chrome,
        id: user.id.to_string(),
        name: user.display_name(),
        heading,
        explanation,
        to: to.as_str().to_owned(),
        version: user.version,
        back,
        needs_password: needs_temporary_password(user) && rules::restores_sign_in(user.status, to),
        destructive,
        error,
    }
}

async fn find(app: &App, signed_in: &SignedIn, id: &str) -> Option<User> {
    let id: UserId = id.parse().ok()?;
    app.user(&signed_in.visitor.principal, id).await.ok()
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    temporary_password: String,
    generate: Option<String>,
    back: Option<String>,
}

/// The answer to a change made from the Users screen: for htmx, the row swapped in place (or
/// removed when it leaves the filter), a message, and the temporary password when one was set;
/// without JavaScript, a page saying what happened.
pub fn respond(
    signed_in: &SignedIn,
    headers: &HeaderMap,
    user: &User,
    secret: Option<String>,
    back: &str,
    message: &str,
) -> Response {
    if !is_htmx(headers) {
        let mut page = MessagePage::new(
            signed_in.chrome.clone(),
            "Done",
            message,
            back,
            "Back to users",
        );
        page.secrets = secret
            .map(|s| vec![(user.display_name(), s)])
            .unwrap_or_default();
        return render(&page);
    }
    let flash = format!(
        "<div id=\"flash\" role=\"status\" aria-live=\"polite\" hx-swap-oob=\"true\"><div class=\"alert ok\">{}</div></div>",
        escape(message)
    );
    let mut body = row_html(user, back) + &flash;
    let mut response;
    if let Some(secret) = secret {
        // Show the password in the dialog; the row is updated out of band.
        let row = row_html(user, back);
        let row_oob = if row.is_empty() {
            format!("<tr id=\"user-{}\" hx-swap-oob=\"delete\"></tr>", user.id)
        } else {
            row.replacen("<tr ", "<tr hx-swap-oob=\"true\" ", 1)
        };
        body = format!(
            "<div class=\"card\"><h2 id=\"dialog-title\">Temporary password</h2><p>{}</p><p>Pass this temporary password on to {}. It is shown only now, and they must change it when they sign in:</p><p><span class=\"secret\" id=\"temporary-password\">{}</span></p><div class=\"actions-row\"><button type=\"button\" data-close-dialog autofocus>Done</button></div></div>{row_oob}{flash}",
            escape(message),
            escape(&user.display_name()),
            escape(&secret)
        );
        response = Html(body).into_response();
        response
            .headers_mut()
            .insert("hx-retarget", HeaderValue::from_static("#dialog"));
        response
            .headers_mut()
            .insert("hx-reswap", HeaderValue::from_static("innerHTML"));
    } else {
        response = Html(body).into_response();
        response.headers_mut().insert(
            "hx-trigger",
            HeaderValue::from_static("rollcall:close-dialog"),
        );
    }
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn done_message(user: &User) -> String {
    format!("{} is now {}.", user.display_name(), user.status)
}

pub async fn apply(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let user = match load_for_change(&app, &signed_in, &headers, &form.csrf, &id).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let Ok(to) = form.to.parse::<Status>() else {
        return not_found(&signed_in);
    };
    let back = safe_back(form.back.as_deref());
    let request = StatusRequest {
        to,
        version: form.version,
        reason: form.reason.clone(),
        temporary_password: form.temporary_password.clone(),
        generate: form.generate.is_some(),
    };
    match apply_change(&app, &signed_in.visitor.principal, &user, &request).await {
        Ok(changed) => respond(
            &signed_in,
            &headers,
            &changed.user,
            changed.temporary_password,
            &back,
            &done_message(&changed.user),
        ),
        Err(err) => {
            let (status, message) = explain(&err);
            let page = confirm_page(&signed_in, &headers, &user, to, back, message);
            in_dialog(&headers, (status, render(&page)).into_response())
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

/// The status switch on a user's page, with Confirm.
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
    let to = if form.active.is_some() {
        Status::Active
    } else {
        Status::Inactive
    };
    if rules::is_unchanged(user.status, to) {
        return Redirect::to(&format!("/users/{}", user.id)).into_response();
    }
    let request = StatusRequest {
        to,
        version: form.version,
        reason: String::new(),
        temporary_password: form.temporary_password.clone(),
        generate: true,
    };
    match apply_change(&app, &signed_in.visitor.principal, &user, &request).await {
        Ok(changed) => {
            let message = done_message(&changed.user);
            let mut page = profile_page(
                &app,
                &signed_in,
                &changed.user,
                user_form(&changed.user),
                &message,
                "",
            )
            .await;
            if let Some(secret) = changed.temporary_password {
                page.saved = format!(
                    "{message} Temporary password (shown once; they must change it at sign-in): {secret}"
                );
            }
            render(&page)
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

#[derive(Debug, Deserialize)]
pub struct BulkForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    reason: String,
    back: Option<String>,
}

/// A bulk action: the status it moves people to, its verb, and what it means for them.
fn bulk_target(action: &str) -> Option<(Status, &'static str, &'static str)> {
    match action {
        "deactivate" => Some((
            Status::Inactive,
            "Deactivate",
            "They will be signed out at once and will not be able to sign in. Their history is kept.",
        )),
        "reactivate" => Some((
            Status::Active,
            "Reactivate",
            "They will be able to sign in again. Those without an e-mail get a generated temporary \
             password, shown on the next page.",
        )),
        _ => None,
    }
}

/// Users among `ids` who can make the move (others are left out of the confirmation).
async fn bulk_users(app: &App, signed_in: &SignedIn, ids: &[String], to: Status) -> Vec<User> {
    let mut users = Vec::new();
    for id in ids.iter().take(200) {
        if let Some(user) = find(app, signed_in, id).await
            && rules::transition_allowed(user.status, to)
        {
            users.push(user);
        }
    }
    users
}

pub async fn bulk_confirm(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<BulkForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let Some((to, verb, explanation)) = bulk_target(&form.action) else {
        return not_found(&signed_in);
    };
    let users = bulk_users(&app, &signed_in, &form.ids, to).await;
    let count = users.len();
    let noun = if count == 1 { "user" } else { "users" };
    let mut chrome = signed_in.chrome.clone();
    chrome.bare = is_htmx(&headers);
    render(&BulkPage {
        chrome,
        heading: format!("{verb} {count} {noun}?"),
        explanation: explanation.to_owned(),
        action: form.action.clone(),
        confirm_label: format!("{verb} {count} {noun}"),
        ids: users.iter().map(|u| u.id.to_string()).collect(),
        names: users.iter().map(User::display_name).collect(),
        back: safe_back(form.back.as_deref()),
    })
}

pub async fn bulk_apply(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<BulkForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let Some((to, _, _)) = bulk_target(&form.action) else {
        return not_found(&signed_in);
    };
    let back = safe_back(form.back.as_deref());
    let users = bulk_users(&app, &signed_in, &form.ids, to).await;
    let mut done = 0;
    let mut failures = Vec::new();
    let mut secrets = Vec::new();
    for user in &users {
        let request = StatusRequest {
            to,
            version: user.version,
            reason: form.reason.clone(),
            temporary_password: String::new(),
            generate: true,
        };
        match apply_change(&app, &signed_in.visitor.principal, user, &request).await {
            Ok(changed) => {
                done += 1;
                if let Some(secret) = changed.temporary_password {
                    secrets.push((changed.user.display_name(), secret));
                }
            }
            Err(err) => failures.push(format!("{}: {}", user.display_name(), explain(&err).1)),
        }
    }
    let noun = if done == 1 { "user" } else { "users" };
    let mut page = MessagePage::new(
        signed_in.chrome.clone(),
        "Done",
        &format!("{done} {noun} now {to}."),
        &back,
        "Back to users",
    );
    page.lines.extend(failures);
    page.secrets = secrets;
    render(&page)
}
