//! The Rollcall benchmark. For each backend, in one run:
//!
//! 1. loads N users through the store's bulk path, next to the fastest plain load of the same
//!    rows into a lean reference schema (the baseline, see `baseline`), as rows/s, their ratio
//!    and the bytes each wrote per row;
//! 2. times 1,000 random one- and two-word prefix searches under the Active filter (p50/p95/p99);
//! 3. times status changes through the use-case layer (per second and p99).
//!
//! `cargo run --release -p rollcall-bench -- --users 1000000`

#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "counts and rates of a benchmark: far from the limits of f64"
)]

mod baseline;
mod console;
mod io;
mod learning;
mod population;
mod provisioning;
mod reports;
mod scim;

/// The allocator of the `rollcall` binary, so that what is measured is what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rollcall_app::{App, ChangeStatus, ListUsers, Principal};
use rollcall_domain::{AuditEvent, User};
use rollcall_testkit::{Backend, TestDb};

use crate::baseline::Baseline;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Parser)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each is a switch of the command line"
)]
#[command(
    about = "Rollcall benchmark: bulk load vs the plain baseline, search latency, status changes"
)]
struct Args {
    /// Users to load.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Search queries to time.
    #[arg(long, default_value_t = 1_000)]
    queries: usize,
    /// Status changes to time.
    #[arg(long, default_value_t = 2_000)]
    status_changes: usize,
    /// Users-screen requests to time (first page, then as many searches).
    #[arg(long, default_value_t = 200)]
    pages: usize,
    /// Backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    backend: Which,
    /// Skip the baseline (for quick looks at search and status changes).
    #[arg(long)]
    no_baseline: bool,
    /// Keep the measured database and print where it is, to look at its query plans.
    #[arg(long)]
    keep: bool,
    /// Measure provisioning instead: a generated OneRoster package of `--users` people
    /// imported, then re-imported with 1% changed and 1% missing (with the baseline
    /// of as many users).
    #[arg(long)]
    provisioning: bool,
    /// Measure learning instead: `--users` people, a course enrolling everyone (beside the
    /// same rows written by plain statements), then "my courses" and training histories.
    #[arg(long)]
    learning: bool,
    /// Measure reports instead: `--users` people enrolled in five courses each, then the
    /// dashboard, report pages, and the CSV export beside the plainest export of the same rows.
    #[arg(long)]
    reports: bool,
    /// Measure SCIM instead: this many creates, PATCHes (active=false) and filtered GETs over
    /// HTTP from 16 concurrent clients, beside the plainest server doing the same writes.
    #[arg(long, value_name = "OPERATIONS")]
    scim: Option<usize>,
    /// Time only the searches, on a database an earlier run kept (`--keep`) with the same
    /// `--users` and `--seed`.
    #[arg(long, value_name = "URL")]
    searches_on: Option<String>,
    /// Export the Active tab of the org `bench` on the database at this URL, print its rows and
    /// seconds, and exit: what `--reports` runs in a fresh process, so the export's memory is
    /// its own.
    #[arg(long, value_name = "URL", hide = true)]
    export_on: Option<String>,
    /// Import the package of `--users` people (with `--churned`, 1% changed and 1% missing)
    /// into the org `bench` on the database at this URL, print its seconds and memory, and
    /// exit: what `--provisioning` runs in a fresh process, so each import's memory is its own.
    #[arg(long, value_name = "URL", hide = true)]
    import_on: Option<String>,
    /// With `--import-on`: the churned package.
    #[arg(long, hide = true)]
    churned: bool,
    /// With `--import-on`: the package, as `--provisioning` wrote it, instead of building it
    /// in the importing process (whose allocator would keep some of that work's memory).
    #[arg(long, value_name = "FILE", hide = true)]
    package: Option<std::path::PathBuf>,
    /// Seed of the generated population and queries.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Debug, Default)]
struct Figures {
    backend: &'static str,
    baseline: Baseline,
    bulk: Baseline,
    search: Percentiles,
    search_page_hits: f64,
    changes_per_s: f64,
    change_p99_ms: f64,
    first_page: Percentiles,
    search_page: Percentiles,
    /// The five slowest searches, with their times.
    slowest: Vec<String>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
}

fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort_unstable();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Percentiles {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
    }
}

fn progress(label: &str, done: usize, total: usize) {
    eprint!(
        "\r  {label}: {done}/{total} ({:.0}%)   ",
        100.0 * done as f64 / total.max(1) as f64
    );
    if done == total {
        eprintln!();
    }
}

/// The baseline of `backend` (see `baseline`), on a database of its own.
async fn baseline_load(backend: Backend, rows: &[(User, AuditEvent)]) -> Result<Baseline> {
    eprintln!(
        "  baseline: {} rows into the lean reference schema…",
        rows.len()
    );
    match backend {
        Backend::Sqlite => baseline::sqlite(rows).await,
        Backend::Postgres => {
            let db = TestDb::new(backend)
                .await
                .context("a database for the baseline")?;
            baseline::postgres(&db.url, rows).await
        }
    }
}

/// The whole population as one import: one call, one transaction, all or nothing.
async fn bulk_load(
    db: &TestDb,
    org: rollcall_domain::OrgId,
    rows: &[(User, AuditEvent)],
) -> Result<Baseline> {
    eprintln!(
        "  bulk load: {} rows through the store's bulk path…",
        rows.len()
    );
    let (users, events): (Vec<User>, Vec<AuditEvent>) = rows.iter().cloned().unzip();
    let written = io::Written::of(db).await?;
    let started = Instant::now();
    let mut uow = db.store.begin().await?;
    uow.insert_users(org, &users).await?;
    uow.record(&events).await?;
    uow.commit().await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Baseline {
        rows_per_s: rows.len() as f64 / seconds,
        bytes_per_row: written.since().await? as f64 / rows.len().max(1) as f64,
    })
}

/// Search latencies, as the benchmark reports them.
struct Searches {
    times: Percentiles,
    hits_per_page: f64,
    /// The five slowest, with their times.
    slowest: Vec<String>,
}

/// Times `queries` random one- and two-word prefix searches under the Active filter.
async fn time_searches(
    app: &App,
    who: &Principal,
    rows: &[(User, AuditEvent)],
    rng: &mut StdRng,
    queries: usize,
) -> Result<Searches> {
    let mut samples = Vec::with_capacity(queries);
    let mut hits = 0usize;
    let mut slowest = Vec::new();
    for i in 0..queries {
        let q = population::query(rng, rows);
        let started = Instant::now();
        let page = app
            .list_users(
                who,
                ListUsers {
                    q: Some(q.clone()),
                    ..ListUsers::default()
                },
            )
            .await?;
        samples.push(started.elapsed());
        slowest.push((started.elapsed(), q));
        hits += page.users.len();
        if (i + 1) % 100 == 0 || i + 1 == queries {
            progress("searches", i + 1, queries);
        }
    }
    slowest.sort_by_key(|(took, _)| std::cmp::Reverse(*took));
    Ok(Searches {
        times: percentiles(samples),
        hits_per_page: hits as f64 / queries.max(1) as f64,
        slowest: slowest
            .iter()
            .take(5)
            .map(|(d, q)| format!("{q:?} {:.1} ms", d.as_secs_f64() * 1e3))
            .collect(),
    })
}

/// Times the searches again on a database kept by `--keep` (same seed, same queries),
/// without loading: for looking at a plan change on a million users in seconds.
async fn searches_on(url: &str, args: &Args) -> Result<()> {
    let store: std::sync::Arc<dyn rollcall_store::Store> = if url.starts_with("sqlite:") {
        let store = rollcall_store_sqlite::SqliteStore::connect(url).await?;
        store.migrate().await?;
        std::sync::Arc::new(store)
    } else {
        let store = rollcall_store_postgres::PostgresStore::connect(url).await?;
        store.migrate().await?;
        std::sync::Arc::new(store)
    };
    let app = App::new(store);
    let org = app
        .org_by_slug("bench")
        .await
        .context("the benchmark's org in the kept database")?;
    let who = Principal::system(org.id, "bench");
    let mut rng = StdRng::seed_from_u64(args.seed);
    let rows = population::generate(&mut rng, org.id, args.users, &who.actor)?;
    let searches = time_searches(&app, &who, &rows, &mut rng, args.queries).await?;
    println!(
        "search p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms; slowest: {}",
        searches.times.p50,
        searches.times.p95,
        searches.times.p99,
        searches.slowest.join(", ")
    );
    Ok(())
}

async fn measure(backend: Backend, args: &Args) -> Result<Figures> {
    let name = backend.name();
    eprintln!("\n{name}:");
    let db = TestDb::new(backend)
        .await
        .context("a database to measure")?;
    let app = App::new(db.store.clone());
    let org = app.create_org("bench", "Benchmark District").await?;
    let who = Principal::system(org.id, "bench");
    let mut rng = StdRng::seed_from_u64(args.seed);
    let rows = population::generate(&mut rng, org.id, args.users, &who.actor)?;

    let baseline = if args.no_baseline {
        Baseline::NONE
    } else {
        baseline_load(backend, &rows).await?
    };
    let bulk = bulk_load(&db, org.id, &rows).await?;

    let searches = time_searches(&app, &who, &rows, &mut rng, args.queries).await?;

    // Deactivate, then reactivate, random users who have an e-mail (no temporary password).
    let candidates: Vec<_> = rows
        .iter()
        .filter(|(u, _)| u.email().is_some() && u.may_sign_in())
        .map(|(u, _)| u.id())
        .collect();
    let mut samples = Vec::with_capacity(args.status_changes);
    let started = Instant::now();
    for i in 0..args.status_changes / 2 {
        let id = candidates[rng.gen_range(0..candidates.len())];
        for to in ["inactive", "active"] {
            let change = ChangeStatus {
                status: to.into(),
                reason: Some("benchmark".into()),
                ..ChangeStatus::default()
            };
            let one = Instant::now();
            app.change_status(&who, id, change).await?;
            samples.push(one.elapsed());
        }
        if (i + 1) % 100 == 0 || i + 1 == args.status_changes / 2 {
            progress("status changes", 2 * (i + 1), args.status_changes);
        }
    }
    let changes_per_s = samples.len() as f64 / started.elapsed().as_secs_f64();
    let change_p99_ms = percentiles(samples).p99;

    eprintln!(
        "  Users screen: {} first pages and {} searches over HTTP…",
        args.pages, args.pages
    );
    let screens = console::measure(&app, &who, &rows, &mut rng, args.pages).await?;

    if args.keep {
        eprintln!("  kept the database: {}", db.url);
        std::mem::forget(db);
    }
    Ok(Figures {
        backend: name,
        first_page: percentiles(screens.first_page),
        search_page: percentiles(screens.search),
        baseline,
        bulk,
        search: searches.times,
        search_page_hits: searches.hits_per_page,
        slowest: searches.slowest,
        changes_per_s,
        change_p99_ms,
    })
}

fn print_table(args: &Args, figures: &[Figures]) {
    println!();
    println!(
        "Rollcall benchmark: {} users, {} searches (Active filter, 50 per page), {} status changes",
        args.users, args.queries, args.status_changes
    );
    println!();
    let mut header = format!("| {:<28} |", "metric");
    let mut rule = format!("|{}|", "-".repeat(30));
    for f in figures {
        let _ = write!(header, " {:>12} |", f.backend);
        let _ = write!(rule, "{}|", "-".repeat(14));
    }
    header += " bar (1,000,000 users)           |";
    let _ = write!(rule, "{}|", "-".repeat(32));
    println!("{header}\n{rule}");
    let row = |label: &str, value: &dyn Fn(&Figures) -> String, bar: &str| {
        let mut line = format!("| {label:<28} |");
        for f in figures {
            let _ = write!(line, " {:>12} |", value(f));
        }
        let _ = write!(line, " {bar:<30} |");
        println!("{line}");
    };
    row(
        "baseline (rows/s)",
        &|f| format!("{:.0}", f.baseline.rows_per_s),
        "",
    );
    row(
        "baseline written (bytes/row)",
        &|f| format!("{:.0}", f.baseline.bytes_per_row),
        "",
    );
    row(
        "bulk load (rows/s)",
        &|f| format!("{:.0}", f.bulk.rows_per_s),
        "",
    );
    row(
        "bulk written (bytes/row)",
        &|f| format!("{:.0}", f.bulk.bytes_per_row),
        "",
    );
    row(
        "bulk load / baseline",
        &|f| format!("{:.2}", f.bulk.rows_per_s / f.baseline.rows_per_s),
        ">= 0.50",
    );
    row("search p50 (ms)", &|f| format!("{:.2}", f.search.p50), "");
    row(
        "search p95 (ms)",
        &|f| format!("{:.2}", f.search.p95),
        "< 10",
    );
    row(
        "search p99 (ms)",
        &|f| format!("{:.2}", f.search.p99),
        "< 20",
    );
    row(
        "search hits per page (mean)",
        &|f| format!("{:.1}", f.search_page_hits),
        "",
    );
    row(
        "status changes (per s)",
        &|f| format!("{:.0}", f.changes_per_s),
        "",
    );
    row(
        "status change p99 (ms)",
        &|f| format!("{:.2}", f.change_p99_ms),
        "< 5",
    );
    row(
        "Users screen p50 (ms)",
        &|f| format!("{:.2}", f.first_page.p50),
        "",
    );
    row(
        "Users screen p95 (ms)",
        &|f| format!("{:.2}", f.first_page.p95),
        "< 50",
    );
    row(
        "Users screen search p50 (ms)",
        &|f| format!("{:.2}", f.search_page.p50),
        "",
    );
    row(
        "Users screen search p95 (ms)",
        &|f| format!("{:.2}", f.search_page.p95),
        "< 50",
    );
    print_bars(args, figures);
}

/// Says, per backend, whether its figures meet the bars (set at 1,000,000 users).
fn print_bars(args: &Args, figures: &[Figures]) {
    let pass = |ok: bool| if ok { "met" } else { "NOT met" };
    println!();
    for f in figures {
        println!(
            "{} bars ({} users{}): bulk/baseline {}, search p95 {}, search p99 {}, status change \
             p99 {}, Users screen first page p95 {}, Users screen search p95 {}",
            f.backend,
            args.users,
            if args.users < 1_000_000 {
                "; the bars are set at 1,000,000"
            } else {
                ""
            },
            pass(f.bulk.rows_per_s >= 0.5 * f.baseline.rows_per_s),
            pass(f.search.p95 < 10.0),
            pass(f.search.p99 < 20.0),
            pass(f.change_p99_ms < 5.0),
            pass(f.first_page.p95 < 50.0),
            pass(f.search_page.p95 < 50.0),
        );
        println!("{} slowest searches: {}", f.backend, f.slowest.join(", "));
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    // Quiet unless asked: `RUST_LOG=rollcall_app=debug` prints each import's phases.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    if let Some(url) = &args.export_on {
        return reports::export_on(url).await;
    }
    if let Some(url) = &args.import_on {
        return provisioning::import_on(url, args.users, args.churned, args.package.as_deref())
            .await;
    }
    if let Some(url) = &args.searches_on {
        return searches_on(url, &args).await;
    }
    let backends: &[Backend] = match args.backend {
        Which::Sqlite => &[Backend::Sqlite],
        Which::Postgres => &[Backend::Postgres],
        Which::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    if let Some(operations) = args.scim {
        let mut figures = Vec::new();
        for backend in backends {
            match scim::measure(*backend, operations).await {
                Ok(f) => figures.push(f),
                Err(err) if rollcall_testkit::skip_postgres() && *backend == Backend::Postgres => {
                    eprintln!("PostgreSQL skipped: {err:#}");
                }
                Err(err) => return Err(err),
            }
        }
        scim::print(&figures);
        return Ok(());
    }
    if args.reports {
        let mut figures = Vec::new();
        for backend in backends {
            match reports::measure(*backend, args.users, args.seed, args.keep).await {
                Ok(f) => figures.push(f),
                Err(err) if rollcall_testkit::skip_postgres() && *backend == Backend::Postgres => {
                    eprintln!("PostgreSQL skipped: {err:#}");
                }
                Err(err) => return Err(err),
            }
        }
        reports::print(&figures);
        return Ok(());
    }
    if args.learning {
        let mut figures = Vec::new();
        for backend in backends {
            match learning::measure(*backend, args.users, args.seed, args.keep).await {
                Ok(f) => figures.push(f),
                Err(err) if rollcall_testkit::skip_postgres() && *backend == Backend::Postgres => {
                    eprintln!("PostgreSQL skipped: {err:#}");
                }
                Err(err) => return Err(err),
            }
        }
        learning::print(&figures);
        return Ok(());
    }
    if args.provisioning {
        let mut figures = Vec::new();
        for backend in backends {
            let org = rollcall_domain::OrgId::new();
            let actor = rollcall_domain::Actor::System {
                label: "bench".to_owned(),
            };
            let baseline_rows_per_s = if args.no_baseline {
                f64::NAN
            } else {
                let mut rng = StdRng::seed_from_u64(args.seed);
                let rows = population::generate(&mut rng, org, args.users, &actor)?;
                baseline_load(*backend, &rows).await?.rows_per_s
            };
            figures.push(
                provisioning::measure(*backend, args.users, baseline_rows_per_s, args.keep).await?,
            );
        }
        provisioning::print(&figures);
        return Ok(());
    }
    let mut figures = Vec::new();
    for backend in backends {
        match measure(*backend, &args).await {
            Ok(f) => figures.push(f),
            Err(err) if rollcall_testkit::skip_postgres() && *backend == Backend::Postgres => {
                eprintln!("PostgreSQL skipped: {err:#}");
            }
            Err(err) => return Err(err),
        }
    }
    print_table(&args, &figures);
    Ok(())
}
