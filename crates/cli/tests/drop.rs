//! Drop folders: files delivered into a source's folder are imported once by `rollcall serve`
//! and moved aside with their outcome, even when several servers watch one database.
#![allow(clippy::unwrap_used, reason = "tests: a failed step is a failed test")]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_app::{App, NewSource, Principal};
use rollcall_domain::provisioning::MissingPolicy;
use rollcall_testkit::{Backend, TestDb};

rollcall_testkit::backend_tests!(dropped_files_are_imported_once_and_moved_aside);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["serve", "--bind", "127.0.0.1:0", "--drop-interval", "1"])
        .env("DATABASE_URL", url)
        .env("ROLLCALL_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("is listening") {
                let _ = said.send(());
            }
        }
    });
    heard
        .recv_timeout(Duration::from_secs(30))
        .expect("the server starts");
    Server(child)
}

/// The names in `folder/processed`, once `count` are there.
fn processed(folder: &Path, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let mut names: Vec<String> = std::fs::read_dir(folder.join("processed"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if names.len() >= count {
            names.sort();
            return names;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "only {names:?} processed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn dropped_files_are_imported_once_and_moved_aside(db: TestDb) {
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
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().display().to_string();
    let relative = app.set_drop_folder(&admin, "sis", Some("inbox")).await;
    assert!(relative.is_err(), "a relative folder is refused");
    app.set_drop_folder(&admin, "sis", Some(&path))
        .await
        .unwrap();
    // SQLite admits one server per file; PostgreSQL any number: two watch the folder here.
    let servers: Vec<Server> = match db.backend {
        Backend::Sqlite => vec![serve(&db.url)],
        Backend::Postgres => vec![serve(&db.url), serve(&db.url)],
    };
    // An upload in progress is left alone; a complete file is imported.
    std::fs::write(folder.path().join("nightly.csv.part"), "external_id,").unwrap();
    std::fs::write(
        folder.path().join("nightly.csv"),
        "external_id,username,given_name,family_name\nS1,ada,Ada,Lovelace\nS2,bo,Bo,Bell\n",
    )
    .unwrap();
    let done = processed(folder.path(), 1);
    assert!(done[0].ends_with("-applied-nightly.csv"), "{done:?}");
    // A bad file is refused, with its problems beside it.
    std::fs::write(
        folder.path().join("broken.csv"),
        "external_id,username,given_name,family_name,role\nS3,cy,Cy,Cole,wizard\n",
    )
    .unwrap();
    let done = processed(folder.path(), 3);
    let problems = done
        .iter()
        .find(|n| n.ends_with("-refused-broken.csv.problems.txt"))
        .unwrap_or_else(|| panic!("{done:?}"));
    let said = std::fs::read_to_string(folder.path().join("processed").join(problems)).unwrap();
    assert!(
        said.starts_with("line 2, column role (\"wizard\")"),
        "{said}"
    );
    // Give the other server a few scans to import anything twice, then count.
    std::thread::sleep(Duration::from_secs(3));
    drop(servers);
    assert!(folder.path().join("nightly.csv.part").exists());
    let runs = app.runs(&admin, Some("sis"), 10).await.unwrap();
    let outcomes: Vec<&str> = runs.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["refused", "applied"], "each file once");
    assert_eq!(runs[1].actor_label, "drop folder of sis");
}
