//! `--learning`: N users, then a course that enrols everyone (each active person with an
//! address queued a notice, the others' kept as suppressed), timed through the use case beside
//! the baseline: the same rows written by two plain `insert … select` statements in one
//! transaction, straight on the database (rusqlite on SQLite, one `PgConnection` on
//! PostgreSQL), for a second course of the same org. Then the learner's "my courses" and an
//! admin's training history of a person, timed for random people, beside one plain query of
//! the same enrolments.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rollcall_app::{App, Principal};
use rollcall_domain::learning::{Completion, CourseDraft, LessonDraft};
use rollcall_domain::{CourseId, OrgId, User};
use rollcall_testkit::{Backend, TestDb};
use sqlx::Connection as _;

use crate::{Percentiles, percentiles, population};

/// People whose pages are timed.
const SAMPLES: usize = 1_000;

pub struct Figures {
    pub backend: &'static str,
    pub users: usize,
    pub enrolled: u64,
    pub everyone_secs: f64,
    pub baseline_secs: f64,
    pub my_courses: Percentiles,
    pub my_courses_baseline: Percentiles,
    pub history: Percentiles,
}

fn draft(title: &str) -> CourseDraft {
    CourseDraft {
        title: title.to_owned(),
        description: "For everyone.".to_owned(),
        lessons: (1..=3)
            .map(|i| LessonDraft {
                id: None,
                title: format!("Lesson {i}"),
                body: "Read this.".to_owned(),
            })
            .collect(),
        completion: Completion::MarkComplete,
        credit_cost: 1,
    }
}

/// The enrolment and notice statements of the baseline, with `?` for values (rewritten as
/// `$n` for PostgreSQL): course, org; then for the notices course-less values.
fn baseline_sql(backend: Backend) -> (String, String) {
    let id = match backend {
        Backend::Sqlite => "unhex(? || substr(hex(u.user_id), 17))",
        Backend::Postgres => {
            "cast(cast(? as text) || substr(replace(cast(u.user_id as text), '-', ''), 17) as uuid)"
        }
    };
    let taken_in = "from user_account u where u.org_id = ? and u.status in ('active', 'inactive')";
    let enrol = format!(
        "insert into enrolment (org_id, course_id, user_id, method, enrolled_by, enrolled_at) \
         select u.org_id, ?, u.user_id, 'everyone', 'bench', ? {taken_in}"
    );
    let notices = format!(
        "insert into outbox_message (org_id, message_id, user_id, to_address, subject, body, kind, \
         state, reason, attempts, next_attempt_at, created_at) select u.org_id, {id}, u.user_id, \
         coalesce(u.email, ''), 'You are enrolled', 'Hello ' || u.given_name, 'enrolment', \
         case when u.email is null or u.status = 'inactive' then 'suppressed' else 'queued' end, \
         case when u.status = 'inactive' then 'inactive' when u.email is null then 'no address' \
         end, 0, ?, ? {taken_in}"
    );
    match backend {
        Backend::Sqlite => (enrol, notices),
        Backend::Postgres => (numbered(&enrol), numbered(&notices)),
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`…
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            let _ = write!(out, "${n}");
        } else {
            out.push(c);
        }
    }
    out
}

/// The baseline: everyone enrolled in `course`, and their notices, in one transaction.
async fn baseline(db: &TestDb, org: OrgId, course: CourseId) -> Result<f64> {
    let (enrol, notices) = baseline_sql(db.backend);
    let now = chrono::Utc::now().timestamp_micros();
    let prefix = uuid::Uuid::now_v7().simple().to_string()[..16].to_owned();
    let started = Instant::now();
    match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            let (org, course) = (org.as_uuid(), course.as_uuid());
            tokio::task::spawn_blocking(move || -> Result<()> {
                let mut conn = rusqlite::Connection::open(path)?;
                conn.busy_timeout(Duration::from_secs(30))?;
                // The product's pragmas.
                conn.pragma_update(None, "synchronous", "normal")?;
                conn.pragma_update(None, "cache_size", -131_072)?;
                conn.pragma_update(None, "mmap_size", 1_073_741_824)?;
                conn.pragma_update(None, "temp_store", "memory")?;
                let tx = conn.transaction()?;
                tx.execute(
                    &enrol,
                    rusqlite::params![&course.as_bytes()[..], now, &org.as_bytes()[..]],
                )?;
                tx.execute(
                    &notices,
                    rusqlite::params![prefix, now, now, &org.as_bytes()[..]],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await??;
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await?;
            let mut tx = conn.begin().await?;
            sqlx::query(&enrol)
                .bind(course.as_uuid())
                .bind(now)
                .bind(org.as_uuid())
                .execute(&mut *tx)
                .await?;
            sqlx::query(&notices)
                .bind(prefix)
                .bind(now)
                .bind(now)
                .bind(org.as_uuid())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// One plain query of a person's enrolments with their courses' titles, timed for `people`.
async fn plain_my_courses(db: &TestDb, org: OrgId, people: &[User]) -> Result<Vec<Duration>> {
    let sql = "select e.course_id, e.started_at, e.completed_at, e.lessons_done, c.title \
               from enrolment e join course c on c.org_id = e.org_id and c.course_id = e.course_id \
               where e.org_id = ? and e.user_id = ?";
    let mut samples = Vec::with_capacity(people.len());
    match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            let ids: Vec<uuid::Uuid> = people.iter().map(|u| u.id().as_uuid()).collect();
            let org = org.as_uuid();
            samples = tokio::task::spawn_blocking(move || -> Result<Vec<Duration>> {
                let conn = rusqlite::Connection::open(path)?;
                let mut statement = conn.prepare(sql)?;
                let mut samples = Vec::with_capacity(ids.len());
                for id in ids {
                    let started = Instant::now();
                    let mut rows = statement
                        .query(rusqlite::params![&org.as_bytes()[..], &id.as_bytes()[..]])?;
                    while let Some(row) = rows.next()? {
                        let _: String = row.get(4)?;
                    }
                    samples.push(started.elapsed());
                }
                Ok(samples)
            })
            .await??;
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await?;
            let sql = numbered(sql);
            for user in people {
                let started = Instant::now();
                sqlx::query(&sql)
                    .bind(org.as_uuid())
                    .bind(user.id().as_uuid())
                    .fetch_all(&mut conn)
                    .await?;
                samples.push(started.elapsed());
            }
        }
    }
    Ok(samples)
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
    let mut rng = StdRng::seed_from_u64(seed);
    let rows = population::generate(&mut rng, org.id, users, &who.actor)?;
    crate::bulk_load(&db, org.id, &rows).await?;
    let people: Vec<User> = rows.into_iter().map(|(user, _)| user).collect();

    let plain = app.create_course(&who, draft("Baseline course")).await?;
    eprintln!("  baseline: everyone enrolled by two plain statements…");
    let baseline_secs = baseline(&db, org.id, plain.id).await?;
    let course = app.create_course(&who, draft("Fire safety")).await?;
    eprintln!("  enrolling everyone through the use case…");
    let started = Instant::now();
    let done = app.enrol_everyone(&who, course.id).await?;
    let everyone_secs = started.elapsed().as_secs_f64();

    let active: Vec<User> = people.into_iter().filter(User::may_sign_in).collect();
    let sample: Vec<User> = (0..SAMPLES.min(active.len()))
        .map(|_| active[rng.gen_range(0..active.len())].clone())
        .collect();
    eprintln!("  my courses for {} people…", sample.len());
    let mut mine = Vec::with_capacity(sample.len());
    for user in &sample {
        let me = Principal::user(user);
        let started = Instant::now();
        let courses = app.my_courses(&me).await?;
        mine.push(started.elapsed());
        anyhow::ensure!(courses.len() == 2, "each person has both courses");
    }
    let plain_mine = plain_my_courses(&db, org.id, &sample).await?;
    eprintln!("  training histories for {} people…", sample.len());
    let mut history = Vec::with_capacity(sample.len());
    for user in &sample {
        let started = Instant::now();
        app.training_history(&who, user.id()).await?;
        history.push(started.elapsed());
    }
    if keep {
        eprintln!("  kept the database: {}", db.url);
        std::mem::forget(db);
    }
    Ok(Figures {
        backend: name,
        users,
        enrolled: done.enrolled,
        everyone_secs,
        baseline_secs,
        my_courses: percentiles(mine),
        my_courses_baseline: percentiles(plain_mine),
        history: percentiles(history),
    })
}

pub fn print(figures: &[Figures]) {
    let Some(first) = figures.first() else {
        return;
    };
    println!();
    println!(
        "Rollcall learning benchmark: {} users, a course enrolling everyone, {SAMPLES} people's pages",
        first.users
    );
    println!();
    let mut header = format!("| {:<36} |", "metric");
    let mut rule = format!("|{}|", "-".repeat(38));
    for f in figures {
        let _ = write!(header, " {:>10} |", f.backend);
        let _ = write!(rule, "{}|", "-".repeat(12));
    }
    header += " bar (1,000,000 users) |";
    rule += &"-".repeat(23);
    rule += "|";
    println!("{header}\n{rule}");
    let row = |label: &str, value: &dyn Fn(&Figures) -> String, bar: &str| {
        let mut line = format!("| {label:<36} |");
        for f in figures {
            let _ = write!(line, " {:>10} |", value(f));
        }
        let _ = write!(line, " {bar:<21} |");
        println!("{line}");
    };
    row("people enrolled", &|f| f.enrolled.to_string(), "");
    row(
        "baseline: plain statements (s)",
        &|f| format!("{:.2}", f.baseline_secs),
        "",
    );
    row(
        "enrol everyone (s)",
        &|f| format!("{:.2}", f.everyone_secs),
        "< 10 on SQLite",
    );
    row(
        "enrol everyone / baseline (time)",
        &|f| format!("{:.2}", f.everyone_secs / f.baseline_secs),
        "",
    );
    row(
        "my courses p50 (ms)",
        &|f| format!("{:.2}", f.my_courses.p50),
        "",
    );
    row(
        "my courses p95 (ms)",
        &|f| format!("{:.2}", f.my_courses.p95),
        "< 20",
    );
    row(
        "baseline: one query p95 (ms)",
        &|f| format!("{:.2}", f.my_courses_baseline.p95),
        "",
    );
    row(
        "training history p50 (ms)",
        &|f| format!("{:.2}", f.history.p50),
        "",
    );
    row(
        "training history p95 (ms)",
        &|f| format!("{:.2}", f.history.p95),
        "",
    );
    println!();
    for f in figures {
        let pass = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "{} bars ({} users{}): enrol everyone < 10 s {}, my courses p95 < 20 ms {}",
            f.backend,
            f.users,
            if f.users < 1_000_000 {
                "; the bars are set at 1,000,000"
            } else {
                ""
            },
            if f.backend == "sqlite" {
                pass(f.everyone_secs < 10.0)
            } else {
                "(SQLite's bar)"
            },
            pass(f.my_courses.p95 < 20.0),
        );
    }
}
