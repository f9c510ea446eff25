//! The PostgreSQL store: for scale, with any number of stateless servers in front of it.
//!
//! Search uses a GIN index of word prefixes on each user's search vector, its plan chosen from
//! PostgreSQL's own statistics of that vector; see `users.rs` and `migrations/`.

mod copy;
mod search;
mod stats;
mod users;

use std::str::FromStr;
use std::time::Duration;

use rollcall_domain::{AuditEvent, OrgId, User};
use rollcall_store::rows::{EVENT_COLUMNS, EventColumns, UserColumns};
use rollcall_store::shared::{Conn, Opened};
use rollcall_store::sql::Value;
use rollcall_store::{Backend, SqlStore, StoreError, StoreResult, UserQuery};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{PgPool, Postgres};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rollcall's store on a PostgreSQL database.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// What PostgreSQL adds to the shared SQL: its pool, the search index's plans and bulk path.
#[derive(Debug, Default)]
pub struct PostgresBackend {
    stats: stats::StatsCache,
}

pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(err)
}

impl Backend for PostgresBackend {
    type Db = Postgres;
    const NAME: &'static str = "postgres";
    const ONE_WRITER: bool = false;
    // Writers run concurrently: a unit of work locks the rows it will write.
    const JSON: rollcall_store::shared::JsonStyle = rollcall_store::shared::JsonStyle::Postgres;
    const LOCK_ROW: &'static str = " for update";
    const SKIP_LOCKED: &'static str = " for update skip locked";

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
            backend: Self::default(),
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

    fn derived_id(column: &str) -> (&'static str, String) {
        (
            "cast(cast(",
            format!(" as text) || substr(replace(cast({column} as text), '-', ''), 17) as uuid)"),
        )
    }

    fn month_of(column: &str) -> String {
        format!("tally_month({column})")
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

    /// `COPY` for many events (an import's).
    async fn copy_events(conn: &mut Conn<Self>, events: &[AuditEvent]) -> StoreResult<bool> {
        if events.len() < copy::COPY_MIN {
            return Ok(false);
        }
        copy::copy_rows(
            conn,
            &format!("audit_event ({EVENT_COLUMNS})"),
            events,
            |e| EventColumns::from_event(e).values(),
        )
        .await?;
        Ok(true)
    }

    fn search_column(row: &UserColumns) -> Option<(&'static str, Value)> {
        Some(("search_vector", users::search_vector(row).into()))
    }

    fn column_cast(column: &str) -> &'static str {
        if column == "search_vector" {
            "::tsvector"
        } else {
            ""
        }
    }

    /// After a large load: refresh the statistics the search plans are chosen by (and the
    /// planner's), and mark the new pages all-visible.
    async fn after_large_write(&self, writer: &PgPool) -> StoreResult<()> {
        sqlx::query("vacuum (analyze) user_account")
            .execute(writer)
            .await
            .map_err(db_error)?;
        self.stats.forget();
        Ok(())
    }

    async fn list_users(
        &self,
        reader: &PgPool,
        cutoff: i64,
        org: OrgId,
        query: &UserQuery,
    ) -> StoreResult<Vec<User>> {
        let stats = self.stats.get(reader).await?;
        search::list(reader, &stats, cutoff, org, query).await
    }

    async fn count_users(
        &self,
        reader: &PgPool,
        org: OrgId,
        query: &UserQuery,
        cap: u64,
    ) -> StoreResult<u64> {
        search::count(reader, org, query, cap).await
    }
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
        (9, "2958de4bdeb907168330b519befa669d02557c8faf9d715f7b320468100daeb25ff19bf18db05ff827acc54c32e25517"),
        (10, "9521337b72bf379a3c11a3e14ccd0426b88858dd75fbd16b15a60dcdf91819a5a8b33c3c54911cbc7255ef025ef4ccfc"),
        (11, "6633faef72e65f9a5fc4df01a7ede28760352e389911847c18717ca68d0d5a663826c5e079242b1d33ebc6a742cd2843"),
        (12, "de176c20ca832285b7df6a01c5a8419e8167aad33d7ddc5a1e654725b923a6f96d4168eaffdabcd425adc8d43049ea10"),
        (13, "8bb41d5248cf9211019e5b20e5113ea8b64dc582d6a5fe7fcd5603a080dcef50de001386ffd3fa0965f81ac7507a6616"),
        (14, "100e221d715204a7a9eb1e624396e8f20b1ee892313cee58e1252b6d66eaab937e08fc4ca109b32f5824d11e2edd8eb0"),
        (15, "ceec82075ae01f11245e8b15f5b541cecc39a0761ae387ff8e2668ddd9c5ea11e6bf515a2dae8846f99f61edef962345"),
        (16, "c9944cd351f03b79b4a57bfba3c9156336b0fe2369c16c240c2272ed98afde8ba78a1766918b32ca7b5d858666040e3b"),
        (17, "daf7d2ed05502c00c1ac163ec492c6ebb2dc4686c7dc1465309e71c9692dc20916144bb1098a179b0539c433776682b3"),
        (18, "0c955618f66b88f2bd45d49cbf0d5901a7550c6cecb6f58ef0041f951873eaec63ab4b2e6867f7da9e2bfb27267aa459"),
        (19, "d306be70db425aa4c6163a7aa0954567f461effdb86df7c5894055b3a254e52e07ed3b4632c3275aa601929ce80e6da2"),
        (20, "828cd077f4822daad34a834dbbd06e5af3a8d19a81177589584ab84b12ceb658c63564cb5c5823a77d657f0d59be32a1"),
        (21, "2480104f05b9bdd8eff31ff83ac94ea9026f123862538d4da94abc1b552c6a94554ad694d6e9ca9c8750261bb17ec6ac"),
        (22, "4743eef6726c49b18462cb49133ffd0d5b5c8471093bfdc7139c3f4d0a199ce74106ad72dffef69fe975a8a8a30faba0"),
        ];
        if let Err(why) = rollcall_store::check_applied_migrations(&super::MIGRATOR, applied) {
            panic!("{why}");
        }
    }
}
