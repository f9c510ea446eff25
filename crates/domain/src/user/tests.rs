use super::*;
use crate::password::Password;

fn at(seconds: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn admin() -> Actor {
    Actor::system("test")
}

fn new_user(username: Option<&str>, email: Option<&str>) -> NewUser {
    NewUser {
        username: username.map(|u| Username::parse(u).unwrap()),
        email: email.map(|e| Email::parse(e).unwrap()),
        given_name: PersonName::parse("Ada", "given_name").unwrap(),
        family_name: PersonName::parse("Lovelace", "family_name").unwrap(),
        role: Role::Teacher,
        source: Source::manual(),
        external_id: None,
        prevent_archiving: None,
        password: Some(PasswordHash::new(
            &Password::parse("analytical engine", "password", &[]).unwrap(),
        )),
        must_change_password: false,
        attributes: Attributes::default(),
    }
}

fn change(to: Status) -> StatusChange {
    StatusChange {
        to,
        reason: None,
        temporary_password: None,
    }
}

fn created(username: Option<&str>, email: Option<&str>) -> User {
    User::create(OrgId::new(), new_user(username, email), &admin(), at(0))
        .unwrap()
        .0
}

#[test]
fn a_user_needs_a_username_or_an_email() {
    let err = User::create(OrgId::new(), new_user(None, None), &admin(), at(0)).unwrap_err();
    assert_eq!(err.field, "username");
    assert!(created(Some("ada"), None).username.is_some());
    assert!(created(None, Some("ada@example.org")).email.is_some());
}

#[test]
fn a_new_user_is_active_at_version_one_and_its_event_says_created() {
    let (user, event) =
        User::create(OrgId::new(), new_user(Some("ada"), None), &admin(), at(5)).unwrap();
    assert!(user.may_sign_in());
    assert_eq!(user.version, 1);
    assert_eq!(user.created_at, at(5));
    assert_eq!(event.action, AuditAction::Created);
    assert_eq!(event.to_status, Some(Status::Active));
    assert_eq!(event.user_id, user.id);
}

#[test]
fn manual_users_are_protected_from_archiving_and_provisioned_ones_are_not() {
    assert!(created(Some("ada"), None).prevent_archiving);
    let mut provisioned = new_user(Some("ada"), None);
    provisioned.source = Source::parse("oneroster-main").unwrap();
    let (user, _) = User::create(OrgId::new(), provisioned, &admin(), at(0)).unwrap();
    assert!(!user.prevent_archiving);
}

#[test]
fn deactivating_a_user_without_email_drops_their_password() {
    let user = created(Some("ada"), None);
    let UserChange {
        user: inactive,
        event,
        ..
    } = user
        .change_status(change(Status::Inactive), &admin(), at(10))
        .unwrap();
    assert!(inactive.password.is_none());
    assert!(!inactive.may_sign_in());
    assert_eq!(inactive.version, 2);
    assert_eq!(inactive.status_changed_at, at(10));
    assert_eq!(event.from_status, Some(Status::Active));
    assert_eq!(event.to_status, Some(Status::Inactive));
}

#[test]
fn deactivating_a_user_with_email_keeps_their_password() {
    let user = created(Some("ada"), Some("ada@example.org"));
    let UserChange {
        user: inactive,
        event: _,
        ..
    } = user
        .change_status(change(Status::Inactive), &admin(), at(10))
        .unwrap();
    assert!(inactive.password.is_some());
    let UserChange {
        user: active,
        event: _,
        ..
    } = inactive
        .change_status(change(Status::Active), &admin(), at(20))
        .unwrap();
    assert!(active.may_sign_in());
    assert!(!active.must_change_password);
}

#[test]
fn reactivating_a_user_without_email_requires_a_temporary_password() {
    let UserChange {
        user: inactive,
        event: _,
        ..
    } = created(Some("ada"), None)
        .change_status(change(Status::Inactive), &admin(), at(10))
        .unwrap();
    assert_eq!(
        inactive.change_status(change(Status::Active), &admin(), at(20)),
        Err(TransitionError::TemporaryPasswordRequired)
    );
    let temporary = TemporaryPasswordHash::make();
    let UserChange {
        user: active,
        event: _,
        ..
    } = inactive
        .change_status(
            StatusChange {
                temporary_password: Some(temporary.clone()),
                ..change(Status::Active)
            },
            &admin(),
            at(20),
        )
        .unwrap();
    assert_eq!(active.password, Some(temporary));
    assert!(
        active.must_change_password,
        "must change it at next sign-in"
    );
}

struct TemporaryPasswordHash;
impl TemporaryPasswordHash {
    fn make() -> PasswordHash {
        PasswordHash::new(&crate::password::TemporaryPassword::generate())
    }
}

#[test]
fn restoring_an_archived_user_without_email_also_requires_a_temporary_password() {
    let UserChange {
        user: archived,
        event: _,
        ..
    } = created(Some("ada"), None)
        .change_status(change(Status::Archived), &admin(), at(10))
        .unwrap();
    assert!(archived.password.is_none());
    assert_eq!(
        archived.change_status(change(Status::Active), &admin(), at(20)),
        Err(TransitionError::TemporaryPasswordRequired)
    );
}

#[test]
fn refused_transitions_say_why() {
    let user = created(Some("ada"), Some("ada@example.org"));
    assert_eq!(
        user.change_status(change(Status::Active), &admin(), at(1)),
        Err(TransitionError::Unchanged(Status::Active))
    );
    let UserChange {
        user: archived,
        event: _,
        ..
    } = user
        .change_status(change(Status::Archived), &admin(), at(2))
        .unwrap();
    assert_eq!(
        archived.change_status(change(Status::Inactive), &admin(), at(3)),
        Err(TransitionError::NotAllowed {
            from: Status::Archived,
            to: Status::Inactive
        })
    );
}

#[test]
fn nobody_takes_away_their_own_sign_in_but_another_admin_may() {
    let user = created(Some("ada"), Some("ada@example.org"));
    let herself = Actor::User {
        id: user.id(),
        label: "Ada".to_owned(),
    };
    let her_token = Actor::Token {
        id: crate::TokenId::new(),
        user_id: user.id(),
        label: "Ada (token)".to_owned(),
    };
    for actor in [&herself, &her_token] {
        for to in [Status::Inactive, Status::Archived] {
            assert_eq!(
                user.change_status(change(to), actor, at(1)),
                Err(TransitionError::OwnSignIn)
            );
        }
    }
    let other = Actor::User {
        id: crate::UserId::new(),
        label: "Ben".to_owned(),
    };
    assert!(
        user.change_status(change(Status::Inactive), &other, at(1))
            .is_ok()
    );
}

#[test]
fn an_edit_bumps_the_version_and_lists_the_changed_fields() {
    let user = created(Some("ada"), None);
    let patch = UserPatch {
        email: Some(Some(Email::parse("ada@example.org").unwrap())),
        role: Some(Role::Teacher),
        ..UserPatch::default()
    };
    let UserChange {
        user: edited,
        event,
        ..
    } = user.apply(patch, &admin(), at(3)).unwrap().unwrap();
    assert_eq!(edited.version, 2);
    assert_eq!(event.action, AuditAction::Updated);
    assert_eq!(
        event.changed_fields,
        vec!["email".to_owned()],
        "role was unchanged"
    );
}

#[test]
fn an_edit_that_changes_nothing_writes_nothing() {
    let user = created(Some("ada"), None);
    let patch = UserPatch {
        given_name: Some(user.given_name.clone()),
        ..UserPatch::default()
    };
    assert!(user.apply(patch, &admin(), at(3)).unwrap().is_none());
}

#[test]
fn an_edit_cannot_remove_the_last_login() {
    let user = created(Some("ada"), None);
    let patch = UserPatch {
        username: Some(None),
        ..UserPatch::default()
    };
    assert_eq!(
        user.apply(patch, &admin(), at(3)).unwrap_err().field,
        "username"
    );
}

#[test]
fn field_validation_names_the_field() {
    assert_eq!(
        Username::parse("ada lovelace").unwrap_err().field,
        "username"
    );
    assert_eq!(
        Username::parse(&"a".repeat(65)).unwrap_err().field,
        "username"
    );
    assert_eq!(Email::parse("ada@").unwrap_err().field, "email");
    assert_eq!(Email::parse("ada.example.org").unwrap_err().field, "email");
    assert_eq!(
        PersonName::parse("  ", "given_name").unwrap_err().field,
        "given_name"
    );
    assert_eq!(
        PersonName::parse(&"x".repeat(101), "family_name")
            .unwrap_err()
            .field,
        "family_name"
    );
    let attrs = [("Grade".to_owned(), "7".to_owned())].into_iter().collect();
    assert_eq!(
        Attributes::parse(attrs).unwrap_err().field,
        "attributes.Grade"
    );
}

#[test]
fn usernames_and_emails_are_unique_ignoring_case() {
    assert_eq!(
        Username::parse("Ada.L").unwrap().key(),
        Username::parse("ada.l").unwrap().key()
    );
    assert_eq!(
        Email::parse("Ada@Example.org").unwrap().key(),
        "ada@example.org"
    );
}

#[test]
fn attributes_keep_their_names_and_values_in_name_order() {
    let raw: BTreeMap<String, String> = [
        ("school", " Benchmark High "),
        ("grade", "9"),
        ("department", ""),
        ("oneroster_role", "student"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let attributes = Attributes::parse(raw).unwrap();
    // Trimmed; an empty value is no attribute at all.
    assert_eq!(
        attributes.iter().collect::<Vec<_>>(),
        [
            ("grade", "9"),
            ("oneroster_role", "student"),
            ("school", "Benchmark High")
        ]
    );
    assert_eq!(attributes.len(), 3);
    assert_eq!(attributes.get("school"), Some("Benchmark High"));
    assert_eq!(attributes.get("grad"), None);
    assert_eq!(attributes.get("department"), None);
    assert_eq!(
        serde_json::to_string(&attributes).unwrap(),
        r#"{"grade":"9","oneroster_role":"student","school":"Benchmark High"}"#
    );
    assert_eq!(Attributes::from_stored(&attributes.to_map()), attributes);
    assert_eq!(
        format!("{attributes:?}"),
        format!("{:?}", attributes.to_map())
    );
}

#[test]
fn attributes_compare_by_what_they_hold() {
    let one = |pairs: &[(&str, &str)]| {
        Attributes::from_stored(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    };
    // The same text split differently is not the same attributes.
    assert_ne!(one(&[("ab", "c")]), one(&[("a", "bc")]));
    assert_eq!(
        one(&[("a", "1"), ("b", "2")]),
        one(&[("b", "2"), ("a", "1")])
    );
    assert!(Attributes::default().is_empty());
    assert_eq!(Attributes::default().iter().count(), 0);
    assert_eq!(one(&[("a", "")]).get("a"), Some(""));
}

#[test]
fn every_attribute_is_found_by_its_name_and_no_other() {
    let raw: BTreeMap<String, String> = (0..Attributes::MAX_COUNT)
        .map(|i| (format!("k{:02}", i * 2), format!("v{i}")))
        .collect();
    let attributes = Attributes::parse(raw.clone()).unwrap();
    for (key, value) in &raw {
        assert_eq!(attributes.get(key), Some(value.as_str()));
    }
    // Names between, before and after the ones held.
    for i in 0..=Attributes::MAX_COUNT {
        assert_eq!(attributes.get(&format!("k{:02}", i * 2 + 1)), None);
    }
    assert_eq!(attributes.get("a"), None);
    assert_eq!(attributes.get("z"), None);
    assert_eq!(attributes.to_map(), raw);
}
