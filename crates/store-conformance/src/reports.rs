//! Reports and the dashboard's figures, against a small school worked out by hand: counted
//! people only in the figures and the Active tab, everyone else's results in the Archived tab,
//! and both following a status change there and back. The tally the triggers keep is compared
//! with one recomputed from scratch after every step.

use std::sync::{Arc, Mutex};

use chrono::TimeZone;
use rollcall_app::{App, AppError, Clock, CreateUser, Figures, Principal, ReportRequest};
use rollcall_domain::learning::{Completion, CourseDraft, LessonDraft};
use rollcall_domain::{CourseId, Status, Timestamp, User};
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, person};

/// A clock an test moves by hand.
#[derive(Clone)]
struct Hand(Arc<Mutex<Timestamp>>);

impl Clock for Hand {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock")
    }
}

impl Hand {
    fn set(&self, day: &str) {
        let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day");
        *self.0.lock().expect("clock") =
            chrono::Utc.from_utc_datetime(&date.and_hms_opt(9, 30, 0).expect("time"));
    }
}

struct School {
    f: Fixture,
    clock: Hand,
    fire: CourseId,
    data: CourseId,
    ann: User,
    ben: User,
    cy: User,
    dee: User,
}

fn course(title: &str, cost: u32) -> CourseDraft {
    CourseDraft {
        title: title.to_owned(),
        description: format!("{title} for everyone."),
        lessons: vec![LessonDraft {
            id: None,
            title: "The one lesson".to_owned(),
            body: "Read me.".to_owned(),
        }],
        completion: Completion::MarkComplete,
        credit_cost: cost,
    }
}

async fn learner(f: &Fixture, given: &str, department: &str) -> User {
    let mut new: CreateUser = person(given, "Pupil", Some(&given.to_lowercase()), None);
    new.attributes = [("department".to_owned(), department.to_owned())]
        .into_iter()
        .collect();
    f.app.create_user(&f.admin, new).await.unwrap()
}

impl School {
    async fn start(&self, who: &User, course: CourseId, day: &str) {
        self.clock.set(day);
        self.f
            .app
            .start_course(&Principal::user(who), course)
            .await
            .unwrap();
    }

    async fn finish(&self, who: &User, course: CourseId, day: &str) {
        self.clock.set(day);
        let me = Principal::user(who);
        let mine = self.f.app.my_course(&me, course).await.unwrap();
        for lesson in &mine.course.lessons {
            self.f
                .app
                .read_lesson(&me, course, lesson.id)
                .await
                .unwrap();
        }
        self.f.app.finish_course(&me, course, None).await.unwrap();
    }

    async fn figures(&self) -> Figures {
        let figures = self.f.app.dashboard(&self.f.admin).await.unwrap();
        let store = &self.f.db.store;
        assert_eq!(
            store.kept_tally(self.f.org.id).await.unwrap(),
            store.recomputed_tally(self.f.org.id).await.unwrap(),
            "the tally the triggers keep is the one the data gives"
        );
        figures
    }

    /// Who a report lists, as `given:course` in its order.
    async fn report(&self, request: ReportRequest) -> Vec<String> {
        let filter = request.parse().unwrap();
        let page = self
            .f
            .app
            .report_page(&self.f.admin, &filter, None, 100)
            .await
            .unwrap();
        page.rows
            .iter()
            .map(|r| format!("{}:{}", r.given_name, &r.course_title[..4]))
            .collect()
    }
}

/// Ann, Ben, Cy and Dee enrolled in Fire safety (10 January) and Ann and Cy in Data protection
/// (5 February); Ann completes Fire in January, Ben starts it in February, Cy completes Fire
/// and starts Data. Then Cy is made inactive and Dee archived (1 March). Eve is active and
/// enrolled in nothing.
async fn school(db: TestDb) -> School {
    let clock = Hand(Arc::new(Mutex::new(chrono::Utc::now())));
    clock.set("2026-01-02");
    let app = App::with_clock(db.store.clone(), Arc::new(clock.clone()));
    let org = app
        .create_org("northfield", "Northfield District")
        .await
        .unwrap();
    let admin = Principal::system(org.id, "conformance");
    let f = Fixture {
        app,
        org,
        admin,
        db,
    };
    f.app.top_up(&f.admin, 10, "Spring term").await.unwrap();
    let fire = f
        .app
        .create_course(&f.admin, course("Fire safety", 1))
        .await
        .unwrap()
        .id;
    let data = f
        .app
        .create_course(&f.admin, course("Data protection", 2))
        .await
        .unwrap()
        .id;
    let ann = learner(&f, "Ann", "Science").await;
    let ben = learner(&f, "Ben", "Maths").await;
    let cy = learner(&f, "Cy", "Science").await;
    let dee = learner(&f, "Dee", "Maths").await;
    learner(&f, "Eve", "Science").await;
    clock.set("2026-01-10");
    let all = [ann.id(), ben.id(), cy.id(), dee.id()];
    f.app.enrol_selected(&f.admin, fire, &all).await.unwrap();
    clock.set("2026-02-05");
    f.app
        .enrol_selected(&f.admin, data, &[ann.id(), cy.id()])
        .await
        .unwrap();
    let s = School {
        f,
        clock,
        fire,
        data,
        ann,
        ben,
        cy,
        dee,
    };
    s.start(&s.ann, fire, "2026-01-12").await;
    s.finish(&s.ann, fire, "2026-01-12").await;
    s.start(&s.cy, fire, "2026-01-15").await;
    s.finish(&s.cy, fire, "2026-01-16").await;
    s.start(&s.ben, fire, "2026-02-01").await;
    s.start(&s.cy, data, "2026-02-06").await;
    s.clock.set("2026-03-01");
    let cy = s.f.set_status(&s.cy, Status::Inactive).await;
    let dee = s.f.set_status(&s.dee, Status::Archived).await;
    School { cy, dee, ..s }
}

/// `(title, enrolled, started, completed, credits)` per course, by title.
fn by_course(f: &Figures) -> Vec<(&str, u64, u64, u64, u64)> {
    f.courses
        .iter()
        .map(|c| (&c.title[..], c.enrolled, c.started, c.completed, c.credits))
        .collect()
}

/// `(month, enrolled, started, completed, credits)` for the months with any.
fn by_month(f: &Figures) -> Vec<(&str, u64, u64, u64, u64)> {
    f.months
        .iter()
        .filter(|m| m.enrolled + m.started + m.completed > 0)
        .map(|m| (&m.month[..], m.enrolled, m.started, m.completed, m.credits))
        .collect()
}

fn tab(tab: &str, inactive_only: bool) -> ReportRequest {
    ReportRequest {
        tab: Some(tab.to_owned()),
        inactive_only,
        ..ReportRequest::default()
    }
}

pub async fn figures_and_report_tabs_leave_out_inactive_and_archived_people(db: TestDb) {
    let s = school(db).await;
    let figures = s.figures().await;
    assert_eq!(figures.counted_people, 3, "Ann, Ben and Eve");
    assert_eq!(
        by_course(&figures),
        vec![("Data protection", 1, 0, 0, 0), ("Fire safety", 2, 2, 1, 2)]
    );
    assert_eq!(
        by_month(&figures),
        vec![("2026-01", 2, 1, 1, 1), ("2026-02", 1, 1, 0, 1)]
    );
    assert_eq!(figures.months.len(), 12);
    assert_eq!(figures.months.last().map(|m| &m.month[..]), Some("2026-03"));
    // Cy's credits stay consumed: 1 + 1 + 1 + 2 of the 10.
    assert_eq!((figures.credits_consumed, figures.credits_left), (5, 5));

    let active = s.report(tab("active", false)).await;
    assert_eq!(active.len(), 3);
    assert_eq!(active[0], "Ann:Data", "newest enrolment first");
    assert_eq!(
        sorted(&active[1..]),
        vec!["Ann:Fire".to_owned(), "Ben:Fire".to_owned()]
    );
    let archived = s.report(tab("archived", false)).await;
    assert_eq!(archived[0], "Cy:Data");
    assert_eq!(
        sorted(&archived[1..]),
        vec!["Cy:Fire".to_owned(), "Dee:Fire".to_owned()]
    );
    assert_eq!(
        s.report(tab("archived", true)).await,
        vec!["Cy:Data", "Cy:Fire"]
    );

    // Filters: state, course, dates (of enrolment or completion) and segment.
    let mut completed = tab("archived", false);
    completed.progress = Some("completed".to_owned());
    assert_eq!(s.report(completed).await, vec!["Cy:Fire"]);
    let mut data_only = tab("active", false);
    data_only.course = Some(s.data.to_string());
    assert_eq!(s.report(data_only).await, vec!["Ann:Data"]);
    let mut february = tab("active", false);
    february.from = Some("2026-02-01".to_owned());
    february.to = Some("2026-02-28".to_owned());
    assert_eq!(s.report(february).await, vec!["Ann:Data"]);
    let mut january_done = tab("active", false);
    january_done.dated_by = Some("completed".to_owned());
    january_done.from = Some("2026-01-12".to_owned());
    january_done.to = Some("2026-01-12".to_owned());
    assert_eq!(s.report(january_done).await, vec!["Ann:Fire"]);
    let science =
        s.f.app
            .create_segment(
                &s.f.admin,
                &rollcall_app::NewSegment {
                    name: "Science".to_owned(),
                    rule: "department = science".to_owned(),
                },
            )
            .await
            .unwrap();
    let mut in_science = tab("active", false);
    in_science.segment = Some(science.record.id.to_string());
    assert_eq!(
        sorted(&s.report(in_science).await),
        vec!["Ann:Data".to_owned(), "Ann:Fire".to_owned()]
    );
    let (_, science_figures) =
        s.f.app
            .segment_figures(&s.f.admin, science.record.id)
            .await
            .unwrap();
    let science_figures: Vec<_> = science_figures
        .iter()
        .map(|c| (&c.title[..], c.enrolled, c.started, c.completed, c.credits))
        .collect();
    assert_eq!(
        science_figures,
        vec![("Data protection", 1, 0, 0, 0), ("Fire safety", 1, 1, 1, 1)],
        "Cy is in Science but inactive"
    );
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut names = names.to_vec();
    names.sort();
    names
}

pub async fn a_status_change_moves_results_between_tabs_and_in_and_out_of_the_figures(db: TestDb) {
    let s = school(db).await;
    let cy = s.f.set_status(&s.cy, Status::Active).await;
    let figures = s.figures().await;
    assert_eq!(figures.counted_people, 4);
    assert_eq!(
        by_course(&figures),
        vec![("Data protection", 2, 1, 0, 2), ("Fire safety", 3, 3, 2, 3)]
    );
    assert_eq!(
        by_month(&figures),
        vec![("2026-01", 3, 2, 2, 2), ("2026-02", 2, 2, 0, 3)],
        "Cy's results come back in the months they happened"
    );
    assert!(s.report(tab("archived", true)).await.is_empty());
    assert_eq!(s.report(tab("active", false)).await.len(), 5);

    // Out again, and Ben too: both leave every figure.
    s.f.set_status(&cy, Status::Archived).await;
    s.f.set_status(&s.ben, Status::Inactive).await;
    let figures = s.figures().await;
    assert_eq!(figures.counted_people, 2, "Ann and Eve");
    assert_eq!(
        by_course(&figures),
        vec![("Data protection", 1, 0, 0, 0), ("Fire safety", 1, 1, 1, 1)]
    );
    assert_eq!(s.report(tab("archived", true)).await, vec!["Ben:Fire"]);
    assert_eq!(s.report(tab("archived", false)).await.len(), 4);
    // Credits consumed are kept whoever consumed them.
    assert_eq!((figures.credits_consumed, figures.credits_left), (5, 5));
    let _ = (&s.ann, &s.dee, s.fire);
}

pub async fn a_bad_report_is_refused_and_another_orgs_data_is_out_of_reach(db: TestDb) {
    let s = school(db).await;
    let mut inverted = tab("active", false);
    inverted.from = Some("2026-03-01".to_owned());
    inverted.to = Some("2026-02-01".to_owned());
    inverted.progress = Some("half".to_owned());
    let Err(AppError::Invalid(errors)) = inverted.parse() else {
        panic!("an inverted range is refused");
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["to", "progress"], "{errors:?}");
    assert!(
        tab("active", true).parse().is_err(),
        "inactive only is the Archived tab's"
    );

    let (_, elsewhere) = s.f.other_org().await;
    let mut theirs = tab("active", false);
    theirs.course = Some(s.fire.to_string());
    let filter = theirs.parse().unwrap();
    let refused = s.f.app.report_export(&elsewhere, &filter).await;
    assert!(matches!(refused, Err(AppError::NotFound("course"))));
    let mine = tab("active", false).parse().unwrap();
    let mut export = s.f.app.report_export(&elsewhere, &mine).await.unwrap();
    assert!(
        export.next_csv().await.unwrap().is_none(),
        "their org has no results"
    );
    let learner = Principal::user(&s.ann);
    assert!(matches!(
        s.f.app.report_export(&learner, &mine).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        s.f.app.dashboard(&learner).await,
        Err(AppError::Forbidden)
    ));
}

/// Every row of a report as its CSV export writes them.
async fn exported(s: &School, request: ReportRequest) -> String {
    let filter = request.parse().unwrap();
    let mut export = s.f.app.report_export(&s.f.admin, &filter).await.unwrap();
    let mut text = rollcall_app::csv_header();
    while let Some((lines, _)) = export.next_csv().await.unwrap() {
        text.push_str(&lines);
    }
    text
}

pub async fn a_csv_export_writes_each_row_once_in_order_quoted_and_dated(db: TestDb) {
    let s = school(db).await;
    // A name a spreadsheet would take for a formula, with a quote and a comma in it.
    let edit = rollcall_app::EditUser {
        version: Some(s.ann.version()),
        given_name: Some("=Ann, \"A\"".to_owned()),
        ..rollcall_app::EditUser::default()
    };
    s.f.app
        .edit_user(&s.f.admin, s.ann.id(), edit)
        .await
        .unwrap();
    let whole = exported(&s, tab("archived", false)).await;
    let lines: Vec<&str> = whole.lines().collect();
    assert_eq!(
        lines[0],
        "user_id,username,email,given_name,family_name,status,course_id,course,enrolled_by,\
         enrolled_at,started_at,completed_at,score,credits_used"
    );
    assert_eq!(lines.len(), 4, "{whole}");
    // Course by course, and in each course person by person, by their ids.
    let keys: Vec<(&str, &str)> = lines[1..]
        .iter()
        .map(|l| (l.get(..36).unwrap_or(""), l.split(',').nth(6).unwrap_or("")))
        .map(|(user, course)| (course, user))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(keys, sorted, "{whole}");
    assert!(
        lines.contains(
            &format!(
                "{},\"cy\",,\"Cy\",\"Pupil\",inactive,{},\"Data protection\",selected,\
             2026-02-05T09:30:00Z,2026-02-06T09:30:00Z,,,2",
                s.cy.id(),
                s.data
            )
            .as_str()
        ),
        "{whole}"
    );
    assert!(
        lines.contains(
            &format!(
                "{},\"cy\",,\"Cy\",\"Pupil\",inactive,{},\"Fire safety\",selected,\
             2026-01-10T09:30:00Z,2026-01-15T09:30:00Z,2026-01-16T09:30:00Z,,1",
                s.cy.id(),
                s.fire
            )
            .as_str()
        ),
        "{whole}"
    );
    let active = exported(&s, tab("active", false)).await;
    assert!(
        active.contains(&format!(
            "{},\"ann\",,\"'=Ann, \"\"A\"\"\",\"Pupil\",active,",
            s.ann.id()
        )),
        "{active}"
    );
    assert_eq!(active.lines().count(), 4, "{active}");
    let _ = (&s.ben, &s.dee);
}

/// An export whose reader stops after its first chunk (a download the browser cancels) lets go
/// of the database: again and again, more times than there are connections to hold, and every
/// later export and write still goes through, whole.
pub async fn an_export_abandoned_midway_lets_go_of_the_database(db: TestDb) {
    let f = crate::fixtures::fixture(db).await;
    crate::fixtures::crowd(&f, 3_000).await;
    for title in ["Fire safety", "Data protection"] {
        let id = f
            .app
            .create_course(&f.admin, course(title, 0))
            .await
            .unwrap()
            .id;
        f.app.enrol_everyone(&f.admin, id).await.unwrap();
    }
    let filter = tab("active", false).parse().unwrap();
    // What a progress bar is told to expect, from the kept figures.
    let expected = f.app.report_expected_rows(&f.admin, &filter).await.unwrap();
    assert_eq!(expected, Some(6_000));
    let archived = tab("archived", false).parse().unwrap();
    assert_eq!(
        f.app
            .report_expected_rows(&f.admin, &archived)
            .await
            .unwrap(),
        None
    );
    let bounded = std::time::Duration::from_mins(1);
    for _ in 0..12 {
        let mut export = f.app.report_export(&f.admin, &filter).await.unwrap();
        let (text, rows) = tokio::time::timeout(bounded, export.next_csv())
            .await
            .expect("a first chunk comes")
            .unwrap()
            .expect("there are rows");
        assert!(
            rows > 0 && rows < 6_000,
            "a chunk is part of the export: {rows}"
        );
        assert_eq!(text.lines().count() as u64, rows);
        drop(export);
    }
    let mut export = f.app.report_export(&f.admin, &filter).await.unwrap();
    let mut lines = 0_u64;
    let mut chunks = 0;
    let mut keys = Vec::new();
    while let Some((text, rows)) = tokio::time::timeout(bounded, export.next_csv())
        .await
        .expect("the export goes on")
        .unwrap()
    {
        lines += rows;
        chunks += 1;
        keys.extend(text.lines().map(|l| {
            let course = l.split(',').nth(6).unwrap_or("").to_owned();
            (course, l.get(..36).unwrap_or("").to_owned())
        }));
    }
    assert_eq!(lines, 6_000, "every enrolment once");
    assert!(chunks > 1, "a large export comes in several chunks");
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(keys, sorted, "in order, each once, across chunks");
    // The database still takes writes.
    let someone = f
        .app
        .create_user(&f.admin, person("Zed", "Late", Some("zed"), None))
        .await;
    assert!(someone.is_ok(), "{someone:?}");
}
