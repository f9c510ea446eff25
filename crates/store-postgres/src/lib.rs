//! The PostgreSQL store: for scale, with any number of stateless servers in front of it.
//!
//! Search uses a `user_term` table (one row per user and term) whose primary key makes every
//! prefix a range scan; see `migrations/`.

mod users;

use std::str::FromStr;
use std::time::Duration;

use rollcall_domain::{AuditEvent, OrgId, User};
use rollcall_store::rows::{
    EVENT_COLUMN_COUNT, EVENT_COLUMNS, EventColumns, USER_COLUMN_COUNT, USER_COLUMNS, UserColumns,
};
use rollcall_store::shared::{Conn, Opened};
use rollcall_store::sql::Value;
use rollcall_store::{
    Backend, SqlStore, StoreError, StoreResult, UserQuery, bind_event_columns, bind_user_columns,
};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{PgPool, Postgres};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rollcall's store on a PostgreSQL database.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// What PostgreSQL adds to the shared SQL: its pool, the term table's search and bulk path.
#[derive(Debug)]
pub struct PostgresBackend;

pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(err)
}

impl Backend for PostgresBackend {
    type Db = Postgres;
    const NAME: &'static str = "postgres";
    // Writers run concurrently: a unit of work locks the rows it will write.
    const LOCK_ROW: &'static str = " for update";
    const SKIP_LOCKED: &'static str = " for update skip locked";
    // 23 columns: 2,000 rows stay below PostgreSQL's 65,535 bound parameters.
    const USER_CHUNK: usize = 2_000;

    /// One pool for reads and writes: PostgreSQL handles concurrent writers itself.
    async fn open(url: &str) -> StoreResult<Opened<Self>> {
        let options = PgConnectOptions::from_str(url).map_err(db_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(Opened {
            reader: pool.clone(),
            writer: pool,
            backend: Self,
        })
    }

    async fn migrate(writer: &PgPool) -> StoreResult<()> {
        MIGRATOR
            .run(writer)
            .await
            .map_err(|err| StoreError::Database(Box::new(err)))
    }

    async fn begin(writer: &PgPool) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
        writer.begin().await.map_err(db_error)
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn placeholder(text: &mut String, index: usize) {
        text.push('$');
        text.push_str(&index.to_string());
    }

    fn bind(args: &mut PgArguments, value: Value) -> Result<(), sqlx::error::BoxDynError> {
        rollcall_store::sql::bind_value::<Postgres>(args, value)
    }

    fn insert_user_rows<'a>(
        conn: &'a mut Conn<Self>,
        rows: &'a [UserColumns],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a {
        users::insert_user_rows(conn, rows)
    }

    fn reindex_user<'a>(
        conn: &'a mut Conn<Self>,
        row: &'a UserColumns,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a {
        users::reindex_user(conn, row)
    }

    /// After a large import the planner's statistics are stale: refresh the search tables'.
    async fn after_large_write(&self, writer: &PgPool) -> StoreResult<()> {
        sqlx::query("analyze user_account, user_term")
            .execute(writer)
            .await
            .map(drop)
            .map_err(db_error)
    }

    async fn list_users(
        reader: &PgPool,
        cutoff: i64,
        org: OrgId,
        query: &UserQuery,
    ) -> StoreResult<Vec<User>> {
        users::list(reader, cutoff, org, query).await
    }

    async fn count_users(
        reader: &PgPool,
        org: OrgId,
        query: &UserQuery,
        cap: u64,
    ) -> StoreResult<u64> {
        users::count(reader, org, query, cap).await
    }
}

/// The benchmark's baseline: the same rows as the bulk path, written the plainest way (one
/// `insert` per user, per search term and per event) inside one transaction.
pub async fn insert_users_row_by_row(
    store: &PostgresStore,
    users: &[(User, AuditEvent)],
) -> StoreResult<()> {
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
    let mut tx = store.writer().begin().await.map_err(db_error)?;
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

#[cfg(test)]
mod tests {
    /// Applied migrations are never edited: sqlx refuses to start on a database whose applied
    /// migration no longer matches its file. Add a new migration instead, and its line here.
    #[test]
    fn applied_migrations_are_unchanged() {
        #[rustfmt::skip]
        let applied: &[(i64, &str)] = &[
        (1, "32af4721f4fe6b04725110c2fa43055536ed013b0e8ebc8af4c0fff92fee250a163635b3f66a084b88c49a851ed0114e"),
        (2, "bbb9c642f8e9756708c3949a17dc76106487838a8195388acd91e7389c8cd7fc141ff82bd5c5754f67d4c73a76a65f26"),
        (3, "c03efd36a926e828dc3973e86f8c2a5aa56664ebe3d799a2a75ee87ae5c66382fd9c9c9d23308b32b07250155d2f7f60"),
        (4, "500309772122ee794756494e3e85ea183759f0e59ad915f5b2412274074315ab7ffd9a85b676b13dd30a74a404677962"),
        (5, "472a57cf73f9d7e1fd65c204affc6fb71c2f88655ca2fc4c2227cf7cdcd38bc6f15b57cf83bf2b4ca4b17991eb39ad5d"),
        (6, "e4bf2cd494ae26057c8e271d6374cd1d305a9c7d93e42fdfa5123c3b0e0da8a8b4699082861da72b1926d5b92f029c47"),
        (7, "06706299b0472a80f87d2be7c3a793ca8bba3e4f9b8849c8895963b9c142bc9c0d245c3b5499da9a0c242b3db0a07888"),
        (8, "0da93820ca65308a959dbe21d68faea80e37313e372ea307a0020d9f9885955890eefa08f264e703a2b4b610918044ed"),
        ];
        if let Err(why) = rollcall_store::check_applied_migrations(&super::MIGRATOR, applied) {
            panic!("{why}");
        }
    }
}
