//! Signing in and out of the console, sessions, and changing one's own password.

use rollcall_domain::token::{random_hex, sha256_hex};
use rollcall_domain::{Password, SecretKind, Session, TokenSecret, User};
use tracing::instrument;

use crate::throttle::{ACCOUNT_FAILURES, CLIENT_FAILURES, PAIR_FAILURES};
use crate::{App, AppError, Expected, Principal, locked_at, passwords, write_change};

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

/// Logins longer than this name nobody (an e-mail address has at most 254 characters).
const MAX_LOGIN_CHARS: usize = 320;

/// The throttle keys of an attempt: the account from this address, the account, the address.
/// An account found is keyed by its id (its username and e-mail count as one); a login that
/// names nobody by a digest of it, so keys stay small whatever is typed.
fn throttle_keys(org_slug: &str, login: &str, user: Option<&User>, client: &str) -> [String; 3] {
    let account = match user {
        Some(user) => format!("user:{}", user.id()),
        None => format!(
            "login:{}",
            sha256_hex(format!(
                "{}\n{}",
                org_slug.trim().to_lowercase(),
                login.trim().to_lowercase()
            ))
        ),
    };
    let client = format!("client:{}", client_key(client));
    [format!("{account}|{client}"), account, client]
}

/// The address a throttle counts: an IPv4 address whole, an IPv6 one by its /64 (one host
/// usually holds a whole /64, and could otherwise rotate through it), anything else cut short.
fn client_key(client: &str) -> String {
    match client.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                v4.to_string()
            } else {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
        Ok(ip) => ip.to_string(),
        Err(_) => client.chars().take(64).collect(),
    }
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
        let plausible = login.chars().count() <= MAX_LOGIN_CHARS
            && !login.chars().any(char::is_control)
            && !org_slug.chars().any(char::is_control);
        let user = if plausible {
            match self.org_by_slug(org_slug).await {
                Ok(org) => self.store.user_by_login(org.id, login).await?,
                Err(AppError::NotFound(_) | AppError::Invalid(_)) => None,
                Err(err) => return Err(err),
            }
        } else {
            None
        };
        let keys = throttle_keys(org_slug, login, user.as_ref(), client);
        let limits = [
            (keys[0].as_str(), PAIR_FAILURES),
            (keys[1].as_str(), ACCOUNT_FAILURES),
            (keys[2].as_str(), CLIENT_FAILURES),
        ];
        if let Err(err) = self.throttle_attempt(&limits).await {
            if matches!(err, AppError::Throttled { .. }) {
                // Debug, not warn: a flood of guesses must not become a flood of log lines.
                tracing::debug!(client, "sign-in throttled");
            }
            return Err(err);
        }
        let matched = passwords::verify(
            user.as_ref().and_then(|u| u.password().cloned()),
            password.to_owned(),
        )
        .await?;
        let Some(user) = user.filter(|_| matched) else {
            return Err(AppError::Unauthenticated);
        };
        self.throttle_succeeded(&[keys[0].as_str(), keys[1].as_str(), keys[2].as_str()])
            .await?;
        if !user.may_sign_in() {
            // The password was right: saying the account is closed reveals nothing about others.
            return Err(AppError::AccountClosed);
        }
        let secret = TokenSecret::generate_kind(SecretKind::Session, user.org_id());
        let now = self.now();
        let session = Session {
            digest: secret.digest(),
            org_id: user.org_id(),
            user_id: user.id(),
            csrf_token: random_hex(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(SESSION_HOURS),
        };
        let mut uow = self.store.begin().await?;
        uow.insert_session(&session).await?;
        uow.commit().await?;
        tracing::info!(user.id = %user.id(), "signed in");
        Ok(SignedIn {
            cookie: secret.reveal(),
            session,
            user,
        })
    }

    /// The visitor behind a session cookie. Read from the database at every request, so a
    /// session ends the moment its user is deactivated (the change deletes it, and the status
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
        let principal = Principal::user(&user);
        Ok(Visitor {
            session,
            user,
            principal,
        })
    }

    pub async fn sign_out(&self, visitor: &Visitor) -> Result<(), AppError> {
        let mut uow = self.store.begin().await?;
        uow.delete_session(visitor.session.org_id, &visitor.session.digest)
            .await?;
        Ok(uow.commit().await?)
    }

    /// Changes one's own password, after checking the current one. Other sessions end.
    pub async fn change_own_password(
        &self,
        visitor: &Visitor,
        current: &str,
        new: &str,
    ) -> Result<User, AppError> {
        let user = &visitor.user;
        if !passwords::verify(user.password().cloned(), current.to_owned()).await? {
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
        let hash = passwords::hash(password).await?;
        let mut uow = self.store.begin().await?;
        // A user who vanished meanwhile is signed out, not "not found".
        let current = locked_at(
            uow.as_mut(),
            user.org_id(),
            user.id(),
            Expected::Read(user.version()),
        )
        .await
        .map_err(|err| match err {
            AppError::NotFound(_) => AppError::Unauthenticated,
            other => other,
        })?;
        let change = current.set_password(hash, false, &visitor.principal.actor, self.now());
        let keep = Some(visitor.session.digest.as_str());
        write_change(uow.as_mut(), &change, user.version(), keep).await?;
        uow.commit().await?;
        Ok(change.user)
    }

    /// The org to offer on the sign-in page when there is exactly one.
    pub async fn only_org_slug(&self) -> Result<Option<String>, AppError> {
        Ok(self
            .store
            .only_org()
            .await?
            .map(|org| org.slug.as_str().to_owned()))
    }

    /// The org a signed-in visitor belongs to.
    pub async fn org(&self, id: rollcall_domain::OrgId) -> Result<rollcall_domain::Org, AppError> {
        self.store.org(id).await?.ok_or(AppError::NotFound("org"))
    }

    /// A user's open sessions (the console lists none yet; the tests check who is signed in).
    pub async fn user_sessions(
        &self,
        who: &Principal,
        id: rollcall_domain::UserId,
    ) -> Result<Vec<Session>, AppError> {
        let user = self.user(who, id).await?;
        Ok(self.store.user_sessions(who.org_id, user.id()).await?)
    }
}

/// Whether a form echoed its session's anti-forgery token.
pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    rollcall_domain::token::same_secret(&session.csrf_token, presented)
}

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_bit_prefix() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_eq!(client_key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(client_key("10.0.0.1"), "10.0.0.1");
        assert_eq!(client_key(&"x".repeat(500)).len(), 64);
    }
}
