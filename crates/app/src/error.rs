//! The one error type of the use cases, and the one classification every surface renders
//! (problem+json for the API, a page or fragment for the console).

use rollcall_domain::learning::LearningError;
use rollcall_domain::{FieldError, TransitionError};
use rollcall_store::StoreError;

/// The cause of an internal failure, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

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
    /// A username that looks like another user's of the org (it differs only in case, width,
    /// or characters of another script that look the same).
    #[error("{field} looks like another user's")]
    LooksLike { field: &'static str },
    /// The caller read an older version than the one stored.
    /// `sent` is the version the caller sent, if they sent one.
    #[error("the user was changed by someone else (now at version {current})")]
    /// `what` was changed since it was read: "user", "segment".
    Stale {
        what: &'static str,
        sent: Option<i64>,
        current: i64,
    },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A learner's step the rules refuse (no access, no credits left, a step out of turn).
    #[error("{0}")]
    Learning(LearningError),
    /// What is stored refuses this now (a run that is not held any more, a source being
    /// applied by another run); the field says what stands in the way.
    #[error("{0}")]
    Conflict(FieldError),
    /// No valid credentials.
    #[error("not signed in")]
    Unauthenticated,
    /// The right password for an account that may not sign in (inactive or archived).
    #[error("this account is not active")]
    AccountClosed,
    /// Too many failed sign-ins; try again later.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// Too much work under way (password checks): come back shortly.
    #[error("busy; try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    /// Valid credentials without the power to do this.
    #[error("not allowed")]
    Forbidden,
    /// A SCIM request the protocol refuses (RFC 7644 §3.12), with its own status and type.
    #[error("{0}")]
    Scim(rollcall_scim::ScimError),
    /// A failure that is ours, not the caller's: logged with its cause, never shown.
    #[error("internal failure while {doing}")]
    Internal {
        doing: &'static str,
        #[source]
        cause: Cause,
    },
}

/// What kind of failure an error is: every surface maps these, and only these, to its own
/// form (an HTTP status, a page, a SCIM error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request was wrong: fix the fields named.
    Invalid,
    NotFound,
    /// It clashes with what is stored (a taken value, a move the rules refuse).
    Conflict,
    /// Someone else changed it first: reload and try again.
    Stale,
    Unauthenticated,
    /// Signed in, but not allowed (including an account that may not sign in).
    Forbidden,
    Throttled,
    /// Not now: the service is saturated and says when to come back.
    Busy,
    /// Ours: logged, apologised for, never detailed.
    Internal,
}

impl From<rollcall_scim::ScimError> for AppError {
    fn from(err: rollcall_scim::ScimError) -> Self {
        Self::Scim(err)
    }
}

impl AppError {
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict(FieldError::new(field, message))
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// An internal failure while doing something, with its cause.
    pub fn internal(
        doing: &'static str,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            doing,
            cause: Box::new(cause),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) | Self::Transition(TransitionError::TemporaryPasswordRequired) => {
                ErrorClass::Invalid
            }
            Self::NotFound(_) => ErrorClass::NotFound,
            Self::Taken { .. }
            | Self::LooksLike { .. }
            | Self::Transition(_)
            | Self::Conflict(_) => ErrorClass::Conflict,
            Self::Stale { .. } => ErrorClass::Stale,
            Self::Unauthenticated => ErrorClass::Unauthenticated,
            Self::AccountClosed | Self::Forbidden => ErrorClass::Forbidden,
            Self::Learning(err) => match err {
                LearningError::NoAccess(_) => ErrorClass::Forbidden,
                LearningError::NotEnrolled | LearningError::NoSuchLesson => ErrorClass::NotFound,
                LearningError::Answers(_) => ErrorClass::Invalid,
                LearningError::Retired
                | LearningError::NotStarted
                | LearningError::LessonsLeft(_)
                | LearningError::AlreadyCompleted(_)
                | LearningError::WrongStep(_)
                | LearningError::NotEnoughCredits { .. } => ErrorClass::Conflict,
            },
            Self::Throttled { .. } => ErrorClass::Throttled,
            Self::Busy { .. } => ErrorClass::Busy,
            Self::Internal { .. } => ErrorClass::Internal,
            Self::Scim(err) => match err.status {
                401 => ErrorClass::Unauthenticated,
                403 => ErrorClass::Forbidden,
                404 => ErrorClass::NotFound,
                409 => ErrorClass::Conflict,
                412 => ErrorClass::Stale,
                429 => ErrorClass::Throttled,
                500.. => ErrorClass::Internal,
                _ => ErrorClass::Invalid,
            },
        }
    }

    /// The fields at fault, for surfaces that point at them.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(fields) => fields.clone(),
            Self::Taken { field } => vec![FieldError::new(*field, "is already taken")],
            Self::LooksLike { field } => vec![FieldError::new(
                *field,
                "looks like another user's: choose one that reads differently",
            )],
            Self::Stale { current, .. } => {
                vec![FieldError::new("version", format!("is {current} now"))]
            }
            Self::Transition(err @ TransitionError::TemporaryPasswordRequired) => {
                vec![FieldError::new("temporary_password", err.to_string())]
            }
            Self::Transition(err) => vec![FieldError::new("status", err.to_string())],
            Self::Conflict(err) | Self::Learning(LearningError::Answers(err)) => vec![err.clone()],
            Self::Learning(LearningError::NotEnoughCredits { .. }) => {
                vec![FieldError::new("credits", self.public_message())]
            }
            _ => Vec::new(),
        }
    }

    /// What went wrong, in a sentence safe to show anyone (internal failures say nothing).
    pub fn public_message(&self) -> String {
        match self {
            Self::Invalid(fields) => fields
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Self::NotFound(what) => format!("no such {what}"),
            Self::Taken { field } => {
                format!(
                    "another user of this org already has this {}",
                    field.replace('_', " ")
                )
            }
            Self::LooksLike { field } => format!(
                "another user of this org has a {} that looks the same (it differs only in \
                 case, width or look-alike characters of another script); choose one that reads \
                 differently",
                field.replace('_', " ")
            ),
            Self::Stale {
                what,
                sent: Some(sent),
                current,
            } => format!(
                "the {what} was changed since you read it (you sent version {sent}, it is now \
                 at {current}); reload it and apply your change again"
            ),
            Self::Stale {
                what,
                sent: None,
                current,
            } => format!(
                "the {what} was changed by someone else while this change was being made (it \
                 is now at version {current}); reload it and apply your change again"
            ),
            Self::Transition(err) => err.to_string(),
            Self::Conflict(err) => err.to_string(),
            Self::Learning(err) => err.to_string(),
            Self::Unauthenticated => "not signed in, or the credentials are no longer valid".into(),
            Self::AccountClosed => "this account is not active and cannot sign in".into(),
            Self::Throttled { retry_after_secs } => {
                format!("too many attempts; try again in {retry_after_secs} seconds")
            }
            Self::Busy { retry_after_secs } => {
                format!("too many sign-ins at once; try again in {retry_after_secs} seconds")
            }
            Self::Forbidden => "this needs an admin of the org".into(),
            Self::Scim(err) => err.detail.clone(),
            Self::Internal { .. } => "something went wrong on our side; it has been logged".into(),
        }
    }

    /// When the caller may try again, for a `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Throttled { retry_after_secs } | Self::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// The error and each cause under it, for the one log line an internal failure gets.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            text.push_str(": ");
            text.push_str(&err.to_string());
            cause = err.source();
        }
        text
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
            // Callers that know the version they expected map Stale themselves.
            StoreError::Stale { current } => Self::Stale {
                what: "user",
                sent: None,
                current,
            },
            StoreError::NotFound => Self::NotFound("user"),
            other @ (StoreError::Corrupt { .. } | StoreError::Database(_)) => {
                Self::internal("using the database", other)
            }
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

/// A value validation promised but did not deliver: a bug, reported as internal.
pub(crate) fn lost_field() -> AppError {
    #[derive(Debug, thiserror::Error)]
    #[error("validation passed without producing every field")]
    struct LostField;
    AppError::internal("validating input", LostField)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_who_sent_no_version_is_not_told_which_one_they_sent() {
        let sent = AppError::Stale {
            what: "user",
            sent: Some(3),
            current: 4,
        };
        assert!(sent.public_message().contains("you sent version 3"));
        let unsent = AppError::Stale {
            what: "segment",
            sent: None,
            current: 4,
        }
        .public_message();
        assert!(!unsent.contains("you sent"), "{unsent}");
        assert!(unsent.contains("now at version 4"), "{unsent}");
        assert!(unsent.starts_with("the segment was changed"), "{unsent}");
    }
}
