//! Import runs through the use cases: previewed, applied all or nothing, and never undoing an
//! admin's decision.

use rollcall_app::{AppError, ChangeStatus, ImportOutcome, ImportRequest, ListUsers, NewSource};
use rollcall_domain::Status;
use rollcall_domain::provisioning::{MissingPolicy, Plan};
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, person};

const FIRST: &str = "external_id,username,given_name,family_name,role,status\n\
    S1,ada,Ada,Lovelace,student,active\n\
    S2,bob,Bob,Bell,student,active\n\
    S3,carl,Carl,Cole,student,inactive\n\
    T1,tess,Tess,Tate,teacher,active\n";

const SECOND: &str = "external_id,username,given_name,family_name,role,status\n\
    S1,ada,Ada,Lovelace-King,student,active\n\
    T1,tess,Tess,Tate,teacher,active\n";

/// An import of the `roster` source.
fn request(file_name: &str, dry_run: bool, confirmed: bool) -> ImportRequest {
    ImportRequest {
        source: "roster".to_owned(),
        file_name: file_name.to_owned(),
        mode: None,
        dry_run,
        confirmed,
    }
}

async fn run(f: &Fixture, file: &str, dry_run: bool) -> Plan {
    match f
        .app
        .import(
            &f.admin,
            &request("roster.csv", dry_run, false),
            file.as_bytes(),
        )
        .await
        .unwrap()
    {
        ImportOutcome::Preview(plan) | ImportOutcome::Applied(plan) => plan,
        ImportOutcome::Held(plan) => panic!("held: {plan:#?}"),
        ImportOutcome::Refused(problems) => panic!("{problems:#?}"),
    }
}

async fn status_of(f: &Fixture, login: &str) -> Status {
    f.app.find_user(&f.admin, login).await.unwrap().status()
}

async fn everyone(f: &Fixture) -> u64 {
    let all = ListUsers {
        status: Some("all".to_owned()),
        ..ListUsers::default()
    };
    let archived = ListUsers {
        status: Some("archived".to_owned()),
        ..ListUsers::default()
    };
    f.app.count_users(&f.admin, &all, 1_000).await.unwrap()
        + f.app.count_users(&f.admin, &archived, 1_000).await.unwrap()
}

/// A first run links the manual Ada and creates the rest; a second archives the students it no
/// longer lists; the same file again changes nothing, even after an admin restored one.
pub async fn an_import_creates_links_and_archives_missing_students(db: TestDb) {
    let f = fixture(db).await;
    f.app
        .add_source(
            &f.admin,
            NewSource {
                name: "roster".to_owned(),
                format: "plain-csv".to_owned(),
                mode: "full".to_owned(),
                policy: MissingPolicy::default(),
            },
        )
        .await
        .unwrap();
    f.app
        .create_user(&f.admin, person("Ada", "Lovelace", Some("ada"), None))
        .await
        .unwrap();

    let preview = run(&f, FIRST, true).await;
    let counts = preview.counts();
    assert_eq!(
        (counts.created, counts.linked, counts.deactivated),
        (3, 1, 1)
    );
    assert_eq!(everyone(&f).await, 1, "a preview writes nothing");

    run(&f, FIRST, false).await;
    assert_eq!(everyone(&f).await, 4);
    let ada = f.app.find_user(&f.admin, "ada").await.unwrap();
    assert_eq!(ada.source().as_str(), "roster", "linked");
    assert!(ada.prevent_archiving(), "kept as it was set by hand");
    assert_eq!(status_of(&f, "carl").await, Status::Inactive);

    let second = run(&f, SECOND, false).await;
    assert_eq!(second.counts().archived, 2, "{second:#?}");
    assert_eq!(status_of(&f, "bob").await, Status::Archived);
    assert_eq!(status_of(&f, "tess").await, Status::Active);
    let ada = f.app.find_user(&f.admin, "ada").await.unwrap();
    assert_eq!(ada.family_name().as_str(), "Lovelace-King");
    let bob = f.app.find_user(&f.admin, "bob").await.unwrap();
    let history = f.app.user_events(&f.admin, bob.id()).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.actor.label(), "roster");
    assert_eq!(
        last.reason.as_ref().map(rollcall_domain::Reason::as_str),
        Some("no longer listed by roster")
    );

    // An admin brings Bob back; the same file again leaves him be.
    let restore = ChangeStatus {
        status: "active".to_owned(),
        reason: Some("Still enrolled".to_owned()),
        // Bob signs in with a username only: coming back needs a temporary password.
        generate_temporary_password: true,
        ..ChangeStatus::default()
    };
    f.app
        .change_status(&f.admin, bob.id(), restore)
        .await
        .unwrap();
    let again = run(&f, SECOND, false).await;
    assert!(!again.changes_anything(), "{again:#?}");
    assert_eq!(status_of(&f, "bob").await, Status::Active);

    // A file without a role column changes nobody's role; its attribute columns set theirs.
    let fewer = "external_id,username,given_name,family_name,grade\n\
        S1,ada,Ada,Lovelace-King,10\n\
        T1,tess,Tess,Tate,\n";
    run(&f, fewer, false).await;
    let tess = f.app.find_user(&f.admin, "tess").await.unwrap();
    assert_eq!(tess.role(), rollcall_domain::Role::Teacher);
    let ada = f.app.find_user(&f.admin, "ada").await.unwrap();
    assert_eq!(ada.attributes().get("grade"), Some("10"));
}

/// A bad file, an external id listed twice, and a paused source are refused; nothing changes.
pub async fn refused_imports_change_nothing(db: TestDb) {
    let f = fixture(db).await;
    let policy = MissingPolicy::default();
    f.app
        .add_source(
            &f.admin,
            NewSource {
                name: "roster".to_owned(),
                format: "plain_csv".to_owned(),
                mode: "full".to_owned(),
                policy,
            },
        )
        .await
        .unwrap();
    run(&f, FIRST, false).await;
    let bad = "external_id,username,given_name,family_name,role\nS1,ada,Ada,Lovelace,wizard\n";
    let outcome = f
        .app
        .import(&f.admin, &request("bad.csv", false, false), bad.as_bytes())
        .await
        .unwrap();
    let ImportOutcome::Refused(problems) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(problems[0].line, 2);
    assert_eq!(problems[0].column.as_deref(), Some("role"));
    let twice = "external_id,username,given_name,family_name\nS9,zed,Z,Z\nS9,zoe,Z,Z\n";
    let outcome = f
        .app
        .import(
            &f.admin,
            &request("twice.csv", false, false),
            twice.as_bytes(),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, ImportOutcome::Refused(_)), "{outcome:?}");
    assert_eq!(
        status_of(&f, "bob").await,
        Status::Active,
        "nothing archived"
    );

    f.app
        .set_source_paused(&f.admin, "roster", true)
        .await
        .unwrap();
    let paused = f
        .app
        .import(
            &f.admin,
            &request("second.csv", false, false),
            SECOND.as_bytes(),
        )
        .await;
    assert!(matches!(paused, Err(AppError::Invalid(_))), "{paused:?}");
    assert_eq!(status_of(&f, "bob").await, Status::Active);
    let preview = run(&f, SECOND, true).await;
    assert_eq!(
        preview.counts().archived,
        2,
        "a paused source can still be previewed"
    );
    f.app
        .set_source_paused(&f.admin, "roster", false)
        .await
        .unwrap();
    run(&f, SECOND, false).await;
    assert_eq!(status_of(&f, "bob").await, Status::Archived);

    runs_are_kept_with_their_reports(&f).await;
}

/// History: newest first; refused runs kept with their report, dry runs not kept at all.
async fn runs_are_kept_with_their_reports(f: &Fixture) {
    let runs = f.app.runs(&f.admin, Some("roster"), 10).await.unwrap();
    let outcomes: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r.outcome.as_str(), r.file_name.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("applied", "roster.csv"),
            ("refused", "twice.csv"),
            ("refused", "bad.csv"),
            ("applied", "roster.csv"),
        ]
    );
    assert_eq!(runs[0].counts.archived, 2);
    assert!(
        runs[0]
            .report
            .iter()
            .any(|l| l.what == "archived (no longer listed)")
    );
    assert_eq!(runs[2].report[0].line, Some(2));
    assert!(
        runs[2].report[0]
            .what
            .starts_with("column role (\"wizard\")"),
        "{:?}",
        runs[2].report
    );
    assert_eq!(runs[0].checksum.len(), 64);
    let again = f.app.run(&f.admin, runs[0].id).await.unwrap();
    assert_eq!(again, runs[0]);
}

/// A file that would archive most of a source at once (a truncated export) is held, changes
/// nothing and is kept in the history; confirmed, it applies.
pub async fn a_mass_removal_is_held_until_confirmed(db: TestDb) {
    let f = fixture(db).await;
    let new = NewSource {
        name: "roster".to_owned(),
        format: "plain-csv".to_owned(),
        mode: "full".to_owned(),
        policy: MissingPolicy::default(),
    };
    f.app.add_source(&f.admin, new).await.unwrap();
    let file = |count: usize| {
        let rows: Vec<String> = (0..count)
            .map(|i| format!("S{i},s{i},Sam,Student{i},student"))
            .collect();
        format!(
            "external_id,username,given_name,family_name,role\n{}\n",
            rows.join("\n")
        )
    };
    run(&f, &file(30), false).await;
    let truncated = file(5);
    let (asked, confirmed) = (
        request("truncated.csv", false, false),
        request("truncated.csv", false, true),
    );
    let held = f
        .app
        .import(&f.admin, &asked, truncated.as_bytes())
        .await
        .unwrap();
    let ImportOutcome::Held(plan) = held else {
        panic!("{held:?}");
    };
    assert_eq!(plan.removals(), 25);
    assert_eq!(
        status_of(&f, "s29").await,
        Status::Active,
        "nothing changed"
    );
    let history = f.app.runs(&f.admin, None, 1).await.unwrap();
    assert_eq!(history[0].outcome.as_str(), "held");
    assert_eq!(history[0].counts.archived, 25);
    let applied = f
        .app
        .import(&f.admin, &confirmed, truncated.as_bytes())
        .await
        .unwrap();
    assert!(matches!(applied, ImportOutcome::Applied(_)), "{applied:?}");
    assert_eq!(status_of(&f, "s29").await, Status::Archived);
}
