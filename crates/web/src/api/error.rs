//! Errors as `application/problem+json` (RFC 9457), naming the field at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_app::{AppError, ErrorClass};
use rollcall_domain::FieldError;
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
    /// Every problem of a refused file, by line and column.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowProblem>,
    #[serde(skip)]
    status_code: StatusCode,
    #[serde(skip)]
    challenge: bool,
    /// Seconds for a `Retry-After` header.
    #[serde(skip)]
    retry_after: Option<u64>,
}

/// One problem of a refused file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// The file of a package (`users.csv`); none for a single file.
    pub file: Option<String>,
    /// The line in the file (the header is line 1; 0 for the file or package as a whole).
    pub line: u64,
    /// The column's header as the file writes it, when one column is at fault.
    pub column: Option<String>,
    /// What the file holds there.
    pub value: Option<String>,
    pub reason: String,
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
            rows: Vec::new(),
            status_code: status,
            challenge: false,
            retry_after: None,
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
}

/// Renders a use-case error; `via_if_match` says where a stale version came from.
#[expect(
    clippy::needless_pass_by_value,
    reason = "shaped for `.map_err(|err| from_app(err, …))`"
)]
pub fn from_app(err: AppError, via_if_match: bool) -> Problem {
    crate::failure::log(&err);
    let class = err.class();
    let (kind, title) = match (class, &err) {
        (ErrorClass::Invalid, _) => ("invalid-input", "Invalid input"),
        (ErrorClass::NotFound, _) => ("not-found", "Not found"),
        (ErrorClass::Conflict, AppError::Taken { .. }) => ("taken", "Already taken"),
        (ErrorClass::Conflict, AppError::LooksLike { .. }) => ("looks-alike", "Looks like another"),
        (ErrorClass::Conflict, AppError::Conflict(_)) => ("conflict", "Refused by what is stored"),
        (ErrorClass::Conflict, _) => ("invalid-transition", "Status change refused"),
        (ErrorClass::Stale, _) => ("stale-version", "Changed by someone else"),
        (ErrorClass::Unauthenticated, _) => ("unauthenticated", "Not signed in"),
        (ErrorClass::Forbidden, AppError::AccountClosed) => {
            ("account-closed", "Account not active")
        }
        (ErrorClass::Forbidden, _) => ("forbidden", "Not allowed"),
        (ErrorClass::Throttled, _) => ("throttled", "Too many attempts"),
        (ErrorClass::Busy, _) => ("busy", "Busy"),
        (ErrorClass::Internal, _) => ("internal", "Internal error"),
    };
    let status = crate::failure::http_status(class, via_if_match);
    let mut problem =
        Problem::new(status, kind, title, err.public_message()).with_fields(err.fields());
    problem.challenge = class == ErrorClass::Unauthenticated;
    problem.retry_after = err.retry_after_secs();
    problem
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
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
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
