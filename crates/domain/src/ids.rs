//! Opaque, globally unique identifiers (UUIDv7: time-ordered, so rows can move between shards).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A tenant.
    OrgId
);
id_type!(
    /// A person in an org.
    UserId
);
id_type!(
    /// An API token.
    TokenId
);
id_type!(
    /// One audit event.
    EventId
);
id_type!(
    /// A provisioning source of an org (a roster feed, a OneRoster feed, a SCIM connection).
    SourceId
);
id_type!(
    /// One import run of a source, or one request of a SCIM connection: what undo reverts.
    RunId
);
id_type!(
    /// A roster: a class and its members, as a source sends it.
    RosterId
);
id_type!(
    /// A course of an org.
    CourseId
);
id_type!(
    /// A segment of an org: a rule that picks out its people.
    SegmentId
);
id_type!(
    /// A lesson of a course (stable across edits, so progress survives reordering).
    LessonId
);
id_type!(
    /// A certificate of completion.
    CertificateId
);
id_type!(
    /// One entry of an org's credit ledger.
    CreditEntryId
);
id_type!(
    /// One e-mail of an org's outbox.
    MessageId
);
