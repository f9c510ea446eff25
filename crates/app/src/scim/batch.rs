//! SCIM writes committed together (group commit), on a store that writes one unit of work at
//! a time (SQLite). Identity providers send many requests at once; the ones that arrive while
//! a unit of work is being written wait for it and then go, together, in the next one. On
//! SQLite every statement is also a round trip to the database's own thread: a dozen requests
//! written with the statements of one is what lets a connection's clients go faster than
//! those round trips allow. (PostgreSQL writes many units of work at once, and commits them
//! in groups itself: there, each request is written alone.)
//!
//! A request joins a group already planned, from what it read outside any unit of work. The
//! group's unit of work checks every version a request read (a person's, a resource's) and
//! every name a new User claims. A request whose name or externalId the connection already
//! knows is left out; when anything else fails (a version moved, a value taken), nothing of
//! the group is written. Either way, a request left out is served alone, in a unit of work of
//! its own, exactly as it would have been without groups: with its own answer or its own
//! error.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use rollcall_domain::{AuditEvent, OrgId, SourceId, User, UserChange};
use rollcall_scim::Resource;
use rollcall_store::scim::{ScimRecord, name_key};
use rollcall_store::{Store, UnitOfWork};
use tokio::sync::{mpsc, oneshot};

use crate::AppError;

/// The most requests one unit of work writes.
const MOST: usize = 64;

/// A write a SCIM request asks for.
#[derive(Debug)]
pub(crate) enum Work {
    /// A new person, their creation's event, and their User.
    Create {
        user: Box<User>,
        event: Box<AuditEvent>,
        record: ScimRecord,
    },
    /// A person's changes, and their User's new state over the version that was read.
    Rewrite {
        changes: Vec<UserChange>,
        record: Option<(ScimRecord, i64)>,
    },
}

impl Work {
    /// What the request writes that no other request of its group may: two requests about the
    /// same person, the same resource or the same name are never written together.
    fn keys(&self) -> Vec<String> {
        match self {
            Work::Create { user, record, .. } => {
                let connection = format!("{} {}", record.org_id, record.source_id);
                let mut keys = vec![format!("name {connection} {}", name_key(&record.name))];
                if let Some(id) = &record.external_id {
                    keys.push(format!("external {connection} {id}"));
                }
                if let Some(username) = user.username() {
                    keys.push(format!(
                        "login {} {}",
                        user.org_id(),
                        username.as_str().to_lowercase()
                    ));
                }
                if let Some(email) = user.email() {
                    keys.push(format!(
                        "login {} {}",
                        user.org_id(),
                        email.as_str().to_lowercase()
                    ));
                }
                keys
            }
            Work::Rewrite { changes, record } => changes
                .iter()
                .map(|c| format!("person {}", c.user.id()))
                .chain(record.iter().map(|(r, _)| format!("resource {}", r.id)))
                .collect(),
        }
    }
}

struct Job {
    work: Work,
    /// Told whether the work was written.
    written: oneshot::Sender<bool>,
}

/// The queue of writes waiting for the next unit of work, and the task that writes them.
#[derive(Debug, Default)]
pub(crate) struct Batcher {
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl Batcher {
    /// Writes `work` in the next unit of work, with whatever else is waiting: `false` when it
    /// was not written (the caller then serves its request alone).
    pub(crate) async fn write(&self, store: &Arc<dyn Store>, work: Work) -> bool {
        let queue = self.queue.get_or_init(|| spawn(store.clone()));
        let (written, answer) = oneshot::channel();
        if queue.send(Job { work, written }).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// The task that writes the queue, a group at a time; it ends with the queue (when the app
/// that owns it is dropped).
fn spawn(store: Arc<dyn Store>) -> mpsc::UnboundedSender<Job> {
    let (queue, mut waiting) = mpsc::unbounded_channel::<Job>();
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(MOST);
        while waiting.recv_many(&mut jobs, MOST).await > 0 {
            write_group(store.as_ref(), std::mem::take(&mut jobs)).await;
        }
    });
    queue
}

async fn write_group(store: &dyn Store, jobs: Vec<Job>) {
    let mut keys = HashSet::new();
    let (group, alone): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|job| {
        let mine = job.work.keys();
        let free = mine.iter().all(|key| !keys.contains(key));
        if free {
            keys.extend(mine);
        }
        free
    });
    for job in alone {
        let _ = job.written.send(false);
    }
    let works: Vec<&Work> = group.iter().map(|job| &job.work).collect();
    let left_out = match write_all(store, &works).await {
        Ok(left_out) => left_out,
        Err(err) => {
            tracing::debug!(error = %err, requests = works.len(), "a group of SCIM writes is served one by one");
            (0..works.len()).collect()
        }
    };
    for (i, job) in group.into_iter().enumerate() {
        // A requester that went away no longer waits for the answer.
        let _ = job.written.send(!left_out.contains(&i));
    }
}

/// Writes the works in one unit of work; which of them were left out.
async fn write_all(store: &dyn Store, works: &[&Work]) -> Result<HashSet<usize>, AppError> {
    let mut uow = store.begin().await?;
    let left_out = claimed(uow.as_mut(), works).await?;
    let mut people: HashMap<OrgId, Vec<User>> = HashMap::new();
    let mut events = Vec::new();
    let mut records = Vec::new();
    let mut changes: HashMap<OrgId, Vec<&UserChange>> = HashMap::new();
    let mut rewritten = Vec::new();
    for (i, work) in works.iter().enumerate() {
        match work {
            Work::Create {
                user,
                event,
                record,
            } if !left_out.contains(&i) => {
                people
                    .entry(user.org_id())
                    .or_default()
                    .push(User::clone(user));
                events.push(AuditEvent::clone(event));
                records.push(record.clone());
            }
            Work::Create { .. } => {}
            Work::Rewrite {
                changes: theirs,
                record,
            } => {
                for change in theirs {
                    changes
                        .entry(change.user.org_id())
                        .or_default()
                        .push(change);
                }
                rewritten.extend(record.iter().cloned());
            }
        }
    }
    for (org, people) in &people {
        uow.insert_users(*org, people).await?;
        let ids: Vec<_> = people.iter().map(User::id).collect();
        let at = people
            .iter()
            .map(User::created_at)
            .max()
            .unwrap_or_default();
        crate::learning::enrol_joiners(uow.as_mut(), *org, &ids, at).await?;
    }
    uow.record(&events).await?;
    uow.insert_scim_resources(&records).await?;
    // Resources before people, as a request served alone locks them: two units of work never
    // wait for each other's locks.
    uow.update_scim_resources(&rewritten).await?;
    for changes in changes.values() {
        crate::write_changes(uow.as_mut(), changes).await?;
    }
    uow.commit().await?;
    Ok(left_out)
}

/// The new Users whose name or externalId their connection already knows (live: taken;
/// deleted: a person to restore), by their place in `works`.
async fn claimed(uow: &mut dyn UnitOfWork, works: &[&Work]) -> Result<HashSet<usize>, AppError> {
    let mut by_connection: HashMap<(OrgId, SourceId), Vec<(usize, &ScimRecord)>> = HashMap::new();
    for (i, work) in works.iter().enumerate() {
        if let Work::Create { record, .. } = work {
            by_connection
                .entry((record.org_id, record.source_id))
                .or_default()
                .push((i, record));
        }
    }
    let mut left_out = HashSet::new();
    for ((org, source), new) in by_connection {
        let names: Vec<&str> = new.iter().map(|(_, r)| r.name.as_str()).collect();
        let ids: Vec<&str> = new
            .iter()
            .filter_map(|(_, r)| r.external_id.as_deref())
            .collect();
        let claims = uow
            .scim_claims(org, source, Resource::User, &names, &ids)
            .await?;
        for (i, record) in new {
            let known = claims.iter().any(|claim| {
                name_key(&claim.name) == name_key(&record.name)
                    || (claim.external_id.is_some() && claim.external_id == record.external_id)
            });
            if known {
                left_out.insert(i);
            }
        }
    }
    Ok(left_out)
}
