//! An import killed (SIGKILL) while it writes leaves the database as it was, and no run is
//! recorded as applied: a run is one transaction, on both backends.
#![allow(clippy::unwrap_used, reason = "tests: a failed step is a failed test")]

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_app::{App, ListUsers, NewSource, Principal};
use rollcall_domain::provisioning::MissingPolicy;
use rollcall_testkit::{Backend, TestDb};
use sqlx::Connection as _;

rollcall_testkit::backend_tests!(an_import_killed_while_it_writes_changes_nothing);

/// Whether another connection holds a write transaction open right now.
async fn writing(db: &TestDb) -> bool {
    match db.backend {
        Backend::Sqlite => {
            let url = format!("{}?mode=rw", db.url);
            let Ok(mut conn) = sqlx::SqliteConnection::connect(&url).await else {
                return false;
            };
            // No waiting: a writer holding the lock makes this fail at once.
            let _ = sqlx::query("pragma busy_timeout = 0")
                .execute(&mut conn)
                .await;
            let locked = sqlx::query("begin immediate")
                .execute(&mut conn)
                .await
                .is_err();
            if !locked {
                let _ = sqlx::query("rollback").execute(&mut conn).await;
            }
            locked
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let (count,): (i64,) = sqlx::query_as(
                "select count(*) from pg_stat_activity where datname = current_database() \
                 and backend_xid is not null and pid <> pg_backend_pid()",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            count > 0
        }
    }
}

/// The user table's indexes, by name (a large first load makes SQLite's again after its rows,
/// inside its transaction).
async fn user_indexes(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "select name from sqlite_schema where type = 'index' and tbl_name = 'user_account' \
             order by name"
        }
        Backend::Postgres => {
            "select indexname::text from pg_indexes where tablename = 'user_account' order by 1"
        }
    };
    match db.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
        }
    }
}

async fn an_import_killed_while_it_writes_changes_nothing(db: TestDb) {
    let app = App::new(db.store.clone());
    let org = app.create_org("northfield", "Northfield").await.unwrap();
    let admin = Principal::system(org.id, "test");
    let source = NewSource {
        name: "sis".to_owned(),
        format: "plain_csv".to_owned(),
        mode: "full".to_owned(),
        policy: MissingPolicy::default(),
    };
    app.add_source(&admin, source).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut text = "external_id,username,given_name,family_name,role\n".to_owned();
    for i in 0..60_000 {
        let _ = writeln!(text, "S{i},s{i},Sam,Student{i},student");
    }
    std::fs::write(&file, text).unwrap();
    let indexes = user_indexes(&db).await;
    assert!(indexes.len() >= 5, "{indexes:?}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["import", "--org", "northfield", "--source", "sis"])
        .arg(&file)
        .env("DATABASE_URL", &db.url)
        .env("ROLLCALL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once its write transaction has been open for a few polls in a row.
    let started = Instant::now();
    let mut seen = 0;
    while seen < 3 {
        assert!(
            started.elapsed() < Duration::from_mins(2),
            "the import never held a write open"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed mid-write"
        );
        seen = if writing(&db).await { seen + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = db.another_store().await;
    let app = App::new(store);
    let everyone = ListUsers {
        status: Some("all".to_owned()),
        ..ListUsers::default()
    };
    assert_eq!(app.count_users(&admin, &everyone, 100).await.unwrap(), 0);
    assert!(
        app.runs(&admin, None, 10).await.unwrap().is_empty(),
        "no run recorded"
    );
    assert_eq!(
        user_indexes(&db).await,
        indexes,
        "every index is still there"
    );
    // And the source takes the same file afterwards, whole.
    let request = rollcall_app::ImportRequest {
        source: "sis".to_owned(),
        file_name: "big.csv".to_owned(),
        ..rollcall_app::ImportRequest::default()
    };
    let bytes = std::fs::read(&file).unwrap();
    let outcome = app.import(&admin, &request, bytes.into()).await.unwrap();
    assert!(matches!(
        outcome,
        rollcall_app::ImportOutcome::Applied { .. }
    ));
    assert_eq!(
        app.count_users(&admin, &everyone, 100_000).await.unwrap(),
        60_000
    );
}
