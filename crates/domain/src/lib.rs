//! The domain of Rollcall: orgs, users, their statuses and the rules those statuses imply.
//!
//! Plain data and pure functions only: no I/O, no async, no SQL. Every other crate asks this one
//! what a status means (see [`rules`]) instead of comparing statuses itself.

pub mod audit;
pub mod error;
pub mod ids;
pub mod learning;
pub mod org;
pub mod password;
pub mod provisioning;
pub mod report;
pub mod roster;
pub mod rules;
pub mod search;
pub mod segment;
pub mod status;
pub mod text;
pub mod token;
pub mod user;

pub use audit::{Actor, AuditAction, AuditEvent, Reason, StoredActor};
pub use error::FieldError;
pub use ids::{
    CertificateId, CourseId, CreditEntryId, EventId, LessonId, MessageId, OrgId, RosterId, RunId,
    SegmentId, SourceId, TokenId, UserId,
};
pub use org::{Org, OrgName, OrgSlug};
pub use password::{HashMemory, Password, PasswordHash, TemporaryPassword};
pub use status::{ListFilter, Role, Status};
pub use token::{ApiToken, SecretKind, Session, TokenSecret};
pub use user::{
    Attributes, Email, ExternalId, NewUser, PersonName, Source, StatusChange, StoredUser,
    TransitionError, User, UserChange, UserPatch, Username,
};

/// Every timestamp in Rollcall: UTC, microsecond precision (what both stores keep).
pub type Timestamp = chrono::DateTime<chrono::Utc>;
