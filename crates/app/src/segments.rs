//! Segments: an org's people picked out by a rule on their fields (see
//! [`rollcall_domain::segment`]). A segment stores its rule, never its members: counts and
//! members are asked of the database each time, so a roster import that changes someone's
//! department moves them between segments at once. Inactive members are counted and listed
//! apart (marked); archived ones are kept in the data and left out, as the status rules say.

use std::collections::HashSet;

use rollcall_domain::segment::{Field, Rule};
use rollcall_domain::{FieldError, OrgId, SegmentId, User, text};
use rollcall_store::segment::{SegmentReach, SegmentRecord, SegmentTally};

use crate::{App, AppError, Principal};

/// How many members a preview shows.
pub const PREVIEW_MEMBERS: u64 = 20;
/// How many members are read at a time.
const PAGE: u64 = 1_000;
/// The longest segment name, in characters.
const MAX_NAME: usize = 100;

/// A segment to make, or what an existing one becomes.
#[derive(Debug, Clone, Default)]
pub struct NewSegment {
    pub name: String,
    pub rule: String,
}

/// A segment with its count now.
#[derive(Debug, Clone)]
pub struct Segment {
    pub record: SegmentRecord,
    pub tally: SegmentTally,
}

/// What a rule would pick out: its plain form, its count, and its first members.
#[derive(Debug, Clone)]
pub struct SegmentPreview {
    pub rule: String,
    pub tally: SegmentTally,
    pub first: Vec<User>,
}

fn segment_name(raw: &str) -> Result<String, FieldError> {
    let name = text::clean(raw, "name", false)?;
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(FieldError::new(
            "name",
            format!("a segment's name is 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(name)
}

impl App {
    /// Parses a rule for the org: an attribute it names must be one the org's people have.
    pub(crate) async fn segment_rule(&self, org: OrgId, text: &str) -> Result<Rule, AppError> {
        // First every name is taken for an attribute, to learn which the rule names; then it is
        // read again knowing which of those exist, so a refusal says where the unknown one is.
        let named = Rule::parse(text, &|_| true).map_err(FieldError::from)?;
        let mut known = HashSet::new();
        for field in named.fields() {
            if let Field::Attribute(name) = field
                && self.store.attribute_in_use(org, name).await?
            {
                known.insert(name.clone());
            }
        }
        Ok(Rule::parse(text, &|name| known.contains(name)).map_err(FieldError::from)?)
    }

    /// What `rule` would pick out, before it is saved: the count and the first members.
    pub async fn preview_segment(
        &self,
        who: &Principal,
        rule: &str,
    ) -> Result<SegmentPreview, AppError> {
        who.require_admin()?;
        let rule = self.segment_rule(who.org_id, rule).await?;
        let tally = self.store.segment_tally(who.org_id, &rule).await?;
        let first = self
            .store
            .segment_members(who.org_id, &rule, 0, PREVIEW_MEMBERS)
            .await?;
        Ok(SegmentPreview {
            rule: rule.to_string(),
            tally,
            first,
        })
    }

    pub async fn create_segment(
        &self,
        who: &Principal,
        new: &NewSegment,
    ) -> Result<Segment, AppError> {
        who.require_admin()?;
        let (name, rule) = self.checked_segment(who.org_id, new).await?;
        let at = self.now();
        let record = SegmentRecord {
            id: SegmentId::new(),
            org_id: who.org_id,
            name,
            rule: rule.to_string(),
            created_by: who.actor.label().to_owned(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut uow = self.store.begin().await?;
        uow.insert_segment(&record).await.map_err(name_taken)?;
        uow.commit().await?;
        let tally = self.store.segment_tally(who.org_id, &rule).await?;
        Ok(Segment { record, tally })
    }

    /// Renames a segment or changes its rule, if it is still at version `expected`.
    pub async fn update_segment(
        &self,
        who: &Principal,
        id: SegmentId,
        change: &NewSegment,
        expected: Option<i64>,
    ) -> Result<Segment, AppError> {
        who.require_admin()?;
        let current = self.stored_segment(who.org_id, id).await?;
        let (name, rule) = self.checked_segment(who.org_id, change).await?;
        let expected = expected.unwrap_or(current.version);
        let record = SegmentRecord {
            name,
            rule: rule.to_string(),
            updated_at: self.now(),
            version: expected + 1,
            ..current.clone()
        };
        let mut uow = self.store.begin().await?;
        uow.update_segment(&record, expected)
            .await
            .map_err(|err| match err {
                rollcall_store::StoreError::Stale { .. } => AppError::Stale {
                    what: "segment",
                    sent: Some(expected),
                    current: current.version,
                },
                other => name_taken(other),
            })?;
        uow.commit().await?;
        let tally = self.store.segment_tally(who.org_id, &rule).await?;
        Ok(Segment { record, tally })
    }

    pub async fn delete_segment(&self, who: &Principal, id: SegmentId) -> Result<(), AppError> {
        who.require_admin()?;
        let mut uow = self.store.begin().await?;
        if !uow.delete_segment(who.org_id, id).await? {
            return Err(AppError::NotFound("segment"));
        }
        uow.commit().await?;
        Ok(())
    }

    /// The org's segments, by name, each with its count now.
    pub async fn segments(&self, who: &Principal) -> Result<Vec<Segment>, AppError> {
        who.require_admin()?;
        let mut segments = Vec::new();
        for record in self.store.segments(who.org_id).await? {
            let tally = self.tally_of(&record).await?;
            segments.push(Segment { record, tally });
        }
        Ok(segments)
    }

    pub async fn segment(&self, who: &Principal, id: SegmentId) -> Result<Segment, AppError> {
        who.require_admin()?;
        let record = self.stored_segment(who.org_id, id).await?;
        let tally = self.tally_of(&record).await?;
        Ok(Segment { record, tally })
    }

    /// A page of a segment's members, by family then given name (inactive ones included, to
    /// be marked; archived ones left out).
    pub async fn segment_members(
        &self,
        who: &Principal,
        id: SegmentId,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<User>, AppError> {
        who.require_admin()?;
        let record = self.stored_segment(who.org_id, id).await?;
        let rule = stored_rule(&record)?;
        Ok(self
            .store
            .segment_members(who.org_id, &rule, offset, limit.min(500))
            .await?)
    }

    /// Whom a message to the segment would reach now, and who would be left out and why.
    pub async fn segment_reach(
        &self,
        who: &Principal,
        id: SegmentId,
    ) -> Result<SegmentReach, AppError> {
        who.require_admin()?;
        let record = self.stored_segment(who.org_id, id).await?;
        let rule = stored_rule(&record)?;
        Ok(self.store.segment_reach(who.org_id, &rule).await?)
    }

    /// An admin's message to a segment's members, through the outbox: queued for the active
    /// ones with an address, kept as suppressed (with the reason) for the others. All of it
    /// is written, or none.
    pub async fn write_to_segment(
        &self,
        who: &Principal,
        id: SegmentId,
        subject: &str,
        body: &str,
    ) -> Result<crate::Written, AppError> {
        who.require_admin()?;
        let mut problems = Vec::new();
        let message = crate::learning::admin_message(subject, body, &mut problems);
        let record = self.stored_segment(who.org_id, id).await?;
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let rule = stored_rule(&record)?;
        self.write_to_rule(&message, who.org_id, &rule, "segment")
            .await
    }

    /// Whom a message to everyone would reach now, and who would be left out and why.
    pub async fn everyone_reach(&self, who: &Principal) -> Result<SegmentReach, AppError> {
        who.require_admin()?;
        Ok(self
            .store
            .segment_reach(who.org_id, &Rule::And(Vec::new()))
            .await?)
    }

    /// An admin's message to everyone of the org: queued for the active people with an
    /// address, kept as suppressed (with the reason) for inactive people and those without
    /// one; archived people are not written to. All of it is written, or none.
    pub async fn write_to_everyone(
        &self,
        who: &Principal,
        subject: &str,
        body: &str,
    ) -> Result<crate::Written, AppError> {
        who.require_admin()?;
        let mut problems = Vec::new();
        let message = crate::learning::admin_message(subject, body, &mut problems);
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        self.write_to_rule(&message, who.org_id, &Rule::And(Vec::new()), "org")
            .await
    }

    /// `message` to the people `rule` picks out (as segments list them), addressed to each by
    /// the status rules: read a page at a time in the order of their ids (each page costs the
    /// same, however deep) and written in one unit of work, so a large org never sits in
    /// memory whole; refused when there is no one.
    async fn write_to_rule(
        &self,
        message: &rollcall_domain::learning::NewMessage,
        org: OrgId,
        rule: &Rule,
        audience: &'static str,
    ) -> Result<crate::Written, AppError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut written = crate::Written {
            queued: 0,
            suppressed: 0,
        };
        let mut after = None;
        loop {
            let page = self
                .store
                .segment_members_after(org, rule, after, PAGE)
                .await?;
            after = page.last().map(User::id);
            let messages: Vec<rollcall_domain::learning::Message> = page
                .iter()
                .map(|person| rollcall_domain::learning::Message::addressed(person, message, now))
                .collect();
            uow.insert_messages(&messages).await?;
            let queued = messages
                .iter()
                .filter(|m| m.state == rollcall_domain::learning::MessageState::Queued)
                .count();
            written.queued += queued;
            written.suppressed += messages.len() - queued;
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        if written.queued + written.suppressed == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                audience,
                format!("no one is in this {audience} now: the message would reach nobody"),
            )]));
        }
        uow.commit().await?;
        Ok(written)
    }

    async fn stored_segment(&self, org: OrgId, id: SegmentId) -> Result<SegmentRecord, AppError> {
        self.store
            .segment(org, id)
            .await?
            .ok_or(AppError::NotFound("segment"))
    }

    async fn tally_of(&self, record: &SegmentRecord) -> Result<SegmentTally, AppError> {
        let rule = stored_rule(record)?;
        Ok(self.store.segment_tally(record.org_id, &rule).await?)
    }

    async fn checked_segment(
        &self,
        org: OrgId,
        new: &NewSegment,
    ) -> Result<(String, Rule), AppError> {
        let name = segment_name(&new.name);
        let rule = self.segment_rule(org, &new.rule).await;
        match (name, rule) {
            (Ok(name), Ok(rule)) => Ok((name, rule)),
            (Err(name), Err(AppError::Invalid(mut errors))) => {
                errors.insert(0, name);
                Err(AppError::Invalid(errors))
            }
            (Err(name), _) => Err(name.into()),
            (_, Err(err)) => Err(err),
        }
    }
}

/// A stored rule, read again. Attributes it names may have left every person since it was
/// saved: they are still attributes (that no one has).
fn stored_rule(record: &SegmentRecord) -> Result<Rule, AppError> {
    Rule::parse(&record.rule, &|_| true).map_err(|err| {
        AppError::internal(
            "reading a stored segment rule",
            rollcall_store::StoreError::Corrupt {
                what: format!("segment {}: {err}", record.id),
            },
        )
    })
}

fn name_taken(err: rollcall_store::StoreError) -> AppError {
    match err {
        rollcall_store::StoreError::Conflict { .. } => AppError::Conflict(FieldError::new(
            "name",
            "the org already has a segment of that name",
        )),
        other => other.into(),
    }
}
