//! The org's credits: top-ups by admins, and what was consumed, per course and per person
//! (inactive and archived people included: nothing is given back).

use std::collections::HashMap;

use rollcall_domain::learning::{CreditEntry, CreditKind, CreditUse, TopUp};
use rollcall_domain::provisioning::Wanted;
use rollcall_domain::{CourseId, CreditEntryId, User, UserId};

use crate::{App, AppError, Principal};

/// How many ledger entries and people the credits page shows.
const SHOWN: u64 = 200;

/// The org's credits as admins read them.
#[derive(Debug, Clone)]
pub struct Credits {
    pub balance: i64,
    /// The newest entries of the ledger.
    pub entries: Vec<CreditEntry>,
    /// Consumed per course, with the course's title (when it still exists).
    pub by_course: Vec<(CreditUse<CourseId>, Option<String>)>,
    /// Consumed per person, most first, with the person.
    pub by_user: Vec<(CreditUse<UserId>, Option<User>)>,
}

impl App {
    /// Adds credits to the org, recorded in the ledger with who added them and why.
    pub async fn top_up(
        &self,
        who: &Principal,
        amount: i64,
        reason: &str,
    ) -> Result<CreditEntry, AppError> {
        who.require_admin()?;
        let top_up = TopUp::new(amount, reason)?;
        let mut uow = self.store.begin().await?;
        let balance = uow.add_credits(who.org_id, top_up.amount).await?;
        let entry = CreditEntry {
            id: CreditEntryId::new(),
            org_id: who.org_id,
            at: self.now(),
            kind: CreditKind::TopUp,
            amount: top_up.amount,
            balance_after: balance,
            course_id: None,
            user_id: None,
            actor: who.actor.label().to_owned(),
            reason: top_up.reason,
        };
        uow.insert_credit_entry(&entry).await?;
        uow.commit().await?;
        tracing::info!(amount = entry.amount, balance, "credits topped up");
        Ok(entry)
    }

    pub async fn credits(&self, who: &Principal) -> Result<Credits, AppError> {
        who.require_admin()?;
        let balance = self.store.credit_balance(who.org_id).await?;
        let entries = self.store.credit_entries(who.org_id, SHOWN).await?;
        let titles: HashMap<CourseId, String> = self
            .store
            .courses(who.org_id)
            .await?
            .into_iter()
            .map(|c| (c.id, c.title))
            .collect();
        let by_course = self
            .store
            .credit_use_by_course(who.org_id)
            .await?
            .into_iter()
            .map(|used| {
                let title = titles.get(&used.of).cloned();
                (used, title)
            })
            .collect();
        let used = self.store.credit_use_by_user(who.org_id, SHOWN).await?;
        let wanted = Wanted {
            ids: used.iter().map(|u| u.of).collect(),
            ..Wanted::default()
        };
        let mut people: HashMap<UserId, User> = self
            .store
            .provisioning_known(who.org_id, &wanted)
            .await?
            .into_iter()
            .map(|k| (k.user.id(), k.user))
            .collect();
        let by_user = used
            .into_iter()
            .map(|used| {
                let person = people.remove(&used.of);
                (used, person)
            })
            .collect();
        Ok(Credits {
            balance,
            entries,
            by_course,
            by_user,
        })
    }
}

impl App {
    /// The org's outbox, newest first: of one state, or all.
    pub async fn outbox(
        &self,
        who: &Principal,
        state: Option<rollcall_domain::learning::MessageState>,
        limit: u64,
    ) -> Result<Vec<rollcall_domain::learning::Message>, AppError> {
        who.require_admin()?;
        Ok(self
            .store
            .messages(who.org_id, state, limit.clamp(1, 1_000))
            .await?)
    }
}
