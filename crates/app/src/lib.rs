//! Rollcall's use cases. Each one checks the caller's powers, asks the domain, and writes the
//! change with its audit event in one storage transaction.
//!
//! The web and CLI layers call these and nothing below them.

mod error;
mod listing;
mod orgs;
mod sessions;
mod throttle;
mod tokens;
mod users;

use std::sync::Arc;

use rollcall_domain::{Actor, OrgId, Role, Timestamp};
use rollcall_store::Store;

pub use error::AppError;
pub use listing::{Cursor, ListUsers, UserPage};
pub use rollcall_store::{StoreError, UserSort};
pub use sessions::{SESSION_HOURS, SignedIn, Visitor, csrf_matches};
pub use users::{ChangeStatus, CreateUser, EditUser, StatusChanged};

/// Where the time comes from; tests may substitute their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock, truncated to the microseconds both stores keep.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = chrono::Utc::now();
        chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}

/// Who is asking, within which org, with which powers.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: OrgId,
    pub actor: Actor,
    pub role: Role,
}

impl Principal {
    /// The operator at the command line (or Rollcall itself): an admin of `org_id`.
    pub fn system(org_id: OrgId, label: &str) -> Self {
        Self {
            org_id,
            actor: Actor::system(label),
            role: Role::Admin,
        }
    }

    fn require_admin(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Teacher | Role::Staff | Role::Student => Err(AppError::Forbidden),
        }
    }
}

/// The use cases, over one store.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    throttle: Arc<throttle::Throttle>,
}

impl App {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_clock(store, Arc::new(SystemClock))
    }

    pub fn with_clock(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            throttle: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// Runs argon2 off the async threads: hashing costs tens of milliseconds on purpose.
async fn hash_password(
    password: rollcall_domain::Password,
) -> Result<rollcall_domain::PasswordHash, AppError> {
    tokio::task::spawn_blocking(move || rollcall_domain::PasswordHash::new(&password))
        .await
        .map_err(|err| AppError::Internal(format!("password hashing failed: {err}")))
}
