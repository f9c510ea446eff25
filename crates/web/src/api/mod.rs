//! The REST API, `/api/v1`.

mod auth;
mod error;
mod extract;
pub mod openapi;
mod rules;
mod shape;
mod users;

use axum::Router;
use axum::routing::{get, post};
use rollcall_app::App;

pub use error::{FieldProblem, Problem};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route("/users/status", post(users::change_statuses))
        .route("/status-rules", get(rules::status_rules))
        .route("/users/{id}", get(users::show).patch(users::edit))
        .route("/users/{id}/status", post(users::change_status))
        .route("/users/{id}/events", get(users::events))
        .route("/openapi.json", get(openapi::serve))
        .fallback(error::no_such_route)
}
