//! API tokens: `rc_<org>_<secret>`. Only a SHA-256 of the secret is stored.

use std::fmt;
use std::fmt::Write as _;

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::ids::{OrgId, TokenId, UserId};

const PREFIX: &str = "rc_";

/// A token as issued: shown once, never stored.
pub struct TokenSecret {
    pub org_id: OrgId,
    secret: String,
}

impl TokenSecret {
    pub fn generate(org_id: OrgId) -> Self {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            org_id,
            secret: hex(&bytes),
        }
    }

    /// Reads a presented token. The org part lets every lookup stay scoped to one org.
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.trim().strip_prefix(PREFIX)?;
        let (org, secret) = rest.split_once('_')?;
        let org_id = org.parse().ok()?;
        let valid = secret.len() == 48 && secret.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| Self {
            org_id,
            secret: secret.to_owned(),
        })
    }

    /// The full token to hand to the client.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}_{}", self.org_id.as_uuid().simple(), self.secret)
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
