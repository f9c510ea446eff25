//! Writing users: round trips, uniqueness, versions, history, tenants, tokens.

use std::collections::BTreeMap;

use rollcall_app::{App, AppError, ChangeStatus, EditUser, ListUsers};
use rollcall_domain::{AuditAction, Status, TransitionError, User, UserId};
use rollcall_store::{BULK_LOAD_MIN, StoreError};
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, insert, person};

pub(crate) fn status(to: &str) -> ChangeStatus {
    ChangeStatus {
        status: to.to_owned(),
        reason: Some("left the school".to_owned()),
        ..ChangeStatus::default()
    }
}

pub async fn a_created_user_reads_back_exactly(db: TestDb) {
    let f = fixture(db).await;
    let mut input = person("Zoë", "Ørsted", Some("zoe.o"), Some("Zoe@Example.org"));
    input.role = "teacher".to_owned();
    input.attributes = BTreeMap::from([("department".to_owned(), "Science".to_owned())]);
    input.external_id = Some("T-100".to_owned());
    input.password = Some("a long passphrase".to_owned());
    let created = f.app.create_user(&f.admin, input).await.unwrap();
    let read = f.app.user(&f.admin, created.id()).await.unwrap();
    assert_eq!(read, created);
    assert_eq!(read.attributes().get("department"), Some("Science"));
    assert!(
        read.password()
            .as_ref()
            .unwrap()
            .verify("a long passphrase")
    );
    assert!(read.prevent_archiving(), "made by hand");
    let by_login =
        f.db.store
            .user_by_login(f.org.id, "ZOE@example.ORG")
            .await
            .unwrap();
    assert_eq!(by_login.as_ref().map(User::id), Some(created.id()));
}

pub async fn usernames_and_emails_are_unique_ignoring_case_and_nothing_is_written(db: TestDb) {
    let f = fixture(db).await;
    f.app
        .create_user(
            &f.admin,
            person("Ada", "Lovelace", Some("ada"), Some("ada@example.org")),
        )
        .await
        .unwrap();
    let dup_username = f
        .app
        .create_user(&f.admin, person("Ada", "Other", Some("ADA"), None))
        .await;
    assert!(
        matches!(dup_username, Err(AppError::Taken { field: "username" })),
        "{dup_username:?}"
    );
    let dup_email = f
        .app
        .create_user(
            &f.admin,
            person("Ada", "Other", None, Some("ADA@example.org")),
        )
        .await;
    assert!(
        matches!(dup_email, Err(AppError::Taken { field: "email" })),
        "{dup_email:?}"
    );
    let all = f
        .app
        .count_users(&f.admin, &ListUsers::default(), 100)
        .await
        .unwrap();
    assert_eq!(all, 1, "the refused users were not written");
}

pub async fn external_ids_are_unique_per_source(db: TestDb) {
    let f = fixture(db).await;
    let mut first = person("A", "One", Some("a1"), None);
    first.source = Some("roster".to_owned());
    first.external_id = Some("S-1".to_owned());
    f.app.create_user(&f.admin, first).await.unwrap();
    let mut same = person("B", "Two", Some("b2"), None);
    same.source = Some("roster".to_owned());
    same.external_id = Some("S-1".to_owned());
    let err = f.app.create_user(&f.admin, same).await;
    assert!(
        matches!(
            err,
            Err(AppError::Taken {
                field: "external_id"
            })
        ),
        "{err:?}"
    );
    let mut other_source = person("C", "Three", Some("c3"), None);
    other_source.source = Some("scim".to_owned());
    other_source.external_id = Some("S-1".to_owned());
    f.app.create_user(&f.admin, other_source).await.unwrap();
}

pub async fn a_stale_write_is_refused_and_changes_nothing(db: TestDb) {
    let f = fixture(db).await;
    let user = f.add("Ada", "Lovelace", "ada").await;
    let edit = |version, name: &str| EditUser {
        version: Some(version),
        given_name: Some(name.to_owned()),
        ..EditUser::default()
    };
    let edited = f
        .app
        .edit_user(&f.admin, user.id(), edit(1, "Augusta"))
        .await
        .unwrap();
    assert_eq!(edited.version(), 2);
    let stale = f
        .app
        .edit_user(&f.admin, user.id(), edit(1, "Countess"))
        .await;
    assert!(
        matches!(
            stale,
            Err(AppError::Stale {
                what: "user",
                sent: Some(1),
                current: 2
            })
        ),
        "{stale:?}"
    );

    // The store itself refuses a write naming an old version, even if the caller skipped the check.
    let again = user
        .apply(
            rollcall_domain::UserPatch {
                family_name: Some(
                    rollcall_domain::PersonName::parse("Byron", "family_name").unwrap(),
                ),
                ..Default::default()
            },
            &f.admin.actor,
            user.updated_at(),
        )
        .unwrap()
        .unwrap();
    let mut uow = f.db.store.begin().await.unwrap();
    let raw = uow.update_user(&again.user, 1).await;
    assert!(
        matches!(raw, Err(StoreError::Stale { current: 2 })),
        "{raw:?}"
    );

    let now = f.app.user(&f.admin, user.id()).await.unwrap();
    assert_eq!(now.given_name().as_str(), "Augusta");
    assert_eq!(now.family_name().as_str(), "Lovelace");
    let history = f.app.user_events(&f.admin, user.id()).await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "created + one edit, nothing from the stale writes"
    );
}

pub async fn a_status_change_is_recorded_with_actor_reason_and_statuses(db: TestDb) {
    let f = fixture(db).await;
    let user = f.add("Ada", "Lovelace", "ada").await;
    let changed = f
        .app
        .change_status(&f.admin, user.id(), status("inactive"))
        .await
        .unwrap();
    assert_eq!(changed.user.status(), Status::Inactive);
    assert_eq!(changed.user.version(), 2);
    let history = f.app.user_events(&f.admin, user.id()).await.unwrap();
    let actions: Vec<_> = history.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::StatusChanged]);
    let change = &history[1];
    assert_eq!(change.from_status, Some(Status::Active));
    assert_eq!(change.to_status, Some(Status::Inactive));
    assert_eq!(
        change.reason.as_ref().map(rollcall_domain::Reason::as_str),
        Some("left the school")
    );
    assert_eq!(change.actor.label(), "conformance");
    assert_eq!(change.at, changed.user.status_changed_at());
}

pub async fn reactivating_a_username_only_user_needs_a_temporary_password(db: TestDb) {
    let f = fixture(db).await;
    let user = f.add("Ada", "Lovelace", "ada").await;
    f.app
        .change_status(&f.admin, user.id(), status("inactive"))
        .await
        .unwrap();
    let refused = f
        .app
        .change_status(&f.admin, user.id(), status("active"))
        .await;
    assert!(
        matches!(
            refused,
            Err(AppError::Transition(
                TransitionError::TemporaryPasswordRequired
            ))
        ),
        "{refused:?}"
    );
    let still = f.app.user(&f.admin, user.id()).await.unwrap();
    assert_eq!(
        (still.status(), still.version()),
        (Status::Inactive, 2),
        "nothing written"
    );

    let back = f
        .app
        .change_status(
            &f.admin,
            user.id(),
            ChangeStatus {
                generate_temporary_password: true,
                ..status("active")
            },
        )
        .await
        .unwrap();
    let temporary = back.temporary_password.expect("shown once");
    let stored = f.app.user(&f.admin, user.id()).await.unwrap();
    assert!(stored.password().unwrap().verify(&temporary));
    assert!(stored.must_change_password());
}

pub async fn another_orgs_users_are_invisible(db: TestDb) {
    let f = fixture(db).await;
    let ours = f.add("Ada", "Lovelace", "ada").await;
    let (_, theirs) = f.other_org().await;
    let theirs_user = f
        .app
        .create_user(&theirs, person("Ada", "Lovelace", Some("ada"), None))
        .await
        .expect("the same username is free in another org");
    let not_found = |r: Result<_, AppError>| matches!(r, Err(AppError::NotFound("user")));
    assert!(not_found(f.app.user(&theirs, ours.id()).await.map(drop)));
    assert!(not_found(
        f.app.user_events(&theirs, ours.id()).await.map(drop)
    ));
    assert!(not_found(
        f.app
            .change_status(&theirs, ours.id(), status("inactive"))
            .await
            .map(drop)
    ));
    let edit = EditUser {
        version: Some(1),
        given_name: Some("Mallory".into()),
        ..EditUser::default()
    };
    assert!(not_found(
        f.app.edit_user(&theirs, ours.id(), edit).await.map(drop)
    ));
    let listed = f
        .app
        .list_users(&theirs, ListUsers::default())
        .await
        .unwrap();
    assert_eq!(
        listed.users.iter().map(User::id).collect::<Vec<_>>(),
        vec![theirs_user.id()]
    );
    assert_eq!(
        f.app
            .user(&f.admin, ours.id())
            .await
            .unwrap()
            .given_name()
            .as_str(),
        "Ada"
    );
    assert!(
        f.db.store
            .user(f.org.id, UserId::new())
            .await
            .unwrap()
            .is_none()
    );
}

/// A student made by the domain, as an import makes one, with their created event.
fn pupil(f: &Fixture, username: &str, family: &str) -> (User, rollcall_domain::AuditEvent) {
    User::create(
        f.org.id,
        rollcall_domain::NewUser {
            username: Some(rollcall_domain::Username::parse(username).unwrap()),
            email: None,
            given_name: rollcall_domain::PersonName::parse("Bulk", "given_name").unwrap(),
            family_name: rollcall_domain::PersonName::parse(family, "family_name").unwrap(),
            role: rollcall_domain::Role::Student,
            source: rollcall_domain::Source::manual(),
            external_id: None,
            prevent_archiving: None,
            password: None,
            must_change_password: false,
            attributes: rollcall_domain::Attributes::default(),
        },
        &f.admin.actor,
        f.org.created_at,
    )
    .unwrap()
}

async fn count(f: &Fixture) -> u64 {
    f.app
        .count_users(&f.admin, &ListUsers::default(), 1_000_000)
        .await
        .unwrap()
}

async fn search(f: &Fixture, q: &str) -> Vec<User> {
    f.app
        .list_users(
            &f.admin,
            ListUsers {
                q: Some(q.to_owned()),
                ..ListUsers::default()
            },
        )
        .await
        .unwrap()
        .users
}

pub async fn a_bulk_insert_is_all_or_nothing(db: TestDb) {
    let f = fixture(db).await;
    let good: Vec<_> = (0..1500)
        .map(|i| pupil(&f, &format!("u{i}"), &format!("u{i}")))
        .collect();
    insert(&f.db, f.org.id, &good).await.unwrap();
    let mut bad: Vec<_> = (0..1500)
        .map(|i| pupil(&f, &format!("v{i}"), &format!("v{i}")))
        .collect();
    bad.push(pupil(&f, "U7", "U7"));
    let err = insert(&f.db, f.org.id, &bad).await;
    assert!(
        matches!(err, Err(StoreError::Conflict { field: "username" })),
        "{err:?}"
    );
    assert_eq!(
        count(&f).await,
        1500,
        "none of the refused batch was written"
    );
    let history = f.app.user_events(&f.admin, good[0].0.id()).await.unwrap();
    assert_eq!(history.len(), 1, "each bulk user has its created event");
}

/// A load large enough for the backends' bulk paths ([`BULK_LOAD_MIN`] users into an empty
/// org): a duplicate in its very last row leaves no row, no search entry and no history behind;
/// the same load without it leaves every index whole: unique keys enforced again, the search
/// finding anyone, listings in order, sign-in names found.
pub async fn a_bulk_load_is_all_or_nothing_and_leaves_every_index_whole(db: TestDb) {
    let f = fixture(db).await;
    let mut rows: Vec<_> = (0..BULK_LOAD_MIN)
        .map(|i| pupil(&f, &format!("pupil{i}"), &format!("Family{i}")))
        .collect();
    rows.push(pupil(&f, "PUPIL7", "Latecomer"));
    let err = insert(&f.db, f.org.id, &rows).await;
    assert!(
        matches!(err, Err(StoreError::Conflict { field: "username" })),
        "the duplicate in the last row refuses the load: {err:?}"
    );
    assert_eq!(count(&f).await, 0, "no row was left behind");
    assert!(
        search(&f, "family123").await.is_empty(),
        "nor a search entry"
    );
    let history = f.app.user_events(&f.admin, rows[0].0.id()).await;
    assert!(
        matches!(history, Err(AppError::NotFound("user"))),
        "nor the first person: {history:?}"
    );

    rows.pop();
    insert(&f.db, f.org.id, &rows).await.unwrap();
    assert_eq!(count(&f).await, BULK_LOAD_MIN as u64);
    let found = search(&f, "family12345").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].family_name().as_str(), "Family12345");
    assert_eq!(
        search(&f, "pupil1999").await.len(),
        11,
        "pupil1999 and pupil19990 to pupil19999"
    );
    let first = f
        .app
        .list_users(&f.admin, ListUsers::default())
        .await
        .unwrap()
        .users;
    let families: Vec<&str> = first.iter().map(|u| u.family_name().as_str()).collect();
    assert_eq!(&families[..3], ["Family0", "Family1", "Family10"]);
    let last = &rows[BULK_LOAD_MIN - 1].0;
    let by_login =
        f.db.store
            .user_by_login(f.org.id, "PUPIL19999")
            .await
            .unwrap();
    assert_eq!(by_login.map(|u| u.id()), Some(last.id()));
    // So does their source's roll (SQLite reads it in chunks, by two readers at once).
    let roll =
        f.db.store
            .source_roll(f.org.id, &rollcall_domain::Source::manual())
            .await
            .unwrap();
    let rolled: std::collections::HashSet<_> = roll.iter().map(|(_, e)| e.user).collect();
    assert_eq!(
        (roll.iter().count(), rolled.len()),
        (BULK_LOAD_MIN, BULK_LOAD_MIN)
    );
    assert_eq!(
        roll.get(&last.id().to_string()).map(|e| (e.user, e.status)),
        Some((last.id(), rollcall_domain::Status::Active)),
        "a user without an external id is on the roll by their id"
    );
    let history = f.app.user_events(&f.admin, last.id()).await.unwrap();
    assert_eq!(history.len(), 1, "the created event");

    let again = insert(&f.db, f.org.id, &[pupil(&f, "Pupil5", "Again")]).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { field: "username" })),
        "the unique index is whole again: {again:?}"
    );
    let look_alike = insert(&f.db, f.org.id, &[pupil(&f, "pup\u{0456}l5", "Again")]).await;
    assert!(
        matches!(look_alike, Err(StoreError::Conflict { field: "username" })),
        "and so is the look-alike index: {look_alike:?}"
    );
}

pub async fn tokens_work_until_revoked_or_their_user_stops_being_active(db: TestDb) {
    let f = fixture(db).await;
    let mut input = person("Grace", "Hopper", Some("grace"), Some("grace@example.org"));
    input.role = "admin".to_owned();
    let grace = f.app.create_user(&f.admin, input).await.unwrap();
    let (token, secret) = f.app.create_token(&f.admin, "grace", "ci").await.unwrap();
    let who = f.app.authenticate_token(&secret).await.unwrap();
    assert_eq!(
        (who.org_id, who.actor.user_id()),
        (f.org.id, Some(grace.id()))
    );

    f.app
        .change_status(&f.admin, grace.id(), status("inactive"))
        .await
        .unwrap();
    assert!(matches!(
        f.app.authenticate_token(&secret).await,
        Err(AppError::Unauthenticated)
    ));
    f.app
        .change_status(&f.admin, grace.id(), status("active"))
        .await
        .unwrap();
    assert!(
        matches!(
            f.app.authenticate_token(&secret).await,
            Err(AppError::Unauthenticated)
        ),
        "revoked for good when she lost sign-in: reactivation does not bring it back"
    );
    assert!(
        matches!(
            f.app.revoke_token(&f.admin, token.id).await,
            Err(AppError::NotFound(_))
        ),
        "no live token is left to revoke"
    );

    let (token, secret) = f.app.create_token(&f.admin, "grace", "ci 2").await.unwrap();
    assert!(
        f.app.authenticate_token(&secret).await.is_ok(),
        "a new one works"
    );
    f.app.revoke_token(&f.admin, token.id).await.unwrap();
    assert!(matches!(
        f.app.authenticate_token(&secret).await,
        Err(AppError::Unauthenticated)
    ));
    let (other, _) = f.other_org().await;
    let forged = secret.replace(
        &f.org.id.as_uuid().simple().to_string(),
        &other.id.as_uuid().simple().to_string(),
    );
    assert!(matches!(
        f.app.authenticate_token(&forged).await,
        Err(AppError::Unauthenticated)
    ));
}

/// Usernames that only look like another (another script's letters, full width) are refused,
/// on create and on rename, and nothing is written.
pub async fn look_alike_usernames_are_refused(db: TestDb) {
    let f = fixture(db).await;
    f.add("Site", "Admin", "admin").await;
    let pat = f.add("Pat", "Jones", "pat").await;
    for look_alike in ["\u{0430}dmin", "ａｄｍｉｎ", "adm\u{0456}n"] {
        let created = f
            .app
            .create_user(&f.admin, person("Eve", "Mallory", Some(look_alike), None))
            .await;
        assert!(
            matches!(created, Err(AppError::LooksLike { field: "username" })),
            "{look_alike}: {created:?}"
        );
        let renamed = f
            .app
            .edit_user(
                &f.admin,
                pat.id(),
                EditUser {
                    version: Some(1),
                    username: Some(Some(look_alike.to_owned())),
                    ..EditUser::default()
                },
            )
            .await;
        assert!(
            matches!(renamed, Err(AppError::LooksLike { field: "username" })),
            "{look_alike}: {renamed:?}"
        );
    }
    let same = f
        .app
        .create_user(&f.admin, person("Eve", "Mallory", Some("ADMIN"), None))
        .await;
    assert!(
        matches!(same, Err(AppError::Taken { field: "username" })),
        "the same name in capitals is taken, not a look-alike: {same:?}"
    );
    f.add("Jo", "Hall", "jhal1").await;
    f.add("Jo", "Hall", "jhall").await;
    let all = f
        .app
        .count_users(&f.admin, &ListUsers::default(), 100)
        .await
        .unwrap();
    assert_eq!(
        all, 4,
        "Site, Pat and the two plain jhal1/jhall; no look-alike"
    );
    let pat_now = f.app.user(&f.admin, pat.id()).await.unwrap();
    assert_eq!(pat_now.version(), 1, "the refused renames wrote nothing");
}

/// Rows written before usernames had skeletons get theirs when a server starts, so a
/// look-alike of an old username is refused as well. Two old usernames that already look alike
/// both keep working, start after start.
pub async fn old_usernames_get_their_skeletons_when_a_server_starts(db: TestDb) {
    let f = fixture(db).await;
    f.add("Site", "Admin", "admin").await;
    let twin = f.add("Eve", "Twin", "twin").await;
    f.db.execute_sql(
        "update user_account set username = '\u{0430}dmin', username_key = '\u{0430}dmin' \
         where username = 'twin'",
    )
    .await;
    f.db.execute_sql("update user_account set username_skeleton = null")
        .await;
    f.db.restart().await;
    let restarted = App::new(f.db.restart().await);
    let renamed = restarted
        .edit_user(
            &f.admin,
            twin.id(),
            EditUser {
                version: Some(1),
                family_name: Some("Twin-Smith".to_owned()),
                ..EditUser::default()
            },
        )
        .await;
    assert!(
        renamed.is_ok(),
        "the old look-alike can still be changed: {renamed:?}"
    );
    let look_alike = restarted
        .create_user(&f.admin, person("Eve", "Mallory", Some("ａｄｍｉｎ"), None))
        .await;
    assert!(
        matches!(look_alike, Err(AppError::LooksLike { field: "username" })),
        "a new look-alike of the old admin is refused: {look_alike:?}"
    );
}
