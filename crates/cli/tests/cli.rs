//! The `rollcall` binary as an operator runs it: one server per SQLite file, one-shot commands
//! beside it, and stored text printed safely.
#![allow(clippy::unwrap_used, reason = "tests: a failed step is a failed test")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs a command to its end; one still running after 30 s (a server that should have
/// refused to start, say) is stopped and fails the test.
fn rollcall(url: &str, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["--database-url", url])
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("ROLLCALL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("`rollcall {}` was still running after 30 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A server on a free port, once it says it is listening.
fn serve(url: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
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
    if heard.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        panic!("the server did not say it was listening within 30 s");
    }
    child
}

/// The org `northfield`.
fn create_school(url: &str) {
    ok(&rollcall(
        url,
        &["org", "create", "northfield", "--name", "Northfield"],
    ));
}

/// Its teacher `ada`.
fn add_ada(url: &str) {
    let args = "user add --org northfield --username ada --given-name Ada --family-name Lovelace \
                --role teacher";
    ok(&rollcall(url, &args.split_whitespace().collect::<Vec<_>>()));
}

struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_second_server_on_one_sqlite_file_refuses_to_start_and_commands_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("school.db").display());
    create_school(&url);
    let _first = Stop(serve(&url));

    let second = rollcall(&url, &["serve", "--bind", "127.0.0.1:0"]);
    assert!(!second.status.success(), "a second server started");
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("already using"), "{said}");
    assert!(said.contains("PostgreSQL"), "{said}");

    add_ada(&url);
    let listed = ok(&rollcall(&url, &["user", "list", "--org", "northfield"]));
    assert!(listed.contains("ada"), "{listed}");
}

#[test]
fn stored_text_reaches_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("school.db").display());
    create_school(&url);
    add_ada(&url);
    ok(&rollcall(
        &url,
        &[
            "user",
            "deactivate",
            "--org",
            "northfield",
            "ada",
            "--reason",
            "left\nto teach\telsewhere",
        ],
    ));
    let refused = rollcall(
        &url,
        &[
            "user",
            "archive",
            "--org",
            "northfield",
            "ada",
            "--reason",
            "x\u{1b}[2J",
        ],
    );
    assert!(
        !refused.status.success(),
        "an escape sequence in a reason is refused"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("U+001B"));
    let shown = ok(&rollcall(
        &url,
        &["user", "show", "--org", "northfield", "ada"],
    ));
    assert!(
        shown.contains(r"left\u{a}to teach\u{9}elsewhere"),
        "{shown}"
    );
    assert!(
        !shown.contains('\t') && !shown.contains('\u{1b}'),
        "{shown}"
    );
}

#[test]
fn a_roster_file_is_previewed_then_imported_and_a_paused_source_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("school.db").display());
    let file = dir.path().join("roster.csv");
    std::fs::write(
        &file,
        "external_id,username,given_name,family_name,role\nS1,ada,Ada,Lovelace,student\n",
    )
    .unwrap();
    let file = file.display().to_string();
    create_school(&url);
    ok(&rollcall(
        &url,
        &["source", "add", "--org", "northfield", "sis"],
    ));
    let preview = ok(&rollcall(
        &url,
        &[
            "import",
            "--org",
            "northfield",
            "--source",
            "sis",
            "--dry-run",
            &file,
        ],
    ));
    assert!(preview.contains("created 1"), "{preview}");
    assert!(preview.contains("nothing was changed"), "{preview}");
    let listed = ok(&rollcall(&url, &["user", "list", "--org", "northfield"]));
    assert!(!listed.contains("ada"), "{listed}");
    ok(&rollcall(
        &url,
        &["import", "--org", "northfield", "--source", "sis", &file],
    ));
    let listed = ok(&rollcall(&url, &["user", "list", "--org", "northfield"]));
    assert!(listed.contains("ada"), "{listed}");
    let history = ok(&rollcall(&url, &["runs", "list", "--org", "northfield"]));
    assert!(history.contains("applied  roster.csv"), "{history}");
    let id = history
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let shown = ok(&rollcall(
        &url,
        &["runs", "show", "--org", "northfield", &id],
    ));
    assert!(
        shown.contains("line 2") && shown.contains("create"),
        "{shown}"
    );
    assert!(!shown.contains("In its classes"), "{shown}");
    // A OneRoster package, as a folder: what its run did to classes is said too.
    ok(&rollcall(
        &url,
        &[
            "source",
            "add",
            "--org",
            "northfield",
            "--format",
            "oneroster",
            "district",
        ],
    ));
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/formats/oneroster-1.1-sample"
    );
    let applied = ok(&rollcall(
        &url,
        &[
            "import",
            "--org",
            "northfield",
            "--source",
            "district",
            sample,
        ],
    ));
    assert!(
        applied.contains("In its classes: 1 class made, "),
        "{applied}"
    );
    ok(&rollcall(
        &url,
        &["source", "pause", "--org", "northfield", "sis"],
    ));
    let paused = rollcall(
        &url,
        &["import", "--org", "northfield", "--source", "sis", &file],
    );
    assert!(!paused.status.success());
    let said = String::from_utf8_lossy(&paused.stderr);
    assert!(said.contains("paused"), "{said}");
    assert!(
        !said.contains("backtrace"),
        "an operator sees no stack trace: {said}"
    );
}

#[test]
fn a_held_run_is_approved_then_undone_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("school.db").display());
    let write = |name: &str, rows: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("external_id,username,given_name,family_name,role\n{rows}"),
        )
        .unwrap();
        path.display().to_string()
    };
    let both = write(
        "both.csv",
        "S1,ada,Ada,Lovelace,student\nS2,bo,Bo,Bell,student\n",
    );
    let one = write("one.csv", "S1,ada,Ada,Lovelace,student\n");
    create_school(&url);
    ok(&rollcall(
        &url,
        &["source", "add", "--org", "northfield", "sis"],
    ));
    let safeguard = ok(&rollcall(
        &url,
        &["source", "safeguard", "--org", "northfield", "--floor", "1"],
    ));
    assert!(
        safeguard.contains("more than 10%") && safeguard.contains("least 1;"),
        "{safeguard}"
    );
    let import = |file: &str| {
        rollcall(
            &url,
            &["import", "--org", "northfield", "--source", "sis", file],
        )
    };
    ok(&import(&both));
    let held = import(&one);
    assert!(!held.status.success(), "a held run is not a success");
    let said = String::from_utf8_lossy(&held.stderr);
    let id = said
        .split("held for approval as run ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("{said}"))
        .to_owned();
    assert!(
        said.contains(&format!("rollcall runs approve --org northfield {id}")),
        "the hint is a command to copy: {said}"
    );
    let listed = ok(&rollcall(&url, &["user", "list", "--org", "northfield"]));
    assert!(listed.contains("bo"), "nothing changed yet: {listed}");
    let approved = ok(&rollcall(
        &url,
        &["runs", "approve", "--org", "northfield", &id],
    ));
    assert!(approved.contains("archived 1"), "{approved}");
    let shown = ok(&rollcall(
        &url,
        &["runs", "show", "--org", "northfield", &id],
    ));
    assert!(
        shown.starts_with("applied one.csv (full run of sis,"),
        "{shown}"
    );
    assert!(shown.contains("applied by cli at"), "{shown}");
    // Piped to a reader that has stopped reading (`| head`): it ends quietly, as tools do.
    let mut piped = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args([
            "--database-url",
            &url,
            "runs",
            "show",
            "--org",
            "northfield",
            &id,
        ])
        .env("ROLLCALL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(piped.stdout.take());
    let ended = piped.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&ended.stderr);
    assert!(!said.contains("panicked"), "{said}");
    assert_eq!(ended.status.code(), Some(141), "{said}");
    let undone = ok(&rollcall(
        &url,
        &["runs", "undo", "--org", "northfield", &id],
    ));
    assert!(undone.contains("1 person put back"), "{undone}");
    let bo = ok(&rollcall(
        &url,
        &["user", "show", "--org", "northfield", "bo"],
    ));
    assert!(bo.contains(" student active sis"), "{bo}");
    let again = rollcall(&url, &["runs", "undo", "--org", "northfield", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already undone"));
}

#[test]
fn the_demo_has_a_roster_source_with_its_history_and_a_held_run() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["demo", "--bind", "127.0.0.1:0", "--demo-database-url", &url])
        .env("ROLLCALL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = said.send(line);
        }
    });
    let mut printed = Vec::new();
    while let Ok(line) = heard.recv_timeout(Duration::from_mins(2)) {
        let done = line.contains("Try:");
        printed.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let printed = printed.join("\n");
    assert!(
        printed.contains("1 roster import(s) held for approval"),
        "{printed}"
    );
    let sources = ok(&rollcall(&url, &["source", "list", "--org", "northfield"]));
    assert!(sources.contains("sis-roster"), "{sources}");
    let runs = ok(&rollcall(&url, &["runs", "list", "--org", "northfield"]));
    let outcomes: Vec<&str> = runs
        .lines()
        .filter_map(|line| line.split_whitespace().nth(3))
        .collect();
    assert_eq!(outcomes, ["held", "applied", "applied"], "{runs}");
    assert!(
        printed.contains("Learner:"),
        "a learner's sign-in is printed: {printed}"
    );
    let scim = printed
        .lines()
        .find(|line| line.starts_with("SCIM: "))
        .unwrap_or_else(|| panic!("a SCIM line of its own: {printed}"));
    let words: Vec<&str> = scim.split_whitespace().collect();
    assert!(
        words.len() == 4 && words[1].ends_with("/scim/v2") && words[2] == "token",
        "{scim}"
    );
    assert!(words[3].starts_with("sc_"), "{scim}");
    let connections = ok(&rollcall(&url, &["scim", "list", "--org", "northfield"]));
    assert!(connections.contains("entra"), "{connections}");
    let courses = ok(&rollcall(&url, &["course", "list", "--org", "northfield"]));
    assert!(courses.contains("Fire safety at school"), "{courses}");
    assert!(courses.contains("enrols everyone"), "{courses}");
    let credits = ok(&rollcall(&url, &["credits", "show", "--org", "northfield"]));
    assert!(
        credits.contains("first starts of Fire safety at school"),
        "{credits}"
    );
}

/// A broken file says where; a course that does not validate names each field.
fn bad_course_files_are_refused_saying_where(url: &str, dir: &std::path::Path) {
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"title\": \"x\",\n  \"lessons\": [}").unwrap();
    let refused = rollcall(
        url,
        &[
            "course",
            "add",
            "--org",
            "northfield",
            broken.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 2, column"));
    let empty = dir.join("empty.json");
    std::fs::write(
        &empty,
        r#"{"title": " ", "description": "", "credit_cost": 0, "lessons": [],
            "completion": {"kind": "mark_complete"}}"#,
    )
    .unwrap();
    let refused = rollcall(
        url,
        &[
            "course",
            "add",
            "--org",
            "northfield",
            empty.to_str().unwrap(),
        ],
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("title: is required") && said.contains("lessons: must hold"),
        "{said}"
    );
}

#[test]
fn a_course_is_written_as_json_enrolled_and_paid_for_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rollcall.db").display());
    create_school(&url);
    add_ada(&url);
    let file = dir.path().join("course.json");
    std::fs::write(
        &file,
        r#"{"title": "Ladder safety", "description": "", "credit_cost": 2,
            "lessons": [{"title": "Feet first", "body": "Check the **feet**."}],
            "completion": {"kind": "mark_complete"}}"#,
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let added = ok(&rollcall(
        &url,
        &["course", "add", "--org", "northfield", file],
    ));
    assert!(
        added.contains("Ladder safety  (1 lessons, marked complete, 2 credits)"),
        "{added}"
    );
    let id = added.split_whitespace().next().unwrap().to_owned();

    bad_course_files_are_refused_saying_where(&url, dir.path());
    let listed = ok(&rollcall(&url, &["course", "list", "--org", "northfield"]));
    assert_eq!(
        listed.lines().count(),
        1,
        "nothing else was added: {listed}"
    );

    let enrolled = ok(&rollcall(
        &url,
        &[
            "course",
            "enrol",
            "--org",
            "northfield",
            &id,
            "--user",
            "ada",
        ],
    ));
    assert_eq!(enrolled.trim(), "1 newly enrolled");
    let topped = ok(&rollcall(
        &url,
        &[
            "credits",
            "top-up",
            "--org",
            "northfield",
            "5",
            "--reason",
            "term",
        ],
    ));
    assert_eq!(topped.trim(), "5 credits added; 5 left");
    let refused = rollcall(&url, &["credits", "top-up", "--org", "northfield", "0"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("amount"));
    let shown = ok(&rollcall(
        &url,
        &["course", "show", "--org", "northfield", &id],
    ));
    assert!(shown.contains("active    enrolled       1"), "{shown}");
    let exported = ok(&rollcall(
        &url,
        &["course", "export", "--org", "northfield", &id],
    ));
    assert!(exported.contains("\"title\": \"Feet first\""), "{exported}");
    let retired = ok(&rollcall(
        &url,
        &["course", "retire", "--org", "northfield", &id],
    ));
    assert!(retired.contains("retired"), "{retired}");
}

#[test]
fn scim_connections_and_their_tokens_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rollcall.db").display());
    create_school(&url);
    let added = ok(&rollcall(
        &url,
        &[
            "scim",
            "add",
            "--org",
            "northfield",
            "okta",
            "--role-attribute",
            "title",
        ],
    ));
    assert!(added.contains("roles from title"), "{added}");
    let first = added
        .split_whitespace()
        .find(|w| w.starts_with("sc_"))
        .unwrap_or_else(|| panic!("the token is printed: {added}"))
        .to_owned();
    let rotated = ok(&rollcall(
        &url,
        &[
            "scim",
            "token",
            "--org",
            "northfield",
            "okta",
            "--token-name",
            "rotation",
        ],
    ));
    assert!(
        rotated.contains("sc_") && !rotated.contains(&first),
        "{rotated}"
    );
    let listed = ok(&rollcall(&url, &["scim", "list", "--org", "northfield"]));
    let default_id = listed
        .lines()
        .find(|l| l.contains(" default "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("{listed}"))
        .to_owned();
    ok(&rollcall(
        &url,
        &["scim", "revoke", "--org", "northfield", "okta", &default_id],
    ));
    let listed = ok(&rollcall(&url, &["scim", "list", "--org", "northfield"]));
    assert!(listed.contains("revoked"), "{listed}");
    // Refusals say what was wrong.
    let twice = rollcall(&url, &["scim", "add", "--org", "northfield", "okta"]);
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("another source"),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );
    let bad_role = rollcall(
        &url,
        &[
            "scim",
            "add",
            "--org",
            "northfield",
            "entra",
            "--role-attribute",
            "shoeSize",
        ],
    );
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("role_attribute"));
    let not_scim = rollcall(&url, &["scim", "token", "--org", "northfield", "nobody"]);
    assert!(!not_scim.status.success());
}

#[test]
fn a_report_is_written_whole_to_a_file_and_a_refused_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    create_school(&url);
    add_ada(&url);
    let course = dir.path().join("course.json");
    std::fs::write(
        &course,
        r#"{"title": "Fire safety", "description": "For all.", "credit_cost": 0,
            "lessons": [{"title": "Exits", "body": "Know them."}],
            "completion": {"kind": "mark_complete"}}"#,
    )
    .unwrap();
    ok(&rollcall(
        &url,
        &[
            "course",
            "add",
            "--org",
            "northfield",
            course.to_str().unwrap(),
        ],
    ));
    let listed = ok(&rollcall(&url, &["course", "list", "--org", "northfield"]));
    let id = listed
        .split_whitespace()
        .find(|w| w.len() == 36 && w.contains('-'))
        .unwrap_or_else(|| panic!("a course id in {listed}"))
        .to_owned();
    ok(&rollcall(
        &url,
        &["course", "enrol", "--org", "northfield", &id, "--everyone"],
    ));

    let out = dir.path().join("active.csv");
    let written = rollcall(
        &url,
        &[
            "report",
            "--org",
            "northfield",
            "--course",
            "FIRE SAFETY",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    ok(&written);
    assert!(
        String::from_utf8_lossy(&written.stderr).contains("1 rows written to"),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("user_id,username,email,given_name"));
    assert!(
        lines[1].contains(",\"ada\",,\"Ada\",\"Lovelace\",active,"),
        "{csv}"
    );

    // The archived tab has nobody yet: the header alone, to stdout.
    let archived = ok(&rollcall(
        &url,
        &["report", "--org", "northfield", "--tab", "archived"],
    ));
    assert_eq!(archived.lines().count(), 1, "{archived}");

    // Refusals say why and leave no file, whole or partial.
    let refused_out = dir.path().join("refused.csv");
    for bad in [
        vec!["--from", "2026-05-01", "--to", "2026-04-01"],
        vec!["--course", "Knitting"],
        vec!["--tab", "everything"],
    ] {
        let mut args = vec![
            "report",
            "--org",
            "northfield",
            "-o",
            refused_out.to_str().unwrap(),
        ];
        args.extend(bad.iter().copied());
        let refused = rollcall(&url, &args);
        assert!(!refused.status.success(), "{bad:?} was accepted");
        assert!(!String::from_utf8_lossy(&refused.stderr).is_empty());
        assert!(!refused_out.exists(), "{bad:?} left a file");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
