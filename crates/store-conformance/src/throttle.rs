//! Sign-in throttling and sign-in forms, held in the database: shared by every server, and
//! not raced.

use std::sync::Arc;

use rollcall_app::{App, AppError, Clock, CreateUser, FORM_TOKEN_HOURS};
use rollcall_store::ThrottleRun;
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, person};

const PASSWORD: &str = "correct horse battery";

async fn with_password(f: &Fixture, username: &str) {
    let input = CreateUser {
        password: Some(PASSWORD.to_owned()),
        ..person("Pat", username, Some(username), None)
    };
    f.app.create_user(&f.admin, input).await.unwrap();
}

/// Two servers on one database, 30 wrong guesses at once split between them: no more than the
/// free attempts are checked, the rest are told to wait; another address still gets in.
pub async fn two_servers_share_one_sign_in_throttle(db: TestDb) {
    let f = fixture(db).await;
    with_password(&f, "teach").await;
    // Both servers' clocks stand still: however slow the machine, no wait runs out meanwhile.
    let now = chrono::Utc::now();
    let one = App::with_clock(f.db.store.clone(), Arc::new(At(now)));
    let other = App::with_clock(f.db.another_store().await, Arc::new(At(now)));
    let guesses = (0..30).map(|i| {
        let server = if i % 2 == 0 { &one } else { &other };
        async move {
            server
                .sign_in("northfield", "teach", &format!("guess {i}"), "10.0.0.9")
                .await
                .map(drop)
        }
    });
    let outcomes = futures::future::join_all(guesses).await;
    let checked = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AppError::Unauthenticated)))
        .count();
    let waiting = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AppError::Throttled { .. })))
        .count();
    assert_eq!((checked, waiting), (5, 25), "{outcomes:?}");
    let refused = one
        .sign_in("northfield", "teach", PASSWORD, "10.0.0.9")
        .await;
    assert!(
        matches!(refused, Err(AppError::Throttled { .. })),
        "the first server waits too: {refused:?}"
    );
    other
        .sign_in("northfield", "teach", PASSWORD, "10.0.0.10")
        .await
        .expect("the right password from another address");
}

/// Runs are counted in the unit of work that locks them: units racing on the same keys each
/// count once, and a key never seen comes back fresh.
pub async fn throttle_runs_count_once_per_unit_of_work(db: TestDb) {
    let stores = [db.store.clone(), db.another_store().await];
    let bumps = (0..20).map(|i| {
        let store = stores[i % 2].clone();
        async move {
            let mut uow = store.begin().await?;
            let runs = uow.lock_throttle_runs(&["b-key", "a-key"]).await?;
            let bumped: Vec<ThrottleRun> = runs
                .into_iter()
                .map(|run| ThrottleRun {
                    failures: run.failures + 1,
                    last_at: 7,
                    ..run
                })
                .collect();
            uow.put_throttle_runs(&bumped).await?;
            uow.commit().await
        }
    });
    for done in futures::future::join_all(bumps).await {
        done.unwrap();
    }
    let mut uow = db.store.begin().await.unwrap();
    let runs = uow
        .lock_throttle_runs(&["a-key", "b-key", "new-key"])
        .await
        .unwrap();
    let counted: Vec<(&str, i64, i64)> = runs
        .iter()
        .map(|r| (r.key.as_str(), r.failures, r.last_at))
        .collect();
    assert_eq!(
        counted,
        [("a-key", 20, 7), ("b-key", 20, 7), ("new-key", 0, 0)]
    );
    assert_eq!(
        uow.prune_throttle_runs(7).await.unwrap(),
        1,
        "the fresh key"
    );
    assert_eq!(uow.prune_throttle_runs(8).await.unwrap(), 2);
    uow.commit().await.unwrap();
}

/// The first server to ask creates a shared secret; every later one reads the same.
pub async fn a_server_secret_is_created_once_and_shared(db: TestDb) {
    let stores = [db.store.clone(), db.another_store().await];
    let mut uow = stores[0].begin().await.unwrap();
    let first = uow.server_secret("form", "one").await.unwrap();
    uow.commit().await.unwrap();
    let mut uow = stores[1].begin().await.unwrap();
    let second = uow.server_secret("form", "two").await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
}

/// A clock standing at a chosen time.
struct At(chrono::DateTime<chrono::Utc>);

impl Clock for At {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// A sign-in form served by one server is good on another; a token the servers did not sign,
/// or one past its hours, is not.
pub async fn sign_in_forms_are_signed_for_every_server(db: TestDb) {
    let one = App::new(db.store.clone());
    let other = App::new(db.another_store().await);
    let token = one.sign_in_form_token().await.unwrap();
    assert!(other.sign_in_form_token_is_good(&token).await.unwrap());
    let (head, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let forged = format!("{head}.{flipped}{}", &signature[1..]);
    for bad in ["x", "", "1.2.3", forged.as_str(), head] {
        assert!(
            !other.sign_in_form_token_is_good(bad).await.unwrap(),
            "{bad:?} is not a signed token"
        );
    }
    let later = chrono::Utc::now() + chrono::Duration::hours(FORM_TOKEN_HOURS + 1);
    let tomorrow = App::with_clock(db.store.clone(), Arc::new(At(later)));
    assert!(
        !tomorrow.sign_in_form_token_is_good(&token).await.unwrap(),
        "a form left open past its hours has expired"
    );
}
