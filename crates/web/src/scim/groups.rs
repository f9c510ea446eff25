//! `/scim/v2/Groups`: not served yet; every call says so.

use axum::response::Response;

use super::error;
use rollcall_scim::ScimError;

fn not_yet() -> Response {
    error(&ScimError::not_implemented("Groups"))
}

pub(super) async fn list() -> Response {
    not_yet()
}
pub(super) async fn create() -> Response {
    not_yet()
}
pub(super) async fn search() -> Response {
    not_yet()
}
pub(super) async fn show() -> Response {
    not_yet()
}
pub(super) async fn replace() -> Response {
    not_yet()
}
pub(super) async fn patch() -> Response {
    not_yet()
}
pub(super) async fn delete() -> Response {
    not_yet()
}
