//! The org's credits: a balance and an append-only ledger. Top-ups add; a learner's first start
//! of a course consumes its cost, once. Nothing is ever given back: a person made inactive or
//! archived keeps what they consumed (the status rules).

use crate::Timestamp;
use crate::error::FieldError;
use crate::ids::{CourseId, CreditEntryId, OrgId, UserId};

/// The most one top-up may add.
const MAX_TOP_UP: i64 = 1_000_000;
const MAX_REASON: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditKind {
    TopUp,
    Consumption,
}

impl CreditKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::Consumption => "consumption",
        }
    }

    pub fn from_stored(word: &str) -> Option<Self> {
        match word {
            "top_up" => Some(Self::TopUp),
            "consumption" => Some(Self::Consumption),
            _ => None,
        }
    }
}

/// One line of the ledger. `amount` is positive; a consumption takes it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub id: CreditEntryId,
    pub org_id: OrgId,
    pub at: Timestamp,
    pub kind: CreditKind,
    pub amount: u32,
    /// The org's balance once this entry was written.
    pub balance_after: i64,
    /// The course started (a consumption).
    pub course_id: Option<CourseId>,
    /// The learner who started it (a consumption).
    pub user_id: Option<UserId>,
    /// Who added the credits, or the learner who consumed them, as recorded.
    pub actor: String,
    pub reason: String,
}

impl CreditEntry {
    /// The balance change this entry made.
    pub fn delta(&self) -> i64 {
        match self.kind {
            CreditKind::TopUp => i64::from(self.amount),
            CreditKind::Consumption => -i64::from(self.amount),
        }
    }
}

/// A top-up an admin asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUp {
    pub amount: u32,
    pub reason: String,
}

impl TopUp {
    /// `amount` credits (1 to a million at once), for `reason` (may be empty).
    pub fn new(amount: i64, reason: &str) -> Result<Self, FieldError> {
        let amount = u32::try_from(amount)
            .ok()
            .filter(|a| (1..=MAX_TOP_UP).contains(&i64::from(*a)))
            .ok_or_else(|| {
                FieldError::new(
                    "amount",
                    format!("must be a whole number of credits from 1 to {MAX_TOP_UP}"),
                )
            })?;
        let reason = reason.trim();
        if reason.chars().count() > MAX_REASON {
            return Err(FieldError::new(
                "reason",
                format!("is too long: at most {MAX_REASON} characters"),
            ));
        }
        Ok(Self {
            amount,
            reason: reason.to_owned(),
        })
    }
}

/// Credits consumed by one course or one person: how many, in how many starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditUse<K> {
    pub of: K,
    pub credits: i64,
    pub starts: i64,
}
