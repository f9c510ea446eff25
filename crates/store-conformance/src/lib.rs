//! One conformance suite for every store backend.
//!
//! Each function takes a fresh, migrated database and checks one behaviour through the use
//! cases (and the store trait where the use cases cannot reach). `tests/conformance.rs` runs
//! every one of them against SQLite and PostgreSQL.

mod fixtures;
mod listing;
mod users;

pub use listing::*;
pub use users::*;
