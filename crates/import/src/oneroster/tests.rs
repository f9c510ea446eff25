//! OneRoster packages as systems send them, and every way a package can be wrong.

use std::io::Write as _;
use std::path::Path;

use rollcall_domain::Role;
use rollcall_domain::provisioning::{Listed, Mode, Row};
use rollcall_domain::roster::MemberRole;

use super::{pack_folder, read_zip};
use crate::{Problem, Read};

fn sample(version: &str) -> Vec<u8> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/formats")
        .join(format!("oneroster-{version}-sample"));
    pack_folder(&folder).unwrap()
}

/// A zip of `(name, text)` entries, deflated.
fn zip(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn listed(read: &Read) -> Vec<&Listed> {
    read.rows
        .iter()
        .filter_map(|row| match row {
            Row::Listed(listed) => Some(listed),
            Row::Deleted { .. } => None,
        })
        .collect()
}

fn problems(package: &[u8]) -> Vec<String> {
    read_zip(package)
        .expect_err("the package is refused")
        .iter()
        .map(Problem::to_string)
        .collect()
}

const MANIFEST_11: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
    file.users,bulk\nfile.orgs,absent\n";
const USERS_11: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,\
    username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,\
    grades,password\n";

#[test]
fn the_documented_1_1_sample_reads_whole() {
    let read = read_zip(&sample("1.1")).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(read.mode, Some(Mode::Full));
    let people = listed(&read);
    let names: Vec<&str> = people.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(
        names,
        ["stu-1001", "stu-1002", "stu-1003", "tea-2001", "adm-3001"]
    );
    let ada = people[0];
    assert_eq!(ada.role, Some(Role::Student));
    assert_eq!(ada.attributes.get("school"), Some("Northfield High School"));
    assert_eq!(ada.attributes.get("grade"), Some("10"));
    assert_eq!(people[1].given_name.as_str(), "Zoë");
    assert!(people[1].email.is_none());
    assert!(!people[2].enabled, "enabledUser=false: inactive, not gone");
    assert_eq!(people[3].role, Some(Role::Teacher));
    assert_eq!(
        people[4].role,
        Some(Role::Staff),
        "a feed never makes anyone a Rollcall admin"
    );
    assert_eq!(
        people[4].attributes.get("school"),
        Some("Northfield School District")
    );
    assert_eq!(read.skipped.len(), 1, "the parent is skipped and counted");
    assert_eq!(read.skipped[0].line, 7);
    assert!(read.skipped[0].why.contains("parent"), "{:?}", read.skipped);
    let rosters = read.rosters.expect("classes and enrollments are read");
    assert!(rosters.classes_full && rosters.enrollments_full);
    assert_eq!(rosters.classes.len(), 1);
    assert_eq!(rosters.classes[0].title, "Mathematics 10");
    assert_eq!(
        rosters.classes[0].school.as_deref(),
        Some("Northfield High School")
    );
    let members: Vec<(&str, MemberRole)> = rosters
        .enrollments
        .iter()
        .map(|e| (e.user.as_str(), e.role))
        .collect();
    assert_eq!(
        members,
        [
            ("stu-1001", MemberRole::Student),
            ("tea-2001", MemberRole::Teacher)
        ],
        "last year's enrolment (ended 2026-06-30) is not current"
    );
}

#[test]
fn the_documented_1_2_sample_takes_roles_from_roles_csv() {
    let read = read_zip(&sample("1.2")).unwrap_or_else(|p| panic!("{p:#?}"));
    let people = listed(&read);
    let roles: Vec<(&str, Option<Role>)> = people
        .iter()
        .map(|p| (p.external_id.as_str(), p.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("stu-1001", Some(Role::Student)),
            ("tea-2001", Some(Role::Teacher)),
            ("cou-4001", Some(Role::Staff)),
        ],
        "the primary role wins; TRUE reads as true"
    );
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(read.skipped[0].external_id, "gone-5001");
    assert_eq!(read.skipped[0].why, "no current role in roles.csv");
}

#[test]
fn a_delta_package_deletes_and_changes_only_its_rows() {
    let package = zip(&[
        (
            "manifest.csv",
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,delta\n",
        ),
        (
            "users.csv",
            &format!(
                "{USERS_11}u1,active,2026-11-01T10:00:00.000Z,true,,student,amy,,Amy,Ames,,,,,,,,\n\
                 u2,tobedeleted,2026-11-01,true,,student,bo,,Bo,Bell,,,,,,,,\n"
            ),
        ),
    ]);
    let read = read_zip(&package).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(read.mode, Some(Mode::Delta));
    assert!(matches!(&read.rows[0], Row::Listed(l) if l.external_id.as_str() == "u1"));
    assert!(
        matches!(&read.rows[1], Row::Deleted { line: 3, external_id } if external_id.as_str() == "u2")
    );
}

#[test]
fn real_packages_variations_are_read() {
    // In one folder, file names in other cases, a BOM, CRLF, TRUE, macOS's extra files.
    let users = format!(
        "\u{feff}{}u1,,,TRUE,,Student,amy,,Amy,Ames,,,,,,,,\r\n",
        USERS_11.replace('\n', "\r\n")
    );
    let package = zip(&[
        ("export/Manifest.csv", MANIFEST_11),
        ("export/USERS.csv", &users),
        ("__MACOSX/export/._USERS.csv", "junk"),
    ]);
    let read = read_zip(&package).unwrap_or_else(|p| panic!("{p:#?}"));
    let people = listed(&read);
    assert_eq!(people.len(), 1);
    assert!(people[0].enabled);
    // A release's patches name the same version.
    for version in ["1.1.0", "v1.1"] {
        let manifest = MANIFEST_11.replace(
            "oneroster.version,1.1",
            &format!("oneroster.version,{version}"),
        );
        let package = zip(&[("manifest.csv", &manifest), ("users.csv", &users)]);
        assert!(read_zip(&package).is_ok(), "{version}");
    }
    for version in ["1.0", "1.10", "1.1.x", "2.0"] {
        let manifest = MANIFEST_11.replace(
            "oneroster.version,1.1",
            &format!("oneroster.version,{version}"),
        );
        let package = zip(&[("manifest.csv", &manifest), ("users.csv", &users)]);
        let said = problems(&package);
        assert!(
            said[0].contains("is not a OneRoster version"),
            "{version}: {said:?}"
        );
    }
}

#[test]
fn a_package_without_users_or_manifest_is_refused_by_name() {
    let no_users = zip(&[("manifest.csv", MANIFEST_11)]);
    assert_eq!(
        problems(&no_users),
        ["users.csv: manifest.csv says bulk, but the package lacks it"]
    );
    let no_manifest = zip(&[("users.csv", USERS_11)]);
    assert!(problems(&no_manifest)[0].starts_with("the package: has no manifest.csv"));
    let undeclared = zip(&[
        ("manifest.csv", MANIFEST_11),
        (
            "users.csv",
            &format!("{USERS_11}u1,,,true,,student,amy,,Amy,Ames,,,,,,,,\n"),
        ),
        ("courses.csv", "sourcedId\nc1\n"),
    ]);
    assert_eq!(
        problems(&undeclared),
        ["courses.csv: is in the package but not in manifest.csv"]
    );
    assert!(problems(b"not a zip at all")[0].starts_with("the package: is not a zip file"));
}

#[test]
fn paths_that_escape_and_packages_that_balloon_are_refused() {
    let escape = zip(&[("manifest.csv", MANIFEST_11), ("../users.csv", USERS_11)]);
    assert_eq!(
        problems(&escape),
        ["the package: has an entry '../users.csv' whose path leaves the package folder"]
    );
    // 60 MB of the same byte deflates to a few dozen KiB: far more than 200 times its zip.
    let bomb_text = "a".repeat(60 * 1024 * 1024);
    let bomb = zip(&[("manifest.csv", MANIFEST_11), ("users.csv", &bomb_text)]);
    let said = problems(&bomb);
    assert!(
        said[0].starts_with("the package: unpacks to more than"),
        "{said:?}"
    );
}

#[test]
fn bad_rows_are_all_reported_by_file_line_and_column() {
    let header_only = zip(&[("manifest.csv", MANIFEST_11), ("users.csv", USERS_11)]);
    assert!(problems(&header_only)[0].starts_with("users.csv line 1: has a header but no people"));
    let bad = zip(&[
        ("manifest.csv", MANIFEST_11),
        (
            "users.csv",
            &format!(
                "{USERS_11}u1,,,maybe,,student,amy,,Amy,Ames,,,,,,,,\n\
                 u2,,,true,,wizard,bo,,Bo,Bell,,,,,,,,\n\
                 u3,tobedeleted,,true,,student,cy,,Cy,Cole,,,,,,,,\n\
                 u4,,,true,,student,,,Di,Dow,,,,,,,,\n"
            ),
        ),
    ]);
    let said = problems(&bad);
    assert_eq!(said.len(), 4, "{said:#?}");
    assert_eq!(
        said[0],
        "users.csv line 2, column enabledUser (\"maybe\"): must be true or false"
    );
    assert!(
        said[1].starts_with("users.csv line 3, column role (\"wizard\"): is not a OneRoster role")
    );
    assert!(said[2].starts_with("users.csv line 4, column status (\"tobedeleted\"): a bulk file"));
    assert!(
        said[3].starts_with("users.csv line 5, column username"),
        "{}",
        said[3]
    );
}

/// Each person's digest, as the reader computes it, by external id.
fn digests(
    package: &[u8],
) -> std::collections::HashMap<String, rollcall_domain::provisioning::Digest> {
    let read = read_zip(package).unwrap_or_else(|p| panic!("{p:#?}"));
    listed(&read)
        .into_iter()
        .map(|l| (l.external_id.as_str().to_owned(), l.digest.unwrap()))
        .collect()
}

#[test]
fn a_row_is_digested_from_what_it_sends_and_passed_over_when_asked() {
    let users = |rows: &str| {
        zip(&[
            ("manifest.csv", MANIFEST_11),
            ("users.csv", &format!("{USERS_11}{rows}")),
        ])
    };
    let first = users(
        "u1,,2026-01-01,true,,student,ada,,Ada,Lovelace,,,ada@school.example,,,,9,\n\
         u2,,2026-01-01,true,,student,bob,,Bob,Bell,,,,,,,9,\n",
    );
    // A new export date, a middle name and a password are not read: the digests stay.
    let restamped = users(
        "u1,,2026-02-02,true,,student,ada,,Ada,Lovelace,Augusta,,ada@school.example,,,,9,pw\n\
         u2,,2026-02-02,true,,student,bob,,Bob,Bell-Smith,,,,,,,9,\n",
    );
    let (a, b) = (digests(&first), digests(&restamped));
    assert_eq!(a["u1"], b["u1"]);
    assert_ne!(a["u2"], b["u2"], "a family name is read");

    let mut asked = Vec::new();
    let read = super::read_zip_with(&restamped, &mut |line, id, digest| {
        asked.push((line, id.to_owned()));
        digest == a["u1"]
    })
    .unwrap();
    assert_eq!(asked, [(2, "u1".to_owned()), (3, "u2".to_owned())]);
    assert_eq!(read.quiet, 1);
    let people = listed(&read);
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].external_id.as_str(), "u2");

    // A bulk file whose every row is passed over is not an empty file.
    let all = super::read_zip_with(&first, &mut |_, _, _| true).unwrap();
    assert_eq!((all.quiet, all.rows.len()), (2, 0));
}

#[test]
fn rows_handed_out_as_read_are_the_rows_read_whole_in_order() {
    let package = zip(&[
        ("manifest.csv", MANIFEST_11),
        (
            "users.csv",
            &format!(
                "{USERS_11}u1,,2026-01-01,true,,student,ada,,Ada,Lovelace,,,,,,,9,\n\
                 u2,,2026-01-01,true,,student,bob,,Bob,Bell,,,,,,,9,\n\
                 u3,,2026-01-01,false,,teacher,cy,,Cy,Cole,,,,,,,,\n"
            ),
        ),
    ]);
    let quiet = |line: u64| line == 3;
    let whole = super::read_zip_with(&package, &mut |line, _, _| quiet(line)).unwrap();
    let mut handed = Vec::new();
    let read = super::read_zip_into(&package, &[], &mut |line, _, _| quiet(line), &mut |row| {
        handed.push(row);
    })
    .unwrap();
    assert_eq!(handed, whole.rows);
    assert_eq!(handed.len(), 2);
    assert!(read.rows.is_empty(), "{read:?}");
    assert_eq!((read.quiet, read.mode), (whole.quiet, whole.mode));
}

#[test]
fn a_stored_package_is_read_in_place_as_a_deflated_one_is_and_checked() {
    let users = format!("{USERS_11}u1,,2026-01-01,true,,student,ada,,Ada,Lovelace,,,,,,,9,\n");
    let files = [("manifest.csv", MANIFEST_11), ("users.csv", users.as_str())];
    let deflated = super::read_zip(&zip(&files)).unwrap();
    let owned: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect();
    let stored = super::pack(&owned).unwrap();
    assert_eq!(super::read_zip(&stored).unwrap().rows, deflated.rows);

    // One byte of the stored users.csv changed: its checksum no longer matches.
    let mut damaged = stored.clone();
    let at = damaged
        .windows(5)
        .position(|w| w == b"Ada,L")
        .expect("users.csv lies in the zip as it is");
    damaged[at] = b'E';
    let problems = super::read_zip(&damaged).unwrap_err();
    assert!(
        problems[0].reason.contains("checksum does not match"),
        "{problems:?}"
    );
}

/// The documented sample of `version`, with `file` replaced by `text`.
fn sample_with(version: &str, file: &str, text: &str) -> Vec<u8> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/formats")
        .join(format!("oneroster-{version}-sample"));
    let mut entries: Vec<(String, String)> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let body = if name == file {
                text.to_owned()
            } else {
                std::fs::read_to_string(&path).unwrap()
            };
            (name, body)
        })
        .collect();
    entries.sort();
    let borrowed: Vec<(&str, &str)> = entries
        .iter()
        .map(|(name, body)| (name.as_str(), body.as_str()))
        .collect();
    zip(&borrowed)
}

#[test]
fn roles_are_checked_in_roles_csv_where_they_are_written() {
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,\
        endDate,orgSourcedId,userProfileSourcedId\n\
        r-1,,,stu-1001,primary,learner,,,school-hs,\n\
        r-2,,,tea-2001,main,teacher,,,school-hs,\n\
        r-3,,,cou-4001,primary,counselor,09/01/2026,,school-hs,\n";
    let said = problems(&sample_with("1.2", "roles.csv", roles));
    assert_eq!(said.len(), 3, "{said:#?}");
    assert!(
        said[0].starts_with("roles.csv line 2, column role (\"learner\"): is not a OneRoster role"),
        "{}",
        said[0]
    );
    assert_eq!(
        said[1],
        "roles.csv line 3, column roleType (\"main\"): must be primary or secondary"
    );
    assert_eq!(
        said[2],
        "roles.csv line 4, column beginDate (\"09/01/2026\"): is not a date (use YYYY-MM-DD)"
    );
}

#[test]
fn an_enrollment_whose_date_does_not_read_is_refused_not_dropped() {
    let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role,primary,beginDate,endDate\n\
        enr-1,,,class-math-10,school-hs,stu-1001,student,false,2026-09-01,\n\
        enr-2,,,class-math-10,school-hs,tea-2001,teacher,true,2026-09-01,06/15/2027\n";
    let said = problems(&sample_with("1.1", "enrollments.csv", enrollments));
    assert_eq!(
        said,
        ["enrollments.csv line 3, column endDate (\"06/15/2027\"): is not a date (use YYYY-MM-DD)"]
    );
}

#[test]
fn a_1_2_delta_that_sends_no_roles_for_someone_keeps_theirs() {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n\
        file.users,delta\nfile.roles,delta\n";
    let users = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,\
        familyName,middleName,identifier,email\n\
        tea-2001,active,,true,grace.hopper,,Grace,Hopper-Renamed,,2001,\n\
        stu-1001,active,,true,ada.lovelace,,Ada,Lovelace,,1001,\n";
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,\
        endDate,orgSourcedId,userProfileSourcedId\n\
        r-1,active,,stu-1001,primary,student,,,school-hs,\n";
    let package = zip(&[
        ("manifest.csv", manifest),
        ("users.csv", users),
        ("roles.csv", roles),
    ]);
    let read = read_zip(&package).unwrap_or_else(|p| panic!("{p:#?}"));
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    let people = listed(&read);
    assert_eq!(people.len(), 2);
    let (grace, ada) = (people[0], people[1]);
    assert_eq!((grace.role, grace.creates), (None, false), "her role stays");
    assert_eq!(grace.family_name.as_str(), "Hopper-Renamed");
    assert_eq!(grace.attributes.get("oneroster_role"), None);
    assert_eq!((ada.role, ada.creates), (Some(Role::Student), true));
}

#[test]
fn a_missing_column_is_named_as_the_standard_writes_it() {
    let users = USERS_11.replace("enabledUser,", "");
    let package = zip(&[("manifest.csv", MANIFEST_11), ("users.csv", &users)]);
    assert_eq!(
        problems(&package),
        ["users.csv line 1: has no enabledUser column"]
    );
}

#[test]
fn aides_and_proctors_of_a_class_sit_with_its_teachers() {
    let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role,primary,beginDate,endDate\n\
        enr-1,,,class-math-10,school-hs,stu-1001,student,false,,\n\
        enr-2,,,class-math-10,school-hs,tea-2001,aide,false,,\n\
        enr-3,,,class-math-10,school-hs,cou-4001,Proctor,false,,\n\
        enr-4,,,class-math-10,school-hs,adm-1,administrator,false,,\n";
    let read = read_zip(&sample_with("1.1", "enrollments.csv", enrollments))
        .unwrap_or_else(|p| panic!("{p:#?}"));
    let roles: Vec<MemberRole> = read
        .rosters
        .expect("classes and enrollments are read")
        .enrollments
        .iter()
        .map(|e| e.role)
        .collect();
    assert_eq!(
        roles,
        [
            MemberRole::Student,
            MemberRole::Teacher,
            MemberRole::Teacher,
            MemberRole::Other
        ]
    );
}

#[test]
fn roles_of_people_users_csv_does_not_list_are_left_out_by_line() {
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,\
        endDate,orgSourcedId,userProfileSourcedId\n\
        r-1,,,stu-1001,primary,student,,,school-hs,\n\
        r-2,,,tea-2001,primary,teacher,,,school-hs,\n\
        r-3,,,cou-4001,primary,counselor,,,school-hs,\n\
        r-4,,,nobody-9,primary,student,,,school-hs,\n\
        r-5,,,nobody-8,primary,teacher,,,school-hs,\n\
        r-6,,,nobody-9,secondary,aide,,,school-hs,\n";
    let read =
        read_zip(&sample_with("1.2", "roles.csv", roles)).unwrap_or_else(|p| panic!("{p:#?}"));
    // (The sample's gone-5001, whose role ended, is users.csv's to skip.)
    let skipped: Vec<(u64, &str, &str)> = read
        .skipped
        .iter()
        .filter(|s| s.file == "roles.csv")
        .map(|s| (s.line, s.external_id.as_str(), s.why.as_str()))
        .collect();
    let why = "names a person users.csv does not list: the role is not read";
    assert_eq!(
        skipped,
        [
            (5, "nobody-9", why),
            (6, "nobody-8", why),
            (7, "nobody-9", why)
        ],
        "each of their roles, by line"
    );
    assert_eq!(
        listed(&read).len(),
        3,
        "the people users.csv lists are read"
    );
}

const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
    userSourcedId,role,primary,beginDate,endDate\n";

#[test]
fn an_enrollment_listed_twice_is_refused_with_its_first_line() {
    let enrollments = format!(
        "{ENROLLMENTS}enr-1,,,class-math-10,school-hs,stu-1001,student,false,,\n\
         enr-2,,,class-math-10,school-hs,tea-2001,teacher,true,,\n\
         enr-1,,,class-math-10,school-hs,cou-4001,student,false,,\n"
    );
    assert_eq!(
        problems(&sample_with("1.1", "enrollments.csv", &enrollments)),
        ["enrollments.csv line 4, column sourcedId (\"enr-1\"): is listed twice: first on line 2"]
    );
}

#[test]
fn a_person_enrolled_twice_in_a_class_is_read_twice_and_noted() {
    let enrollments = format!(
        "{ENROLLMENTS}enr-1,,,class-math-10,school-hs,tea-2001,student,false,,\n\
         enr-2,,,class-math-10,school-hs,stu-1001,student,false,,\n\
         enr-3,,,class-math-10,school-hs,tea-2001,teacher,true,,\n\
         enr-4,,,class-math-10,school-hs,stu-1001,student,false,,\n"
    );
    let read = read_zip(&sample_with("1.1", "enrollments.csv", &enrollments))
        .unwrap_or_else(|p| panic!("{p:#?}"));
    let seats: Vec<(u64, &str, MemberRole)> = read
        .rosters
        .as_ref()
        .expect("classes and enrollments are read")
        .enrollments
        .iter()
        .map(|e| (e.line, e.user.as_str(), e.role))
        .collect();
    assert_eq!(
        seats,
        [
            (2, "tea-2001", MemberRole::Student),
            (3, "stu-1001", MemberRole::Student),
            (4, "tea-2001", MemberRole::Teacher),
            (5, "stu-1001", MemberRole::Student),
        ],
        "each enrolment is kept by its id: a later delta may end one of them"
    );
    let note = read
        .notes
        .iter()
        .find(|n| n.starts_with("enrollments.csv: 2 enrolment(s)"))
        .unwrap_or_else(|| panic!("{:#?}", read.notes));
    assert!(note.contains("(line(s) 4, 5)"), "{note}");
}

#[test]
fn a_delta_reads_its_deletions_and_ended_enrolments_as_ends() {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,delta\nfile.classes,delta\nfile.enrollments,delta\n";
    let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
        givenName,familyName\nstu-1,active,,true,,student,sam,Sam,Lee\n";
    let classes = "sourcedId,status,dateLastModified,title,classCode,schoolSourcedId\n\
        c-1,active,,Maths,M1,\n";
    let enrollments = format!(
        "{ENROLLMENTS}enr-1,active,,c-1,,stu-1,teacher,false,,\n\
         enr-0,tobedeleted,,c-1,,stu-1,student,false,,\n\
         enr-5,active,,c-1,,stu-1,student,false,2020-01-01,2021-06-30\n"
    );
    let package = zip(&[
        ("manifest.csv", manifest),
        ("users.csv", users),
        ("classes.csv", classes),
        ("enrollments.csv", &enrollments),
    ]);
    let read = read_zip(&package).unwrap_or_else(|p| panic!("{p:#?}"));
    let seats: Vec<(u64, MemberRole, bool, &str)> = read
        .rosters
        .as_ref()
        .expect("classes and enrollments are read")
        .enrollments
        .iter()
        .map(|e| (e.line, e.role, e.deleted, e.class.as_str()))
        .collect();
    assert_eq!(
        seats,
        [
            (2, MemberRole::Teacher, false, "c-1"),
            (3, MemberRole::Student, true, "c-1"),
            // Not current: it ends the enrolment of its id only, not the seat of c-1/stu-1.
            (4, MemberRole::Student, true, ""),
        ]
    );
    assert!(
        read.notes.iter().any(|n| n.starts_with(
            "enrollments.csv: 1 enrolment(s) are not current today (ended, or beginning later)"
        ) && n.ends_with("line(s) 4")),
        "{:#?}",
        read.notes
    );
}

#[test]
fn lines_in_a_note_stop_at_ten() {
    assert_eq!(crate::listed_lines(&[4]), "4");
    assert_eq!(crate::listed_lines(&[4, 9]), "4, 9");
    let many: Vec<u64> = (1..=13).collect();
    assert_eq!(
        crate::listed_lines(&many),
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 3 more"
    );
}

#[test]
fn a_school_the_package_does_not_name_keeps_its_sourced_id_and_leaves_the_name() {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.users,delta\n";
    let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
        givenName,familyName\n\
        stu-1,active,,true,school-west,student,sam,Sam,Lee\n\
        stu-2,active,,true,,student,kim,Kim,Ode\n";
    let read = read_zip(&zip(&[("manifest.csv", manifest), ("users.csv", users)]))
        .unwrap_or_else(|p| panic!("{p:#?}"));
    let schools: Vec<(Option<&str>, Option<&str>)> = listed(&read)
        .iter()
        .map(|l| (l.attributes.get("school_id"), l.attributes.get("school")))
        .collect();
    assert_eq!(
        schools,
        [(Some("school-west"), None), (None, None)],
        "a move is never lost, and a name never made up"
    );
    assert!(
        read.notes
            .iter()
            .any(|n| n
                .starts_with("users.csv: 1 person(s) belong to orgs the source has no name for")),
        "{:#?}",
        read.notes
    );
    // With orgs.csv, both.
    let read = read_zip(&sample("1.1")).unwrap_or_else(|p| panic!("{p:#?}"));
    let ada = listed(&read)[0];
    assert_eq!(ada.attributes.get("school_id"), Some("school-hs"));
    assert!(
        ada.attributes
            .get("school")
            .is_some_and(|name| !name.is_empty())
    );
}

const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,\
    classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n";

#[test]
fn a_sourced_id_twice_in_classes_orgs_or_roles_is_refused_with_its_first_line() {
    let classes = format!(
        "{CLASSES}class-math-10,,,Mathematics 10,10,,MATH10,scheduled,,school-hs,,,,\n\
         class-math-10,,,Math again,10,,MATH10,scheduled,,school-hs,,,,\n"
    );
    assert_eq!(
        problems(&sample_with("1.1", "classes.csv", &classes)),
        [
            "classes.csv line 3, column sourcedId (\"class-math-10\"): is listed twice: first on \
          line 2"
        ]
    );
    let orgs = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
        district-1,,,Northfield School District,district,NSD,\n\
        school-hs,,,Northfield High School,school,NHS,district-1\n\
        school-hs,,,Other High,school,OHS,district-1\n";
    assert_eq!(
        problems(&sample_with("1.1", "orgs.csv", orgs)),
        ["orgs.csv line 4, column sourcedId (\"school-hs\"): is listed twice: first on line 3"]
    );
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,\
        orgSourcedId,userProfileSourcedId\n\
        r-1,,,stu-1001,primary,student,,,school-hs,\n\
        r-1,,,tea-2001,primary,teacher,,,school-hs,\n";
    let refused = problems(&sample_with("1.2", "roles.csv", roles));
    assert_eq!(
        refused,
        ["roles.csv line 3, column sourcedId (\"r-1\"): is listed twice: first on line 2"]
    );
}

#[test]
fn a_bulk_file_of_classes_enrolments_or_roles_with_no_rows_is_refused() {
    for (version, file, header) in [
        ("1.1", "classes.csv", CLASSES),
        ("1.1", "enrollments.csv", ENROLLMENTS),
        (
            "1.2",
            "roles.csv",
            "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,\
             orgSourcedId,userProfileSourcedId\n",
        ),
    ] {
        // (Without classes, the sample's enrolments name none either: said too.)
        let refused = problems(&sample_with(version, file, header));
        assert!(
            refused[0].starts_with(&format!("{file} line 1: has a header but no rows")),
            "{refused:?}"
        );
    }
}

/// A delta package of `file` (with its `text`) alone, `users.csv` absent.
fn delta_of(file: &str, text: &str) -> Vec<u8> {
    let manifest = format!(
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,absent\n\
         file.{},delta\n",
        file.trim_end_matches(".csv")
    );
    zip(&[("manifest.csv", &manifest), (file, text)])
}

#[test]
fn a_class_is_deleted_by_its_sourced_id_alone_and_an_empty_title_is_named() {
    let deleted = format!("{CLASSES}class-art,tobedeleted,2026-12-01T10:00:00Z,,,,,,,,,,,\n");
    let read = read_zip(&delta_of("classes.csv", &deleted)).unwrap_or_else(|p| panic!("{p:#?}"));
    let classes = &read.rosters.expect("classes").classes;
    assert_eq!(
        (classes[0].external_id.as_str(), classes[0].deleted),
        ("class-art", true)
    );
    let untitled = format!(
        "{CLASSES}class-art,active,2026-12-01T10:00:00Z,,,,,,,,,,,\n\
         ,tobedeleted,2026-12-01T10:00:00Z,,,,,,,,,,,\n"
    );
    assert_eq!(
        problems(&delta_of("classes.csv", &untitled)),
        [
            "classes.csv line 2, column title (\"\"): is empty: a class needs a title",
            "classes.csv line 3, column sourcedId (\"\"): is empty: every class needs its sourcedId",
        ]
    );
}

#[test]
fn an_enrolment_deletion_may_name_only_its_sourced_id() {
    let by_id = format!("{ENROLLMENTS}enr-3,tobedeleted,2026-12-01T10:00:00Z,,,,,,,\n");
    let read = read_zip(&delta_of("enrollments.csv", &by_id)).unwrap_or_else(|p| panic!("{p:#?}"));
    let ends: Vec<(String, String, bool)> = read
        .rosters
        .expect("enrolments are read")
        .enrollments
        .into_iter()
        .map(|e| (e.external_id, e.class, e.deleted))
        .collect();
    assert_eq!(ends, [("enr-3".to_owned(), String::new(), true)]);
    // Without its id, a deletion names its class and person; any other row names both.
    let nameless = format!(
        "{ENROLLMENTS},tobedeleted,,,,stu-1001,,,,\nenr-4,active,,class-math-10,,,student,,,\n"
    );
    let refused = problems(&delta_of("enrollments.csv", &nameless));
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused[0].starts_with(
            "enrollments.csv line 2, column classSourcedId (\"\"): is empty: a deletion names"
        ),
        "{refused:?}"
    );
    assert!(
        refused[1].starts_with("enrollments.csv line 3, column userSourcedId (\"\"): is empty"),
        "{refused:?}"
    );
}

#[test]
fn a_second_primary_role_in_one_org_is_noted_and_the_first_read() {
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,\
        orgSourcedId,userProfileSourcedId\n\
        r-1,,,stu-1001,primary,student,,,school-hs,\n\
        r-2,,,tea-2001,primary,teacher,,,school-hs,\n\
        r-9,,,stu-1001,primary,teacher,,,school-hs,\n";
    let read =
        read_zip(&sample_with("1.2", "roles.csv", roles)).unwrap_or_else(|p| panic!("{p:#?}"));
    assert!(
        read.notes.iter().any(|n| n.starts_with(
            "roles.csv: 1 role(s) are a second primary role of their person in one org (line(s) 4)"
        )),
        "{:?}",
        read.notes
    );
    let ada = listed(&read)
        .into_iter()
        .find(|p| p.external_id.as_str() == "stu-1001");
    assert_eq!(ada.and_then(|p| p.role), Some(Role::Student));
}

#[test]
fn a_problem_of_the_whole_package_reads_without_a_line() {
    let problem = Problem::at_line(0, "the package is a delta package");
    assert_eq!(problem.to_string(), "the package is a delta package");
    assert_eq!(
        problem.in_file("users.csv").to_string(),
        "users.csv: the package is a delta package"
    );
}

#[test]
fn a_1_2_delta_of_users_alone_keeps_roles_and_one_of_roles_alone_skips_each() {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n\
        file.users,delta\nfile.roles,absent\n";
    let users = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,\
        familyName\n\
        stu-1002,tobedeleted,2026-12-01T10:00:00Z,,,,,\n\
        tea-2001,active,2026-12-01T10:00:00Z,true,grace.hopper,,Grace,Hopper-Renamed\n";
    let read = read_zip(&zip(&[("manifest.csv", manifest), ("users.csv", users)]))
        .unwrap_or_else(|p| panic!("{p:#?}"));
    assert!(
        read.notes
            .iter()
            .any(|n| n.starts_with("roles.csv is absent")),
        "{:?}",
        read.notes
    );
    let grace = listed(&read)[0];
    assert_eq!((grace.role, grace.creates), (None, false), "her role stays");
    assert!(
        read.rows
            .iter()
            .any(|row| matches!(row, Row::Deleted { .. }))
    );

    // A bulk 1.2 package still needs its roles.
    let bulk = manifest.replace("file.users,delta", "file.users,bulk");
    let users = users.replace("tobedeleted,2026-12-01T10:00:00Z,,", "active,,true,zoe,");
    assert!(read_zip(&zip(&[("manifest.csv", &bulk), ("users.csv", &users)])).is_err());

    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n\
        file.users,absent\nfile.roles,delta\n";
    let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,\
        endDate,orgSourcedId,userProfileSourcedId\n\
        r-30,active,2026-12-01T10:00:00Z,stu-1003,primary,teacher,,,school-hs,\n";
    let read = read_zip(&zip(&[("manifest.csv", manifest), ("roles.csv", roles)]))
        .unwrap_or_else(|p| panic!("{p:#?}"));
    let skipped: Vec<(&str, u64, &str)> = read
        .skipped
        .iter()
        .map(|s| (s.file.as_str(), s.line, s.external_id.as_str()))
        .collect();
    assert_eq!(skipped, [("roles.csv", 2, "stu-1003")]);
    assert!(read.skipped[0].why.contains("send their users.csv row"));
}

#[test]
fn a_misspelt_required_column_is_named_with_the_header_it_probably_is() {
    let users = USERS_11.replace("familyName", "famliyName");
    let package = zip(&[("manifest.csv", MANIFEST_11), ("users.csv", &users)]);
    assert_eq!(
        problems(&package),
        ["users.csv line 1: has no familyName column (is \"famliyName\" meant to be it?)"]
    );
}

#[test]
fn problems_in_several_files_are_told_together() {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats/oneroster-1.1-sample");
    let read = |file: &str| std::fs::read_to_string(folder.join(file)).unwrap();
    let users = read("users.csv").replacen(",true,", ",maybe,", 1);
    let enrollments =
        format!("{ENROLLMENTS}enr-1,,,class-math-10,school-hs,stu-1001,student,false,9/1/2026,\n");
    let files: Vec<(&str, String)> = vec![
        ("manifest.csv", read("manifest.csv")),
        ("orgs.csv", read("orgs.csv")),
        ("users.csv", users),
        ("classes.csv", read("classes.csv")),
        ("enrollments.csv", enrollments),
    ];
    let entries: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let refused = problems(&zip(&entries));
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused[0].starts_with("users.csv line 2, column enabledUser"),
        "{refused:?}"
    );
    assert!(
        refused[1].starts_with("enrollments.csv line 2, column beginDate"),
        "{refused:?}"
    );
}

#[test]
fn a_class_naming_a_school_the_package_lacks_is_noted() {
    let classes = format!(
        "{CLASSES}class-math-10,,,Mathematics 10,10,,MATH10,scheduled,,school-hs,,,,\n\
         class-x,,,Somewhere,10,,X,scheduled,,school-nowhere,,,,\n"
    );
    let read =
        read_zip(&sample_with("1.1", "classes.csv", &classes)).unwrap_or_else(|p| panic!("{p:#?}"));
    assert!(
        read.notes.iter().any(|n| n.starts_with(
            "classes.csv: 1 class(es) name a school the source has no name for (the package \
             does not name it, nor do the orgs kept from its earlier packages): line(s) 3"
        )),
        "{:?}",
        read.notes
    );
}

#[test]
fn a_package_names_schools_with_the_orgs_its_source_sent_before() {
    use rollcall_domain::provisioning::SourceOrg;
    let org = |id: &str, name: &str| SourceOrg {
        external_id: id.to_owned(),
        name: name.to_owned(),
        kind: "school".to_owned(),
    };
    let known = [org("s1", "North High"), org("s2", "South High")];
    // No orgs.csv: the source's orgs name its schools, and nothing is sent to keep.
    let (named, sent) = super::named_orgs(&known, None, false);
    assert_eq!(named.len(), 2);
    assert!(sent.is_none());
    // A delta renames one, adds one and deletes one (which still names this package's people).
    let delta = vec![
        (org("s1", "North Academy"), false),
        (org("s3", "East High"), false),
        (org("s2", "South High"), true),
    ];
    let (named, sent) = super::named_orgs(&known, Some(delta), false);
    let name = |id: &str| named.get(id).map(|o| o.name.as_str());
    assert_eq!(
        (name("s1"), name("s2"), name("s3")),
        (Some("North Academy"), Some("South High"), Some("East High"))
    );
    // A deletion naming only its id keeps the name the source has for this package.
    let (kept, _) = super::named_orgs(&known, Some(vec![(org("s2", ""), true)]), false);
    assert_eq!(kept.get("s2").map(|o| o.name.as_str()), Some("South High"));
    let sent = sent.unwrap();
    assert!(!sent.full);
    assert_eq!(sent.gone, ["s2"]);
    let kept: Vec<&str> = sent.orgs.iter().map(|o| o.external_id.as_str()).collect();
    assert_eq!(kept, ["s1", "s3"]);
    // A bulk orgs.csv is all of them: the source's others name nothing.
    let (named, sent) =
        super::named_orgs(&known, Some(vec![(org("s3", "East High"), false)]), true);
    assert_eq!(named.keys().collect::<Vec<_>>(), ["s3"]);
    assert!(sent.is_some_and(|sent| sent.full));
}

#[test]
fn orgs_csv_is_read_as_strictly_as_users_csv() {
    let header = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n";
    let refused = |rows: &str| {
        let package = sample_with("1.1", "orgs.csv", &format!("{header}{rows}"));
        let Err(problems) = read_zip(&package) else {
            panic!("{rows:?} was read");
        };
        problems
            .iter()
            .map(|p| {
                let at = (p.line, p.column.clone().unwrap_or_default());
                (at, p.reason.clone())
            })
            .collect::<Vec<_>>()
    };
    let orgs = "district-1,,,Northfield School District,district,NSD,\n\
        school-hs,,,Northfield High School,school,NHS,district-1\n\
        school-el,,,Maple Elementary,school,MES,district-1\n";
    for ((from, to), column, reason) in [
        (
            ("school-el,,", "school-el,tobedeleted,"),
            "status",
            "a bulk file lists current rows only; send deletions in a delta package",
        ),
        (
            ("school-el,,", "school-el,bogus,"),
            "status",
            "must be active or tobedeleted",
        ),
        (
            ("Maple Elementary", ""),
            "name",
            "is empty: an org needs a name",
        ),
        (
            ("school-el,,", ",,"),
            "sourcedId",
            "is empty: every org needs its sourcedId",
        ),
    ] {
        assert_eq!(
            refused(&orgs.replace(from, to)),
            [((4, column.to_owned()), reason.to_owned())]
        );
    }
    let empty = refused("");
    assert_eq!(empty.len(), 1);
    assert!(
        empty[0].1.starts_with("has a header but no rows"),
        "{empty:?}"
    );
}

#[test]
fn a_person_of_an_unnamed_org_and_a_named_district_belongs_to_the_unnamed_one() {
    let users = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/formats/oneroster-1.1-sample/users.csv"),
    )
    .unwrap()
    .replace(
        "stu-1001,,,true,school-hs,",
        "stu-1001,,,true,\"district-1,school-new\",",
    );
    // Ada's school, and its name, when users.csv is `users`.
    let school_of_ada = |users: &str| {
        let read = read_zip(&sample_with("1.1", "users.csv", users)).unwrap();
        let ada = read.rows.into_iter().find_map(|row| match row {
            Row::Listed(listed) if listed.external_id.as_str() == "stu-1001" => Some(listed),
            _ => None,
        });
        let attributes = ada.unwrap().attributes;
        let of = |key| attributes.get(key).map(str::to_owned);
        (of("school_id"), of("school"))
    };
    assert_eq!(school_of_ada(&users), (Some("school-new".to_owned()), None));
    // A named school listed after an org named nowhere is still theirs.
    let users = users.replace("\"district-1,school-new\"", "\"old-org,school-hs\"");
    assert_eq!(
        school_of_ada(&users).1.as_deref(),
        Some("Northfield High School")
    );
}

#[test]
fn a_delta_of_classes_enrolments_or_orgs_says_active_or_tobedeleted_on_every_row() {
    let enrollments = format!("{ENROLLMENTS}enr-4,,,class-math-10,,stu-1001,student,,,\n");
    let refused = problems(&delta_of("enrollments.csv", &enrollments));
    assert_eq!(
        refused,
        [
            "enrollments.csv line 2, column status (\"\"): a delta file says active or tobedeleted \
          on every row"
        ],
    );
    let enrollments = format!("{ENROLLMENTS}enr-4,removed,,class-math-10,,stu-1001,student,,,\n");
    let refused = problems(&delta_of("enrollments.csv", &enrollments));
    assert_eq!(
        refused,
        ["enrollments.csv line 2, column status (\"removed\"): must be active or tobedeleted"],
    );
    // Without a status column, a delta file is told once (users.csv too).
    let users = "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName\n\
        stu-1,true,school-hs,student,sam.one,Sam,One\nstu-2,true,school-hs,student,sam.two,Sam,Two\n";
    assert_eq!(
        problems(&delta_of("users.csv", users)),
        ["users.csv line 1: has no status column"]
    );
    let enrollments = "sourcedId,classSourcedId,userSourcedId,role\nenr-4,class-math-10,stu-1001,\
        student\nenr-5,class-math-10,stu-1002,student\n";
    assert_eq!(
        problems(&delta_of("enrollments.csv", enrollments)),
        ["enrollments.csv line 1: has no status column"]
    );
    // Classes and orgs alike.
    let classes = "sourcedId,status,dateLastModified,title,schoolSourcedId\nc-1,,,Art,school-hs\n";
    let orgs = "sourcedId,status,dateLastModified,name,type\nschool-hs,,,North,school\n";
    for (file, text) in [("classes.csv", classes), ("orgs.csv", orgs)] {
        assert_eq!(
            problems(&delta_of(file, text)),
            [format!(
                "{file} line 2, column status (\"\"): a delta file says active or tobedeleted \
                 on every row"
            )]
        );
    }
    // A bulk file lists current rows only, and may say so: `active` is read, `tobedeleted` is
    // refused (its class alone: the class's enrolments are not refused too).
    let sample = |file: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/formats/oneroster-1.1-sample")
                .join(file),
        )
        .unwrap()
    };
    let with_status = |file: &str, status: &str| {
        let text = sample(file);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for line in lines.iter_mut().skip(1) {
            *line = line.replacen(",,", &format!(",{status},"), 1);
        }
        sample_with("1.1", file, &(lines.join("\n") + "\n"))
    };
    for file in ["classes.csv", "enrollments.csv", "orgs.csv"] {
        let read = read_zip(&with_status(file, "active"));
        assert!(read.is_ok(), "{file} with active: {:?}", read.err());
    }
    assert_eq!(
        problems(&with_status("classes.csv", "tobedeleted")),
        [
            "classes.csv line 2, column status (\"tobedeleted\"): a bulk file lists current rows \
          only; send deletions in a delta package"
        ]
    );
}
