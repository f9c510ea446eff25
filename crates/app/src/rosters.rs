//! Rosters as people see them: an admin sees every roster of the org, a teacher the rosters they
//! teach. Members are listed by the status rules (inactive shown and marked, archived hidden).

use std::collections::{HashMap, HashSet};

use rollcall_domain::roster::{self, MemberRole, Roster, RosterSummary};
use rollcall_domain::{Role, RosterId, Status, User, UserId, rules};

use crate::{App, AppError, Principal};

impl App {
    /// The rosters `who` may see, by title, with how many teachers and students each shows.
    pub async fn rosters(&self, who: &Principal) -> Result<Vec<RosterSummary>, AppError> {
        let memberships = self.store.memberships(who.org_id).await?;
        let mine = teaching(who, &memberships)?;
        let mut counts: HashMap<RosterId, (u64, u64)> = HashMap::new();
        for (roster, _, role, status) in &memberships {
            if rules::is_archived(*status) {
                continue;
            }
            let entry = counts.entry(*roster).or_default();
            match role {
                MemberRole::Teacher => entry.0 += 1,
                MemberRole::Student => entry.1 += 1,
                MemberRole::Other => {}
            }
        }
        Ok(self
            .store
            .rosters(who.org_id)
            .await?
            .into_iter()
            .filter(|r| mine.as_ref().is_none_or(|mine| mine.contains(&r.id)))
            .map(|roster| {
                let (teachers, students) = counts.get(&roster.id).copied().unwrap_or_default();
                RosterSummary {
                    roster,
                    teachers,
                    students,
                }
            })
            .collect())
    }

    /// One roster and the members it shows.
    pub async fn roster(
        &self,
        who: &Principal,
        id: RosterId,
    ) -> Result<(Roster, Vec<(User, MemberRole)>), AppError> {
        let memberships = self.store.memberships(who.org_id).await?;
        if teaching(who, &memberships)?.is_some_and(|mine| !mine.contains(&id)) {
            return Err(AppError::NotFound("roster"));
        }
        let roster = self
            .store
            .rosters(who.org_id)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AppError::NotFound("roster"))?;
        let members = self.store.roster_members(who.org_id, id).await?;
        Ok((roster, roster::shown_members(members)))
    }

    /// An admin's message to a roster's members, teachers and students, through the outbox:
    /// queued for the active ones with an address, kept as suppressed (with the reason) for
    /// the others. Archived members are no longer on the roster's list and get nothing.
    pub async fn write_to_roster(
        &self,
        who: &Principal,
        id: RosterId,
        subject: &str,
        body: &str,
    ) -> Result<crate::Written, AppError> {
        who.require_admin()?;
        let mut problems = Vec::new();
        let message = crate::learning::admin_message(subject, body, &mut problems);
        let (_, members) = self.roster(who, id).await?;
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let members: Vec<User> = members.into_iter().map(|(person, _)| person).collect();
        self.write_to_members(&message, &members, "roster").await
    }
}

/// The rosters a teacher teaches (from the org's memberships); `None` for an admin, who sees
/// them all. Staff and students see none.
fn teaching(
    who: &Principal,
    memberships: &[(RosterId, UserId, MemberRole, Status)],
) -> Result<Option<HashSet<RosterId>>, AppError> {
    match who.role {
        Role::Admin => Ok(None),
        Role::Teacher => {
            let me = who.actor.user_id();
            Ok(Some(
                memberships
                    .iter()
                    .filter(|(_, user, role, _)| Some(*user) == me && *role == MemberRole::Teacher)
                    .map(|(roster, ..)| *roster)
                    .collect(),
            ))
        }
        Role::Staff | Role::Student => Err(AppError::Forbidden),
    }
}
