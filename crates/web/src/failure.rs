//! How each class of failure reads over HTTP, for the API and the console alike.

use axum::http::StatusCode;
use rollcall_app::{AppError, ErrorClass};

/// The HTTP status of a class of failure. `if_match` says a stale version came in an
/// `If-Match` header (412) rather than a body (409).
pub(crate) fn http_status(class: ErrorClass, if_match: bool) -> StatusCode {
    match class {
        ErrorClass::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Stale if if_match => StatusCode::PRECONDITION_FAILED,
        // A stale version named in the body is a conflict like any other.
        ErrorClass::Conflict | ErrorClass::Stale => StatusCode::CONFLICT,
        ErrorClass::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorClass::Forbidden => StatusCode::FORBIDDEN,
        ErrorClass::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorClass::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs a failure that is ours, once, with its causes; the caller's mistakes are not logged
/// as errors.
pub(crate) fn log(err: &AppError) {
    if err.class() == ErrorClass::Internal {
        tracing::error!(error = %err.chain(), "request failed");
    }
}
