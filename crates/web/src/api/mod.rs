//! The REST API, `/api/v1`.

mod auth;
mod error;
mod extract;
pub mod openapi;
mod provisioning;
mod rosters;
mod rules;
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
        .route("/runs", get(provisioning::list_runs))
        .route("/runs/{id}", get(provisioning::show_run))
        .route("/runs/{id}/approve", post(provisioning::approve_run))
        .route("/runs/{id}/reject", post(provisioning::reject_run))
        .route("/runs/{id}/undo", post(provisioning::undo_run))
        .route(
            "/provisioning-settings",
            get(provisioning::settings).patch(provisioning::edit_settings),
        )
        .route("/openapi.json", get(openapi::serve))
        .fallback(error::no_such_route)
}
