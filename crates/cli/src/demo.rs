//! `rollcall demo`: a realistic school district to try Rollcall on.

mod learning;
mod package;
mod scim;

use anyhow::{Result, anyhow};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rollcall_app::{App, ChangeStatus, ImportRequest, ListUsers, NewSource, Principal};
use rollcall_domain::provisioning::MissingPolicy;
use rollcall_domain::{
    Attributes, Email, NewUser, PersonName, Role, Source, TemporaryPassword, Username, search,
};

const ORG_SLUG: &str = "northfield";
const ORG_NAME: &str = "Northfield School District";
pub(crate) const DOMAIN: &str = "northfield.example";
const STUDENTS: usize = 2_000;
const TEACHERS: usize = 110;
const STAFF: usize = 40;

pub const GIVEN_NAMES: &[&str] = &[
    "Ada",
    "Adam",
    "Aisha",
    "Alejandro",
    "Amara",
    "Amélie",
    "Ana",
    "Anders",
    "Aoife",
    "Arjun",
    "Ava",
    "Benjamin",
    "Björn",
    "Camille",
    "Carlos",
    "Chen",
    "Chloé",
    "Chiara",
    "Daniel",
    "Dmitri",
    "Elif",
    "Elena",
    "Élodie",
    "Emma",
    "Ethan",
    "Fatima",
    "François",
    "Freya",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Henrik",
    "Ibrahim",
    "Inès",
    "Isabella",
    "Jack",
    "Jakub",
    "James",
    "Jana",
    "João",
    "Jonas",
    "José",
    "Kai",
    "Kenji",
    "Laila",
    "Lars",
    "Léa",
    "Leila",
    "Liam",
    "Lucía",
    "Luka",
    "Maja",
    "Malik",
    "María",
    "Mateo",
    "Maya",
    "Mei",
    "Mia",
    "Mohammed",
    "Nadia",
    "Noah",
    "Nora",
    "Oliver",
    "Olivia",
    "Omar",
    "Oskar",
    "Priya",
    "Rafael",
    "Ravi",
    "Renée",
    "Ruth",
    "Sakura",
    "Samuel",
    "Santiago",
    "Sara",
    "Siobhán",
    "Sofia",
    "Søren",
    "Tariq",
    "Thomas",
    "Valentina",
    "Wei",
    "William",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoë",
    "Zoltán",
];

pub const FAMILY_NAMES: &[&str] = &[
    "Abbott",
    "Adeyemi",
    "Ahmed",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brennan",
    "Brown",
    "Castillo",
    "Chen",
    "Clarke",
    "Costa",
    "Dubois",
    "Dvořák",
    "Eriksson",
    "Fernández",
    "Fischer",
    "García",
    "Gonzalez",
    "Gupta",
    "Hansen",
    "Hernández",
    "Horvath",
    "Ibrahim",
    "Ito",
    "Jensen",
    "Johnson",
    "Kaur",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lefèvre",
    "Lopez",
    "Lovelace",
    "Martin",
    "Martínez",
    "Meyer",
    "Moreau",
    "Müller",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novák",
    "Nowak",
    "O'Brien",
    "Okafor",
    "Olsen",
    "Ørsted",
    "Patel",
    "Pérez",
    "Petrov",
    "Quinn",
    "Ramos",
    "Rossi",
    "Sánchez",
    "Santos",
    "Schmidt",
    "Schneider",
    "Silva",
    "Singh",
    "Smith",
    "Sørensen",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Thompson",
    "Van der Berg",
    "Wagner",
    "Walsh",
    "Wang",
    "Weber",
    "Williams",
    "Wilson",
    "Yilmaz",
    "Zhang",
    "Zieliński",
];

const SCHOOLS: &[&str] = &[
    "Northfield High",
    "Riverside Middle",
    "Oak Hill Elementary",
    "Lakeview Elementary",
];
const DEPARTMENTS: &[&str] = &[
    "Mathematics",
    "Science",
    "English",
    "History",
    "Languages",
    "Arts",
    "Music",
    "Physical Education",
    "Special Education",
    "Computing",
];
const STAFF_DEPARTMENTS: &[&str] = &[
    "Administration",
    "Facilities",
    "Library",
    "Counselling",
    "IT Services",
    "Nursing",
];

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// A plausible, unique login stem: `amelie.dubois`, `amelie.dubois2`, …
fn stem(given: &str, family: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let base = format!("{}.{}", search::term(given), search::term(family));
    let mut candidate = base.clone();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    candidate
}

fn person(
    rng: &mut StdRng,
    taken: &mut std::collections::HashSet<String>,
    role: Role,
    attributes: &[(&str, String)],
    with_email: bool,
) -> Result<NewUser> {
    let given = pick(rng, GIVEN_NAMES);
    let family = pick(rng, FAMILY_NAMES);
    let login = stem(given, family, taken);
    let email = with_email
        .then(|| Email::parse(&format!("{login}@{DOMAIN}")))
        .transpose();
    Ok(NewUser {
        username: Some(Username::parse(&login).map_err(|e| anyhow!("{e}"))?),
        email: email.map_err(|e| anyhow!("{e}"))?,
        given_name: PersonName::parse(given, "given_name").map_err(|e| anyhow!("{e}"))?,
        family_name: PersonName::parse(family, "family_name").map_err(|e| anyhow!("{e}"))?,
        role,
        source: Source::parse(if role == Role::Student {
            "sis-roster"
        } else {
            "manual"
        })
        .map_err(|e| anyhow!("{e}"))?,
        external_id: None,
        prevent_archiving: None,
        password: None,
        must_change_password: false,
        attributes: Attributes::parse(
            attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
        .map_err(|e| anyhow!("{e}"))?,
    })
}

/// The district's people: students (the youngest sign in with a username only), teachers,
/// staff and a few admins.
fn people() -> Result<Vec<NewUser>> {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut taken = std::collections::HashSet::from(["admin".to_owned()]);
    let mut out = Vec::with_capacity(STUDENTS + TEACHERS + STAFF + 2);
    for i in 0..STUDENTS {
        let grade: u8 = rng.gen_range(0..=12);
        let school = match grade {
            0..=5 => SCHOOLS[2 + (i % 2)],
            6..=8 => SCHOOLS[1],
            _ => SCHOOLS[0],
        };
        let grade_text = if grade == 0 {
            "K".to_owned()
        } else {
            grade.to_string()
        };
        let attrs = [("grade", grade_text), ("location", school.to_owned())];
        let mut user = person(&mut rng, &mut taken, Role::Student, &attrs, grade >= 6)?;
        user.external_id = Some(
            rollcall_domain::ExternalId::parse(&format!("S{:06}", 100_000 + i))
                .map_err(|e| anyhow!("{e}"))?,
        );
        out.push(user);
    }
    for (role, count, departments) in [
        (Role::Teacher, TEACHERS, DEPARTMENTS),
        (Role::Staff, STAFF, STAFF_DEPARTMENTS),
    ] {
        for i in 0..count {
            let attrs = [
                ("department", pick(&mut rng, departments).to_owned()),
                ("location", pick(&mut rng, SCHOOLS).to_owned()),
            ];
            let mut adult = person(&mut rng, &mut taken, role, &attrs, true)?;
            if role == Role::Teacher {
                adult.external_id = Some(
                    rollcall_domain::ExternalId::parse(&format!("T{:05}", 20_000 + i))
                        .map_err(|e| anyhow!("{e}"))?,
                );
            }
            out.push(adult);
        }
    }
    for _ in 0..2 {
        let attrs = [("department", "District Office".to_owned())];
        out.push(person(&mut rng, &mut taken, Role::Admin, &attrs, true)?);
    }
    Ok(out)
}

/// The roster feed's name, as its students carry it.
const ROSTER: &str = "sis-roster";

/// The roster source and three months of its OneRoster packages (students, teachers, classes):
/// September's first import, October's (newcomers, leavers, a few changes), and November's
/// truncated export, held for approval.
async fn roster_history(
    app: &App,
    who: &Principal,
    students: &[NewUser],
    teachers: &[NewUser],
) -> Result<()> {
    let fail = |e: rollcall_app::AppError| anyhow!("{e}");
    app.add_source(
        who,
        NewSource {
            name: ROSTER.to_owned(),
            format: "oneroster".to_owned(),
            mode: "full".to_owned(),
            policy: MissingPolicy::default(),
        },
    )
    .await
    .map_err(fail)?;
    let teachers: Vec<&NewUser> = teachers.iter().collect();
    let import = |name: &str, students: &[&NewUser]| {
        let request = ImportRequest {
            source: ROSTER.to_owned(),
            file_name: name.to_owned(),
            ..ImportRequest::default()
        };
        let file = package::package(students, &teachers);
        async move {
            let file = file?;
            app.import(who, &request, file.into()).await.map_err(fail)
        }
    };
    // September: everyone but the last 15, who enrol in October.
    let (first, newcomers) = students.split_at(students.len().saturating_sub(15));
    let september: Vec<&NewUser> = first.iter().collect();
    import("sis-export-2026-09-01.zip", &september).await?;
    // October: 25 have left, the 15 newcomers arrive, a few have moved school.
    let mut october: Vec<NewUser> = first[25..].iter().chain(newcomers).cloned().collect();
    for moved in october.iter_mut().step_by(97) {
        let mut attributes = moved.attributes.to_map();
        attributes.insert("location".to_owned(), SCHOOLS[0].to_owned());
        moved.attributes = Attributes::parse(attributes).map_err(|e| anyhow!("{e}"))?;
    }
    let october_refs: Vec<&NewUser> = october.iter().collect();
    import("sis-export-2026-10-01.zip", &october_refs).await?;
    // November: an export cut short; the safeguard holds it for an administrator.
    let cut = october.len() * 3 / 4;
    import("sis-export-2026-11-20.zip", &october_refs[..cut]).await?;
    Ok(())
}

/// Creates the demo org on first run; on every run, sets a fresh admin password and API token
/// and prints them with the address.
pub async fn prepare(app: &App, database_url: &str, bind: &str) -> Result<()> {
    let fail = |e: rollcall_app::AppError| anyhow!("{e}");
    let org = match app.org_by_slug(ORG_SLUG).await {
        Ok(org) => org,
        Err(rollcall_app::AppError::NotFound(_)) => {
            eprintln!("Creating the demo district in {database_url} …");
            let org = app.create_org(ORG_SLUG, ORG_NAME).await.map_err(fail)?;
            let who = Principal::system(org.id, "demo");
            seed(app, &who).await?;
            org
        }
        Err(err) => return Err(fail(err)),
    };
    let who = Principal::system(org.id, "demo");
    let admin = app.find_user(&who, "admin").await.map_err(fail)?;
    let password = TemporaryPassword::generate();
    app.set_password(&who, admin.id(), password.expose(), false)
        .await
        .map_err(fail)?;
    let learner = learning::learner(app, &who).await?;
    let learner_password = TemporaryPassword::generate();
    app.set_password(&who, learner.id(), learner_password.expose(), false)
        .await
        .map_err(fail)?;
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let (_, token) = app
        .create_token(&who, "admin", &format!("demo-{stamp}"))
        .await
        .map_err(fail)?;
    let total = app
        .count_users(
            &who,
            &ListUsers {
                status: Some("all".into()),
                ..ListUsers::default()
            },
            1_000_000,
        )
        .await
        .map_err(fail)?;
    println!();
    println!("  Rollcall demo: {ORG_NAME} ({total} active and inactive users)");
    println!("  Database:   {database_url}");
    println!("  Address:    http://{bind}");
    println!("  Admin:      admin  /  {}", password.expose());
    println!(
        "  Learner:    {}  /  {}  ({}, part-way through a course)",
        learner.login(),
        learner_password.expose(),
        learner.display_name()
    );
    println!("  API token:  {token}");
    let (_, scim_token) = app
        .create_scim_token(&who, scim::CONNECTION, Some(&format!("demo-{stamp}")))
        .await
        .map_err(fail)?;
    let held = app
        .run_history(&who, None, 50)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|run| run.outcome == rollcall_domain::provisioning::Outcome::Held)
        .count();
    if held > 0 {
        println!("  Waiting:    {held} roster import(s) held for approval: http://{bind}/runs");
    }
    println!();
    println!("SCIM: http://{bind}/scim/v2 token {scim_token}");
    println!();
    println!(
        "  Try:  curl -H 'Authorization: Bearer {token}' 'http://{bind}/api/v1/users?q=zoe&status=all'"
    );
    println!();
    Ok(())
}

async fn seed(app: &App, who: &Principal) -> Result<()> {
    let fail = |e: rollcall_app::AppError| anyhow!("{e}");
    app.create_user(
        who,
        rollcall_app::CreateUser {
            username: Some("admin".into()),
            email: Some(format!("admin@{DOMAIN}")),
            given_name: "Dana".into(),
            family_name: "Whitfield".into(),
            role: "admin".into(),
            attributes: [("department".to_owned(), "District Office".to_owned())].into(),
            ..rollcall_app::CreateUser::default()
        },
    )
    .await
    .map_err(fail)?;
    // Staff and admins are added at once; students and teachers come from the district's
    // roster feed, a package a month, as a student information system sends them.
    let (fed, adults): (Vec<NewUser>, Vec<NewUser>) = people()?
        .into_iter()
        .partition(|p| matches!(p.role, Role::Student | Role::Teacher));
    let (students, teachers): (Vec<NewUser>, Vec<NewUser>) =
        fed.into_iter().partition(|p| p.role == Role::Student);
    let created = app.import_users(who, adults).await.map_err(fail)?;
    eprintln!("  {created} staff imported");
    roster_history(app, who, &students, &teachers).await?;

    // Some people have left: a few adults made inactive, some students archived or inactive.
    let mut rng = StdRng::seed_from_u64(7);
    for (role, status, share, reason) in [
        ("teacher", "inactive", 0.08, "On leave this year"),
        ("staff", "inactive", 0.10, "Contract ended"),
        ("student", "archived", 0.04, "Left the district"),
        ("student", "inactive", 0.02, "Suspended account"),
    ] {
        let mut cursor = None;
        let mut chosen = Vec::new();
        loop {
            let page = app
                .list_users(
                    who,
                    ListUsers {
                        role: Some(role.into()),
                        limit: Some(200),
                        cursor,
                        ..ListUsers::default()
                    },
                )
                .await
                .map_err(fail)?;
            chosen.extend(
                page.users
                    .into_iter()
                    .filter(|_| rng.gen_bool(share))
                    .map(|u| u.id()),
            );
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        for id in chosen {
            let change = ChangeStatus {
                status: status.into(),
                reason: Some(reason.into()),
                ..ChangeStatus::default()
            };
            app.change_status(who, id, change).await.map_err(fail)?;
        }
    }
    learning::seed(app, who).await?;
    scim::seed(app, who).await?;
    Ok(())
}
