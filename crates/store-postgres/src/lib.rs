//! The PostgreSQL store: for scale, with any number of stateless servers in front of it.
//!
//! Search uses a `user_term` table (one row per user and term) whose primary key makes every
//! prefix a range scan; see `migrations/`.

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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rollcall's store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    search_cutoff: i64,
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "shaped for `.map_err(db_error)`"
)]
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::unique_violation(db.constraint().unwrap_or(db.message()))
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ => StoreError::Other(err.to_string()),
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host/db`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(db_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(Self {
            pool,
            search_cutoff: BROAD_PREFIX_ENTRIES,
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
            .run(&self.pool)
            .await
            .map_err(|err| StoreError::Other(format!("migration failed: {err}")))
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_error)
    }

    /// The benchmark's baseline: the same rows as [`Store::insert_users`], written the plainest
    /// way (one `insert` per user, per search term and per event) inside one transaction.
    pub async fn insert_users_row_by_row(&self, users: &[(User, AuditEvent)]) -> StoreResult<()> {
        let placeholders = |n: usize| {
            (1..=n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let user_sql = format!(
            "insert into user_account ({USER_COLUMNS}) values ({})",
            placeholders(USER_COLUMN_COUNT)
        );
        let event_sql = format!(
            "insert into audit_event ({EVENT_COLUMNS}) values ({})",
            placeholders(EVENT_COLUMN_COUNT)
        );
        let mut tx = self.begin().await?;
        for (user, event) in users {
            let row = UserColumns::from_user(user);
            bind_user_columns!(sqlx::query(&user_sql), bind, &row)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            for term in row.terms().split(' ').filter(|t| !t.is_empty()) {
                sqlx::query("insert into user_term (org_id, term, user_id) values ($1, $2, $3)")
                    .bind(row.org_id)
                    .bind(term)
                    .bind(row.user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
            }
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
    tx: &mut Transaction<'static, Postgres>,
    events: &[AuditEvent],
) -> StoreResult<()> {
    for chunk in events.chunks(1_000) {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("insert into audit_event ({EVENT_COLUMNS}) "));
        q.push_values(chunk, |mut b, event| {
            let row = EventColumns::from_event(event);
            bind_event_columns!(b, push_bind, &row);
        });
        q.build().execute(&mut **tx).await.map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn insert_org(&self, org: &Org) -> StoreResult<()> {
        sqlx::query("insert into org (org_id, slug, name, created_at) values ($1, $2, $3, $4)")
            .bind(org.id.as_uuid())
            .bind(org.slug.as_str())
            .bind(org.name.as_str())
            .bind(micros(org.created_at))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        sqlx::query_as::<_, OrgColumns>("select * from org where org_id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(OrgColumns::into_org)
            .transpose()
    }

    async fn org_by_slug(&self, slug: &OrgSlug) -> StoreResult<Option<Org>> {
        sqlx::query_as::<_, OrgColumns>("select * from org where slug = $1")
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .map(OrgColumns::into_org)
            .transpose()
    }

    async fn only_org(&self) -> StoreResult<Option<Org>> {
        let mut orgs = sqlx::query_as::<_, OrgColumns>("select * from org limit 2")
            .fetch_all(&self.pool)
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
        // 23 columns: 1,000 rows stay below PostgreSQL's 65,535 bound parameters.
        for chunk in rows.chunks(1_000) {
            users::insert_user_rows(&mut tx, chunk).await?;
        }
        insert_events(&mut tx, &events).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query_as::<_, UserColumns>(&format!(
            "select {USER_COLUMNS} from user_account where org_id = $1 and user_id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(UserColumns::into_user)
        .transpose()
    }

    async fn sources(&self, org: OrgId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(&rollcall_store::distinct_sources_sql("$1"))
            .bind(org.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn user_by_login(&self, org: OrgId, login: &str) -> StoreResult<Option<User>> {
        let key = login.trim().to_lowercase();
        sqlx::query_as::<_, UserColumns>(&format!(
            "select {USER_COLUMNS} from user_account
             where org_id = $1 and (username_key = $2 or email_key = $2)
             order by username_key = $2 desc limit 1"
        ))
        .bind(org.as_uuid())
        .bind(key)
        .fetch_optional(&self.pool)
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
            sqlx::query("delete from session where org_id = $1 and user_id = $2")
                .bind(user.org_id.as_uuid())
                .bind(user.id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn list_users(&self, org: OrgId, query: &UserQuery) -> StoreResult<Vec<User>> {
        users::list(&self.pool, self.search_cutoff, org, query).await
    }

    async fn count_users(&self, org: OrgId, query: &UserQuery, cap: u64) -> StoreResult<u64> {
        users::count(&self.pool, org, query, cap).await
    }

    async fn user_events(&self, org: OrgId, user: UserId) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query_as::<_, EventColumns>(&format!(
            "select {EVENT_COLUMNS} from audit_event where org_id = $1 and user_id = $2
             order by at, event_id"
        ))
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(EventColumns::into_event)
        .collect()
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        sqlx::query(
            "insert into session (org_id, digest, user_id, csrf_token, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.org_id.as_uuid())
        .bind(&session.digest)
        .bind(session.user_id.as_uuid())
        .bind(&session.csrf_token)
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .execute(&self.pool)
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
        let sql = session_user_sql(["$1", "$2", "$3"]);
        let Some(row) = sqlx::query(&sql)
            .bind(org.as_uuid())
            .bind(digest)
            .bind(micros(now))
            .fetch_optional(&self.pool)
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
        sqlx::query("delete from session where org_id = $1 and digest = $2")
            .bind(org.as_uuid())
            .bind(digest)
            .execute(&self.pool)
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
            "delete from session where org_id = $1 and user_id = $2 and digest <> coalesce($3, '')",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(keep)
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(db_error)
    }

    async fn insert_token(&self, token: &ApiToken) -> StoreResult<()> {
        sqlx::query(
            "insert into api_token (token_id, org_id, user_id, name, digest, created_at, revoked_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id.as_uuid())
        .bind(token.org_id.as_uuid())
        .bind(token.user_id.as_uuid())
        .bind(&token.name)
        .bind(&token.digest)
        .bind(micros(token.created_at))
        .bind(token.revoked_at.map(micros))
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(db_error)
    }

    async fn token_by_digest(&self, org: OrgId, digest: &str) -> StoreResult<Option<ApiToken>> {
        sqlx::query_as::<_, TokenColumns>(
            "select * from api_token where org_id = $1 and digest = $2",
        )
        .bind(org.as_uuid())
        .bind(digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(TokenColumns::into_token)
        .transpose()
    }

    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>> {
        sqlx::query_as::<_, TokenColumns>(
            "select * from api_token where org_id = $1 order by created_at, token_id",
        )
        .bind(org.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(TokenColumns::into_token)
        .collect()
    }

    async fn revoke_token(&self, org: OrgId, id: TokenId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "update api_token set revoked_at = $1
             where org_id = $2 and token_id = $3 and revoked_at is null",
        )
        .bind(micros(at))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}
