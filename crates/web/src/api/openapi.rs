//! The OpenAPI description, generated from the handlers and types themselves.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{FieldProblem, Problem};
use super::{rules, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "Rollcall", description = "The user directory and user lifecycle of a learning platform."),
    paths(users::list, users::create, users::show, users::edit, users::change_status,
        users::change_statuses, users::events, rules::status_rules),
    components(schemas(
        users::UserBody, users::UserListBody, users::CreateUserBody, users::EditUserBody,
        users::StatusBody, users::StatusChangedBody, users::EventBody, users::ActorBody,
        users::EventListBody, users::BulkStatusBody, users::BulkStatusChangedBody,
        users::LeftOutBody, rules::StatusRulesBody, rules::RuleBody, rules::StatusDetailBody,
        rules::TransitionBody, Problem, FieldProblem
    )),
    modifiers(&BearerToken),
    tags((name = "users", description = "People of an org and their status"),
        (name = "status rules", description = "What each status means, as the code enforces it"))
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The OpenAPI document, pretty-printed, as committed in `openapi.json`.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    env!("CARGO_PKG_VERSION").clone_into(&mut doc.info.version);
    doc.to_pretty_json().unwrap_or_default() + "\n"
}

pub async fn serve() -> impl axum::response::IntoResponse {
    let doc: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap_or_default();
    Json(doc)
}
