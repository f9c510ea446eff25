//! One conformance suite for every store backend.
//!
//! Each function takes a fresh, migrated database and checks one behaviour through the use
//! cases (and the store trait where the use cases cannot reach). `tests/conformance.rs` runs
//! every one of them against SQLite and PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    reason = "a test suite: a failed step is a failed test"
)]

mod fixtures;
mod learning;
mod listing;
mod provisioning;
mod reports;
mod segments;
mod throttle;
mod units;
mod users;

pub use learning::*;
pub use listing::*;
pub use provisioning::*;
pub use reports::*;
pub use segments::*;
pub use throttle::*;
pub use units::*;
pub use users::*;
