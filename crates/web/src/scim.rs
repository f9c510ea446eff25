//! SCIM 2.0 under `/scim/v2` (RFC 7644): Users, Groups, and the discovery documents. Every
//! answer is `application/scim+json`; every refusal is a SCIM error body (RFC 7644 §3.12),
//! an unknown path included. Users and Groups need a connection's bearer token; the discovery
//! documents, which say nothing about the org, do not.

mod groups;
mod users;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use rollcall_app::{App, AppError, ErrorClass, ScimCaller};
use rollcall_scim::list::{ListParams, Selection};
use rollcall_scim::{Resource, ScimError, schema, urn};
use serde_json::Value;

/// The media type of every answer.
const SCIM_JSON: &str = "application/scim+json";

pub fn routes(app: App) -> Router<App> {
    Router::new()
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/.search", post(users::search))
        .route(
            "/Users/{id}",
            get(users::show)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/.search", post(groups::search))
        .route(
            "/Groups/{id}",
            get(groups::show)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route(
            "/ServiceProviderConfig",
            get(service_provider_config).fallback(method_not_allowed),
        )
        .route(
            "/ResourceTypes",
            get(resource_types).fallback(method_not_allowed),
        )
        .route(
            "/ResourceTypes/{name}",
            get(resource_type).fallback(method_not_allowed),
        )
        .route("/Schemas", get(schemas).fallback(method_not_allowed))
        .route("/Schemas/{id}", get(schema_of).fallback(method_not_allowed))
        .route(
            "/Bulk",
            any(|| async { error(&ScimError::not_implemented("Bulk")) }),
        )
        .route(
            "/Me",
            any(|| async { error(&ScimError::not_implemented("/Me")) }),
        )
        .route(
            "/.search",
            any(|| async {
                error(&ScimError::not_implemented(
                    "searching every resource type at once (use /Users/.search or /Groups/.search)",
                ))
            }),
        )
        .fallback(|| async { error(&ScimError::not_found("no such SCIM endpoint")) })
        .layer(axum::middleware::from_fn_with_state(app, authenticate))
}

/// The bearer token of `headers`, when one is sent.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks a request's token once, before its handler: the connection it belongs to goes with
/// the request ([`Caller`]), gets the request's id back (`X-Request-Id`, the id its changes
/// carry in people's histories), and its request is noted with the answer's status. A
/// request without a token goes on (the discovery documents need none; Users and Groups then
/// answer 401).
async fn authenticate(
    State(app): State<App>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(token) = bearer(request.headers()).map(str::to_owned) else {
        return next.run(request).await;
    };
    let caller = match app.authenticate_scim(&token).await {
        Ok(caller) => caller,
        Err(err) => return failure(&err),
    };
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(String::new, |p| p.as_str().to_owned());
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    app.record_scim_request(&caller, &method, &path, response.status().as_u16());
    if let Ok(id) = HeaderValue::from_str(&caller.request.to_string()) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

async fn method_not_allowed() -> Response {
    error(&ScimError::new(
        405,
        None,
        "this endpoint is read-only: only GET is allowed",
    ))
}

/// A SCIM JSON answer.
fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

/// A SCIM error answer.
pub(crate) fn error(err: &ScimError) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json(status, &err.body());
    if err.status == 401 {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"Rollcall SCIM\""),
        );
    }
    response
}

/// A use case's failure, as a SCIM client is told.
pub(crate) fn failure(err: &AppError) -> Response {
    crate::failure::log(err);
    let scim = match err {
        AppError::Scim(scim) => scim.clone(),
        other => {
            let detail = other.public_message();
            match other.class() {
                ErrorClass::Invalid => ScimError::invalid_value(detail),
                ErrorClass::NotFound => ScimError::not_found(detail),
                ErrorClass::Conflict => match other {
                    AppError::Taken { .. } | AppError::LooksLike { .. } => {
                        ScimError::uniqueness(detail)
                    }
                    _ => ScimError::new(409, None, detail),
                },
                ErrorClass::Stale => ScimError::new(409, None, detail),
                ErrorClass::Unauthenticated => ScimError::unauthorized(),
                ErrorClass::Forbidden => ScimError::new(403, None, detail),
                ErrorClass::Throttled => ScimError::new(429, None, detail),
                ErrorClass::Busy => ScimError::new(503, None, detail),
                ErrorClass::Internal => ScimError::new(500, None, detail),
            }
        }
    };
    let mut response = error(&scim);
    if let Some(value) = err
        .retry_after_secs()
        .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The base URL clients reach SCIM at, from the request (behind a TLS proxy, as the proxy
/// says it was asked).
pub(crate) struct Base(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(format!(
            "{}/scim/v2",
            crate::public_origin(&parts.headers)
        )))
    }
}

/// The connection a request's bearer token belongs to.
pub(crate) struct Caller(pub ScimCaller);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    /// The connection [`authenticate`] found for the request.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ScimCaller>()
            .cloned()
            .map(Self)
            .ok_or_else(|| error(&ScimError::unauthorized()))
    }
}

/// A request body read as JSON: `application/scim+json` or `application/json` (any charset),
/// at most the service's body limit.
pub(crate) fn body(
    headers: &HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Value, Response> {
    let bytes = bytes.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            error(&ScimError::new(
                413,
                None,
                "the body is larger than this service accepts (1 MiB)",
            ))
        } else {
            error(&ScimError::invalid_syntax(format!(
                "the body could not be read: {rejection}"
            )))
        }
    })?;
    if let Some(kind) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
    {
        let essence = kind
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            essence.as_str(),
            "application/scim+json" | "application/json" | "text/json"
        ) {
            return Err(error(&ScimError::new(
                415,
                None,
                format!(
                    "the body must be application/scim+json or application/json, not {essence}"
                ),
            )));
        }
    }
    serde_json::from_slice(&bytes).map_err(|err| {
        error(&ScimError::invalid_syntax(format!(
            "the body is not valid JSON: {err}"
        )))
    })
}

/// `If-Match`, when sent.
pub(crate) fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::IF_MATCH).and_then(|h| h.to_str().ok())
}

/// A single resource's answer: its ETag, and its Location when it was just created.
pub(crate) fn resource(status: StatusCode, body: &Value, etag: &str) -> Response {
    let mut response = json(status, body);
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    let location = body
        .pointer("/meta/location")
        .and_then(Value::as_str)
        .and_then(|l| HeaderValue::from_str(l).ok());
    if let (StatusCode::CREATED, Some(location)) = (status, location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `If-None-Match` naming the current version: 304 with nothing else.
pub(crate) fn not_modified(headers: &HeaderMap, etag: &str) -> Option<Response> {
    let sent = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())?;
    rollcall_app::if_match_allows(Some(sent), etag).then(|| {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(value) = HeaderValue::from_str(etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    })
}

/// The query's parameters, looked up ignoring case.
pub(crate) fn query_lookup(query: Option<&str>) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

async fn service_provider_config(Base(base): Base) -> Response {
    json(
        StatusCode::OK,
        &schema::service_provider_config(&base, rollcall_scim::list::MAX_COUNT),
    )
}

async fn resource_types(Base(base): Base) -> Response {
    let all = schema::resource_types(&base);
    let total = all.len() as u64;
    json(
        StatusCode::OK,
        &rollcall_scim::list::response(all, total, 1),
    )
}

async fn resource_type(Base(base): Base, Path(name): Path<String>) -> Response {
    schema::resource_types(&base)
        .into_iter()
        .find(|r| {
            r["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(&name))
        })
        .map_or_else(
            || error(&ScimError::not_found(format!("no resource type '{name}'"))),
            |r| json(StatusCode::OK, &r),
        )
}

async fn schemas(Base(base): Base) -> Response {
    let all = schema::schemas(&base);
    let total = all.len() as u64;
    json(
        StatusCode::OK,
        &rollcall_scim::list::response(all, total, 1),
    )
}

async fn schema_of(Base(base): Base, Path(id): Path<String>) -> Response {
    schema::schemas(&base)
        .into_iter()
        .find(|s| {
            s["id"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(&id))
        })
        .map_or_else(
            || error(&ScimError::not_found(format!("no schema '{id}'"))),
            |s| json(StatusCode::OK, &s),
        )
}

/// A resource as it is answered: its representation and its version.
pub(crate) trait Shown {
    fn json(&self, base: &str) -> Value;
    fn version(&self) -> String;
}

impl Shown for rollcall_app::ScimUser {
    fn json(&self, base: &str) -> Value {
        self.to_json(base)
    }

    fn version(&self) -> String {
        self.etag()
    }
}

impl Shown for rollcall_app::ScimGroup {
    fn json(&self, base: &str) -> Value {
        self.to_json(base)
    }

    fn version(&self) -> String {
        self.etag()
    }
}

/// The attributes a request's query asks for (or leaves out).
pub(crate) fn selection(resource: Resource, query: Option<&str>) -> Selection {
    let get = query_lookup(query);
    Selection::new(
        resource,
        get("attributes").as_deref(),
        get("excludedAttributes").as_deref(),
    )
}

/// A list request's parameters, from a GET's query.
pub(crate) fn query_params(
    resource: Resource,
    query: Option<&str>,
) -> Result<ListParams, Response> {
    rollcall_scim::list::params(resource, &query_lookup(query)).map_err(|e| error(&e))
}

/// A list request's parameters, from a search request's body.
pub(crate) fn search_params(
    resource: Resource,
    headers: &HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<ListParams, Response> {
    let body = body(headers, bytes)?;
    if !is_search(&body) {
        return Err(error(&ScimError::invalid_syntax(format!(
            "schemas must name {}",
            urn::SEARCH
        ))));
    }
    rollcall_scim::list::search_params(resource, &body).map_err(|e| error(&e))
}

/// A page of resources, as a ListResponse.
pub(crate) fn page<T: Shown>(
    found: Result<(Vec<T>, u64), AppError>,
    base: &str,
    params: &ListParams,
) -> Response {
    match found {
        Ok((items, total)) => {
            let resources = items
                .iter()
                .map(|item| {
                    let mut json = item.json(base);
                    params.selection.apply(&mut json);
                    json
                })
                .collect();
            json(
                StatusCode::OK,
                &rollcall_scim::list::response(resources, total, params.start_index),
            )
        }
        Err(err) => failure(&err),
    }
}

/// One resource, with `status`, trimmed to what the query asks for.
pub(crate) fn one<T: Shown>(
    status: StatusCode,
    found: Result<T, AppError>,
    base: &str,
    selection: &Selection,
) -> Response {
    match found {
        Ok(item) => {
            let mut json = item.json(base);
            selection.apply(&mut json);
            resource(status, &json, &item.version())
        }
        Err(err) => failure(&err),
    }
}

/// Is `urn` the message a search body must name?
pub(crate) fn is_search(body: &Value) -> bool {
    body.get("schemas")
        .and_then(Value::as_array)
        .is_none_or(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(urn::SEARCH))
            })
        })
}
