//! The rows of segments as stored, and the type they read into: what the shared SQL (`shared`)
//! and the segment store (`segment`) both name, kept apart so neither depends on the other.

use rollcall_domain::{OrgId, SegmentId, Timestamp};
use sqlx::FromRow;
use uuid::Uuid;

use crate::StoreResult;
use crate::rows::from_micros;

/// A segment as stored: its rule is kept in its plain written form (see
/// [`rollcall_domain::segment::Rule`]'s `Display`), parsed again when it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRecord {
    pub id: SegmentId,
    pub org_id: OrgId,
    pub name: String,
    pub rule: String,
    /// Who made it, as recorded.
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Starts at 1; every change adds one.
    pub version: i64,
}

#[derive(Debug, FromRow)]
pub struct SegmentRow {
    org_id: Uuid,
    segment_id: Uuid,
    name: String,
    rule: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

pub const SEGMENT_COLUMNS: &str =
    "org_id, segment_id, name, rule, created_by, created_at, updated_at, version";

impl SegmentRow {
    pub fn into_record(self) -> StoreResult<SegmentRecord> {
        Ok(SegmentRecord {
            id: SegmentId::from_uuid(self.segment_id),
            org_id: OrgId::from_uuid(self.org_id),
            name: self.name,
            rule: self.rule,
            created_by: self.created_by,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
        })
    }
}
