//! The SQLite store: Rollcall's embedded default.
//!
//! One file in WAL mode. Writes go through a single connection, so they queue in the process
//! instead of failing on SQLite's one-writer lock; reads use a small pool beside it. Search uses
//! an FTS5 index of the users' terms (see `migrations/`).

mod directory;
mod export;
mod file_reader;
mod roll;
mod users;

use std::str::FromStr;
use std::time::Duration;

use rollcall_domain::provisioning::{Known, Roll, Wanted};
use rollcall_domain::{AuditEvent, OrgId, Source, User};
use rollcall_store::report_csv::CsvSender;
use rollcall_store::rows::UserColumns;
use rollcall_store::shared::{Conn, Opened};
use rollcall_store::sql::Value;
use rollcall_store::{Backend, SqlStore, StoreError, StoreResult, UserQuery};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rollcall's store on a SQLite file.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// What SQLite adds to the shared SQL: its connections, FTS5 search and bulk path.
#[derive(Debug)]
pub struct SqliteBackend {
    /// Alive while the store is: the background checkpointer stops when it goes.
    _alive: std::sync::Arc<()>,
    /// The database's file; none for a database in memory.
    file: Option<std::path::PathBuf>,
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

pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(err)
}

impl Backend for SqliteBackend {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";
    const ONE_WRITER: bool = true;
    // One writer connection: a unit of work already holds the only write lock.
    const JSON: rollcall_store::shared::JsonStyle = rollcall_store::shared::JsonStyle::Sqlite;
    const LOCK_ROW: &'static str = "";
    const SKIP_LOCKED: &'static str = "";

    /// One file in WAL mode. Writes go through a single connection, so they queue in the
    /// process instead of failing on SQLite's one-writer lock; reads use a small pool beside it.
    async fn open(url: &str) -> StoreResult<Opened<Self>> {
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
            // `analyze` samples rather than reads every row: after a large write it takes
            // milliseconds, and the planner's estimates are as good.
            .pragma("analysis_limit", "1000")
            // Checkpoints run in the background (see `spawn_checkpointer`), not in commits.
            .pragma("wal_autocheckpoint", "0");
        // A connection to a local file does not go stale: testing it on every acquire would
        // only add a round trip to its thread before each statement.
        // The writer maps no file and keeps a smaller cache than the readers: a large import
        // reads most of the file through it, and mapped, every page it read would stay in the
        // process. The pages it misses come from the system's file cache; a 1% re-import of a
        // million people takes no longer with 32 MiB than with 128.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .pragma("mmap_size", "0")
                    .pragma("cache_size", "-32768"),
            )
            .await
            .map_err(db_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options.clone().read_only(true))
            .await
            .map_err(db_error)?;
        // A database in memory has a name, but no file another connection could open.
        let file = Some(options.get_filename().to_path_buf()).filter(|f| f.is_file());
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let alive = std::sync::Arc::new(());
        spawn_checkpointer(checkpointer, std::sync::Arc::downgrade(&alive));
        Ok(Opened {
            reader,
            writer,
            backend: Self {
                _alive: alive,
                file,
            },
        })
    }

    async fn migrate(writer: &SqlitePool) -> StoreResult<()> {
        MIGRATOR
            .run(writer)
            .await
            .map_err(|err| StoreError::Database(Box::new(err)))
    }

    /// `begin immediate`: the unit of work takes the write lock at once, so a read inside it
    /// can never be followed by a failed upgrade when another process writes the same file.
    async fn begin(writer: &SqlitePool) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        writer.begin_with("begin immediate").await.map_err(db_error)
    }

    /// Read by a connection of its own on a blocking thread (see `export`); in memory, by the
    /// shared walk.
    fn spawn_export(&self, text: &str, values: &[Value], sent: &CsvSender) -> bool {
        let Some(file) = &self.file else {
            return false;
        };
        export::spawn(file.clone(), text.to_owned(), values.to_vec(), sent.clone());
        true
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn placeholder(text: &mut String, _index: usize) {
        text.push('?');
    }

    fn derived_id(column: &str) -> (&'static str, String) {
        ("unhex(", format!(" || substr(hex({column}), 17))"))
    }

    fn month_of(column: &str) -> String {
        format!("strftime('%Y-%m', {column} / 1000000, 'unixepoch')")
    }

    fn bind(args: &mut SqliteArguments<'_>, value: Value) -> Result<(), sqlx::error::BoxDynError> {
        rollcall_store::sql::bind_value::<Sqlite>(args, value)
    }

    fn insert_user_rows<'a>(
        conn: &'a mut Conn<Self>,
        rows: &'a [UserColumns],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a {
        users::insert_user_rows(conn, rows)
    }

    /// Multi-row inserts are SQLite's fastest way: nothing to add.
    async fn copy_events(_: &mut Conn<Self>, _: &[AuditEvent]) -> StoreResult<bool> {
        Ok(false)
    }

    fn reindex_users<'a>(
        conn: &'a mut Conn<Self>,
        rows: &'a [UserColumns],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a {
        users::reindex_users(conn, rows)
    }

    /// After a large import: fold the write-ahead log back into the file (a huge log slows
    /// every later read and commit) and refresh the planner's statistics.
    ///
    /// The background checkpointer may be folding the same log at that moment, and SQLite then
    /// answers "busy" at once: the fold is asked again until it is done (or a minute has
    /// passed), so that the next unit of work does not pay for this one's log.
    async fn after_large_write(&self, writer: &SqlitePool) -> StoreResult<()> {
        for _ in 0..600 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(truncate)")
                .fetch_one(writer)
                .await
                .map_err(db_error)?;
            if busy == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        sqlx::query("pragma optimize")
            .execute(writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Read straight from the file, as the roll below; a database in memory is read through
    /// the pool.
    async fn provisioning_known(
        &self,
        _reader: &SqlitePool,
        org: OrgId,
        wanted: &Wanted,
    ) -> StoreResult<Option<Vec<Known>>> {
        match &self.file {
            Some(file) => directory::wanted(file.clone(), org, wanted.clone())
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    async fn source_roll(
        &self,
        _reader: &SqlitePool,
        org: OrgId,
        source: &Source,
    ) -> StoreResult<Option<Roll>> {
        match &self.file {
            Some(file) => roll::read(file.clone(), org, source.clone())
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    async fn list_users(
        &self,
        reader: &SqlitePool,
        cutoff: i64,
        org: OrgId,
        query: &UserQuery,
    ) -> StoreResult<Vec<User>> {
        users::list(reader, cutoff, org, query).await
    }

    async fn count_users(
        &self,
        reader: &SqlitePool,
        org: OrgId,
        query: &UserQuery,
        cap: u64,
    ) -> StoreResult<u64> {
        users::count(reader, org, query, cap).await
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
        (1, "3508b2602a4dcd7b0e61283b86f5a7edd26b07ed738b512300639c965b246020712c89758454dbdb046dfa6d32802f99"),
        (2, "018184cd2e63c5f0a7282de43860815875c573ce29749573767009f7d1ecb768f2f96f59c928f0ef575499f1eff7c080"),
        (3, "396c77d536fdb52c285ba90b5eb4bd4bde3036e6da41d0de85946287ca205dab76c3260710447016304cf16e3ef83c33"),
        (4, "500309772122ee794756494e3e85ea183759f0e59ad915f5b2412274074315ab7ffd9a85b676b13dd30a74a404677962"),
        (5, "472a57cf73f9d7e1fd65c204affc6fb71c2f88655ca2fc4c2227cf7cdcd38bc6f15b57cf83bf2b4ca4b17991eb39ad5d"),
        (6, "c27039b347ca040f4f139a352902fe4abac6abf049502b94e641e13477b5c98b5917c4a5e0dc5656aaedd6b8a21b9116"),
        (7, "855696b429fa6fabb42f9dadf416af49d9316e1c9e1e77181608ff0f27c5dd44d99149fabc9e004d4e638c845bca13b1"),
        (8, "79be373785f381c6a661fbd4f7893318b56e39843a73b5dc70a9ba6707db1b8c90d12b40ab438460c35cc836be4e7841"),
        (9, "cda88cae08e25ee271b2779eed2bd99c976de6ff49e3422dae89c17b15b8d1f7e3789b220a1ebf2aadcc87dc94f8a172"),
        (10, "7a7ce36bdd27124d205f7478c1d18c195ee03ea63dac90973de8950151ff8214cf9fefdb854e2b0aad12216339974d0b"),
        (11, "9b05022e12e11d576a7f050c48968f78b03de992db566d1cb166601fa664591272a76fbc5fcb0d1134fe1b0cb4564e14"),
        (12, "b95e6891c9b5b71e377d3ad30fb95adf672a0bb14468328c9a16dd4611cb2e6e42d26ef4da200d9dc220c4f8f0183132"),
        (13, "0fd7248d181f57943ba4f3a643eb8aed6a0fa3dd92749d7eebd0e16077be9269054bde38e582f1df06852130ba20e25f"),
        (14, "ee69c4f06c6900a896991057b6d5ce868d14ebb43b674d8d37bcce5c45e97f09ba6fc87be46fa78dbcfd848abd54799f"),
        (15, "86f84981af7246f376ebf8cd7821d0e18ee32a1fe9dcdfc746715f276d714c2d077b66cbd2d0ea17a75d040b68800bfc"),
        (16, "1d9bf2a6799a4e62037823251bf0c1ce602f478f63e16def01813240b6b73c9b9509bd023e045017f5f672d6dd39dca3"),
        (17, "828cd077f4822daad34a834dbbd06e5af3a8d19a81177589584ab84b12ceb658c63564cb5c5823a77d657f0d59be32a1"),
        (18, "79dfcde9097d4fe3b0bb658da3743e7feb5291232e1e07cfc63196c9416025e40c343c7bc4bd540a0b32eb513f372baa"),
        (19, "cb7aa2f86109b859d71f0c1a2aa752a921327f4be90a9fd1b41507d10febe5a011a057e3934233348e5359d0625dc515"),
        ];
        if let Err(why) = rollcall_store::check_applied_migrations(&super::MIGRATOR, applied) {
            panic!("{why}");
        }
    }
}
