//! SCIM Users: read, listed and searched, created, replaced, patched and deleted.

use rollcall_domain::{
    Actor, NewUser, OrgId, Reason, Status, StatusChange, Timestamp, User, UserChange, UserId,
    UserPatch, rules,
};
use rollcall_scim::document::{self, Doc};
use rollcall_scim::list::ListParams;
use rollcall_scim::patch::Operation;
use rollcall_scim::{Resource, ScimError};
use rollcall_store::scim::{ScimPage, ScimRecord, name_key};
use rollcall_store::{StoreError, UnitOfWork};
use serde_json::Value;
use uuid::Uuid;

use super::batch::Work;
use super::mapping::{Mapped, map_user, merged_attributes};
use super::{ScimCaller, ScimUser, check_if_match};
use crate::{App, AppError};

/// A resource whole, read as a person.
fn checked(doc: &Doc, caller: &ScimCaller) -> Result<Mapped, AppError> {
    document::require(Resource::User, doc)?;
    Ok(map_user(doc, &caller.settings.role_attribute)?)
}

/// An id as clients send it: one that is not ours is simply not found.
fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id).map_err(|_| not_found(id))
}

fn not_found(id: &str) -> AppError {
    AppError::Scim(ScimError::not_found(format!("no User with id '{id}'")))
}

/// A store's refusal of a taken value, as SCIM says it.
fn taken(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict { field } => AppError::Scim(ScimError::uniqueness(match field {
            "name_key" => "userName is already taken by another User of this connection".to_owned(),
            "external_id" => "externalId is already taken by another User of this connection".to_owned(),
            "username" => "the userName, as a username, is taken by (or looks like) another person's of the org".to_owned(),
            "email" => "the e-mail address belongs to another person of the org".to_owned(),
            "id" => "the person already has a User in this connection".to_owned(),
            other => format!("{other} is already taken"),
        })),
        other => other.into(),
    }
}

fn user_name(doc: &Doc) -> &str {
    doc.get("userName").and_then(Value::as_str).unwrap_or("")
}

fn external_id(doc: &Doc) -> Option<&str> {
    doc.get("externalId").and_then(Value::as_str)
}

fn stored(doc: &Doc) -> Result<String, AppError> {
    serde_json::to_string(doc).map_err(|err| AppError::internal("writing a SCIM resource", err))
}

fn read_doc(record: &ScimRecord) -> Doc {
    serde_json::from_str(&record.document).unwrap_or_default()
}

/// The moves that take `user` to `to`, as the rules allow (an archived person reaches inactive
/// through active), each with its event.
fn moves(
    user: &User,
    to: Status,
    actor: &Actor,
    at: Timestamp,
    why: &str,
) -> Result<Vec<UserChange>, AppError> {
    let mut changes = Vec::new();
    let mut current = user.clone();
    for step in rules::path(current.status(), to) {
        let change = current.change_status(
            StatusChange {
                to: step,
                reason: Reason::parse(Some(why))?,
                temporary_password: None,
            },
            actor,
            at,
        )?;
        current = change.user.clone();
        changes.push(change);
    }
    Ok(changes)
}

/// What the provider's `active` asks for.
fn said_status(active: bool) -> Status {
    rules::enabled_status(active)
}

fn why(active: bool) -> &'static str {
    if active {
        "the identity provider set active to true"
    } else {
        "the identity provider set active to false"
    }
}

/// The edit a resource makes to a person: what it says is set, what it leaves out is kept.
fn patch_of(mapped: &Mapped, doc: &Doc, current: &User) -> UserPatch {
    let names = doc.contains_key("name") || doc.contains_key("displayName");
    UserPatch {
        username: mapped.username.clone().map(Some),
        email: mapped.email.clone().map(Some),
        given_name: names.then(|| mapped.given_name.clone()),
        family_name: names.then(|| mapped.family_name.clone()),
        role: mapped.role,
        external_id: mapped.external_id.clone().map(Some),
        prevent_archiving: None,
        attributes: Some(merged_attributes(current.attributes(), &mapped.attributes)),
    }
}

/// `patch` keeping only the fields whose value the provider changed since `was` (what its
/// previous document said); all of it when there was none.
fn changed_only(
    mut patch: UserPatch,
    was: Option<&Mapped>,
    now: &Mapped,
    before: &Doc,
    doc: &Doc,
) -> UserPatch {
    let Some(was) = was else { return patch };
    if was.username == now.username {
        patch.username = None;
    }
    if was.email == now.email {
        patch.email = None;
    }
    let named = |d: &Doc| (d.get("name").cloned(), d.get("displayName").cloned());
    if named(before) == named(doc) {
        patch.given_name = None;
        patch.family_name = None;
    }
    if was.role == now.role {
        patch.role = None;
    }
    if was.external_id == now.external_id {
        patch.external_id = None;
    }
    if was.attributes == now.attributes {
        patch.attributes = None;
    }
    patch
}

impl App {
    /// Fills in each person's Groups of the connection.
    async fn with_groups(
        &self,
        caller: &ScimCaller,
        mut users: Vec<ScimUser>,
    ) -> Result<Vec<ScimUser>, AppError> {
        let owners: Vec<Uuid> = users.iter().map(|u| u.record.owner).collect();
        let memberships = self
            .store
            .scim_groups_of(caller.org_id, caller.source.id, &owners)
            .await?;
        for (owner, group, name) in memberships {
            for user in users.iter_mut().filter(|u| u.record.owner == owner) {
                user.groups.push((group, name.clone()));
            }
        }
        Ok(users)
    }

    async fn with_groups_one(
        &self,
        caller: &ScimCaller,
        user: ScimUser,
    ) -> Result<ScimUser, AppError> {
        Ok(self
            .with_groups(caller, vec![user])
            .await?
            .pop()
            .expect("one in, one out"))
    }

    /// One live User of the connection.
    pub async fn scim_user(&self, caller: &ScimCaller, id: &str) -> Result<ScimUser, AppError> {
        let scim_id = parse_id(id)?;
        let record = self
            .store
            .scim_resource(caller.org_id, caller.source.id, Resource::User, scim_id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let user = self
            .store
            .users_by_id(caller.org_id, &[record.owner])
            .await?
            .pop()
            .ok_or_else(|| not_found(id))?;
        self.with_groups_one(
            caller,
            ScimUser {
                record,
                user,
                groups: Vec::new(),
            },
        )
        .await
    }

    /// A page of the connection's live Users that pass the filter, and how many pass it.
    pub async fn scim_users(
        &self,
        caller: &ScimCaller,
        params: &ListParams,
    ) -> Result<(Vec<ScimUser>, u64), AppError> {
        let page = ScimPage {
            filter: params.filter.as_ref(),
            sort: params.sort,
            offset: params.start_index.saturating_sub(1),
            limit: params.count,
        };
        let (records, total) = self
            .store
            .scim_list(caller.org_id, caller.source.id, Resource::User, &page)
            .await?;
        let owners: Vec<Uuid> = records.iter().map(|r| r.owner).collect();
        let mut users: std::collections::HashMap<Uuid, User> = self
            .store
            .users_by_id(caller.org_id, &owners)
            .await?
            .into_iter()
            .map(|u| (u.id().as_uuid(), u))
            .collect();
        let found = records
            .into_iter()
            .filter_map(|record| {
                let user = users.remove(&record.owner)?;
                Some(ScimUser {
                    record,
                    user,
                    groups: Vec::new(),
                })
            })
            .collect();
        Ok((self.with_groups(caller, found).await?, total))
    }

    /// The person a new User names, if the org has one this connection may take over: a
    /// person added by hand with the same username or e-mail. Anyone else with it refuses the
    /// User: a person of this or another source (two resources never share a person), or an
    /// admin (admins are not handed to a directory).
    ///
    /// A person of this connection whose User was deleted (archived, say) keeps their username
    /// and e-mail: they are listed in `held`, for the create to restore that person, or else
    /// to make the new User (someone else) without that sign-in name.
    async fn person_to_link(
        &self,
        caller: &ScimCaller,
        mapped: &Mapped,
        held: &mut Vec<(Login, UserId)>,
    ) -> Result<Option<UserId>, AppError> {
        let logins = [
            mapped.username.as_ref().map(|u| u.as_str().to_owned()),
            mapped.email.as_ref().map(|e| e.as_str().to_owned()),
        ];
        for (i, login) in logins.iter().enumerate() {
            let Some(login) = login.as_deref() else {
                continue;
            };
            let Some(found) = self.store.user_by_login(caller.org_id, login).await? else {
                continue;
            };
            let refuse = |why: String| Err(AppError::Scim(ScimError::uniqueness(why)));
            let source = found.source();
            if found.role() == rollcall_domain::Role::Admin {
                return refuse(format!(
                    "'{login}' belongs to an admin of the org, whom a connection may not take over"
                ));
            }
            if source == &caller.source.name {
                let live = self
                    .store
                    .has_live_scim_user(caller.org_id, caller.source.id, found.id().as_uuid())
                    .await?;
                if live {
                    return refuse(format!(
                        "'{login}' belongs to another User of this connection"
                    ));
                }
                let which = if i == 0 {
                    Login::Username
                } else {
                    Login::Email
                };
                held.push((which, found.id()));
                continue;
            }
            if !source.is_manual() {
                return refuse(format!(
                    "'{login}' belongs to a person managed by the source '{}'",
                    source.as_str()
                ));
            }
            return Ok(Some(found.id()));
        }
        Ok(None)
    }

    /// Creates a User: a new person, a person added by hand taken over (linked), or a person
    /// the connection deleted before restored with their history.
    pub async fn scim_create_user(
        &self,
        caller: &ScimCaller,
        body: &Value,
    ) -> Result<ScimUser, AppError> {
        let normalised = document::normalise(Resource::User, body)?;
        log_ignored(&normalised.ignored);
        let doc = normalised.doc;
        let mapped = checked(&doc, caller)?;
        let mut held = Vec::new();
        let linkable = self.person_to_link(caller, &mapped, &mut held).await?;
        // A new active person, the usual case, is written with the other requests of the
        // moment; anything else (a restore, a take-over, a name taken) is served alone.
        if self.store.one_writer()
            && linkable.is_none()
            && held.is_empty()
            && mapped.active != Some(false)
        {
            let at = self.now();
            let (user, event) = User::create(
                caller.org_id,
                new_user(caller, &mapped),
                &caller.actor(),
                at,
            )?;
            let record = new_record(caller, &user, &doc, at)?;
            let work = Work::Create {
                user: Box::new(user.clone()),
                event: Box::new(event),
                record: record.clone(),
            };
            if self.scim_batch.write(&self.store, work).await {
                tracing::info!(user.id = %user.id(), request = %caller.request, "SCIM user created");
                return Ok(ScimUser {
                    record,
                    user,
                    groups: Vec::new(),
                });
            }
        }
        self.create_user_alone(caller, &doc, mapped, linkable, &held)
            .await
    }

    /// Creates a User in a unit of work of its own.
    async fn create_user_alone(
        &self,
        caller: &ScimCaller,
        doc: &Doc,
        mut mapped: Mapped,
        linkable: Option<UserId>,
        held: &[(Login, UserId)],
    ) -> Result<ScimUser, AppError> {
        let at = self.now();
        let org = caller.org_id;
        let mut uow = self.store.begin().await?;
        let claims = uow
            .scim_claims(
                org,
                caller.source.id,
                Resource::User,
                &[user_name(doc)],
                external_id(doc).as_slice(),
            )
            .await?;
        if let Some(live) = claims.iter().find(|c| c.deleted_at.is_none()) {
            let what = if name_key(&live.name) == name_key(user_name(doc)) {
                format!("userName '{}'", user_name(doc))
            } else {
                format!("externalId '{}'", external_id(doc).unwrap_or(""))
            };
            return Err(AppError::Scim(ScimError::uniqueness(format!(
                "{what} is already taken by another User of this connection"
            ))));
        }
        // A person this connection deleted comes back (by externalId, or by userName unless
        // both carry externalIds that differ: a recycled name is someone else); else one added
        // by hand is taken over.
        let wanted_external = external_id(doc);
        let restored = claims
            .iter()
            .find(|c| c.external_id.is_some() && c.external_id.as_deref() == wanted_external)
            .or_else(|| {
                claims.iter().find(|c| {
                    name_key(&c.name) == name_key(user_name(doc))
                        && !matches!(
                            (c.external_id.as_deref(), wanted_external),
                            (Some(was), Some(now)) if was != now
                        )
                })
            });
        let restored = restored.map(|deleted| UserId::from_uuid(deleted.owner));
        // A sign-in name still held by another person this connection deleted is theirs.
        for (login, holder) in held {
            if Some(*holder) == restored {
                continue;
            }
            let name = match login {
                Login::Username => mapped.username.take().map(|u| u.as_str().to_owned()),
                Login::Email => mapped.email.take().map(|e| e.as_str().to_owned()),
            };
            if mapped.username.is_none() && mapped.email.is_none() {
                return Err(AppError::Scim(ScimError::uniqueness(format!(
                    "'{}' still belongs to a person this connection deleted, and the User has \
                     no other way to sign in",
                    name.unwrap_or_default()
                ))));
            }
        }
        let existing = restored.or(linkable);
        let existing = match existing {
            Some(id) => uow.user(org, id).await?,
            None => None,
        };
        let user = if let Some(user) = existing {
            take_over(uow.as_mut(), caller, &user, &mapped, doc, at).await?
        } else {
            create_person(uow.as_mut(), caller, &mapped, at).await?
        };
        let record = new_record(caller, &user, doc, at)?;
        uow.insert_scim_resources(std::slice::from_ref(&record))
            .await
            .map_err(taken)?;
        uow.commit().await.map_err(taken)?;
        tracing::info!(user.id = %user.id(), request = %caller.request, "SCIM user created");
        Ok(ScimUser {
            record,
            user,
            groups: Vec::new(),
        })
    }

    /// Replaces a User whole (PUT). What the body leaves out of the person's name, e-mail and
    /// role is kept; `active` left out leaves the status as it is.
    pub async fn scim_replace_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<ScimUser, AppError> {
        let normalised = document::normalise(Resource::User, body)?;
        log_ignored(&normalised.ignored);
        self.rewrite_user(caller, id, if_match, |_| Ok(normalised.doc.clone()))
            .await
    }

    /// Applies a PATCH's operations to a User, all or nothing.
    pub async fn scim_patch_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        operations: &[Operation],
        if_match: Option<&str>,
    ) -> Result<ScimUser, AppError> {
        let scim_id = id.to_owned();
        self.rewrite_user(caller, id, if_match, move |mut doc| {
            let ignored =
                rollcall_scim::patch::apply(Resource::User, &mut doc, operations, &scim_id)?;
            log_ignored(&ignored);
            Ok(doc)
        })
        .await
    }

    async fn rewrite_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        if_match: Option<&str>,
        rewrite: impl Fn(Doc) -> Result<Doc, ScimError>,
    ) -> Result<ScimUser, AppError> {
        let scim_id = parse_id(id)?;
        if let Some(done) = self
            .rewrite_user_in_group(caller, scim_id, if_match, &rewrite)
            .await?
        {
            return self.with_groups_one(caller, done).await;
        }
        let at = self.now();
        let mut uow = self.store.begin().await?;
        let (record, user) = locked(uow.as_mut(), caller, scim_id, id).await?;
        let plan = plan_rewrite(caller, &record, &user, if_match, &rewrite, at)?;
        write(uow.as_mut(), &plan.changes).await?;
        if plan.rewritten {
            uow.update_scim_resources(&[(plan.record.clone(), record.version)])
                .await
                .map_err(taken)?;
        }
        uow.commit().await.map_err(taken)?;
        self.with_groups_one(
            caller,
            ScimUser {
                record: plan.record,
                user: plan.user,
                groups: Vec::new(),
            },
        )
        .await
    }

    /// Rewrites a User with the other requests of the moment, planned from what is read
    /// outside any unit of work: `None` when it could not be (the User and its person are
    /// then read again and rewritten alone, which also gives every refusal its answer).
    async fn rewrite_user_in_group(
        &self,
        caller: &ScimCaller,
        scim_id: Uuid,
        if_match: Option<&str>,
        rewrite: &impl Fn(Doc) -> Result<Doc, ScimError>,
    ) -> Result<Option<ScimUser>, AppError> {
        if !self.store.one_writer() {
            return Ok(None);
        }
        let org = caller.org_id;
        let Some(record) = self
            .store
            .scim_resource(org, caller.source.id, Resource::User, scim_id)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = self.store.users_by_id(org, &[record.owner]).await?.pop() else {
            return Ok(None);
        };
        let Ok(plan) = plan_rewrite(caller, &record, &user, if_match, rewrite, self.now()) else {
            return Ok(None);
        };
        let done = ScimUser {
            record: plan.record.clone(),
            user: plan.user,
            groups: Vec::new(),
        };
        if plan.changes.is_empty() && !plan.rewritten {
            return Ok(Some(done));
        }
        let work = Work::Rewrite {
            changes: plan.changes,
            record: plan.rewritten.then_some((plan.record, record.version)),
        };
        Ok(self
            .scim_batch
            .write(&self.store, work)
            .await
            .then_some(done))
    }

    /// Deletes a User: the person is archived (made inactive when prevent-archiving is set),
    /// every record kept; the id answers 404 from now on.
    pub async fn scim_delete_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), AppError> {
        let scim_id = parse_id(id)?;
        let actor = caller.actor();
        let at = self.now();
        let mut uow = self.store.begin().await?;
        let (record, user) = locked(uow.as_mut(), caller, scim_id, id).await?;
        check_if_match(if_match, &super::etag_of(&record, &user))?;
        let to = if user.prevent_archiving() {
            Status::Inactive
        } else {
            Status::Archived
        };
        let changes = moves(&user, to, &actor, at, "deleted by the identity provider")?;
        write(uow.as_mut(), &changes).await?;
        let mut gone = record.clone();
        gone.deleted_at = Some(at);
        gone.updated_at = at;
        gone.version += 1;
        uow.update_scim_resources(&[(gone.clone(), record.version)])
            .await?;
        uow.commit().await?;
        tracing::info!(user.id = %user.id(), request = %caller.request, "SCIM user deleted");
        Ok(())
    }
}

/// What rewriting a User does: the person's changes, and the resource's next state.
struct Rewrite {
    changes: Vec<UserChange>,
    /// The person after the changes.
    user: User,
    record: ScimRecord,
    /// Whether the resource changed (its version moved on).
    rewritten: bool,
}

/// Plans the rewrite of `record` (whose person is `user`) by `rewrite`, if `if_match` allows.
fn plan_rewrite(
    caller: &ScimCaller,
    record: &ScimRecord,
    user: &User,
    if_match: Option<&str>,
    rewrite: &impl Fn(Doc) -> Result<Doc, ScimError>,
    at: Timestamp,
) -> Result<Rewrite, AppError> {
    let actor = caller.actor();
    check_if_match(if_match, &super::etag_of(record, user))?;
    let before = read_doc(record);
    let doc = rewrite(before.clone())?;
    let mapped = checked(&doc, caller)?;
    let mut changes = Vec::new();
    let mut current = user.clone();
    // Only what the provider changes is applied: an admin's edit of a field the provider
    // still says the same of stands (as their status decisions do).
    let was = map_user(&before, &caller.settings.role_attribute).ok();
    let edit = changed_only(
        patch_of(&mapped, &doc, &current),
        was.as_ref(),
        &mapped,
        &before,
        &doc,
    );
    if let Some(edit) = current.apply(edit, &actor, at)? {
        current = edit.user.clone();
        changes.push(edit);
    }
    // The provider's word on the status applies only when it changes.
    let said_before = before
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    // An archived person stays archived when the provider says inactive.
    let archived_and_off = |active: bool| !active && rules::is_archived(current.status());
    if let Some(active) = mapped
        .active
        .filter(|a| *a != said_before && !archived_and_off(*a))
    {
        for change in moves(&current, said_status(active), &actor, at, why(active))? {
            current = change.user.clone();
            changes.push(change);
        }
    }
    let mut next = record.clone();
    // `active` left out keeps what the provider said before.
    let mut doc = doc;
    if mapped.active.is_none() {
        doc.insert("active".into(), said_before.into());
    }
    next.name = user_name(&doc).to_owned();
    next.external_id = external_id(&doc).map(str::to_owned);
    next.document = stored(&doc)?;
    let rewritten = next.document != record.document || next.name != record.name;
    if rewritten {
        next.version += 1;
        next.updated_at = at;
    }
    Ok(Rewrite {
        changes,
        user: current,
        record: next,
        rewritten,
    })
}

/// Writes the changes made to one person, a taken value refused as SCIM says it.
async fn write(uow: &mut dyn UnitOfWork, changes: &[UserChange]) -> Result<(), AppError> {
    let refs: Vec<&UserChange> = changes.iter().collect();
    crate::write_changes(uow, &refs).await.map_err(|e| match e {
        AppError::Taken { field } => taken(StoreError::Conflict { field }),
        other => other,
    })
}

/// Takes a person over for the connection: linked to it, edited as the resource says, and
/// brought to the status it asks for (a person it deleted before is restored).
async fn take_over(
    uow: &mut dyn UnitOfWork,
    caller: &ScimCaller,
    user: &User,
    mapped: &Mapped,
    doc: &Doc,
    at: Timestamp,
) -> Result<User, AppError> {
    let actor = caller.actor();
    let active = mapped.active.unwrap_or(true);
    let wanted = said_status(active);
    let mut changes = Vec::new();
    let mut current = user.clone();
    if current.source() != &caller.source.name
        || current.external_id() != mapped.external_id.as_ref()
    {
        let link = current.link(
            caller.source.name.clone(),
            mapped.external_id.clone(),
            &actor,
            at,
        );
        current = link.user.clone();
        changes.push(link);
    }
    if let Some(edit) = current.apply(patch_of(mapped, doc, &current), &actor, at)? {
        current = edit.user.clone();
        changes.push(edit);
    }
    let why = if rules::is_archived(current.status()) {
        "created again by the identity provider"
    } else {
        why(active)
    };
    for change in moves(&current, wanted, &actor, at, why)? {
        current = change.user.clone();
        changes.push(change);
    }
    write(uow, &changes).await?;
    Ok(current)
}

/// A new person of the connection, enrolled where everyone is; inactive at once when the
/// resource says `active: false`.
async fn create_person(
    uow: &mut dyn UnitOfWork,
    caller: &ScimCaller,
    mapped: &Mapped,
    at: Timestamp,
) -> Result<User, AppError> {
    let actor = caller.actor();
    let org = caller.org_id;
    let (user, event) = User::create(org, new_user(caller, mapped), &actor, at)?;
    uow.insert_users(org, std::slice::from_ref(&user))
        .await
        .map_err(taken)?;
    crate::learning::enrol_joiners(uow, org, &[user.id()], at).await?;
    uow.record(&[event]).await?;
    let wanted = said_status(mapped.active.unwrap_or(true));
    let changes = moves(&user, wanted, &actor, at, why(false))?;
    write(uow, &changes).await?;
    Ok(changes.last().map_or(user, |c| c.user.clone()))
}

/// A way to sign in a new User asks for.
#[derive(Debug, Clone, Copy)]
enum Login {
    Username,
    Email,
}

/// The person a User describes, as the connection makes them.
fn new_user(caller: &ScimCaller, mapped: &Mapped) -> NewUser {
    NewUser {
        username: mapped.username.clone(),
        email: mapped.email.clone(),
        given_name: mapped.given_name.clone(),
        family_name: mapped.family_name.clone(),
        role: mapped.role.unwrap_or(rollcall_domain::Role::Student),
        source: caller.source.name.clone(),
        external_id: mapped.external_id.clone(),
        prevent_archiving: None,
        password: None,
        must_change_password: false,
        attributes: merged_attributes(&rollcall_domain::Attributes::default(), &mapped.attributes),
    }
}

/// A new User of `user`, as `doc` describes it.
fn new_record(
    caller: &ScimCaller,
    user: &User,
    doc: &Doc,
    at: Timestamp,
) -> Result<ScimRecord, AppError> {
    Ok(ScimRecord {
        id: Uuid::now_v7(),
        org_id: caller.org_id,
        source_id: caller.source.id,
        kind: Resource::User,
        owner: user.id().as_uuid(),
        name: user_name(doc).to_owned(),
        external_id: external_id(doc).map(str::to_owned),
        document: stored(doc)?,
        created_at: at,
        updated_at: at,
        version: 1,
        deleted_at: None,
    })
}

/// The live User `scim_id` and its person, locked in `uow`.
async fn locked(
    uow: &mut dyn UnitOfWork,
    caller: &ScimCaller,
    scim_id: Uuid,
    id: &str,
) -> Result<(ScimRecord, User), AppError> {
    let org: OrgId = caller.org_id;
    let record = uow
        .lock_scim_resource(org, caller.source.id, Resource::User, scim_id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let user = uow
        .user(org, UserId::from_uuid(record.owner))
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok((record, user))
}

fn log_ignored(ignored: &[String]) {
    if !ignored.is_empty() {
        tracing::info!(attributes = ?ignored, "SCIM attributes of unknown extensions ignored");
    }
}
