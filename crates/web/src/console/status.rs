//! Changing one user's status from the console: the status column, the ⋯ menu, and the
//! Active switch saved with a user's details (the edit dialog and a user's page).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, ChangeStatus, Principal, StatusChanged};
use rollcall_domain::{Status, User, rules};
use serde::Deserialize;

use super::errors::explain;
use super::extract::{Admin, SignedIn, in_dialog, is_htmx};
use super::pages::{ChangedPartial, ConfirmStatusPage, MessagePage};
use super::render;
use super::users::{DetailsForm, load, load_for_change, not_found, row_html, safe_back};

/// What an admin asked for.
pub struct StatusRequest {
    pub to: Status,
    pub version: i64,
    pub reason: String,
    /// Typed, it is used; left empty, one is made when the move needs one.
    pub temporary_password: String,
}

pub async fn apply_change(
    app: &App,
    who: &Principal,
    user: &User,
    request: &StatusRequest,
) -> Result<StatusChanged, AppError> {
    let typed = Some(request.temporary_password.trim().to_owned()).filter(|p| !p.is_empty());
    let needs = user.needs_temporary_password_to(request.to);
    let input = ChangeStatus {
        status: request.to.as_str().to_owned(),
        reason: Some(request.reason.clone()),
        generate_temporary_password: needs && typed.is_none(),
        temporary_password: typed,
        version: Some(request.version),
    };
    app.change_status(who, user.id(), input).await
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
    let Some(move_) = rules::admin_transition(user.status(), to) else {
        let refused = AppError::Transition(rollcall_domain::TransitionError::NotAllowed {
            from: user.status(),
            to,
        });
        return super::users::failure_page(&signed_in, &refused);
    };
    render(&confirm_page(
        &signed_in,
        &headers,
        &user,
        move_,
        back,
        String::new(),
    ))
}

/// The confirmation of a status change (as a dialog for htmx), with an error when it failed.
fn confirm_page(
    signed_in: &SignedIn,
    headers: &HeaderMap,
    user: &User,
    move_: &rules::AdminTransition,
    back: String,
    error: String,
) -> ConfirmStatusPage {
    let mut chrome = signed_in.chrome.clone();
    chrome.bare = is_htmx(headers);
    ConfirmStatusPage {
        chrome,
        id: user.id().to_string(),
        name: user.display_name(),
        heading: format!("{} {}?", move_.verb, user.display_name()),
        explanation: move_.consequence.to_owned(),
        to: move_.to.as_str().to_owned(),
        version: user.version(),
        back,
        needs_password: user.needs_temporary_password_to(move_.to),
        destructive: move_.destructive,
        error,
    }
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
    let shows_password = secret.is_some();
    let partial = ChangedPartial {
        id: user.id().to_string(),
        name: user.display_name(),
        row_html: row_html(user, back, shows_password),
        message: message.to_owned(),
        secret: secret.unwrap_or_default(),
    };
    let mut response = render(&partial);
    let headers = response.headers_mut();
    // The listing behind reads itself again (rows, count, "No users match").
    if shows_password {
        // The password stays on screen in the dialog; the row changes out of band.
        headers.insert("hx-retarget", HeaderValue::from_static("#dialog"));
        headers.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        headers.insert("hx-trigger", HeaderValue::from_static("rollcall:changed"));
    } else {
        headers.insert(
            "hx-trigger",
            HeaderValue::from_static("rollcall:changed, rollcall:close-dialog"),
        );
    }
    response
}

/// "Ada Lovelace is now inactive.", and a reminder when the admin typed a temporary password
/// (a generated one is shown beside the message instead).
pub fn done_message(user: &User, request: &StatusRequest) -> String {
    let mut message = format!(
        "{} is now {}.",
        user.display_name(),
        rules::presentation(user.status()).label.to_lowercase()
    );
    if user.must_change_password() && !request.temporary_password.trim().is_empty() {
        message.push_str(
            " They sign in with the temporary password you typed and then choose their own.",
        );
    }
    message
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
    let Some(move_) = rules::admin_transition(user.status(), to) else {
        let refused = AppError::Transition(rollcall_domain::TransitionError::NotAllowed {
            from: user.status(),
            to,
        });
        return super::users::failure_page(&signed_in, &refused);
    };
    let request = StatusRequest {
        to,
        version: form.version,
        reason: form.reason.clone(),
        temporary_password: form.temporary_password.clone(),
    };
    match apply_change(&app, &signed_in.visitor.principal, &user, &request).await {
        Ok(changed) => respond(
            &signed_in,
            &headers,
            &changed.user,
            changed.temporary_password,
            &back,
            &done_message(&changed.user, &request),
        ),
        Err(err) => {
            let (status, message) = explain(&err);
            let page = confirm_page(&signed_in, &headers, &user, move_, back, message);
            in_dialog(&headers, (status, render(&page)).into_response())
        }
    }
}

/// What one Update of a user's details (and their Active switch) did.
pub struct Saved {
    pub user: User,
    /// A temporary password made for them, to show once.
    pub secret: Option<String>,
    /// "Ada Lovelace is now inactive.", when the switch moved their status.
    pub status_message: Option<String>,
}

/// Saves a user's details, then moves their status when the Active switch was moved, with the
/// reason and temporary password typed beside it: the edit dialog's and the user page's one
/// Update. On failure, the user as they now are (the details may be saved) and why.
pub async fn save(
    app: &App,
    who: &Principal,
    user: &User,
    form: &DetailsForm,
    with_prevent_archiving: bool,
) -> Result<Saved, (User, AppError)> {
    let edited = app
        .edit_user(who, user.id(), form.edit(with_prevent_archiving))
        .await
        .map_err(|err| (user.clone(), err))?;
    let target: Status = rules::active_switch_target(form.active.is_some());
    let toggled = rules::presentation(edited.status()).active_switch
        && !rules::is_unchanged(edited.status(), target);
    if !toggled {
        return Ok(Saved {
            user: edited,
            secret: None,
            status_message: None,
        });
    }
    let request = StatusRequest {
        to: target,
        version: edited.version(),
        reason: form.reason.clone(),
        temporary_password: form.temporary_password.clone(),
    };
    match apply_change(app, who, &edited, &request).await {
        Ok(changed) => Ok(Saved {
            status_message: Some(done_message(&changed.user, &request)),
            secret: changed.temporary_password,
            user: changed.user,
        }),
        Err(err) => Err((edited, err)),
    }
}
