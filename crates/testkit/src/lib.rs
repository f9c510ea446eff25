//! Throwaway databases for tests and the benchmark: a SQLite file in a temporary folder, or a
//! PostgreSQL database created on the local server and dropped when the guard goes.
//!
//! PostgreSQL is found at `ROLLCALL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it does not answer, tests fail with a
//! message saying so, unless `ROLLCALL_SKIP_POSTGRES=1` is set, and then they say they skipped.

use std::sync::Arc;

use rollcall_store::Store;
use rollcall_store_postgres::PostgresStore;
use rollcall_store_sqlite::SqliteStore;
use sqlx::Connection;

/// The backends a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as reports name it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A migrated, empty database that disappears with this value.
pub struct TestDb {
    pub backend: Backend,
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with (for starting the real app on it).
    pub url: String,
    _guard: Guard,
}

enum Guard {
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let label = name.clone();
            // Drop runs outside any runtime guarantee: use a small one of our own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                    sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut conn)
                        .await?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("warning: could not drop test database {label}");
            }
        }
    }
}

/// The admin URL of the PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("ROLLCALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Has the operator explicitly asked to skip PostgreSQL?
pub fn skip_postgres() -> bool {
    std::env::var("ROLLCALL_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

impl TestDb {
    /// A fresh database of `backend`, or `None` when PostgreSQL is skipped on purpose (which
    /// it says on stderr). Panics, saying why, when PostgreSQL cannot be reached.
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for the test database");
        let url = format!("sqlite://{}", dir.path().join("rollcall.db").display());
        let store = SqliteStore::connect(&url)
            .await
            .expect("open the SQLite test database");
        store
            .migrate()
            .await
            .expect("migrate the SQLite test database");
        Self {
            backend: Backend::Sqlite,
            store: Arc::new(store),
            url,
            _guard: Guard::Sqlite(dir),
        }
    }

    pub async fn postgres() -> Option<Self> {
        if skip_postgres() {
            eprintln!("SKIPPED: PostgreSQL backend (ROLLCALL_SKIP_POSTGRES=1)");
            return None;
        }
        let admin_url = postgres_admin_url();
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "PostgreSQL is not reachable at {admin_url}: {err}.\n\
                 Start it (see README, 'Running the tests') or set ROLLCALL_SKIP_POSTGRES=1 to \
                 skip the PostgreSQL backend on purpose."
                )
            });
        let name = format!("rollcall_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .expect("create a PostgreSQL test database");
        let guard = Guard::Postgres {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("ROLLCALL_TEST_POSTGRES_URL must end with /<database>"),
        };
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect to the test database");
        store
            .migrate()
            .await
            .expect("migrate the PostgreSQL test database");
        Some(Self {
            backend: Backend::Postgres,
            store: Arc::new(store),
            url,
            _guard: guard,
        })
    }
}

impl TestDb {
    /// Runs raw SQL beside the store, for a test that must set up what the app never writes
    /// (rows as an older version left them).
    pub async fn execute_sql(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let store = SqliteStore::connect(&self.url)
                    .await
                    .expect("reopen the SQLite test database");
                sqlx::query(sql)
                    .execute(store.writer())
                    .await
                    .expect("raw SQL on the SQLite test database");
            }
            Backend::Postgres => {
                let store = PostgresStore::connect(&self.url)
                    .await
                    .expect("reconnect to the test database");
                sqlx::query(sql)
                    .execute(store.writer())
                    .await
                    .expect("raw SQL on the PostgreSQL test database");
            }
        }
    }

    /// The database opened again as a starting server opens it: migrations and their fill-ins
    /// run first.
    pub async fn restart(&self) -> Arc<dyn Store> {
        match self.backend {
            Backend::Sqlite => {
                let store = SqliteStore::connect(&self.url)
                    .await
                    .expect("reopen the SQLite test database");
                store.migrate().await.expect("migrate again");
                Arc::new(store)
            }
            Backend::Postgres => {
                let store = PostgresStore::connect(&self.url)
                    .await
                    .expect("reconnect to the test database");
                store.migrate().await.expect("migrate again");
                Arc::new(store)
            }
        }
    }

    /// A second store on the same database, as a second server process would open it.
    pub async fn another_store(&self) -> Arc<dyn Store> {
        self.store_with_search_cutoff(rollcall_store::BROAD_PREFIX_ENTRIES)
            .await
    }

    /// A second store on the same database whose search treats a word as broad once it
    /// covers `entries` index entries (see `BROAD_PREFIX_ENTRIES`), to drive each search plan.
    pub async fn store_with_search_cutoff(&self, entries: i64) -> Arc<dyn Store> {
        match self.backend {
            Backend::Sqlite => Arc::new(
                SqliteStore::connect(&self.url)
                    .await
                    .expect("reopen the SQLite test database")
                    .with_search_cutoff(entries),
            ),
            Backend::Postgres => Arc::new(
                PostgresStore::connect(&self.url)
                    .await
                    .expect("reconnect to the test database")
                    .with_search_cutoff(entries),
            ),
        }
    }
}

/// Declares one `#[tokio::test]` per backend for each listed suite function, in a module per
/// backend: `sqlite::name` and `postgres::name`. Each function takes a fresh [`TestDb`].
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::TestDb::new($crate::Backend::Sqlite).await.expect("sqlite");
                    super::$name(db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(db) = $crate::TestDb::new($crate::Backend::Postgres).await {
                        super::$name(db).await;
                    }
                }
            )+
        }
    };
}
