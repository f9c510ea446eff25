//! The REST API, `/api/v1`.

mod auth;
mod connections;
mod error;
mod extract;
mod learning;
pub mod openapi;
mod provisioning;
pub mod reports;
mod rosters;
mod rules;
mod segments;
mod shape;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use rollcall_app::App;

pub use error::{FieldProblem, Problem, RowProblem};

pub use provisioning::DEFAULT_MAX_IMPORT_BYTES;

/// The API's routes; roster uploads may be up to `max_import_bytes`.
pub fn routes(max_import_bytes: usize, drop_root: Option<std::path::PathBuf>) -> Router<App> {
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route("/users/status", post(users::change_statuses))
        .route("/status-rules", get(rules::status_rules))
        .route("/users/{id}", get(users::show).patch(users::edit))
        .route("/users/{id}/status", post(users::change_status))
        .route("/users/{id}/events", get(users::events))
        .route(
            "/sources",
            get(provisioning::list_sources).post(provisioning::add_source),
        )
        .route(
            "/sources/{name}",
            get(provisioning::show_source)
                .patch(provisioning::edit_source)
                .layer(axum::Extension(provisioning::DropRoot(drop_root))),
        )
        .route(
            "/sources/{name}/imports",
            post(provisioning::import).layer(DefaultBodyLimit::max(max_import_bytes)),
        )
        .route("/rosters", get(rosters::list))
        .route("/rosters/{id}", get(rosters::show))
        .route("/rosters/{id}/message", post(rosters::message))
        .route("/runs", get(provisioning::list_runs))
        .route("/runs/{id}", get(provisioning::show_run))
        .route("/runs/{id}/approve", post(provisioning::approve_run))
        .route("/runs/{id}/reject", post(provisioning::reject_run))
        .route("/runs/{id}/undo", post(provisioning::undo_run))
        .route(
            "/provisioning-settings",
            get(provisioning::settings).patch(provisioning::edit_settings),
        )
        .route(
            "/courses",
            get(learning::list_courses).post(learning::create_course),
        )
        .route(
            "/courses/{id}",
            get(learning::show_course).put(learning::edit_course),
        )
        .route("/courses/{id}/retire", post(learning::retire_course))
        .route("/courses/{id}/enrolments", post(learning::enrol))
        .route("/courses/{id}/people", get(learning::people))
        .route("/credits", get(learning::credits))
        .route("/credits/top-ups", post(learning::top_up))
        .route("/outbox", get(learning::outbox))
        .route("/messages", post(learning::write_message))
        .route("/messages/everyone", post(segments::message_everyone))
        .route("/messages/everyone/reach", get(segments::everyone_reach))
        .route("/users/{id}/training", get(learning::training))
        .route("/certificates/{id}", get(learning::certificate))
        .route("/certificates/{id}/pdf", get(learning::certificate_pdf))
        .route("/me/courses", get(learning::my_courses))
        .route("/me/courses/{id}", get(learning::my_course))
        .route("/me/courses/{id}/start", post(learning::start))
        .route(
            "/me/courses/{id}/lessons/{lesson}/read",
            post(learning::read_lesson),
        )
        .route("/me/courses/{id}/finish", post(learning::finish))
        .route(
            "/me/certificates/{id}/pdf",
            get(learning::my_certificate_pdf),
        )
        .route("/verify/{org}/{code}", get(learning::verify))
        .route(
            "/scim-connections",
            get(connections::list).post(connections::add),
        )
        .route("/scim-connections/{name}", get(connections::show))
        .route(
            "/scim-connections/{name}/tokens",
            post(connections::add_token),
        )
        .route(
            "/scim-connections/{name}/tokens/{id}",
            axum::routing::delete(connections::revoke_token),
        )
        .route(
            "/scim-connections/{name}/requests",
            get(connections::requests),
        )
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/preview", post(segments::preview))
        .route(
            "/segments/{id}",
            get(segments::show)
                .put(segments::replace)
                .delete(segments::delete),
        )
        .route("/segments/{id}/members", get(segments::members))
        .route("/segments/{id}/reach", get(segments::reach))
        .route("/segments/{id}/message", post(segments::message))
        .route("/segments/{id}/figures", get(reports::segment_figures))
        .route("/figures", get(reports::figures))
        .route("/reports/completions", get(reports::completions))
        .route("/reports/completions.csv", get(reports::completions_csv))
        .route("/openapi.json", get(openapi::serve))
        .fallback(error::no_such_route)
}
