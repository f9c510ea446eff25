//! The console's sign-in, sessions and forms, over HTTP: what each refusal says and that it
//! changes nothing.

use reqwest::redirect::Policy;
use rollcall_app::{AppError, ChangeStatus, CreateUser, EditUser};
use rollcall_testkit::TestDb;

use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "a fine long passphrase";

/// A browser-like client: keeps cookies, does not follow redirects (so tests see them).
struct Browser {
    client: reqwest::Client,
    address: String,
}

struct Page {
    status: u16,
    location: String,
    body: String,
}

impl Browser {
    fn new(t: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            address: t.address.clone(),
        }
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Page {
            status,
            location,
            body: response.text().await.unwrap_or_default(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        Self::read(
            self.client
                .get(format!("{}{path}", self.address))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::read(
            self.client
                .post(format!("{}{path}", self.address))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The `_csrf` value of the first form on a page.
    fn csrf(page: &Page) -> String {
        page.body
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }

    async fn sign_in(&self, login: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        let csrf = Self::csrf(&form);
        self.post(
            "/sign-in",
            &[
                ("_csrf", &csrf),
                ("org", "northfield"),
                ("login", login),
                ("password", password),
            ],
        )
        .await
    }
}

async fn person(
    t: &TestApp,
    username: &str,
    role: &str,
    email: Option<&str>,
) -> rollcall_domain::User {
    let input = CreateUser {
        username: Some(username.into()),
        email: email.map(str::to_owned),
        given_name: "Pat".into(),
        family_name: username.into(),
        role: role.into(),
        password: Some(PASSWORD.into()),
        ..CreateUser::default()
    };
    t.app.create_user(&t.system, input).await.unwrap()
}

/// A browser signed in as the org's admin, `root`.
async fn admin(t: &TestApp) -> Browser {
    let root = t.app.find_user(&t.system, "root").await.unwrap();
    t.app
        .set_password(&t.system, root.id(), PASSWORD, false)
        .await
        .unwrap();
    let b = Browser::new(t);
    assert_eq!(b.sign_in("root", PASSWORD).await.status, 303);
    b
}

/// A user's history as (to status, reason, who) steps.
async fn history(
    t: &TestApp,
    id: rollcall_domain::UserId,
) -> Vec<(Option<&'static str>, Option<String>, String)> {
    let events = t.app.user_events(&t.system, id).await.unwrap();
    events
        .iter()
        .map(|e| {
            (
                e.to_status.map(rollcall_domain::Status::as_str),
                e.reason.as_ref().map(|r| r.as_str().to_owned()),
                e.actor.label().to_owned(),
            )
        })
        .collect()
}

/// The value of a secret shown once on a page (`<span class="secret">…</span>`).
fn shown_secret(page: &Page) -> Option<String> {
    page.body
        .split("<span class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(str::to_owned)
}

async fn set_status(t: &TestApp, id: rollcall_domain::UserId, to: &str) {
    let change = ChangeStatus {
        status: to.into(),
        ..ChangeStatus::default()
    };
    t.app.change_status(&t.system, id, change).await.unwrap();
}

pub async fn sign_in_refusals_say_what_and_change_nothing(db: TestDb) {
    let t = spawn_app(db).await;
    let gone = person(&t, "gone", "teacher", Some("gone@northfield.example")).await;
    set_status(&t, gone.id(), "inactive").await;
    let archived = person(&t, "archived", "teacher", Some("arch@northfield.example")).await;
    set_status(&t, archived.id(), "archived").await;
    person(&t, "teach", "teacher", None).await;
    let b = Browser::new(&t);

    let wrong = b.sign_in("teach", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("do not match"));
    let unknown = b.sign_in("nobody", "not the password").await;
    assert_eq!(unknown.status, 401);
    assert!(
        unknown.body.contains("do not match"),
        "an unknown account reads the same"
    );
    for login in ["gone", "archived"] {
        let closed = b.sign_in(login, PASSWORD).await;
        assert_eq!(closed.status, 403, "{login}");
        assert!(closed.body.contains("not active"), "{login}");
    }
    let no_csrf = b
        .post(
            "/sign-in",
            &[
                ("org", "northfield"),
                ("login", "teach"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(no_csrf.status, 403);
    assert!(no_csrf.body.contains("expired"));
    b.get("/sign-in").await;
    let bad_csrf = b
        .post(
            "/sign-in",
            &[
                ("_csrf", "forged"),
                ("org", "northfield"),
                ("login", "teach"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad_csrf.status, 403);
    // A cookie and field of the visitor's own making agree, but the server never signed them.
    let planted = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/sign-in", t.address))
        .header("cookie", "rollcall_csrf=x")
        .form(&[
            ("_csrf", "x"),
            ("org", "northfield"),
            ("login", "teach"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), 403, "a planted cookie/field pair");
    // A genuine form posted from another site's page is refused too.
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "http://attacker.example"),
        ("origin", "null"),
    ] {
        let csrf = Browser::csrf(&b.get("/sign-in").await);
        let reply = b
            .client
            .post(format!("{}/sign-in", t.address))
            .header(name, value)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("org", "northfield"),
                ("login", "teach"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 403, "{name}: {value}");
    }
    assert_eq!(
        b.get("/account").await.location,
        "/sign-in",
        "none of these signed in"
    );

    let ok = b.sign_in("teach", PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/"));
    assert_eq!(b.get("/account").await.status, 200);
}

pub async fn repeated_failures_are_throttled(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "teach", "teacher", None).await;
    let b = Browser::new(&t);
    for _ in 0..5 {
        assert_eq!(b.sign_in("teach", "guess guess guess").await.status, 401);
    }
    let blocked = b.sign_in("teach", PASSWORD).await;
    assert_eq!(blocked.status, 429, "even the right password waits");
    assert!(blocked.body.contains("Too many attempts"));
}

pub async fn deactivation_ends_an_open_session_at_once(db: TestDb) {
    let t = spawn_app(db).await;
    let teacher = person(&t, "teach", "teacher", Some("t@northfield.example")).await;
    let b = Browser::new(&t);
    b.sign_in("teach", PASSWORD).await;
    assert_eq!(b.get("/account").await.status, 200);
    set_status(&t, teacher.id(), "inactive").await;
    let refused = b.get("/account").await;
    assert_eq!(
        (refused.status, refused.location.as_str()),
        (303, "/sign-in?expired=1")
    );
    set_status(&t, teacher.id(), "active").await;
    assert_eq!(
        b.get("/account").await.status,
        303,
        "the session is gone, not merely paused"
    );
}

pub async fn admin_pages_are_for_admins(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "teach", "teacher", None).await;
    let b = Browser::new(&t);
    b.sign_in("teach", PASSWORD).await;
    let page = b.get("/users").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Administrators only"));
    assert_eq!(b.get("/").await.location, "/my/courses");
}

pub async fn weak_passwords_and_missing_tokens_change_nothing(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "teach", "teacher", None).await;
    let b = Browser::new(&t);
    b.sign_in("teach", PASSWORD).await;
    let account = b.get("/account").await;
    let csrf = Browser::csrf(&account);
    let weak = b
        .post(
            "/account/password",
            &[
                ("_csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "aaaaaaaaaaaa"),
                ("confirm_password", "aaaaaaaaaaaa"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("too weak"));
    let forged = b
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another fine phrase"),
                ("confirm_password", "another fine phrase"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let again = Browser::new(&t);
    assert_eq!(
        again.sign_in("teach", PASSWORD).await.status,
        303,
        "the old password still works"
    );
}

pub async fn a_stale_console_edit_shows_a_conflict(db: TestDb) {
    let t = spawn_app(db).await;
    let pupil = person(&t, "pupil", "student", None).await;
    let b = Browser::new(&t);
    assert_eq!(
        b.sign_in("root", "").await.status,
        401,
        "root has no password yet"
    );
    t.app
        .set_password(
            &t.system,
            t.app.find_user(&t.system, "root").await.unwrap().id(),
            PASSWORD,
            false,
        )
        .await
        .unwrap();
    b.sign_in("root", PASSWORD).await;
    let form = b.get(&format!("/users/{}/edit", pupil.id())).await;
    assert_eq!(form.status, 200);
    let csrf = Browser::csrf(&form);
    // Someone else renames the pupil meanwhile.
    let edit = EditUser {
        version: Some(1),
        given_name: Some("Robin".into()),
        ..EditUser::default()
    };
    t.app.edit_user(&t.system, pupil.id(), edit).await.unwrap();
    let stale = b
        .post(
            &format!("/users/{}/edit", pupil.id()),
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("given_name", "Sam"),
                ("family_name", "pupil"),
                ("username", "pupil"),
                ("role", "student"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("Someone else changed this user"));
    let now = t.app.user(&t.system, pupil.id()).await.unwrap();
    assert_eq!(
        now.given_name().as_str(),
        "Robin",
        "nothing was overwritten"
    );
    let no_token = b
        .post(
            &format!("/users/{}/status", pupil.id()),
            &[("to", "inactive"), ("version", "2")],
        )
        .await;
    assert_eq!(no_token.status, 403);
    assert!(
        t.app
            .user(&t.system, pupil.id())
            .await
            .unwrap()
            .may_sign_in()
    );
}

pub async fn an_expired_session_is_refused(db: TestDb) {
    use rollcall_domain::{SecretKind, Session, TokenSecret};
    let t = spawn_app(db).await;
    let teacher = person(&t, "teach", "teacher", None).await;
    let secret = TokenSecret::generate_kind(SecretKind::Session, t.org.id);
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(13);
    let session = Session {
        digest: secret.digest(),
        org_id: t.org.id,
        user_id: teacher.id(),
        csrf_token: "0".repeat(48),
        created_at: long_ago,
        expires_at: long_ago + chrono::Duration::hours(12),
    };
    let mut uow = t.db.store.begin().await.unwrap();
    uow.insert_session(&session).await.unwrap();
    uow.commit().await.unwrap();
    let response = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/account", t.address))
        .header("cookie", format!("rollcall_session={}", secret.reveal()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/sign-in?expired=1");
}

#[expect(
    clippy::too_many_lines,
    reason = "one person's story: archived, a refused move, restored, signing in again"
)]
pub async fn archive_and_restore_from_the_console_keep_the_person_whole(db: TestDb) {
    let t = spawn_app(db).await;
    let input = CreateUser {
        username: Some("leaver".into()),
        given_name: "Lee".into(),
        family_name: "Vance".into(),
        role: "student".into(),
        password: Some(PASSWORD.into()),
        attributes: [("grade".to_owned(), "7".to_owned())].into(),
        ..CreateUser::default()
    };
    let leaver = t.app.create_user(&t.system, input).await.unwrap();
    let b = admin(&t).await;
    let path = format!("/users/{}/status", leaver.id());

    let confirm = b.get(&format!("{path}?to=archived")).await;
    assert!(confirm.body.contains("Archive"), "{}", confirm.body);
    assert!(
        confirm.body.contains("leave search and rosters"),
        "the rules' words"
    );
    let csrf = Browser::csrf(&confirm);
    let archived = b
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("to", "archived"),
                ("version", "1"),
                ("reason", "Moved away"),
            ],
        )
        .await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    assert!(archived.body.contains("Lee Vance is now archived."));
    assert!(
        !b.get("/users").await.body.contains("leaver"),
        "not in Active"
    );
    assert!(
        !b.get("/users?status=all").await.body.contains("leaver"),
        "not in All (active and inactive)"
    );
    assert!(
        b.get("/users?status=archived")
            .await
            .body
            .contains("leaver")
    );

    // An archived user cannot be made inactive: refused, nothing changed.
    let refused = b
        .post(
            &path,
            &[("_csrf", &csrf), ("to", "inactive"), ("version", "2")],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let still = t.app.user(&t.system, leaver.id()).await.unwrap();
    assert_eq!((still.status().as_str(), still.version()), ("archived", 2));

    let confirm = b.get(&format!("{path}?to=active")).await;
    assert!(confirm.body.contains("Restore"), "{}", confirm.body);
    let restored = b
        .post(
            &path,
            &[
                ("_csrf", &Browser::csrf(&confirm)),
                ("to", "active"),
                ("version", "2"),
                ("reason", "Came back"),
                ("generate", "1"),
            ],
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert!(restored.body.contains("Lee Vance is now active."));
    let temporary = shown_secret(&restored).expect("a temporary password is shown once");

    let back = t.app.user(&t.system, leaver.id()).await.unwrap();
    assert_eq!(back.status().as_str(), "active");
    assert!(back.must_change_password());
    assert_eq!(back.attributes().get("grade"), Some("7"), "attributes kept");
    let steps = history(&t, leaver.id()).await;
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(
        steps[1..],
        [
            (
                Some("archived"),
                Some("Moved away".to_owned()),
                "Rita Root".to_owned()
            ),
            (
                Some("active"),
                Some("Came back".to_owned()),
                "Rita Root".to_owned()
            ),
        ]
    );
    let person = Browser::new(&t);
    assert_eq!(
        person.sign_in("leaver", PASSWORD).await.status,
        401,
        "old password gone"
    );
    assert_eq!(person.sign_in("leaver", &temporary).await.status, 303);
}

/// Signs in straight through the app, from `client`.
async fn attempt(t: &TestApp, login: &str, password: &str, client: &str) -> Result<(), AppError> {
    t.app
        .sign_in("northfield", login, password, client)
        .await
        .map(drop)
}

pub async fn concurrent_guesses_cannot_pass_the_limit(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "teach", "teacher", Some("teach@northfield.example")).await;
    let guesses = (0..30).map(|i| {
        let t = &t;
        async move { attempt(t, "teach", &format!("guess number {i}"), "10.0.0.1").await }
    });
    let outcomes = futures::future::join_all(guesses).await;
    let checked = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AppError::Unauthenticated)))
        .count();
    let throttled = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AppError::Throttled { .. })))
        .count();
    assert_eq!((checked, throttled), (5, 25), "{outcomes:?}");
    // Username and e-mail name one account: guesses through the e-mail count with the rest.
    let by_email = attempt(&t, "TEACH@northfield.example", PASSWORD, "10.0.0.1").await;
    assert!(
        matches!(by_email, Err(AppError::Throttled { .. })),
        "{by_email:?}"
    );
}

pub async fn failures_slow_one_address_down_without_locking_others_out(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "teach", "teacher", None).await;
    for _ in 0..5 {
        let wrong = attempt(&t, "teach", "a wrong guess here", "10.0.0.1").await;
        assert!(matches!(wrong, Err(AppError::Unauthenticated)), "{wrong:?}");
    }
    let waiting = attempt(&t, "teach", PASSWORD, "10.0.0.1").await;
    let Err(AppError::Throttled { retry_after_secs }) = waiting else {
        panic!("the sixth attempt from that address waits: {waiting:?}");
    };
    assert_eq!(
        retry_after_secs, 1,
        "a short wait first, not fifteen minutes"
    );
    attempt(&t, "teach", PASSWORD, "10.0.0.2")
        .await
        .expect("the right password from another address is not refused");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    attempt(&t, "teach", PASSWORD, "10.0.0.1")
        .await
        .expect("after the wait, the right password signs in");
}

pub async fn unknown_logins_take_as_long_as_real_ones(db: TestDb) {
    const TRIES: usize = 10;
    let t = spawn_app(db).await;
    for i in 0..TRIES {
        person(&t, &format!("real{i}"), "teacher", None).await;
    }
    let (mut real, mut unknown) = (Vec::new(), Vec::new());
    // Interleaved, each login tried once (no throttle in the way), on distinct addresses.
    for i in 0..TRIES {
        let started = std::time::Instant::now();
        let _ = attempt(
            &t,
            &format!("real{i}"),
            "not their password",
            &format!("10.1.0.{i}"),
        )
        .await;
        real.push(started.elapsed().as_secs_f64());
        let started = std::time::Instant::now();
        let _ = attempt(
            &t,
            &format!("ghost{i}"),
            "not their password",
            &format!("10.2.0.{i}"),
        )
        .await;
        unknown.push(started.elapsed().as_secs_f64());
    }
    // Means without the extremes (other tests share the cores): a decoy that costs two argon2
    // runs where a real check costs one shows as a ratio near 2, no decoy as one far above;
    // sharing the cores with other tests moves an honest ratio up to about 1.2.
    let trimmed_mean = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[2..TRIES - 2].iter().sum::<f64>() / 6.0
    };
    let (real, unknown) = (trimmed_mean(real), trimmed_mean(unknown));
    let ratio = unknown.max(real) / unknown.min(real);
    assert!(
        ratio <= 1.5,
        "unknown logins take {unknown:.3} s, real ones {real:.3} s (ratio {ratio:.2})"
    );
}

/// A search with nothing searchable in it is refused, in the API (naming `q`) and on the Users
/// page (saying why); a blank search lists everyone.
pub async fn a_search_with_nothing_to_search_for_is_refused(db: TestDb) {
    let t = spawn_app(db).await;
    person(&t, "teach", "teacher", None).await;
    for q in ["%25", "_", "%5C", "*", "%E2%80%8B", "%25%20%2A"] {
        t.get(&format!("/api/v1/users?q={q}"))
            .await
            .assert_problem(422, Some("q"));
    }
    assert_eq!(
        t.logins("q=%20").await,
        ["root", "teach"],
        "blank: no search"
    );
    let b = admin(&t).await;
    let page = b.get("/users?q=%25").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("no letter or digit"), "{}", page.body);
    let found = b.get("/users?q=tea").await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("teach"));
}

/// Every console response carries the security headers: no framing, a policy with no inline
/// script or style, no sniffing, no caching of pages (which may show temporary passwords);
/// only the static assets may be cached.
pub async fn console_responses_carry_security_headers(db: TestDb) {
    let t = spawn_app(db).await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    for path in [
        "/sign-in",
        "/users",
        "/account",
        "/api/v1/users",
        "/no-such-page",
    ] {
        let reply = client
            .get(format!("{}{path}", t.address))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let policy = header("content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
    }
    let b = admin(&t).await;
    let page = b.get("/users").await;
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(!page.body.contains(" style=\""), "no inline style");
    let css = client
        .get(format!("{}/assets/app.css", t.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        css.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("public, max-age=3600")
    );
}

/// Behind a trusted proxy, sign-in attempts are counted by the client `X-Forwarded-For` names;
/// from anyone else, the header is ignored.
pub async fn a_trusted_proxy_names_the_client_and_no_one_else_does(db: TestDb) {
    async fn attempt_from(t: &TestApp, forwarded_for: &str, password: &str) -> u16 {
        let b = Browser::new(t);
        let csrf = Browser::csrf(&b.get("/sign-in").await);
        b.client
            .post(format!("{}/sign-in", t.address))
            .header("x-forwarded-for", forwarded_for)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("org", "northfield"),
                ("login", "teach"),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    let settings = rollcall_web::Settings {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..rollcall_web::Settings::default()
    };
    let t = crate::helpers::spawn_app_with(db, settings).await;
    person(&t, "teach", "teacher", None).await;
    for _ in 0..5 {
        assert_eq!(
            attempt_from(&t, "198.51.100.1", "wrong guess here").await,
            401
        );
    }
    assert_eq!(
        attempt_from(&t, "198.51.100.1", PASSWORD).await,
        429,
        "that client waits"
    );
    assert_eq!(
        attempt_from(&t, "198.51.100.2", PASSWORD).await,
        303,
        "another client behind the same proxy signs in"
    );

    let db = TestDb::sqlite().await;
    let untrusting = spawn_app(db).await;
    person(&untrusting, "teach", "teacher", None).await;
    for _ in 0..5 {
        assert_eq!(
            attempt_from(&untrusting, "198.51.100.1", "wrong guess here").await,
            401
        );
    }
    assert_eq!(
        attempt_from(&untrusting, "198.51.100.2", PASSWORD).await,
        429,
        "a header anyone can write changes nothing without a trusted proxy"
    );
}
