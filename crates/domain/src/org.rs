//! Orgs: the tenants. Everything else belongs to exactly one.

use crate::Timestamp;
use crate::error::FieldError;
use crate::ids::OrgId;

/// The short name of an org used on the command line: `northfield-sd`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let slug = raw.trim().to_ascii_lowercase();
        let valid_chars = slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if slug.is_empty() || slug.len() > 63 || !valid_chars || slug.starts_with('-') {
            return Err(FieldError::new(
                "slug",
                "must be 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'",
            ));
        }
        Ok(Self(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The display name of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = crate::text::clean(raw, "name", false)?;
        if name.is_empty() || name.chars().count() > 200 {
            return Err(FieldError::new("name", "must be 1 to 200 characters"));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub slug: OrgSlug,
    pub name: OrgName,
    pub created_at: Timestamp,
}

impl Org {
    pub fn new(slug: OrgSlug, name: OrgName, at: Timestamp) -> Self {
        Self {
            id: OrgId::new(),
            slug,
            name,
            created_at: at,
        }
    }
}
