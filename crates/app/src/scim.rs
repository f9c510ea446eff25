//! SCIM 2.0 connections: an identity provider creates, updates, deactivates and deletes the
//! people of an org over HTTP (RFC 7643, RFC 7644).
//!
//! A connection is a source of the org (format `scim`) with bearer tokens of its own. Its
//! people follow the status rules as every source's do: `active: false` makes a person
//! inactive (their sessions and tokens end at once), `true` active again, and DELETE archives
//! them (every record kept; SCIM answers 404 for that id afterwards, and a later create with
//! the same userName or externalId restores the person under a new id). The provider's word
//! about a status applies only when it changes, so an admin's later decision sticks.

mod batch;
mod connections;
mod groups;
mod log;
mod mapping;
mod users;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use rollcall_domain::provisioning::SourceSettings;
use rollcall_domain::{Actor, OrgId, RunId, SourceId, User};
use rollcall_scim::ScimError;
use rollcall_store::scim::{ScimRecord, ScimSettings, ScimToken};

pub(crate) use batch::Batcher;
pub use connections::{Connection, NewConnection};
pub use groups::ScimGroup;
pub(crate) use log::RequestLog;
pub use log::ScimRequestLine;
pub use mapping::ROLE_ATTRIBUTES;

/// Requests a minute a connection's clients may make unless an admin sets otherwise.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 12_000;

/// A SCIM request's caller: one connection of one org, serving one request.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub org_id: OrgId,
    pub source: SourceSettings,
    pub settings: ScimSettings,
    /// The request's id, recorded on every change it makes.
    pub request: RunId,
    pub token: ScimToken,
}

impl ScimCaller {
    fn actor(&self) -> Actor {
        Actor::Scim {
            id: self.source.id,
            label: self.source.name.as_str().to_owned(),
            request: Some(self.request),
        }
    }
}

/// A User resource with the person behind it.
#[derive(Debug, Clone)]
pub struct ScimUser {
    pub record: ScimRecord,
    pub user: User,
    /// The connection's Groups the person is a member of: (id, displayName).
    pub groups: Vec<(uuid::Uuid, String)>,
}

impl ScimUser {
    /// Changes with every change of the resource or of the person (an admin's too).
    pub fn etag(&self) -> String {
        etag_of(&self.record, &self.user)
    }

    /// The resource's full representation, under the connection's base URL.
    pub fn to_json(&self, base: &str) -> serde_json::Value {
        let mut doc: rollcall_scim::document::Doc =
            serde_json::from_str(&self.record.document).unwrap_or_default();
        // `active` is the person's status now, whoever set it.
        doc.insert("active".into(), self.user.may_sign_in().into());
        if !self.groups.is_empty() {
            let groups: Vec<serde_json::Value> = self
                .groups
                .iter()
                .map(|(id, name)| {
                    serde_json::json!({
                        "value": id.to_string(),
                        "$ref": format!("{base}/Groups/{id}"),
                        "display": name,
                        "type": "direct",
                    })
                })
                .collect();
            doc.insert("groups".into(), groups.into());
        }
        let id = self.record.id.to_string();
        let etag = self.etag();
        rollcall_scim::document::render(
            rollcall_scim::Resource::User,
            &doc,
            &rollcall_scim::document::Meta {
                id: &id,
                created: self.record.created_at,
                last_modified: self.record.updated_at.max(self.user.updated_at()),
                location: &format!("{base}/Users/{id}"),
                version: &etag,
            },
        )
    }
}

/// A User's version: its resource's and its person's.
fn etag_of(record: &ScimRecord, user: &User) -> String {
    format!("W/\"{}-{}\"", record.version, user.version())
}

/// Whether `if_match` (an `If-Match` header) lets a write go ahead on `etag`.
pub fn if_match_allows(if_match: Option<&str>, etag: &str) -> bool {
    let Some(header) = if_match else { return true };
    let bare = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// Refuses a write whose `If-Match` names another version.
fn check_if_match(if_match: Option<&str>, etag: &str) -> Result<(), ScimError> {
    if if_match_allows(if_match, etag) {
        Ok(())
    } else {
        Err(ScimError::precondition_failed(etag))
    }
}

/// Each connection's allowance of requests, refilled continuously (per process).
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    buckets: Mutex<HashMap<SourceId, (f64, Instant)>>,
}

impl RateLimits {
    /// Takes one request from the connection's allowance: `Err(seconds)` to wait when none is
    /// left. The allowance holds ten seconds' worth of requests.
    fn take(&self, source: SourceId, per_minute: u32) -> Result<(), u64> {
        let rate = f64::from(per_minute.max(1)) / 60.0;
        let capacity = (rate * 10.0).max(10.0);
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, at) = buckets.entry(source).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((1.0 - *tokens) / rate).ceil().max(1.0) as u64;
            Err(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_versions_weak_or_not() {
        let etag = "W/\"3-7\"";
        assert!(if_match_allows(None, etag));
        assert!(if_match_allows(Some("W/\"3-7\""), etag));
        assert!(if_match_allows(Some("\"3-7\""), etag));
        assert!(if_match_allows(Some("*"), etag));
        assert!(if_match_allows(Some("W/\"1-1\", W/\"3-7\""), etag));
        assert!(!if_match_allows(Some("W/\"2-7\""), etag));
    }

    #[test]
    fn a_connection_gets_its_allowance_then_waits() {
        let limits = RateLimits::default();
        let source = SourceId::new();
        // 60 a minute: an allowance of 10, then one a second.
        for _ in 0..10 {
            assert!(limits.take(source, 60).is_ok());
        }
        assert_eq!(limits.take(source, 60), Err(1));
        // Another connection has its own allowance.
        assert!(limits.take(SourceId::new(), 60).is_ok());
    }
}
