//! The SQLite store: Rollcall's embedded default.
//!
//! One file in WAL mode. Writes go through a single connection, so they queue in the process
//! instead of failing on SQLite's one-writer lock; reads use a small pool beside it. Search uses
//! an FTS5 index of the users' terms (see `migrations/`).

mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use rollcall_domain::{
    ApiToken, AuditEvent, Org, OrgId, OrgSlug, Session, Timestamp, TokenId, User, UserId,
};
use rollcall_store::rows::{
    EVENT_COLUMN_COUNT, EVENT_COLUMNS, EventColumns, OrgColumns, SessionColumns, TokenColumns,
    USER_COLUMN_COUNT, USER_COLUMNS, UserColumns, micros, session_user_sql,
};
use rollcall_store::{
    BROAD_PREFIX_ENTRIES, Store, StoreError, StoreResult, UserQuery, bind_event_columns,
    bind_user_columns,
};
use sqlx::FromRow;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

/// Imports at least this large are followed by a checkpoint and fresh planner statistics.
const LARGE_BATCH: usize = 10_000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rollcall's store on a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    search_cutoff: i64,
    /// Alive while any clone of the store is: the checkpointer stops when it goes.
    _alive: std::sync::Arc<()>,
}

/// How often the write-ahead log is folded back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Folds the write-ahead log into the file in the background, so no commit pays for it (SQLite's
/// automatic checkpoint runs inside whichever commit crosses the threshold: a latency spike).
fn spawn_checkpointer(pool: SqlitePool, alive: std::sync::Weak<()>) {
    tokio::spawn(async move {
        while alive.upgrade().is_some() {
            tokio::time::sleep(CHECKPOINT_EVERY).await;
            if let Err(err) = sqlx::query("pragma wal_checkpoint(passive)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %err, "background checkpoint failed");
            }
        }
        pool.close().await;
    });
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "shaped for `.map_err(db_error)`"
)]
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::unique_violation(db.message())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ => StoreError::Other(err.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://rollcall.db`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL is durable against application crashes; a power loss may lose
            // the last transactions, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-131072")
            .pragma("mmap_size", "1073741824")
            .pragma("temp_store", "memory")
            // Checkpoints run in the background (see `spawn_checkpointer`), not in commits.
            .pragma("wal_autocheckpoint", "0");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().read_only(true))
            .await
            .map_err(db_error)?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let alive = std::sync::Arc::new(());
        spawn_checkpointer(checkpointer, std::sync::Arc::downgrade(&alive));
        Ok(Self {
            reader,
            writer,
            search_cutoff: BROAD_PREFIX_ENTRIES,
            _alive: alive,
        })
    }

    /// Changes how many search-index entries make a query word "broad" (see
    /// [`BROAD_PREFIX_ENTRIES`]). Tests use it to drive each plan on a small population.
    #[must_use]
    pub fn with_search_cutoff(mut self, entries: i64) -> Self {
        self.search_cutoff = entries;
        self
    }

    /// Applies the migrations that have not run yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|err| StoreError::Other(format!("migration failed: {err}")))
    }

    /// After a large import: fold the write-ahead log back into the file (a huge log slows
    /// every later read and commit) and refresh the planner's statistics.
    async fn settle_after_large_write(&self) -> StoreResult<()> {
        for pragma in ["pragma wal_checkpoint(truncate)", "pragma optimize"] {
            sqlx::query(pragma)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer.begin().await.map_err(db_error)
    }

    /// The benchmark's baseline: the same rows as [`Store::insert_users`], written the plainest
    /// way (one `insert` per user, per search entry and per event) inside one transaction.
    pub async fn insert_users_row_by_row(&self, users: &[(User, AuditEvent)]) -> StoreResult<()> {
        let user_sql = format!(
            "insert into user_account ({USER_COLUMNS}) values ({})",
            ["?"; USER_COLUMN_COUNT].join(", ")
        );
        let event_sql = format!(
            "insert into audit_event ({EVENT_COLUMNS}) values ({})",
            ["?"; EVENT_COLUMN_COUNT].join(", ")
        );
        let mut tx = self.begin().await?;
        for (user, event) in users {
            let row = UserColumns::from_user(user);
            let done = bind_user_columns!(sqlx::query(&user_sql), bind, &row)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let [family, given, other] = users::search_columns(&row);
            sqlx::query(
                "insert into user_search (rowid, family, given, other) values (?, ?, ?, ?)",
            )
            .bind(done.last_insert_rowid())
            .bind(family)
            .bind(given)
            .bind(other)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            let event = EventColumns::from_event(event);
            bind_event_columns!(sqlx::query(&event_sql), bind, &event)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }
}

async fn insert_events(
    tx: &mut Transaction<'static, Sqlite>,
    events: &[AuditEvent],
) -> StoreResult<()> {
    // 12 columns: 500 rows stay far below SQLite's 32,766 bound parameters.
    for chunk in events.chunks(500) {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(format!(
            "insert into audit_event ({EVENT_COLUMNS}) "
        ));
        q.push_values(chunk, |mut b, event| {
            let row = EventColumns::from_event(event);
            bind_event_columns!(b, push_bind, &row);
        });
        q.build().execute(&mut **tx).await.map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(&self.reader)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn insert_org(&self, org: &Org) -> StoreResult<()> {
        sqlx::query("insert into org (org_id, slug, name, created_at) values (?, ?, ?, ?)")
            .bind(org.id.as_uuid())
            .bind(org.slug.as_str())
            .bind(org.name.as_str())
            .bind(micros(org.created_at))
            .execute(&self.writer)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        sqlx::query_as::<_, OrgColumns>("select * from org where org_id = ?")
            .bind(id.as_uuid())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .map(OrgColumns::into_org)
            .transpose()
    }

    async fn org_by_slug(&self, slug: &OrgSlug) -> StoreResult<Option<Org>> {
        sqlx::query_as::<_, OrgColumns>("select * from org where slug = ?")
            .bind(slug.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .map(OrgColumns::into_org)
            .transpose()
    }

    async fn only_org(&self) -> StoreResult<Option<Org>> {
        let mut orgs = sqlx::query_as::<_, OrgColumns>("select * from org limit 2")
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        match (orgs.pop(), orgs.is_empty()) {
            (Some(org), true) => org.into_org().map(Some),
            _ => Ok(None),
        }
    }

    async fn insert_user(&self, user: &User, event: &AuditEvent) -> StoreResult<()> {
        self.insert_users(user.org_id, &[(user.clone(), event.clone())])
            .await
    }

    async fn insert_users(&self, org: OrgId, users: &[(User, AuditEvent)]) -> StoreResult<()> {
        if users
            .iter()
            .any(|(user, event)| user.org_id != org || event.org_id != org)
        {
            return Err(StoreError::Other("a bulk insert mixed orgs".into()));
        }
        let rows: Vec<UserColumns> = users
            .iter()
            .map(|(u, _)| UserColumns::from_user(u))
            .collect();
        let events: Vec<AuditEvent> = users.iter().map(|(_, e)| e.clone()).collect();
        let mut tx = self.begin().await?;
        // 23 columns: 1,000 rows stay below SQLite's 32,766 bound parameters.
        for chunk in rows.chunks(1_000) {
            users::insert_user_rows(&mut tx, chunk).await?;
        }
        insert_events(&mut tx, &events).await?;
        tx.commit().await.map_err(db_error)?;
        if users.len() >= LARGE_BATCH {
            self.settle_after_large_write().await?;
        }
        Ok(())
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query_as::<_, UserColumns>(&format!(
            "select {USER_COLUMNS} from user_account where org_id = ? and user_id = ?"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        .map(UserColumns::into_user)
        .transpose()
    }

    async fn sources(&self, org: OrgId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(&rollcall_store::distinct_sources_sql("?1"))
            .bind(org.as_uuid())
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn user_by_login(&self, org: OrgId, login: &str) -> StoreResult<Option<User>> {
        let key = login.trim().to_lowercase();
        sqlx::query_as::<_, UserColumns>(&format!(
            "select {USER_COLUMNS} from user_account
             where org_id = ?1 and (username_key = ?2 or email_key = ?2)
             order by username_key = ?2 desc limit 1"
        ))
        .bind(org.as_uuid())
        .bind(key)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        .map(UserColumns::into_user)
        .transpose()
    }

    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        users::update_user_row(&mut tx, user, expected_version).await?;
        insert_events(&mut tx, std::slice::from_ref(event)).await?;
        if !user.may_sign_in() {
            sqlx::query("delete from session where org_id = ? and user_id = ?")
                .bind(user.org_id.as_uuid())
                .bind(user.id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn list_users(&self, org: OrgId, query: &UserQuery) -> StoreResult<Vec<User>> {
        users::list(&self.reader, self.search_cutoff, org, query).await
    }

    async fn count_users(&self, org: OrgId, query: &UserQuery, cap: u64) -> StoreResult<u64> {
        users::count(&self.reader, org, query, cap).await
    }

    async fn user_events(&self, org: OrgId, user: UserId) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query_as::<_, EventColumns>(&format!(
            "select {EVENT_COLUMNS} from audit_event where org_id = ? and user_id = ?
             order by at, event_id"
        ))
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(EventColumns::into_event)
        .collect()
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        sqlx::query(
            "insert into session (org_id, digest, user_id, csrf_token, created_at, expires_at)
             values (?, ?, ?, ?, ?, ?)",
        )
        .bind(session.org_id.as_uuid())
        .bind(&session.digest)
        .bind(session.user_id.as_uuid())
        .bind(&session.csrf_token)
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .execute(&self.writer)
        .await
        .map(drop)
        .map_err(db_error)
    }

    async fn session_user(
        &self,
        org: OrgId,
        digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>> {
        let sql = session_user_sql(["?", "?", "?"]);
        let Some(row) = sqlx::query(&sql)
            .bind(org.as_uuid())
            .bind(digest)
            .bind(micros(now))
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let user = UserColumns::from_row(&row).map_err(db_error)?.into_user()?;
        let session = SessionColumns::from_row(&row)
            .map_err(db_error)?
            .into_session(&user)?;
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, org: OrgId, digest: &str) -> StoreResult<()> {
        sqlx::query("delete from session where org_id = ? and digest = ?")
            .bind(org.as_uuid())
            .bind(digest)
            .execute(&self.writer)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn delete_user_sessions(
        &self,
        org: OrgId,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "delete from session where org_id = ? and user_id = ? and digest <> coalesce(?, '')",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(keep)
        .execute(&self.writer)
        .await
        .map(drop)
        .map_err(db_error)
    }

    async fn insert_token(&self, token: &ApiToken) -> StoreResult<()> {
        sqlx::query(
            "insert into api_token (token_id, org_id, user_id, name, digest, created_at, revoked_at)
             values (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.id.as_uuid())
        .bind(token.org_id.as_uuid())
        .bind(token.user_id.as_uuid())
        .bind(&token.name)
        .bind(&token.digest)
        .bind(micros(token.created_at))
        .bind(token.revoked_at.map(micros))
        .execute(&self.writer)
        .await
        .map(drop)
        .map_err(db_error)
    }

    async fn token_by_digest(&self, org: OrgId, digest: &str) -> StoreResult<Option<ApiToken>> {
        sqlx::query_as::<_, TokenColumns>("select * from api_token where org_id = ? and digest = ?")
            .bind(org.as_uuid())
            .bind(digest)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
            .map(TokenColumns::into_token)
            .transpose()
    }

    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>> {
        sqlx::query_as::<_, TokenColumns>(
            "select * from api_token where org_id = ? order by created_at, token_id",
        )
        .bind(org.as_uuid())
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(TokenColumns::into_token)
        .collect()
    }

    async fn revoke_token(&self, org: OrgId, id: TokenId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "update api_token set revoked_at = ?
             where org_id = ? and token_id = ? and revoked_at is null",
        )
        .bind(micros(at))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}

/// Reads a user's current version, to tell a stale write from a missing user.
pub(crate) async fn current_version(
    tx: &mut Transaction<'static, Sqlite>,
    org: Uuid,
    user: Uuid,
) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("select version from user_account where org_id = ? and user_id = ?")
        .bind(org)
        .bind(user)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)
}
