//! SCIM Groups: each is a roster of the org, its members the connection's Users. Members are
//! added and removed by the provider; a member's part in the roster follows their role
//! (teachers teach, students learn, others attend).

use std::collections::{BTreeSet, HashMap};

use rollcall_domain::roster::{MemberRole, Roster};
use rollcall_domain::{Role, RosterId, Timestamp, User, UserId};
use rollcall_scim::document::{self, Doc, Meta};
use rollcall_scim::list::ListParams;
use rollcall_scim::patch::Operation;
use rollcall_scim::{Resource, ScimError};
use rollcall_store::UnitOfWork;
use rollcall_store::scim::{ScimPage, ScimRecord};
use serde_json::Value;
use uuid::Uuid;

use super::{ScimCaller, check_if_match};
use crate::{App, AppError};

/// A Group resource.
#[derive(Debug, Clone)]
pub struct ScimGroup {
    pub record: ScimRecord,
}

impl ScimGroup {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.record.version)
    }

    /// The full representation, under the connection's base URL.
    pub fn to_json(&self, base: &str) -> Value {
        let mut doc: Doc = serde_json::from_str(&self.record.document).unwrap_or_default();
        if let Some(Value::Array(members)) = doc.get_mut("members") {
            for member in members.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(id) = member.get("value").and_then(Value::as_str) {
                    let reference = format!("{base}/Users/{id}");
                    member.insert("$ref".into(), reference.into());
                    member.insert("type".into(), "User".into());
                }
            }
        }
        let id = self.record.id.to_string();
        let etag = self.etag();
        document::render(
            Resource::Group,
            &doc,
            &Meta {
                id: &id,
                created: self.record.created_at,
                last_modified: self.record.updated_at,
                location: &format!("{base}/Groups/{id}"),
                version: &etag,
            },
        )
    }
}

fn not_found(id: &str) -> AppError {
    AppError::Scim(ScimError::not_found(format!("no Group with id '{id}'")))
}

fn display_name(doc: &Doc) -> &str {
    doc.get("displayName").and_then(Value::as_str).unwrap_or("")
}

fn external_id(doc: &Doc) -> Option<&str> {
    doc.get("externalId").and_then(Value::as_str)
}

/// The member ids a group's document lists.
fn member_ids(doc: &Doc) -> Result<BTreeSet<Uuid>, ScimError> {
    let Some(Value::Array(members)) = doc.get("members") else {
        return Ok(BTreeSet::new());
    };
    members
        .iter()
        .map(|m| {
            let value = m.get("value").and_then(Value::as_str).unwrap_or("");
            Uuid::parse_str(value).map_err(|_| {
                ScimError::invalid_value(format!(
                    "members: '{value}' is not the id of a User of this connection"
                ))
            })
        })
        .collect()
}

/// A member of a group: the person and their part in its roster.
#[derive(Debug, Clone)]
struct Member {
    part: MemberRole,
    user: User,
}

/// The history entries of people joining or leaving a roster.
fn membership_events<'a>(
    members: impl IntoIterator<Item = &'a Member>,
    caller: &ScimCaller,
    at: Timestamp,
    joined: bool,
    roster: &str,
) -> Vec<rollcall_domain::AuditEvent> {
    let actor = caller.actor();
    members
        .into_iter()
        .map(|m| m.user.membership_event(&actor, at, joined, roster))
        .collect()
}

fn part_of(role: Role) -> MemberRole {
    match role {
        Role::Teacher => MemberRole::Teacher,
        Role::Student => MemberRole::Student,
        Role::Staff | Role::Admin => MemberRole::Other,
    }
}

impl App {
    /// The people among these member ids (live Users of the connection), each with their
    /// part; and the ids that are no such User.
    async fn people_of(
        &self,
        caller: &ScimCaller,
        ids: &BTreeSet<Uuid>,
    ) -> Result<(HashMap<UserId, Member>, Vec<Uuid>), AppError> {
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        let records = self
            .store
            .scim_users_among(caller.org_id, caller.source.id, &ids)
            .await?;
        let missing = ids
            .iter()
            .filter(|id| !records.iter().any(|r| r.id == **id))
            .copied()
            .collect();
        let owners: Vec<Uuid> = records.iter().map(|r| r.owner).collect();
        let people = self
            .store
            .users_by_id(caller.org_id, &owners)
            .await?
            .into_iter()
            .map(|user| {
                let part = part_of(user.role());
                (user.id(), Member { part, user })
            })
            .collect();
        Ok((people, missing))
    }

    /// The people `doc` lists, refusing any member it adds (beyond `kept`, the members it had)
    /// that is not a live User of the connection. Members it had that are gone since (their
    /// Users deleted) are dropped from `doc`.
    async fn members_of(
        &self,
        caller: &ScimCaller,
        doc: &mut Doc,
        kept: &BTreeSet<Uuid>,
    ) -> Result<HashMap<UserId, Member>, AppError> {
        let ids = member_ids(doc)?;
        let (people, missing) = self.people_of(caller, &ids).await?;
        if let Some(added) = missing.iter().find(|id| !kept.contains(id)) {
            return Err(AppError::Scim(ScimError::invalid_value(format!(
                "members: '{added}' is not the id of a User of this connection"
            ))));
        }
        if let (false, Some(Value::Array(members))) = (missing.is_empty(), doc.get_mut("members")) {
            members.retain(|m| {
                let id = m
                    .get("value")
                    .and_then(Value::as_str)
                    .and_then(|v| Uuid::parse_str(v).ok());
                !id.is_some_and(|id| missing.contains(&id))
            });
        }
        Ok(people)
    }

    pub async fn scim_group(&self, caller: &ScimCaller, id: &str) -> Result<ScimGroup, AppError> {
        let scim_id = Uuid::parse_str(id).map_err(|_| not_found(id))?;
        let record = self
            .store
            .scim_resource(caller.org_id, caller.source.id, Resource::Group, scim_id)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(ScimGroup { record })
    }

    pub async fn scim_groups(
        &self,
        caller: &ScimCaller,
        params: &ListParams,
    ) -> Result<(Vec<ScimGroup>, u64), AppError> {
        let page = ScimPage {
            filter: params.filter.as_ref(),
            sort: params.sort,
            offset: params.start_index.saturating_sub(1),
            limit: params.count,
        };
        let (records, total) = self
            .store
            .scim_list(caller.org_id, caller.source.id, Resource::Group, &page)
            .await?;
        Ok((
            records
                .into_iter()
                .map(|record| ScimGroup { record })
                .collect(),
            total,
        ))
    }

    /// Creates a Group: a roster of the org with the members it lists.
    pub async fn scim_create_group(
        &self,
        caller: &ScimCaller,
        body: &Value,
    ) -> Result<ScimGroup, AppError> {
        let mut doc = document::normalise(Resource::Group, body)?.doc;
        document::require(Resource::Group, &doc)?;
        let members = self.members_of(caller, &mut doc, &BTreeSet::new()).await?;
        let at = self.now();
        let org = caller.org_id;
        let mut uow = self.store.begin().await?;
        let claims = uow
            .scim_claims(
                org,
                caller.source.id,
                Resource::Group,
                &[display_name(&doc)],
                external_id(&doc).as_slice(),
            )
            .await?;
        if claims.iter().any(|c| c.deleted_at.is_none()) {
            return Err(AppError::Scim(ScimError::uniqueness(format!(
                "a Group of this connection already has the displayName '{}' or externalId",
                display_name(&doc)
            ))));
        }
        let scim_id = Uuid::now_v7();
        let roster = Roster {
            id: RosterId::new(),
            org_id: org,
            source_id: caller.source.id,
            external_id: scim_id.to_string(),
            title: display_name(&doc).to_owned(),
            code: String::new(),
            school: String::new(),
        };
        uow.put_rosters(org, caller.source.id, std::slice::from_ref(&roster), false)
            .await?;
        let seats: Vec<(String, UserId, MemberRole)> = members
            .iter()
            .map(|(user, m)| (roster.external_id.clone(), *user, m.part))
            .collect();
        uow.put_members(org, caller.source.id, &seats, &[], false)
            .await?;
        uow.record(&membership_events(
            members.values(),
            caller,
            at,
            true,
            &roster.title,
        ))
        .await?;
        let record = ScimRecord {
            id: scim_id,
            org_id: org,
            source_id: caller.source.id,
            kind: Resource::Group,
            owner: roster.id.as_uuid(),
            name: display_name(&doc).to_owned(),
            external_id: external_id(&doc).map(str::to_owned),
            document: serde_json::to_string(&doc)
                .map_err(|e| AppError::internal("writing a SCIM group", e))?,
            created_at: at,
            updated_at: at,
            version: 1,
            deleted_at: None,
        };
        uow.insert_scim_resources(std::slice::from_ref(&record))
            .await
            .map_err(taken)?;
        uow.commit().await.map_err(taken)?;
        tracing::info!(request = %caller.request, members = members.len(), "SCIM group created");
        Ok(ScimGroup { record })
    }

    /// Replaces a Group whole (PUT).
    pub async fn scim_replace_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<ScimGroup, AppError> {
        let doc = document::normalise(Resource::Group, body)?.doc;
        self.rewrite_group(caller, id, if_match, |_| Ok(doc)).await
    }

    /// Applies a PATCH's operations to a Group (renames, members added and removed).
    pub async fn scim_patch_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        operations: &[Operation],
        if_match: Option<&str>,
    ) -> Result<ScimGroup, AppError> {
        let scim_id = id.to_owned();
        self.rewrite_group(caller, id, if_match, move |mut doc| {
            rollcall_scim::patch::apply(Resource::Group, &mut doc, operations, &scim_id)?;
            Ok(doc)
        })
        .await
    }

    async fn rewrite_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        if_match: Option<&str>,
        rewrite: impl FnOnce(Doc) -> Result<Doc, ScimError>,
    ) -> Result<ScimGroup, AppError> {
        let scim_id = Uuid::parse_str(id).map_err(|_| not_found(id))?;
        // Read first, and the members resolved, outside the unit of work (which holds a
        // connection of its own); the version is checked again inside.
        let current = self.scim_group(caller, id).await?;
        check_if_match(if_match, &current.etag())?;
        let before: Doc = serde_json::from_str(&current.record.document).unwrap_or_default();
        let kept = member_ids(&before)?;
        let mut doc = rewrite(before.clone())?;
        document::require(Resource::Group, &doc)?;
        let members = self.members_of(caller, &mut doc, &kept).await?;
        let (was, _) = self.people_of(caller, &kept).await?;
        let at = self.now();
        let org = caller.org_id;
        let mut uow = self.store.begin().await?;
        let record = locked(uow.as_mut(), caller, scim_id, id).await?;
        if record.version != current.record.version {
            return Err(AppError::Scim(ScimError::new(
                409,
                None,
                "the Group changed while this request was applied; send it again",
            )));
        }
        let roster_key = scim_id.to_string();
        if display_name(&doc) != display_name(&before) {
            let roster = Roster {
                id: RosterId::from_uuid(record.owner),
                org_id: org,
                source_id: caller.source.id,
                external_id: roster_key.clone(),
                title: display_name(&doc).to_owned(),
                code: String::new(),
                school: String::new(),
            };
            uow.put_rosters(org, caller.source.id, std::slice::from_ref(&roster), false)
                .await?;
        }
        let joined: Vec<(String, UserId, MemberRole)> = members
            .iter()
            .filter(|(user, m)| was.get(user).map(|w| w.part) != Some(m.part))
            .map(|(user, m)| (roster_key.clone(), *user, m.part))
            .collect();
        let left: Vec<(String, UserId)> = was
            .keys()
            .filter(|user| !members.contains_key(user))
            .map(|user| (roster_key.clone(), *user))
            .collect();
        uow.put_members(org, caller.source.id, &joined, &left, false)
            .await?;
        let title = display_name(&doc);
        let mut events = membership_events(
            members
                .iter()
                .filter(|(user, _)| !was.contains_key(user))
                .map(|(_, m)| m),
            caller,
            at,
            true,
            title,
        );
        events.extend(membership_events(
            was.iter()
                .filter(|(user, _)| !members.contains_key(user))
                .map(|(_, m)| m),
            caller,
            at,
            false,
            title,
        ));
        uow.record(&events).await?;
        let mut next = record.clone();
        next.name = display_name(&doc).to_owned();
        next.external_id = external_id(&doc).map(str::to_owned);
        next.document = serde_json::to_string(&doc)
            .map_err(|e| AppError::internal("writing a SCIM group", e))?;
        if next.document != record.document {
            next.version += 1;
            next.updated_at = at;
            uow.update_scim_resources(&[(next.clone(), record.version)])
                .await
                .map_err(taken)?;
        }
        uow.commit().await.map_err(taken)?;
        Ok(ScimGroup { record: next })
    }

    /// Deletes a Group: its roster is removed (the people stay as they are).
    pub async fn scim_delete_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), AppError> {
        let scim_id = Uuid::parse_str(id).map_err(|_| not_found(id))?;
        // Its members, read before the unit of work: each one's history says they left.
        let current = self.scim_group(caller, id).await?;
        let before: Doc = serde_json::from_str(&current.record.document).unwrap_or_default();
        let (members, _) = self.people_of(caller, &member_ids(&before)?).await?;
        let at: Timestamp = self.now();
        let mut uow = self.store.begin().await?;
        let record = locked(uow.as_mut(), caller, scim_id, id).await?;
        check_if_match(
            if_match,
            &ScimGroup {
                record: record.clone(),
            }
            .etag(),
        )?;
        uow.delete_rosters(caller.org_id, caller.source.id, &[scim_id.to_string()])
            .await?;
        uow.record(&membership_events(
            members.values(),
            caller,
            at,
            false,
            display_name(&before),
        ))
        .await?;
        let mut gone = record.clone();
        gone.deleted_at = Some(at);
        gone.updated_at = at;
        gone.version += 1;
        uow.update_scim_resources(&[(gone.clone(), record.version)])
            .await?;
        uow.commit().await?;
        Ok(())
    }
}

async fn locked(
    uow: &mut dyn UnitOfWork,
    caller: &ScimCaller,
    scim_id: Uuid,
    id: &str,
) -> Result<ScimRecord, AppError> {
    uow.lock_scim_resource(caller.org_id, caller.source.id, Resource::Group, scim_id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn taken(err: rollcall_store::StoreError) -> AppError {
    match err {
        rollcall_store::StoreError::Conflict { .. } => AppError::Scim(ScimError::uniqueness(
            "displayName or externalId is already taken by another Group of this connection",
        )),
        other => other.into(),
    }
}
