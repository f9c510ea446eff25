//! Delivering the outbox: a worker claims due messages through the database (so several server
//! processes never send one message twice), checks each recipient against the status rules once
//! more (someone deactivated since is suppressed, never sent), and hands the rest to a
//! [`Mailer`], retrying with a growing wait. Admins' messages are written here too.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use rollcall_domain::learning::{Delivery, Message, MessageKind, MessageState, NewMessage};
use rollcall_domain::provisioning::Wanted;
use rollcall_domain::{FieldError, User, UserId};

use crate::{App, AppError};

/// How long a worker holds the messages it claimed: past this another worker may take them
/// (the first one died, say).
const CLAIM: Duration = Duration::from_mins(5);

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The server refused it for good (a 5xx reply): no retry.
    pub permanent: bool,
    pub reason: String,
}

/// What sends e-mail (SMTP, in `rollcall serve`).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), SendError>;
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Kept unsent: the recipient may no longer receive e-mail.
    pub suppressed: usize,
    /// To be tried again later.
    pub retrying: usize,
    /// Given up: refused for good, or tried too often.
    pub failed: usize,
}

impl Delivered {
    pub fn total(&self) -> usize {
        self.sent + self.suppressed + self.retrying + self.failed
    }
}

impl App {
    /// One pass over every org's due messages, at most `batch` per org, as `worker` (a name
    /// no other process uses).
    pub async fn deliver_outbox(
        &self,
        mailer: &dyn Mailer,
        worker: &str,
        batch: u64,
    ) -> Result<Delivered, AppError> {
        let mut done = Delivered::default();
        for org in self.store.orgs_with_mail_due(self.now()).await? {
            let now = self.now();
            let mut uow = self.store.begin().await?;
            let claimed = uow
                .claim_messages(org, worker, now, self.claim_end(), batch)
                .await?;
            uow.commit().await?;
            for message in claimed {
                // Held afresh right before it is sent: a batch may outlast one claim, and a
                // message whose claim ran out belongs to whoever took it.
                let mut uow = self.store.begin().await?;
                let held = uow.hold_message(&message, worker, self.claim_end()).await?;
                uow.commit().await?;
                if !held {
                    tracing::warn!(message.id = %message.id, "a message's claim ran out before it was sent");
                    continue;
                }
                // The recipient as they are now: deactivated since, they are sent nothing;
                // their address changed, the mail goes to the new one.
                let recipient = self.store.user(org, message.user_id).await?;
                let after = self.deliver_one(mailer, recipient.as_ref(), &message).await;
                match after.state {
                    MessageState::Sent => done.sent += 1,
                    MessageState::Suppressed => done.suppressed += 1,
                    MessageState::Queued => done.retrying += 1,
                    MessageState::Failed => done.failed += 1,
                }
                let mut uow = self.store.begin().await?;
                if uow.finish_message(&after, worker).await? {
                    uow.commit().await?;
                } else {
                    tracing::warn!(message.id = %after.id, "a message's claim ran out before it was finished");
                }
            }
        }
        if done.total() > 0 {
            tracing::info!(?done, "outbox delivered");
        }
        Ok(done)
    }

    /// Until when a claim made now lasts.
    fn claim_end(&self) -> rollcall_domain::Timestamp {
        self.now() + chrono::Duration::from_std(CLAIM).unwrap_or_default()
    }

    /// The message after one try: sent, suppressed (the rules say its recipient gets no
    /// e-mail now), to try again, or failed.
    async fn deliver_one(
        &self,
        mailer: &dyn Mailer,
        recipient: Option<&User>,
        message: &Message,
    ) -> Message {
        let Some(recipient) = recipient else {
            return Message {
                state: MessageState::Suppressed,
                reason: Some("the recipient no longer exists".to_owned()),
                ..message.clone()
            };
        };
        let to = match Delivery::to(recipient) {
            Delivery::Suppress(why) => {
                return Message {
                    state: MessageState::Suppressed,
                    reason: Some(why),
                    ..message.clone()
                };
            }
            Delivery::Send(to) => to,
        };
        let message = &Message {
            to,
            ..message.clone()
        };
        match mailer.send(message).await {
            Ok(()) => message.sent(self.now()),
            Err(err) if err.permanent => message.after_refusal(&err.reason, self.now()),
            Err(err) => message.after_failure(&err.reason, self.now()),
        }
    }
}

/// The longest subject and body an admin's message may have.
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 20_000;
/// The most people one message may be written to.
const MAX_RECIPIENTS: usize = 10_000;

/// What writing a message did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Messages queued for delivery (active people with an address).
    pub queued: usize,
    /// Messages kept unsent, with the reason (inactive or archived people, no address).
    pub suppressed: usize,
}

/// An admin's message as written, its problems added to `problems`.
pub(crate) fn admin_message(
    subject: &str,
    body: &str,
    problems: &mut Vec<FieldError>,
) -> NewMessage {
    let subject = subject.trim();
    let body = body.trim();
    if subject.is_empty() {
        problems.push(FieldError::new("subject", "is required"));
    } else if subject.chars().count() > MAX_SUBJECT || subject.chars().any(char::is_control) {
        problems.push(FieldError::new(
            "subject",
            format!("must be one line of at most {MAX_SUBJECT} characters"),
        ));
    }
    if body.is_empty() {
        problems.push(FieldError::new("body", "is required"));
    } else if body.chars().count() > MAX_BODY {
        problems.push(FieldError::new(
            "body",
            format!("is too long: at most {MAX_BODY} characters"),
        ));
    }
    NewMessage {
        kind: MessageKind::Admin,
        subject: subject.to_owned(),
        body: body.to_owned(),
    }
}

impl App {
    /// An admin's message to people of the org: queued for those the rules let receive
    /// e-mail, kept as suppressed (with the reason) for the others, never sent to them later.
    /// Every recipient must be a person of the org; one who is not refuses the whole message.
    pub async fn write_message(
        &self,
        who: &crate::Principal,
        to: &[UserId],
        subject: &str,
        body: &str,
    ) -> Result<Written, AppError> {
        who.require_admin()?;
        let mut problems = Vec::new();
        let message = admin_message(subject, body, &mut problems);
        if to.is_empty() {
            problems.push(FieldError::new("users", "name at least one person"));
        } else if to.len() > MAX_RECIPIENTS {
            problems.push(FieldError::new(
                "users",
                format!("at most {MAX_RECIPIENTS} people at once"),
            ));
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let wanted = Wanted {
            ids: to.to_vec(),
            ..Wanted::default()
        };
        let people: HashMap<UserId, User> = self
            .store
            .provisioning_known(who.org_id, &wanted)
            .await?
            .into_iter()
            .map(|k| (k.user.id(), k.user))
            .collect();
        let unknown: Vec<FieldError> = to
            .iter()
            .enumerate()
            .filter(|(_, id)| !people.contains_key(id))
            .map(|(i, _)| FieldError::new(format!("users[{i}]"), "is not a person of this org"))
            .collect();
        if !unknown.is_empty() {
            return Err(AppError::Invalid(unknown));
        }
        let now = self.now();
        let mut seen = std::collections::HashSet::new();
        let messages: Vec<Message> = to
            .iter()
            .filter(|id| seen.insert(**id))
            .filter_map(|id| people.get(id))
            .map(|person| Message::addressed(person, &message, now))
            .collect();
        self.post_messages(&messages).await
    }

    /// An admin's `message` to the members of a segment or a roster (`audience`), addressed
    /// to each by the status rules and posted all or none; refused when there is no one.
    pub(crate) async fn write_to_members(
        &self,
        message: &NewMessage,
        members: &[User],
        audience: &'static str,
    ) -> Result<Written, AppError> {
        if members.is_empty() {
            return Err(AppError::Invalid(vec![FieldError::new(
                audience,
                format!("no one is in this {audience} now: the message would reach nobody"),
            )]));
        }
        let now = self.now();
        let messages: Vec<Message> = members
            .iter()
            .map(|person| Message::addressed(person, message, now))
            .collect();
        self.post_messages(&messages).await
    }

    /// Writes messages addressed by the status rules to the outbox, all or none.
    pub(crate) async fn post_messages(&self, messages: &[Message]) -> Result<Written, AppError> {
        let mut uow = self.store.begin().await?;
        uow.insert_messages(messages).await?;
        uow.commit().await?;
        let queued = messages
            .iter()
            .filter(|m| m.state == MessageState::Queued)
            .count();
        Ok(Written {
            queued,
            suppressed: messages.len() - queued,
        })
    }
}
