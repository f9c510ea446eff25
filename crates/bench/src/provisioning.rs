//! `--provisioning`: a generated OneRoster package of N users imported into an empty org, then
//! re-imported with 1% of its people changed and 1% missing, end to end (unzip, parse, plan,
//! apply), beside the baseline (see `baseline`) of the same number of users measured in the same run.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rollcall_app::{App, ImportOutcome, ImportRequest, NewSource, Principal};
use rollcall_domain::provisioning::MissingPolicy;
use rollcall_testkit::{Backend, TestDb};

use crate::io::{bench_org_at, figures_apart, peak_mib, reset_peak};

/// Figures of one backend.
pub struct Figures {
    pub backend: &'static str,
    pub users: usize,
    pub baseline_rows_per_s: f64,
    pub first_secs: f64,
    pub churn_secs: f64,
    /// Peak resident memory of a fresh process doing the first import (see `import_on`).
    pub first_peak_mib: f64,
    /// Peak resident memory of a fresh process doing the re-import.
    pub churn_peak_mib: f64,
}

/// A OneRoster 1.1 bulk package of `users` students; person `i` is changed when `changed(i)`
/// and left out when `missing(i)`.
fn package(
    users: usize,
    changed: impl Fn(usize) -> bool,
    missing: impl Fn(usize) -> bool,
) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("manifest.csv"),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n\
         file.orgs,bulk\n",
    )?;
    std::fs::write(
        dir.path().join("orgs.csv"),
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
         d1,,,Benchmark District,district,BD,\ns1,,,Benchmark High,school,BH,d1\n",
    )?;
    let mut text = String::with_capacity(users * 120);
    text.push_str(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
         givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,\
         password\n",
    );
    for i in 0..users {
        if missing(i) {
            continue;
        }
        let family = if changed(i) { "Changed" } else { "Student" };
        let _ = writeln!(
            text,
            "u{i},,,true,s1,student,user{i},,Sam,{family}{i},,{i},user{i}@bench.example,,,,{},",
            9 + i % 4
        );
    }
    std::fs::write(dir.path().join("users.csv"), text)?;
    Ok(rollcall_import::oneroster::pack_folder(dir.path())?)
}

async fn import(app: &App, who: &Principal, name: &str, bytes: Vec<u8>) -> Result<f64> {
    let request = ImportRequest {
        source: "sis".to_owned(),
        file_name: name.to_owned(),
        confirmed: true,
        ..ImportRequest::default()
    };
    let started = Instant::now();
    match app.import(who, &request, bytes.into()).await? {
        ImportOutcome::Applied { .. } => Ok(started.elapsed().as_secs_f64()),
        other => bail!("{name} was not applied: {other:?}"),
    }
}

/// Imports, then re-imports; with `keep`, the database stays and its address is printed.
pub async fn measure(
    backend: Backend,
    users: usize,
    baseline_rows_per_s: f64,
    keep: bool,
) -> Result<Figures> {
    let name = backend.name();
    eprintln!("\n{name}: provisioning {users} users");
    let db = TestDb::new(backend)
        .await
        .context("a database to measure")?;
    let app = App::new(db.store.clone());
    let org = app.create_org("bench", "Benchmark District").await?;
    let who = Principal::system(org.id, "bench");
    let source = NewSource {
        name: "sis".to_owned(),
        format: "oneroster".to_owned(),
        mode: "full".to_owned(),
        policy: MissingPolicy::default(),
    };
    app.add_source(&who, source).await?;
    if keep {
        keep_copy(&db.url, "empty", "before the first import")?;
    }
    let packages = tempfile::tempdir()?;
    let (first, churn) = (
        packages.path().join("first.zip"),
        packages.path().join("churn.zip"),
    );
    std::fs::write(&first, packaged(users, false)?)?;
    std::fs::write(&churn, packaged(users, true)?)?;
    eprintln!("  first import, in a process of its own…");
    let (first_secs, first_peak_mib) = imported_apart(&db.url, users, false, &first)?;
    if keep {
        keep_copy(&db.url, "first", "after the first import")?;
    }
    eprintln!("  re-import with 1% changed and 1% missing, in a process of its own…");
    let (churn_secs, churn_peak_mib) = imported_apart(&db.url, users, true, &churn)?;
    if keep {
        eprintln!("  kept the database: {}", db.url);
        eprintln!("  kept the packages: {}", packages.keep().display());
        std::mem::forget(db);
    }
    Ok(Figures {
        backend: name,
        users,
        baseline_rows_per_s,
        first_secs,
        churn_secs,
        first_peak_mib,
        churn_peak_mib,
    })
}

/// With `--keep` on SQLite, a copy of the database as it is now (`….db.empty` before the
/// first import, `….db.first` after it), to run an import on again (`--import-on URL
/// [--churned]`) while looking at its phases.
fn keep_copy(url: &str, suffix: &str, what: &str) -> Result<()> {
    let Some(path) = url.strip_prefix("sqlite://") else {
        return Ok(());
    };
    let copy = format!("{path}.{suffix}");
    // The log folded into the file, then the file copied as it lies (`vacuum into` would
    // rewrite it in order, which reads faster than what an import leaves).
    let conn = rusqlite::Connection::open(path)?;
    conn.query_row("pragma wal_checkpoint(truncate)", [], |_| Ok(()))?;
    std::fs::copy(path, &copy)?;
    eprintln!("  the database {what}: sqlite://{copy}");
    Ok(())
}

/// The first package, or with `churned` the churned one: 1% changed (every 100th, from 0), 1%
/// missing (every 100th, from 50).
fn packaged(users: usize, churned: bool) -> Result<Vec<u8>> {
    if churned {
        package(users, |i| i % 100 == 0, |i| i % 100 == 50)
    } else {
        package(users, |_| false, |_| false)
    }
}

/// Runs an import in a fresh process of this benchmark (`--import-on`): the first package,
/// or with `churned` the churned one, read from `package`; its seconds and peak resident
/// memory.
fn imported_apart(url: &str, users: usize, churned: bool, package: &Path) -> Result<(f64, f64)> {
    let users = users.to_string();
    let package = package.to_string_lossy();
    let mut args = vec!["--import-on", url, "--users", &users, "--package", &package];
    if churned {
        args.push("--churned");
    }
    let figures = figures_apart(&args)?;
    let [secs, peak] = figures[..] else {
        bail!("the import said {figures:?}");
    };
    Ok((secs, peak))
}

/// `--import-on`: the package of `users` (the churned one with `churned`) imported into the
/// org `bench` at `url`; read from `package` when given, else built here. Either way it is in
/// memory before the peak is reset: the file a school sends is not the importer's memory.
pub async fn import_on(
    url: &str,
    users: usize,
    churned: bool,
    package: Option<&Path>,
) -> Result<()> {
    let (app, who) = bench_org_at(url).await?;
    let name = if churned { "churn.zip" } else { "first.zip" };
    let bytes = match package {
        Some(path) => std::fs::read(path)?,
        None => packaged(users, churned)?,
    };
    reset_peak();
    eprintln!(
        "  ({} MiB package; {:.0} MiB resident before the import)",
        bytes.len() / (1024 * 1024),
        peak_mib()
    );
    let secs = import(&app, &who, name, bytes).await?;
    println!("{secs} {}", peak_mib());
    Ok(())
}

pub fn print(figures: &[Figures]) {
    println!();
    println!(
        "Provisioning: a OneRoster bulk package, first into an empty org, then 1% changed and 1% missing"
    );
    println!(
        "| backend | users | first import rows/s | baseline rows/s | ratio | first import | re-import (1% churn) | peak RSS, first import (own process) | peak RSS, re-import (own process) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        let rate = f.users as f64 / f.first_secs;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.1} s | {:.2} s | {:.0} MiB | {:.0} MiB |",
            f.backend,
            f.users,
            rate,
            f.baseline_rows_per_s,
            rate / f.baseline_rows_per_s,
            f.first_secs,
            f.churn_secs,
            f.first_peak_mib,
            f.churn_peak_mib
        );
    }
}
