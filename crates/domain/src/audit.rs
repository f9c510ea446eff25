//! Audit events: who did what to whom, when, from which status to which, and why.

use std::fmt;

use crate::Timestamp;
use crate::error::FieldError;
use crate::ids::{EventId, OrgId, RunId, SourceId, TokenId, UserId};
use crate::status::Status;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, through the console.
    User { id: UserId, label: String },
    /// An API token, acting with its owner's powers.
    Token {
        id: TokenId,
        user_id: UserId,
        label: String,
    },
    /// A provisioning source, applying one of its import runs.
    Source {
        id: SourceId,
        label: String,
        run: Option<RunId>,
    },
    /// A SCIM connection (a source of the org), serving one request.
    Scim {
        id: SourceId,
        label: String,
        request: Option<RunId>,
    },
    /// Rollcall itself (a scheduled job) or an operator at the command line (`cli`, `demo`).
    System { label: String },
}

/// An actor's parts as stored beside an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredActor {
    /// `user`, `token`, `source`, `scim` or `system`.
    pub kind: String,
    pub user_id: Option<UserId>,
    /// The token's or the source's id.
    pub actor_id: Option<uuid::Uuid>,
    pub label: String,
    /// The import run, or the SCIM request.
    pub run_id: Option<RunId>,
}

impl Actor {
    /// A provisioning source or a SCIM connection: what the org's feeds do, not a person.
    pub fn is_provisioning(&self) -> bool {
        matches!(self, Self::Source { .. } | Self::Scim { .. })
    }

    pub fn system(label: impl Into<String>) -> Self {
        Self::System {
            label: label.into(),
        }
    }

    /// Who, in words: "Dana Whitfield", "Dana Whitfield (token laptop)", "oneroster-main".
    pub fn label(&self) -> &str {
        match self {
            Self::User { label, .. }
            | Self::Token { label, .. }
            | Self::Source { label, .. }
            | Self::Scim { label, .. }
            | Self::System { label } => label,
        }
    }

    /// The kind as stored and shown by the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::Token { .. } => "token",
            Self::Source { .. } => "source",
            Self::Scim { .. } => "scim",
            Self::System { .. } => "system",
        }
    }

    /// The person behind the change: the console user, or the token's owner.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Token { user_id, .. } => Some(*user_id),
            Self::Source { .. } | Self::Scim { .. } | Self::System { .. } => None,
        }
    }

    /// The import run or SCIM request that made the change, when there was one.
    pub fn run(&self) -> Option<RunId> {
        match self {
            Self::Source { run, .. } => *run,
            Self::Scim { request, .. } => *request,
            Self::User { .. } | Self::Token { .. } | Self::System { .. } => None,
        }
    }

    /// The parts a store keeps.
    pub fn to_stored(&self) -> StoredActor {
        let actor_id = match self {
            Self::Token { id, .. } => Some(id.as_uuid()),
            Self::Source { id, .. } | Self::Scim { id, .. } => Some(id.as_uuid()),
            Self::User { .. } | Self::System { .. } => None,
        };
        StoredActor {
            kind: self.kind().to_owned(),
            user_id: self.user_id(),
            actor_id,
            label: self.label().to_owned(),
            run_id: self.run(),
        }
    }

    /// Rebuilds an actor from its stored parts; `None` when they do not fit together.
    pub fn from_stored(stored: StoredActor) -> Option<Self> {
        let StoredActor {
            kind,
            user_id,
            actor_id,
            label,
            run_id,
        } = stored;
        Some(match (kind.as_str(), user_id, actor_id) {
            ("user", Some(id), None) => Self::User { id, label },
            ("token", Some(user_id), Some(id)) => Self::Token {
                id: TokenId::from_uuid(id),
                user_id,
                label,
            },
            ("source", None, Some(id)) => Self::Source {
                id: SourceId::from_uuid(id),
                label,
                run: run_id,
            },
            ("scim", None, Some(id)) => Self::Scim {
                id: SourceId::from_uuid(id),
                label,
                request: run_id,
            },
            ("system", None, None) => Self::System { label },
            _ => return None,
        })
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
        let Some(raw) = raw else {
            return Ok(None);
        };
        let text = crate::text::clean(raw, "reason", true)?;
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > 500 {
            return Err(FieldError::new("reason", "must be at most 500 characters"));
        }
        Ok(Some(Self(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A reason Rollcall writes itself (short, never blank).
    pub(crate) fn from_trusted(text: String) -> Self {
        Self(text)
    }
}

/// What kind of change an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Created,
    Updated,
    StatusChanged,
    /// The user's API tokens were revoked because they lost sign-in.
    TokensRevoked,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::StatusChanged => "status_changed",
            Self::TokensRevoked => "tokens_revoked",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            "status_changed" => Some(Self::StatusChanged),
            "tokens_revoked" => Some(Self::TokensRevoked),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_actor_survives_storage() {
        let user = UserId::new();
        let actors = [
            Actor::User {
                id: user,
                label: "Dana Whitfield".into(),
            },
            Actor::Token {
                id: TokenId::new(),
                user_id: user,
                label: "Dana Whitfield (token laptop)".into(),
            },
            Actor::Source {
                id: SourceId::new(),
                label: "oneroster-main".into(),
                run: Some(RunId::new()),
            },
            Actor::Scim {
                id: SourceId::new(),
                label: "okta".into(),
                request: Some(RunId::new()),
            },
            Actor::system("cli"),
        ];
        for actor in actors {
            assert_eq!(Actor::from_stored(actor.to_stored()), Some(actor.clone()));
        }
    }

    #[test]
    fn stored_parts_that_do_not_fit_are_refused() {
        let broken = StoredActor {
            kind: "token".into(),
            user_id: None,
            actor_id: None,
            label: "?".into(),
            run_id: None,
        };
        assert_eq!(Actor::from_stored(broken), None);
    }
}
