//! Import runs through the use cases: previewed, applied all or nothing, and never undoing an
//! admin's decision.

use bytes::Bytes;
use rollcall_app::{
    AppError, ChangeStatus, ImportOutcome, ImportRequest, ListUsers, NewSource, SettingsChange,
};
use rollcall_domain::provisioning::{MissingPolicy, Outcome, Plan, ReportLine, RunRecord};
use rollcall_domain::roster::RosterChanges;
use rollcall_domain::{RunId, Status};
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
            Bytes::copy_from_slice(file.as_bytes()),
        )
        .await
        .unwrap()
    {
        ImportOutcome::Preview(plan) | ImportOutcome::Applied { plan, .. } => plan,
        ImportOutcome::Held { plan, .. } => panic!("held: {plan:#?}"),
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
    creates_links_and_archives(fixture(db).await).await;
}

/// The same, with each run read, planned and written a row at a time: every part's rows meet
/// their items, the missing are written after them, and each person is checked against the
/// version planned on.
pub async fn an_import_read_a_row_at_a_time_does_what_it_does_whole(db: TestDb) {
    let f = fixture(db).await;
    let f = Fixture {
        app: f.app.with_import_part(1),
        ..f
    };
    creates_links_and_archives(f).await;
}

async fn creates_links_and_archives(f: Fixture) {
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

/// A file sent again is passed over row by row (each row's digest, kept with its user's
/// version, is the same) and changes nothing; a user an admin changed since is read whole
/// again: their fields come back from the file, and their status stays the admin's.
pub async fn a_row_sent_as_before_is_passed_over_until_its_user_changes(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    let first = run(&f, FIRST, false).await;
    assert_eq!((first.quiet, first.counts().created), (0, 4));

    let again = run(&f, FIRST, false).await;
    assert_eq!(again.quiet, 4, "{again:#?}");
    assert_eq!(again.counts().unchanged, 4);
    assert!(!again.changes_anything(), "{again:#?}");
    let preview = run(&f, FIRST, true).await;
    assert_eq!(preview.quiet, 4, "a preview passes over the same rows");

    // An admin renames Ada: her row is read whole, and the file's name comes back.
    let ada = f.app.find_user(&f.admin, "ada").await.unwrap();
    let rename = rollcall_app::EditUser {
        version: Some(ada.version()),
        family_name: Some("Byron".to_owned()),
        ..rollcall_app::EditUser::default()
    };
    f.app.edit_user(&f.admin, ada.id(), rename).await.unwrap();
    let renamed = run(&f, FIRST, false).await;
    assert_eq!(renamed.quiet, 3, "{renamed:#?}");
    assert_eq!(renamed.counts().updated, 1);
    let ada = f.app.find_user(&f.admin, "ada").await.unwrap();
    assert_eq!(ada.family_name().as_str(), "Lovelace");

    // An admin deactivates Tess: the same file keeps her inactive, read whole once, then
    // passed over; either way counted as an admin's decision kept.
    let tess = f.app.find_user(&f.admin, "tess").await.unwrap();
    let deactivate = ChangeStatus {
        status: "inactive".to_owned(),
        reason: Some("On leave".to_owned()),
        ..ChangeStatus::default()
    };
    f.app
        .change_status(&f.admin, tess.id(), deactivate)
        .await
        .unwrap();
    for _ in 0..2 {
        let plan = run(&f, FIRST, false).await;
        assert_eq!((plan.quiet, plan.counts().kept), (3, 1), "{plan:#?}");
        assert_eq!(status_of(&f, "tess").await, Status::Inactive);
    }

    // A file that leaves Bob out archives him; sent again, nobody is passed over who should
    // not be: Bob's row is read whole and he comes back.
    let without_bob: String = FIRST
        .lines()
        .filter(|line| !line.starts_with("S2,"))
        .flat_map(|line| [line, "\n"])
        .collect();
    run(&f, &without_bob, false).await;
    assert_eq!(status_of(&f, "bob").await, Status::Archived);
    let back = run(&f, FIRST, false).await;
    // Tess stays kept (an item of her own), Ada and Carl are passed over.
    assert_eq!((back.quiet, back.counts().restored), (2, 1), "{back:#?}");
    assert_eq!(status_of(&f, "bob").await, Status::Active);
}

/// People an import renames together are found by their new names, and no longer by the old.
pub async fn people_an_import_renames_are_found_by_their_new_names(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    run(&f, FIRST, false).await;
    let renamed = FIRST
        .replace("Lovelace", "Quimby")
        .replace("Bell", "Quill")
        .replace("Tate", "Quade");
    assert_eq!(run(&f, &renamed, false).await.counts().updated, 3);
    let found = |q: &'static str| {
        let app = f.app.clone();
        let admin = f.admin.clone();
        async move {
            let query = ListUsers {
                status: Some("all".to_owned()),
                q: Some(q.to_owned()),
                ..ListUsers::default()
            };
            let page = app.list_users(&admin, query).await.unwrap();
            let mut logins: Vec<String> = page.users.iter().map(|u| u.login().to_owned()).collect();
            logins.sort();
            logins
        }
    };
    assert_eq!(found("qu").await, ["ada", "bob", "tess"]);
    assert_eq!(found("quill").await, ["bob"]);
    assert_eq!(found("ada quimby").await, ["ada"]);
    for old in ["lovelace", "bell", "tate"] {
        assert!(found(old).await.is_empty(), "'{old}' still finds someone");
    }
    assert_eq!(
        found("carl cole").await,
        ["carl"],
        "the one not renamed is as he was"
    );
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
        .import(
            &f.admin,
            &request("bad.csv", false, false),
            Bytes::copy_from_slice(bad.as_bytes()),
        )
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
            Bytes::copy_from_slice(twice.as_bytes()),
        )
        .await
        .unwrap();
    let ImportOutcome::Refused(problems) = outcome else {
        panic!("refused: {outcome:?}");
    };
    assert_eq!(
        (problems[0].line, problems[0].column.as_deref()),
        (3, Some("external_id")),
        "the second row, by the column the planner found twice: {problems:?}"
    );
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
            Bytes::copy_from_slice(SECOND.as_bytes()),
        )
        .await;
    let Err(AppError::Conflict(why)) = paused else {
        panic!("{paused:?}");
    };
    assert_eq!(
        why.message,
        "'roster' is paused: resume it before importing"
    );
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

    // The first run's lines of the people it created were written before they had ids; read
    // back, they are given the ids of the source's people with their external ids.
    let created = |run: &RunRecord| -> Vec<Option<rollcall_domain::UserId>> {
        let lines = run.report.iter().filter(|l| l.kind == "created");
        lines.map(|l| l.user_id).collect()
    };
    let first = &runs[3];
    let unnamed = created(first);
    assert!(
        unnamed.len() >= 3 && unnamed.iter().all(Option::is_none),
        "{unnamed:?}"
    );
    let mut some = first.clone();
    f.app
        .identify_created(&f.admin, &mut some, 1)
        .await
        .unwrap();
    assert_eq!(
        created(&some).iter().filter(|id| id.is_some()).count(),
        1,
        "at most one"
    );
    let mut all = first.clone();
    f.app
        .identify_created(&f.admin, &mut all, usize::MAX)
        .await
        .unwrap();
    let bob = f.app.find_user(&f.admin, "bob").await.unwrap();
    let bobs = all
        .report
        .iter()
        .find(|l| l.external_id.as_deref() == Some("S2"));
    assert_eq!(bobs.and_then(|l| l.user_id), Some(bob.id()));
    assert!(
        created(&all).iter().all(Option::is_some),
        "{:?}",
        all.report
    );
    let linked = |run: &RunRecord| run.report.iter().find(|l| l.kind == "linked").cloned();
    assert_eq!(
        linked(&all),
        linked(first),
        "other lines are left as they are"
    );
}

/// A report longer than a part (the store keeps it ten thousand lines to a row) reads back
/// whole and in order; a decision that rewrites it leaves none of the old lines behind.
pub async fn a_long_report_is_kept_whole_and_in_order(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    run(&f, FIRST, false).await;
    let first = f.app.runs(&f.admin, Some("roster"), 1).await.unwrap()[0].clone();
    let line = |i: u64| ReportLine {
        line: Some(i + 2),
        external_id: Some(format!("S{i}")),
        user_id: None,
        removal: i.is_multiple_of(7),
        kind: "archived".to_owned(),
        what: format!("archived (no longer listed) \"{i}\""),
    };
    let long = RunRecord {
        id: RunId::new(),
        outcome: Outcome::Held,
        report: (0..25_001).map(line).collect(),
        notes: vec!["courses.csv: not read".to_owned()],
        ..first
    };
    let mut uow = f.db.store.begin().await.unwrap();
    uow.insert_run(&long).await.unwrap();
    uow.commit().await.unwrap();
    let read = f.app.run(&f.admin, long.id).await.unwrap();
    assert_eq!(read.report.len(), 25_001);
    assert_eq!(read, long);
    // With reports, the history reads every part too; without, none.
    let listed = f.app.runs(&f.admin, Some("roster"), 1).await.unwrap();
    assert_eq!(listed[0].report, long.report);
    let history = f
        .app
        .run_history(&f.admin, Some("roster"), 1)
        .await
        .unwrap();
    assert!(history[0].report.is_empty());

    // Lines added after the run, a few, then many, then none, follow its own in order.
    let more: Vec<ReportLine> = (25_001..45_002).map(line).collect();
    let mut uow = f.db.store.begin().await.unwrap();
    uow.add_report_lines(long.org_id, long.id, &more[..7])
        .await
        .unwrap();
    uow.add_report_lines(long.org_id, long.id, &more[7..])
        .await
        .unwrap();
    uow.add_report_lines(long.org_id, long.id, &[])
        .await
        .unwrap();
    uow.commit().await.unwrap();
    let read = f.app.run(&f.admin, long.id).await.unwrap();
    let whole: Vec<ReportLine> = long.report.iter().chain(&more).cloned().collect();
    assert_eq!(read.report, whole);

    let rejected = RunRecord {
        outcome: Outcome::Rejected,
        report: (0..3).map(line).collect(),
        ..long.clone()
    };
    let mut uow = f.db.store.begin().await.unwrap();
    assert!(uow.update_run(&rejected, Outcome::Held).await.unwrap());
    uow.commit().await.unwrap();
    let read = f.app.run(&f.admin, long.id).await.unwrap();
    assert_eq!(read.report, rejected.report);
    // Another org sees none of it.
    let other = f.app.create_org("southfield", "Southfield").await.unwrap();
    let outsider = rollcall_app::Principal::system(other.id, "outsider");
    assert!(f.app.run(&outsider, long.id).await.is_err());

    // A run kept before the parts: its report is in the run's row, and a decision moves it
    // to parts without reading it twice. A part another org holds under the same run id is
    // never read with it.
    let old = RunRecord {
        id: RunId::new(),
        file_name: "old.csv".to_owned(),
        outcome: Outcome::Held,
        report: Vec::new(),
        ..long.clone()
    };
    let mut uow = f.db.store.begin().await.unwrap();
    uow.insert_run(&old).await.unwrap();
    uow.commit().await.unwrap();
    f.db.execute_sql(
        r#"update import_run set report = '[{"line":2,"external_id":"S1","kind":"archived","what":"kept in the row"}]' where file_name = 'old.csv'"#,
    )
    .await;
    f.db.execute_sql(
        r#"insert into import_run_report (org_id, run_id, part, lines)
           select o.org_id, r.run_id, 0, '[{"line":9,"external_id":"X","kind":"created","what":"another org"}]'
           from import_run r, org o where r.file_name = 'old.csv' and o.slug = 'southfield'"#,
    )
    .await;
    let read = f.app.run(&f.admin, old.id).await.unwrap();
    let whats: Vec<&str> = read.report.iter().map(|l| l.what.as_str()).collect();
    assert_eq!(whats, ["kept in the row"]);
    let listed = f.app.runs(&f.admin, Some("roster"), 1).await.unwrap();
    assert_eq!(listed[0].report, read.report);
    let rejected = RunRecord {
        outcome: Outcome::Rejected,
        ..read
    };
    let mut uow = f.db.store.begin().await.unwrap();
    assert!(uow.update_run(&rejected, Outcome::Held).await.unwrap());
    uow.commit().await.unwrap();
    let again = f.app.run(&f.admin, old.id).await.unwrap();
    assert_eq!(again.report, rejected.report);
    assert_eq!(again.outcome, Outcome::Rejected);
}

/// `count` students of the `roster` source: S0…, s0…
fn students(count: usize) -> String {
    let rows: Vec<String> = (0..count)
        .map(|i| format!("S{i},s{i},Sam,Student{i},student"))
        .collect();
    format!(
        "external_id,username,given_name,family_name,role\n{}\n",
        rows.join("\n")
    )
}

async fn roster_source(f: &Fixture) {
    let new = NewSource {
        name: "roster".to_owned(),
        format: "plain-csv".to_owned(),
        mode: "full".to_owned(),
        policy: MissingPolicy::default(),
    };
    f.app.add_source(&f.admin, new).await.unwrap();
}

async fn held(f: &Fixture, file: &str) -> (RunId, Plan) {
    let outcome = f
        .app
        .import(
            &f.admin,
            &request("truncated.csv", false, false),
            Bytes::copy_from_slice(file.as_bytes()),
        )
        .await
        .unwrap();
    let ImportOutcome::Held { run, plan, .. } = outcome else {
        panic!("{outcome:?}");
    };
    (run, plan)
}

/// A file that would archive most of a source at once (a truncated export) is held with its
/// file, changes nothing and is kept in the history; an admin approves it with one person
/// excluded, and the next run leaves that person be. Confirmed at once, such a run applies.
pub async fn a_mass_removal_is_held_until_approved(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    run(&f, &students(30), false).await;
    let truncated = students(5);
    let (id, plan) = held(&f, &truncated).await;
    assert_eq!(plan.removals(), 25);
    assert_eq!(
        status_of(&f, "s29").await,
        Status::Active,
        "nothing changed"
    );
    let history = f.app.runs(&f.admin, None, 1).await.unwrap();
    assert_eq!(history[0].outcome.as_str(), "held");
    assert_eq!(history[0].counts.archived, 25);

    let s29 = f.app.find_user(&f.admin, "s29").await.unwrap();
    let approved = f.app.approve_run(&f.admin, id, &[s29.id()]).await.unwrap();
    let ImportOutcome::Applied { plan, .. } = approved else {
        panic!("{approved:?}");
    };
    assert_eq!(plan.counts().archived, 24);
    assert_eq!(status_of(&f, "s28").await, Status::Archived);
    assert_eq!(status_of(&f, "s29").await, Status::Active, "excluded");
    let run_now = f.app.run(&f.admin, id).await.unwrap();
    assert_eq!(run_now.outcome.as_str(), "applied");
    assert_eq!(run_now.decided.as_ref().unwrap().by, "conformance");
    let s28 = f.app.find_user(&f.admin, "s28").await.unwrap();
    let events = f.app.user_events(&f.admin, s28.id()).await.unwrap();
    assert_eq!(
        events.last().unwrap().actor.run(),
        Some(id),
        "applied as that run"
    );
    // Approved once; not again.
    let again = f.app.approve_run(&f.admin, id, &[]).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
    // The exclusion sticks: the same file again leaves s29 be.
    let next = run(&f, &truncated, false).await;
    assert!(!next.changes_anything(), "{next:#?}");
    assert_eq!(status_of(&f, "s29").await, Status::Active);

    // Confirmed up front, a mass removal applies at once.
    let confirmed = f
        .app
        .import(
            &f.admin,
            &request("none.csv", false, true),
            Bytes::copy_from_slice(students(0).as_bytes()),
        )
        .await;
    assert!(
        matches!(confirmed, Ok(ImportOutcome::Refused(_))),
        "{confirmed:?}"
    );
    let outcome = f
        .app
        .import(
            &f.admin,
            &request("two.csv", false, true),
            Bytes::copy_from_slice(students(2).as_bytes()),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, ImportOutcome::Applied { .. }),
        "{outcome:?}"
    );
    assert_eq!(status_of(&f, "s4").await, Status::Archived);
}

/// A held run rejected changes nothing and cannot be approved after; with the org's setting
/// to apply a held run's rest at once, its new people arrive while its removals wait.
pub async fn a_held_run_is_rejected_or_applied_in_part(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    run(&f, &students(30), false).await;
    let (id, _) = held(&f, &students(5)).await;
    let rejected = f.app.reject_run(&f.admin, id).await.unwrap();
    assert_eq!(rejected.outcome.as_str(), "rejected");
    let late = f.app.approve_run(&f.admin, id, &[]).await;
    let Err(AppError::Conflict(why)) = late else {
        panic!("{late:?}");
    };
    assert_eq!(
        why.message,
        "this run is rejected by conformance, not held: only a held run can be approved"
    );
    assert_eq!(status_of(&f, "s29").await, Status::Active);
    // A decision written over another is refused by the store.
    let mut uow = f.db.store.begin().await.unwrap();
    assert!(!uow.update_run(&rejected, Outcome::Held).await.unwrap());
    drop(uow);

    let settings = f
        .app
        .set_provisioning_settings(
            &f.admin,
            SettingsChange {
                apply_rest_when_held: Some(true),
                ..SettingsChange::default()
            },
        )
        .await
        .unwrap();
    assert!(settings.apply_rest_when_held);
    assert_eq!(settings.safeguard.percent, 10, "unchanged");
    // Five of the thirty, and one newcomer.
    let file = format!("{}S99,s99,New,Comer,student\n", students(5));
    let ImportOutcome::Held { rest, .. } = f
        .app
        .import(
            &f.admin,
            &request("part.csv", false, false),
            Bytes::copy_from_slice(file.as_bytes()),
        )
        .await
        .unwrap()
    else {
        panic!("not held");
    };
    assert_eq!(rest.unwrap().created, 1);
    assert_eq!(
        status_of(&f, "s99").await,
        Status::Active,
        "the rest applied"
    );
    assert_eq!(
        status_of(&f, "s29").await,
        Status::Active,
        "the removals wait"
    );
    let outcomes: Vec<&str> = f
        .app
        .runs(&f.admin, None, 2)
        .await
        .unwrap()
        .iter()
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(outcomes, ["held", "applied"]);
    let held_id = f.app.runs(&f.admin, None, 1).await.unwrap()[0].id;
    // A later file applied: the held one would undo it, and is refused.
    let later = f
        .app
        .import(
            &f.admin,
            &request("later.csv", false, true),
            Bytes::copy_from_slice(students(30).as_bytes()),
        )
        .await
        .unwrap();
    assert!(matches!(later, ImportOutcome::Applied { .. }), "{later:?}");
    let stale = f.app.approve_run(&f.admin, held_id, &[]).await;
    let Err(AppError::Conflict(why)) = stale else {
        panic!("{stale:?}");
    };
    assert!(
        why.message
            .starts_with("a later file of this source (later.csv"),
        "{why}"
    );

    // A stricter safeguard holds less: none at all with a floor over the source's size.
    let change = SettingsChange {
        safeguard_percent: Some(101),
        ..SettingsChange::default()
    };
    let refused = f.app.set_provisioning_settings(&f.admin, change).await;
    assert!(matches!(refused, Err(AppError::Invalid(_))), "{refused:?}");
}

/// An undo puts statuses back, archives whom the run created and unlinks whom it linked; it
/// leaves alone (and lists) whom someone changed since, and happens once.
pub async fn an_applied_run_is_undone(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    run(&f, &students(3), false).await;
    f.app
        .create_user(&f.admin, person("Hand", "Made", Some("s7"), None))
        .await
        .unwrap();
    // Drops s2 (archived), links s7 (by username), creates s8.
    let file = format!(
        "{}S7,s7,Hand,Made,student\nS8,s8,Ei,Ght,student\n",
        students(2)
    );
    let outcome = f
        .app
        .import(
            &f.admin,
            &request("next.csv", false, false),
            Bytes::copy_from_slice(file.as_bytes()),
        )
        .await
        .unwrap();
    let ImportOutcome::Applied { run: id, plan } = outcome else {
        panic!("{outcome:?}");
    };
    let c = plan.counts();
    assert_eq!((c.archived, c.linked, c.created), (1, 1, 1), "{plan:#?}");
    // An admin changes s8 before the undo.
    let s8 = f.app.find_user(&f.admin, "s8").await.unwrap();
    let deactivate = ChangeStatus {
        status: "inactive".to_owned(),
        reason: Some("Left early".to_owned()),
        ..ChangeStatus::default()
    };
    f.app
        .change_status(&f.admin, s8.id(), deactivate)
        .await
        .unwrap();

    let undo = f.app.undo_run(&f.admin, id).await.unwrap();
    assert_eq!(undo.reverted, 2);
    let left: Vec<String> = undo
        .left_alone
        .iter()
        .map(rollcall_domain::User::display_name)
        .collect();
    assert_eq!(left, ["Ei Ght"]);
    assert_eq!(status_of(&f, "s2").await, Status::Active, "back");
    let s2 = f.app.find_user(&f.admin, "s2").await.unwrap();
    let events = f.app.user_events(&f.admin, s2.id()).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        last.reason.as_ref().map(rollcall_domain::Reason::as_str),
        Some("import run undone by conformance")
    );
    assert_eq!(status_of(&f, "s8").await, Status::Inactive, "left alone");
    let s7 = f.app.find_user(&f.admin, "s7").await.unwrap();
    assert!(s7.source().is_manual(), "unlinked");
    assert_eq!(s7.external_id(), None);
    let run_now = f.app.run(&f.admin, id).await.unwrap();
    assert_eq!(run_now.undone.as_ref().unwrap().by, "conformance");
    let twice = f.app.undo_run(&f.admin, id).await;
    assert!(matches!(twice, Err(AppError::Conflict(_))), "{twice:?}");
    // The source said s2 was still listed before: the same file archives s2 again.
    let again = run(&f, &file, false).await;
    assert_eq!(again.counts().archived, 1, "{again:#?}");
}

/// Another source's person is nobody this source may take over: a row naming their username
/// is refused with its line, and the refused run is kept.
pub async fn another_sources_people_are_not_taken_over(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    let hr = NewSource {
        name: "hr".to_owned(),
        format: "plain-csv".to_owned(),
        mode: "full".to_owned(),
        policy: MissingPolicy::default(),
    };
    f.app.add_source(&f.admin, hr).await.unwrap();
    let staff = "external_id,username,given_name,family_name,role\nH1,s1,Hal,Staff,staff\n";
    let asked = ImportRequest {
        source: "hr".to_owned(),
        ..request("hr.csv", false, false)
    };
    f.app
        .import(&f.admin, &asked, Bytes::copy_from_slice(staff.as_bytes()))
        .await
        .unwrap();
    let outcome = f
        .app
        .import(
            &f.admin,
            &request("roster.csv", false, false),
            Bytes::copy_from_slice(students(3).as_bytes()),
        )
        .await
        .unwrap();
    let ImportOutcome::Refused(problems) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 3);
    assert_eq!(problems[0].column.as_deref(), Some("username"));
    assert_eq!(
        problems[0].reason,
        "belongs to a user managed by the source 'hr'"
    );
    assert_eq!(everyone(&f).await, 1, "nothing written");
    let runs = f.app.runs(&f.admin, Some("roster"), 5).await.unwrap();
    assert_eq!(runs[0].outcome.as_str(), "refused");
}

/// Two runs of one source never apply over each other: a unit of work planned at a version of
/// the source another run has moved on from cannot claim it, and the use case says so.
pub async fn a_stale_run_cannot_claim_its_source(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    let source = f.app.source(&f.admin, "roster").await.unwrap();
    assert_eq!(source.version, 0);
    let mut first = f.db.store.begin().await.unwrap();
    assert!(first.claim_source(f.org.id, source.id, 0).await.unwrap());
    first.commit().await.unwrap();
    let mut second = f.db.store.begin().await.unwrap();
    assert!(
        !second.claim_source(f.org.id, source.id, 0).await.unwrap(),
        "planned at version 0, which a run has moved on from"
    );
    assert!(second.claim_source(f.org.id, source.id, 1).await.unwrap());
    second.commit().await.unwrap();
    // Each applied run moves the source on.
    run(&f, &students(3), false).await;
    let source = f.app.source(&f.admin, "roster").await.unwrap();
    assert_eq!(source.version, 3);
}

/// Adds the OneRoster source `sis` (full runs, the default policy).
async fn oneroster_source(f: &Fixture) {
    let new = NewSource {
        name: "sis".to_owned(),
        format: "oneroster".to_owned(),
        mode: "full".to_owned(),
        policy: MissingPolicy::default(),
    };
    f.app.add_source(&f.admin, new).await.unwrap();
}

/// A source keeps the orgs its packages name: a later delta of people alone names the school
/// of someone it makes, a delta of orgs renames one, and the preview notes only orgs neither
/// the package nor the source names.
pub async fn a_delta_without_orgs_names_schools_the_source_sent_before(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    let applied = import_package(&f, "bulk.zip", oneroster_sample("1.1")).await;
    assert!(
        matches!(applied, ImportOutcome::Applied { .. }),
        "{applied:?}"
    );
    let header = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
        userIds,givenName,familyName\n";
    let people = |orgs: &str, rows: &str| {
        let manifest = format!(
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
             file.users,delta\n{orgs}"
        );
        (manifest, format!("{header}{rows}"))
    };
    let (manifest, users) = people(
        "",
        "stu-2001,active,2026-12-01,true,school-el,student,nia.new,,Nia,New\n\
         stu-2002,active,2026-12-01,true,school-xx,student,oli.odd,,Oli,Odd\n",
    );
    let delta = zipped(&[("manifest.csv", &manifest), ("users.csv", &users)]);
    let ImportOutcome::Applied { plan, .. } = import_package(&f, "new.zip", delta).await else {
        panic!("new.zip not applied");
    };
    assert_eq!(
        school_of(&f, "nia.new").await,
        (
            Some("school-el".to_owned()),
            Some("Maple Elementary".to_owned())
        )
    );
    assert_eq!(
        school_of(&f, "oli.odd").await,
        (Some("school-xx".to_owned()), None)
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n
                .starts_with("users.csv: 1 person(s) belong to orgs the source has no name for")),
        "only Oli's org is named nowhere: {:?}",
        plan.notes
    );
    // A delta of orgs renames one school and names the other; people sent after it are named
    // by it.
    let (manifest, users) = people(
        "file.orgs,delta\n",
        "stu-2003,active,2026-12-02,true,school-el,student,pia.park,,Pia,Park\n",
    );
    let orgs = "sourcedId,status,dateLastModified,name,type\n\
        school-el,active,2026-12-02,Maple Primary,school\n\
        school-xx,active,2026-12-02,Oak Academy,school\n";
    let delta = zipped(&[
        ("manifest.csv", &manifest),
        ("users.csv", &users),
        ("orgs.csv", orgs),
    ]);
    let ImportOutcome::Applied { plan, .. } = import_package(&f, "renamed.zip", delta).await else {
        panic!("renamed.zip not applied");
    };
    assert!(
        plan.notes.iter().any(|n| n.starts_with(
            "orgs.csv: of the schools and districts this source names, 1 added, 1 renamed or \
             retyped;"
        )),
        "{:?}",
        plan.notes
    );
    assert_eq!(
        school_of(&f, "pia.park").await.1.as_deref(),
        Some("Maple Primary")
    );
    let (manifest, users) = people(
        "",
        "stu-2002,active,2026-12-03,true,school-xx,student,oli.odd,,Oli,Odd\n",
    );
    let delta = zipped(&[("manifest.csv", &manifest), ("users.csv", &users)]);
    import_package(&f, "oli.zip", delta).await;
    assert_eq!(
        school_of(&f, "oli.odd").await.1.as_deref(),
        Some("Oak Academy")
    );
}

/// A person's `school_id` and `school` attributes.
async fn school_of(f: &Fixture, username: &str) -> (Option<String>, Option<String>) {
    let user = f.app.find_user(&f.admin, username).await.unwrap();
    let attributes = user.attributes();
    let of = |key| attributes.get(key).map(str::to_owned);
    (of("school_id"), of("school"))
}

/// Imports a package named `name` through `sis`.
async fn import_package(f: &Fixture, name: &str, bytes: Vec<u8>) -> ImportOutcome {
    let request = ImportRequest {
        source: "sis".to_owned(),
        file_name: name.to_owned(),
        ..ImportRequest::default()
    };
    f.app
        .import(&f.admin, &request, bytes.into())
        .await
        .unwrap()
}

/// A OneRoster package of the documented samples (`docs/formats`), zipped.
fn oneroster_sample(version: &str) -> Vec<u8> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/formats")
        .join(format!("oneroster-{version}-sample"));
    rollcall_import::oneroster::pack_folder(&folder).unwrap()
}

/// A OneRoster source: a bulk package creates its people (the parent skipped and counted, the
/// disabled student inactive); a delta package archives whom it deletes and changes nobody
/// else; a package without users.csv and a bulk package with no people change nothing.
pub async fn a_oneroster_package_provisions_and_a_broken_one_changes_nothing(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    let import = |name: &'static str, bytes: Vec<u8>| import_package(&f, name, bytes);
    let ImportOutcome::Applied { plan, .. } = import("bulk.zip", oneroster_sample("1.1")).await
    else {
        panic!("not applied");
    };
    let c = plan.counts();
    assert_eq!((c.created, c.deactivated, c.skipped), (5, 1, 1), "{c:?}");
    assert_eq!(status_of(&f, "max.planck").await, Status::Inactive);
    let dana = f.app.find_user(&f.admin, "dana.whitfield").await.unwrap();
    assert_eq!(dana.role(), rollcall_domain::Role::Staff);
    assert_eq!(
        dana.attributes().get("school"),
        Some("Northfield School District")
    );
    assert!(f.app.find_user(&f.admin, "byron.lovelace").await.is_err());

    the_class_is_a_roster_its_teacher_sees(&f).await;

    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,delta\n";
    let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
        userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,\
        grades,password\n\
        stu-1002,tobedeleted,2026-11-20T08:00:00Z,true,school-el,student,zoe.orsted,,Zoë,Ørsted,,,,,,,,\n";
    let delta = zipped(&[("manifest.csv", manifest), ("users.csv", users)]);
    let ImportOutcome::Applied { plan, .. } = import("delta.zip", delta).await else {
        panic!("not applied");
    };
    assert_eq!(plan.counts().archived, 1);
    assert_eq!(status_of(&f, "zoe.orsted").await, Status::Archived);
    assert_eq!(
        status_of(&f, "grace.hopper").await,
        Status::Active,
        "not in the delta"
    );

    let before = everyone(&f).await;
    let no_users = zipped(&[(
        "manifest.csv",
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n",
    )]);
    let ImportOutcome::Refused(problems) = import("no-users.zip", no_users).await else {
        panic!("not refused");
    };
    assert_eq!(problems[0].file.as_deref(), Some("users.csv"));
    let header_only = zipped(&[
        (
            "manifest.csv",
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n",
        ),
        ("users.csv", users.lines().next().unwrap()),
    ]);
    let refused = import("empty.zip", header_only).await;
    assert!(matches!(refused, ImportOutcome::Refused(_)), "{refused:?}");
    assert_eq!(everyone(&f).await, before, "nothing changed");
    assert_eq!(status_of(&f, "grace.hopper").await, Status::Active);
    let runs = f.app.runs(&f.admin, Some("sis"), 2).await.unwrap();
    assert_eq!(runs[0].outcome.as_str(), "refused");
    assert_eq!(runs[0].mode.as_str(), "full");
}

/// People an import deactivates lose their sessions and API tokens at once, as when an admin
/// deactivates them, and the tokens' end is recorded; those it leaves active keep theirs.
pub async fn an_import_ends_the_sessions_and_tokens_of_whom_it_deactivates(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    for (given, login) in [("Tess", "tess"), ("Tom", "tom")] {
        let mut input = person(
            given,
            "Tate",
            Some(login),
            Some(&format!("{login}@example.org")),
        );
        input.role = "admin".to_owned();
        // Handed to the source by hand: a file takes over an admin by external id alone.
        input.external_id = Some(if login == "tess" { "T1" } else { "T2" }.to_owned());
        input.password = Some("analytical engine".to_owned());
        f.app.create_user(&f.admin, input).await.unwrap();
    }
    let file = |tom: &str| {
        format!(
            "external_id,username,given_name,family_name,role,status\n\
             T1,tess,Tess,Tate,admin,active\nT2,tom,Tom,Tate,admin,{tom}\n"
        )
    };
    assert_eq!(run(&f, &file("active"), false).await.counts().linked, 2);
    let tess = f.app.find_user(&f.admin, "tess").await.unwrap();
    let tom = f.app.find_user(&f.admin, "tom").await.unwrap();
    let tess_session = crate::units::open_session(&f, &tess).await;
    let tom_session = crate::units::open_session(&f, &tom).await;
    let (_, tess_token) = f.app.create_token(&f.admin, "tess", "ci").await.unwrap();
    let (_, tom_token) = f.app.create_token(&f.admin, "tom", "ci").await.unwrap();

    assert_eq!(
        run(&f, &file("inactive"), false).await.counts().deactivated,
        1
    );
    assert_eq!(status_of(&f, "tom").await, Status::Inactive);
    assert!(f.app.visitor(&tess_session).await.is_ok());
    assert!(f.app.authenticate_token(&tess_token).await.is_ok());
    assert!(matches!(
        f.app.visitor(&tom_session).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        f.app.authenticate_token(&tom_token).await,
        Err(AppError::Unauthenticated)
    ));
    let events = f.app.user_events(&f.admin, tom.id()).await.unwrap();
    let last = events.last().and_then(|e| e.reason.as_ref());
    assert_eq!(
        last.map(rollcall_domain::Reason::as_str),
        Some("1 API token revoked"),
        "{events:#?}"
    );
}

/// Previews a package, applies it, and checks the preview foresaw what the run did to classes:
/// the run, and the preview's notes.
async fn import_previewed(f: &Fixture, name: &str, bytes: Vec<u8>) -> (RunId, Vec<String>) {
    let request = ImportRequest {
        source: "sis".to_owned(),
        file_name: name.to_owned(),
        dry_run: true,
        ..ImportRequest::default()
    };
    let preview = f.app.import(&f.admin, &request, bytes.clone().into()).await;
    let Ok(ImportOutcome::Preview(plan)) = preview else {
        panic!("{name} not previewed: {preview:?}");
    };
    let run = match import_package(f, name, bytes).await {
        ImportOutcome::Applied { run, .. } => run,
        other => panic!("{name} not applied: {other:?}"),
    };
    let made = f.app.run_roster_changes(&f.admin, run).await.unwrap();
    let counts = |c: &RosterChanges| {
        let n = (c.created.len(), c.updated.len(), c.deleted.len());
        (n, c.joined.len(), c.left.len())
    };
    let (foreseen, done) = (plan.classes.unwrap_or_default(), made.unwrap_or_default());
    assert_eq!(counts(&foreseen), counts(&done), "{name}");
    assert!(!done.summary().is_empty(), "{name} changes classes");
    (run, plan.notes)
}

/// Undoing a OneRoster run takes back what it did to the source's classes: the class it
/// renamed gets its name back, the class it made is gone, and members it moved are where they
/// were. Undoing the first run then removes the class it made, as nothing else changed it.
pub async fn undoing_a_run_takes_back_its_roster_changes(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    let import = |name: &'static str, bytes: Vec<u8>| import_previewed(&f, name, bytes);
    // Each class with its members, by username and part: the rosters as a teacher sees them.
    let classes = || async {
        let mut seen = Vec::new();
        for summary in f.app.rosters(&f.admin).await.unwrap() {
            let (roster, members) = f.app.roster(&f.admin, summary.roster.id).await.unwrap();
            let mut who: Vec<String> = members
                .iter()
                .map(|(u, role)| format!("{} {}", u.display_name(), role.as_str()))
                .collect();
            who.sort();
            seen.push((roster.id, roster.title, who));
        }
        seen.sort();
        seen
    };
    let (first, _) = import("bulk.zip", oneroster_sample("1.1")).await;
    let after_first = classes().await;
    assert_eq!(after_first.len(), 1);

    // The next package renames the class, adds Art with Grace teaching, and moves Ada there.
    let sample = |file: &str| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/formats/oneroster-1.1-sample")
                .join(file),
        )
        .unwrap()
    };
    let classes_csv = format!(
        "{}class-art,,,Art 10,10,course-art,ART10,scheduled,Room 3,school-hs,term-2026,Art,,2\n",
        sample("classes.csv").replace("Mathematics 10,", "Mathematics 10 Honours,")
    );
    let enrollments_csv = format!(
        "{}enr-9,,,class-art,school-hs,stu-1001,student,false,2026-09-01,\n\
         enr-10,,,class-art,school-hs,tea-2001,teacher,true,2026-09-01,\n\
         enr-11,,,class-art,school-hs,nobody-1,student,false,2026-09-01,\n",
        sample("enrollments.csv")
            .lines()
            .filter(|line| !line.starts_with("enr-1,"))
            .flat_map(|line| [line, "\n"])
            .collect::<String>()
    );
    let files: Vec<(&str, String)> = vec![
        ("manifest.csv", sample("manifest.csv")),
        ("orgs.csv", sample("orgs.csv")),
        ("users.csv", sample("users.csv")),
        ("classes.csv", classes_csv),
        ("enrollments.csv", enrollments_csv),
    ];
    let entries: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let (second, notes) = import("next.zip", zipped(&entries)).await;
    // The enrolment of someone the package does not list seats nobody, and the preview says so.
    assert!(
        notes.iter().any(
            |n| n.starts_with("enrollments.csv: 1 enrolment(s) name nobody")
                && n.ends_with("line(s) 6")
        ),
        "{notes:?}"
    );
    // The applied run keeps the preview's notes, for its history.
    let kept = f.app.run(&f.admin, second).await.unwrap().notes;
    assert_eq!(kept, notes, "the run's notes are the preview's");
    let after_second = classes().await;
    let mut titles: Vec<&str> = after_second.iter().map(|(_, t, _)| t.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        ["Art 10", "Mathematics 10 Honours"],
        "{after_second:?}"
    );

    let undo = f.app.undo_run(&f.admin, second).await.unwrap();
    assert_eq!(undo.reverted, 0, "the run changed nobody");
    // Renamed; made (its two seats go with it); Ada's seat in Math given back.
    assert_eq!(
        (undo.rosters_reverted, undo.rosters_left_alone),
        (5, 0),
        "{undo:?}"
    );
    assert_eq!(classes().await, after_first, "as the first run left them");

    // The first run made the class and its seats: undone, they are gone too.
    let undo = f.app.undo_run(&f.admin, first).await.unwrap();
    assert!(undo.rosters_reverted >= 3, "{undo:?}");
    assert!(f.app.rosters(&f.admin).await.unwrap().is_empty());
}

/// A package of enrolments alone (no users, no classes) seats people in the classes the source
/// has, and notes the enrolment of a class nobody has; undone, the seat goes.
pub async fn a_package_of_enrolments_alone_seats_people_in_the_sources_classes(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    import_previewed(&f, "bulk.zip", oneroster_sample("1.1")).await;
    let members = || async {
        let rosters = f.app.rosters(&f.admin).await.unwrap();
        let (_, members) = f.app.roster(&f.admin, rosters[0].roster.id).await.unwrap();
        let mut who: Vec<String> = members.iter().map(|(u, _)| u.display_name()).collect();
        who.sort();
        who
    };
    let before = members().await;
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,absent\nfile.classes,absent\nfile.enrollments,delta\n";
    let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role,primary,beginDate,endDate\n\
        enr-20,active,,class-math-10,school-hs,stu-1002,student,false,,\n\
        enr-21,active,,class-none,school-hs,stu-1002,student,false,,\n";
    let (run, notes) = import_previewed(
        &f,
        "seats.zip",
        zipped(&[("manifest.csv", manifest), ("enrollments.csv", enrollments)]),
    )
    .await;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("users.csv is absent: the package changes no person")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains(
            "name a class that neither classes.csv nor this source has, so they seat nobody: \
             line(s) 3"
        )),
        "{notes:?}"
    );
    let after = members().await;
    assert!(
        after.iter().any(|name| name.starts_with("Zoë")),
        "{after:?}"
    );
    assert_eq!(after.len(), before.len() + 1);
    f.app.undo_run(&f.admin, run).await.unwrap();
    assert_eq!(members().await, before);
}

/// A delta renaming a class, without orgs.csv to name its school, leaves its school as it was.
pub async fn a_class_renamed_by_a_delta_keeps_the_school_the_package_does_not_name(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    import_package(&f, "bulk.zip", oneroster_sample("1.1")).await;
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,absent\nfile.classes,delta\n";
    let classes = "sourcedId,status,dateLastModified,title,schoolSourcedId\n\
        class-math-10,active,2026-12-01T10:00:00Z,Mathematics 10 Honours,school-hs\n";
    let renamed = zipped(&[("manifest.csv", manifest), ("classes.csv", classes)]);
    let outcome = import_package(&f, "rename.zip", renamed).await;
    assert!(
        matches!(outcome, ImportOutcome::Applied { .. }),
        "{outcome:?}"
    );
    let rosters = f.app.rosters(&f.admin).await.unwrap();
    let class = &rosters[0].roster;
    assert_eq!(
        (class.title.as_str(), class.school.as_str()),
        ("Mathematics 10 Honours", "Northfield High School")
    );
}

/// Enrolments are followed by their sourcedIds: a delta may end one by its id alone, a person
/// with two enrolments in a class keeps their seat until both end (in the part of the one
/// left), and an enrolment sent again with another class moves the seat.
pub async fn enrolments_are_followed_by_their_sourced_ids(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    import_package(&f, "bulk.zip", class_package(4, "Maths")).await;
    let seats = || seats_of(&f);
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,absent\nfile.classes,delta\nfile.enrollments,delta\n";
    let classes = "sourcedId,status,dateLastModified,title,schoolSourcedId\n\
        class-2,active,,Physics,school-hs\n";
    let header = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role\n";
    let delta = |enrollments: &str| {
        zipped(&[
            ("manifest.csv", manifest),
            ("classes.csv", classes),
            ("enrollments.csv", &format!("{header}{enrollments}")),
        ])
    };
    let first = delta(
        "enr-0,tobedeleted,,,,,\n\
         enr-9,active,,class-1,school-hs,stu-1,teacher\n\
         enr-2,active,,class-2,school-hs,stu-2,student\n",
    );
    import_previewed(&f, "first.zip", first).await;
    assert_eq!(
        seats().await,
        [
            "Maths sam1 teacher",
            "Maths tess.tate teacher",
            "Physics sam2 student"
        ],
        "Sam 0 left by id, Sam 1 teaches too, Sam 2 moved"
    );
    let second = delta("enr-9,tobedeleted,2026-12-01,,,,\n");
    import_previewed(&f, "second.zip", second).await;
    assert_eq!(
        seats().await,
        [
            "Maths sam1 student",
            "Maths tess.tate teacher",
            "Physics sam2 student"
        ],
        "the enrolment left seats Sam 1 as a student"
    );
    let third =
        delta("enr-1,tobedeleted,,class-1,school-hs,stu-1,student\nenr-77,tobedeleted,,,,,\n");
    let (_, notes) = import_previewed(&f, "third.zip", third).await;
    assert!(
        notes.iter().any(|n| n.contains(
            "1 deletion(s) name an enrolment by a sourcedId this source has no enrolment under, \
             so they change nothing: line(s) 3"
        )),
        "{notes:?}"
    );
    assert_eq!(
        seats().await,
        ["Maths tess.tate teacher", "Physics sam2 student"]
    );
    // A bulk package sets every enrolment again: the class it leaves out goes with its seats.
    import_package(&f, "again.zip", class_package(4, "Maths")).await;
    assert_eq!(
        seats().await,
        [
            "Maths sam0 student",
            "Maths sam1 student",
            "Maths sam2 student",
            "Maths tess.tate teacher"
        ]
    );
    let source = f.app.source(&f.admin, "sis").await.unwrap();
    let mut uow = f.db.store.begin().await.unwrap();
    let mut kept: Vec<String> = uow
        .source_enrolments(f.admin.org_id, source.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.external_id, e.class))
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "enr-0 class-1",
            "enr-1 class-1",
            "enr-2 class-1",
            "enr-t class-1"
        ]
    );
}

/// Undoing a delta that ended an enrolment by its id gives the enrolment back with the seat,
/// so the same deletion sent again ends it again.
pub async fn undoing_a_delta_gives_back_the_enrolments_it_ended(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    import_package(&f, "bulk.zip", class_package(2, "Maths")).await;
    let delta = || {
        enrollments_delta(
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,\
             role\nenr-0,tobedeleted,,,,,\n",
        )
    };
    let all = [
        "Maths sam0 student",
        "Maths sam1 student",
        "Maths tess.tate teacher",
    ];
    let (run, _) = import_previewed(&f, "end.zip", delta()).await;
    assert_eq!(seats_of(&f).await, all[1..]);
    f.app.undo_run(&f.admin, run).await.unwrap();
    assert_eq!(seats_of(&f).await, all);
    let (_, notes) = import_previewed(&f, "end-again.zip", delta()).await;
    assert_eq!(seats_of(&f).await, all[1..], "{notes:?}");
    // An enrolment beginning next term, of an id the source lacks, takes no seat away.
    let later = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role,beginDate\nenr-77,active,,class-1,school-hs,stu-1,student,2999-01-01\n";
    let outcome = import_package(&f, "later.zip", enrollments_delta(later)).await;
    assert!(
        matches!(outcome, ImportOutcome::Applied { .. }),
        "{outcome:?}"
    );
    assert_eq!(seats_of(&f).await, all[1..]);
}

/// Undoing a run leaves each seat as the enrolments left after the undo make it: a later run's
/// enrolment for the same seat keeps it, in its own part. A deletion sent without an id of its
/// own ends every enrolment of that person in that class.
pub async fn undoing_a_run_leaves_the_seats_the_enrolments_left_make(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    import_package(&f, "bulk.zip", class_package(2, "Maths")).await;
    let delta = |rows: &str| {
        enrollments_delta(&format!(
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,\
             role\n{rows}"
        ))
    };
    let (first, _) = import_previewed(
        &f,
        "teaches.zip",
        delta("enr-50,active,,class-1,school-hs,stu-0,teacher\n"),
    )
    .await;
    let teaching = [
        "Maths sam0 teacher",
        "Maths sam1 student",
        "Maths tess.tate teacher",
    ];
    assert_eq!(seats_of(&f).await, teaching);
    let ImportOutcome::Applied { run: second, .. } = import_package(
        &f,
        "teaches-too.zip",
        delta("enr-51,active,,class-1,school-hs,stu-0,teacher\n"),
    )
    .await
    else {
        panic!("teaches-too.zip not applied");
    };
    let undone = f.app.undo_run(&f.admin, first).await.unwrap();
    assert_eq!(
        seats_of(&f).await,
        teaching,
        "enr-51 still makes Sam 0 a teacher of Maths"
    );
    assert_eq!(
        (undone.rosters_reverted, undone.rosters_left_alone),
        (0, 1),
        "the seat the run changed stays as a later run left it"
    );
    // Undoing the second run too leaves the seat enr-0 makes.
    let undone = f.app.undo_run(&f.admin, second).await.unwrap();
    assert_eq!(seats_of(&f).await[0], "Maths sam0 student");
    assert_eq!((undone.rosters_reverted, undone.rosters_left_alone), (1, 0));
    import_previewed(
        &f,
        "teaches-again.zip",
        delta("enr-52,active,,class-1,school-hs,stu-0,teacher\n"),
    )
    .await;
    assert_eq!(seats_of(&f).await, teaching);
    let (_, notes) = import_previewed(
        &f,
        "leaves.zip",
        delta(",tobedeleted,,class-1,school-hs,stu-0,student\n"),
    )
    .await;
    assert_eq!(
        seats_of(&f).await,
        ["Maths sam1 student", "Maths tess.tate teacher"],
        "both of Sam 0's enrolments (enr-0, enr-52) ended: {notes:?}"
    );
}

/// A 1.1 delta package of enrolments alone (`enrollments`: the whole enrollments.csv).
fn enrollments_delta(enrollments: &str) -> Vec<u8> {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,absent\nfile.enrollments,delta\n";
    zipped(&[("manifest.csv", manifest), ("enrollments.csv", enrollments)])
}

/// An enrolment sent before its class seats its person once a later package makes the class.
pub async fn an_enrolment_sent_before_its_class_seats_when_the_class_comes(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    import_package(&f, "bulk.zip", class_package(2, "Maths")).await;
    let manifest = |file: &str| {
        format!(
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
             file.users,absent\nfile.{file},delta\n"
        )
    };
    let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role\nenr-50,active,,class-9,school-hs,stu-1,student\n";
    let early = zipped(&[
        ("manifest.csv", &manifest("enrollments")),
        ("enrollments.csv", enrollments),
    ]);
    let outcome = import_package(&f, "early.zip", early).await;
    assert!(
        matches!(outcome, ImportOutcome::Applied { .. }),
        "{outcome:?}"
    );
    let maths = [
        "Maths sam0 student",
        "Maths sam1 student",
        "Maths tess.tate teacher",
    ];
    assert_eq!(seats_of(&f).await, maths);
    let classes = "sourcedId,status,dateLastModified,title,schoolSourcedId\n\
        class-9,active,,Art,school-hs\n";
    let class = zipped(&[
        ("manifest.csv", &manifest("classes")),
        ("classes.csv", classes),
    ]);
    import_previewed(&f, "class.zip", class).await;
    let mut all = vec!["Art sam1 student"];
    all.extend(maths);
    assert_eq!(seats_of(&f).await, all);
}

/// Every seat of the org's rosters as "class username part", sorted.
async fn seats_of(f: &Fixture) -> Vec<String> {
    let mut seats = Vec::new();
    for summary in f.app.rosters(&f.admin).await.unwrap() {
        let (roster, members) = f.app.roster(&f.admin, summary.roster.id).await.unwrap();
        for (user, role) in members {
            let who = user
                .username()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default();
            seats.push(format!("{} {who} {}", roster.title, role.as_str()));
        }
    }
    seats.sort();
    seats
}

/// A bulk package of `students` students (`stu-0`, …) and one teacher, with one class of
/// `title` that seats the first three students and the teacher.
fn class_package(students: usize, title: &str) -> Vec<u8> {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,bulk\nfile.classes,bulk\nfile.enrollments,bulk\n";
    let users: Vec<String> = (0..students)
        .map(|i| format!("stu-{i},,,true,school-hs,student,sam{i},,Sam,Student{i}\n"))
        .collect();
    let users = users.concat();
    let users = format!(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
         givenName,familyName\ntea-1,,,true,school-hs,teacher,tess.tate,,Tess,Tate\n{users}"
    );
    let classes = format!(
        "sourcedId,status,dateLastModified,title,schoolSourcedId\nclass-1,,,{title},school-hs\n"
    );
    let seats: Vec<String> = (0..students.min(3))
        .map(|i| format!("enr-{i},,,class-1,school-hs,stu-{i},student\n"))
        .collect();
    let seats = seats.concat();
    let enrollments = format!(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n\
         enr-t,,,class-1,school-hs,tea-1,teacher\n{seats}"
    );
    zipped(&[
        ("manifest.csv", manifest),
        ("users.csv", &users),
        ("classes.csv", &classes),
        ("enrollments.csv", &enrollments),
    ])
}

/// A held package's page says what approving it would do to classes, as worked out when it
/// was held: rejected, the run claims no class changes; approved, it keeps what it did, which
/// its undo takes back.
pub async fn a_held_package_says_what_approving_would_do_to_classes(db: TestDb) {
    let f = fixture(db).await;
    oneroster_source(&f).await;
    let applied = import_package(&f, "bulk.zip", class_package(30, "Art 10")).await;
    assert!(
        matches!(applied, ImportOutcome::Applied { .. }),
        "{applied:?}"
    );
    let truncated = || class_package(3, "Art 10 Honours");
    let held = |outcome: ImportOutcome| match outcome {
        ImportOutcome::Held { run, plan, .. } => (run, plan),
        other => panic!("not held: {other:?}"),
    };

    let (rejected, plan) = held(import_package(&f, "short.zip", truncated()).await);
    let foreseen = plan.classes.expect("the package has classes");
    assert_eq!(foreseen.summary(), "1 class changed");
    let kept = f.app.run_roster_changes(&f.admin, rejected).await.unwrap();
    assert_eq!(
        kept.as_ref().map(RosterChanges::summary).as_deref(),
        Some("1 class changed")
    );
    f.app.reject_run(&f.admin, rejected).await.unwrap();
    let kept = f.app.run_roster_changes(&f.admin, rejected).await.unwrap();
    assert_eq!(kept, None, "a rejected run changed no class");
    let titles = || async {
        let rosters = f.app.rosters(&f.admin).await.unwrap();
        rosters
            .into_iter()
            .map(|r| r.roster.title)
            .collect::<Vec<_>>()
    };
    assert_eq!(titles().await, ["Art 10"]);

    let (approved, _) = held(import_package(&f, "short.zip", truncated()).await);
    f.app.approve_run(&f.admin, approved, &[]).await.unwrap();
    assert_eq!(titles().await, ["Art 10 Honours"]);
    let done = f.app.run_roster_changes(&f.admin, approved).await.unwrap();
    assert_eq!(
        done.as_ref().map(RosterChanges::summary).as_deref(),
        Some("1 class changed")
    );
    let undo = f.app.undo_run(&f.admin, approved).await.unwrap();
    assert_eq!(undo.rosters_reverted, 1, "{undo:?}");
    assert_eq!(titles().await, ["Art 10"]);
}

/// The sample's class is a roster; its teacher sees it, with the members the status rules show.
async fn the_class_is_a_roster_its_teacher_sees(f: &Fixture) {
    let rosters = f.app.rosters(&f.admin).await.unwrap();
    assert_eq!(rosters.len(), 1);
    assert_eq!(rosters[0].roster.title, "Mathematics 10");
    assert_eq!((rosters[0].teachers, rosters[0].students), (1, 1));
    let grace = f.app.find_user(&f.admin, "grace.hopper").await.unwrap();
    let teacher = rollcall_app::Principal::user(&grace);
    let theirs = f.app.rosters(&teacher).await.unwrap();
    assert_eq!(theirs.len(), 1, "a teacher sees the rosters they teach");
    let (_, members) = f.app.roster(&teacher, theirs[0].roster.id).await.unwrap();
    let names: Vec<String> = members.iter().map(|(u, _)| u.display_name()).collect();
    assert_eq!(names, ["Grace Hopper", "Ada Lovelace"], "teachers first");
    let ada = f.app.find_user(&f.admin, "ada.lovelace").await.unwrap();
    let archive = ChangeStatus {
        status: "archived".to_owned(),
        reason: Some("Left".to_owned()),
        ..ChangeStatus::default()
    };
    f.app
        .change_status(&f.admin, ada.id(), archive)
        .await
        .unwrap();
    let (_, members) = f.app.roster(&teacher, theirs[0].roster.id).await.unwrap();
    assert_eq!(members.len(), 1, "archived members are hidden (and kept)");
    assert_eq!(f.app.rosters(&f.admin).await.unwrap()[0].students, 0);
    let max = f.app.find_user(&f.admin, "max.planck").await.unwrap();
    let student = rollcall_app::Principal::user(&max);
    assert!(matches!(
        f.app.rosters(&student).await,
        Err(AppError::Forbidden)
    ));
}

/// A stored zip of `(name, text)` entries.
fn zipped(entries: &[(&str, &str)]) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("rollcall-package-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in entries {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let zip = rollcall_import::oneroster::pack_folder(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    zip
}

/// A name no other test uses at the same time.
fn uuid_like() -> String {
    rollcall_domain::RunId::new().to_string()
}

/// A roster file that moves Bob to another department moves him between the segments built
/// on it, and one that leaves Carl out (archiving him) takes him out of his.
pub async fn an_import_that_changes_a_department_moves_people_between_segments(db: TestDb) {
    let f = fixture(db).await;
    roster_source(&f).await;
    // Segments name the attributes people have: the first file brings `department`.
    let header = "external_id,username,given_name,family_name,role,department\n";
    run(
        &f,
        &format!(
            "{header}S1,ada,Ada,Lovelace,student,Science\nS2,bob,Bob,Bell,student,Science\n\
             S3,carl,Carl,Cole,student,Maths\n"
        ),
        false,
    )
    .await;
    let segment = |name: &str, department: &str| rollcall_app::NewSegment {
        name: name.to_owned(),
        rule: format!("department = {department}"),
    };
    let science = f
        .app
        .create_segment(&f.admin, &segment("Science", "science"))
        .await
        .unwrap()
        .record
        .id;
    let maths = f
        .app
        .create_segment(&f.admin, &segment("Maths", "maths"))
        .await
        .unwrap()
        .record
        .id;
    let members = |id| {
        let f = &f;
        async move {
            let people = f.app.segment_members(&f.admin, id, 0, 10).await.unwrap();
            people
                .iter()
                .map(|u| u.given_name().as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(members(science).await, ["Bob", "Ada"], "by family name");
    assert_eq!(members(maths).await, ["Carl"]);

    let moved = run(
        &f,
        &format!("{header}S1,ada,Ada,Lovelace,student,Science\nS2,bob,Bob,Bell,student,Maths\n"),
        false,
    )
    .await;
    assert_eq!(
        (moved.counts().updated, moved.counts().archived),
        (1, 1),
        "{moved:#?}"
    );
    assert_eq!(members(science).await, ["Ada"]);
    assert_eq!(
        members(maths).await,
        ["Bob"],
        "Carl is archived: out of every listing"
    );
}
