//! Figures and the completion report over HTTP: only active people count, a deactivation moves
//! a person's results to the archived tab and out of the figures, pages and CSV obey the same
//! filters, and bad filters or another org's ids are refused.

use rollcall_app::Principal;
use rollcall_domain::learning::{Completion, CourseDraft, LessonDraft};
use rollcall_domain::{CourseId, UserId};
use rollcall_testkit::TestDb;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn course(t: &TestApp, title: &str) -> CourseId {
    let draft = CourseDraft {
        title: title.to_owned(),
        description: "For everyone.".to_owned(),
        lessons: vec![LessonDraft {
            id: None,
            title: "Only lesson".to_owned(),
            body: "Read me.".to_owned(),
        }],
        completion: Completion::MarkComplete,
        credit_cost: 0,
    };
    t.app.create_course(&t.system, draft).await.unwrap().id
}

/// Starts and completes `course` as the person `id`.
async fn complete(t: &TestApp, id: &str, course: CourseId) {
    let user = t
        .app
        .user(&t.system, id.parse::<UserId>().unwrap())
        .await
        .unwrap();
    let me = Principal::user(&user);
    let mine = t.app.start_course(&me, course).await.unwrap();
    for lesson in &mine.course.lessons {
        t.app.read_lesson(&me, course, lesson.id).await.unwrap();
    }
    t.app.finish_course(&me, course, None).await.unwrap();
}

fn fire_figures(figures: &Value) -> (u64, u64, u64, u64) {
    let fire = &figures["courses"][0];
    assert_eq!(fire["title"], "Fire safety");
    (
        fire["enrolled"].as_u64().unwrap(),
        fire["started"].as_u64().unwrap(),
        fire["completed"].as_u64().unwrap(),
        fire["completion_rate"].as_u64().unwrap(),
    )
}

fn names(page: &Value) -> Vec<&str> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["given_name"].as_str().unwrap())
        .collect()
}

pub async fn figures_and_reports_follow_a_deactivation(db: TestDb) {
    let t = spawn_app(db).await;
    let ann = t.student("Ann", "Abbott", "ann").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ben = t.student("=Ben", "Baker", "ben").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fire = course(&t, "Fire safety").await;
    let enrolled = t
        .post(
            &format!("/api/v1/courses/{fire}/enrolments"),
            &json!({"method": "selected", "users": [ann, ben]}),
        )
        .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    complete(&t, &ann, fire).await;

    let figures = t.get("/api/v1/figures").await;
    assert_eq!(figures.status, 200, "{}", figures.body);
    assert_eq!(
        figures.body["active_people"], 3,
        "Rita the admin, Ann and Ben"
    );
    assert_eq!(fire_figures(&figures.body), (2, 1, 1, 50));
    assert_eq!(figures.body["months"].as_array().unwrap().len(), 12);
    let month = figures.body["months"][11].clone();
    assert_eq!(
        (month["enrolled"].as_u64(), month["completed"].as_u64()),
        (Some(2), Some(1))
    );

    let page = t.get("/api/v1/reports/completions?limit=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["rows"].as_array().unwrap().len(), 1);
    let next = page.body["next"].as_str().unwrap().to_owned();
    let second = t
        .get(&format!("/api/v1/reports/completions?limit=1&after={next}"))
        .await;
    let mut both = [names(&page.body), names(&second.body)].concat();
    both.sort_unstable();
    assert_eq!(both, ["=Ben", "Ann"]);

    let off = json!({"status": "inactive", "reason": "left for the term"});
    assert_eq!(t.set_status(&ben, off).await.status, 200);
    let figures = t.get("/api/v1/figures").await;
    assert_eq!(figures.body["active_people"], 2);
    assert_eq!(
        fire_figures(&figures.body),
        (1, 1, 1, 100),
        "Ben is left out"
    );
    let active = t.get("/api/v1/reports/completions").await;
    assert_eq!(names(&active.body), ["Ann"]);
    assert!(active.body["rows"][0]["completed_at"].is_string());
    let archived = t
        .get("/api/v1/reports/completions?tab=archived&inactive_only=true")
        .await;
    assert_eq!(names(&archived.body), ["=Ben"]);
    assert_eq!(archived.body["rows"][0]["status"], "inactive");

    let csv = t
        .get("/api/v1/reports/completions.csv?tab=archived&progress=not_started")
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("completions-archived.csv")
    );
    let text = csv.body.as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("user_id,username,email,given_name,family_name,status,"));
    assert!(
        lines[1].contains(",\"ben\",,\"'=Ben\",\"Baker\",inactive,"),
        "a formula is kept as text: {}",
        lines[1]
    );
    let none = t
        .get("/api/v1/reports/completions.csv?tab=archived&progress=completed")
        .await;
    assert_eq!(
        none.body.as_str().unwrap().lines().count(),
        1,
        "the header alone"
    );

    assert_eq!(
        t.set_status(
            &ben,
            json!({"status": "active", "generate_temporary_password": true})
        )
        .await
        .status,
        200
    );
    let figures = t.get("/api/v1/figures").await;
    assert_eq!(fire_figures(&figures.body), (2, 1, 1, 50), "Ben is back");
}

pub async fn bad_report_filters_are_refused_by_name(db: TestDb) {
    let t = spawn_app(db).await;
    let fire = course(&t, "Fire safety").await;
    let cases = [
        ("from=2026-03-01&to=2026-02-01", "to"),
        ("from=yesterday", "from"),
        ("course=fire", "course"),
        ("tab=everything", "tab"),
        ("tab=active&inactive_only=true", "inactive_only"),
        ("progress=half", "progress"),
        ("dated_by=birthday", "dated_by"),
        ("after=nowhere", "after"),
        ("colour=red", ""),
    ];
    for (query, field) in cases {
        let reply = t.get(&format!("/api/v1/reports/completions?{query}")).await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.body);
        let fields: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap_or(""))
            .collect();
        assert!(
            fields.contains(&field) || field.is_empty(),
            "{query}: {fields:?}"
        );
        let csv = t
            .get(&format!("/api/v1/reports/completions.csv?{query}"))
            .await;
        assert_eq!(csv.status, 422, "{query}: {}", csv.body);
    }
    // An export has every row: paging is for pages, and a page holds 1 to 500 rows.
    for query in ["limit=5", "after=x"] {
        let field = query.split('=').next();
        t.get(&format!("/api/v1/reports/completions.csv?{query}"))
            .await
            .assert_problem(422, field);
    }
    for limit in ["0", "501"] {
        t.get(&format!("/api/v1/reports/completions?limit={limit}"))
            .await
            .assert_problem(422, Some("limit"));
    }

    // Another org's ids are not found, so nothing of theirs can be exported.
    let other = t.app.create_org("elsewhere", "Elsewhere").await.unwrap();
    let theirs = Principal::system(other.id, "test");
    let admin = rollcall_app::CreateUser {
        username: Some("ivy".into()),
        given_name: "Ivy".into(),
        family_name: "Elsewhere".into(),
        role: "admin".into(),
        ..rollcall_app::CreateUser::default()
    };
    t.app.create_user(&theirs, admin).await.unwrap();
    let (_, their_token) = t.app.create_token(&theirs, "ivy", "reports").await.unwrap();
    let reply = t
        .get_as(
            &their_token,
            &format!("/api/v1/reports/completions.csv?course={fire}"),
        )
        .await;
    reply.assert_problem(404, None);
    let segment = t.get(&format!("/api/v1/segments/{fire}/figures")).await;
    segment.assert_problem(404, None);
}
