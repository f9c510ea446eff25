//! The district's nightly OneRoster 1.1 package: its schools, its students and teachers, and
//! the classes they meet in (a homeroom a grade in the elementary schools, Mathematics and
//! English a grade in the others, at most [`CLASS_SIZE`] students each, one teacher each).

use std::collections::BTreeMap;

use anyhow::Result;
use rollcall_domain::NewUser;

use super::SCHOOLS;

const CLASS_SIZE: usize = 28;

/// The district's and its schools' ids in the package.
const DISTRICT_ID: &str = "org-district";

fn school_id(index: usize) -> String {
    format!("org-school-{}", index + 1)
}

/// A CSV field, quoted when it must be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn line(out: &mut String, fields: &[&str]) {
    let fields: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&fields.join(","));
    out.push('\n');
}

/// A person's attribute, or nothing.
fn attribute<'a>(person: &'a NewUser, key: &str) -> &'a str {
    person.attributes.get(key).unwrap_or_default()
}

fn school_of(person: &NewUser) -> usize {
    SCHOOLS
        .iter()
        .position(|s| *s == attribute(person, "location"))
        .unwrap_or(0)
}

/// A grade as OneRoster writes it: `KG`, `01` … `12`.
fn grade_code(grade: &str) -> String {
    match grade.parse::<u8>() {
        Ok(n) => format!("{n:02}"),
        Err(_) => "KG".to_owned(),
    }
}

/// The package of `students` and `teachers` (each with their external id), zipped.
pub fn package(students: &[&NewUser], teachers: &[&NewUser]) -> Result<Vec<u8>> {
    let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
        file.academicSessions,absent\nfile.categories,absent\nfile.classes,bulk\n\
        file.classResources,absent\nfile.courses,absent\nfile.courseResources,absent\n\
        file.demographics,absent\nfile.enrollments,bulk\nfile.lineItems,absent\n\
        file.orgs,bulk\nfile.resources,absent\nfile.results,absent\nfile.users,bulk\n\
        source.systemName,Northfield SIS\nsource.systemCode,NSIS\n";

    let mut orgs =
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n".to_owned();
    line(
        &mut orgs,
        &[DISTRICT_ID, "", "", super::ORG_NAME, "district", "NSD", ""],
    );
    for (i, school) in SCHOOLS.iter().enumerate() {
        let code = format!("S{}", i + 1);
        line(
            &mut orgs,
            &[&school_id(i), "", "", school, "school", &code, DISTRICT_ID],
        );
    }

    let mut users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,\
        userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,\
        grades,password\n"
        .to_owned();
    for (person, role) in students
        .iter()
        .map(|p| (p, "student"))
        .chain(teachers.iter().map(|p| (p, "teacher")))
    {
        let id = person.external_id.as_ref().map_or("", |e| e.as_str());
        let grade = if role == "student" {
            grade_code(attribute(person, "grade"))
        } else {
            String::new()
        };
        line(
            &mut users,
            &[
                id,
                "",
                "",
                "true",
                &school_id(school_of(person)),
                role,
                person.username.as_ref().map_or("", |u| u.as_str()),
                "",
                person.given_name.as_str(),
                person.family_name.as_str(),
                "",
                id,
                person.email.as_ref().map_or("", |e| e.as_str()),
                "",
                "",
                "",
                &grade,
                "",
            ],
        );
    }

    let (classes, enrollments) = classes(students, teachers);
    let files = [
        ("manifest.csv", manifest.to_owned()),
        ("orgs.csv", orgs),
        ("users.csv", users),
        ("classes.csv", classes),
        ("enrollments.csv", enrollments),
    ];
    let files: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(name, text)| (name.to_owned(), text.into_bytes()))
        .collect();
    Ok(rollcall_import::oneroster::pack(&files)?)
}

/// classes.csv and enrollments.csv: students grouped by school and grade, then into classes.
fn classes(students: &[&NewUser], teachers: &[&NewUser]) -> (String, String) {
    let mut groups: BTreeMap<(usize, String), Vec<&NewUser>> = BTreeMap::new();
    for s in students {
        groups
            .entry((school_of(s), grade_code(attribute(s, "grade"))))
            .or_default()
            .push(s);
    }
    let mut classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,\
        classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
        .to_owned();
    let mut enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,\
        userSourcedId,role,primary,beginDate,endDate\n"
        .to_owned();
    let mut taught = 0usize;
    let mut enrolled = 0usize;
    for ((school, grade), members) in &groups {
        let grade_name = if grade == "KG" {
            "Kindergarten".to_owned()
        } else {
            format!("Grade {}", grade.trim_start_matches('0'))
        };
        let subjects: &[(&str, &str)] = if *school >= 2 {
            &[("Homeroom", "HR")]
        } else {
            &[("Mathematics", "MATH"), ("English", "ENG")]
        };
        // The school's own teachers first, in turn; any teacher when it has none.
        let staff: Vec<&&NewUser> = teachers
            .iter()
            .filter(|t| school_of(t) == *school)
            .collect();
        for (subject, code) in subjects {
            for (n, chunk) in members.chunks(CLASS_SIZE).enumerate() {
                let id = format!("class-{}-{grade}-{code}-{}", school + 1, n + 1);
                let title = format!("{subject} — {grade_name}");
                let section = char::from(b'A' + u8::try_from(n % 26).unwrap_or(0));
                let class_code = format!("{code}{grade}-{}{section}", school + 1);
                let room = format!("Room {}", 100 + (taught % 40));
                line(
                    &mut classes,
                    &[
                        &id,
                        "",
                        "",
                        &title,
                        grade,
                        "",
                        &class_code,
                        if *code == "HR" {
                            "homeroom"
                        } else {
                            "scheduled"
                        },
                        &room,
                        &school_id(*school),
                        "term-2026",
                        subject,
                        "",
                        "",
                    ],
                );
                let teacher = if staff.is_empty() {
                    teachers.get(taught % teachers.len().max(1)).copied()
                } else {
                    staff.get(taught % staff.len()).map(|t| **t)
                };
                taught += 1;
                let people = teacher
                    .into_iter()
                    .map(|t| (t, "teacher", "true"))
                    .chain(chunk.iter().map(|s| (*s, "student", "false")));
                for (person, role, primary) in people {
                    enrolled += 1;
                    let user = person.external_id.as_ref().map_or("", |e| e.as_str());
                    line(
                        &mut enrollments,
                        &[
                            &format!("enr-{enrolled}"),
                            "",
                            "",
                            &id,
                            &school_id(*school),
                            user,
                            role,
                            primary,
                            "2026-09-01",
                            "",
                        ],
                    );
                }
            }
        }
    }
    (classes, enrollments)
}
