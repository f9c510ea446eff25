//! E-mail, through an outbox: a message is addressed to a person and queued only when the status
//! rules let them receive e-mail; otherwise it is kept as suppressed, with the reason, and never
//! sent later. A worker delivers queued messages, retrying with a growing wait.

use crate::Timestamp;
use crate::ids::{MessageId, OrgId, UserId};
use crate::rules::{self, EmailDelivery};
use crate::status::Status;
use crate::user::User;

/// How many times delivery is tried before a message is given up as failed.
pub const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// "You are enrolled in …".
    Enrolment,
    /// A message an admin wrote.
    Admin,
}

impl MessageKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Enrolment => "enrolment",
            Self::Admin => "admin",
        }
    }

    pub fn from_stored(word: &str) -> Option<Self> {
        match word {
            "enrolment" => Some(Self::Enrolment),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Waiting for delivery (or for its next try).
    Queued,
    Sent,
    /// Never sent: its recipient may not receive e-mail (the reason says why).
    Suppressed,
    /// Given up after [`MAX_ATTEMPTS`] tries (the reason holds the last error).
    Failed,
}

impl MessageState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Suppressed => "suppressed",
            Self::Failed => "failed",
        }
    }

    pub fn from_stored(word: &str) -> Option<Self> {
        match word {
            "queued" => Some(Self::Queued),
            "sent" => Some(Self::Sent),
            "suppressed" => Some(Self::Suppressed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What to send, before it is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
}

/// Whether a person is sent e-mail, and at which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Send(String),
    /// Not sent, and why.
    Suppress(String),
}

/// Why a message to someone without an e-mail address is kept unsent.
pub const NO_ADDRESS: &str = "the recipient has no e-mail address";

/// Why e-mail to someone of `status` is kept unsent, when the status rules say it is.
pub fn suppressed_for(status: Status) -> Option<String> {
    (rules::rules(status).email == EmailDelivery::Suppress).then(|| {
        format!(
            "the recipient is {}: {} people receive no e-mail",
            status.as_str(),
            status.as_str()
        )
    })
}

impl Delivery {
    /// What the status rules say of e-mail to `user`.
    pub fn to(user: &User) -> Self {
        if let Some(why) = suppressed_for(user.status()) {
            return Self::Suppress(why);
        }
        match user.email() {
            Some(email) => Self::Send(email.as_str().to_owned()),
            None => Self::Suppress(NO_ADDRESS.to_owned()),
        }
    }
}

/// One message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// The address it goes to; empty when suppressed for want of one.
    pub to: String,
    pub subject: String,
    pub body: String,
    pub kind: MessageKind,
    pub state: MessageState,
    /// Why it was suppressed, or the last delivery error.
    pub reason: Option<String>,
    pub attempts: u32,
    /// When the worker may next try it.
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

impl Message {
    /// `message` addressed to `user`: queued, or suppressed as the status rules say.
    pub fn addressed(user: &User, message: &NewMessage, now: Timestamp) -> Self {
        let (to, state, reason) = match Delivery::to(user) {
            Delivery::Send(to) => (to, MessageState::Queued, None),
            Delivery::Suppress(why) => (
                user.email()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                MessageState::Suppressed,
                Some(why),
            ),
        };
        Self {
            id: MessageId::new(),
            org_id: user.org_id(),
            user_id: user.id(),
            to,
            subject: message.subject.clone(),
            body: message.body.clone(),
            kind: message.kind,
            state,
            reason,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            sent_at: None,
        }
    }

    /// The message sent at `now`.
    #[must_use]
    pub fn sent(&self, now: Timestamp) -> Self {
        Self {
            state: MessageState::Sent,
            attempts: self.attempts + 1,
            reason: None,
            sent_at: Some(now),
            ..self.clone()
        }
    }

    /// The message refused for good at `now` (its address does not exist, say): failed, never
    /// tried again.
    #[must_use]
    pub fn after_refusal(&self, error: &str, now: Timestamp) -> Self {
        Self {
            attempts: self.attempts + 1,
            state: MessageState::Failed,
            reason: Some(error.chars().take(500).collect()),
            next_attempt_at: now,
            ..self.clone()
        }
    }

    /// The message after a failed try at `now`: queued again after a wait that doubles with
    /// each try (one minute, two, four… at most six hours), or failed after the last.
    #[must_use]
    pub fn after_failure(&self, error: &str, now: Timestamp) -> Self {
        let attempts = self.attempts + 1;
        let wait = chrono::Duration::minutes(1_i64 << (attempts - 1).min(9))
            .min(chrono::Duration::hours(6));
        Self {
            attempts,
            state: if attempts >= MAX_ATTEMPTS {
                MessageState::Failed
            } else {
                MessageState::Queued
            },
            reason: Some(error.chars().take(500).collect()),
            next_attempt_at: now + wait,
            ..self.clone()
        }
    }
}
