//! Units of work: racing writers, bulk changes, sessions, and who may manage tokens.

use rollcall_app::{AppError, BulkChange, EditUser, Principal};
use rollcall_domain::{Role, SecretKind, Session, Status, TokenSecret, User};
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, person};

fn rename(version: i64, family: &str) -> EditUser {
    EditUser {
        version: Some(version),
        family_name: Some(family.to_owned()),
        ..EditUser::default()
    }
}

/// Two admins save the same user at once, both having read version 1: exactly one wins, the
/// other hears that it is stale, and the history holds one edit.
pub async fn two_writers_racing_on_one_user_cannot_both_win(db: TestDb) {
    let f = fixture(db).await;
    let ada = f.add("Ada", "Lovelace", "ada").await;
    for round in 0..5 {
        let version = f.app.user(&f.admin, ada.id()).await.unwrap().version();
        let (a, b) = tokio::join!(
            f.app.edit_user(
                &f.admin,
                ada.id(),
                rename(version, &format!("Byron{round}"))
            ),
            f.app
                .edit_user(&f.admin, ada.id(), rename(version, &format!("King{round}"))),
        );
        let won = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: one writer wins ({a:?}, {b:?})");
        let lost = if a.is_ok() { b } else { a };
        assert!(
            matches!(lost, Err(AppError::Stale { .. })),
            "the other is stale: {lost:?}"
        );
        let now = f.app.user(&f.admin, ada.id()).await.unwrap();
        assert_eq!(now.version(), version + 1, "one write landed");
    }
    let history = f.app.user_events(&f.admin, ada.id()).await.unwrap();
    assert_eq!(history.len(), 1 + 5, "created, then one edit per round");
}

/// A bulk reactivation moves those it can, together, and names the rest with the reason.
pub async fn bulk_reactivation_moves_who_it_can_and_says_why_not_for_the_rest(db: TestDb) {
    let f = fixture(db).await;
    let gone = f.add("Grace", "Hopper", "grace").await;
    let also_gone = f.add("Alan", "Turing", "alan").await;
    let active = f.add("Ada", "Lovelace", "ada").await;
    let archived = f.add("Edsger", "Dijkstra", "edsger").await;
    let bulk = |ids: Vec<rollcall_domain::UserId>, to| BulkChange {
        ids,
        to,
        reason: Some("End of term".to_owned()),
    };
    let out = f
        .app
        .bulk_change_status(
            &f.admin,
            bulk(vec![gone.id(), also_gone.id()], Status::Inactive),
        )
        .await
        .unwrap();
    assert_eq!(out.changed.len(), 2);
    f.app
        .bulk_change_status(&f.admin, bulk(vec![archived.id()], Status::Archived))
        .await
        .unwrap();

    let unknown = rollcall_domain::UserId::new();
    let ids = vec![
        gone.id(),
        active.id(),
        archived.id(),
        also_gone.id(),
        unknown,
    ];
    let out = f
        .app
        .bulk_change_status(&f.admin, bulk(ids, Status::Active))
        .await
        .unwrap();
    let moved: Vec<_> = out.changed.iter().map(|c| c.user.id()).collect();
    assert_eq!(
        moved,
        [gone.id(), archived.id(), also_gone.id()],
        "inactive users are reactivated and archived ones restored"
    );
    assert!(
        out.changed.iter().all(|c| c.temporary_password.is_some()),
        "username-only users coming back get a generated temporary password"
    );
    let left: Vec<_> = out.left_out.iter().map(|l| l.id).collect();
    assert_eq!(left, [active.id(), unknown]);
    assert!(
        out.left_out[0].why.contains("already active"),
        "{:?}",
        out.left_out
    );
    assert_eq!(out.left_out[1].name, None);
    let grace = f.app.user(&f.admin, gone.id()).await.unwrap();
    assert!(grace.may_sign_in() && grace.must_change_password());
    let history = f.app.user_events(&f.admin, gone.id()).await.unwrap();
    assert_eq!(
        history.last().unwrap().reason.as_ref().unwrap().as_str(),
        "End of term"
    );

    // A move the rules refuse (archived to inactive) leaves that user untouched.
    f.app
        .bulk_change_status(&f.admin, bulk(vec![archived.id()], Status::Archived))
        .await
        .unwrap();
    let out = f
        .app
        .bulk_change_status(
            &f.admin,
            bulk(vec![archived.id(), active.id()], Status::Inactive),
        )
        .await
        .unwrap();
    assert_eq!(out.changed.len(), 1);
    assert_eq!(out.left_out.len(), 1);
    assert!(
        out.left_out[0].why.contains("archived to inactive"),
        "{:?}",
        out.left_out
    );
    let edsger = f.app.user(&f.admin, archived.id()).await.unwrap();
    assert_eq!(
        edsger.status(),
        Status::Archived,
        "left out means untouched"
    );
}

pub(crate) async fn open_session(f: &Fixture, user: &User) -> String {
    let secret = TokenSecret::generate_kind(SecretKind::Session, f.org.id);
    let now = chrono::Utc::now();
    let session = Session {
        digest: secret.digest(),
        org_id: f.org.id,
        user_id: user.id(),
        csrf_token: "0".repeat(48),
        created_at: now,
        expires_at: now + chrono::Duration::hours(1),
    };
    let mut uow = f.db.store.begin().await.unwrap();
    uow.insert_session(&session).await.unwrap();
    uow.commit().await.unwrap();
    secret.reveal()
}

/// Sessions are stored, found, and ended by the changes that must end them.
pub async fn sessions_end_when_the_rules_say_so(db: TestDb) {
    let f = fixture(db).await;
    let mut input = person("Ada", "Lovelace", Some("ada"), Some("ada@example.org"));
    input.password = Some("analytical engine".to_owned());
    let ada = f.app.create_user(&f.admin, input).await.unwrap();
    let laptop = open_session(&f, &ada).await;
    let phone = open_session(&f, &ada).await;
    let sessions = f.app.user_sessions(&f.admin, ada.id()).await.unwrap();
    assert_eq!(sessions.len(), 2);

    // Changing one's own password ends every other session.
    let visitor = f.app.visitor(&laptop).await.unwrap();
    f.app
        .change_own_password(&visitor, "analytical engine", "difference engine 2")
        .await
        .unwrap();
    assert!(
        f.app.visitor(&laptop).await.is_ok(),
        "the session that changed it stays"
    );
    assert!(
        matches!(f.app.visitor(&phone).await, Err(AppError::Unauthenticated)),
        "the others end"
    );

    // Deactivation ends them all, and they stay ended after reactivation.
    f.app
        .change_status(&f.admin, ada.id(), crate::users::status("inactive"))
        .await
        .unwrap();
    assert!(
        f.app
            .user_sessions(&f.admin, ada.id())
            .await
            .unwrap()
            .is_empty()
    );
    f.app
        .change_status(&f.admin, ada.id(), crate::users::status("active"))
        .await
        .unwrap();
    assert!(matches!(
        f.app.visitor(&laptop).await,
        Err(AppError::Unauthenticated)
    ));
}

/// Listing, issuing and revoking tokens are for admins only.
pub async fn only_admins_manage_tokens(db: TestDb) {
    let f = fixture(db).await;
    let teacher = f
        .app
        .create_user(&f.admin, {
            let mut p = person("Tess", "Teacher", Some("tess"), None);
            p.role = "teacher".to_owned();
            p
        })
        .await
        .unwrap();
    assert_eq!(teacher.role(), Role::Teacher);
    let (token, _) = f
        .app
        .create_token(&f.admin, "tess", "laptop")
        .await
        .unwrap();
    let as_teacher = Principal::user(&teacher);
    assert!(matches!(
        f.app.tokens(&as_teacher).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        f.app.revoke_token(&as_teacher, token.id).await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        f.app.create_token(&as_teacher, "tess", "another").await,
        Err(AppError::Forbidden)
    ));
    assert_eq!(
        f.app.tokens(&f.admin).await.unwrap().len(),
        1,
        "nothing was issued"
    );
    f.app.revoke_token(&f.admin, token.id).await.unwrap();
}
