//! The planner's rules, one example each, and the properties every run must have.

use proptest::prelude::*;

use super::*;
use crate::audit::Actor;
use crate::user::{StatusChange, UserPatch};

fn at() -> Timestamp {
    chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn org() -> OrgId {
    OrgId::from_uuid(uuid::Uuid::nil())
}

fn roster() -> Source {
    Source::parse("roster").unwrap()
}

fn admin() -> Actor {
    Actor::system("admin")
}

fn feed() -> Actor {
    Actor::Source {
        id: crate::SourceId::new(),
        label: "roster".to_owned(),
        run: None,
    }
}

/// Person `i` of the pool: `p{i}`, `p{i}@school.example`, external id `e{i}`.
fn listed(i: usize, role: Role, enabled: bool) -> Row {
    Row::Listed(Listed {
        line: i as u64 + 2,
        external_id: ExternalId::parse(&format!("e{i}")).unwrap(),
        username: Some(Username::parse(&format!("p{i}")).unwrap()),
        email: Some(Email::parse(&format!("p{i}@school.example")).unwrap()),
        given_name: PersonName::parse("Pat", "given_name").unwrap(),
        family_name: PersonName::parse(&format!("Person{i}"), "family_name").unwrap(),
        role: Some(role),
        creates: true,
        enabled,
        attributes: Attributes::default(),
        digest: None,
    })
}

/// Person `i` as the org has them: the source's user (or a manual one), in `status`.
fn known(i: usize, role: Role, ours: bool, status: Status, said: Option<Said>) -> Known {
    let Row::Listed(row) = listed(i, role, true) else {
        unreachable!()
    };
    let mut new = new_user(&roster(), &row);
    if !ours {
        new.source = Source::manual();
        new.external_id = None;
        new.prevent_archiving = None;
    }
    let (mut user, _) = User::create(org(), new, &admin(), at()).unwrap();
    for to in crate::rules::path(Status::Active, status) {
        let change = StatusChange {
            to,
            reason: None,
            temporary_password: None,
        };
        user = user.change_status(change, &admin(), at()).unwrap().user;
    }
    Known {
        user,
        said: if ours { said } else { None },
    }
}

/// A full run of `roster` with the default policy, planned.
fn full(rows: &[Row], people: &[Known]) -> Plan {
    plan(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        rows,
        people,
    )
    .unwrap()
}

fn steps(plan: &Plan, i: usize) -> Vec<Step> {
    let external = format!("e{i}");
    plan.items
        .iter()
        .find(|item| item.external_id.as_str() == external)
        .map(|item| item.steps.to_vec())
        .unwrap_or_default()
}

fn status(to: Status, because: Because) -> Step {
    Step::Status { to, because }
}

#[test]
fn new_people_are_created_and_a_disabled_one_starts_inactive() {
    let rows = [
        listed(1, Role::Student, true),
        listed(2, Role::Student, false),
    ];
    let plan = full(&rows, &[]);
    assert_eq!(steps(&plan, 1), [Step::Create]);
    assert_eq!(
        steps(&plan, 2),
        [Step::Create, status(Status::Inactive, Because::Disabled)]
    );
    assert_eq!(plan.counts().created, 2);
}

#[test]
fn a_manual_user_is_linked_by_username_and_keeps_prevent_archiving() {
    let people = [known(1, Role::Teacher, false, Status::Active, None)];
    let rows = [listed(1, Role::Teacher, true)];
    let plan = full(&rows, &people);
    assert_eq!(
        steps(&plan, 1),
        [Step::Link {
            by: MatchedBy::Username
        }]
    );
    let Applied { after, .. } =
        apply_in_memory(org(), &roster(), &plan, &rows, &people, &feed(), at()).unwrap();
    assert_eq!(after[0].user.source(), &roster());
    assert!(after[0].user.prevent_archiving(), "as it was: set by hand");
}

#[test]
fn an_admin_added_by_hand_is_not_taken_over_by_username_or_email_only_by_external_id() {
    let head = known(1, Role::Admin, false, Status::Active, None);
    // A student row with the admin's username (and e-mail): the file is refused.
    let rows = [listed(1, Role::Student, true)];
    assert_eq!(
        full(&rows, &[]).counts().created,
        1,
        "without the admin, a new person"
    );
    let problems = plan(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        &rows,
        std::slice::from_ref(&head),
    )
    .unwrap_err();
    let (line, problem) = &problems[0];
    assert_eq!((*line, problem.field.as_str()), (3, "username"));
    assert!(
        problem.message.contains("an administrator added by hand"),
        "{problem:?}"
    );
    // By e-mail alone, the same.
    let Row::Listed(mut by_email) = listed(1, Role::Student, true) else {
        unreachable!()
    };
    by_email.username = Some(Username::parse("someone.else").unwrap());
    let problems = plan(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        &[Row::Listed(by_email)],
        std::slice::from_ref(&head),
    )
    .unwrap_err();
    assert_eq!(problems[0].1.field, "email");

    // Given the row's external id by hand, the admin is the source's to manage.
    let mut handed = head;
    let patch = UserPatch {
        external_id: Some(Some(ExternalId::parse("e1").unwrap())),
        ..UserPatch::default()
    };
    handed.user = handed
        .user
        .apply(patch, &admin(), at())
        .unwrap()
        .unwrap()
        .user;
    let plan = full(&[listed(1, Role::Admin, true)], &[handed]);
    assert_eq!(
        steps(&plan, 1),
        [Step::Link {
            by: MatchedBy::ExternalId
        }]
    );
}

#[test]
fn linking_leaves_an_admins_status_as_it_is() {
    let people = [known(1, Role::Student, false, Status::Inactive, None)];
    let rows = [listed(1, Role::Student, true)];
    let plan = full(&rows, &people);
    assert_eq!(
        steps(&plan, 1),
        [Step::Link {
            by: MatchedBy::Username
        }],
        "linked, not reactivated"
    );
    assert_eq!(plan.items[0].kept, Some(Kept::AdminDecision));
    assert_eq!(
        plan.items[0].said,
        Some(Said::Enabled),
        "what it says is remembered"
    );
}

#[test]
fn missing_students_are_archived_adults_kept_and_prevent_archiving_holds() {
    let mut protected = known(3, Role::Student, true, Status::Active, Some(Said::Enabled));
    protected.user = protected
        .user
        .apply(
            UserPatch {
                prevent_archiving: Some(true),
                ..UserPatch::default()
            },
            &admin(),
            at(),
        )
        .unwrap()
        .unwrap()
        .user;
    let people = [
        known(1, Role::Student, true, Status::Active, Some(Said::Enabled)),
        known(2, Role::Teacher, true, Status::Active, Some(Said::Enabled)),
        protected,
        known(4, Role::Student, false, Status::Active, None),
    ];
    let plan = full(&[], &people);
    assert_eq!(
        steps(&plan, 1),
        [status(Status::Archived, Because::Missing)]
    );
    assert_eq!(steps(&plan, 2), []);
    assert_eq!(steps(&plan, 3), []);
    let kept: Vec<Option<Kept>> = plan.items.iter().map(|item| item.kept).collect();
    assert_eq!(
        kept,
        [None, Some(Kept::Policy), Some(Kept::PreventArchiving)],
        "a manual user is never the source's to remove"
    );
    let delta = plan_delta_nothing(&people);
    assert!(
        !delta.changes_anything(),
        "a delta run touches only its rows"
    );
}

#[test]
fn a_delta_deleting_someone_the_source_lacks_says_so_and_touches_nobody() {
    // e2 is a manual user: a deletion of e2 is not the source's to make.
    let people = [
        known(1, Role::Student, true, Status::Active, Some(Said::Enabled)),
        known(2, Role::Student, false, Status::Active, None),
    ];
    let deleted = |line: u64, i: usize| Row::Deleted {
        line,
        external_id: ExternalId::parse(&format!("e{i}")).unwrap(),
    };
    let rows = [deleted(2, 1), deleted(3, 2), deleted(4, 9)];
    let plan = plan(
        &roster(),
        Mode::Delta,
        MissingPolicy::default(),
        &rows,
        &people,
    )
    .unwrap();
    assert_eq!(
        steps(&plan, 1),
        [status(Status::Archived, Because::Deleted)]
    );
    assert_eq!(steps(&plan, 2), [], "another's person is left alone");
    let skipped: Vec<(Option<u64>, Option<&str>)> = plan
        .skipped
        .iter()
        .map(|s| (s.line, s.external_id.as_deref()))
        .collect();
    assert_eq!(skipped, [(Some(3), Some("e2")), (Some(4), Some("e9"))]);
    assert!(plan.skipped[0].what.contains("nobody by this id"));
    assert_eq!(plan.counts().skipped, 2);
}

#[test]
fn a_teacher_a_delta_deletes_is_kept_by_the_policy_and_the_report_says_deleted() {
    let people = [known(
        1,
        Role::Teacher,
        true,
        Status::Active,
        Some(Said::Enabled),
    )];
    let rows = [Row::Deleted {
        line: 2,
        external_id: ExternalId::parse("e1").unwrap(),
    }];
    let policy = MissingPolicy::default();
    let plan = plan(&roster(), Mode::Delta, policy, &rows, &people).unwrap();
    assert_eq!(steps(&plan, 1), []);
    assert_eq!(
        plan.items[0].describe().as_deref(),
        Some(
            "kept: deleted by the file, and the org keeps users of this role whom their source removes"
        )
    );
    let full = full(&[], &people);
    assert_eq!(
        full.items[0].describe().as_deref(),
        Some("kept: the org keeps missing users of this role"),
        "missing from a full list"
    );
}

fn plan_delta_nothing(people: &[Known]) -> Plan {
    plan(
        &roster(),
        Mode::Delta,
        MissingPolicy::default(),
        &[],
        people,
    )
    .unwrap()
}

#[test]
fn an_admins_decision_sticks_until_the_source_says_something_new() {
    // The source enabled them; an admin deactivated them since.
    let people = [known(
        1,
        Role::Student,
        true,
        Status::Inactive,
        Some(Said::Enabled),
    )];
    let same = [listed(1, Role::Student, true)];
    let plan_same = full(&same, &people);
    assert_eq!(steps(&plan_same, 1), []);
    assert_eq!(plan_same.items[0].kept, Some(Kept::AdminDecision));
    // The source disables, then enables again: now it is news.
    let people = [known(
        1,
        Role::Student,
        true,
        Status::Active,
        Some(Said::Disabled),
    )];
    let plan_new = full(&same, &people);
    assert_eq!(plan_new.items[0].kept, None);
    assert_eq!(steps(&plan_new, 1), [], "already active: only remembered");
    assert_eq!(plan_new.items[0].said, Some(Said::Enabled));
}

#[test]
fn an_admins_archive_stands_when_the_source_disables_them() {
    let people = [known(
        1,
        Role::Student,
        true,
        Status::Archived,
        Some(Said::Enabled),
    )];
    let rows = [listed(1, Role::Student, false)];
    let plan = full(&rows, &people);
    assert_eq!(
        steps(&plan, 1),
        [],
        "never restored by a source that did not let them go"
    );
    assert_eq!(plan.items[0].kept, Some(Kept::AdminDecision));
    assert_eq!(
        plan.items[0].said,
        Some(Said::Disabled),
        "remembered all the same"
    );
}

#[test]
fn someone_who_reappears_is_restored() {
    let people = [known(
        1,
        Role::Student,
        true,
        Status::Archived,
        Some(Said::Gone),
    )];
    let rows = [listed(1, Role::Student, true)];
    let plan = full(&rows, &people);
    assert_eq!(
        steps(&plan, 1),
        [status(Status::Active, Because::Reappeared)]
    );
    assert_eq!(plan.counts().restored, 1);
}

#[test]
fn rows_that_cannot_be_applied_are_all_reported_by_line() {
    // p5 belongs to another source, "hr".
    let hr = Source::parse("hr").unwrap();
    let user = known(5, Role::Teacher, true, Status::Active, None).user;
    let user = user
        .link(hr, Some(ExternalId::parse("h5").unwrap()), &admin(), at())
        .user;
    let people = [Known { user, said: None }];
    let rows = [
        listed(1, Role::Student, true),
        listed(1, Role::Student, true),
        listed(5, Role::Teacher, true),
    ];
    let problems = plan(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        &rows,
        &people,
    )
    .unwrap_err();
    let lines: Vec<(u64, &str)> = problems
        .iter()
        .map(|(line, problem)| (*line, problem.field.as_str()))
        .collect();
    assert_eq!(lines, [(3, "external_id"), (7, "username")]);
}

#[test]
fn a_run_removing_many_at_once_is_held() {
    let people: Vec<Known> = (0..100)
        .map(|i| known(i, Role::Student, true, Status::Active, Some(Said::Enabled)))
        .collect();
    let guard = Safeguard::default();
    let rows: Vec<Row> = (0..85).map(|i| listed(i, Role::Student, true)).collect();
    let plan_some = full(&rows, &people);
    assert_eq!(plan_some.removals(), 15);
    assert!(!guard.holds(&plan_some, 100), "15 is under the floor of 20");
    let rows: Vec<Row> = (0..50).map(|i| listed(i, Role::Student, true)).collect();
    let truncated = full(&rows, &people);
    assert_eq!(truncated.removals(), 50);
    assert!(guard.holds(&truncated, 100), "half the school at once");
    assert!(
        !guard.holds(&truncated, 1_000),
        "5% of a large source passes"
    );
}

#[test]
fn another_sources_people_and_logins_are_not_taken_over() {
    let mut hr = known(1, Role::Staff, true, Status::Active, Some(Said::Enabled));
    hr.user = hr
        .user
        .link(
            Source::parse("hr").unwrap(),
            Some(ExternalId::parse("h1").unwrap()),
            &admin(),
            at(),
        )
        .user;
    let hand = known(2, Role::Teacher, false, Status::Active, None);
    let mine = known(3, Role::Student, true, Status::Active, Some(Said::Enabled));
    let people = [hr, hand, mine];
    // Row 1 wants the HR person's username; row 3 (ours, found by external id) wants the
    // e-mail of someone added by hand.
    let Row::Listed(mut takes_email) = listed(3, Role::Student, true) else {
        unreachable!()
    };
    takes_email.email = Some(Email::parse("p2@school.example").unwrap());
    let rows = [listed(1, Role::Staff, true), Row::Listed(takes_email)];
    let problems = plan(
        &roster(),
        Mode::Delta,
        MissingPolicy::default(),
        &rows,
        &people,
    )
    .unwrap_err();
    let said: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|(line, err)| (*line, err.field.as_str(), err.message.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            (
                3,
                "username",
                "belongs to a user managed by the source 'hr'"
            ),
            (5, "email", "already belongs to Pat Person2, added by hand"),
        ]
    );
    // The HR person is nobody this source can remove.
    let plan = full(&[listed(3, Role::Student, true)], &people);
    assert_eq!(plan.removals(), 0);
}

#[test]
fn a_username_that_looks_like_anothers_is_refused_by_line() {
    let people = [known(1, Role::Student, false, Status::Active, None)];
    let Row::Listed(mut twin) = listed(2, Role::Student, true) else {
        unreachable!()
    };
    // A Cyrillic "р" where the Latin "p" is.
    twin.username = Some(Username::parse("\u{440}1").unwrap());
    twin.email = None;
    let problems = plan(
        &roster(),
        Mode::Delta,
        MissingPolicy::default(),
        &[Row::Listed(twin)],
        &people,
    )
    .unwrap_err();
    assert_eq!(problems[0].0, 4);
    assert!(
        problems[0]
            .1
            .message
            .starts_with("looks like the username of Pat Person1"),
        "{}",
        problems[0].1
    );
}

#[test]
fn an_email_twice_in_one_file_is_refused() {
    let Row::Listed(mut twin) = listed(2, Role::Student, true) else {
        unreachable!()
    };
    twin.email = Some(Email::parse("P1@school.example").unwrap());
    let rows = [listed(1, Role::Student, true), Row::Listed(twin)];
    let problems = plan(&roster(), Mode::Full, MissingPolicy::default(), &rows, &[]).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, 4);
    assert_eq!(problems[0].1.field, "email");
    assert_eq!(
        problems[0].1.message,
        "'P1@school.example' is also on line 3"
    );
}

#[test]
fn an_approval_applies_the_removals_seen_except_those_excluded() {
    let people: Vec<Known> = (0..4)
        .map(|i| known(i, Role::Student, true, Status::Active, Some(Said::Enabled)))
        .collect();
    let rows = [
        listed(0, Role::Student, true),
        listed(9, Role::Student, true),
    ];
    let held = full(&rows, &people);
    assert_eq!(held.removals(), 3);
    let rest = held.without_removals();
    assert_eq!(rest.removals(), 0);
    assert_eq!(rest.counts().created, 1, "the rest still creates");
    let id = |i: usize| people[i].user.id();
    // The admin saw 1 and 2 go, and excluded 2; 3's removal came after the hold.
    let approved = held.approved(&[id(1), id(2)].into(), &[id(2)].into());
    assert_eq!(approved.removals(), 1);
    let item = |i: usize| {
        approved
            .items
            .iter()
            .find(|item| item.user == Some(id(i)))
            .unwrap()
    };
    assert_eq!(item(2).kept, Some(Kept::Excluded));
    assert_eq!(item(2).said, Some(Said::Gone), "the exclusion sticks");
    assert_eq!(item(3).kept, Some(Kept::NotApproved));
    assert_eq!(item(3).said, None, "the next run decides");
    let applied =
        apply_in_memory(org(), &roster(), &approved, &rows, &people, &feed(), at()).unwrap();
    let statuses: Vec<Status> = applied.after[..4].iter().map(|k| k.user.status()).collect();
    assert_eq!(
        statuses,
        [
            Status::Active,
            Status::Archived,
            Status::Active,
            Status::Active
        ]
    );
    let again = full(&rows, &applied.after);
    assert_eq!(
        again.removals(),
        1,
        "only 3, whom the approval left to the next run"
    );
}

#[test]
fn an_undo_leaves_alone_whom_someone_changed_since() {
    let people = [known(
        1,
        Role::Student,
        true,
        Status::Active,
        Some(Said::Enabled),
    )];
    let rows = [listed(2, Role::Student, true)];
    let run = full(&rows, &people);
    let applied = apply_in_memory(org(), &roster(), &run, &rows, &people, &feed(), at()).unwrap();
    assert_eq!(applied.touches.len(), 2);
    let mut current: HashMap<UserId, User> = applied
        .after
        .iter()
        .map(|k| (k.user.id(), k.user.clone()))
        .collect();
    // An admin restored the archived person before the undo.
    let gone = people[0].user.id();
    let restore = StatusChange {
        to: Status::Active,
        reason: None,
        temporary_password: None,
    };
    let restored = current[&gone]
        .change_status(restore, &admin(), at())
        .unwrap();
    current.insert(gone, restored.user);
    let undone = undo(&applied.touches, &current, &feed(), "Dana", at()).unwrap();
    assert_eq!(undone.left_alone, [gone]);
    assert_eq!(undone.changes.len(), 1, "the created one is archived");
    assert_eq!(undone.changes[0].user.status(), Status::Archived);
}

// ---- properties ----

#[derive(Debug, Clone)]
struct Case {
    people: Vec<Known>,
    rows: Vec<Row>,
    mode: Mode,
    policy: MissingPolicy,
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Student),
        Just(Role::Teacher),
        Just(Role::Staff),
        Just(Role::Admin)
    ]
}

fn when_missing() -> impl Strategy<Value = WhenMissing> {
    prop_oneof![
        Just(WhenMissing::Archive),
        Just(WhenMissing::Deactivate),
        Just(WhenMissing::Keep)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let person = (
        any::<bool>(),
        role(),
        any::<bool>(),
        prop_oneof![
            Just(Status::Active),
            Just(Status::Inactive),
            Just(Status::Archived)
        ],
        prop_oneof![
            Just(None),
            Just(Some(Said::Enabled)),
            Just(Some(Said::Disabled)),
            Just(Some(Said::Gone))
        ],
        any::<bool>(),
    );
    let row = (any::<bool>(), role(), any::<bool>());
    (
        proptest::collection::vec(person, 12),
        proptest::collection::vec(row, 12),
        any::<bool>(),
        (
            when_missing(),
            when_missing(),
            when_missing(),
            when_missing(),
        ),
    )
        .prop_map(|(people, rows, full, (student, teacher, staff, admins))| {
            // Nor does a row make a person added by hand an admin: its undo would leave them
            // a hand-added admin, whom the same file again may not take over by username.
            let manual: Vec<bool> = people
                .iter()
                .map(|(exists, _, ours, ..)| *exists && !*ours)
                .collect();
            Case {
                people: people
                    .into_iter()
                    .enumerate()
                    .filter(|(_, (exists, ..))| *exists)
                    .map(|(i, (_, role, ours, status, said, protect))| {
                        // An admin added by hand is never found by username or e-mail (a run
                        // naming one is refused: see the example above).
                        let role = if !ours && role == Role::Admin {
                            Role::Staff
                        } else {
                            role
                        };
                        let mut k = known(i, role, ours, status, said);
                        if !protect && k.user.prevent_archiving() {
                            let patch = UserPatch {
                                prevent_archiving: Some(false),
                                ..UserPatch::default()
                            };
                            k.user = k.user.apply(patch, &admin(), at()).unwrap().unwrap().user;
                        }
                        k
                    })
                    .collect(),
                rows: rows
                    .into_iter()
                    .enumerate()
                    .filter(|(_, (listed, ..))| *listed)
                    .map(|(i, (_, role, enabled))| {
                        let role = if manual[i] && role == Role::Admin {
                            Role::Staff
                        } else {
                            role
                        };
                        listed(i, role, enabled)
                    })
                    .collect(),
                mode: if full { Mode::Full } else { Mode::Delta },
                policy: MissingPolicy {
                    student,
                    teacher,
                    staff,
                    admin: admins,
                },
            }
        })
}

/// The roll of `roster` among `people`, each with the digest `sent` kept for them (as a store
/// keeps it: only while their version is the one it was kept with).
fn roll_of(people: &[Known], sent: &[Sent]) -> Roll {
    let sent: HashMap<UserId, &Sent> = sent.iter().map(|s| (s.user, s)).collect();
    let fresh = |user: &Enrolled| {
        let kept = sent.get(&user.user)?;
        let now = people.iter().find(|k| k.user.id() == user.user)?;
        (now.user.version() == kept.version).then_some(kept.digest)
    };
    let all = Roll::of(&roster(), people);
    Roll::new(all.iter().map(|(external_id, user)| {
        let sent = fresh(user);
        (
            external_id.to_owned(),
            Enrolled {
                sent,
                ..user.clone()
            },
        )
    }))
}

/// Whether a store asked for `wanted` reads `k` (as `provisioning_known` does).
fn is_wanted(wanted: &Wanted, k: &Known) -> bool {
    let user = &k.user;
    let has = |list: &[String], value: Option<String>| value.is_some_and(|v| list.contains(&v));
    wanted.ids.contains(&user.id())
        || (user.source().as_str() == Source::MANUAL
            && has(
                &wanted.manual_external_ids,
                user.external_id().map(|e| e.as_str().to_owned()),
            ))
        || has(&wanted.username_keys, user.username().map(Username::key))
        || has(
            &wanted.username_skeletons,
            user.username().map(Username::skeleton),
        )
        || has(&wanted.email_keys, user.email().map(Email::key))
}

/// `rows` with a digest each, made from what they send.
fn digested(rows: &[Row]) -> Vec<Row> {
    use std::hash::{Hash, Hasher};
    rows.iter()
        .map(|row| match row {
            Row::Listed(listed) => {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                format!("{listed:?}").hash(&mut hasher);
                let half = hasher.finish().to_le_bytes();
                let mut digest = [0; 16];
                digest[..8].copy_from_slice(&half);
                Row::Listed(Listed {
                    digest: Some(Digest(digest)),
                    ..listed.clone()
                })
            }
            deleted @ Row::Deleted { .. } => deleted.clone(),
        })
        .collect()
}

/// The rows a roll does not pass over.
fn not_quiet(rows: &[Row], roll: &mut Roll) -> Vec<Row> {
    rows.iter()
        .filter(|row| match row {
            Row::Listed(listed) => !listed
                .digest
                .is_some_and(|d| roll.quiet(listed.line, listed.external_id.as_str(), d)),
            Row::Deleted { .. } => true,
        })
        .cloned()
        .collect()
}

/// A full run applied, then the same rows again through the roll.
fn rerun_through_roll(rows: &[Row], people: &[Known]) -> (Vec<Known>, Roll, Vec<Row>) {
    let rows = digested(rows);
    let first = full(&rows, people);
    let applied = apply_in_memory(org(), &roster(), &first, &rows, people, &feed(), at()).unwrap();
    let mut roll = roll_of(&applied.after, &applied.sent);
    let read = not_quiet(&rows, &mut roll);
    (applied.after, roll, read)
}

#[test]
fn a_row_sent_as_before_is_passed_over_and_counted_unchanged() {
    let rows = [
        listed(1, Role::Student, true),
        listed(2, Role::Student, false),
    ];
    let (after, roll, read) = rerun_through_roll(&rows, &[]);
    assert!(read.is_empty(), "both passed over: {read:#?}");
    let plan = plan_with_roll(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        &read,
        &after,
        &roll,
    )
    .unwrap();
    assert_eq!(plan.quiet, 2);
    assert!(plan.items.is_empty(), "not missing either: {plan:#?}");
    assert_eq!(plan.counts().unchanged, 2);
}

#[test]
fn a_row_is_read_whole_when_it_changed_its_user_changed_or_the_source_let_them_go() {
    let rows = digested(&[listed(1, Role::Student, true)]);
    let first = full(&rows, &[]);
    let applied = apply_in_memory(org(), &roster(), &first, &rows, &[], &feed(), at()).unwrap();
    let Row::Listed(row) = &rows[0] else {
        unreachable!()
    };
    let digest = row.digest.unwrap();
    let mut roll = roll_of(&applied.after, &applied.sent);
    assert!(!roll.quiet(2, "e1", Digest([7; 16])), "another digest");
    assert!(
        !roll.quiet(3, "e1", digest),
        "a second row for them, after one read whole"
    );
    let mut roll = roll_of(&applied.after, &applied.sent);
    assert!(!roll.quiet(2, "e9", digest), "another person");
    assert!(roll.quiet(2, "e1", digest));
    assert!(!roll.quiet(3, "e1", digest), "a second row for them");

    // Changed by an admin since: their version moved on, the digest no longer counts.
    let mut people = applied.after.clone();
    let renamed = UserPatch {
        family_name: Some(PersonName::parse("Other", "family_name").unwrap()),
        ..UserPatch::default()
    };
    people[0].user = people[0]
        .user
        .apply(renamed, &admin(), at())
        .unwrap()
        .unwrap()
        .user;
    let mut roll = roll_of(&people, &applied.sent);
    assert!(!roll.quiet(2, "e1", digest));

    // Let go by the source (gone): reappearing is read whole.
    let mut people = applied.after;
    people[0].said = Some(Said::Gone);
    let mut roll = roll_of(&people, &applied.sent);
    assert!(!roll.quiet(2, "e1", digest));
}

#[test]
fn a_quiet_row_keeps_an_admins_decision_and_may_not_be_listed_again() {
    let rows = digested(&[listed(1, Role::Student, true)]);
    let first = full(&rows, &[]);
    let applied = apply_in_memory(org(), &roster(), &first, &rows, &[], &feed(), at()).unwrap();
    // As if an admin had deactivated them and the source's next file had kept that.
    let mut roll = Roll::new(roll_of(&applied.after, &applied.sent).iter().map(|(e, u)| {
        (
            e.to_owned(),
            Enrolled {
                status: Status::Inactive,
                ..u.clone()
            },
        )
    }));
    let Row::Listed(row) = &rows[0] else {
        unreachable!()
    };
    assert!(roll.quiet(2, "e1", row.digest.unwrap()));
    let plan = plan_with_roll(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        &[],
        &applied.after,
        &roll,
    )
    .unwrap();
    assert_eq!(plan.items.len(), 1);
    assert_eq!(plan.items[0].kept, Some(Kept::AdminDecision));
    assert_eq!(plan.items[0].line, Some(2));
    assert_eq!(plan.counts().kept, 1);

    let twice = plan_with_roll(
        &roster(),
        Mode::Full,
        MissingPolicy::default(),
        &rows,
        &applied.after,
        &roll,
    )
    .unwrap_err();
    assert_eq!(twice[0].1.field, "external_id");
    assert!(twice[0].1.message.contains("listed twice"), "{twice:?}");
}

#[test]
fn two_rows_naming_one_user_are_refused_whole_or_in_parts() {
    // A manual user, found by one row's username and another row's e-mail.
    let manual = known(1, Role::Student, false, Status::Active, None);
    let Row::Listed(first) = listed(1, Role::Student, true) else {
        unreachable!()
    };
    let first = Listed {
        email: Some(Email::parse("first@school.example").unwrap()),
        ..first
    };
    let Row::Listed(second) = listed(2, Role::Student, true) else {
        unreachable!()
    };
    let second = Listed {
        email: manual.user.email().cloned(),
        ..second
    };
    let rows = [Row::Listed(first), Row::Listed(second)];
    let people = [manual];
    let roll = Roll::of(&roster(), &people);
    let policy = MissingPolicy::default();
    let whole = plan_with_roll(&roster(), Mode::Full, policy, &rows, &people, &roll).unwrap_err();
    assert_eq!(whole.len(), 1, "{whole:?}");
    assert_eq!(whole[0].0, 4);
    assert!(whole[0].1.message.contains("another row"), "{whole:?}");
    let source = roster();
    let mut planner = Planner::new(&source, policy);
    for row in rows.chunks(1) {
        planner.part(row, &people, &roll);
    }
    assert_eq!(planner.finish(Mode::Full, &roll).unwrap_err(), whole);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The same rows again, passed over where the roll says they were sent as before, plan
    /// exactly what they plan read whole.
    #[test]
    fn a_rerun_through_the_roll_plans_what_a_rerun_read_whole_does(case in case()) {
        let rows = digested(&case.rows);
        let first = plan(&roster(), case.mode, case.policy, &rows, &case.people).unwrap();
        let applied = apply_in_memory(
            org(), &roster(), &first, &rows, &case.people, &feed(), at(),
        ).unwrap();
        let whole = plan(&roster(), case.mode, case.policy, &rows, &applied.after).unwrap();
        let mut roll = roll_of(&applied.after, &applied.sent);
        let read = not_quiet(&rows, &mut roll);
        let passed = plan_with_roll(
            &roster(), case.mode, case.policy, &read, &applied.after, &roll,
        ).unwrap();
        prop_assert_eq!(passed.counts(), whole.counts(), "{:#?}", passed);
        prop_assert!(!passed.changes_anything());
    }

    /// Planned a part at a time, each part against only the users its rows may name or clash
    /// with (as a long file is read), a run plans what it plans whole; a row that repeats an
    /// earlier part's external id, username or e-mail is refused as it is whole.
    #[test]
    fn a_run_planned_in_parts_plans_what_it_plans_whole(
        case in case(),
        part in 1_usize..5,
        again in proptest::option::of((0_usize..12, any::<bool>())),
    ) {
        let mut rows = digested(&case.rows);
        if let Some((i, new_id)) = again
            && let Some(Row::Listed(listed)) = rows.get(i).cloned()
        {
            // The same row again, or its login and e-mail under another external id.
            let line = rows.len() as u64 + 2;
            let external_id = if new_id {
                ExternalId::parse("again").unwrap()
            } else {
                listed.external_id.clone()
            };
            rows.push(Row::Listed(Listed { line, external_id, ..listed }));
        }
        let source = roster();
        let roll = Roll::of(&source, &case.people);
        let whole = plan_with_roll(&source, case.mode, case.policy, &rows, &case.people, &roll);
        let mut planner = Planner::new(&source, case.policy);
        for rows in rows.chunks(part) {
            let wanted = Wanted::of(rows, &roll);
            let known: Vec<Known> = case
                .people
                .iter()
                .filter(|k| is_wanted(&wanted, k))
                .cloned()
                .collect();
            planner.part(rows, &known, &roll);
        }
        prop_assert_eq!(planner.finish(case.mode, &roll), whole);
    }

    /// A plan applied a part at a time (as a store writes a large run) does what it does
    /// applied whole: the same people end in the same state, with the same touches and the
    /// same rows remembered.
    #[test]
    fn a_run_applied_in_parts_does_what_it_does_whole(case in case(), part in 1_usize..5) {
        let rows = digested(&case.rows);
        let run = plan(&roster(), case.mode, case.policy, &rows, &case.people).unwrap();
        let whole = apply_in_memory(
            org(), &roster(), &run, &rows, &case.people, &feed(), at(),
        ).unwrap();
        let (source, actor) = (roster(), feed());
        let applier = Applier::new(org(), &source, &rows, &case.people, &actor, at());
        let mut parts = Vec::new();
        for items in run.items.chunks(part) {
            parts.push(applier.apply(items).unwrap());
        }
        // People by their id in the source (a created user's id is new each time).
        let key = |k: &Known| k.user.external_id().map(|e| e.as_str().to_owned());
        let state = |k: &Known| {
            format!("{:?}", (k.user.status(), k.user.source(), k.said, k.user.version()))
        };
        let by_key = |after: &mut dyn Iterator<Item = &Known>| -> Vec<_> {
            let mut all: Vec<_> = after.map(|k| (key(k), state(k))).collect();
            all.sort();
            all
        };
        let touched: HashSet<Option<String>> = parts
            .iter()
            .flat_map(|p| p.after.iter().map(key))
            .collect();
        let whole_touched = by_key(&mut whole.after.iter().filter(|k| touched.contains(&key(k))));
        prop_assert_eq!(by_key(&mut parts.iter().flat_map(|p| p.after.iter())), whole_touched);
        let count = |f: fn(&Applied) -> usize| parts.iter().map(f).sum::<usize>();
        prop_assert_eq!(count(|a| a.changes.len()), whole.changes.len());
        prop_assert_eq!(count(|a| a.touches.len()), whole.touches.len());
        prop_assert_eq!(count(|a| a.sent.len()), whole.sent.len());
        let actions: Vec<_> = parts
            .iter()
            .flat_map(|p| p.changes.iter().map(|c| c.event.action))
            .collect();
        let whole_actions: Vec<_> = whole.changes.iter().map(|c| c.event.action).collect();
        prop_assert_eq!(actions, whole_actions);
    }

    /// Planning the same run again once it is applied changes nothing.
    #[test]
    fn a_run_applied_twice_changes_nothing_the_second_time(case in case()) {
        let first = plan(&roster(), case.mode, case.policy, &case.rows, &case.people).unwrap();
        let Applied { after, .. } = apply_in_memory(
            org(), &roster(), &first, &case.rows, &case.people, &feed(), at(),
        ).unwrap();
        let again = plan(&roster(), case.mode, case.policy, &case.rows, &after).unwrap();
        prop_assert!(!again.changes_anything(), "{:#?}", again);
    }

    /// A run and its undo leave everyone in the status they had; whom it created is archived.
    #[test]
    fn a_run_and_its_undo_restore_the_statuses(case in case()) {
        let run = plan(&roster(), case.mode, case.policy, &case.rows, &case.people).unwrap();
        let applied = apply_in_memory(
            org(), &roster(), &run, &case.rows, &case.people, &feed(), at(),
        ).unwrap();
        let current: HashMap<UserId, User> =
            applied.after.iter().map(|k| (k.user.id(), k.user.clone())).collect();
        let undone = undo(&applied.touches, &current, &feed(), "Dana", at()).unwrap();
        prop_assert!(undone.left_alone.is_empty());
        let mut now = current;
        for change in &undone.changes {
            now.insert(change.user.id(), change.user.clone());
        }
        let said: HashMap<UserId, Option<Said>> = applied
            .after
            .iter()
            .map(|k| (k.user.id(), k.said))
            .chain(undone.said.iter().copied())
            .collect();
        for (id, user) in &now {
            if let Some(before) = case.people.iter().find(|b| b.user.id() == *id) {
                prop_assert_eq!(user.status(), before.user.status());
                prop_assert_eq!(user.source(), before.user.source());
                prop_assert_eq!(user.external_id(), before.user.external_id());
                prop_assert_eq!(said[id], before.said);
            } else {
                prop_assert_eq!(user.status(), Status::Archived);
                prop_assert_eq!(said[id], Some(Said::Gone));
            }
        }
        // And the same file again does what the run did, whom it created coming back.
        let people: Vec<Known> = now
            .into_values()
            .map(|user| Known { said: said[&user.id()], user })
            .collect();
        let again = plan(&roster(), case.mode, case.policy, &case.rows, &people).unwrap();
        let redone = apply_in_memory(
            org(), &roster(), &again, &case.rows, &people, &feed(), at(),
        ).unwrap();
        let first: HashMap<UserId, Status> =
            applied.after.iter().map(|k| (k.user.id(), k.user.status())).collect();
        for k in &redone.after {
            prop_assert_eq!(k.user.status(), first[&k.user.id()], "{:#?}", k);
        }
    }

    /// Once a run is applied, whatever an admin does to anyone's status stands when the same
    /// file comes again: a source moves a status only when what it says changes.
    #[test]
    fn an_admins_decisions_survive_the_same_file_again(
        case in case(),
        decisions in proptest::collection::vec(
            prop_oneof![Just(Status::Active), Just(Status::Inactive), Just(Status::Archived)],
            24,
        ),
    ) {
        let run = plan(&roster(), case.mode, case.policy, &case.rows, &case.people).unwrap();
        let Applied { mut after, .. } = apply_in_memory(
            org(), &roster(), &run, &case.rows, &case.people, &feed(), at(),
        ).unwrap();
        for (k, decided) in after.iter_mut().zip(decisions) {
            for to in crate::rules::path(k.user.status(), decided) {
                let change = StatusChange { to, reason: None, temporary_password: None };
                k.user = k.user.change_status(change, &admin(), at()).unwrap().user;
            }
        }
        let again = plan(&roster(), case.mode, case.policy, &case.rows, &after).unwrap();
        for item in &again.items {
            let moved = item.steps.iter().any(|step| matches!(step, Step::Status { .. }));
            prop_assert!(!moved, "{:#?}", item);
        }
    }
}

#[test]
fn an_item_whose_row_was_not_read_with_it_is_refused() {
    let rows = [listed(1, Role::Student, true)];
    let plan = full(&rows, &[]);
    let (source, actor) = (roster(), feed());
    let applier = Applier::new(org(), &source, &[], &[], &actor, at());
    assert_eq!(
        applier.apply(&plan.items).unwrap_err(),
        crate::provisioning::apply::ApplyError::RowNotRead(3)
    );
}

#[test]
fn changed_fields_are_named_in_one_order() {
    let fields = Fields::ROLE.and(Fields::USERNAME).and(Fields::FAMILY_NAME);
    assert_eq!(
        fields.names().collect::<Vec<_>>(),
        ["username", "family_name", "role"]
    );
    assert!(Fields::default().is_empty());
    assert!(!fields.is_empty());
}

#[test]
fn an_item_holds_its_steps_in_place() {
    // A run of a million rows holds a million items: their steps take no allocation of their
    // own, even the longest (a link, an update and two moves of status).
    let steps: Steps = smallvec::smallvec![
        Step::Link {
            by: MatchedBy::Email
        },
        Step::Update {
            fields: Fields::EMAIL
        },
        status(Status::Inactive, Because::Reappeared),
        status(Status::Active, Because::Reappeared),
    ];
    assert!(!steps.spilled());
    assert!(
        std::mem::size_of::<Item>() <= 96,
        "{}",
        std::mem::size_of::<Item>()
    );
}

#[test]
fn a_row_without_a_role_changes_someone_known_and_creates_nobody() {
    let without_role = |i: usize| {
        let Row::Listed(row) = listed(i, Role::Student, true) else {
            unreachable!()
        };
        Row::Listed(Listed {
            role: None,
            creates: false,
            given_name: PersonName::parse("Renamed", "given_name").unwrap(),
            ..row
        })
    };
    let teacher = known(1, Role::Teacher, true, Status::Active, Some(Said::Enabled));
    let people = [teacher];
    let roll = Roll::of(&roster(), &people);
    let policy = MissingPolicy::default();
    let rows = [without_role(1)];
    let plan = plan_with_roll(&roster(), Mode::Delta, policy, &rows, &people, &roll).unwrap();
    assert_eq!(plan.counts().updated, 1);
    let Applied { after, .. } =
        apply_in_memory(org(), &roster(), &plan, &rows, &people, &feed(), at()).unwrap();
    assert_eq!(
        after[0].user.role(),
        Role::Teacher,
        "the role stays as it was"
    );
    assert_eq!(after[0].user.given_name().as_str(), "Renamed");

    let rows = [without_role(2)];
    let refused =
        plan_with_roll(&roster(), Mode::Delta, policy, &rows, &people, &roll).unwrap_err();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!((refused[0].0, refused[0].1.field.as_str()), (4, "role"));
}

#[test]
fn a_school_name_goes_with_its_school_id() {
    let attributes = |pairs: &[(&str, &str)]| {
        let map = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Attributes::from_stored(&map)
    };
    let had = attributes(&[
        ("grade", "9"),
        ("school", "North High"),
        ("school_id", "s1"),
    ]);
    assert_eq!(
        merged(&had, &attributes(&[("school_id", "s2")])),
        attributes(&[("grade", "9"), ("school_id", "s2")]),
        "moved to a school the row does not name: the old name is not theirs"
    );
    assert_eq!(merged(&had, &attributes(&[("school_id", "s1")])), had);
    let named = attributes(&[("school", "North High")]);
    assert_eq!(
        merged(&named, &attributes(&[("school_id", "s1")])),
        attributes(&[("school", "North High"), ("school_id", "s1")]),
        "a first school_id moves nobody: the name they have stays"
    );
    assert_eq!(
        merged(
            &had,
            &attributes(&[("school", "South High"), ("school_id", "s2")])
        ),
        attributes(&[
            ("grade", "9"),
            ("school", "South High"),
            ("school_id", "s2")
        ])
    );
}
