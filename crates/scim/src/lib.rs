//! SCIM 2.0 as Rollcall serves it to identity providers (Okta, Microsoft Entra ID, Google).
//!
//! Pure protocol work, no I/O: the schemas Rollcall advertises ([`schema`]), resources as
//! clients send them, normalised to those schemas ([`document`]), filters parsed and resolved
//! against them ([`filter`]), PATCH requests in every dialect real clients send, applied to a
//! resource ([`patch`]), list parameters and attribute selection ([`list`]), and errors as RFC
//! 7644 §3.12 shapes them ([`error`]). The store turns a resolved filter into SQL; the app maps
//! a User resource to a Rollcall user.

pub mod document;
pub mod error;
pub mod filter;
pub mod list;
pub mod patch;
pub mod schema;

pub use error::{ScimError, ScimType};
pub use schema::Resource;

/// The URNs of the messages and schemas.
pub mod urn {
    pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    pub const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
    pub const SERVICE_PROVIDER_CONFIG: &str =
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
}
