//! The edit dialog: a user's details and the Active switch, saved by one Update.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError};
use rollcall_domain::{User, rules};
use serde::Deserialize;

use super::{DetailsForm, load, load_for_change, role_names, safe_back, user_form};
use crate::console::extract::{Admin, SignedIn, in_dialog, is_htmx};
use crate::console::pages::{EditPage, UserForm};
use crate::console::render;
use crate::console::status::{respond, save};

#[derive(Debug, Deserialize, Default)]
pub struct BackQuery {
    back: Option<String>,
}

fn edit_page(
    signed_in: &SignedIn,
    user: &User,
    form: UserForm,
    back: String,
    error: String,
    bare: bool,
) -> EditPage {
    let mut chrome = signed_in.chrome.clone();
    chrome.bare = bare;
    EditPage {
        chrome,
        id: user.id().to_string(),
        name: user.display_name(),
        form,
        roles: role_names(),
        can_toggle: rules::presentation(user.status()).active_switch,
        needs_password: user.needs_temporary_password_to(rules::active_switch_target(true)),
        back,
        error,
    }
}

pub async fn edit_dialog(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Query(q): Query<BackQuery>,
) -> Response {
    let user = match load(&app, &signed_in, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let page = edit_page(
        &signed_in,
        &user,
        user_form(&user),
        safe_back(q.back.as_deref()),
        String::new(),
        is_htmx(&headers),
    );
    render(&page)
}

/// The edit dialog's Update: details, then the Active toggle if it moved.
pub async fn save_edit(
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
    let back = safe_back(form.back.as_deref());
    let htmx = is_htmx(&headers);
    let fail = |user: &User, err: &AppError| {
        let (status, message) = crate::console::errors::explain(err);
        let response = (
            status,
            render(&edit_page(
                &signed_in,
                user,
                form.as_form(),
                back.clone(),
                message,
                htmx,
            )),
        )
            .into_response();
        in_dialog(&headers, response)
    };
    let saved = match save(&app, &signed_in.visitor.principal, &user, &form, false).await {
        Ok(saved) => saved,
        Err((user, err)) => return fail(&user, &err),
    };
    let message = saved
        .status_message
        .unwrap_or_else(|| format!("{} has been updated.", saved.user.display_name()));
    respond(
        &signed_in,
        &headers,
        &saved.user,
        saved.secret,
        &back,
        &message,
    )
}
