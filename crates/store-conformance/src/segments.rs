//! Segments through the use cases: counts and members asked of the database agree with the
//! domain's reading of each rule, follow every change of a person's fields and status, and
//! stay inside their org.

use std::collections::BTreeMap;

use rollcall_app::{AppError, EditUser, NewSegment};
use rollcall_domain::learning::MessageState;
use rollcall_domain::segment::Rule;
use rollcall_domain::{Status, User};
use rollcall_store::segment::SegmentTally;
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, person};

impl Fixture {
    async fn with_fields(
        &self,
        given: &str,
        family: &str,
        role: &str,
        fields: &[(&str, &str)],
    ) -> User {
        let mut new = person(given, family, Some(&given.to_lowercase()), None);
        role.clone_into(&mut new.role);
        new.attributes = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.app.create_user(&self.admin, new).await.unwrap()
    }

    /// Who a rule picks out (given names, by family name) and its count.
    async fn picked(&self, rule: &str) -> (Vec<String>, SegmentTally) {
        let preview = self.app.preview_segment(&self.admin, rule).await.unwrap();
        let names = preview
            .first
            .iter()
            .map(|u| u.given_name().as_str().to_owned())
            .collect();
        (names, preview.tally)
    }
}

fn tally(active: u64, inactive: u64) -> SegmentTally {
    SegmentTally { active, inactive }
}

/// Ann, Ben, Dan (students), Cat (a teacher), Eve (made inactive) and Fay (archived), with
/// their departments, grades and locations.
async fn school(f: &Fixture) -> [User; 6] {
    let ann = f
        .with_fields(
            "Ann",
            "Abbott",
            "student",
            &[
                ("department", "Science"),
                ("grade", "9"),
                ("location", "North East"),
            ],
        )
        .await;
    let ben = f
        .with_fields(
            "Ben",
            "Baker",
            "student",
            &[("department", "science"), ("grade", "10")],
        )
        .await;
    let cat = f
        .with_fields(
            "Cat",
            "Carter",
            "teacher",
            &[("department", "Maths"), ("location", "North")],
        )
        .await;
    let dan = f
        .with_fields(
            "Dan",
            "Dixon",
            "student",
            &[("department", "Maths"), ("grade", "9")],
        )
        .await;
    let eve = f
        .with_fields(
            "Eve",
            "Evans",
            "student",
            &[("department", "Science"), ("grade", "9")],
        )
        .await;
    let fay = f
        .with_fields("Fay", "Fisher", "student", &[("department", "Science")])
        .await;
    f.set_status(&eve, Status::Inactive).await;
    f.set_status(&fay, Status::Inactive).await;
    f.set_status(&fay, Status::Archived).await;

    [ann, ben, cat, dan, eve, fay]
}

pub async fn a_segment_picks_out_people_by_its_rule_as_the_status_rules_say(db: TestDb) {
    let f = fixture(db).await;
    let [ann, ben, _, dan, eve, _] = school(&f).await;
    // Inactive people are listed and counted apart; archived ones never.
    let cases: &[(&str, &[&str], SegmentTally)] = &[
        ("department = SCIENCE", &["Ann", "Ben", "Eve"], tally(2, 1)),
        (
            "role = student and not grade = 10",
            &["Ann", "Dan", "Eve"],
            tally(2, 1),
        ),
        ("location prefix \"north\"", &["Ann", "Cat"], tally(2, 0)),
        ("role = student and grade is empty", &[], tally(0, 0)),
        ("department in (maths, art)", &["Cat", "Dan"], tally(2, 0)),
        (
            "not (department = science or role = admin)",
            &["Cat", "Dan"],
            tally(2, 0),
        ),
        (
            "source = manual and grade = 9 and department = science",
            &["Ann", "Eve"],
            tally(1, 1),
        ),
    ];
    let everyone =
        f.db.store
            .users_by_id(
                f.org.id,
                &[ann.id(), ben.id(), dan.id(), eve.id()].map(|id| id.as_uuid()),
            )
            .await
            .unwrap();
    for (rule, names, counted) in cases {
        let (picked, tallied) = f.picked(rule).await;
        assert_eq!(picked, *names, "{rule}");
        assert_eq!(tallied, *counted, "{rule}");
        // The database reads the rule as the domain does.
        let parsed = Rule::parse(rule, &|_| true).unwrap();
        for person in &everyone {
            let listed = picked.iter().any(|n| n == person.given_name().as_str());
            assert_eq!(
                parsed.matches(person),
                listed,
                "{rule}: {}",
                person.given_name().as_str()
            );
        }
    }
}

pub async fn a_saved_segment_follows_its_peoples_fields_and_statuses(db: TestDb) {
    let f = fixture(db).await;
    let [_, ben, _, dan, eve, _] = school(&f).await;
    // A saved segment follows its people: a new department, a reactivation, an archiving.
    let science = f
        .app
        .create_segment(
            &f.admin,
            &NewSegment {
                name: "Science".into(),
                rule: "department = science".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(science.tally, tally(2, 1));
    let mut moved = BTreeMap::new();
    moved.insert("department".to_owned(), "Science".to_owned());
    moved.insert("grade".to_owned(), "9".to_owned());
    f.app
        .edit_user(
            &f.admin,
            dan.id(),
            EditUser {
                version: Some(dan.version()),
                attributes: Some(moved),
                ..EditUser::default()
            },
        )
        .await
        .unwrap();
    let now = |f: &Fixture| {
        let id = science.record.id;
        let admin = f.admin.clone();
        let app = f.app.clone();
        async move { app.segment(&admin, id).await.unwrap().tally }
    };
    assert_eq!(now(&f).await, tally(3, 1));
    f.set_status(&eve, Status::Active).await;
    assert_eq!(now(&f).await, tally(4, 0));
    f.set_status(&ben, Status::Inactive).await;
    f.set_status(&ben, Status::Archived).await;
    assert_eq!(now(&f).await, tally(3, 0));
    let members = f
        .app
        .segment_members(&f.admin, science.record.id, 0, 10)
        .await
        .unwrap();
    let names: Vec<&str> = members.iter().map(|u| u.given_name().as_str()).collect();
    assert_eq!(names, ["Ann", "Dan", "Eve"]);
    let listed = f.app.segments(&f.admin).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record.rule, "department = \"science\"");
}

pub async fn a_bad_segment_is_refused_and_another_orgs_is_out_of_reach(db: TestDb) {
    let f = fixture(db).await;
    f.with_fields("Ann", "Abbott", "student", &[("department", "Science")])
        .await;
    let refused = |rule: &str, name: &str| {
        let f = &f;
        let new = NewSegment {
            name: name.to_owned(),
            rule: rule.to_owned(),
        };
        async move { f.app.create_segment(&f.admin, &new).await.unwrap_err() }
    };
    // An attribute no one has is not one.
    match refused("shoe_size = 9", "Feet").await {
        AppError::Invalid(errors) => {
            assert_eq!(errors[0].field, "rule");
            assert!(
                errors[0].message.contains("'shoe_size' is not a field"),
                "{errors:?}"
            );
            assert!(errors[0].message.contains("at character 1"), "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    match refused("department = ", "").await {
        AppError::Invalid(errors) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["name", "rule"], "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    let new = NewSegment {
        name: "Science".into(),
        rule: "department = science".into(),
    };
    let science = f.app.create_segment(&f.admin, &new).await.unwrap();
    match refused("role = teacher", "SCIENCE").await {
        AppError::Conflict(err) => assert_eq!(err.field, "name"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.app.segments(&f.admin).await.unwrap().len(), 1);

    // Another org's admin sees none of it, and may not reach it by its id.
    let (_, stranger) = f.other_org().await;
    assert!(f.app.segments(&stranger).await.unwrap().is_empty());
    assert!(matches!(
        f.app.segment(&stranger, science.record.id).await,
        Err(AppError::NotFound("segment"))
    ));
    assert!(matches!(
        f.app.delete_segment(&stranger, science.record.id).await,
        Err(AppError::NotFound("segment"))
    ));
    // Their rule over the same attribute counts only their own people.
    assert!(matches!(
        f.app
            .preview_segment(&stranger, "department = science")
            .await,
        Err(AppError::Invalid(_))
    ));
    f.app
        .delete_segment(&f.admin, science.record.id)
        .await
        .unwrap();
    assert!(f.app.segments(&f.admin).await.unwrap().is_empty());
}

pub async fn a_message_to_a_segment_reaches_only_its_active_members_with_an_address(db: TestDb) {
    let f = fixture(db).await;
    let add = |given: &str, email: Option<&str>| {
        let mut new = person(given, "Artist", Some(&given.to_lowercase()), email);
        new.attributes = BTreeMap::from([("department".to_owned(), "Art".to_owned())]);
        let f = &f;
        async move { f.app.create_user(&f.admin, new).await.unwrap() }
    };
    let ann = add("Ann", Some("ann@northfield.example")).await;
    let bob = add("Bob", None).await;
    let cal = add("Cal", Some("cal@northfield.example")).await;
    let dee = add("Dee", Some("dee@northfield.example")).await;
    f.set_status(&cal, Status::Inactive).await;
    f.set_status(&dee, Status::Inactive).await;
    f.set_status(&dee, Status::Archived).await;
    let art = f
        .app
        .create_segment(
            &f.admin,
            &NewSegment {
                name: "Art".into(),
                rule: "department = art".into(),
            },
        )
        .await
        .unwrap();
    let id = art.record.id;
    let reach = f.app.segment_reach(&f.admin, id).await.unwrap();
    assert_eq!((reach.reached, reach.no_address, reach.inactive), (1, 1, 1));

    // No subject, and nothing is written.
    match f.app.write_to_segment(&f.admin, id, " ", "Hello").await {
        Err(AppError::Invalid(errors)) => assert_eq!(errors[0].field, "subject"),
        other => panic!("{other:?}"),
    }
    let written = f
        .app
        .write_to_segment(&f.admin, id, "Exhibition", "The art show opens on Friday.")
        .await
        .unwrap();
    assert_eq!((written.queued, written.suppressed), (1, 2));
    let mail = |user: &User| {
        let (store, org, id) = (f.db.store.clone(), f.org.id, user.id());
        async move {
            store
                .user_messages(org, id)
                .await
                .unwrap()
                .into_iter()
                .map(|m| (m.state, m.reason.is_some()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(mail(&ann).await, [(MessageState::Queued, false)]);
    assert_eq!(mail(&bob).await, [(MessageState::Suppressed, true)]);
    assert_eq!(mail(&cal).await, [(MessageState::Suppressed, true)]);
    assert!(
        mail(&dee).await.is_empty(),
        "an archived person is no member"
    );

    // A segment no one is in reaches nobody: refused.
    let empty = f
        .app
        .create_segment(
            &f.admin,
            &NewSegment {
                name: "Nobody".into(),
                rule: "department = sculpture".into(),
            },
        )
        .await
        .unwrap();
    match f
        .app
        .write_to_segment(&f.admin, empty.record.id, "Hello", "Anyone?")
        .await
    {
        Err(AppError::Invalid(errors)) => assert_eq!(errors[0].field, "segment"),
        other => panic!("{other:?}"),
    }
}

/// A message to everyone of a large org is written to each person once, page after page.
pub async fn a_message_to_everyone_reaches_each_person_of_a_large_org_once(db: TestDb) {
    let f = crate::fixtures::fixture(db).await;
    crate::fixtures::crowd(&f, 2_345).await;
    let reach = f.app.everyone_reach(&f.admin).await.unwrap();
    assert_eq!((reach.reached, reach.no_address), (1_173, 1_172));
    let written = f
        .app
        .write_to_everyone(
            &f.admin,
            "Closed on Friday",
            "The school is closed on Friday.",
        )
        .await
        .unwrap();
    assert_eq!((written.queued, written.suppressed), (1_173, 1_172));
    let queued = f
        .app
        .outbox(&f.admin, Some(MessageState::Queued), 1_000)
        .await
        .unwrap();
    let mut to: Vec<_> = queued.iter().map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 1_000, "no one is written to twice");
}
