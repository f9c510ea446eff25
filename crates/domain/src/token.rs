//! Bearer secrets scoped to an org: API tokens (`rc_<org>_<secret>`) and console sessions
//! (`rs_<org>_<secret>`). Only a SHA-256 of the secret is ever stored.

use std::fmt;
use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::ids::{OrgId, TokenId, UserId};

/// The kinds of secret, told apart by their prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    ApiToken,
    Session,
    /// A SCIM connection's bearer token.
    Scim,
}

impl SecretKind {
    const fn prefix(self) -> &'static str {
        match self {
            Self::ApiToken => "rc_",
            Self::Session => "rs_",
            Self::Scim => "sc_",
        }
    }
}

/// A secret as issued: shown once (or set in a cookie), never stored.
pub struct TokenSecret {
    pub org_id: OrgId,
    kind: SecretKind,
    secret: String,
}

impl TokenSecret {
    /// A new API token secret.
    pub fn generate(org_id: OrgId) -> Self {
        Self::generate_kind(SecretKind::ApiToken, org_id)
    }

    pub fn generate_kind(kind: SecretKind, org_id: OrgId) -> Self {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            org_id,
            kind,
            secret: hex(&bytes),
        }
    }

    /// Reads a presented API token.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::parse_kind(SecretKind::ApiToken, raw)
    }

    /// Reads a presented secret of `kind`. The org part keeps every lookup within one org.
    pub fn parse_kind(kind: SecretKind, raw: &str) -> Option<Self> {
        let rest = raw.trim().strip_prefix(kind.prefix())?;
        let (org, secret) = rest.split_once('_')?;
        let org_id = org.parse().ok()?;
        let valid = secret.len() == 48 && secret.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| Self {
            org_id,
            kind,
            secret: secret.to_owned(),
        })
    }

    /// The full secret to hand to the client.
    pub fn reveal(&self) -> String {
        format!(
            "{}{}_{}",
            self.kind.prefix(),
            self.org_id.as_uuid().simple(),
            self.secret
        )
    }

    /// What the store keeps and looks up by.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.secret.as_bytes()))
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSecret({}, <redacted>)", self.org_id)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The SHA-256 of `text`, in hex: a fixed-size stand-in for text of any length (throttle keys).
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(data.as_ref()))
}

/// The HMAC-SHA-256 of `message` under `key`, in hex: proof that whoever holds the key wrote it.
pub fn sign(key: &[u8], message: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of every length");
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether `signature` is [`sign`]'s for `message` under `key`.
pub fn is_signed(key: &[u8], message: &str, signature: &str) -> bool {
    same_secret(&sign(key, message), signature)
}

/// Compares two secrets in time that depends on their lengths only, not on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_secret`] for bytes.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random value for forms to echo back (CSRF protection), 48 hex characters.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A console session. Lives in the database so it ends the moment its user may no longer sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub digest: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// Echoed by every form and htmx request that changes something.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A stored token: it acts as `user_id`, within `org_id`, until revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub digest: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revealed_token_parses_back_to_the_same_org_and_digest() {
        let org = OrgId::new();
        let token = TokenSecret::generate(org);
        let parsed = TokenSecret::parse(&token.reveal()).unwrap();
        assert_eq!(parsed.org_id, org);
        assert_eq!(parsed.digest(), token.digest());
        assert_eq!(token.digest().len(), 64);
    }

    #[test]
    fn a_session_secret_is_not_an_api_token() {
        let session = TokenSecret::generate_kind(SecretKind::Session, OrgId::new()).reveal();
        assert!(session.starts_with("rs_"));
        assert!(TokenSecret::parse(&session).is_none());
        assert!(TokenSecret::parse_kind(SecretKind::Session, &session).is_some());
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let good = TokenSecret::generate(OrgId::new()).reveal();
        for bad in [
            "",
            "rc_",
            "rc_nope_abc",
            &good[..good.len() - 1],
            &good.replace("rc_", "xx_"),
        ] {
            assert!(TokenSecret::parse(bad).is_none(), "{bad}");
        }
    }
}
