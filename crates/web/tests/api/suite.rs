//! The API's behaviour, endpoint by endpoint.

use rollcall_testkit::TestDb;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

pub async fn health_reports_the_database(db: TestDb) {
    let backend = match db.backend {
        rollcall_testkit::Backend::Sqlite => "sqlite",
        rollcall_testkit::Backend::Postgres => "postgres",
    };
    let t = spawn_app(db).await;
    let reply = t.send(t.client.get(format!("{}/healthz", t.address))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({ "status": "ok", "database": backend }));
}

pub async fn listing_defaults_to_active_and_pages_with_cursors(db: TestDb) {
    let t = spawn_app(db).await;
    for i in 0..5 {
        t.student("Kim", &format!("Pupil{i}"), &format!("pupil{i}"))
            .await;
    }
    let gone = t.student("Kim", "Gone", "gone").await;
    let reply = t
        .set_status(
            gone["id"].as_str().unwrap(),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let first = t.get("/api/v1/users?role=student&limit=2").await;
    assert_eq!(first.status, 200);
    let names: Vec<_> = first.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, [json!("pupil0"), json!("pupil1")]);
    let next = first.body["next"].as_str().expect("a next cursor");
    let second = t
        .get(&format!("/api/v1/users?role=student&limit=2&cursor={next}"))
        .await;
    let names: Vec<_> = second.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, [json!("pupil2"), json!("pupil3")]);

    assert!(
        !t.logins("role=student").await.contains(&"gone".to_owned()),
        "inactive left Active"
    );
    assert_eq!(t.logins("status=inactive").await, ["gone"]);
    assert_eq!(t.logins("status=all&role=student").await.len(), 6);
    let wrong_sort = t
        .get(&format!("/api/v1/users?sort=created&cursor={next}"))
        .await;
    wrong_sort.assert_problem(422, Some("cursor"));
    t.get("/api/v1/users?status=gone")
        .await
        .assert_problem(422, Some("status"));
    t.get("/api/v1/users?sort=shoe_size")
        .await
        .assert_problem(422, Some("sort"));
    t.get("/api/v1/users?limit=0")
        .await
        .assert_problem(422, Some("limit"));
    t.get("/api/v1/users?limit=many")
        .await
        .assert_problem(422, Some("limit"));
}

pub async fn search_ignores_case_and_accents(db: TestDb) {
    let t = spawn_app(db).await;
    t.student("Ada", "Lovelace", "ada").await;
    t.student("Zoë", "Ørsted", "zoe.o").await;
    t.student("Adam", "Smith", "asmith").await;
    assert_eq!(t.logins("q=ada%20love").await, ["ada"]);
    assert_eq!(t.logins("q=zoe").await, ["zoe.o"]);
    assert_eq!(t.logins("q=ORST").await, ["zoe.o"]);
    assert_eq!(t.logins("q=ad").await, ["ada", "asmith"]);
    assert!(t.logins("q=velace").await.is_empty(), "prefixes only");
}

pub async fn a_created_user_comes_back_with_location_and_etag(db: TestDb) {
    let t = spawn_app(db).await;
    let reply = t
        .create_user(json!({
            "email": "grace@northfield.example", "given_name": "Grace", "family_name": "Hopper",
            "role": "teacher", "attributes": { "department": "Computing" }
        }))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(
        reply.headers["location"],
        format!("/api/v1/users/{id}").as_str()
    );
    assert_eq!(reply.headers["etag"], "\"1\"");
    assert_eq!(reply.body["status"], "active");
    assert_eq!(reply.body["source"], "manual");
    assert_eq!(reply.body["prevent_archiving"], true);
    assert!(reply.body.get("password").is_none() && reply.body.get("password_hash").is_none());
    let read = t.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(read.body, reply.body);
}

pub async fn bad_input_is_refused_with_the_field_named_and_nothing_written(db: TestDb) {
    let t = spawn_app(db).await;
    t.create_user(json!({
        "username": "ada", "email": "ada@northfield.example", "given_name": "Ada",
        "family_name": "Lovelace", "role": "teacher"
    }))
    .await;
    let base = || json!({ "username": "new", "given_name": "New", "family_name": "Person", "role": "staff" });
    let with = |key: &str, value: serde_json::Value| {
        let mut body = base();
        body[key] = value;
        body
    };
    let cases = [
        (with("role", json!("wizard")), 422, "role"),
        (
            json!({ "given_name": "No", "family_name": "Login", "role": "staff" }),
            422,
            "username",
        ),
        (with("username", json!("ADA")), 409, "username"),
        (with("email", json!("Ada@Northfield.Example")), 409, "email"),
        (with("given_name", json!("   ")), 422, "given_name"),
        (
            with("family_name", json!("x".repeat(101))),
            422,
            "family_name",
        ),
        (with("email", json!("not-an-address")), 422, "email"),
        (with("shoe_size", json!(44)), 422, "shoe_size"),
        (with("role", json!(7)), 422, "role"),
        (
            json!({ "username": "x", "family_name": "Person", "role": "staff" }),
            422,
            "given_name",
        ),
        (with("password", json!("short")), 422, "password"),
    ];
    for (body, status, field) in cases {
        let reply = t.create_user(body.clone()).await;
        reply.assert_problem(status, Some(field));
    }
    t.post_raw("/api/v1/users", "{\"given_name\": ")
        .await
        .assert_problem(400, None);
    t.post_raw(
        "/api/v1/users",
        "{\"username\": \"x\", \"given_name\": \"X\", \"family_name\": \"Y\", \"role\": \"staff\"} trailing",
    )
    .await
    .assert_problem(400, None);
    let not_json = t
        .send(
            t.client
                .post(format!("{}/api/v1/users", t.address))
                .bearer_auth(&t.token)
                .body("username=x"),
        )
        .await;
    not_json.assert_problem(415, None);
    assert_eq!(
        t.logins("status=all").await,
        ["ada", "root"],
        "nothing was written"
    );
}

pub async fn tokens_are_checked_on_every_request(db: TestDb) {
    let t = spawn_app(db).await;
    let no_token = t
        .send(t.client.get(format!("{}/api/v1/users", t.address)))
        .await;
    no_token.assert_problem(401, None);
    assert_eq!(no_token.headers["www-authenticate"], "Bearer");
    t.get_as("rc_nonsense", "/api/v1/users")
        .await
        .assert_problem(401, None);
    let flipped = if t.token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}", &t.token[..t.token.len() - 1]);
    t.get_as(&forged, "/api/v1/users")
        .await
        .assert_problem(401, None);

    // A teacher's token authenticates but may not use the admin API.
    t.create_user(json!({ "username": "teach", "given_name": "T", "family_name": "Eacher", "role": "teacher" }))
        .await;
    let (_, teacher_token) = t.app.create_token(&t.system, "teach", "t").await.unwrap();
    t.get_as(&teacher_token, "/api/v1/users")
        .await
        .assert_problem(403, None);

    // A second admin's token ends for good the moment they are deactivated.
    let admin = t
        .create_user(json!({ "email": "ops@northfield.example", "given_name": "O", "family_name": "Ps", "role": "admin" }))
        .await;
    let (_, secret) = t
        .app
        .create_token(&t.system, "ops@northfield.example", "ops")
        .await
        .unwrap();
    assert_eq!(t.get_as(&secret, "/api/v1/users").await.status, 200);
    let id = admin.body["id"].as_str().unwrap();
    t.set_status(id, json!({ "status": "inactive" })).await;
    t.get_as(&secret, "/api/v1/users")
        .await
        .assert_problem(401, None);
    t.set_status(id, json!({ "status": "active" })).await;
    t.get_as(&secret, "/api/v1/users")
        .await
        .assert_problem(401, None);
    // A token revoked by hand stops too.
    let (token, secret) = t
        .app
        .create_token(&t.system, "ops@northfield.example", "ops 2")
        .await
        .unwrap();
    assert_eq!(t.get_as(&secret, "/api/v1/users").await.status, 200);
    t.app.revoke_token(&t.system, token.id).await.unwrap();
    t.get_as(&secret, "/api/v1/users")
        .await
        .assert_problem(401, None);
}

pub async fn another_orgs_user_is_not_found(db: TestDb) {
    let t = spawn_app(db).await;
    let other = t.app.create_org("elsewhere", "Elsewhere").await.unwrap();
    let them = rollcall_app::Principal::system(other.id, "test");
    let theirs = t
        .app
        .create_user(
            &them,
            rollcall_app::CreateUser {
                username: Some("spy".into()),
                given_name: "S".into(),
                family_name: "Py".into(),
                role: "student".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let path = format!("/api/v1/users/{}", theirs.id());
    t.get(&path).await.assert_problem(404, None);
    t.get(&format!("{path}/events"))
        .await
        .assert_problem(404, None);
    t.patch(&path, &json!({ "version": 1, "given_name": "X" }), None)
        .await
        .assert_problem(404, None);
    t.set_status(&theirs.id().to_string(), json!({ "status": "inactive" }))
        .await
        .assert_problem(404, None);
    t.get("/api/v1/users/not-a-uuid")
        .await
        .assert_problem(404, None);
    assert!(
        !t.logins("q=spy&status=all")
            .await
            .contains(&"spy".to_owned())
    );
    let untouched = t.app.user(&them, theirs.id()).await.unwrap();
    assert_eq!(
        (untouched.version(), untouched.given_name().as_str()),
        (1, "S")
    );
    let _ = &t.org;
}

pub async fn stale_versions_are_refused(db: TestDb) {
    let t = spawn_app(db).await;
    let user = t.student("Ada", "Lovelace", "ada").await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let ok = t
        .patch(&path, &json!({ "given_name": "Augusta" }), Some("\"1\""))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.headers["etag"], "\"2\"");
    t.patch(&path, &json!({ "given_name": "Countess" }), Some("\"1\""))
        .await
        .assert_problem(412, Some("version"));
    t.patch(
        &path,
        &json!({ "version": 1, "given_name": "Countess" }),
        None,
    )
    .await
    .assert_problem(409, Some("version"));
    t.patch(&path, &json!({ "given_name": "Countess" }), None)
        .await
        .assert_problem(422, Some("version"));
    t.patch(&path, &json!({ "version": 2, "status": "inactive" }), None)
        .await
        .assert_problem(422, Some("status"));
    let status_path = format!("{path}/status");
    t.post(&status_path, &json!({ "status": "inactive", "version": 1 }))
        .await
        .assert_problem(409, Some("version"));
    let read = t.get(&path).await;
    assert_eq!(
        (
            read.body["given_name"].as_str(),
            read.body["version"].as_i64()
        ),
        (Some("Augusta"), Some(2))
    );
    assert_eq!(read.body["status"], "active");
}

pub async fn status_changes_follow_the_rules_and_are_in_the_history(db: TestDb) {
    let t = spawn_app(db).await;
    let user = t.student("Ada", "Lovelace", "ada").await;
    let id = user["id"].as_str().unwrap();
    let off = t
        .set_status(
            id,
            json!({ "status": "inactive", "reason": "Left mid-term" }),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["user"]["status"], "inactive");
    t.set_status(id, json!({ "status": "inactive" }))
        .await
        .assert_problem(409, Some("status"));
    t.set_status(id, json!({ "status": "retired" }))
        .await
        .assert_problem(422, Some("status"));
    // No e-mail: coming back needs a temporary password.
    t.set_status(id, json!({ "status": "active" }))
        .await
        .assert_problem(422, Some("temporary_password"));
    t.set_status(
        id,
        json!({ "status": "active", "temporary_password": "abc" }),
    )
    .await
    .assert_problem(422, Some("temporary_password"));
    let back = t
        .set_status(
            id,
            json!({ "status": "active", "generate_temporary_password": true }),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["user"]["must_change_password"], true);
    assert_eq!(
        back.body["temporary_password"].as_str().map(str::len),
        Some(14)
    );
    t.set_status(id, json!({ "status": "archived" })).await;
    t.set_status(id, json!({ "status": "inactive" }))
        .await
        .assert_problem(409, Some("status"));

    let history = t.get(&format!("/api/v1/users/{id}/events")).await;
    let events = history.body["events"].as_array().unwrap();
    let steps: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["from_status"].as_str(),
                e["to_status"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("created", None, Some("active")),
            ("status_changed", Some("active"), Some("inactive")),
            ("status_changed", Some("inactive"), Some("active")),
            ("status_changed", Some("active"), Some("archived")),
        ]
    );
    assert_eq!(events[1]["reason"], "Left mid-term");
    // Made through the API: the actor is the token, on behalf of its owner.
    assert_eq!(events[1]["actor"]["kind"], "token");
    assert_eq!(events[1]["actor"]["label"], "Rita Root (token tests)");
    assert!(events[1]["actor"]["id"].is_string(), "the token's id");
    assert!(events[1]["actor"]["user_id"].is_string(), "its owner");
}

pub async fn archive_and_restore_through_the_api_keep_the_person_whole(db: TestDb) {
    let t = spawn_app(db).await;
    let reply = t
        .create_user(json!({
            "username": "leaver", "given_name": "Lee", "family_name": "Vance",
            "role": "student", "attributes": { "grade": "7" }
        }))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let leaver = reply.body["id"].as_str().unwrap().to_owned();
    let stays = t.student("Sam", "Stone", "stays").await;
    let stays = stays["id"].as_str().unwrap().to_owned();
    let gone = t.student("Gail", "Gone", "gone").await;
    let gone = gone["id"].as_str().unwrap().to_owned();
    t.set_status(&gone, json!({ "status": "archived" })).await;

    // Archive two people in one call; the one already archived is left out, with why.
    let bulk = t
        .post(
            "/api/v1/users/status",
            &json!({ "ids": [leaver, gone], "status": "archived", "reason": "End of year" }),
        )
        .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let changed: Vec<_> = bulk.body["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(changed, [leaver.as_str()]);
    let left_out = &bulk.body["left_out"];
    assert_eq!(left_out.as_array().map(Vec::len), Some(1), "{left_out}");
    assert_eq!(left_out[0]["id"], gone.as_str());
    assert_eq!(left_out[0]["name"], "Gail Gone");
    assert!(left_out[0]["reason"].as_str().unwrap().contains("archived"));
    assert_eq!(t.logins("status=all").await, ["root", "stays"]);
    assert_eq!(t.logins("status=archived").await, ["gone", "leaver"]);
    assert_eq!(
        t.logins("q=lee").await,
        Vec::<String>::new(),
        "out of search"
    );

    // Restore: no e-mail, so a temporary password is needed.
    t.set_status(&leaver, json!({ "status": "active" }))
        .await
        .assert_problem(422, Some("temporary_password"));
    let restored = t
        .set_status(
            &leaver,
            json!({ "status": "active", "temporary_password": "a long enough temporary", "reason": "Came back" }),
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    let user = &restored.body["user"];
    assert_eq!(
        (
            user["id"].as_str(),
            user["status"].as_str(),
            user["must_change_password"].as_bool()
        ),
        (Some(leaver.as_str()), Some("active"), Some(true))
    );
    assert_eq!(user["attributes"]["grade"], "7", "attributes kept");
    assert!(
        restored.body["temporary_password"].is_null(),
        "typed: not echoed"
    );
    assert_eq!(t.logins("q=lee").await, ["leaver"], "back in search");

    let history = t.get(&format!("/api/v1/users/{leaver}/events")).await;
    let steps: Vec<_> = history.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["to_status"].as_str(), e["reason"].as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (Some("active"), None),
            (Some("archived"), Some("End of year")),
            (Some("active"), Some("Came back")),
        ]
    );
    let untouched = t.get(&format!("/api/v1/users/{stays}")).await;
    assert_eq!(
        untouched.body["version"], 1,
        "a user not named is not touched"
    );
}

pub async fn a_users_tokens_end_for_good_when_they_lose_sign_in(db: TestDb) {
    let t = spawn_app(db).await;
    let second = t
        .create_user(json!({
            "username": "second", "email": "second@northfield.example", "given_name": "Sam",
            "family_name": "Second", "role": "admin"
        }))
        .await;
    let id = second.body["id"].as_str().unwrap().to_owned();
    let (_, token) = t
        .app
        .create_token(&t.system, "second", "laptop")
        .await
        .unwrap();
    assert_eq!(t.get_as(&token, "/api/v1/users").await.status, 200);

    t.set_status(&id, json!({ "status": "inactive", "reason": "Left" }))
        .await;
    assert_eq!(t.get_as(&token, "/api/v1/users").await.status, 401);
    let back = t.set_status(&id, json!({ "status": "active" })).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(
        t.get_as(&token, "/api/v1/users").await.status,
        401,
        "revoked, not suspended: reactivation does not bring it back"
    );
    let history = t.get(&format!("/api/v1/users/{id}/events")).await;
    let revoked: Vec<_> = history.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "tokens_revoked")
        .collect();
    assert_eq!(revoked.len(), 1, "{}", history.body);
    assert_eq!(revoked[0]["reason"], "1 API token revoked");
    assert_eq!(
        revoked[0]["actor"]["kind"], "token",
        "by whoever deactivated them"
    );
}

/// Text a probe would send: NULs and control characters, invisible or direction-overriding
/// names, look-alike usernames. Each is refused naming its field, and nothing changes.
pub async fn hostile_text_is_refused_naming_the_field(db: TestDb) {
    use base64::Engine as _;
    let t = spawn_app(db).await;
    let ada = t.student("Ada", "Lovelace", "ada").await;
    let id = ada["id"].as_str().unwrap();
    t.set_status(
        id,
        json!({ "status": "inactive", "reason": "left\u{0}today" }),
    )
    .await
    .assert_problem(422, Some("reason"));
    t.set_status(
        id,
        json!({ "status": "inactive", "reason": "\u{1b}[2Jcleared" }),
    )
    .await
    .assert_problem(422, Some("reason"));
    let base = || json!({ "username": "new", "given_name": "New", "family_name": "Person", "role": "staff" });
    let with = |key: &str, value: &str| {
        let mut body = base();
        body[key] = json!(value);
        body
    };
    let cases = [
        (with("given_name", "\u{0301}\u{0301}"), 422, "given_name"),
        (with("given_name", "\u{200B}"), 422, "given_name"),
        (with("family_name", "Smith\u{202E}evil"), 422, "family_name"),
        (with("family_name", "Nul\u{0}"), 422, "family_name"),
        (with("username", "\u{0430}da"), 409, "username"),
        (with("username", "ａｄａ"), 409, "username"),
        (with("email", "x\u{0}@northfield.example"), 422, "email"),
    ];
    for (body, status, field) in cases {
        t.create_user(body.clone())
            .await
            .assert_problem(status, Some(field));
    }
    let look_alike = t.create_user(with("username", "\u{0430}da")).await;
    assert_eq!(
        look_alike.body["type"]
            .as_str()
            .map(|t| t.ends_with("looks-alike")),
        Some(true),
        "{}",
        look_alike.body
    );
    // A decomposed é is stored composed.
    let composed = t.create_user(with("given_name", "Zoe\u{0301}")).await;
    assert_eq!(composed.status, 201, "{}", composed.body);
    assert_eq!(composed.body["given_name"], "Zoé");

    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sort":"family_name","first":"a\u0000","second":"b","id":"{id}"}}"#
    ));
    t.get(&format!("/api/v1/users?cursor={forged}"))
        .await
        .assert_problem(422, Some("cursor"));
    let user = t.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(
        user.body["status"], "active",
        "the refused changes wrote nothing"
    );
    assert_eq!(
        t.logins("status=all").await,
        ["ada", "new", "root"],
        "only the composed Zoé was written"
    );
    // A NUL in a sign-in login names nobody: refused like any wrong login, not a failure.
    let nul = t
        .app
        .sign_in("northfield", "ada\u{0}", "whatever it is", "10.1.1.1")
        .await;
    assert!(
        matches!(nul, Err(rollcall_app::AppError::Unauthenticated)),
        "{nul:?}"
    );
}

/// The OpenAPI document describes every error as a problem document, and the API answers
/// with one, including for errors no handler names (a body over the limit).
pub async fn every_error_is_a_documented_problem(db: TestDb) {
    let doc: Value = serde_json::from_str(&rollcall_web::openapi_json()).unwrap();
    let mut errors = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let expected: &[&str] = if secured {
                &["401", "403", "500", "503"]
            } else {
                &["500", "503"]
            };
            for code in expected {
                assert!(
                    responses.contains_key(*code),
                    "{method} {path} lacks {code}"
                );
            }
            for (code, response) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    errors += 1;
                    let types: Vec<&String> =
                        response["content"].as_object().unwrap().keys().collect();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
    assert!(errors > 30, "{errors} error responses described");
    let t = spawn_app(db).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let reply = t
        .send(
            t.client
                .post(format!("{}/api/v1/users", t.address))
                .bearer_auth(&t.token)
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    reply.assert_problem(413, None);
}

/// Reads from `stream` until the server closes it; how long that took, and what came.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> (std::time::Duration, String) {
    use tokio::io::AsyncReadExt as _;
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut seen),
    )
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    (
        started.elapsed(),
        String::from_utf8_lossy(&seen).into_owned(),
    )
}

/// Clients that send too slowly, or keep a connection open without asking anything, are cut
/// off; the server keeps answering everyone else meanwhile.
pub async fn slow_and_idle_clients_are_cut_off(db: TestDb) {
    use tokio::io::AsyncWriteExt as _;
    let settings = rollcall_web::Settings {
        timeouts: rollcall_web::Timeouts {
            header_read: std::time::Duration::from_millis(600),
            body: std::time::Duration::from_millis(600),
        },
        ..rollcall_web::Settings::default()
    };
    let t = crate::helpers::spawn_app_with(db, settings).await;
    let host = t.address.trim_start_matches("http://").to_owned();
    let limit = std::time::Duration::from_secs(3);
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut half = tokio::net::TcpStream::connect(&host).await.unwrap();
        half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stalled.push(half);
    }
    assert_eq!(
        t.get("/api/v1/users").await.status,
        200,
        "others are served"
    );
    for half in &mut stalled {
        let (took, _) = until_closed(half).await;
        assert!(took < limit, "half-sent headers held {took:?}");
    }
    let mut idle = tokio::net::TcpStream::connect(&host).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (took, answer) = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took < limit, "an idle kept-alive connection held {took:?}");
    let mut slow = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"given_name\":",
        t.token
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let (took, answer) = until_closed(&mut slow).await;
    assert!(took < limit, "a stalled body held {took:?}");
    assert!(!answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(
        t.logins("status=all").await,
        ["root"],
        "nothing was written"
    );
}
