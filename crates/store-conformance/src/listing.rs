//! Listing and searching: filters, word-prefix search on both of a store's plans, keyset paging.

use rollcall_app::{App, ChangeStatus, EditUser, ListUsers};
use rollcall_domain::{
    Attributes, AuditEvent, ListFilter, NewUser, PersonName, Role, Source, Status, StatusChange,
    User, Username, rules, search,
};
use rollcall_store::UserSort;
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, insert};

const GIVEN: &[&str] = &[
    "Sam", "Samira", "Samuel", "Sandra", "Ada", "Adam", "Zoë", "Zoe", "Mateo", "María", "Marie",
    "Jo", "John", "Johanna", "Li", "Liam", "Noah", "Nora", "Émile", "Ève",
];
const FAMILY: &[&str] = &[
    "Lovelace",
    "Lopez",
    "Long",
    "Smith",
    "Smithers",
    "Sandoval",
    "Ørsted",
    "O'Brien",
    "Nguyen",
    "Núñez",
    "Jones",
    "Johnson",
    "Kowalski",
    "Müller",
    "Mueller",
    "de la Cruz",
    "Lovelace-Byron",
];

/// Many users with overlapping names, spread over statuses, roles, sources and times, so
/// that short prefixes are broad (a store's scan plan) and long ones narrow (its index plan).
async fn population(f: &Fixture, n: usize) -> Vec<User> {
    let statuses = [
        Status::Active,
        Status::Active,
        Status::Active,
        Status::Inactive,
        Status::Archived,
    ];
    let roles = [
        Role::Student,
        Role::Student,
        Role::Teacher,
        Role::Staff,
        Role::Admin,
    ];
    let users: Vec<(User, AuditEvent)> = (0..n)
        .map(|i| {
            let given = GIVEN[i % GIVEN.len()];
            let family = FAMILY[(i / GIVEN.len() + i) % FAMILY.len()];
            let new = NewUser {
                username: Some(Username::parse(&format!("{}.{i}", search::term(given))).unwrap()),
                email: None,
                given_name: PersonName::parse(given, "given_name").unwrap(),
                family_name: PersonName::parse(family, "family_name").unwrap(),
                role: roles[i % roles.len()],
                source: if i % 3 == 0 {
                    Source::parse("roster").unwrap()
                } else {
                    Source::manual()
                },
                external_id: None,
                prevent_archiving: None,
                password: None,
                must_change_password: false,
                attributes: Attributes::default(),
            };
            let at = f.org.created_at + chrono::Duration::seconds(((i * 7919) % n) as i64);
            let (user, created) = User::create(f.org.id, new, &f.admin.actor, at).unwrap();
            // Everyone else moves there through a transition, as in life.
            let to = statuses[i % statuses.len()];
            if rules::is_unchanged(user.status(), to) {
                return (user, created);
            }
            let moved_at = at + chrono::Duration::seconds((i % 13 + 1) as i64);
            let change = StatusChange {
                to,
                reason: None,
                temporary_password: None,
            };
            let changed = user
                .change_status(change, &f.admin.actor, moved_at)
                .unwrap();
            (changed.user, created)
        })
        .collect();
    insert(&f.db, f.org.id, &users).await.unwrap();
    users.into_iter().map(|(user, _)| user).collect()
}

/// What a listing must return, computed from the domain's own definitions.
fn expected(
    all: &[User],
    filter: ListFilter,
    role: Option<Role>,
    q: &str,
    sort: UserSort,
    desc: bool,
) -> Vec<rollcall_domain::UserId> {
    let words = search::query_words(q);
    let mut hits: Vec<&User> = all
        .iter()
        .filter(|u| rules::shown_under(u.status(), filter))
        .filter(|u| role.is_none_or(|r| u.role() == r))
        .filter(|u| search::matches(&u.search_terms(), &words))
        .collect();
    hits.sort_by_cached_key(|u| sort.key_of(u));
    if desc {
        hits.reverse();
    }
    hits.into_iter().map(User::id).collect()
}

/// Walks every page of a listing.
async fn walk(f: &Fixture, input: ListUsers) -> Vec<rollcall_domain::UserId> {
    walk_with(&f.app, f, input).await
}

async fn walk_with(app: &App, f: &Fixture, input: ListUsers) -> Vec<rollcall_domain::UserId> {
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .list_users(
                &f.admin,
                ListUsers {
                    cursor,
                    ..input.clone()
                },
            )
            .await
            .unwrap();
        seen.extend(page.users.iter().map(User::id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return seen,
        }
    }
}

pub async fn search_and_paging_agree_with_the_domain_on_both_plans(db: TestDb) {
    let f = fixture(db).await;
    let all = population(&f, 3_000).await;
    // The default cut-off sends every word below through the search index; a cut-off of one
    // entry sends every word through the scan in listing order. Both must give the same pages.
    let index_plan = App::new(f.db.store_with_search_cutoff(1_000_000).await);
    let scan_plan = App::new(f.db.store_with_search_cutoff(1).await);
    // In between, a word matching many sorted names but few other terms takes a store's seek.
    let middle_plan = App::new(f.db.store_with_search_cutoff(100).await);
    let cases: &[(ListFilter, Option<Role>, &str)] = &[
        (ListFilter::Active, None, ""),
        (ListFilter::Active, None, "s"),
        (ListFilter::All, None, "sa"),
        (ListFilter::Inactive, None, "sam lo"),
        (ListFilter::Active, None, "zoe"),
        (ListFilter::Archived, None, "ORSTED"),
        (ListFilter::Active, Some(Role::Teacher), "jo"),
        (ListFilter::All, None, "nunez maria"),
        (ListFilter::Active, None, "mueller"),
        (ListFilter::Active, None, "lovelace-by"),
        (ListFilter::All, None, "cruz de"),
        (ListFilter::Active, None, "qqq"),
        (ListFilter::All, None, "lovelace"),
        (ListFilter::Active, None, "smith"),
        (ListFilter::All, None, "sa smi"),
        (ListFilter::Active, None, "o'b"),
    ];
    for (filter, role, q) in cases {
        for (sort, name) in [
            (UserSort::FamilyName, "family_name"),
            (UserSort::GivenName, "-given_name"),
            (UserSort::Created, "created"),
            (UserSort::StatusChanged, "-status_changed"),
        ] {
            let desc = name.starts_with('-');
            let want = expected(&all, *filter, *role, q, sort, desc);
            let input = ListUsers {
                status: Some(filter.as_str().to_owned()),
                role: role.map(|r| r.as_str().to_owned()),
                q: Some((*q).to_owned()),
                sort: Some(name.to_owned()),
                limit: Some(173),
                ..ListUsers::default()
            };
            for (plan, app) in [
                ("index", &index_plan),
                ("scan", &scan_plan),
                ("middle", &middle_plan),
            ] {
                let got = walk_with(app, &f, input.clone()).await;
                assert_eq!(
                    got.len(),
                    want.len(),
                    "{plan}: {filter} {role:?} {q:?} {name}: count"
                );
                assert_eq!(got, want, "{plan}: {filter} {role:?} {q:?} {name}: order");
                let counted = app.count_users(&f.admin, &input, 1_000_000).await.unwrap();
                assert_eq!(
                    counted,
                    want.len() as u64,
                    "{plan}: {filter} {q:?}: count_users"
                );
            }
        }
    }
    let capped = f
        .app
        .count_users(&f.admin, &ListUsers::default(), 100)
        .await
        .unwrap();
    assert_eq!(capped, 100, "counts stop at the cap");
}

pub async fn the_status_filters_follow_the_rules(db: TestDb) {
    let f = fixture(db).await;
    let active = f.add("Ada", "Active", "a").await;
    let inactive = f.add("Ina", "Inactive", "i").await;
    let archived = f.add("Archie", "Archived", "r").await;
    let change = |to: &str| ChangeStatus {
        status: to.to_owned(),
        generate_temporary_password: false,
        ..ChangeStatus::default()
    };
    f.app
        .change_status(&f.admin, inactive.id(), change("inactive"))
        .await
        .unwrap();
    f.app
        .change_status(&f.admin, archived.id(), change("archived"))
        .await
        .unwrap();
    let ids = |filter: Option<&str>| ListUsers {
        status: filter.map(str::to_owned),
        ..ListUsers::default()
    };
    assert_eq!(
        walk(&f, ids(None)).await,
        vec![active.id()],
        "active by default"
    );
    assert_eq!(walk(&f, ids(Some("inactive"))).await, vec![inactive.id()]);
    assert_eq!(walk(&f, ids(Some("archived"))).await, vec![archived.id()]);
    assert_eq!(
        walk(&f, ids(Some("all"))).await,
        vec![active.id(), inactive.id()],
        "All leaves out archived"
    );
}

pub async fn a_rename_is_found_by_the_new_name_only(db: TestDb) {
    let f = fixture(db).await;
    let user = f.add("Ada", "Lovelace", "ada").await;
    let edit = EditUser {
        version: Some(1),
        family_name: Some("Byron".to_owned()),
        ..EditUser::default()
    };
    f.app.edit_user(&f.admin, user.id(), edit).await.unwrap();
    let search = |q: &str| ListUsers {
        q: Some(q.to_owned()),
        ..ListUsers::default()
    };
    let found = f.app.list_users(&f.admin, search("ada byr")).await.unwrap();
    assert_eq!(found.users.len(), 1);
    let gone = f.app.list_users(&f.admin, search("love")).await.unwrap();
    assert!(gone.users.is_empty(), "the old name no longer matches");
}

pub async fn source_and_role_filters_narrow_the_list(db: TestDb) {
    let f = fixture(db).await;
    let all = population(&f, 300).await;
    let input = ListUsers {
        source: Some("roster".to_owned()),
        role: Some("student".to_owned()),
        limit: Some(200),
        ..ListUsers::default()
    };
    let got = walk(&f, input).await;
    let want = all
        .iter()
        .filter(|u| u.source().as_str() == "roster" && u.role() == Role::Student)
        .filter(|u| rules::shown_under(u.status(), ListFilter::Active))
        .count();
    assert_eq!(got.len(), want);
    assert!(want > 0);
}
