//! Learning in the console: admins' courses, enrolments, credits and outbox; learners' courses,
//! lessons, quizzes and certificates; and the public check of a certificate's code.

pub mod courses;
pub mod credits;
pub mod learner;
mod pages;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rollcall_app::AppError;
use rollcall_domain::Timestamp;
use rollcall_domain::learning::Certificate;

/// An id from the address, or the thing is not found.
fn parse_id<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, AppError> {
    text.parse().map_err(|_| AppError::NotFound(what))
}

/// "5 December 2026".
fn day(at: Timestamp) -> String {
    at.format("%-d %B %Y").to_string()
}

/// "2026-12-05 14:03".
fn minute(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// Where anyone checks a certificate of `org`: this server's address as the request reached
/// it (behind a proxy, as the proxy says it was asked).
pub(crate) fn verify_url(headers: &HeaderMap, org: &str) -> String {
    format!("{}/verify/{org}", crate::public_origin(headers))
}

/// A certificate as a PDF download.
fn certificate_pdf(certificate: &Certificate, org_name: &str, verify: &str) -> Response {
    match crate::certificate::pdf(certificate, org_name, verify) {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            let file = format!(
                "attachment; filename=\"certificate-{}.pdf\"",
                certificate.code.as_str()
            );
            if let Ok(value) = HeaderValue::from_str(&file) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Err(why) => {
            tracing::error!(%why, "a certificate could not be drawn");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "the certificate could not be drawn",
            )
                .into_response()
        }
    }
}
