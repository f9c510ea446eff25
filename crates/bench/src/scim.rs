//! SCIM over HTTP as identity providers drive it: `--scim-users` creates, as many PATCHes
//! setting `active` to false, then as many filtered GETs (`userName eq`), each phase from 16
//! concurrent clients over loopback against the real router.
//!
//! The baseline does the same three kinds of request, over the same HTTP stack (axum on
//! hyper, one loopback client pool), against the plainest server that does the same writes:
//! one reused prepared statement per request on a one-table schema (the document, the name's
//! key, the active flag), the product's pragmas on SQLite (one writer connection, WAL,
//! `synchronous = normal`), a pool of 16 connections on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use rollcall_app::{App, NewConnection, Principal};
use rollcall_testkit::{Backend, TestDb};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{Percentiles, percentiles};

/// Concurrent clients.
pub const CLIENTS: usize = 16;

/// One phase's figures.
#[derive(Debug, Default, Clone, Copy)]
pub struct Phase {
    pub per_s: f64,
    pub latency: Percentiles,
}

#[derive(Debug, Default)]
pub struct Figures {
    pub backend: &'static str,
    pub operations: usize,
    pub create: Phase,
    pub deactivate: Phase,
    pub get: Phase,
    pub base_create: Phase,
    pub base_deactivate: Phase,
    pub base_get: Phase,
}

/// Runs `n` requests from `CLIENTS` clients; `request(i)` sends the i-th and checks it.
async fn phase<F, Fut>(n: usize, request: F) -> Result<Phase>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let request = Arc::new(request);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let next = next.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(times);
                }
                let at = Instant::now();
                request(i).await?;
                times.push(at.elapsed());
            }
        }));
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(n);
    for task in tasks {
        samples.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Phase {
        per_s: n as f64 / elapsed,
        latency: percentiles(samples),
    })
}

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("person{i}@bench.example"),
        "externalId": format!("ext-{i}"),
        "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{i}")},
        "emails": [{"value": format!("person{i}@bench.example"), "type": "work", "primary": true}],
        "active": true,
    })
}

fn deactivation() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}],
    })
}

fn filter(i: usize) -> String {
    format!("/Users?filter=userName%20eq%20%22person{i}%40bench.example%22")
}

/// The three phases against a server at `base` (`…/scim/v2` or the baseline's root).
async fn drive(base: String, token: Option<String>, n: usize) -> Result<[Phase; 3]> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()?;
    let ids = Arc::new(std::sync::Mutex::new(vec![String::new(); n]));
    let send = {
        let token = token.clone();
        move |request: reqwest::RequestBuilder| match &token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    let (c, b, s, ids2) = (client.clone(), base.clone(), send.clone(), ids.clone());
    let create = phase(n, move |i| {
        let request = s(c.post(format!("{b}/Users")))
            .header("content-type", "application/scim+json")
            .body(user(i).to_string());
        let ids = ids2.clone();
        async move {
            let response = request.send().await?;
            if response.status() != StatusCode::CREATED {
                return Err(anyhow!("create answered {}", response.status()));
            }
            let body: Value = response.json().await?;
            let id = body["id"].as_str().context("an id")?.to_owned();
            ids.lock().map_err(|_| anyhow!("poisoned"))?[i] = id;
            Ok(())
        }
    })
    .await?;
    let ids: Arc<Vec<String>> = Arc::new(ids.lock().map_err(|_| anyhow!("poisoned"))?.clone());
    let (c, b, s) = (client.clone(), base.clone(), send.clone());
    let deactivate = phase(n, move |i| {
        let request = s(c.patch(format!("{b}/Users/{}", ids[i])))
            .header("content-type", "application/scim+json")
            .body(deactivation().to_string());
        async move {
            let response = request.send().await?;
            if !response.status().is_success() {
                return Err(anyhow!("PATCH answered {}", response.status()));
            }
            response.bytes().await?;
            Ok(())
        }
    })
    .await?;
    let (c, b, s) = (client.clone(), base.clone(), send.clone());
    let get = phase(n, move |i| {
        let request = s(c.get(format!("{b}{}", filter(i))));
        async move {
            let response = request.send().await?;
            if response.status() != StatusCode::OK {
                return Err(anyhow!("GET answered {}", response.status()));
            }
            let body: Value = response.json().await?;
            if body["totalResults"] != 1 {
                return Err(anyhow!("GET found {}", body["totalResults"]));
            }
            Ok(())
        }
    })
    .await?;
    Ok([create, deactivate, get])
}

async fn serve(router: axum::Router) -> Result<(String, oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((address, stop))
}

/// The baseline's database: a lean table in a database of its own.
enum Plain {
    Sqlite {
        writer: sqlx::SqlitePool,
        reader: sqlx::SqlitePool,
    },
    Postgres(sqlx::PgPool),
}

async fn plain(db: &TestDb) -> Result<Plain> {
    const TABLE: &str = "create table plain_user (id text primary key, name_key text not null \
        unique, active integer not null, document text not null)";
    match db.backend {
        Backend::Sqlite => {
            use sqlx::sqlite::{
                SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
            };
            let url = db.url.replace("rollcall.db", "plain.db");
            let options = url
                .parse::<SqliteConnectOptions>()?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-131072");
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            sqlx::query(TABLE).execute(&writer).await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.read_only(true))
                .await?;
            Ok(Plain::Sqlite { writer, reader })
        }
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(CLIENTS as u32)
                .connect(&db.url)
                .await?;
            sqlx::query(TABLE).execute(&pool).await?;
            Ok(Plain::Postgres(pool))
        }
    }
}

type Shared = Arc<Plain>;

async fn plain_create(State(db): State<Shared>, body: String) -> (StatusCode, String) {
    let Ok(doc) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, String::new());
    };
    let id = uuid::Uuid::now_v7().to_string();
    let key = doc["userName"].as_str().unwrap_or("").to_lowercase();
    let sql = "insert into plain_user (id, name_key, active, document) values ($1, $2, 1, $3)";
    let done = match &*db {
        Plain::Sqlite { writer, .. } => sqlx::query(sql)
            .bind(&id)
            .bind(&key)
            .bind(&body)
            .execute(writer)
            .await
            .map(drop),
        Plain::Postgres(pool) => sqlx::query(sql)
            .bind(&id)
            .bind(&key)
            .bind(&body)
            .execute(pool)
            .await
            .map(drop),
    };
    match done {
        Ok(()) => (StatusCode::CREATED, json!({"id": id}).to_string()),
        Err(_) => (StatusCode::CONFLICT, String::new()),
    }
}

async fn plain_deactivate(State(db): State<Shared>, Path(id): Path<String>) -> StatusCode {
    let sql = "update plain_user set active = 0 where id = $1";
    let touched = match &*db {
        Plain::Sqlite { writer, .. } => sqlx::query(sql)
            .bind(&id)
            .execute(writer)
            .await
            .map(|r| r.rows_affected()),
        Plain::Postgres(pool) => sqlx::query(sql)
            .bind(&id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    };
    match touched {
        Ok(1) => StatusCode::NO_CONTENT,
        _ => StatusCode::NOT_FOUND,
    }
}

async fn plain_get(
    State(db): State<Shared>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> (StatusCode, String) {
    // `userName eq "x"`: the value between the quotes.
    let filter = query.get("filter").cloned().unwrap_or_default();
    let key = filter.split('"').nth(1).unwrap_or("").to_lowercase();
    let sql = "select document from plain_user where name_key = $1";
    let found: Result<Vec<(String,)>, _> = match &*db {
        Plain::Sqlite { reader, .. } => sqlx::query_as(sql).bind(&key).fetch_all(reader).await,
        Plain::Postgres(pool) => sqlx::query_as(sql).bind(&key).fetch_all(pool).await,
    };
    match found {
        Ok(rows) => (
            StatusCode::OK,
            json!({"totalResults": rows.len(), "Resources": rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>()}).to_string(),
        ),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
    }
}

pub async fn measure(backend: Backend, n: usize) -> Result<Figures> {
    let db = TestDb::new(backend)
        .await
        .context("PostgreSQL is skipped (ROLLCALL_SKIP_POSTGRES=1)")?;
    let app = App::new(db.store.clone());
    let org = app.create_org("bench", "Bench").await?;
    let who = Principal::system(org.id, "bench");
    // A connection allowed far more than the benchmark sends, so the allowance never answers.
    let (_, token) = app
        .add_scim_connection(
            &who,
            NewConnection {
                name: "bench-idp".into(),
                requests_per_minute: Some(1_000_000),
                ..NewConnection::default()
            },
        )
        .await?;
    let server = rollcall_web::Application::bind(
        app.clone(),
        "127.0.0.1:0",
        rollcall_web::Settings::default(),
    )
    .await?;
    let base = format!("http://127.0.0.1:{}/scim/v2", server.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let [create, deactivate, lookup] = drive(base, Some(token), n).await?;
    let _ = stop.send(());

    let plain = Arc::new(plain(&db).await?);
    let router = axum::Router::new()
        .route("/Users", get(plain_get).post(plain_create))
        .route("/Users/{id}", patch(plain_deactivate))
        .with_state(plain);
    let (address, stop) = serve(router).await?;
    let [base_create, base_deactivate, base_get] = drive(address, None, n).await?;
    let _ = stop.send(());
    Ok(Figures {
        backend: backend.name(),
        operations: n,
        create,
        deactivate,
        get: lookup,
        base_create,
        base_deactivate,
        base_get,
    })
}

pub fn print(figures: &[Figures]) {
    println!();
    println!(
        "SCIM over HTTP on loopback, {CLIENTS} concurrent clients (bars on SQLite: >= 2,000 operations/s each, p99 < 50 ms)"
    );
    println!(
        "| backend | operation | requests | ops/s | p50 ms | p99 ms | baseline ops/s | baseline p99 ms | ratio | bar |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        for (what, ours, base) in [
            ("create (POST /Users)", f.create, f.base_create),
            (
                "deactivate (PATCH active=false)",
                f.deactivate,
                f.base_deactivate,
            ),
            ("filtered GET (userName eq)", f.get, f.base_get),
        ] {
            let bar = if f.backend == "sqlite" {
                if ours.per_s >= 2000.0 && ours.latency.p99 < 50.0 {
                    "pass"
                } else {
                    "FAIL"
                }
            } else {
                "-"
            };
            println!(
                "| {} | {what} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {bar} |",
                f.backend,
                f.operations,
                ours.per_s,
                ours.latency.p50,
                ours.latency.p99,
                base.per_s,
                base.latency.p99,
                ours.per_s / base.per_s,
            );
        }
    }
}
