use super::*;
use crate::ids::{CourseId, LessonId, OrgId, UserId};
use crate::status::{Role, Status};
use crate::user::{Attributes, Email, NewUser, PersonName, Source, StatusChange, User, Username};
use crate::{Actor, Timestamp};

fn at(seconds: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn lesson(title: &str) -> LessonDraft {
    LessonDraft {
        id: None,
        title: title.to_owned(),
        body: format!("# {title}\n\nRead this."),
    }
}

fn quiz() -> Completion {
    Completion::Quiz(Quiz {
        pass_mark: 50,
        questions: vec![
            Question {
                prompt: "Two and two?".to_owned(),
                options: vec!["3".to_owned(), "4".to_owned()],
                answer: 1,
            },
            Question {
                prompt: "Capital of France?".to_owned(),
                options: vec!["Paris".to_owned(), "Lyon".to_owned(), "Nice".to_owned()],
                answer: 0,
            },
        ],
    })
}

fn draft(completion: Completion) -> CourseDraft {
    CourseDraft {
        title: "Fire safety".to_owned(),
        description: "What to do when the alarm rings.".to_owned(),
        lessons: vec![lesson("Alarms"), lesson("Exits")],
        completion,
        credit_cost: 2,
    }
}

fn course(completion: Completion) -> Course {
    Course::create(OrgId::new(), draft(completion), at(0)).unwrap()
}

fn enrolled(course: &Course) -> Enrolment {
    Enrolment::new(
        course.org_id,
        course.id,
        UserId::new(),
        EnrolMethod::Selected,
        "Admin",
        at(1),
    )
}

fn started(course: &Course) -> Enrolment {
    Enrolment {
        started_at: Some(at(2)),
        credits_used: course.credit_cost,
        ..enrolled(course)
    }
}

fn read_all(course: &Course, mut e: Enrolment) -> Enrolment {
    for l in &course.lessons {
        e = complete_lesson(Status::Active, course, Some(&e), l.id).unwrap();
    }
    e
}

fn fields(problems: &[crate::FieldError]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn a_course_draft_is_refused_with_every_problem_named_by_field() {
    let mut bad = draft(Completion::Quiz(Quiz {
        pass_mark: 0,
        questions: vec![Question {
            prompt: " ".to_owned(),
            options: vec!["only".to_owned()],
            answer: 3,
        }],
    }));
    bad.title = "  ".to_owned();
    bad.lessons[1].body = String::new();
    bad.credit_cost = 1_000_000;
    let problems = Course::create(OrgId::new(), bad, at(0)).unwrap_err();
    assert_eq!(
        fields(&problems),
        [
            "title",
            "lessons[1].body",
            "completion.pass_mark",
            "completion.questions[0].prompt",
            "completion.questions[0].options",
            "completion.questions[0].answer",
            "credit_cost",
        ]
    );
    let mut empty = draft(Completion::MarkComplete);
    empty.lessons.clear();
    assert_eq!(
        fields(&Course::create(OrgId::new(), empty, at(0)).unwrap_err()),
        ["lessons"]
    );
}

#[test]
fn revising_a_course_keeps_the_lessons_it_names_and_refuses_strangers() {
    let course = course(Completion::MarkComplete);
    let mut next = course.draft();
    next.lessons.reverse();
    next.lessons.push(lesson("Drills"));
    let revised = course.revise(next, at(5)).unwrap();
    assert_eq!(revised.lessons[0].id, course.lessons[1].id);
    assert_eq!(revised.lessons[1].id, course.lessons[0].id);
    assert!(!course.lessons.iter().any(|l| l.id == revised.lessons[2].id));
    assert_eq!(revised.version, course.version + 1);

    let mut stranger = course.draft();
    stranger.lessons[0].id = Some(LessonId::new());
    assert_eq!(
        fields(&course.revise(stranger, at(5)).unwrap_err()),
        ["lessons[0].id"]
    );
    let mut twice = course.draft();
    twice.lessons[1].id = twice.lessons[0].id;
    assert_eq!(
        fields(&course.revise(twice, at(5)).unwrap_err()),
        ["lessons[1].id"]
    );
}

#[test]
fn only_an_active_enrolled_learner_starts_a_course_and_only_the_first_start_costs() {
    let course = course(Completion::MarkComplete);
    let e = enrolled(&course);
    assert_eq!(
        start(Status::Active, &course, Some(&e)),
        Ok(Started::First { cost: 2 })
    );
    assert_eq!(
        start(Status::Active, &course, Some(&started(&course))),
        Ok(Started::Again)
    );
    assert_eq!(
        start(Status::Inactive, &course, Some(&e)),
        Err(LearningError::NoAccess(Status::Inactive))
    );
    assert_eq!(
        start(Status::Archived, &course, Some(&e)),
        Err(LearningError::NoAccess(Status::Archived))
    );
    assert_eq!(
        start(Status::Active, &course, None),
        Err(LearningError::NotEnrolled)
    );
    let retired = course.with_retired(true, at(3));
    assert_eq!(
        start(Status::Active, &retired, Some(&e)),
        Err(LearningError::Retired)
    );
}

#[test]
fn lessons_open_after_the_start_and_are_counted_once() {
    let course = course(Completion::MarkComplete);
    let lesson = course.lessons[0].id;
    assert_eq!(
        complete_lesson(Status::Active, &course, Some(&enrolled(&course)), lesson),
        Err(LearningError::NotStarted)
    );
    let e = started(&course);
    let once = complete_lesson(Status::Active, &course, Some(&e), lesson).unwrap();
    let twice = complete_lesson(Status::Active, &course, Some(&once), lesson).unwrap();
    assert_eq!(once.lessons_done, [lesson]);
    assert_eq!(twice, once, "a lesson read again changes nothing");
    assert_eq!(once.percent(&course), 33);
    assert_eq!(
        complete_lesson(Status::Active, &course, Some(&e), LessonId::new()),
        Err(LearningError::NoSuchLesson)
    );
    assert_eq!(
        complete_lesson(Status::Inactive, &course, Some(&e), lesson),
        Err(LearningError::NoAccess(Status::Inactive))
    );
    let retired = course.with_retired(true, at(3));
    assert_eq!(
        complete_lesson(Status::Active, &retired, Some(&e), lesson),
        Err(LearningError::Retired)
    );
}

#[test]
fn a_course_is_completed_once_every_lesson_is_read_by_its_own_step() {
    let course = course(Completion::MarkComplete);
    let e = started(&course);
    assert_eq!(
        finish(Status::Active, &course, Some(&e), None, at(9)),
        Err(LearningError::LessonsLeft(2))
    );
    let e = read_all(&course, e);
    assert!(matches!(
        finish(Status::Active, &course, Some(&e), Some(&[0]), at(9)),
        Err(LearningError::WrongStep(_))
    ));
    let (done, graded) = finish(Status::Active, &course, Some(&e), None, at(9)).unwrap();
    assert_eq!(done.completed_at, Some(at(9)));
    assert_eq!(graded, None);
    assert_eq!(done.state(), "completed");
    assert_eq!(done.percent(&course), 100);
    assert_eq!(
        finish(Status::Active, &course, Some(&done), None, at(10)),
        Err(LearningError::AlreadyCompleted(at(9))),
        "a completion posted twice is refused"
    );
}

#[test]
fn a_quiz_below_its_pass_mark_counts_an_attempt_and_completes_nothing() {
    let course = course(quiz());
    let e = read_all(&course, started(&course));
    assert!(matches!(
        finish(Status::Active, &course, Some(&e), None, at(9)),
        Err(LearningError::WrongStep(_))
    ));
    let (failed, graded) = finish(Status::Active, &course, Some(&e), Some(&[0, 1]), at(9)).unwrap();
    assert_eq!(
        graded,
        Some(Graded {
            correct: 0,
            total: 2,
            percent: 0,
            passed: false
        })
    );
    assert_eq!((failed.attempts, failed.completed_at), (1, None));
    let (passed, graded) = finish(
        Status::Active,
        &course,
        Some(&failed),
        Some(&[1, 2]),
        at(10),
    )
    .unwrap();
    assert_eq!(graded.map(|g| (g.percent, g.passed)), Some((50, true)));
    assert_eq!((passed.attempts, passed.score), (2, Some(50)));
    assert_eq!(passed.completed_at, Some(at(10)));
}

#[test]
fn quiz_answers_that_do_not_fit_are_refused_by_field() {
    let Completion::Quiz(quiz) = quiz() else {
        unreachable!()
    };
    assert_eq!(grade(&quiz, &[1]).unwrap_err().field, "answers");
    assert_eq!(grade(&quiz, &[1, 3]).unwrap_err().field, "answers[1]");
    assert!(grade(&quiz, &[1, 0]).unwrap().passed);
}

#[test]
fn an_inactive_learner_keeps_their_enrolment_and_opens_nothing_until_reactivated() {
    let course = course(Completion::MarkComplete);
    let e = started(&course);
    assert_eq!(
        access(Status::Inactive, Some(&e)),
        Err(LearningError::NoAccess(Status::Inactive))
    );
    assert_eq!(access(Status::Active, Some(&e)), Ok(&e));
}

#[test]
fn a_verification_code_reads_back_however_it_is_typed_and_forgeries_do_not() {
    let code = VerificationCode::generate();
    let shown = code.to_string();
    assert_eq!(shown.len(), 19);
    assert_eq!(shown.matches('-').count(), 3);
    assert_eq!(VerificationCode::parse(&shown), Some(code.clone()));
    assert_eq!(
        VerificationCode::parse(&shown.to_lowercase().replace('-', " ")),
        Some(code.clone())
    );
    assert_eq!(
        VerificationCode::parse("7K2M-Q9XD-4TRA-OPZ8").map(|c| c.as_str().to_owned()),
        Some("7K2MQ9XD4TRA0PZ8".to_owned()),
        "O reads as zero"
    );
    assert_eq!(VerificationCode::parse("7K2M-Q9XD-4TRA"), None);
    assert_eq!(VerificationCode::parse("7K2M-Q9XD-4TRA-0PZU"), None);
    assert_eq!(VerificationCode::parse("<script>alert(1)</script>"), None);
    assert_ne!(VerificationCode::generate(), VerificationCode::generate());
}

#[test]
fn a_top_up_is_a_whole_positive_number_of_credits() {
    assert_eq!(TopUp::new(0, "").unwrap_err().field, "amount");
    assert_eq!(TopUp::new(-5, "").unwrap_err().field, "amount");
    assert_eq!(TopUp::new(1_000_001, "").unwrap_err().field, "amount");
    assert_eq!(TopUp::new(5, &"x".repeat(501)).unwrap_err().field, "reason");
    let top_up = TopUp::new(500, "  spring term  ").unwrap();
    assert_eq!(
        (top_up.amount, top_up.reason.as_str()),
        (500, "spring term")
    );
}

fn person(email: Option<&str>, status: Status) -> User {
    let new = NewUser {
        username: Some(Username::parse("ada").unwrap()),
        email: email.map(|e| Email::parse(e).unwrap()),
        given_name: PersonName::parse("Ada", "given_name").unwrap(),
        family_name: PersonName::parse("Lovelace", "family_name").unwrap(),
        role: Role::Student,
        source: Source::manual(),
        external_id: None,
        prevent_archiving: None,
        password: None,
        must_change_password: false,
        attributes: Attributes::default(),
    };
    let actor = Actor::system("test");
    let (mut user, _) = User::create(OrgId::new(), new, &actor, at(0)).unwrap();
    // The moves the rules allow from a new user's status to `status` (none when already there).
    for to in crate::rules::path(user.status(), status) {
        let change = StatusChange {
            to,
            reason: None,
            temporary_password: None,
        };
        user = user.change_status(change, &actor, at(1)).unwrap().user;
    }
    user
}

#[test]
fn e_mail_is_queued_for_active_people_and_suppressed_with_a_reason_for_the_others() {
    let notice = NewMessage {
        kind: MessageKind::Enrolment,
        subject: "You are enrolled".to_owned(),
        body: "Fire safety".to_owned(),
    };
    let sent = Message::addressed(
        &person(Some("ada@example.org"), Status::Active),
        &notice,
        at(5),
    );
    assert_eq!(sent.state, MessageState::Queued);
    assert_eq!(sent.to, "ada@example.org");
    assert_eq!(sent.reason, None);
    for status in [Status::Inactive, Status::Archived] {
        let kept = Message::addressed(&person(Some("ada@example.org"), status), &notice, at(5));
        assert_eq!(kept.state, MessageState::Suppressed);
        assert!(kept.reason.unwrap().contains(status.as_str()));
    }
    let nowhere = Message::addressed(&person(None, Status::Active), &notice, at(5));
    assert_eq!(nowhere.state, MessageState::Suppressed);
    assert_eq!(
        nowhere.reason.as_deref(),
        Some("the recipient has no e-mail address")
    );
}

#[test]
fn a_failed_delivery_waits_longer_each_time_and_gives_up_at_the_last_try() {
    let notice = NewMessage {
        kind: MessageKind::Admin,
        subject: "Hello".to_owned(),
        body: "Hi".to_owned(),
    };
    let mut message = Message::addressed(
        &person(Some("ada@example.org"), Status::Active),
        &notice,
        at(0),
    );
    let mut waits = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let next = message.after_failure("421 try later", at(100));
        waits.push((next.next_attempt_at - at(100)).num_minutes());
        message = next;
    }
    assert_eq!(waits[..4], [1, 2, 4, 8]);
    assert!(waits.windows(2).all(|w| w[0] <= w[1]));
    assert!(waits.iter().all(|&w| w <= 360));
    assert_eq!(message.state, MessageState::Failed);
    assert_eq!(message.reason.as_deref(), Some("421 try later"));
}

#[test]
fn enrol_methods_read_back_as_stored() {
    let roster = crate::RosterId::new();
    for method in [
        EnrolMethod::Everyone,
        EnrolMethod::Selected,
        EnrolMethod::Roster(roster),
    ] {
        assert_eq!(
            EnrolMethod::from_stored(method.as_str(), method.roster()),
            Some(method)
        );
    }
    assert_eq!(EnrolMethod::from_stored("roster", None), None);
    let _ = CourseId::new();
}

#[test]
fn every_method_enrols_all_but_the_archived() {
    for method in [EnrolMethod::Everyone, EnrolMethod::Selected] {
        assert_eq!(method.takes_in(), [Status::Active, Status::Inactive]);
    }
    assert_eq!(suppressed_for(Status::Active), None);
    assert!(suppressed_for(Status::Inactive).is_some());
    assert!(suppressed_for(Status::Archived).is_some());
}
