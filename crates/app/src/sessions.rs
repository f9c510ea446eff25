//! Signing in and out of the console, sessions, and changing one's own password.

use rollcall_domain::{
    Actor, Password, PasswordHash, SecretKind, Session, TemporaryPassword, TokenSecret, User,
    token::random_hex,
};
use tracing::instrument;

use crate::throttle::{ACCOUNT_FAILURES, CLIENT_FAILURES};
use crate::{App, AppError, Principal, hash_password};

/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 12;

/// A new session: the cookie value to set, the session and its user.
#[derive(Debug)]
pub struct SignedIn {
    pub cookie: String,
    pub session: Session,
    pub user: User,
}

/// A signed-in request: the session, its user, and their powers.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Session,
    pub user: User,
    pub principal: Principal,
}

fn principal_of(user: &User) -> Principal {
    Principal {
        org_id: user.org_id,
        actor: Actor::User {
            id: user.id,
            label: user.display_name(),
        },
        role: user.role,
    }
}

async fn verify(hash: Option<PasswordHash>, candidate: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        if let Some(hash) = hash {
            hash.verify(&candidate)
        } else {
            // Spend the same time as a real check, so timing does not tell who exists.
            let decoy = PasswordHash::new(&TemporaryPassword::generate());
            let _ = decoy.verify(&candidate);
            false
        }
    })
    .await
    .map_err(|err| AppError::Internal(format!("password check failed: {err}")))
}

impl App {
    /// Checks a username or e-mail and password; opens a session when they match and the user
    /// may sign in. Failures say nothing about which part was wrong or whether the account exists.
    #[instrument(skip_all, fields(org = %org_slug))]
    pub async fn sign_in(
        &self,
        org_slug: &str,
        login: &str,
        password: &str,
        client: &str,
    ) -> Result<SignedIn, AppError> {
        let account_key = format!(
            "{}:{}",
            org_slug.trim().to_lowercase(),
            login.trim().to_lowercase()
        );
        let client_key = format!("client:{client}");
        for (key, limit) in [
            (&account_key, ACCOUNT_FAILURES),
            (&client_key, CLIENT_FAILURES),
        ] {
            if let Some(wait) = self.throttle.blocked_for(key, limit) {
                tracing::warn!(client, "sign-in throttled");
                return Err(AppError::Throttled {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
        let user = match self.org_by_slug(org_slug).await {
            Ok(org) => self.store.user_by_login(org.id, login).await?,
            Err(AppError::NotFound(_) | AppError::Invalid(_)) => None,
            Err(err) => return Err(err),
        };
        let matched = verify(
            user.as_ref().and_then(|u| u.password.clone()),
            password.to_owned(),
        )
        .await?;
        let Some(user) = user.filter(|_| matched) else {
            self.throttle.record_failure(&account_key);
            self.throttle.record_failure(&client_key);
            return Err(AppError::Unauthenticated);
        };
        if !user.may_sign_in() {
            // The password was right: saying the account is closed reveals nothing about others.
            return Err(AppError::AccountClosed);
        }
        self.throttle.clear(&account_key);
        let secret = TokenSecret::generate_kind(SecretKind::Session, user.org_id);
        let now = self.now();
        let session = Session {
            digest: secret.digest(),
            org_id: user.org_id,
            user_id: user.id,
            csrf_token: random_hex(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(SESSION_HOURS),
        };
        self.store.insert_session(&session).await?;
        tracing::info!(user.id = %user.id, "signed in");
        Ok(SignedIn {
            cookie: secret.reveal(),
            session,
            user,
        })
    }

    /// The visitor behind a session cookie. Read from the database at every request, so a
    /// session ends the moment its user is deactivated (the store deletes it, and the status
    /// rules are asked again here).
    pub async fn visitor(&self, cookie: &str) -> Result<Visitor, AppError> {
        let secret = TokenSecret::parse_kind(SecretKind::Session, cookie)
            .ok_or(AppError::Unauthenticated)?;
        let (session, user) = self
            .store
            .session_user(secret.org_id, &secret.digest(), self.now())
            .await?
            .filter(|(_, user)| user.may_sign_in())
            .ok_or(AppError::Unauthenticated)?;
        let principal = principal_of(&user);
        Ok(Visitor {
            session,
            user,
            principal,
        })
    }

    pub async fn sign_out(&self, visitor: &Visitor) -> Result<(), AppError> {
        Ok(self
            .store
            .delete_session(visitor.session.org_id, &visitor.session.digest)
            .await?)
    }

    /// Changes one's own password, after checking the current one. Other sessions end.
    pub async fn change_own_password(
        &self,
        visitor: &Visitor,
        current: &str,
        new: &str,
    ) -> Result<User, AppError> {
        let user = &visitor.user;
        if !verify(user.password.clone(), current.to_owned()).await? {
            return Err(AppError::invalid(
                "current_password",
                "is not your current password",
            ));
        }
        if current == new {
            return Err(AppError::invalid(
                "new_password",
                "must differ from the current one",
            ));
        }
        let password = Password::parse(new, "new_password", &user.logins())?;
        let hash = hash_password(password).await?;
        let (next, event) = user.set_password(hash, false, &visitor.principal.actor, self.now());
        self.store.update_user(&next, user.version, &event).await?;
        self.store
            .delete_user_sessions(user.org_id, user.id, Some(&visitor.session.digest))
            .await?;
        Ok(next)
    }

    /// The org to offer on the sign-in page when there is exactly one.
    pub async fn only_org_slug(&self) -> Result<Option<String>, AppError> {
        Ok(self
            .store
            .only_org()
            .await?
            .map(|org| org.slug.as_str().to_owned()))
    }
}

/// Exposed for the tests of other crates.
pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    // Both are short hex strings: compare in constant time all the same.
    let (a, b) = (session.csrf_token.as_bytes(), presented.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
