//! The outbox delivered to a real SMTP server on loopback (aiosmtpd, started per test), on
//! both backends: messages arrive once each, a refusal fails a message for good, a busy or
//! silent server leaves it queued for a later try, and a recipient deactivated since it was
//! queued is never sent it.

#![allow(clippy::unwrap_used, reason = "a test: a failed step is a failed test")]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rollcall_app::{App, ChangeStatus, CreateUser, Delivered, Principal};
use rollcall_domain::learning::{Completion, CourseDraft, LessonDraft, MessageState};
use rollcall_domain::{OrgId, User};
use rollcall_mail::{SmtpConfig, SmtpMailer, Tls};
use rollcall_testkit::TestDb;

/// An aiosmtpd server in `mood`, stopped when dropped.
struct Sink {
    child: Child,
    port: u16,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sink {
    fn start(mood: &str) -> Self {
        let ready = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ready,
            "these tests need Python's aiosmtpd: `pip install aiosmtpd` (scripts/test installs it)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mail.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .args([script, &port.to_string(), file.to_str().unwrap(), mood])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink started");
        Self {
            child,
            port,
            file,
            _dir: dir,
        }
    }

    fn mailer(&self) -> SmtpMailer {
        SmtpMailer::new(&SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: self.port,
            tls: Tls::None,
            credentials: None,
            from: "Northfield Training <training@northfield.example>".to_owned(),
            timeout: Duration::from_secs(2),
        })
        .unwrap()
    }

    /// Every message received: (recipients, the raw message, its subject and body decoded).
    fn received(&self) -> Vec<(Vec<String>, String, String, String)> {
        let Ok(text) = std::fs::read_to_string(&self.file) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let to = v["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect();
                let text = |key: &str| v[key].as_str().unwrap().to_owned();
                (to, text("data"), text("subject"), text("body"))
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct World {
    app: App,
    admin: Principal,
    org: OrgId,
    people: Vec<User>,
    db: TestDb,
}

/// An org whose three people (one without an address) are enrolled in a course: two notices
/// queued, one suppressed.
async fn world(db: TestDb) -> World {
    let app = App::new(db.store.clone());
    let org = app.create_org("northfield", "Northfield").await.unwrap();
    let admin = Principal::system(org.id, "test");
    let mut people = Vec::new();
    for (given, email) in [
        ("Zoë", Some("zoe@northfield.example")),
        ("Ravi", Some("ravi@northfield.example")),
        ("Nell", None),
    ] {
        let user = app
            .create_user(
                &admin,
                CreateUser {
                    username: Some(given.to_lowercase()),
                    email: email.map(str::to_owned),
                    given_name: given.to_owned(),
                    family_name: "Learner".to_owned(),
                    role: "student".to_owned(),
                    ..CreateUser::default()
                },
            )
            .await
            .unwrap();
        people.push(user);
    }
    let course = app
        .create_course(
            &admin,
            CourseDraft {
                title: "Sécurité incendie".to_owned(),
                description: String::new(),
                lessons: vec![LessonDraft {
                    id: None,
                    title: "Alarms".to_owned(),
                    body: "Leave at once.".to_owned(),
                }],
                completion: Completion::MarkComplete,
                credit_cost: 0,
            },
        )
        .await
        .unwrap();
    app.enrol_everyone(&admin, course.id).await.unwrap();
    World {
        app,
        admin,
        org: org.id,
        people,
        db,
    }
}

impl World {
    async fn states(&self) -> Vec<(String, MessageState, u32)> {
        let mut states: Vec<_> = self
            .app
            .outbox(&self.admin, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.to, m.state, m.attempts))
            .collect();
        states.sort_by(|a, b| a.0.cmp(&b.0));
        states
    }
}

async fn delivered_to_an_smtp_server_once_each(db: TestDb) {
    let w = world(db).await;
    let sink = Sink::start("accept");
    let mailer = sink.mailer();
    // Two servers' workers at once: each message is claimed by one of them.
    let (a, b) = tokio::join!(
        w.app.deliver_outbox(&mailer, "server-a", 100),
        w.app.deliver_outbox(&mailer, "server-b", 100),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 2, "{a:?} {b:?}");
    let received = sink.received();
    assert_eq!(received.len(), 2, "each message arrived once: {received:?}");
    let (_, data, subject, body) = received
        .iter()
        .find(|(to, ..)| to == &["zoe@northfield.example"])
        .unwrap();
    assert_eq!(subject, "You are enrolled in Sécurité incendie");
    assert!(body.starts_with("Hello Zoë,"), "{body}");
    assert!(
        data.contains(r#"From: "Northfield Training" <training@northfield.example>"#),
        "{data}"
    );
    assert_eq!(
        w.states().await,
        [
            (String::new(), MessageState::Suppressed, 0),
            ("ravi@northfield.example".to_owned(), MessageState::Sent, 1),
            ("zoe@northfield.example".to_owned(), MessageState::Sent, 1),
        ]
    );
    // Nothing is sent twice.
    let again = w
        .app
        .deliver_outbox(&mailer, "server-a", 100)
        .await
        .unwrap();
    assert_eq!(again, Delivered::default());
    assert_eq!(sink.received().len(), 2);
}

async fn a_refusing_server_fails_a_message_for_good(db: TestDb) {
    let w = world(db).await;
    let sink = Sink::start("refuse");
    let done = w
        .app
        .deliver_outbox(&sink.mailer(), "w", 100)
        .await
        .unwrap();
    assert_eq!(done.failed, 2, "{done:?}");
    let failed = w
        .app
        .outbox(&w.admin, Some(MessageState::Failed), 100)
        .await
        .unwrap();
    assert!(
        failed[0].reason.as_deref().unwrap().contains("550"),
        "{:?}",
        failed[0].reason
    );
    assert_eq!(sink.received().len(), 0);
}

/// A server in `mood` leaves both messages queued, tried once, with the reason, and not due
/// again at once.
async fn left_queued_for_later(db: TestDb, mood: &str) {
    let w = world(db).await;
    let sink = Sink::start(mood);
    let done = w
        .app
        .deliver_outbox(&sink.mailer(), "w", 100)
        .await
        .unwrap();
    assert_eq!(done.retrying, 2, "{mood}: {done:?}");
    assert!(sink.received().is_empty());
    let soon = w
        .app
        .deliver_outbox(&sink.mailer(), "w", 100)
        .await
        .unwrap();
    assert_eq!(soon, Delivered::default(), "{mood}: not due again yet");
    let queued = w
        .app
        .outbox(&w.admin, Some(MessageState::Queued), 100)
        .await
        .unwrap();
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|m| m.attempts == 1 && m.reason.is_some()));
}

async fn a_busy_server_leaves_messages_queued_for_later(db: TestDb) {
    left_queued_for_later(db, "busy").await;
}

async fn a_silent_server_leaves_messages_queued_for_later(db: TestDb) {
    left_queued_for_later(db, "hang").await;
}

async fn a_recipient_deactivated_since_is_never_sent_it(db: TestDb) {
    let w = world(db).await;
    let zoe = &w.people[0];
    w.app
        .change_status(
            &w.admin,
            zoe.id(),
            ChangeStatus {
                status: "inactive".to_owned(),
                ..ChangeStatus::default()
            },
        )
        .await
        .unwrap();
    let sink = Sink::start("accept");
    let done = w
        .app
        .deliver_outbox(&sink.mailer(), "w", 100)
        .await
        .unwrap();
    assert_eq!((done.sent, done.suppressed), (1, 1), "{done:?}");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, ["ravi@northfield.example"]);
    let zoes = w.app.outbox(&w.admin, None, 100).await.unwrap();
    let zoes = zoes.iter().find(|m| m.user_id == zoe.id()).unwrap();
    assert_eq!(zoes.state, MessageState::Suppressed);
    assert!(zoes.reason.as_deref().unwrap().contains("inactive"));
    // Reactivated, she is still not sent it: suppressed is for good.
    w.app
        .change_status(
            &w.admin,
            zoe.id(),
            ChangeStatus {
                status: "active".to_owned(),
                ..ChangeStatus::default()
            },
        )
        .await
        .unwrap();
    w.app
        .deliver_outbox(&sink.mailer(), "w", 100)
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1);
    let mine = w.db.store.user_messages(w.org, zoe.id()).await.unwrap();
    assert_eq!(mine.len(), 1, "no late notice");
}

async fn delivered_into_a_folder_as_eml_files(db: TestDb) {
    let w = world(db).await;
    let dir = tempfile::tempdir().unwrap();
    let mailer =
        rollcall_mail::FolderMailer::new(&dir.path().join("mail"), "Training <t@example.org>")
            .unwrap();
    let done = w.app.deliver_outbox(&mailer, "w", 100).await.unwrap();
    assert_eq!(done.sent, 2, "{done:?}");
    let files: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 2);
    assert!(
        files
            .iter()
            .any(|f| f.contains("To: zoe@northfield.example"))
    );
    assert!(
        files
            .iter()
            .all(|f| f.contains("Subject: You are enrolled in"))
    );
    assert_eq!(
        w.app
            .outbox(&w.admin, Some(MessageState::Sent), 100)
            .await
            .unwrap()
            .len(),
        2
    );
}

rollcall_testkit::backend_tests!(
    delivered_into_a_folder_as_eml_files,
    delivered_to_an_smtp_server_once_each,
    a_refusing_server_fails_a_message_for_good,
    a_busy_server_leaves_messages_queued_for_later,
    a_silent_server_leaves_messages_queued_for_later,
    a_recipient_deactivated_since_is_never_sent_it,
);
