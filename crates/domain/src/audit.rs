//! Audit events: who did what to whom, when, from which status to which, and why.

use std::fmt;

use crate::Timestamp;
use crate::error::FieldError;
use crate::ids::{EventId, OrgId, UserId};
use crate::status::Status;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, through the console or an API token of theirs.
    User { id: UserId, label: String },
    /// Rollcall itself or an operator at the command line (`cli`, `demo`).
    System { label: String },
}

impl Actor {
    pub fn system(label: impl Into<String>) -> Self {
        Self::System {
            label: label.into(),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::User { label, .. } | Self::System { label } => label,
        }
    }

    /// The kind as stored: `user` or `system`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::System { .. } => "system",
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::System { .. } => None,
        }
    }

    /// Rebuilds an actor from its stored parts.
    pub fn from_stored(kind: &str, user_id: Option<UserId>, label: String) -> Self {
        match (kind, user_id) {
            ("user", Some(id)) => Self::User { id, label },
            _ => Self::System { label },
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a change was made, as the actor typed it (up to 500 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Blank reasons are no reason at all.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, FieldError> {
        let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > 500 {
            return Err(FieldError::new("reason", "must be at most 500 characters"));
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of change an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Created,
    Updated,
    StatusChanged,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::StatusChanged => "status_changed",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            "status_changed" => Some(Self::StatusChanged),
            _ => None,
        }
    }
}

/// One entry of a user's history. Written in the same transaction as the change it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: EventId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: AuditAction,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub reason: Option<Reason>,
    /// The fields an update changed (`email`, `role`, …); empty for other actions.
    pub changed_fields: Vec<String>,
}
