//! The rows of SCIM connections as stored, and the types they read into: what the shared SQL
//! (`shared`) and the SCIM store (`scim`) both name, kept apart so neither depends on the
//! other.

use rollcall_domain::provisioning::SourceSettings;
use rollcall_domain::{OrgId, SourceId, Timestamp, TokenId};
use rollcall_scim::Resource;
use sqlx::FromRow;
use uuid::Uuid;

use crate::StoreResult;
use crate::rows::from_micros;

/// A connection's own settings (its name, pause and policies are its source's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimSettings {
    pub org_id: OrgId,
    pub source_id: SourceId,
    /// The attribute a person's role is read from (`userType`, `title`, `roles`, or an
    /// enterprise attribute such as `department`).
    pub role_attribute: String,
    pub requests_per_minute: u32,
}

/// A bearer token of a connection, as stored (the secret never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub source_id: SourceId,
    pub name: String,
    pub digest: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A SCIM resource of a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimRecord {
    pub id: Uuid,
    pub org_id: OrgId,
    pub source_id: SourceId,
    pub kind: Resource,
    /// The person (User) or roster (Group).
    pub owner: Uuid,
    /// userName or displayName, as sent.
    pub name: String,
    pub external_id: Option<String>,
    /// The normalised document, as JSON text.
    pub document: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    pub deleted_at: Option<Timestamp>,
}

#[derive(Debug, FromRow)]
pub struct TokenRow {
    token_id: Uuid,
    org_id: Uuid,
    source_id: Uuid,
    name: String,
    digest: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    pub fn into_token(self) -> StoreResult<ScimToken> {
        Ok(ScimToken {
            id: TokenId::from_uuid(self.token_id),
            org_id: OrgId::from_uuid(self.org_id),
            source_id: SourceId::from_uuid(self.source_id),
            name: self.name,
            digest: self.digest,
            created_at: from_micros(self.created_at)?,
            last_used_at: self.last_used_at.map(from_micros).transpose()?,
            revoked_at: self.revoked_at.map(from_micros).transpose()?,
        })
    }
}

/// A token with its connection's settings and source, read at once for each request.
#[derive(Debug, FromRow)]
pub struct CallerRow {
    token_id: Uuid,
    token_name: String,
    digest: String,
    token_created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    role_attribute: String,
    requests_per_minute: i64,
    #[sqlx(flatten)]
    source: crate::rows::SourceColumns,
}

pub const CALLER_COLUMNS: &str = "t.token_id, t.name as token_name, t.digest, \
    t.created_at as token_created_at, t.last_used_at, t.revoked_at, c.role_attribute, \
    c.requests_per_minute, s.org_id, s.source_id, s.name, s.format, s.mode, s.missing_student, \
    s.missing_teacher, s.missing_staff, s.missing_admin, s.paused, s.created_at, \
    s.drop_folder, s.version";

impl CallerRow {
    pub fn into_parts(self) -> StoreResult<(ScimToken, ScimSettings, SourceSettings)> {
        let source = self.source.into_source()?;
        let token = ScimToken {
            id: TokenId::from_uuid(self.token_id),
            org_id: source.org_id,
            source_id: source.id,
            name: self.token_name,
            digest: self.digest,
            created_at: from_micros(self.token_created_at)?,
            last_used_at: self.last_used_at.map(from_micros).transpose()?,
            revoked_at: self.revoked_at.map(from_micros).transpose()?,
        };
        let settings = ScimSettings {
            org_id: source.org_id,
            source_id: source.id,
            role_attribute: self.role_attribute,
            requests_per_minute: u32::try_from(self.requests_per_minute).unwrap_or(u32::MAX),
        };
        Ok((token, settings, source))
    }
}

#[derive(Debug, FromRow)]
pub struct SettingsRow {
    org_id: Uuid,
    source_id: Uuid,
    role_attribute: String,
    requests_per_minute: i64,
}

impl SettingsRow {
    pub fn into_settings(self) -> ScimSettings {
        ScimSettings {
            org_id: OrgId::from_uuid(self.org_id),
            source_id: SourceId::from_uuid(self.source_id),
            role_attribute: self.role_attribute,
            requests_per_minute: u32::try_from(self.requests_per_minute).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Debug, FromRow)]
pub struct RecordRow {
    org_id: Uuid,
    scim_id: Uuid,
    source_id: Uuid,
    kind: String,
    owner_id: Uuid,
    name: String,
    external_id: Option<String>,
    document: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    deleted_at: Option<i64>,
}

pub const RECORD_COLUMNS: &str = "s.org_id, s.scim_id, s.source_id, s.kind, s.owner_id, s.name, \
    s.external_id, s.document, s.created_at, s.updated_at, s.version, s.deleted_at";

impl RecordRow {
    pub fn into_record(self) -> StoreResult<ScimRecord> {
        Ok(ScimRecord {
            id: self.scim_id,
            org_id: OrgId::from_uuid(self.org_id),
            source_id: SourceId::from_uuid(self.source_id),
            kind: kind_of(&self.kind)?,
            owner: self.owner_id,
            name: self.name,
            external_id: self.external_id,
            document: self.document,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
            deleted_at: self.deleted_at.map(from_micros).transpose()?,
        })
    }
}

fn kind_of(text: &str) -> StoreResult<Resource> {
    match text {
        "User" => Ok(Resource::User),
        "Group" => Ok(Resource::Group),
        other => Err(crate::rows::corrupt(format!("SCIM resource kind {other}"))),
    }
}

/// The key userName and displayName are unique by.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}
