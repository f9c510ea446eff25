//! Plain CSV as schools send it, and every way a file can be wrong.

use rollcall_domain::Role;
use rollcall_domain::provisioning::{Listed, Row};

use super::read;
use crate::Problem;

fn people(text: &[u8]) -> Vec<Listed> {
    read(text)
        .unwrap_or_else(|problems| panic!("{problems:#?}"))
        .into_iter()
        .map(|row| match row {
            Row::Listed(listed) => listed,
            Row::Deleted { .. } => panic!("plain files delete nobody"),
        })
        .collect()
}

fn problems(text: &[u8]) -> Vec<String> {
    read(text)
        .expect_err("the file is refused")
        .iter()
        .map(Problem::to_string)
        .collect()
}

#[test]
fn the_documented_sample_reads_whole() {
    let sample = include_bytes!("../../../../docs/formats/plain-sample.csv");
    let read = people(sample);
    assert_eq!(read.len(), 5);
    let zoe = &read[4];
    assert_eq!(zoe.line, 6);
    assert_eq!(zoe.given_name.as_str(), "Zoë");
    assert_eq!(zoe.role, Some(Role::Teacher));
    assert_eq!(zoe.attributes.get("department"), Some("Science, Biology"));
    let grace = &read[2];
    assert!(!grace.enabled);
    assert!(grace.username.is_none());
    assert_eq!(read[0].attributes.get("grade"), Some("9"));
    assert_eq!(
        read[0].attributes.get("department"),
        None,
        "blank sets nothing"
    );
}

#[test]
fn other_platforms_headers_a_bom_and_crlf_are_understood() {
    let file = "\u{feff}First Name,LASTNAME,Email Address,User_Name,Type\r\n\
                Ada,Lovelace,ada@x.example,ada,Learner\r\n\
                Alan,Turing,alan@x.example,,\r\n";
    let read = people(file.as_bytes());
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].role, Some(Role::Student));
    assert_eq!(
        read[0].external_id.as_str(),
        "ada",
        "known by username without an id"
    );
    assert_eq!(
        read[1].external_id.as_str(),
        "alan@x.example",
        "else by e-mail"
    );
    assert!(read[1].enabled, "blank status is active");
    assert_eq!(
        (read[0].line, read[1].line),
        (2, 3),
        "lines as an editor shows them"
    );
}

#[test]
fn windows_and_old_mac_line_ends_keep_every_row_on_its_line() {
    for end in ["\r\n", "\r", "\n"] {
        let file = [
            "id,username,given_name,family_name,role",
            "1,ada,Ada,Lovelace,student",
            "",
            "2,alan,Alan,Turing,student",
            "3,grace,Grace,Hopper,wizard",
            "",
        ]
        .join(end);
        let problems = problems(file.as_bytes());
        assert_eq!(problems.len(), 1, "{end:?}: {problems:?}");
        assert!(
            problems[0].starts_with("line 5, column role"),
            "{end:?}: {problems:?}"
        );
        let good = file.replace("wizard", "teacher");
        let lines: Vec<u64> = people(good.as_bytes()).iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 4, 5], "{end:?}");
    }
}

#[test]
fn every_bad_row_is_reported_with_line_column_and_value() {
    let file = "id,username,given_name,family_name,role,status\n\
                1,ada,Ada,Lovelace,wizard,active\n\
                2,alan,Alan,Turing,student,maybe\n\
                3,bad name,Grace,Hopper,student,\n\
                4,ok,Only,Three\n\
                5,,Nobody,Login,student,\n";
    let found = problems(file.as_bytes());
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(
        found[0].starts_with("line 2, column role (\"wizard\")"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("line 3, column status (\"maybe\")"),
        "{}",
        found[1]
    );
    assert!(
        found[2].starts_with("line 4, column username (\"bad name\")"),
        "{}",
        found[2]
    );
    assert!(
        found[3].contains("line 5: has 4 fields where the header has 6"),
        "{}",
        found[3]
    );
    assert!(
        found[4].contains("line 6: has neither a username nor an email"),
        "{}",
        found[4]
    );
}

#[test]
fn files_that_would_empty_a_source_or_cannot_be_read_are_refused() {
    assert!(problems(b"")[0].contains("the file is empty"));
    assert!(problems(b"username,given_name,family_name\n")[0].contains("no people"));
    assert!(problems(b"username,given_name,family_name\r\n\r\n")[0].contains("no people"));
    let headless = problems(b"username,surname\nada,Lovelace\n");
    assert!(headless[0].contains("no given_name column"), "{headless:?}");
    let twice = problems(b"username,first_name,given_name,family_name\nada,A,A,L\n");
    assert!(twice[0].contains("names a column twice"), "{twice:?}");
    let odd = problems(b"username,given_name,family_name,Shoe Size!\nada,A,L,44\n");
    assert!(odd[0].contains("column Shoe Size!"), "{odd:?}");
    let latin1 = problems(b"username,given_name,family_name\nzoe,Zo\xeb,O\n");
    assert!(
        latin1[0].contains("line 2, column given_name"),
        "{latin1:?}"
    );
    assert!(latin1[0].contains("not UTF-8"), "{latin1:?}");
    let quote = problems(b"username,given_name,family_name\nada,\"Ada,Lovelace\n");
    assert!(!quote.is_empty());
    let control = problems(b"username,given_name,family_name\nada,A\x1b[2J,L\n");
    assert!(control[0].contains("U+001B"), "{control:?}");
}

#[test]
fn a_file_with_very_many_problems_says_how_many_more() {
    let rows = (0..1_200).map(|i| format!("u{i},A,B,wizard"));
    let file = std::iter::once("username,given_name,family_name,role".to_owned())
        .chain(rows)
        .collect::<Vec<_>>()
        .join("\n");
    let found = problems(file.as_bytes());
    assert_eq!(found.len(), crate::MAX_PROBLEMS + 1);
    assert!(
        found
            .last()
            .is_some_and(|p| p.contains("200 more problems"))
    );
}
