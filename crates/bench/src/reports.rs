//! `--reports`: an org of N people, each enrolled in five courses (5N enrolments, dated over
//! the past year, 60% started and 40% completed), then per backend:
//!
//! - the dashboard's queries, together, as the console runs them (and a segment's figures,
//!   worked out live, apart);
//! - the first page of the completion report, in each tab and filtered;
//! - the CSV export of the Active tab, every row, through the use case (a chunk at a time)
//!   beside the baseline: the fastest plain way to write the same rows as CSV (one prepared
//!   statement walked by rusqlite on SQLite, `COPY … TO STDOUT` on PostgreSQL), with the
//!   export's peak resident memory.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rollcall_app::{App, NewSegment, Principal, ReportRequest, csv_header};
use rollcall_domain::learning::{Completion, CourseDraft, LessonDraft};
use rollcall_domain::{CourseId, OrgId};
use rollcall_testkit::{Backend, TestDb};
use sqlx::Connection as _;

use crate::io::{bench_org_at, peak_mib, reset_peak};
use crate::{Percentiles, percentiles, population};

const COURSES: usize = 5;
/// Report pages timed per kind.
const PAGES: usize = 20;
/// Dashboard loads timed.
const DASHBOARDS: usize = 5;

pub struct Figures {
    pub backend: &'static str,
    pub users: usize,
    pub enrolments: u64,
    pub setup_secs: f64,
    pub dashboard: Percentiles,
    pub segment_secs: f64,
    pub active_page: Percentiles,
    pub archived_page: Percentiles,
    pub filtered_page: Percentiles,
    pub export_rows: u64,
    pub export_rows_per_s: f64,
    pub baseline_rows_per_s: f64,
    pub peak_mib: f64,
    pub rss_before_mib: f64,
    pub anon_mib: f64,
}

fn draft(i: usize) -> CourseDraft {
    CourseDraft {
        title: format!("Course {i}"),
        description: "For everyone.".to_owned(),
        lessons: vec![LessonDraft {
            id: None,
            title: "Lesson".to_owned(),
            body: "Read this.".to_owned(),
        }],
        completion: Completion::MarkComplete,
        credit_cost: 1,
    }
}

/// Everyone of the org enrolled in the course `index`, by one statement: a pseudo-random
/// figure from each person's row dates the enrolment and decides whether it was started and
/// completed. Written straight to the tables, as a history would be: the tally's triggers
/// run as they would for any write.
fn enrol_sql(backend: Backend) -> String {
    let (random, least) = match backend {
        Backend::Sqlite => ("((u.rowid * 2654435761 + ?1 * 7919) % 1000)", "min"),
        Backend::Postgres => (
            "((abs(hashtext(cast(u.user_id as text))) + $1 * 7919) % 1000)",
            "least",
        ),
    };
    let day = "86400000000";
    let enrolled = format!("(?2 - ({random} * 3659 % 365) * {day})");
    let sql = format!(
        "insert into enrolment (org_id, course_id, user_id, method, enrolled_by, enrolled_at, \
         started_at, credits_used, completed_at, score) select u.org_id, ?3, u.user_id, \
         'selected', 'bench', {enrolled}, case when {random} < 600 then {enrolled} + 3600000000 \
         end, case when {random} < 600 then 1 else 0 end, case when {random} < 400 then \
         {least}({enrolled} + 3 * {day}, ?2) end, case when {random} < 400 then 60 + {random} % 41 \
         end from user_account u where u.org_id = ?4"
    );
    match backend {
        Backend::Sqlite => sql,
        Backend::Postgres => sql.replace('?', "$"),
    }
}

async fn enrol_all(db: &TestDb, org: OrgId, courses: &[CourseId]) -> Result<u64> {
    let sql = enrol_sql(db.backend);
    let now = chrono::Utc::now().timestamp_micros();
    let mut total = 0;
    match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            let courses: Vec<uuid::Uuid> = courses.iter().map(CourseId::as_uuid).collect();
            let org = org.as_uuid();
            total = tokio::task::spawn_blocking(move || -> Result<u64> {
                let mut conn = rusqlite::Connection::open(path)?;
                conn.busy_timeout(Duration::from_mins(1))?;
                conn.pragma_update(None, "synchronous", "normal")?;
                conn.pragma_update(None, "cache_size", -131_072)?;
                let mut total = 0;
                for (i, course) in courses.iter().enumerate() {
                    let tx = conn.transaction()?;
                    total += tx.execute(
                        &sql,
                        rusqlite::params![
                            i64::try_from(i)?,
                            now,
                            &course.as_bytes()[..],
                            &org.as_bytes()[..]
                        ],
                    )? as u64;
                    tx.commit()?;
                    eprintln!(
                        "    course {} of {}: {total} enrolments",
                        i + 1,
                        courses.len()
                    );
                }
                Ok(total)
            })
            .await??;
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await?;
            for (i, course) in courses.iter().enumerate() {
                total += sqlx::query(&sql)
                    .bind(i64::try_from(i)?)
                    .bind(now)
                    .bind(course.as_uuid())
                    .bind(org.as_uuid())
                    .execute(&mut conn)
                    .await?
                    .rows_affected();
                eprintln!(
                    "    course {} of {}: {total} enrolments",
                    i + 1,
                    courses.len()
                );
            }
            sqlx::query("vacuum analyze").execute(&mut conn).await?;
        }
    }
    Ok(total)
}

/// The Active tab's rows, as the export writes them, read by the plainest query.
const BASELINE_SELECT: &str = "select u.user_id, u.username, u.email, u.given_name, \
     u.family_name, u.status, e.course_id, c.title, e.method, e.enrolled_at, e.started_at, \
     e.completed_at, e.score, e.credits_used from enrolment e join user_account u on u.org_id = \
     e.org_id and u.user_id = e.user_id join course c on c.org_id = e.org_id and c.course_id = \
     e.course_id where e.org_id = ?1 and u.status = 'active' order by e.course_id, e.user_id";

/// The baseline export: how many rows, in how many seconds.
async fn baseline_export(db: &TestDb, org: OrgId) -> Result<(u64, f64)> {
    let started = Instant::now();
    let rows = match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            let org = org.as_uuid();
            tokio::task::spawn_blocking(move || -> Result<u64> {
                let conn = rusqlite::Connection::open(path)?;
                conn.pragma_update(None, "cache_size", -131_072)?;
                conn.pragma_update(None, "mmap_size", 1_073_741_824)?;
                let mut statement = conn.prepare(BASELINE_SELECT)?;
                let mut rows = statement.query(rusqlite::params![&org.as_bytes()[..]])?;
                let mut out = std::io::sink();
                let mut count = 0;
                let mut line = String::with_capacity(256);
                while let Some(row) = rows.next()? {
                    line.clear();
                    let id: Vec<u8> = row.get(0)?;
                    let _ = write!(line, "{},", uuid::Uuid::from_slice(&id)?);
                    for i in 1..14 {
                        let value = row.get_ref(i)?;
                        match value {
                            rusqlite::types::ValueRef::Text(t) => {
                                line.push_str(&String::from_utf8_lossy(t));
                            }
                            rusqlite::types::ValueRef::Integer(n) => {
                                let _ = write!(line, "{n}");
                            }
                            rusqlite::types::ValueRef::Blob(b) => {
                                let _ = write!(line, "{}", uuid::Uuid::from_slice(b)?);
                            }
                            _ => {}
                        }
                        line.push(',');
                    }
                    line.push('\n');
                    std::io::Write::write_all(&mut out, line.as_bytes())?;
                    count += 1;
                }
                Ok(count)
            })
            .await??
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await?;
            let org = org.as_uuid();
            let copy = format!(
                "copy ({}) to stdout with (format csv, header)",
                BASELINE_SELECT.replace("?1", &format!("'{org}'"))
            );
            let mut stream = conn.copy_out_raw(&copy).await?;
            let mut newlines = 0_u64;
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                #[expect(
                    clippy::naive_bytecount,
                    reason = "a crate for one count is not worth it"
                )]
                let lines = chunk?.iter().filter(|b| **b == b'\n').count();
                newlines += lines as u64;
            }
            newlines.saturating_sub(1)
        }
    };
    Ok((rows, started.elapsed().as_secs_f64()))
}

/// The product's export of the Active tab: how many rows, in how many seconds.
/// `anon` is kept at the largest anonymous resident memory seen after a chunk: the memory
/// the process itself holds, apart from the database file SQLite maps.
async fn product_export(app: &App, who: &Principal, anon: &mut f64) -> Result<(u64, f64)> {
    let filter = ReportRequest::default().parse()?;
    let started = Instant::now();
    let mut export = app.report_export(who, &filter).await?;
    let mut out = std::io::sink();
    std::io::Write::write_all(&mut out, csv_header().as_bytes())?;
    let mut rows = 0;
    while let Some((text, count)) = export.next_csv().await? {
        std::io::Write::write_all(&mut out, text.as_bytes())?;
        rows += count;
        *anon = anon.max(status_mib("RssAnon:"));
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

async fn time_pages(app: &App, who: &Principal, request: &ReportRequest) -> Result<Percentiles> {
    let filter = request.parse()?;
    let mut samples = Vec::with_capacity(PAGES);
    for _ in 0..PAGES {
        let started = Instant::now();
        let page = app.report_page(who, &filter, None, 50).await?;
        samples.push(started.elapsed());
        anyhow::ensure!(!page.rows.is_empty(), "a report page has rows");
    }
    Ok(percentiles(samples))
}

/// Runs the export in a fresh process of this benchmark (`--export-on`), which prints its rows,
/// seconds, and resident memory before and at its peak.
fn exported_apart(url: &str) -> Result<(u64, f64, f64, f64, f64)> {
    let figures = crate::io::figures_apart(&["--export-on", url])?;
    let [rows, secs, before, peak, anon] = figures[..] else {
        anyhow::bail!("the export said {figures:?}");
    };
    Ok((rows as u64, secs, before, peak, anon))
}

/// `--export-on`: the Active tab of the org `bench` at `url`, exported through the use case.
pub async fn export_on(url: &str) -> Result<()> {
    let (app, who) = bench_org_at(url).await?;
    let before = rss_mib();
    reset_peak();
    let mut anon = 0.0_f64;
    let (rows, secs) = product_export(&app, &who, &mut anon).await?;
    println!("{rows} {secs} {before} {} {anon}", peak_mib());
    Ok(())
}

fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// A line of `/proc/self/status` in MiB (`VmRSS:`, `RssAnon:`…).
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

pub async fn measure(backend: Backend, users: usize, seed: u64, keep: bool) -> Result<Figures> {
    let name = backend.name();
    eprintln!("\n{name}:");
    let db = TestDb::new(backend)
        .await
        .context("a database to measure")?;
    let app = App::new(db.store.clone());
    let org = app.create_org("bench", "Benchmark District").await?;
    let who = Principal::system(org.id, "bench");
    {
        let mut rng = StdRng::seed_from_u64(seed);
        let rows = population::generate(&mut rng, org.id, users, &who.actor)?;
        crate::bulk_load(&db, org.id, &rows).await?;
    }
    app.top_up(&who, 1_000_000, "bench").await?;
    let mut courses = Vec::new();
    for i in 1..=COURSES {
        courses.push(app.create_course(&who, draft(i)).await?.id);
    }
    eprintln!("  enrolling everyone in {COURSES} courses (the tally's triggers running)…");
    let started = Instant::now();
    let enrolments = enrol_all(&db, org.id, &courses).await?;
    let setup_secs = started.elapsed().as_secs_f64();

    eprintln!("  the dashboard, {DASHBOARDS} times…");
    let mut samples = Vec::new();
    for _ in 0..DASHBOARDS {
        let started = Instant::now();
        let figures = app.dashboard(&who).await?;
        samples.push(started.elapsed());
        anyhow::ensure!(figures.courses.len() == COURSES, "every course has figures");
    }
    let dashboard = percentiles(samples);
    let grade = app
        .create_segment(
            &who,
            &NewSegment {
                name: "Grade 9".to_owned(),
                rule: "grade = 9".to_owned(),
            },
        )
        .await?;
    let started = Instant::now();
    app.segment_figures(&who, grade.record.id).await?;
    let segment_secs = started.elapsed().as_secs_f64();

    eprintln!("  report pages…");
    let active_page = time_pages(&app, &who, &ReportRequest::default()).await?;
    let archived_page = time_pages(
        &app,
        &who,
        &ReportRequest {
            tab: Some("archived".to_owned()),
            ..ReportRequest::default()
        },
    )
    .await?;
    let filtered_page = time_pages(
        &app,
        &who,
        &ReportRequest {
            course: Some(courses[2].to_string()),
            progress: Some("completed".to_owned()),
            ..ReportRequest::default()
        },
    )
    .await?;

    eprintln!("  export of the Active tab: the baseline…");
    let (baseline_rows, baseline_secs) = baseline_export(&db, org.id).await?;
    eprintln!("  export of the Active tab: through the use case, in a process of its own…");
    let (export_rows, export_secs, rss_before_mib, peak, anon_mib) = exported_apart(&db.url)?;
    anyhow::ensure!(
        export_rows == baseline_rows,
        "the export wrote {export_rows} rows, the baseline {baseline_rows}"
    );
    if keep {
        eprintln!("  kept the database: {}", db.url);
        std::mem::forget(db);
    }
    Ok(Figures {
        backend: name,
        users,
        enrolments,
        setup_secs,
        dashboard,
        segment_secs,
        active_page,
        archived_page,
        filtered_page,
        export_rows,
        export_rows_per_s: export_rows as f64 / export_secs,
        baseline_rows_per_s: baseline_rows as f64 / baseline_secs,
        peak_mib: peak,
        rss_before_mib,
        anon_mib,
    })
}

#[expect(clippy::too_many_lines, reason = "one table, row by row")]
pub fn print(figures: &[Figures]) {
    let Some(first) = figures.first() else {
        return;
    };
    println!();
    println!(
        "Rollcall reports benchmark: {} users, {} enrolments",
        first.users, first.enrolments
    );
    println!();
    let mut header = format!("| {:<48} |", "metric");
    let mut rule = format!("|{}|", "-".repeat(50));
    for f in figures {
        let _ = write!(header, " {:>10} |", f.backend);
        let _ = write!(rule, "{}|", "-".repeat(12));
    }
    header += " bar              |";
    rule += &"-".repeat(18);
    rule += "|";
    println!("{header}\n{rule}");
    let row = |label: &str, value: &dyn Fn(&Figures) -> String, bar: &str| {
        let mut line = format!("| {label:<48} |");
        for f in figures {
            let _ = write!(line, " {:>10} |", value(f));
        }
        let _ = write!(line, " {bar:<16} |");
        println!("{line}");
    };
    row(
        "enrolments written, tally kept (s)",
        &|f| format!("{:.1}", f.setup_secs),
        "",
    );
    row(
        "dashboard, all its queries, p50 (ms)",
        &|f| format!("{:.1}", f.dashboard.p50),
        "",
    );
    row(
        "dashboard, all its queries, max of 5 (ms)",
        &|f| format!("{:.1}", f.dashboard.p99),
        "< 2000",
    );
    row(
        "a segment's figures, live (ms)",
        &|f| format!("{:.0}", f.segment_secs * 1e3),
        "",
    );
    row(
        "report first page, Active, p95 (ms)",
        &|f| format!("{:.1}", f.active_page.p95),
        "< 200",
    );
    row(
        "report first page, Archived, p95 (ms)",
        &|f| format!("{:.1}", f.archived_page.p95),
        "< 200",
    );
    row(
        "report first page, course + completed, p95 (ms)",
        &|f| format!("{:.1}", f.filtered_page.p95),
        "< 200",
    );
    row(
        "export rows (Active tab)",
        &|f| f.export_rows.to_string(),
        "",
    );
    row(
        "export (rows/s)",
        &|f| format!("{:.0}", f.export_rows_per_s),
        ">= 200000",
    );
    row(
        "baseline export (rows/s)",
        &|f| format!("{:.0}", f.baseline_rows_per_s),
        "",
    );
    row(
        "export / baseline",
        &|f| format!("{:.2}", f.export_rows_per_s / f.baseline_rows_per_s),
        "",
    );
    row(
        "resident before the export (MiB)",
        &|f| format!("{:.0}", f.rss_before_mib),
        "",
    );
    row(
        "peak resident during the export (MiB)",
        &|f| format!("{:.0}", f.peak_mib),
        "< 300",
    );
    row(
        "  of which the process's own, at most (MiB)",
        &|f| format!("{:.0}", f.anon_mib),
        "",
    );
    println!();
    for f in figures {
        let pass = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "{} bars: dashboard < 2 s {}, first page < 200 ms {}, export >= 200,000 rows/s {}, \
             peak < 300 MiB {}",
            f.backend,
            pass(f.dashboard.p99 < 2000.0),
            pass(
                f.active_page
                    .p95
                    .max(f.archived_page.p95)
                    .max(f.filtered_page.p95)
                    < 200.0
            ),
            pass(f.export_rows_per_s >= 200_000.0),
            pass(f.peak_mib < 300.0),
        );
    }
}
