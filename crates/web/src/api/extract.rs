//! Extractors whose rejections are problem reports that say what was wrong and where.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use rollcall_domain::{FieldError, UserId};
use serde::de::DeserializeOwned;

use super::{Problem, shape};

/// A JSON body: malformed JSON is a 400 naming line and column; a body of the wrong shape
/// (unknown field, missing field, wrong type) is a 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or_default().trim();
                essence.eq_ignore_ascii_case("application/json")
                    || essence.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Expected JSON",
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|err| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "unreadable-body",
                "Unreadable body",
                err.body_text(),
            )
        })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|err| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                format!("the body is not valid JSON: {err}"),
            )
        })?;
        shape::from_json(value)
            .map(Self)
            .map_err(|field| Problem::invalid(vec![field]))
    }
}

/// A JSON body that may be left out: an empty body, or `null`, is `None`; any other body is
/// read as [`ApiJson`] reads it.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let empty = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() == "0")
            && !headers.contains_key(header::TRANSFER_ENCODING);
        if empty {
            return Ok(Self(None));
        }
        ApiJson::<Option<T>>::from_request(req, state)
            .await
            .map(|ApiJson(body)| Self(body))
    }
}

/// A body taken as it comes (an uploaded file); one beyond the route's limit is a 413 problem.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|err| {
                Problem::new(
                    err.status(),
                    "unreadable-body",
                    "Unreadable body",
                    err.body_text(),
                )
            })
    }
}

/// Query parameters, refused with the parameter named when they do not parse.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        shape::from_query(pairs)
            .map(Self)
            .map_err(|field| Problem::invalid(vec![field]))
    }
}

/// The `{id}` of a user path. A malformed id names no user: 404, like another org's id.
pub fn user_id(raw: &str) -> Result<UserId, Problem> {
    raw.parse().map_err(|_| Problem::not_found("user"))
}

/// The version in an `If-Match: "<version>"` header, if one was sent.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        raw.to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse().ok())
            .map(|v| Self(Some(v)))
            .ok_or_else(|| {
                Problem::invalid(vec![FieldError::new(
                    "If-Match",
                    "must be the ETag of what you read (its version, quoted, like \"3\")",
                )])
            })
    }
}

/// A page's `limit`: `default` when none is asked, refused outside 1 to `most`.
pub(crate) fn limit_within(asked: Option<u64>, default: u64, most: u64) -> Result<u64, Problem> {
    match asked {
        None => Ok(default),
        Some(limit) if (1..=most).contains(&limit) => Ok(limit),
        Some(_) => Err(Problem::invalid(vec![FieldError::new(
            "limit",
            format!("must be between 1 and {most}"),
        )])),
    }
}
