//! Errors as `application/problem+json` (RFC 9457), naming the field at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_app::AppError;
use rollcall_domain::{FieldError, TransitionError};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem: `urn:rollcall:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, in a sentence.
    pub detail: String,
    /// Every field at fault, when the input was to blame.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    #[serde(skip)]
    status_code: StatusCode,
    #[serde(skip)]
    challenge: bool,
}

/// One field at fault.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, dotted for nested ones (`attributes.grade`).
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:rollcall:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            status_code: status,
            challenge: false,
        }
    }

    #[must_use]
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.errors = fields
            .into_iter()
            .map(|f| FieldProblem {
                field: f.field,
                message: f.message,
            })
            .collect();
        self
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let detail = fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            "Invalid input",
            detail,
        )
        .with_fields(fields)
    }

    pub fn unauthenticated(detail: &str) -> Self {
        let mut problem = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Not signed in",
            detail,
        );
        problem.challenge = true;
        problem
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no such {what}"),
        )
    }

    /// A stale write: 412 when the version came in `If-Match`, 409 when it came in the body.
    pub fn stale(expected: i64, current: i64, via_if_match: bool) -> Self {
        let status = if via_if_match {
            StatusCode::PRECONDITION_FAILED
        } else {
            StatusCode::CONFLICT
        };
        Self::new(
            status,
            "stale-version",
            "Changed by someone else",
            format!(
                "the user was changed since you read it (you sent version {expected}, it is now \
                 at {current}); reload it and apply your change again"
            ),
        )
        .with_fields(vec![FieldError::new(
            "version",
            format!("is {current} now"),
        )])
    }
}

/// Maps a use-case error; `via_if_match` says where a stale version came from.
pub fn from_app(err: AppError, via_if_match: bool) -> Problem {
    match err {
        AppError::Invalid(fields) => Problem::invalid(fields),
        AppError::NotFound(what) => Problem::not_found(what),
        AppError::Taken { field } => Problem::new(
            StatusCode::CONFLICT,
            "taken",
            "Already taken",
            format!("another user of this org already has this {field}"),
        )
        .with_fields(vec![FieldError::new(field, "is already taken")]),
        AppError::Stale { expected, current } => Problem::stale(expected, current, via_if_match),
        AppError::Transition(TransitionError::TemporaryPasswordRequired) => {
            let err = TransitionError::TemporaryPasswordRequired;
            Problem::invalid(vec![FieldError::new("temporary_password", err.to_string())])
        }
        AppError::Transition(err) => Problem::new(
            StatusCode::CONFLICT,
            "invalid-transition",
            "Status change refused",
            err.to_string(),
        )
        .with_fields(vec![FieldError::new("status", err.to_string())]),
        AppError::Unauthenticated => Problem::unauthenticated(
            "the token is missing, invalid or revoked, or its user may not sign in",
        ),
        AppError::AccountClosed => Problem::new(
            StatusCode::FORBIDDEN,
            "account-closed",
            "Account not active",
            "this account is not active and cannot sign in",
        ),
        AppError::Throttled { retry_after_secs } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "Too many attempts",
            format!("too many attempts; try again in {retry_after_secs} seconds"),
        ),
        AppError::Forbidden => Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            "this needs an admin of the org",
        ),
        AppError::Internal(message) => {
            tracing::error!(error = %message, "request failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "something went wrong on our side; it has been logged",
            )
        }
    }
}

impl From<AppError> for Problem {
    fn from(err: AppError) -> Self {
        from_app(err, false)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code;
        let challenge = self.challenge;
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub async fn no_such_route() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "no such endpoint",
    )
}
