//! What a database adds to the shared SQL (see `shared`): how to open it, migrate it, bind a
//! value, write a user's search entries, and plan a listing.

use std::future::Future;

use rollcall_domain::provisioning::{Known, Roll, Wanted};
use rollcall_domain::{AuditEvent, OrgId, Source, User};
use sqlx::{Database, Pool};

use crate::report_csv::CsvSender;
use crate::rows::UserColumns;
use crate::value::Value;
use crate::{StoreResult, UserQuery};

/// A database connection of backend `B`.
pub type Conn<B> = <<B as Backend>::Db as Database>::Connection;

/// How a backend reads JSON documents kept as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// `json_extract`, `json_each` (booleans read as 1 and 0).
    Sqlite,
    /// `jsonb_extract_path_text`, `jsonb_array_elements` over `::jsonb` (booleans as text).
    Postgres,
}

/// What a backend adds to the shared SQL: the parts that truly differ between databases.
pub trait Backend: Send + Sync + Sized + 'static {
    type Db: Database;
    /// `sqlite` or `postgres`.
    const NAME: &'static str;
    /// Whether one unit of work writes at a time (one writer connection).
    const ONE_WRITER: bool;
    /// The JSON functions it has.
    const JSON: JsonStyle;
    /// Appended to a unit of work's read of a row it will write (` for update`), when the
    /// database needs it to keep other writers off the row until the commit.
    const LOCK_ROW: &'static str;
    /// Appended to a read of rows to work through that others may hold: skip those rather
    /// than wait for them (` for update skip locked`).
    const SKIP_LOCKED: &'static str;
    /// Opens the database at `url`: the readers' pool, the writer's pool (the same pool
    /// where the database handles concurrent writers itself), and the backend's own state.
    fn open(url: &str) -> impl Future<Output = StoreResult<Opened<Self>>> + Send;

    /// Applies the migrations that have not run yet.
    fn migrate(writer: &Pool<Self::Db>) -> impl Future<Output = StoreResult<()>> + Send;

    /// Starts the writer's transaction.
    fn begin(
        writer: &Pool<Self::Db>,
    ) -> impl Future<Output = StoreResult<sqlx::Transaction<'static, Self::Db>>> + Send;

    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// Appends the placeholder of the `index`-th bound value (from 1): `?` or `$1`.
    fn placeholder(text: &mut String, index: usize);

    /// Binds one value of a shared statement.
    fn bind(
        args: &mut <Self::Db as Database>::Arguments<'_>,
        value: Value,
    ) -> Result<(), sqlx::error::BoxDynError>;

    /// Inserts user rows (any number: the backend chooses how, a large load differently from
    /// a few rows) and their search entries.
    fn insert_user_rows<'a>(
        conn: &'a mut Conn<Self>,
        rows: &'a [UserColumns],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a;

    /// Writes many audit events at once the backend's fastest way, if it has one better than
    /// multi-row inserts; `false` when it has not, and wrote nothing (the caller then does).
    fn copy_events<'a>(
        conn: &'a mut Conn<Self>,
        events: &'a [AuditEvent],
    ) -> impl Future<Output = StoreResult<bool>> + Send + 'a;

    /// The column of `user_account` holding a user's search entries and their value, written
    /// with the row's other changes; `None` when the entries live in a table of their own
    /// (SQLite's full-text index), rewritten by [`Backend::reindex_users`].
    fn search_column(_row: &UserColumns) -> Option<(&'static str, Value)> {
        None
    }

    /// What turns a bound value into `column`'s type, when the bound type is not it
    /// (PostgreSQL's `::tsvector`).
    fn column_cast(_column: &str) -> &'static str {
        ""
    }

    /// Rewrites users' search entries after their terms changed, where they live in a table of
    /// their own; a backend whose entries are a column of the row ([`Backend::search_column`])
    /// has nothing more to do.
    fn reindex_users<'a>(
        _conn: &'a mut Conn<Self>,
        _rows: &'a [UserColumns],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a {
        async { Ok(()) }
    }

    /// An id made in SQL from a bound prefix (16 hex digits) and the last eight bytes of the id
    /// in `column`: the text before the prefix's placeholder, and after it.
    fn derived_id(column: &str) -> (&'static str, String);

    /// The month (`YYYY-MM`, UTC) of the microsecond timestamp in `column`, as the
    /// `learning_tally` triggers write it.
    fn month_of(column: &str) -> String;

    /// Runs after a unit of work that inserted many users has committed (SQLite folds its
    /// write-ahead log back; PostgreSQL refreshes the planner's statistics).
    fn after_large_write(
        &self,
        writer: &Pool<Self::Db>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// One status's page of users: the backend's search plans.
    fn list_users(
        &self,
        reader: &Pool<Self::Db>,
        cutoff: i64,
        org: OrgId,
        query: &UserQuery,
    ) -> impl Future<Output = StoreResult<Vec<User>>> + Send;

    /// How many users one status's slice holds, up to `cap`.
    fn count_users(
        &self,
        reader: &Pool<Self::Db>,
        org: OrgId,
        query: &UserQuery,
        cap: u64,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Starts the walk of a report's export (see [`CsvRows`](crate::report_csv::CsvRows)):
    /// the statement `text` with its `values`, sending into (a clone of) `sent`. `true` when
    /// the backend has its own way, faster than sqlx's stream of rows; `false` leaves the walk
    /// to the shared one.
    fn spawn_export(&self, _text: &str, _values: &[Value], _sent: &CsvSender) -> bool {
        false
    }

    /// The users `wanted` names or may clash with, each once, with what their source last
    /// said, read the backend's own way, when it has one faster than a row per user; `None`:
    /// the shared queries read them.
    fn provisioning_known(
        &self,
        _reader: &Pool<Self::Db>,
        _org: OrgId,
        _wanted: &Wanted,
    ) -> impl Future<Output = StoreResult<Option<Vec<Known>>>> + Send {
        async { Ok(None) }
    }

    /// A source's roll read the backend's own way, when it has one faster than a row per user;
    /// `None`: the shared query reads it.
    fn source_roll(
        &self,
        _reader: &Pool<Self::Db>,
        _org: OrgId,
        _source: &Source,
    ) -> impl Future<Output = StoreResult<Option<Roll>>> + Send {
        async { Ok(None) }
    }
}

/// A freshly opened database.
pub struct Opened<B: Backend> {
    pub reader: Pool<B::Db>,
    pub writer: Pool<B::Db>,
    pub backend: B,
}
