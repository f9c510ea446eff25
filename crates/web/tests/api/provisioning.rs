//! Provisioning through the API: sources, imports (preview, apply, refuse, hold), approval with
//! exclusions, rejection, undo and the org's safeguard.

use std::fmt::Write as _;

use rollcall_testkit::TestDb;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app, spawn_app_with};

const HEADER: &str = "external_id,username,given_name,family_name,role\n";

/// Students `from..to` of the roster file: S{i}, s{i}.
fn students(from: usize, to: usize) -> String {
    let mut file = HEADER.to_owned();
    for i in from..to {
        let _ = writeln!(file, "S{i},s{i},Sam,Student{i},student");
    }
    file
}

impl TestApp {
    async fn upload(&self, source: &str, query: &str, file: String) -> Reply {
        let url = format!("{}/api/v1/sources/{source}/imports?{query}", self.address);
        self.send(
            self.client
                .post(url)
                .bearer_auth(&self.token)
                .header("content-type", "text/csv")
                .body(file),
        )
        .await
    }

    async fn status_of(&self, username: &str) -> String {
        let reply = self
            .get(&format!("/api/v1/users?status=all&q={username}&limit=5"))
            .await;
        let found = reply.body["users"]
            .as_array()
            .and_then(|users| users.iter().find(|u| u["username"] == username));
        match found {
            Some(user) => user["status"].as_str().unwrap_or_default().to_owned(),
            None => "archived or missing".to_owned(),
        }
    }
}

pub async fn sources_are_managed_and_files_imported_through_the_api(db: TestDb) {
    let t = spawn_app(db).await;
    let created = t.post("/api/v1/sources", &json!({"name": "sis"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.headers["location"], "/api/v1/sources/sis");
    assert_eq!(created.body["missing"]["student"], "archive");
    assert_eq!(created.body["missing"]["teacher"], "keep");
    let bad = t
        .post(
            "/api/v1/sources",
            &json!({"name": "hr", "missing": {"student": "expel"}}),
        )
        .await;
    bad.assert_problem(422, Some("missing.student"));
    let twice = t.post("/api/v1/sources", &json!({"name": "sis"})).await;
    twice.assert_problem(409, Some("name"));
    // The rule that checks a name speaks of a source; the body's field is `name`.
    t.post("/api/v1/sources", &json!({"name": ""}))
        .await
        .assert_problem(422, Some("name"));
    // An array is not an object, even one whose items would fill the fields in order.
    t.post("/api/v1/sources", &json!(["hr", null, null, null]))
        .await
        .assert_problem(422, Some("."));
    t.patch("/api/v1/sources/sis", &json!([true]), None)
        .await
        .assert_problem(422, Some("."));
    assert_eq!(t.get("/api/v1/sources/sis").await.body["paused"], false);
    t.get("/api/v1/runs?limit=0")
        .await
        .assert_problem(422, Some("limit"));
    let listed = t.get("/api/v1/sources").await;
    assert_eq!(listed.body["sources"].as_array().unwrap().len(), 1);
    assert_eq!(t.get("/api/v1/sources/nope").await.status, 404);

    let preview = t.upload("sis", "dry_run=true", students(0, 3)).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["counts"]["created"], 3);
    assert_eq!(preview.body["items"][0]["what"], "create");
    assert_eq!(t.logins("").await, ["root"], "a preview writes nothing");

    let applied = t.upload("sis", "file_name=first.csv", students(0, 3)).await;
    assert_eq!(applied.status, 201, "{}", applied.body);
    assert_eq!(applied.body["outcome"], "applied");
    assert_eq!(applied.body["file_name"], "first.csv");
    let location = applied.headers["location"].to_str().unwrap().to_owned();
    let shown = t.get(&location).await;
    assert_eq!(shown.body["report"].as_array().unwrap().len(), 3);
    assert_eq!(t.status_of("s2").await, "active");
    // Read back as one run, the lines of the people it created name them by id.
    let s2 = t.get("/api/v1/users?q=s2&limit=5").await.body["users"][0]["id"].clone();
    let line = &shown.body["report"][2];
    assert_eq!(
        (&line["external_id"], &line["user_id"]),
        (&json!("S2"), &s2)
    );

    let bad_file = format!("{HEADER}S9,s9,Sam,Student9,wizard\nS10,s10,,Student10,student\n");
    let refused = t.upload("sis", "", bad_file).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    assert_eq!(refused.body["type"], "urn:rollcall:problem:refused-file");
    let rows = refused.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "every bad row: {rows:?}");
    assert_eq!(rows[0]["line"], 2);
    assert_eq!(rows[0]["column"], "role");
    assert_eq!(rows[0]["value"], "wizard");
    assert_eq!(rows[1]["line"], 3);
    assert_eq!(t.status_of("s9").await, "archived or missing");

    let paused = t
        .patch("/api/v1/sources/sis", &json!({"paused": true}), None)
        .await;
    assert_eq!(paused.body["paused"], true);
    let refused = t.upload("sis", "", students(0, 1)).await;
    refused.assert_problem(409, Some("source"));
    assert_eq!(t.status_of("s2").await, "active", "nothing archived");
    t.patch("/api/v1/sources/sis", &json!({"paused": false}), None)
        .await;
    // This server has no drop root: only its operator names folders.
    t.patch("/api/v1/sources/sis", &json!({"drop_folder": "sis"}), None)
        .await
        .assert_problem(409, Some("drop_folder"));
    let stopped = t
        .patch("/api/v1/sources/sis", &json!({"drop_folder": null}), None)
        .await;
    assert_eq!(stopped.body["drop_folder"], Value::Null);

    let runs = t.get("/api/v1/runs?source=sis").await;
    let outcomes: Vec<&str> = runs.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["refused", "applied"]);
    assert!(
        runs.body["runs"][0].get("report").is_none(),
        "lists leave reports out"
    );
    assert_eq!(t.get("/api/v1/runs/not-a-run").await.status, 404);
    t.get("/api/v1/runs?limit=0")
        .await
        .assert_problem(422, Some("limit"));
    assert!(
        shown.body.get("classes").is_none(),
        "a plain file's run changes no class"
    );
}

/// A OneRoster run's record says what it did to classes (the sample's one class, made) and what
/// of the package it did not read.
pub async fn a_oneroster_runs_record_says_what_it_did_to_classes(db: TestDb) {
    let t = spawn_app(db).await;
    let added = t
        .post(
            "/api/v1/sources",
            &json!({"name": "district", "format": "oneroster"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    // The sample, with a courses.csv Rollcall does not read.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/formats/oneroster-1.1-sample");
    let folder = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&sample).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("file.courses,absent", "file.courses,bulk");
        std::fs::write(folder.path().join(path.file_name().unwrap()), text).unwrap();
    }
    std::fs::write(
        folder.path().join("courses.csv"),
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId\n\
         course-1,,,,Maths,M,,school-hs\n",
    )
    .unwrap();
    let package = rollcall_import::oneroster::pack_folder(folder.path()).unwrap();
    let url = format!("{}/api/v1/sources/district/imports", t.address);
    let applied = t
        .send(
            t.client
                .post(url)
                .bearer_auth(&t.token)
                .header("content-type", "application/zip")
                .body(package),
        )
        .await;
    assert_eq!(applied.status, 201, "{}", applied.body);
    let location = applied.headers["location"].to_str().unwrap().to_owned();
    let run = t.get(&location).await.body;
    let notes = run["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("courses.csv: not read")),
        "the run keeps what was not read: {notes:?}"
    );
    let classes = &run["classes"];
    assert_eq!(classes["created"], 1, "{classes}");
    assert!(classes["joined"].as_u64().unwrap() > 0, "{classes}");
    assert_eq!(classes["deleted"], 0, "{classes}");
}

pub async fn a_held_run_is_approved_with_exclusions_rejected_and_undone(db: TestDb) {
    let t = spawn_app(db).await;
    t.post("/api/v1/sources", &json!({"name": "sis"})).await;
    let settings = t
        .patch(
            "/api/v1/provisioning-settings",
            &json!({"safeguard_floor": 2}),
            None,
        )
        .await;
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert_eq!(
        settings.body,
        json!({"safeguard_percent": 10, "safeguard_floor": 2, "apply_rest_when_held": false})
    );
    t.patch(
        "/api/v1/provisioning-settings",
        &json!({"safeguard_percent": 200}),
        None,
    )
    .await
    .assert_problem(422, Some("safeguard_percent"));
    t.upload("sis", "", students(0, 6)).await;

    // Three of six gone at once: held.
    let held = t.upload("sis", "file_name=short.csv", students(0, 3)).await;
    assert_eq!(held.status, 202, "{}", held.body);
    assert_eq!(held.body["outcome"], "held");
    assert_eq!(t.status_of("s5").await, "active", "nothing changed");
    let removals: Vec<&Value> = held.body["report"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["removal"] == true)
        .collect();
    assert_eq!(removals.len(), 3);
    let keep = removals
        .iter()
        .find(|line| line["external_id"] == "S5")
        .unwrap()["user_id"]
        .clone();
    let id = held.body["id"].as_str().unwrap().to_owned();
    let stranger = t
        .post(
            &format!("/api/v1/runs/{id}/approve"),
            &json!({"excluded": [uuid::Uuid::nil()]}),
        )
        .await;
    stranger.assert_problem(422, Some("excluded"));
    let approved = t
        .post(
            &format!("/api/v1/runs/{id}/approve"),
            &json!({"excluded": [keep]}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.body["outcome"], "applied");
    assert_eq!(approved.body["counts"]["archived"], 2);
    assert_eq!(approved.body["decided_by"], "Rita Root (token tests)");
    assert_eq!(t.status_of("s4").await, "archived or missing");
    assert_eq!(t.status_of("s5").await, "active", "excluded");
    t.post(&format!("/api/v1/runs/{id}/approve"), &json!({}))
        .await
        .assert_problem(409, Some("run"));

    // Another mass removal, rejected.
    let held = t.upload("sis", "", students(0, 1)).await;
    assert_eq!(held.status, 202, "{}", held.body);
    let other = held.body["id"].as_str().unwrap();
    let rejected = t
        .post(&format!("/api/v1/runs/{other}/reject"), &json!({}))
        .await;
    assert_eq!(rejected.body["outcome"], "rejected");
    // Approving needs no body (or `null`); this run is rejected, so it is refused.
    t.post_raw(&format!("/api/v1/runs/{other}/approve"), "null")
        .await
        .assert_problem(409, Some("run"));
    let bare = t
        .send(
            t.client
                .post(format!("{}/api/v1/runs/{other}/approve", t.address))
                .bearer_auth(&t.token),
        )
        .await;
    bare.assert_problem(409, Some("run"));
    assert_eq!(t.status_of("s2").await, "active");

    // The approved run undone: the two archived come back.
    let undone = t.post(&format!("/api/v1/runs/{id}/undo"), &json!({})).await;
    assert_eq!(undone.status, 200, "{}", undone.body);
    assert_eq!(undone.body["reverted"], 2);
    assert_eq!(undone.body["left_alone"], json!([]));
    assert_eq!(t.status_of("s4").await, "active");
    t.post(&format!("/api/v1/runs/{id}/undo"), &json!({}))
        .await
        .assert_problem(409, Some("run"));
}

/// Under the server's drop root an org's admin names a folder of their own org's, never one
/// elsewhere on the server.
pub async fn drop_folders_stay_inside_the_orgs_own_folder(db: TestDb) {
    let settings = rollcall_web::Settings {
        drop_root: Some("/srv/rollcall-drop".into()),
        ..rollcall_web::Settings::default()
    };
    let t = spawn_app_with(db, settings).await;
    t.post("/api/v1/sources", &json!({"name": "sis"})).await;
    let watched = t
        .patch(
            "/api/v1/sources/sis",
            &json!({"drop_folder": "sis/nightly"}),
            None,
        )
        .await;
    assert_eq!(watched.status, 200, "{}", watched.body);
    assert_eq!(
        watched.body["drop_folder"],
        "/srv/rollcall-drop/northfield/sis/nightly"
    );
    for elsewhere in [
        "/etc",
        "../elsewhere/sis",
        "sis/../../other",
        "a\\b",
        ".",
        "",
    ] {
        t.patch(
            "/api/v1/sources/sis",
            &json!({"drop_folder": elsewhere}),
            None,
        )
        .await
        .assert_problem(422, Some("drop_folder"));
    }
    let kept = t.get("/api/v1/sources/sis").await;
    assert_eq!(
        kept.body["drop_folder"], "/srv/rollcall-drop/northfield/sis/nightly",
        "a refused folder changed nothing"
    );
}

pub async fn a_file_beyond_the_limit_is_refused_unread(db: TestDb) {
    let settings = rollcall_web::Settings {
        max_import_bytes: Some(1024),
        ..rollcall_web::Settings::default()
    };
    let t = spawn_app_with(db, settings).await;
    t.post("/api/v1/sources", &json!({"name": "sis"})).await;
    let reply = t.upload("sis", "", students(0, 100)).await;
    reply.assert_problem(413, None);
    assert_eq!(t.logins("").await, ["root"]);
    let runs = t.get("/api/v1/runs").await;
    assert_eq!(runs.body["runs"], json!([]));
}
