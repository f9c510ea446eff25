//! Segments over HTTP: a rule previewed, saved, counted and listed as the status rules say,
//! refused with the place of its mistake, and out of another org's reach.

use rollcall_app::{CreateUser, Principal};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use rollcall_testkit::TestDb;

async fn person(t: &TestApp, given: &str, family: &str, department: &str) -> String {
    let reply = t
        .create_user(json!({
            "username": given.to_lowercase(), "given_name": given, "family_name": family,
            "role": "student", "attributes": {"department": department},
        }))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

fn given_names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["given_name"].as_str().unwrap())
        .collect()
}

#[allow(
    clippy::too_many_lines,
    reason = "one admin's session reads best as one script"
)]
pub async fn segments_are_previewed_saved_and_listed_as_the_status_rules_say(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "Ann", "Abbott", "Science").await;
    let ben = person(&t, "Ben", "Baker", "Science").await;
    person(&t, "Cat", "Carter", "Maths").await;
    let dan = person(&t, "Dan", "Dixon", "Science").await;
    let off = json!({"status": "inactive", "reason": "left for the term"});
    assert_eq!(t.set_status(&ben, off.clone()).await.status, 200);
    assert_eq!(t.set_status(&dan, off).await.status, 200);
    let archive = json!({"status": "archived", "reason": "left the school"});
    assert_eq!(t.set_status(&dan, archive).await.status, 200);

    let preview = t
        .post(
            "/api/v1/segments/preview",
            &json!({"rule": "DEPARTMENT = science"}),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["rule"], "department = \"science\"");
    assert_eq!(
        (
            preview.body["active"].as_u64(),
            preview.body["inactive"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(given_names(&preview.body["first"]), ["Ann", "Ben"]);
    assert_eq!(preview.body["first"][1]["status"], "inactive");

    let made = t
        .post(
            "/api/v1/segments",
            &json!({"name": "Science", "rule": "department = science"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/segments/{id}");
    let members = t.get(&format!("{path}/members?limit=10")).await;
    assert_eq!(given_names(&members.body["members"]), ["Ann", "Ben"]);
    t.get(&format!("{path}/members?limit=0"))
        .await
        .assert_problem(422, Some("limit"));
    t.get(&format!("{path}/members?offset=9223372036854775808"))
        .await
        .assert_problem(422, Some("offset"));

    // A message reaches the active members with an address: Ann has none, Ben is inactive.
    let reach = t.get(&format!("{path}/reach")).await;
    assert_eq!(
        reach.body,
        json!({"reached": 0, "no_address": 1, "inactive": 1})
    );
    t.post(
        &format!("{path}/message"),
        &json!({"subject": "", "body": "Hi"}),
    )
    .await
    .assert_problem(422, Some("subject"));
    let written = t
        .post(
            &format!("{path}/message"),
            &json!({"subject": "Lab", "body": "Goggles on."}),
        )
        .await;
    assert_eq!(written.status, 201, "{}", written.body);
    assert_eq!(written.body, json!({"queued": 0, "suppressed": 2}));

    // A change of the rule, as read; then a stale one.
    let changed = t
        .send(
            t.client
                .put(format!("{}{path}", t.address))
                .bearer_auth(&t.token)
                .header("if-match", "\"1\"")
                .json(
                    &json!({"name": "Science and Maths", "rule": "department in (science, maths)"}),
                ),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        (
            changed.body["active"].as_u64(),
            changed.body["version"].as_i64()
        ),
        (Some(2), Some(2))
    );
    let stale = t
        .send(
            t.client
                .put(format!("{}{path}", t.address))
                .bearer_auth(&t.token)
                .header("if-match", "\"1\"")
                .json(&json!({"name": "Science", "rule": "department = science"})),
        )
        .await;
    stale.assert_problem(412, None);
    let listed = t.get("/api/v1/segments").await;
    assert_eq!(listed.body["segments"][0]["name"], "Science and Maths");

    // Refusals say what and where, and save nothing.
    let unknown = t
        .post(
            "/api/v1/segments",
            &json!({"name": "Feet", "rule": "shoe_size = 9"}),
        )
        .await;
    unknown.assert_problem(422, Some("rule"));
    assert!(
        unknown.body.to_string().contains("at character 1"),
        "{}",
        unknown.body
    );
    t.post(
        "/api/v1/segments",
        &json!({"name": "science AND maths", "rule": "role = student"}),
    )
    .await
    .assert_problem(409, Some("name"));
    t.post(
        "/api/v1/segments/preview",
        &json!({"rule": "department = (science"}),
    )
    .await
    .assert_problem(422, Some("rule"));
    t.post(
        "/api/v1/segments",
        &json!({"name": "X", "rule": "role = student", "extra": 1}),
    )
    .await
    .assert_problem(422, Some("extra"));
    assert_eq!(
        t.get("/api/v1/segments").await.body["segments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Another org's admin cannot reach it.
    let other = t.app.create_org("southfield", "Southfield").await.unwrap();
    let system = Principal::system(other.id, "test");
    let admin = CreateUser {
        username: Some("sam".into()),
        given_name: "Sam".into(),
        family_name: "South".into(),
        role: "admin".into(),
        ..CreateUser::default()
    };
    t.app.create_user(&system, admin).await.unwrap();
    let (_, stranger) = t.app.create_token(&system, "sam", "tests").await.unwrap();
    t.get_as(&stranger, &path).await.assert_problem(404, None);
    assert_eq!(
        t.get_as(&stranger, "/api/v1/segments").await.body["segments"],
        json!([])
    );

    let gone = t
        .send(
            t.client
                .delete(format!("{}{path}", t.address))
                .bearer_auth(&t.token),
        )
        .await;
    assert_eq!(gone.status, 204);
    t.get(&path).await.assert_problem(404, None);
}

#[allow(
    clippy::too_many_lines,
    reason = "one admin's session reads best as one script"
)]
/// Everyone written to, and a course enrolled by segment: the status rules decide who is sent
/// the message and who is enrolled, and the report shows whom the segment enrolled.
pub async fn everyone_is_written_to_and_a_segment_is_enrolled(db: TestDb) {
    let t = spawn_app(db).await;
    let with_mail = |given: &str, department: &str| {
        json!({
            "username": given.to_lowercase(), "email": format!("{}@example.org", given.to_lowercase()),
            "given_name": given, "family_name": "Pupil", "role": "student",
            "attributes": {"department": department},
        })
    };
    let ann = t.create_user(with_mail("Ann", "Science")).await.body["id"].clone();
    let ben = t.create_user(with_mail("Ben", "Science")).await.body["id"].clone();
    let cat = t.create_user(with_mail("Cat", "Science")).await.body["id"].clone();
    t.create_user(with_mail("Dan", "Maths")).await;
    let off = json!({"status": "inactive", "reason": "away"});
    assert_eq!(t.set_status(ben.as_str().unwrap(), off).await.status, 200);
    let gone = json!({"status": "archived", "reason": "left"});
    assert_eq!(t.set_status(cat.as_str().unwrap(), gone).await.status, 200);

    // Everyone: Rita (the admin), Ann and Dan are sent it; Ben is inactive; Cat is archived
    // and not written to at all.
    let reach = t.get("/api/v1/messages/everyone/reach").await;
    assert_eq!(reach.status, 200, "{}", reach.body);
    assert_eq!(
        reach.body,
        json!({"reached": 3, "no_address": 0, "inactive": 1})
    );
    let empty = t
        .post(
            "/api/v1/messages/everyone",
            &json!({"subject": " ", "body": "Hello"}),
        )
        .await;
    empty.assert_problem(422, Some("subject"));
    let sent = t
        .post(
            "/api/v1/messages/everyone",
            &json!({"subject": "Term dates", "body": "School starts on Monday."}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.body, json!({"queued": 3, "suppressed": 1}));
    let outbox = t.get("/api/v1/outbox?state=suppressed").await;
    let suppressed: Vec<&Value> = outbox.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["subject"] == "Term dates")
        .collect();
    assert_eq!(suppressed.len(), 1, "{}", outbox.body);
    assert_eq!(suppressed[0]["user_id"], ben);

    // A segment enrolled: Ann and Ben (inactive, silently) are; Cat (archived) and Dan are not.
    let science = t
        .post(
            "/api/v1/segments",
            &json!({"name": "Science", "rule": "department = science"}),
        )
        .await;
    let segment = science.body["id"].as_str().unwrap().to_owned();
    let course = t
        .app
        .create_course(
            &t.system,
            rollcall_domain::learning::CourseDraft {
                title: "Lab safety".to_owned(),
                description: "Goggles on.".to_owned(),
                lessons: vec![rollcall_domain::learning::LessonDraft {
                    id: None,
                    title: "Goggles".to_owned(),
                    body: "Wear them.".to_owned(),
                }],
                completion: rollcall_domain::learning::Completion::MarkComplete,
                credit_cost: 0,
            },
        )
        .await
        .unwrap();
    let path = format!("/api/v1/courses/{}/enrolments", course.id);
    let missing = t.post(&path, &json!({"method": "segment"})).await;
    missing.assert_problem(422, Some("segment"));
    let enrolled = t
        .post(&path, &json!({"method": "segment", "segment": segment}))
        .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    assert_eq!(enrolled.body["enrolled"], 2);
    let active = t
        .get(&format!("/api/v1/reports/completions?course={}", course.id))
        .await;
    let ids: Vec<&Value> = active.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["user_id"])
        .collect();
    assert_eq!(ids, vec![&ann]);
    let archived = t
        .get(&format!(
            "/api/v1/reports/completions?course={}&tab=archived",
            course.id
        ))
        .await;
    assert_eq!(archived.body["rows"][0]["user_id"], ben);
    assert_eq!(archived.body["rows"].as_array().unwrap().len(), 1);
    let unknown = t
        .post(
            &path,
            &json!({"method": "segment", "segment": course.id.to_string()}),
        )
        .await;
    unknown.assert_problem(404, None);
}
