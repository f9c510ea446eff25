//! Learning through the REST API: an admin writes and enrols, a learner's token starts,
//! reads, finishes and downloads; bad input is refused by field and changes nothing; an
//! inactive learner's token stops working while the public check still verifies.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use rollcall_testkit::TestDb;

fn course(cost: u32) -> Value {
    json!({
        "title": "Ladder safety",
        "description": "Climbing, safely.",
        "credit_cost": cost,
        "lessons": [
            { "title": "Before you climb", "body": "Check the **feet**." },
            { "title": "Up and down", "body": "Three points of contact." }
        ],
        "completion": {
            "kind": "quiz", "pass_mark": 100,
            "questions": [{ "prompt": "First check?", "options": ["Top", "Feet"], "answer": 1 }]
        }
    })
}

/// A student with a token of their own: (their id, the token).
async fn learner(t: &TestApp, username: &str) -> (String, String) {
    let user = t.student("Léa", "Lenoir", username).await;
    let (_, token) = t
        .app
        .create_token(&t.system, username, "learn")
        .await
        .unwrap();
    (user["id"].as_str().unwrap().to_owned(), token)
}

async fn post_as(t: &TestApp, token: &str, path: &str, body: &Value) -> crate::helpers::Reply {
    t.send(
        t.client
            .post(format!("{}{path}", t.address))
            .bearer_auth(token)
            .json(body),
    )
    .await
}

pub async fn a_learner_goes_through_a_course_by_the_api(db: TestDb) {
    let t = spawn_app(db).await;
    let made = t.post("/api/v1/courses", &course(2)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        made.headers["location"],
        format!("/api/v1/courses/{id}").as_str()
    );
    let (user, token) = learner(&t, "lea").await;
    let me = |path: &str| format!("/api/v1/me/courses/{id}{path}");
    let enrolled = t
        .post(
            &format!("/api/v1/courses/{id}/enrolments"),
            &json!({ "method": "selected", "users": [user] }),
        )
        .await;
    assert_eq!(enrolled.body["enrolled"], 1, "{}", enrolled.body);

    // The learner's view of the course never holds the quiz's answers.
    let mine = t.get_as(&token, &me("")).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(
        !mine.body.to_string().contains("\"answer\""),
        "{}",
        mine.body
    );
    assert_eq!(mine.body["questions"][0]["options"], json!(["Top", "Feet"]));

    let poor = post_as(&t, &token, &me("/start"), &json!({})).await;
    poor.assert_problem(409, Some("credits"));
    // A whole number written with a point (as some clients write numbers) is that integer.
    let topped = t
        .post(
            "/api/v1/credits/top-ups",
            &json!({ "amount": 3.0, "reason": "term" }),
        )
        .await;
    assert_eq!(topped.status, 201, "{}", topped.body);
    let started = post_as(&t, &token, &me("/start"), &json!({})).await;
    assert_eq!(
        started.body["enrolment"]["credits_used"], 2,
        "{}",
        started.body
    );
    let lessons: Vec<String> = started.body["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    let early = post_as(&t, &token, &me("/finish"), &json!({ "answers": [1] })).await;
    early.assert_problem(409, None);
    for lesson in &lessons {
        let read = post_as(
            &t,
            &token,
            &me(&format!("/lessons/{lesson}/read")),
            &json!({}),
        )
        .await;
        assert_eq!(read.status, 200, "{}", read.body);
    }
    let wrong = post_as(&t, &token, &me("/finish"), &json!({ "answers": [5] })).await;
    wrong.assert_problem(422, Some("answers[0]"));
    let failed = post_as(&t, &token, &me("/finish"), &json!({ "answers": [0] })).await;
    assert_eq!(failed.body["passed"], false, "{}", failed.body);
    let passed = post_as(&t, &token, &me("/finish"), &json!({ "answers": [1] })).await;
    assert_eq!(passed.body["passed"], true, "{}", passed.body);
    let again = post_as(&t, &token, &me("/finish"), &json!({ "answers": [1] })).await;
    again.assert_problem(409, None);
    let certificate = passed.body["course"]["certificate"].clone();
    let code = certificate["code"].as_str().unwrap();

    the_certificate_downloads_as_a_pdf(&t, &token, certificate["id"].as_str().unwrap()).await;

    let credits = t.get("/api/v1/credits").await;
    assert_eq!(credits.body["balance"], 1, "{}", credits.body);
    assert_eq!(credits.body["by_user"][0]["status"], "active");

    deactivated_they_lose_access_and_keep_their_record(&t, &user, &token, code, &id).await;
}

async fn the_certificate_downloads_as_a_pdf(t: &TestApp, token: &str, certificate: &str) {
    let pdf = t
        .client
        .get(format!(
            "{}/api/v1/me/certificates/{}/pdf",
            t.address, certificate
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
}

/// Deactivated, the learner's token stops at once; their record and the public check stay.
async fn deactivated_they_lose_access_and_keep_their_record(
    t: &TestApp,
    user: &str,
    token: &str,
    code: &str,
    id: &str,
) {
    t.set_status(user, json!({ "status": "inactive" })).await;
    t.get_as(token, "/api/v1/me/courses")
        .await
        .assert_problem(401, None);
    let verified = t
        .send(
            t.client
                .get(format!("{}/api/v1/verify/northfield/{code}", t.address)),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["learner_name"], "Léa Lenoir");
    assert_eq!(
        verified.body.as_object().unwrap().len(),
        3,
        "only the name, the course and the date: {}",
        verified.body
    );
    t.send(t.client.get(format!(
        "{}/api/v1/verify/northfield/0000-0000-0000-0000",
        t.address
    )))
    .await
    .assert_problem(404, None);
    // An address naming no possible org verifies nothing: 404, as a wrong code.
    t.send(
        t.client
            .get(format!("{}/api/v1/verify/Not%20an%20org/{code}", t.address)),
    )
    .await
    .assert_problem(404, None);
    let training = t.get(&format!("/api/v1/users/{user}/training")).await;
    assert_eq!(
        training.body["records"][0]["enrolment"]["progress"],
        "completed"
    );
    assert_eq!(training.body["credits_used"], 2);
    let people = t
        .get(&format!("/api/v1/courses/{id}/people?progress=completed"))
        .await;
    assert_eq!(
        people.body["people"][0]["user"]["status"], "inactive",
        "{}",
        people.body
    );
}

pub async fn bad_course_input_is_refused_by_field_and_changes_nothing(db: TestDb) {
    let t = spawn_app(db).await;
    let mut bad = course(1);
    bad["lessons"] = json!([]);
    bad["completion"]["questions"][0]["answer"] = json!(7);
    let refused = t.post("/api/v1/courses", &bad).await;
    refused.assert_problem(422, Some("lessons"));
    refused.assert_problem(422, Some("completion.questions[0].answer"));
    let mut unknown = course(1);
    unknown["colour"] = json!("red");
    t.post("/api/v1/courses", &unknown)
        .await
        .assert_problem(422, None);
    let mut kind = course(1);
    kind["completion"]["kind"] = json!("essay");
    t.post("/api/v1/courses", &kind)
        .await
        .assert_problem(422, Some("completion.kind"));
    // A pass mark outside 1 to 100 is refused whatever the kind, as the document says.
    let mut mark = course(0);
    mark["completion"]["kind"] = json!("mark_complete");
    mark["completion"]["pass_mark"] = json!(0);
    t.post("/api/v1/courses", &mark)
        .await
        .assert_problem(422, Some("completion.pass_mark"));
    assert_eq!(t.get("/api/v1/courses").await.body["courses"], json!([]));

    let made = t.post("/api/v1/courses", &course(0)).await;
    let id = made.body["id"].as_str().unwrap();
    let someone = t.student("Sam", "Someone", "sam").await;
    let user_id = someone["id"].as_str().unwrap().to_owned();
    let mut edit = course(0);
    edit["version"] = json!(99);
    t.send(
        t.client
            .put(format!("{}/api/v1/courses/{id}", t.address))
            .bearer_auth(&t.token)
            .json(&edit),
    )
    .await
    .assert_problem(409, Some("version"));
    t.post(
        &format!("/api/v1/courses/{id}/enrolments"),
        &json!({ "method": "selected", "users": ["01900000-0000-7000-8000-000000000000"] }),
    )
    .await
    .assert_problem(422, Some("users[0]"));
    t.post(
        &format!("/api/v1/courses/{id}/enrolments"),
        &json!({ "method": "all" }),
    )
    .await
    .assert_problem(422, Some("method"));
    let written = t
        .post(
            "/api/v1/messages",
            &json!({ "users": [user_id], "subject": "Drill", "body": "At ten." }),
        )
        .await;
    assert_eq!(written.status, 201, "{}", written.body);
    assert_eq!(
        written.body["suppressed"], 1,
        "no address: {}",
        written.body
    );
    t.post(
        "/api/v1/messages",
        &json!({ "users": [user_id], "subject": "", "body": "x" }),
    )
    .await
    .assert_problem(422, Some("subject"));
    t.post("/api/v1/credits/top-ups", &json!({ "amount": 0 }))
        .await
        .assert_problem(422, Some("amount"));
    t.post("/api/v1/credits/top-ups", &json!({ "amount": 2.5 }))
        .await
        .assert_problem(422, Some("amount"));

    t.get("/api/v1/outbox?state=lost")
        .await
        .assert_problem(422, Some("state"));
    for limit in ["x", "0", "1001", "9223372036854775808"] {
        t.get(&format!("/api/v1/outbox?limit={limit}"))
            .await
            .assert_problem(422, Some("limit"));
    }
    t.get("/api/v1/courses/not-an-id")
        .await
        .assert_problem(404, None);
    // A learner reaches no admin endpoint.
    let (_, token) = learner(&t, "lea").await;
    t.get_as(&token, "/api/v1/courses")
        .await
        .assert_problem(403, None);
    t.get_as(&token, &format!("/api/v1/me/courses/{id}"))
        .await
        .assert_problem(404, None);
}
