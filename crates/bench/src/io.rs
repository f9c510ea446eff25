//! What a load wrote to storage: its write amplification is its bytes written per row.
//!
//! SQLite writes from this process: `write_bytes` of `/proc/self/io`. PostgreSQL's writes are
//! the server's: there it is the write-ahead log the load produced (every change passes through
//! it; the tables and indexes are written again later, at checkpoints).

use anyhow::Result;
use rollcall_testkit::{Backend, TestDb};
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// Where a measure of bytes written started.
#[derive(Debug, Clone)]
pub enum Written {
    Process(u64),
    Wal { url: String, at: i64 },
}

impl Written {
    /// This process's writes from now on.
    pub fn process() -> Self {
        Self::Process(write_bytes())
    }

    /// The write-ahead log written from now on by the server of `url`.
    pub async fn wal(url: &str) -> Result<Self> {
        Ok(Self::Wal {
            url: url.to_owned(),
            at: wal_position(url).await?,
        })
    }

    /// What writes to `db` from now on.
    pub async fn of(db: &TestDb) -> Result<Self> {
        match db.backend {
            Backend::Sqlite => Ok(Self::process()),
            Backend::Postgres => Self::wal(&db.url).await,
        }
    }

    /// Bytes written since.
    pub async fn since(&self) -> Result<u64> {
        Ok(match self {
            Self::Process(at) => write_bytes().saturating_sub(*at),
            Self::Wal { url, at } => {
                u64::try_from(wal_position(url).await? - at).unwrap_or_default()
            }
        })
    }
}

/// `write_bytes` of `/proc/self/io` (0 where the kernel does not account it).
fn write_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("write_bytes:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// How many bytes of write-ahead log the server of `url` has written so far.
async fn wal_position(url: &str) -> Result<i64> {
    let mut conn = PgConnection::connect(url).await?;
    let at = sqlx::query_scalar("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(at)
}

/// Starts the count of peak resident memory again from what the process holds now (Linux:
/// `clear_refs` 5 resets VmHWM), so the peak is the measured work's, not what came before it.
pub fn reset_peak() {
    if let Err(err) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("  (the peak memory counts from the start: {err})");
    }
}

/// The process's peak resident memory so far (VmHWM), in MiB.
pub fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// The org `bench` of the database at `url` (a database an earlier step of the same run made,
/// or one `--keep` left, brought up to this build's migrations), and its system principal: what
/// a measurement in a fresh process (`figures_apart`) works on.
pub async fn bench_org_at(url: &str) -> Result<(rollcall_app::App, rollcall_app::Principal)> {
    let store: std::sync::Arc<dyn rollcall_store::Store> = if url.starts_with("postgres") {
        let store = rollcall_store_postgres::PostgresStore::connect(url).await?;
        store.migrate().await?;
        std::sync::Arc::new(store)
    } else {
        let store = rollcall_store_sqlite::SqliteStore::connect(url).await?;
        store.migrate().await?;
        std::sync::Arc::new(store)
    };
    let app = rollcall_app::App::new(store);
    let org = app.org_by_slug("bench").await?;
    let who = rollcall_app::Principal::system(org.id, "bench");
    Ok((app, who))
}

/// Runs this benchmark again in a fresh process with `args` (a hidden `--…-on` mode), so what
/// it measures is its own memory; the figures it prints, in order.
pub fn figures_apart(args: &[&str]) -> Result<Vec<f64>> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(args)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "{} failed: {}",
        args.first().unwrap_or(&"the child"),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect())
}
