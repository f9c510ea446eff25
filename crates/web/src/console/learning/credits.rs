//! Credits and the outbox in the console, for admins.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError};
use rollcall_domain::learning::{CreditKind, MessageState};
use rollcall_domain::rules;
use serde::Deserialize;

use super::minute;
use super::pages::{CreditsPage, EntryLine, MessageLine, OutboxPage};
use crate::console::errors::{capitalize, explain, failure_page};
use crate::console::extract::{Admin, SignedIn};
use crate::console::render;

/// Messages the outbox page shows at once.
const MESSAGES: u64 = 100;

#[derive(Debug, Deserialize, Default)]
pub struct CreditsQuery {
    /// Credits just added.
    added: Option<u32>,
}

async fn credits_page(app: &App, signed_in: &SignedIn, notice: String, error: String) -> Response {
    let credits = match app.credits(&signed_in.visitor.principal).await {
        Ok(credits) => credits,
        Err(err) => {
            return failure_page(
                signed_in.chrome.clone(),
                &err,
                "/courses",
                "Back to courses",
            );
        }
    };
    let status = if error.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CreditsPage {
        chrome: signed_in.chrome.clone(),
        balance: credits.balance,
        entries: credits
            .entries
            .iter()
            .map(|e| EntryLine {
                when: minute(e.at),
                kind: match e.kind {
                    CreditKind::TopUp => "Top-up",
                    CreditKind::Consumption => "First start",
                },
                amount: match e.kind {
                    CreditKind::TopUp => format!("+{}", e.amount),
                    CreditKind::Consumption => format!("−{}", e.amount),
                },
                balance: e.balance_after,
                who: e.actor.clone(),
                reason: e.reason.clone(),
            })
            .collect(),
        by_course: credits
            .by_course
            .iter()
            .map(|(used, title)| {
                let title = title
                    .clone()
                    .unwrap_or_else(|| "(a removed course)".to_owned());
                (title, used.credits, used.starts)
            })
            .collect(),
        by_user: credits
            .by_user
            .iter()
            .map(|(used, user)| match user {
                Some(u) => (
                    u.id().to_string(),
                    u.display_name(),
                    rules::presentation(u.status()).badge.unwrap_or_default(),
                    used.credits,
                    used.starts,
                ),
                None => (
                    String::new(),
                    "(unknown)".to_owned(),
                    "",
                    used.credits,
                    used.starts,
                ),
            })
            .collect(),
        error,
        notice,
    };
    (status, render(&page)).into_response()
}

pub async fn index(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<CreditsQuery>,
) -> Response {
    let notice = match query.added {
        Some(1) => "1 credit was added.".to_owned(),
        Some(n) => format!("{n} credits were added."),
        None => String::new(),
    };
    credits_page(&app, &signed_in, notice, String::new()).await
}

#[derive(Debug, Deserialize)]
pub struct TopUpForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

pub async fn top_up(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<TopUpForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let done = async {
        let amount =
            form.amount.trim().parse::<i64>().map_err(|_| {
                AppError::invalid("amount", "must be a whole number of credits from 1")
            })?;
        app.top_up(&signed_in.visitor.principal, amount, &form.reason)
            .await
    };
    match done.await {
        Ok(entry) => Redirect::to(&format!("/credits?added={}", entry.amount)).into_response(),
        Err(err) => {
            let (_, message) = explain(&err);
            credits_page(&app, &signed_in, String::new(), message).await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct OutboxQuery {
    #[serde(default)]
    state: String,
}

pub async fn outbox(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<OutboxQuery>,
) -> Response {
    let state = MessageState::from_stored(&query.state);
    match app
        .outbox(&signed_in.visitor.principal, state, MESSAGES)
        .await
    {
        Ok(messages) => render(&OutboxPage {
            chrome: signed_in.chrome,
            state: state
                .map(MessageState::as_str)
                .unwrap_or_default()
                .to_owned(),
            tabs: vec![
                ("", "All"),
                ("queued", "Queued"),
                ("sent", "Sent"),
                ("suppressed", "Suppressed"),
                ("failed", "Failed"),
            ],
            messages: messages
                .iter()
                .map(|m| MessageLine {
                    when: minute(m.created_at),
                    user: m.user_id.to_string(),
                    to: m.to.clone(),
                    subject: m.subject.clone(),
                    state: match m.state {
                        MessageState::Queued => "Queued",
                        MessageState::Sent => "Sent",
                        MessageState::Suppressed => "Suppressed",
                        MessageState::Failed => "Failed",
                    },
                    reason: m.reason.as_deref().map(capitalize).unwrap_or_default(),
                })
                .collect(),
        }),
        Err(err) => failure_page(signed_in.chrome, &err, "/courses", "Back to courses"),
    }
}
