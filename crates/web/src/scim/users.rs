//! `/scim/v2/Users`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rollcall_app::App;
use rollcall_scim::Resource;

use super::{
    Base, Caller, Shown, body, failure, if_match, not_modified, one, page, query_params,
    search_params, selection,
};

pub(super) async fn list(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    RawQuery(query): RawQuery,
) -> Response {
    match query_params(Resource::User, query.as_deref()) {
        Ok(params) => page(app.scim_users(&caller.0, &params).await, &base, &params),
        Err(refused) => refused,
    }
}

pub(super) async fn search(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    match search_params(Resource::User, &headers, bytes) {
        Ok(params) => page(app.scim_users(&caller.0, &params).await, &base, &params),
        Err(refused) => refused,
    }
}

pub(super) async fn show(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let found = app.scim_user(&caller.0, &id).await;
    if let Some(unchanged) = found
        .as_ref()
        .ok()
        .and_then(|user| not_modified(&headers, &user.version()))
    {
        return unchanged;
    }
    let selection = selection(Resource::User, query.as_deref());
    one(StatusCode::OK, found, &base, &selection)
}

pub(super) async fn create(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body(&headers, bytes) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let selection = selection(Resource::User, query.as_deref());
    let made = app.scim_create_user(&caller.0, &body).await;
    one(StatusCode::CREATED, made, &base, &selection)
}

pub(super) async fn replace(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body(&headers, bytes) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let selection = selection(Resource::User, query.as_deref());
    let replaced = app
        .scim_replace_user(&caller.0, &id, &body, if_match(&headers))
        .await;
    one(StatusCode::OK, replaced, &base, &selection)
}

pub(super) async fn patch(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let operations = match body(&headers, bytes)
        .and_then(|body| rollcall_scim::patch::operations(&body).map_err(|e| super::error(&e)))
    {
        Ok(operations) => operations,
        Err(refused) => return refused,
    };
    let selection = selection(Resource::User, query.as_deref());
    let patched = app
        .scim_patch_user(&caller.0, &id, &operations, if_match(&headers))
        .await;
    one(StatusCode::OK, patched, &base, &selection)
}

pub(super) async fn delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match app
        .scim_delete_user(&caller.0, &id, if_match(&headers))
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => failure(&err),
    }
}
