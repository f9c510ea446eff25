//! The admin console and sign-in, rendered on the server (askama), enhanced with htmx.
//! Every flow works without JavaScript: htmx only swaps the same pages' parts in place.

mod account;
mod bulk;
mod charts;
mod errors;
mod extract;
mod learning;
mod pages;
mod provisioning;
mod reports;
mod rosters;
mod rules;
mod scim;
mod segments;
mod status;
mod users;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use rollcall_app::App;

pub use extract::{Admin, SignedIn};
pub(crate) use learning::verify_url;

/// The session cookie: HttpOnly, SameSite=Lax, Secure when served over TLS.
pub const SESSION_COOKIE: &str = "rollcall_session";
/// The sign-in form's double-submit CSRF cookie (there is no session yet to hold a token).
pub const SIGN_IN_CSRF_COOKIE: &str = "rollcall_csrf";

/// The console's pages; roster uploads may be up to `max_import_bytes`.
/// The pages of the features that keep their own routes.
fn feature_routes() -> Router<App> {
    Router::new()
        .merge(scim::routes())
        .merge(segments::routes())
        .merge(reports::routes())
        .merge(rosters::routes())
}

pub fn routes(max_import_bytes: usize) -> Router<App> {
    Router::new()
        .route("/", get(account::home))
        .route(
            "/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/sign-out", post(account::sign_out))
        .route("/account", get(account::account_page))
        .route("/account/password", post(account::change_password))
        .route("/status-rules", get(rules::page))
        .route("/users", get(users::list::index))
        .route("/users/bulk", post(bulk::confirm))
        .route("/users/bulk/confirm", post(bulk::apply))
        .route("/users/bulk/write", post(bulk::write))
        .route(
            "/users/new",
            get(users::new::new_user).post(users::new::create),
        )
        .route("/users/{id}", get(users::profile::profile))
        .route("/users/{id}/password", post(users::new::reset_password))
        .route("/users/{id}/message", post(users::new::send_message))
        .route("/users/{id}/details", post(users::profile::save_details))
        .route(
            "/users/{id}/edit",
            get(users::edit::edit_dialog).post(users::edit::save_edit),
        )
        .route(
            "/users/{id}/status",
            get(status::confirm).post(status::apply),
        )
        .route("/users/{id}/switch", post(users::profile::switch))
        .route(
            "/sources",
            get(provisioning::sources).post(provisioning::add_source),
        )
        .route("/sources/safeguard", post(provisioning::safeguard))
        .route("/sources/{name}/pause", post(provisioning::pause))
        .route("/sources/{name}/resume", post(provisioning::resume))
        .route(
            "/sources/{name}/drop-folder",
            post(provisioning::drop_folder),
        )
        .route(
            "/sources/{name}/import",
            get(provisioning::import_page)
                .post(provisioning::import)
                .layer(axum::extract::DefaultBodyLimit::max(
                    max_import_bytes.saturating_add(64 * 1024),
                )),
        )
        .merge(feature_routes())
        .route("/runs", get(provisioning::runs))
        .route("/runs/{id}", get(provisioning::run))
        .route("/runs/{id}/approve", post(provisioning::approve))
        .route("/runs/{id}/reject", post(provisioning::reject))
        .route(
            "/runs/{id}/undo",
            get(provisioning::undo_confirm).post(provisioning::undo),
        )
        .route("/courses", get(learning::courses::index))
        .route(
            "/courses/new",
            get(learning::courses::new_form).post(learning::courses::create),
        )
        .route("/courses/{id}", get(learning::courses::show))
        .route(
            "/courses/{id}/edit",
            get(learning::courses::edit_form).post(learning::courses::save),
        )
        .route(
            "/courses/{id}/enrol",
            get(learning::courses::picker).post(learning::courses::enrol_picked),
        )
        .route(
            "/courses/{id}/{action}",
            get(learning::courses::confirm).post(learning::courses::act),
        )
        .route("/credits", get(learning::credits::index))
        .route("/credits/top-up", post(learning::credits::top_up))
        .route("/outbox", get(learning::credits::outbox))
        .route(
            "/certificates/{id}",
            get(learning::learner::admin_certificate),
        )
        .route("/my/courses", get(learning::learner::my_courses))
        .route("/my/courses/{id}", get(learning::learner::my_course))
        .route("/my/courses/{id}/start", post(learning::learner::start))
        .route("/my/courses/{id}/finish", post(learning::learner::finish))
        .route(
            "/my/courses/{id}/lessons/{lesson}",
            get(learning::learner::lesson).post(learning::learner::read),
        )
        .route(
            "/my/certificates/{id}",
            get(learning::learner::my_certificate),
        )
        .route("/verify/{org}", get(learning::learner::verify))
        .route("/verify/{org}/{code}", get(learning::learner::verify_code))
        .route("/assets/{name}", get(asset))
}

/// Renders a template, or a plain 500 if it cannot (which a test would have caught).
pub(crate) fn render(template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template failed to render");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            )
                .into_response()
        }
    }
}

/// The embedded static assets.
async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, content_type): (&'static str, &'static str) = match name.as_str() {
        "app.css" => (
            include_str!("../../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "htmx.min.js" => (
            include_str!("../../assets/htmx.min.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return (axum::http::StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
