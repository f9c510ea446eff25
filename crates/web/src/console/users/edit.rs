//! The edit dialog: a user's details and the Active switch, saved by one Update.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, EditUser};
use rollcall_domain::{Status, User, rules};
use serde::Deserialize;

use super::{load, load_for_change, role_names, safe_back, user_form};
use crate::console::extract::{Admin, SignedIn, in_dialog, is_htmx};
use crate::console::pages::{EditPage, UserForm};
use crate::console::render;
use crate::console::status::{StatusRequest, apply_change, respond};

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
    active: Option<String>,
    prevent_archiving: Option<String>,
    #[serde(default)]
    temporary_password: String,
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
    let who = &signed_in.visitor.principal;
    let edited = match app.edit_user(who, user.id(), form.edit(false)).await {
        Ok(u) => u,
        Err(err) => return fail(&user, &err),
    };
    let target: Status = rules::active_switch_target(form.active.is_some());
    let toggled = rules::presentation(edited.status()).active_switch
        && !rules::is_unchanged(edited.status(), target);
    let mut secret = None;
    let current = if toggled {
        let request = StatusRequest {
            to: target,
            version: edited.version(),
            reason: String::new(),
            temporary_password: form.temporary_password.clone(),
            generate: form.temporary_password.trim().is_empty(),
        };
        match apply_change(&app, who, &edited, &request).await {
            Ok(changed) => {
                secret = changed.temporary_password;
                changed.user
            }
            Err(err) => return fail(&edited, &err),
        }
    } else {
        edited
    };
    respond(
        &signed_in,
        &headers,
        &current,
        secret,
        &back,
        &format!("{} has been updated.", current.display_name()),
    )
}
