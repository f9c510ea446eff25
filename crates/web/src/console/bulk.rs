//! Bulk actions of the Users screen. Status changes: a confirmation naming everyone it will
//! move, then one use case that moves them together and says who was left out and why. A
//! message: whom it reaches and who is left out (as the status rules say), then the outbox.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, BulkChange, MAX_BULK, SegmentReach};
use rollcall_domain::{Status, User, UserId, rules};
use serde::Deserialize;

use super::extract::{Admin, SignedIn, is_htmx};
use super::pages::{BulkPage, MessagePage, WriteSelectedPage};
use super::render;
use super::users::{failure_page, not_found, safe_back};

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
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    back: Option<String>,
}

/// The move a bulk button makes, with its wording from the rules.
fn bulk_move(action: &str) -> Option<(Status, &'static rules::AdminTransition)> {
    let (from, to) = match action {
        "deactivate" => (Status::Active, Status::Inactive),
        "reactivate" => (Status::Inactive, Status::Active),
        _ => return None,
    };
    rules::admin_transition(from, to).map(|t| (from, t))
}

/// What both steps start with: the form's CSRF token, then the move its button names.
fn checked_move(
    signed_in: &SignedIn,
    headers: &HeaderMap,
    form: &BulkForm,
) -> Result<(Status, &'static rules::AdminTransition), Response> {
    signed_in.check_csrf(headers, Some(&form.csrf))?;
    bulk_move(&form.action).ok_or_else(|| not_found(signed_in))
}

fn ids(form: &BulkForm) -> Vec<UserId> {
    form.ids
        .iter()
        .take(MAX_BULK)
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// The selected users who can make the move (the others are left out of the confirmation).
async fn movable(app: &App, signed_in: &SignedIn, ids: &[UserId], to: Status) -> Vec<User> {
    let mut users = Vec::new();
    for id in ids {
        if let Ok(user) = app.user(&signed_in.visitor.principal, *id).await
            && rules::transition_allowed(user.status(), to)
        {
            users.push(user);
        }
    }
    users
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "user" } else { "users" }
}

pub async fn confirm(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<BulkForm>,
) -> Response {
    if form.action == "write" {
        if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
            return refused;
        }
        return write_page(&app, &signed_in, &headers, &form, String::new()).await;
    }
    let (from, move_) = match checked_move(&signed_in, &headers, &form) {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let selected = ids(&form);
    let users = movable(&app, &signed_in, &selected, move_.to).await;
    let count = users.len();
    let mut chrome = signed_in.chrome.clone();
    chrome.bare = is_htmx(&headers);
    render(&BulkPage {
        chrome,
        heading: format!("{} {count} {}?", move_.verb, plural(count)),
        explanation: move_.consequence.to_owned(),
        generates_passwords: rules::restores_sign_in(from, move_.to),
        left_out: selected.len() - count,
        action: form.action.clone(),
        confirm_label: format!("{} {count} {}", move_.verb, plural(count)),
        ids: users.iter().map(|u| u.id().to_string()).collect(),
        names: users.iter().map(User::display_name).collect(),
        back: safe_back(form.back.as_deref()),
    })
}

pub async fn apply(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<BulkForm>,
) -> Response {
    let (_, move_) = match checked_move(&signed_in, &headers, &form) {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let back = safe_back(form.back.as_deref());
    let input = BulkChange {
        ids: ids(&form),
        to: move_.to,
        reason: Some(form.reason.clone()),
    };
    let outcome = match app
        .bulk_change_status(&signed_in.visitor.principal, input)
        .await
    {
        Ok(outcome) => outcome,
        Err(err) => return failure_page(&signed_in, &err),
    };
    let done = outcome.changed.len();
    let label = rules::presentation(move_.to).label.to_lowercase();
    let mut page = MessagePage::new(
        signed_in.chrome.clone(),
        "Done",
        &format!("{done} {} now {label}.", plural(done)),
        &back,
        "Back to users",
    );
    page.lines.extend(outcome.left_out.iter().map(|left| {
        format!(
            "Left out: {}: {}.",
            left.name.as_deref().unwrap_or("an unknown user"),
            left.why
        )
    }));
    page.secrets = outcome
        .changed
        .into_iter()
        .filter_map(|changed| {
            let name = changed.user.display_name();
            changed.temporary_password.map(|secret| (name, secret))
        })
        .collect();
    let mut response = render(&page);
    if is_htmx(&headers) {
        // The listing behind the dialog reads itself again.
        response
            .headers_mut()
            .insert("hx-trigger", HeaderValue::from_static("rollcall:changed"));
    }
    response
}

/// Whom a message to the selected users reaches, and the form to write it.
async fn write_page(
    app: &App,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    form: &BulkForm,
    error: String,
) -> Response {
    let mut people = Vec::new();
    for id in ids(form) {
        if let Ok(user) = app.user(&signed_in.visitor.principal, id).await {
            people.push(user);
        }
    }
    let mut reach = SegmentReach::default();
    for person in &people {
        reach.add(person.status(), person.email().is_some(), 1);
    }
    let mut chrome = signed_in.chrome.clone();
    chrome.bare = is_htmx(headers);
    render(&WriteSelectedPage {
        chrome,
        reached: reach.reached,
        no_address: reach.no_address,
        inactive: reach.inactive,
        write_heading: format!(
            "Write to {} selected {}",
            people.len(),
            plural(people.len())
        ),
        write_action: "/users/bulk/write".to_owned(),
        write_ids: people.iter().map(|u| u.id().to_string()).collect(),
        write_back: safe_back(form.back.as_deref()),
        write_notice: String::new(),
        write_error: error,
    })
}

/// Writes to the selected users through the outbox: queued for those the status rules let
/// receive e-mail, kept unsent (with the reason) for the others.
pub async fn write(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<BulkForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let to = ids(&form);
    let written = match app
        .write_message(&signed_in.visitor.principal, &to, &form.subject, &form.body)
        .await
    {
        Ok(written) => written,
        Err(AppError::Invalid(problems)) => {
            let error = problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            return write_page(&app, &signed_in, &headers, &form, error).await;
        }
        Err(err) => return failure_page(&signed_in, &err),
    };
    let back = safe_back(form.back.as_deref());
    let mut page = MessagePage::new(
        signed_in.chrome.clone(),
        "Sent",
        &format!(
            "{} {} queued for delivery.",
            written.queued,
            if written.queued == 1 {
                "message"
            } else {
                "messages"
            }
        ),
        &back,
        "Back to users",
    );
    if written.suppressed > 0 {
        page.lines.push(format!(
            "{} kept unsent in the outbox: inactive people and people without an e-mail \
             address are not sent e-mail.",
            written.suppressed
        ));
    }
    render(&page)
}
