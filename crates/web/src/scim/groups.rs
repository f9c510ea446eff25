//! `/scim/v2/Groups`: the org's rosters that a connection manages.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rollcall_app::{App, ScimGroup};
use rollcall_scim::list::{self, ListParams, Selection};
use rollcall_scim::{Resource, ScimError};

use super::{
    Base, Caller, body, error, failure, if_match, is_search, not_modified, query_lookup, resource,
};

fn selection(query: Option<&str>) -> Selection {
    let get = query_lookup(query);
    Selection::new(
        Resource::Group,
        get("attributes").as_deref(),
        get("excludedAttributes").as_deref(),
    )
}

fn shown(group: &ScimGroup, base: &str, selection: &Selection) -> serde_json::Value {
    let mut json = group.to_json(base);
    selection.apply(&mut json);
    json
}

async fn listing(app: &App, caller: &Caller, base: &str, params: &ListParams) -> Response {
    match app.scim_groups(&caller.0, params).await {
        Ok((groups, total)) => {
            let resources = groups
                .iter()
                .map(|g| shown(g, base, &params.selection))
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
    match list::params(Resource::Group, &get) {
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
    match list::search_params(Resource::Group, &body) {
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
    match app.scim_group(&caller.0, &id).await {
        Ok(group) => {
            let etag = group.etag();
            if let Some(unchanged) = not_modified(&headers, &etag) {
                return unchanged;
            }
            resource(
                StatusCode::OK,
                &shown(&group, &base, &selection(query.as_deref())),
                &etag,
            )
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
    let body = match body(&headers, bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    match app.scim_create_group(&caller.0, &body).await {
        Ok(group) => resource(
            StatusCode::CREATED,
            &shown(&group, &base, &selection(query.as_deref())),
            &group.etag(),
        ),
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
    let body = match body(&headers, bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    match app
        .scim_replace_group(&caller.0, &id, &body, if_match(&headers))
        .await
    {
        Ok(group) => resource(
            StatusCode::OK,
            &shown(&group, &base, &selection(query.as_deref())),
            &group.etag(),
        ),
        Err(err) => failure(&err),
    }
}

/// A group's PATCH answers 204 (returning every member would be costly), unless the request
/// asks for attributes: then 200 with them (RFC 7644 §3.5.2).
pub(super) async fn patch(
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
        Err(response) => return response,
    };
    let operations = match rollcall_scim::patch::operations(&body) {
        Ok(operations) => operations,
        Err(err) => return error(&err),
    };
    match app
        .scim_patch_group(&caller.0, &id, &operations, if_match(&headers))
        .await
    {
        Ok(group) => {
            let get = query_lookup(query.as_deref());
            if get("attributes").is_some() || get("excludedAttributes").is_some() {
                resource(
                    StatusCode::OK,
                    &shown(&group, &base, &selection(query.as_deref())),
                    &group.etag(),
                )
            } else {
                let mut response = StatusCode::NO_CONTENT.into_response();
                if let Ok(value) = axum::http::HeaderValue::from_str(&group.etag()) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::ETAG, value);
                }
                response
            }
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
        .scim_delete_group(&caller.0, &id, if_match(&headers))
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => failure(&err),
    }
}
