//! The storage trait of Rollcall, and the small vocabulary it speaks.
//!
//! Two implementations stand behind it: `rollcall-store-sqlite` (the embedded default) and
//! `rollcall-store-postgres` (for scale). One conformance suite (`rollcall-store-conformance`)
//! holds both to the same behaviour. Every method is scoped to one org: nothing crosses tenants.

pub mod rows;
pub mod sql;

use async_trait::async_trait;
use rollcall_domain::{
    ApiToken, AuditEvent, Org, OrgId, OrgSlug, Role, Session, Source, Status, Timestamp, TokenId,
    User, UserId,
};

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken; `field` names it (`username`, `email`, `external_id`, `slug`).
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// The row changed since it was read: the write named an old version.
    #[error("the record was changed by someone else (now at version {current})")]
    Stale { current: i64 },
    #[error("not found")]
    NotFound,
    /// Anything else: the database is unreachable, a row is corrupt… Logged, never shown.
    #[error("storage failure: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps a unique-constraint violation, described by the name of the index or columns it
    /// hit, to the field at fault. Both backends name their indexes after the field.
    pub fn unique_violation(detail: &str) -> Self {
        let field = ["username", "email", "external_id", "slug", "digest"]
            .into_iter()
            .find(|field| detail.contains(field))
            .unwrap_or("id");
        Self::Conflict { field }
    }
}

/// Lists an org's distinct sources by hopping along the `(org_id, source, external_id)` index,
/// one seek per source, so it costs the same with a thousand users or a million. Binds the org
/// id at every `{org}`.
pub fn distinct_sources_sql(org: &str) -> String {
    format!(
        "with recursive s(source) as ( \
           select min(source) from user_account where org_id = {org} \
           union all \
           select (select min(source) from user_account where org_id = {org} and source > s.source) \
           from s where s.source is not null) \
         select source from s where source is not null"
    )
}

/// A query word's search-index cut-off: once a prefix matches at least this many index entries,
/// walking the listing's own index in order and checking each row beats gathering every match
/// and sorting it (both backends decide the same way).
pub const BROAD_PREFIX_ENTRIES: i64 = 1_000;

/// The orders a user listing can come in. Each ends with the user id so it is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    /// Family name, then given name.
    #[default]
    FamilyName,
    /// Given name, then family name.
    GivenName,
    Created,
    StatusChanged,
}

/// Where a page starts: the sort key of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Two folded names ([`rollcall_domain::search::sort_key`]) and the id.
    Names(String, String, UserId),
    Time(Timestamp, UserId),
}

impl UserSort {
    /// The key of `user` in this order, as the stores compare it.
    pub fn key_of(self, user: &User) -> SortKey {
        use rollcall_domain::search::sort_key;
        let given = || sort_key(user.given_name.as_str());
        let family = || sort_key(user.family_name.as_str());
        match self {
            Self::FamilyName => SortKey::Names(family(), given(), user.id),
            Self::GivenName => SortKey::Names(given(), family(), user.id),
            Self::Created => SortKey::Time(user.created_at, user.id),
            Self::StatusChanged => SortKey::Time(user.status_changed_at, user.id),
        }
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    /// Byte order of the folded names (SQLite's BINARY, PostgreSQL's "C"), then the id.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Names(a1, a2, a3), Self::Names(b1, b2, b3)) => {
                (a1.as_bytes(), a2.as_bytes(), a3).cmp(&(b1.as_bytes(), b2.as_bytes(), b3))
            }
            (Self::Time(a1, a2), Self::Time(b1, b2)) => (a1, a2).cmp(&(b1, b2)),
            (Self::Names(..), Self::Time(..)) => std::cmp::Ordering::Less,
            (Self::Time(..), Self::Names(..)) => std::cmp::Ordering::Greater,
        }
    }
}

/// One status's slice of a user listing. The app merges slices when a filter spans statuses,
/// so each slice can walk its own index in order.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub status: Status,
    pub role: Option<Role>,
    pub source: Option<Source>,
    /// Query words ([`rollcall_domain::search::query_words`]); each must prefix a term.
    pub words: Vec<String>,
    pub sort: UserSort,
    pub descending: bool,
    /// Only rows strictly after this key (before it when descending).
    pub after: Option<SortKey>,
    pub limit: usize,
}

/// The storage of Rollcall.
///
/// Writes that change a user take the event recording the change and write both in one
/// transaction. Writes of an existing user name the version they read and fail with
/// [`StoreError::Stale`] when it moved on.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Is the database answering?
    async fn ping(&self) -> StoreResult<()>;

    async fn insert_org(&self, org: &Org) -> StoreResult<()>;
    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn org_by_slug(&self, slug: &OrgSlug) -> StoreResult<Option<Org>>;
    /// The org, when the database holds exactly one.
    async fn only_org(&self) -> StoreResult<Option<Org>>;

    /// Inserts a new user and the event recording it.
    async fn insert_user(&self, user: &User, event: &AuditEvent) -> StoreResult<()>;

    /// The bulk path: inserts many users of one org, each with its event, in one transaction.
    /// All or nothing: one conflict rejects the batch.
    async fn insert_users(&self, org: OrgId, users: &[(User, AuditEvent)]) -> StoreResult<()>;

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;

    /// The distinct sources an org's users come from, in order.
    async fn sources(&self, org: OrgId) -> StoreResult<Vec<String>>;

    /// The user whose username or e-mail is `login`, ignoring case (username first).
    async fn user_by_login(&self, org: OrgId, login: &str) -> StoreResult<Option<User>>;

    /// Replaces a user read at `expected_version` by `user` (whose version is one more), and
    /// records `event`, in one transaction. When `user` may no longer sign in (the status
    /// rules say so), their sessions end in that same transaction.
    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        event: &AuditEvent,
    ) -> StoreResult<()>;

    /// One status's page of users, in order.
    async fn list_users(&self, org: OrgId, query: &UserQuery) -> StoreResult<Vec<User>>;

    /// How many users of this status match the query's filters and words (paging ignored),
    /// counting no further than `cap` so a count never costs more than a page.
    async fn count_users(&self, org: OrgId, query: &UserQuery, cap: u64) -> StoreResult<u64>;

    /// A user's history, oldest first.
    async fn user_events(&self, org: OrgId, user: UserId) -> StoreResult<Vec<AuditEvent>>;

    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// A live session (not expired at `now`) and its user.
    async fn session_user(
        &self,
        org: OrgId,
        digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>>;
    async fn delete_session(&self, org: OrgId, digest: &str) -> StoreResult<()>;
    /// Ends every session of a user but `keep` (the one changing its password, say).
    async fn delete_user_sessions(
        &self,
        org: OrgId,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<()>;

    async fn insert_token(&self, token: &ApiToken) -> StoreResult<()>;
    async fn token_by_digest(&self, org: OrgId, digest: &str) -> StoreResult<Option<ApiToken>>;
    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>>;
    /// Marks a token revoked; `false` when no such live token exists.
    async fn revoke_token(&self, org: OrgId, id: TokenId, at: Timestamp) -> StoreResult<bool>;
}
