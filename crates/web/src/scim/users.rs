//! `/scim/v2/Users`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rollcall_app::App;
use rollcall_scim::list::{self, ListParams, Selection};
use rollcall_scim::{Resource, ScimError};
use serde_json::Value;

use super::{
    Base, Caller, body, error, failure, if_match, is_search, not_modified, query_lookup, resource,
};

fn selection(query: Option<&str>) -> Selection {
    let get = query_lookup(query);
    Selection::new(
        Resource::User,
        get("attributes").as_deref(),
        get("excludedAttributes").as_deref(),
    )
}

async fn listing(app: &App, caller: &Caller, base: &str, params: &ListParams) -> Response {
    match app.scim_users(&caller.0, params).await {
        Ok((users, total)) => {
            let resources = users
                .iter()
                .map(|u| {
                    let mut json = u.to_json(base);
                    params.selection.apply(&mut json);
                    json
                })
                .collect();
            super::json(
                StatusCode::OK,
                &list::response(resources, total, params.start_index),
            )
        }
        Err(err) => failure(&err),
    }
}

pub(super) async fn list(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    RawQuery(query): RawQuery,
) -> Response {
    let get = query_lookup(query.as_deref());
    match list::params(Resource::User, &get) {
        Ok(params) => listing(&app, &caller, &base, &params).await,
        Err(err) => error(&err),
    }
}

pub(super) async fn search(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body(&headers, bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    if !is_search(&body) {
        return error(&ScimError::invalid_syntax(format!(
            "schemas must name {}",
            rollcall_scim::urn::SEARCH
        )));
    }
    match list::search_params(Resource::User, &body) {
        Ok(params) => listing(&app, &caller, &base, &params).await,
        Err(err) => error(&err),
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
    match app.scim_user(&caller.0, &id).await {
        Ok(user) => {
            let etag = user.etag();
            if let Some(unchanged) = not_modified(&headers, &etag) {
                return unchanged;
            }
            let mut json = user.to_json(&base);
            selection(query.as_deref()).apply(&mut json);
            resource(StatusCode::OK, &json, &etag)
        }
        Err(err) => failure(&err),
    }
}

pub(super) async fn create(
    State(app): State<App>,
    caller: Caller,
    Base(base): Base,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let body: Value = match body(&headers, bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    match app.scim_create_user(&caller.0, &body).await {
        Ok(user) => {
            let mut json = user.to_json(&base);
            selection(query.as_deref()).apply(&mut json);
            resource(StatusCode::CREATED, &json, &user.etag())
        }
        Err(err) => failure(&err),
    }
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
    let body: Value = match body(&headers, bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    match app
        .scim_replace_user(&caller.0, &id, &body, if_match(&headers))
        .await
    {
        Ok(user) => {
            let mut json = user.to_json(&base);
            selection(query.as_deref()).apply(&mut json);
            resource(StatusCode::OK, &json, &user.etag())
        }
        Err(err) => failure(&err),
    }
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
    let body: Value = match body(&headers, bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let operations = match rollcall_scim::patch::operations(&body) {
        Ok(operations) => operations,
        Err(err) => return error(&err),
    };
    match app
        .scim_patch_user(&caller.0, &id, &operations, if_match(&headers))
        .await
    {
        Ok(user) => {
            let mut json = user.to_json(&base);
            selection(query.as_deref()).apply(&mut json);
            resource(StatusCode::OK, &json, &user.etag())
        }
        Err(err) => failure(&err),
    }
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
