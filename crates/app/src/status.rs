//! Changing users' status: one at a time, or many in one unit of work.

use std::collections::HashMap;

use rollcall_domain::{
    Password, PasswordHash, Reason, Status, StatusChange, TemporaryPassword, User, UserId, rules,
};
use tracing::instrument;

use crate::error::{Errors, lost_field};
use crate::{App, AppError, Expected, Principal, locked_at, write_change};

/// The most users one bulk change may name.
pub const MAX_BULK: usize = 500;

/// A status change as asked for.
#[derive(Debug, Clone, Default)]
pub struct ChangeStatus {
    pub status: String,
    pub reason: Option<String>,
    /// Set by the admin; needed when a user without e-mail gets sign-in back.
    pub temporary_password: Option<String>,
    /// Let Rollcall pick the temporary password (returned once in [`StatusChanged`]).
    pub generate_temporary_password: bool,
    /// When given, the change is refused if the user has moved past this version.
    pub version: Option<i64>,
}

/// The user after a status change, and the temporary password Rollcall generated, if it did
/// (to pass on, shown this once).
#[derive(Debug)]
pub struct StatusChanged {
    pub user: User,
    pub temporary_password: Option<String>,
}

/// The same move for many users.
#[derive(Debug, Clone)]
pub struct BulkChange {
    pub ids: Vec<UserId>,
    pub to: Status,
    pub reason: Option<String>,
}

/// One user a bulk change moved, with the temporary password generated for them (users
/// without e-mail whose sign-in came back).
#[derive(Debug)]
pub struct Changed {
    pub user: User,
    pub temporary_password: Option<String>,
}

/// One user a bulk change left as they were, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub id: UserId,
    /// Their name, when they exist in the org.
    pub name: Option<String>,
    pub why: String,
}

/// What a bulk change did, user by user.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub changed: Vec<Changed>,
    pub left_out: Vec<LeftOut>,
}

/// A temporary password: shown once, stored hashed.
struct Temporary {
    shown: String,
    hash: PasswordHash,
}

async fn hashed(password: Password) -> Result<Temporary, AppError> {
    let shown = password.expose().to_owned();
    Ok(Temporary {
        hash: crate::passwords::hash(password).await?,
        shown,
    })
}

impl App {
    #[instrument(skip_all, fields(org.id = %who.org_id, user.id = %id))]
    pub async fn change_status(
        &self,
        who: &Principal,
        id: UserId,
        input: ChangeStatus,
    ) -> Result<StatusChanged, AppError> {
        who.require_admin()?;
        let mut errors = Errors::default();
        let to = errors.take(input.status.parse::<Status>());
        let reason = errors.take(Reason::parse(input.reason.as_deref()));
        errors.finish()?;
        let (Some(to), Some(reason)) = (to, reason) else {
            return Err(lost_field());
        };
        // Argon2 takes tens of milliseconds: hash before the unit of work, so no writer waits
        // on it. A typed password must not contain the user's logins, so it needs a read first
        // (without locks; the version read is then the one the change must find).
        let (temporary, generated, expected) =
            match (input.temporary_password, input.generate_temporary_password) {
                (Some(raw), _) => {
                    let read = self.user(who, id).await?;
                    let password = Password::parse(&raw, "temporary_password", &read.logins())?;
                    let expected = Expected::from_input(input.version, read.version());
                    (Some(hashed(password).await?), false, Some(expected))
                }
                (None, true) => {
                    let password = hashed(TemporaryPassword::generate()).await?;
                    (Some(password), true, input.version.map(Expected::Sent))
                }
                (None, false) => (None, false, input.version.map(Expected::Sent)),
            };
        let mut uow = self.store.begin().await?;
        let user = match expected {
            Some(expected) => locked_at(uow.as_mut(), who.org_id, id, expected).await?,
            None => uow
                .user(who.org_id, id)
                .await?
                .ok_or(AppError::NotFound("user"))?,
        };
        let expected = user.version();
        let (shown, hash) = temporary.map(|t| (t.shown, t.hash)).unzip();
        let change = user.change_status(
            StatusChange {
                to,
                reason,
                temporary_password: hash,
            },
            &who.actor,
            self.now(),
        )?;
        write_change(uow.as_mut(), &change, expected, None).await?;
        uow.commit().await?;
        tracing::info!(from = %user.status(), to = %change.user.status(), "status changed");
        Ok(StatusChanged {
            user: change.user,
            temporary_password: shown.filter(|_| generated),
        })
    }

    /// Moves many users to one status in one unit of work. Those the rules refuse, or who do
    /// not exist, are left out, each with the reason; the rest move together. Users without
    /// e-mail whose sign-in comes back get a generated temporary password, returned once.
    #[instrument(skip_all, fields(org.id = %who.org_id, users = input.ids.len()))]
    pub async fn bulk_change_status(
        &self,
        who: &Principal,
        input: BulkChange,
    ) -> Result<BulkOutcome, AppError> {
        who.require_admin()?;
        if input.ids.len() > MAX_BULK {
            return Err(AppError::invalid(
                "ids",
                format!("at most {MAX_BULK} users at a time"),
            ));
        }
        let reason = Reason::parse(input.reason.as_deref())?;
        let mut seen = std::collections::HashSet::new();
        let mut ids = input.ids;
        ids.retain(|id| seen.insert(*id));
        let mut passwords = self.bulk_passwords(who, &ids, input.to).await?;
        let mut outcome = BulkOutcome::default();
        let mut uow = self.store.begin().await?;
        let at = self.now();
        for id in ids {
            let Some(user) = uow.user(who.org_id, id).await? else {
                outcome.left_out.push(LeftOut {
                    id,
                    name: None,
                    why: "no such user in this organisation".to_owned(),
                });
                continue;
            };
            let temporary = passwords
                .remove(&id)
                .filter(|_| user.needs_temporary_password_to(input.to));
            let (shown, hash) = temporary.map(|t| (t.shown, t.hash)).unzip();
            let change = StatusChange {
                to: input.to,
                reason: reason.clone(),
                temporary_password: hash,
            };
            match user.change_status(change, &who.actor, at) {
                Ok(change) => {
                    write_change(uow.as_mut(), &change, user.version(), None).await?;
                    outcome.changed.push(Changed {
                        user: change.user,
                        temporary_password: shown,
                    });
                }
                Err(refused) => outcome.left_out.push(LeftOut {
                    id,
                    name: Some(user.display_name()),
                    why: refused.to_string(),
                }),
            }
        }
        uow.commit().await?;
        tracing::info!(
            changed = outcome.changed.len(),
            left_out = outcome.left_out.len(),
            to = %input.to,
            "bulk status change"
        );
        Ok(outcome)
    }

    /// Generated temporary passwords for those of `ids` who will need one to move to `to`,
    /// hashed concurrently before the unit of work starts.
    async fn bulk_passwords(
        &self,
        who: &Principal,
        ids: &[UserId],
        to: Status,
    ) -> Result<HashMap<UserId, Temporary>, AppError> {
        let mut needing = Vec::new();
        if !rules::may_sign_in(to) {
            // Nobody gets a password to a status without sign-in: no need to read anyone.
            return Ok(HashMap::new());
        }
        for id in ids {
            if let Some(user) = self.store.user(who.org_id, *id).await?
                && user.needs_temporary_password_to(to)
            {
                needing.push(user.id());
            }
        }
        let hashed = futures::future::try_join_all(
            needing
                .iter()
                .map(|_| hashed(TemporaryPassword::generate())),
        )
        .await?;
        Ok(needing.into_iter().zip(hashed).collect())
    }
}
