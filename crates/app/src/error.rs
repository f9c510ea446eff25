//! The one error type of the use cases.

use rollcall_domain::{FieldError, TransitionError};
use rollcall_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be accepted; every field at fault is listed.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken.
    #[error("{field} is already taken")]
    Taken { field: &'static str },
    /// The caller read an older version than the one stored.
    #[error("the user was changed by someone else since version {expected} (now {current})")]
    Stale { expected: i64, current: i64 },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// No valid credentials.
    #[error("not signed in")]
    Unauthenticated,
    /// The right password for an account that may not sign in (inactive or archived).
    #[error("this account is not active")]
    AccountClosed,
    /// Too many failed sign-ins; try again later.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// Valid credentials without the power to do this.
    #[error("not allowed")]
    Forbidden,
    /// A failure that is ours, not the caller's. Logged; never shown in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        Self::Invalid(vec![err])
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { field } => Self::Taken { field },
            // Callers that know the expected version map Stale themselves.
            StoreError::Stale { current } => Self::Stale {
                expected: current - 1,
                current,
            },
            StoreError::NotFound => Self::NotFound("user"),
            StoreError::Other(message) => Self::Internal(message),
        }
    }
}

/// Collects field errors so a request hears of every problem at once.
#[derive(Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    /// Keeps the value, or records the error and gives `None`.
    pub(crate) fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|err| self.0.push(err)).ok()
    }

    pub(crate) fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}
