//! The Users screen, the edit dialog and a user's page.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, EditUser, ListUsers};
use rollcall_domain::{AuditAction, ListFilter, Role, Status, User, UserId, rules};
use serde::Deserialize;

use super::extract::{Admin, SignedIn, in_dialog, is_htmx};
use super::pages::{
    Column, EditPage, HistoryLine, ProfilePage, Row, RowPartial, UserForm, UsersPage,
};
use super::render;
use super::status::{StatusRequest, apply_change};

/// Counts stop here: "more than 10,000" is as useful as the exact figure, and stays cheap.
const COUNT_CAP: u64 = 10_000;
const PAGE: usize = 50;

pub fn role_names() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

pub fn row(user: &User) -> Row {
    let status = rules::rules(user.status);
    Row {
        id: user.id.to_string(),
        name: user.display_name(),
        sort_name: format!(
            "{}, {}",
            user.family_name.as_str(),
            user.given_name.as_str()
        ),
        login: user.login().to_owned(),
        role: user.role.as_str().to_owned(),
        source: user.source.as_str().to_owned(),
        active: status.may_sign_in,
        inactive: matches!(status.search, rules::SearchVisibility::ShownMarkedInactive),
        archived: matches!(status.search, rules::SearchVisibility::Hidden),
    }
}

/// A row rendered alone, or nothing when the user no longer belongs under `back`'s filter.
pub fn row_html(user: &User, back: &str) -> String {
    let filter = filter_of(back);
    if !rules::shown_under(user.status, filter) {
        return String::new();
    }
    let partial = RowPartial {
        row: row(user),
        back: back.to_owned(),
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

#[derive(Debug, Deserialize, Default, Clone)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl UsersQuery {
    fn href(&self, sort: &str, cursor: &str) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("q", self.q.as_str()),
            ("status", &self.status),
            ("role", &self.role),
            ("source", &self.source),
            ("sort", sort),
            ("cursor", cursor),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        if parts.is_empty() {
            "/users".to_owned()
        } else {
            format!("/users?{}", parts.join("&"))
        }
    }
}

fn columns(query: &UsersQuery) -> Vec<Column> {
    let current = if query.sort.is_empty() {
        "family_name"
    } else {
        query.sort.as_str()
    };
    let sortable = |label, class, key: &str| {
        let (arrow, aria_sort, next) = if current == key {
            (" ▲", "ascending", format!("-{key}"))
        } else if current.strip_prefix('-') == Some(key) {
            (" ▼", "descending", key.to_owned())
        } else {
            ("", "", key.to_owned())
        };
        Column {
            label,
            class,
            href: query.href(&next, ""),
            arrow,
            aria_sort,
        }
    };
    let plain = |label, class| Column {
        label,
        class,
        href: String::new(),
        arrow: "",
        aria_sort: "",
    };
    vec![
        sortable("Name", "", "family_name"),
        plain("Username or e-mail", "col-login"),
        plain("Role", "col-role"),
        plain("Source", "col-source"),
        sortable("Status", "", "status_changed"),
    ]
}

pub async fn index(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Query(query): Query<UsersQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let input = ListUsers {
        status: Some(query.status.clone()).filter(|s| !s.is_empty()),
        role: Some(query.role.clone()).filter(|s| !s.is_empty()),
        source: Some(query.source.clone()).filter(|s| !s.is_empty()),
        q: Some(query.q.clone()),
        sort: Some(query.sort.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        cursor: Some(query.cursor.clone()).filter(|s| !s.is_empty()),
    };
    let (page, count, sources) = match tokio::try_join!(
        app.list_users(who, input.clone()),
        app.count_users(who, &input, COUNT_CAP),
        app.sources(who),
    ) {
        Ok(found) => found,
        Err(AppError::Invalid(fields)) => {
            let detail = fields
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let page = super::pages::MessagePage::new(
                signed_in.chrome,
                "Those filters do not work",
                &detail,
                "/users",
                "Show all users",
            );
            return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
        }
        Err(err) => {
            tracing::error!(error = %err, "listing users failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let filter: ListFilter = query.status.parse().unwrap_or_default();
    let noun = if count == 1 { "user" } else { "users" };
    let count_text = if count >= COUNT_CAP {
        format!("More than {COUNT_CAP} users")
    } else {
        format!("{count} {noun}")
    };
    let here = query.href(&query.sort, &query.cursor);
    let mut chrome = signed_in.chrome;
    chrome.bare = is_htmx(&headers);
    let users_page = UsersPage {
        q: query.q.clone(),
        status: filter.as_str().to_owned(),
        status_label: format!("{} filter", status_label(filter)),
        role: query.role.clone(),
        source: query.source.clone(),
        sort: query.sort.clone(),
        status_options: ListFilter::ALL
            .iter()
            .map(|f| (f.as_str(), status_label(*f)))
            .collect(),
        role_options: role_names(),
        sort_options: vec![
            ("family_name", "Family name"),
            ("given_name", "Given name"),
            ("-created", "Newest first"),
            ("-status_changed", "Status changed, latest first"),
        ],
        source_options: sources,
        columns: columns(&query),
        rows: page.users.iter().map(row).collect(),
        count_text,
        back: here.clone(),
        here,
        next_href: page
            .next
            .as_deref()
            .map(|next| query.href(&query.sort, next))
            .unwrap_or_default(),
        first_href: if query.cursor.is_empty() {
            String::new()
        } else {
            query.href(&query.sort, "")
        },
        chrome,
    };
    render(&users_page)
}

fn status_label(filter: ListFilter) -> &'static str {
    match filter {
        ListFilter::Active => "Active",
        ListFilter::Inactive => "Inactive",
        ListFilter::Archived => "Archived",
        ListFilter::All => "All (active and inactive)",
    }
}

pub fn user_form(user: &User) -> UserForm {
    UserForm {
        version: user.version,
        given_name: user.given_name.as_str().to_owned(),
        family_name: user.family_name.as_str().to_owned(),
        username: user
            .username
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default(),
        email: user
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        role: user.role.as_str().to_owned(),
        active: user.may_sign_in(),
        prevent_archiving: user.prevent_archiving,
    }
}

/// Does giving this user sign-in back need a temporary password from the admin?
pub fn needs_temporary_password(user: &User) -> bool {
    user.email.is_none() && user.password.is_none() && !user.may_sign_in()
}

/// The user `id` of the visitor's org, or the page to answer with instead.
pub async fn load(app: &App, signed_in: &SignedIn, id: &str) -> Result<User, Response> {
    let id: UserId = id.parse().map_err(|_| not_found(signed_in))?;
    match app.user(&signed_in.visitor.principal, id).await {
        Ok(user) => Ok(user),
        Err(AppError::NotFound(_)) => Err(not_found(signed_in)),
        Err(err) => {
            tracing::error!(error = %err, "loading a user failed");
            Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

/// The page for a user id that names nobody in the visitor's org.
pub fn not_found(signed_in: &SignedIn) -> Response {
    let page = super::pages::MessagePage::new(
        signed_in.chrome.clone(),
        "No such user",
        "That user does not exist in your organisation.",
        "/users",
        "Back to users",
    );
    (StatusCode::NOT_FOUND, render(&page)).into_response()
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
        id: user.id.to_string(),
        name: user.display_name(),
        form,
        roles: role_names(),
        can_toggle: !matches!(
            rules::rules(user.status).search,
            rules::SearchVisibility::Hidden
        ),
        needs_password: needs_temporary_password(user),
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

#[derive(Debug, Deserialize, Default)]
pub struct DetailsForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    version: i64,
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
    fn edit(&self, with_prevent_archiving: bool) -> EditUser {
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
    fn as_form(&self) -> UserForm {
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

/// Words for an error an admin can act on.
pub fn explain(err: &AppError) -> (StatusCode, String) {
    match err {
        AppError::Stale { .. } => (StatusCode::CONFLICT, "Someone else changed this user while you were editing, so nothing was saved. Reload to see their changes, then make yours again.".to_owned()),
        AppError::Taken { field } => (StatusCode::CONFLICT, format!("Another user already has this {}.", field.replace('_', " "))),
        AppError::Invalid(fields) => (StatusCode::UNPROCESSABLE_ENTITY, fields.iter().map(|f| format!("{}: {}.", super::account::capitalize(&f.field.replace('_', " ")), f.message)).collect::<Vec<_>>().join(" ")),
        AppError::Transition(t) => (StatusCode::CONFLICT, super::account::capitalize(&t.to_string()) + "."),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "That user no longer exists.".to_owned()),
        other => {
            tracing::error!(error = %other, "console change failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side; nothing was changed.".to_owned())
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
        let (status, message) = explain(err);
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
    let edited = match app.edit_user(who, user.id, form.edit(false)).await {
        Ok(u) => u,
        Err(err) => return fail(&user, &err),
    };
    let wants_active = form.active.is_some();
    let toggled = !matches!(
        rules::rules(edited.status).search,
        rules::SearchVisibility::Hidden
    ) && wants_active != edited.may_sign_in();
    let mut secret = None;
    let current = if toggled {
        let request = StatusRequest {
            to: if wants_active {
                Status::Active
            } else {
                Status::Inactive
            },
            version: edited.version,
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
    super::status::respond(
        &signed_in,
        &headers,
        &current,
        secret,
        &back,
        &format!("{} has been updated.", current.display_name()),
    )
}

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
        .user_events(&signed_in.visitor.principal, user.id)
        .await
        .unwrap_or_default();
    let history = events
        .iter()
        .rev()
        .map(|event| HistoryLine {
            at: event.at.format("%Y-%m-%d %H:%M").to_string(),
            who: event.actor.label().to_owned(),
            change: match (event.action, event.from_status, event.to_status) {
                (AuditAction::StatusChanged, Some(from), Some(to)) => {
                    format!("{} → {}", capitalize_status(from), capitalize_status(to))
                }
                (AuditAction::Created, _, _) => "Created".to_owned(),
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
    ProfilePage {
        chrome: signed_in.chrome.clone(),
        id: user.id.to_string(),
        name: user.display_name(),
        form,
        roles: role_names(),
        archived: matches!(
            rules::rules(user.status).search,
            rules::SearchVisibility::Hidden
        ),
        needs_password: needs_temporary_password(user),
        source: user.source.as_str().to_owned(),
        external_id: user
            .external_id
            .as_ref()
            .map_or("—".to_owned(), |e| e.as_str().to_owned()),
        attributes: user
            .attributes
            .as_map()
            .iter()
            .map(|(k, v)| (k.replace('_', " "), v.clone()))
            .collect(),
        created: user.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        history,
        saved: saved.to_owned(),
        error: error.to_owned(),
    }
}

fn capitalize_status(status: Status) -> String {
    super::account::capitalize(status.as_str())
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
    match app
        .edit_user(&signed_in.visitor.principal, user.id, form.edit(true))
        .await
    {
        Ok(_) => Redirect::to(&format!("/users/{}?saved=1", user.id)).into_response(),
        Err(err) => {
            let (status, message) = explain(&err);
            let mut shown = form.as_form();
            shown.active = user.may_sign_in();
            (
                status,
                render(&profile_page(&app, &signed_in, &user, shown, "", &message).await),
            )
                .into_response()
        }
    }
}
