//! Learning through the use cases: courses, enrolments and their notices, credits consumed once
//! under concurrency, completions and certificates, all obeying the status rules.

use rollcall_app::{AppError, ChangeStatus, Principal};
use rollcall_domain::learning::{
    Completion, Course, CourseDraft, LearningError, LessonDraft, MessageState, Question, Quiz,
};
use rollcall_domain::{Status, User, UserId};
use rollcall_testkit::TestDb;

use crate::fixtures::{Fixture, fixture, person};

fn draft(title: &str, cost: u32, completion: Completion) -> CourseDraft {
    CourseDraft {
        title: title.to_owned(),
        description: "What everyone must know.".to_owned(),
        lessons: ["Alarms", "Exits"]
            .iter()
            .map(|t| LessonDraft {
                id: None,
                title: (*t).to_owned(),
                body: format!("## {t}\n\nRead this <script>alert(1)</script>."),
            })
            .collect(),
        completion,
        credit_cost: cost,
    }
}

fn quiz() -> Completion {
    Completion::Quiz(Quiz {
        pass_mark: 100,
        questions: vec![Question {
            prompt: "Where do you meet?".to_owned(),
            options: vec!["Car park".to_owned(), "Canteen".to_owned()],
            answer: 0,
        }],
    })
}

impl Fixture {
    async fn learner(&self, given: &str, username: &str, email: Option<&str>) -> User {
        self.app
            .create_user(&self.admin, person(given, "Learner", Some(username), email))
            .await
            .unwrap()
    }

    pub(crate) async fn set_status(&self, user: &User, status: Status) -> User {
        self.app
            .change_status(
                &self.admin,
                user.id(),
                ChangeStatus {
                    status: status.as_str().to_owned(),
                    generate_temporary_password: true,
                    ..ChangeStatus::default()
                },
            )
            .await
            .unwrap()
            .user
    }

    async fn balance(&self) -> i64 {
        self.app.credits(&self.admin).await.unwrap().balance
    }
}

/// The outbox's messages to a person: (state, reason).
async fn mail_of(f: &Fixture, user: &User) -> Vec<(MessageState, Option<String>)> {
    f.db.store
        .user_messages(f.org.id, user.id())
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.state, m.reason))
        .collect()
}

/// A course reads back as written; an edit from an old version is refused; a retired course
/// takes nobody in and starts for nobody, and opens again.
pub async fn a_course_reads_back_and_a_stale_edit_is_refused(db: TestDb) {
    let f = fixture(db).await;
    let course = f
        .app
        .create_course(&f.admin, draft("Fire safety", 1, quiz()))
        .await
        .unwrap();
    let read = f.app.course(&f.admin, course.id).await.unwrap().course;
    assert_eq!(read, course);
    let mut next = course.draft();
    next.lessons.reverse();
    next.title = "Fire safety 2027".to_owned();
    let edited = f
        .app
        .edit_course(&f.admin, course.id, Some(course.version), next.clone())
        .await
        .unwrap();
    assert_eq!(edited.lessons[0].id, course.lessons[1].id);
    let stale = f
        .app
        .edit_course(&f.admin, course.id, Some(course.version), next)
        .await
        .unwrap_err();
    assert!(matches!(stale, AppError::Conflict(_)), "{stale:?}");
    assert_eq!(
        f.app.courses(&f.admin).await.unwrap(),
        std::slice::from_ref(&edited),
        "the stale edit wrote nothing"
    );

    let ada = f.learner("Ada", "ada", None).await;
    let retired = f
        .app
        .retire_course(&f.admin, course.id, true)
        .await
        .unwrap();
    assert!(retired.retired);
    let refused = f
        .app
        .enrol_selected(&f.admin, course.id, &[ada.id()])
        .await
        .unwrap_err();
    assert!(matches!(refused, AppError::Conflict(_)), "{refused:?}");
    f.app
        .retire_course(&f.admin, course.id, false)
        .await
        .unwrap();
    let enrolled = f
        .app
        .enrol_selected(&f.admin, course.id, &[ada.id(), ada.id()])
        .await
        .unwrap();
    assert_eq!(
        enrolled.enrolled, 1,
        "a person picked twice is enrolled once"
    );
}

/// An everyone-course enrols all but the archived: active people with an address are sent the
/// notice; the inactive and those without an address have theirs kept as suppressed, with the
/// reason. People who join later (made, or restored) are enrolled too; a reactivated person
/// opens the course at once and gets no late notice.
pub async fn everyone_enrolment_takes_in_all_but_the_archived_and_notifies_only_the_active(
    db: TestDb,
) {
    let f = fixture(db).await;
    let ada = f.learner("Ada", "ada", Some("ada@example.org")).await;
    let bob = f.learner("Bob", "bob", None).await;
    let cy = f.learner("Cy", "cy", Some("cy@example.org")).await;
    let cy = f.set_status(&cy, Status::Inactive).await;
    let dee = f.learner("Dee", "dee", Some("dee@example.org")).await;
    let dee = f.set_status(&dee, Status::Archived).await;
    let course = f
        .app
        .create_course(&f.admin, draft("Safeguarding", 0, Completion::MarkComplete))
        .await
        .unwrap();
    let done = f.app.enrol_everyone(&f.admin, course.id).await.unwrap();
    assert_eq!(done.enrolled, 3, "ada, bob and cy; not the archived dee");

    let ada_mail = f.db.store.user_messages(f.org.id, ada.id()).await.unwrap();
    assert_eq!(ada_mail.len(), 1);
    assert_eq!(ada_mail[0].state, MessageState::Queued);
    assert_eq!(ada_mail[0].to, "ada@example.org");
    assert!(
        ada_mail[0].body.contains("Hello Ada,"),
        "{}",
        ada_mail[0].body
    );
    assert!(ada_mail[0].subject.contains("Safeguarding"));
    let [(state, Some(why))] = &mail_of(&f, &bob).await[..] else {
        panic!("bob has one suppressed notice")
    };
    assert_eq!(
        (*state, why.as_str()),
        (
            MessageState::Suppressed,
            "the recipient has no e-mail address"
        )
    );
    let [(state, Some(why))] = &mail_of(&f, &cy).await[..] else {
        panic!("cy has one suppressed notice")
    };
    assert_eq!(*state, MessageState::Suppressed);
    assert!(why.contains("inactive"), "{why}");
    assert!(mail_of(&f, &dee).await.is_empty());
    let tally = f.app.course(&f.admin, course.id).await.unwrap().tally;
    let enrolled = |status| {
        tally
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, t)| t.enrolled)
    };
    assert_eq!(
        (
            enrolled(Status::Active),
            enrolled(Status::Inactive),
            enrolled(Status::Archived)
        ),
        (2, 1, 0)
    );

    // Enrolling everyone again changes nothing and sends nothing more.
    assert_eq!(
        f.app
            .enrol_everyone(&f.admin, course.id)
            .await
            .unwrap()
            .enrolled,
        0
    );
    assert_eq!(mail_of(&f, &ada).await.len(), 1);

    // The inactive Cy opens nothing, and after reactivation opens it at once, unnotified.
    let as_cy = Principal::user(&cy);
    let closed = f.app.my_courses(&as_cy).await.unwrap_err();
    assert!(
        matches!(
            closed,
            AppError::Learning(LearningError::NoAccess(Status::Inactive))
        ),
        "{closed:?}"
    );
    let cy = f.set_status(&cy, Status::Active).await;
    let mine = f.app.my_courses(&Principal::user(&cy)).await.unwrap();
    assert_eq!(mine.len(), 1);
    f.app
        .start_course(&Principal::user(&cy), course.id)
        .await
        .unwrap();
    assert_eq!(
        mail_of(&f, &cy).await.len(),
        1,
        "no late notice on reactivation"
    );

    // Joiners: a new person, and the archived Dee restored.
    let eve = f.learner("Eve", "eve", Some("eve@example.org")).await;
    assert_eq!(mail_of(&f, &eve).await.len(), 1);
    let dee = f.set_status(&dee, Status::Active).await;
    assert_eq!(
        f.app
            .my_courses(&Principal::user(&dee))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(mail_of(&f, &dee).await[0].0, MessageState::Queued);
}

/// A first start consumes the course's cost once; with too few credits it is refused and
/// nothing is consumed; a deactivated learner's credits stay consumed.
pub async fn a_first_start_consumes_credits_once_and_too_few_credits_refuse_it(db: TestDb) {
    let f = fixture(db).await;
    let ada = f.learner("Ada", "ada", None).await;
    let bob = f.learner("Bob", "bob", None).await;
    let course = f
        .app
        .create_course(&f.admin, draft("First aid", 2, Completion::MarkComplete))
        .await
        .unwrap();
    f.app
        .enrol_selected(&f.admin, course.id, &[ada.id(), bob.id()])
        .await
        .unwrap();
    let (as_ada, as_bob) = (Principal::user(&ada), Principal::user(&bob));
    let poor = f.app.start_course(&as_ada, course.id).await.unwrap_err();
    assert!(
        matches!(
            poor,
            AppError::Learning(LearningError::NotEnoughCredits {
                cost: 2,
                balance: 0
            })
        ),
        "{poor:?}"
    );
    assert!(
        poor.public_message().contains("2 credits"),
        "{}",
        poor.public_message()
    );
    let mine = f.app.my_course(&as_ada, course.id).await.unwrap();
    assert_eq!(
        mine.enrolment.started_at, None,
        "the refused start wrote nothing"
    );
    assert!(f.app.credits(&f.admin).await.unwrap().entries.is_empty());

    let top_up = f.app.top_up(&f.admin, 3, "spring term").await.unwrap();
    assert_eq!(top_up.balance_after, 3);
    let started = f.app.start_course(&as_ada, course.id).await.unwrap();
    assert!(started.enrolment.started_at.is_some());
    assert_eq!(started.enrolment.credits_used, 2);
    f.app.start_course(&as_ada, course.id).await.unwrap();
    assert_eq!(f.balance().await, 1, "the second start consumed nothing");
    let refused = f.app.start_course(&as_bob, course.id).await.unwrap_err();
    assert!(
        matches!(
            refused,
            AppError::Learning(LearningError::NotEnoughCredits {
                cost: 2,
                balance: 1
            })
        ),
        "{refused:?}"
    );
    assert_eq!(f.balance().await, 1);

    f.set_status(&ada, Status::Inactive).await;
    let credits = f.app.credits(&f.admin).await.unwrap();
    assert_eq!(credits.balance, 1, "deactivation refunds nothing");
    assert_eq!(credits.entries.len(), 2, "the top-up and one consumption");
    let [(used, Some(who))] = &credits.by_user[..] else {
        panic!("one person consumed credits: {:?}", credits.by_user)
    };
    assert_eq!((used.credits, used.starts), (2, 1));
    assert_eq!(
        who.status(),
        Status::Inactive,
        "inactive people stay in the figures"
    );
    let [(used, Some(title))] = &credits.by_course[..] else {
        panic!("one course consumed credits")
    };
    assert_eq!((used.credits, title.as_str()), (2, "First aid"));
    let history = f.app.training_history(&f.admin, ada.id()).await.unwrap();
    assert_eq!(history.credits_used, 2);
}

/// Fifty simultaneous first starts of one course by one learner consume its credits once.
pub async fn fifty_simultaneous_first_starts_consume_credits_once(db: TestDb) {
    let f = fixture(db).await;
    let ada = f.learner("Ada", "ada", None).await;
    let course = f
        .app
        .create_course(&f.admin, draft("Ladders", 3, Completion::MarkComplete))
        .await
        .unwrap();
    f.app
        .enrol_selected(&f.admin, course.id, &[ada.id()])
        .await
        .unwrap();
    f.app.top_up(&f.admin, 100, "").await.unwrap();
    let as_ada = Principal::user(&ada);
    let starts = (0..50).map(|_| {
        let (app, who) = (f.app.clone(), as_ada.clone());
        tokio::spawn(async move { app.start_course(&who, course.id).await })
    });
    for start in futures::future::join_all(starts).await {
        start.unwrap().unwrap();
    }
    assert_eq!(f.balance().await, 97);
    let credits = f.app.credits(&f.admin).await.unwrap();
    assert_eq!(credits.entries.len(), 2, "the top-up and one consumption");
}

/// Two learners race for the last credit: exactly one starts.
pub async fn two_learners_racing_for_the_last_credit_one_gets_it(db: TestDb) {
    let f = fixture(db).await;
    let course = f
        .app
        .create_course(&f.admin, draft("Ladders", 1, Completion::MarkComplete))
        .await
        .unwrap();
    for round in 0..5 {
        let a = f.learner("Ann", &format!("ann{round}"), None).await;
        let b = f.learner("Ben", &format!("ben{round}"), None).await;
        f.app
            .enrol_selected(&f.admin, course.id, &[a.id(), b.id()])
            .await
            .unwrap();
        f.app.top_up(&f.admin, 1, "").await.unwrap();
        let (as_a, as_b) = (Principal::user(&a), Principal::user(&b));
        let (ra, rb) = tokio::join!(
            f.app.start_course(&as_a, course.id),
            f.app.start_course(&as_b, course.id)
        );
        assert_eq!(
            [&ra, &rb].iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {ra:?} {rb:?}"
        );
        let lost = if ra.is_ok() { rb } else { ra };
        assert!(
            matches!(
                lost,
                Err(AppError::Learning(LearningError::NotEnoughCredits {
                    balance: 0,
                    ..
                }))
            ),
            "{lost:?}"
        );
        assert_eq!(f.balance().await, 0);
    }
}

/// A learner reads every lesson, fails then passes the quiz and holds a certificate anyone can
/// verify by its code; posted again, the quiz is refused. Deactivated, the learner opens nothing,
/// while admins still read their history and download the certificate.
pub async fn a_completed_course_gives_a_verifiable_certificate_kept_from_the_inactive(db: TestDb) {
    let f = fixture(db).await;
    let ada = f.learner("Adélaïde", "ada", None).await;
    let bob = f.learner("Bob", "bob", None).await;
    let course = f
        .app
        .create_course(&f.admin, draft("Fire safety", 0, quiz()))
        .await
        .unwrap();
    f.app
        .enrol_selected(&f.admin, course.id, &[ada.id(), bob.id()])
        .await
        .unwrap();
    let as_ada = Principal::user(&ada);
    let early = f
        .app
        .read_lesson(&as_ada, course.id, course.lessons[0].id)
        .await;
    assert!(
        matches!(early, Err(AppError::Learning(LearningError::NotStarted))),
        "{early:?}"
    );
    f.app.start_course(&as_ada, course.id).await.unwrap();
    let unread = f.app.finish_course(&as_ada, course.id, Some(&[0])).await;
    assert!(
        matches!(
            unread,
            Err(AppError::Learning(LearningError::LessonsLeft(2)))
        ),
        "{unread:?}"
    );
    for lesson in &course.lessons {
        f.app
            .read_lesson(&as_ada, course.id, lesson.id)
            .await
            .unwrap();
    }
    let failed = f
        .app
        .finish_course(&as_ada, course.id, Some(&[1]))
        .await
        .unwrap();
    assert_eq!(failed.graded.map(|g| g.passed), Some(false));
    assert!(failed.course.certificate.is_none());
    let passed = passing_answers_posted_twice_at_once_complete_once(&f, &as_ada, &course).await;
    let certificate = passed.course.certificate.unwrap();
    assert_eq!(certificate.learner_name, "Adélaïde Learner");
    assert_eq!(certificate.course_title, "Fire safety");
    assert_eq!(passed.course.enrolment.attempts, 2);

    anyone_verifies_it_by_its_code_in_its_org_only(&f, &certificate).await;

    assert_eq!(
        f.app.my_certificate(&as_ada, certificate.id).await.unwrap(),
        certificate
    );
    let not_bobs = f
        .app
        .my_certificate(&Principal::user(&bob), certificate.id)
        .await
        .unwrap_err();
    assert!(matches!(not_bobs, AppError::NotFound(_)), "{not_bobs:?}");

    let ada = f.set_status(&ada, Status::Inactive).await;
    let closed = f
        .app
        .my_certificate(&Principal::user(&ada), certificate.id)
        .await
        .unwrap_err();
    assert!(
        matches!(closed, AppError::Learning(LearningError::NoAccess(_))),
        "{closed:?}"
    );
    let history = f.app.training_history(&f.admin, ada.id()).await.unwrap();
    assert_eq!(history.user.status(), Status::Inactive);
    let [record] = &history.records[..] else {
        panic!("one course in the history")
    };
    assert_eq!(record.enrolment.state(), "completed");
    assert_eq!(record.certificate.as_ref(), Some(&certificate));
    assert_eq!(
        f.app.certificate(&f.admin, certificate.id).await.unwrap(),
        certificate
    );
    assert_eq!(
        f.app
            .verify_certificate("northfield", certificate.code.as_str())
            .await
            .unwrap(),
        Some(certificate),
        "the public page still verifies it"
    );
}

/// The right answers posted twice at once: one completes the course, the other is refused.
async fn passing_answers_posted_twice_at_once_complete_once(
    f: &Fixture,
    who: &Principal,
    course: &Course,
) -> rollcall_app::Finished {
    let (first, second) = tokio::join!(
        f.app.finish_course(who, course.id, Some(&[0])),
        f.app.finish_course(who, course.id, Some(&[0])),
    );
    match (first, second) {
        (Ok(passed), Err(again)) | (Err(again), Ok(passed)) => {
            assert!(
                matches!(
                    again,
                    AppError::Learning(LearningError::AlreadyCompleted(_))
                ),
                "{again:?}"
            );
            passed
        }
        other => panic!("one of two completions posted at once wins: {other:?}"),
    }
}

/// The public check: a code read back however it is typed; a forged code, or one of another org,
/// verifies nothing.
async fn anyone_verifies_it_by_its_code_in_its_org_only(
    f: &Fixture,
    certificate: &rollcall_domain::learning::Certificate,
) {
    let verified = f
        .app
        .verify_certificate("northfield", &certificate.code.to_string().to_lowercase())
        .await
        .unwrap();
    assert_eq!(verified.as_ref(), Some(certificate));
    let forged = f
        .app
        .verify_certificate("northfield", "0000-0000-0000-0000")
        .await
        .unwrap();
    assert_eq!(forged, None);
    assert_eq!(
        f.app
            .verify_certificate("northfield", "not a code")
            .await
            .unwrap(),
        None
    );
    let (other, _) = f.other_org().await;
    assert_eq!(
        f.app
            .verify_certificate(other.slug.as_str(), certificate.code.as_str())
            .await
            .unwrap(),
        None,
        "a code is verified in its own org only"
    );
}

/// Another org's courses, people and certificates are out of reach.
pub async fn another_orgs_courses_and_certificates_are_out_of_reach(db: TestDb) {
    let f = fixture(db).await;
    let ada = f.learner("Ada", "ada", None).await;
    let course = f
        .app
        .create_course(&f.admin, draft("Fire safety", 0, Completion::MarkComplete))
        .await
        .unwrap();
    let (_, stranger) = f.other_org().await;
    let theirs = f
        .app
        .create_course(&stranger, draft("Theirs", 0, Completion::MarkComplete))
        .await
        .unwrap();
    for err in [
        f.app.course(&stranger, course.id).await.unwrap_err(),
        f.app
            .enrol_everyone(&stranger, course.id)
            .await
            .unwrap_err(),
        f.app
            .my_course(&Principal::user(&ada), theirs.id)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    }
    let picked = f
        .app
        .enrol_selected(&stranger, theirs.id, &[ada.id(), UserId::new()])
        .await
        .unwrap_err();
    let AppError::Invalid(problems) = picked else {
        panic!("{picked:?}")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].field, "users[0]");
    assert_eq!(f.app.courses(&stranger).await.unwrap(), [theirs]);
    let courses: Vec<Course> = f.app.courses(&f.admin).await.unwrap();
    assert_eq!(courses, [course]);
}

/// Someone who joins is enrolled in every open everyone-course at once (one notice each), and an
/// everyone-course retired while they joined takes them in when it is opened again.
pub async fn a_joiner_is_enrolled_in_every_everyone_course_and_a_reopened_one_catches_up(
    db: TestDb,
) {
    let f = fixture(db).await;
    let mut courses = Vec::new();
    for title in ["Fire safety", "First aid", "Data protection"] {
        let course = f
            .app
            .create_course(&f.admin, draft(title, 0, Completion::MarkComplete))
            .await
            .unwrap();
        f.app.enrol_everyone(&f.admin, course.id).await.unwrap();
        courses.push(course);
    }
    f.app
        .retire_course(&f.admin, courses[2].id, true)
        .await
        .unwrap();
    // Joined at once, in one unit of work: a notice for each open everyone-course.
    let ada = f.learner("Ada", "ada", Some("ada@example.org")).await;
    let mail = mail_of(&f, &ada).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let mine = f.app.my_courses(&Principal::user(&ada)).await.unwrap();
    assert_eq!(mine.len(), 2);
    f.app
        .retire_course(&f.admin, courses[2].id, false)
        .await
        .unwrap();
    let mine = f.app.my_courses(&Principal::user(&ada)).await.unwrap();
    assert_eq!(mine.len(), 3, "the reopened course took her in");
    assert_eq!(mail_of(&f, &ada).await.len(), 3);
}

/// An admin's message is queued for the active with an address and kept as suppressed, with
/// the reason, for the inactive, the archived and those without an address; a message to a
/// stranger, or without a subject, is refused and writes nothing.
pub async fn an_admins_message_reaches_only_those_the_rules_let_receive_it(db: TestDb) {
    let f = fixture(db).await;
    let ada = f.learner("Ada", "ada", Some("ada@example.org")).await;
    let bob = f.learner("Bob", "bob", None).await;
    let cy = f.learner("Cy", "cy", Some("cy@example.org")).await;
    let cy = f.set_status(&cy, Status::Inactive).await;
    let dee = f.learner("Dee", "dee", Some("dee@example.org")).await;
    let dee = f.set_status(&dee, Status::Archived).await;
    let everyone = [ada.id(), bob.id(), cy.id(), dee.id(), ada.id()];
    let written = f
        .app
        .write_message(&f.admin, &everyone, "Fire drill", "Tomorrow at ten.")
        .await
        .unwrap();
    assert_eq!((written.queued, written.suppressed), (1, 3));
    assert_eq!(mail_of(&f, &ada).await, [(MessageState::Queued, None)]);
    for (person, says) in [
        (&bob, "no e-mail address"),
        (&cy, "inactive"),
        (&dee, "archived"),
    ] {
        let [(state, Some(why))] = &mail_of(&f, person).await[..] else {
            panic!("one message for {}", person.login())
        };
        assert_eq!(*state, MessageState::Suppressed);
        assert!(why.contains(says), "{why}");
    }
    let stranger = f
        .app
        .write_message(&f.admin, &[ada.id(), UserId::new()], "Hi", "Hello")
        .await
        .unwrap_err();
    let AppError::Invalid(problems) = stranger else {
        panic!("{stranger:?}")
    };
    assert_eq!(problems[0].field, "users[1]");
    let blank = f
        .app
        .write_message(&f.admin, &[ada.id()], "  ", "")
        .await
        .unwrap_err();
    assert!(
        matches!(blank, AppError::Invalid(ref p) if p.len() == 2),
        "{blank:?}"
    );
    assert_eq!(
        mail_of(&f, &ada).await.len(),
        1,
        "the refused messages wrote nothing"
    );
    let learner = f
        .app
        .write_message(&Principal::user(&ada), &[bob.id()], "Hi", "Hello")
        .await
        .unwrap_err();
    assert!(matches!(learner, AppError::Forbidden), "{learner:?}");
}
