//! The templates of learning's pages.

use askama::Template;

use crate::console::pages::Chrome;

/// A course in a list.
#[derive(Debug, Clone)]
pub struct CourseLine {
    pub id: String,
    pub title: String,
    pub lessons: usize,
    pub completion: &'static str,
    pub cost: u32,
    pub everyone: bool,
    pub retired: bool,
}

#[derive(Template)]
#[template(path = "pages/courses.html")]
pub struct CoursesPage {
    pub chrome: Chrome,
    pub courses: Vec<CourseLine>,
}

/// A lesson's fields in the course form.
#[derive(Debug, Clone, Default)]
pub struct LessonFields {
    pub id: String,
    pub title: String,
    pub body: String,
}

/// A question's fields in the course form.
#[derive(Debug, Clone, Default)]
pub struct QuestionFields {
    pub prompt: String,
    /// One answer a line.
    pub options: String,
    /// The right answer's number, from 1.
    pub answer: String,
}

/// The course form's fields, as typed.
#[derive(Debug, Clone, Default)]
pub struct CourseFields {
    pub version: String,
    pub title: String,
    pub description: String,
    pub cost: String,
    pub quiz: bool,
    pub pass_mark: String,
    pub lessons: Vec<LessonFields>,
    pub questions: Vec<QuestionFields>,
}

#[derive(Template)]
#[template(path = "pages/course_form.html")]
pub struct CourseFormPage {
    pub chrome: Chrome,
    /// Empty for a new course.
    pub id: String,
    pub form: CourseFields,
    pub error: String,
}

/// One status's counts on a course's page.
#[derive(Debug, Clone)]
pub struct TallyLine {
    pub status: &'static str,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
}

/// One person of a course.
#[derive(Debug, Clone)]
pub struct PersonLine {
    pub id: String,
    pub name: String,
    pub badge: &'static str,
    pub method: String,
    pub state: &'static str,
    pub percent: u8,
    pub completed: String,
}

#[derive(Template)]
#[template(path = "pages/course.html")]
pub struct CoursePage {
    pub chrome: Chrome,
    pub id: String,
    pub title: String,
    pub description: String,
    pub retired: bool,
    pub lessons: Vec<String>,
    pub completion: String,
    pub cost: u32,
    pub everyone: String,
    pub tally: Vec<TallyLine>,
    pub people: Vec<PersonLine>,
    pub next: String,
    /// The progress the people are filtered by (empty: everyone), and the tabs: (value, words).
    pub progress: String,
    pub progress_tabs: Vec<(&'static str, &'static str)>,
    pub rosters: Vec<(String, String)>,
    pub notice: String,
}

/// A confirmation of an action on a course.
#[derive(Template)]
#[template(path = "pages/course_confirm.html")]
pub struct CourseConfirmPage {
    pub chrome: Chrome,
    pub id: String,
    pub heading: String,
    pub lines: Vec<String>,
    pub action: String,
    pub button: String,
    pub danger: bool,
    /// The roster an enrolment takes in (empty for other actions).
    pub roster: String,
}

/// One person in the enrolment picker.
#[derive(Debug, Clone)]
pub struct PickLine {
    pub id: String,
    pub name: String,
    pub login: String,
    pub role: String,
    pub badge: &'static str,
}

#[derive(Template)]
#[template(path = "pages/enrol.html")]
pub struct EnrolPage {
    pub chrome: Chrome,
    pub id: String,
    pub title: String,
    /// `active` or `all`.
    pub tab: String,
    pub q: String,
    pub people: Vec<PickLine>,
    pub more: bool,
    pub error: String,
}

/// One ledger line.
#[derive(Debug, Clone)]
pub struct EntryLine {
    pub when: String,
    pub kind: &'static str,
    pub amount: String,
    pub balance: i64,
    pub who: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "pages/credits.html")]
pub struct CreditsPage {
    pub chrome: Chrome,
    pub balance: i64,
    pub entries: Vec<EntryLine>,
    /// (course, credits, starts)
    pub by_course: Vec<(String, i64, i64)>,
    /// (user id, name, badge, credits, starts)
    pub by_user: Vec<(String, String, &'static str, i64, i64)>,
    pub error: String,
    pub notice: String,
}

/// One message of the outbox.
#[derive(Debug, Clone)]
pub struct MessageLine {
    pub when: String,
    pub user: String,
    pub to: String,
    pub subject: String,
    pub state: &'static str,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "pages/outbox.html")]
pub struct OutboxPage {
    pub chrome: Chrome,
    pub state: String,
    /// (state, label) of each tab.
    pub tabs: Vec<(&'static str, &'static str)>,
    pub messages: Vec<MessageLine>,
}

/// A course on the learner's list.
#[derive(Debug, Clone)]
pub struct MyCourseLine {
    pub id: String,
    pub title: String,
    pub description: String,
    pub state: &'static str,
    pub percent: u8,
    pub certificate: String,
    pub retired: bool,
}

#[derive(Template)]
#[template(path = "pages/my_courses.html")]
pub struct MyCoursesPage {
    pub chrome: Chrome,
    pub courses: Vec<MyCourseLine>,
}

/// A lesson on the learner's course page: (id, title, read).
pub type LessonLine = (String, String, bool);

/// A quiz question as the learner sees it: its number, prompt and answers.
pub type QuizQuestion = (usize, String, Vec<(usize, String)>);

#[derive(Template)]
#[template(path = "pages/my_course.html")]
pub struct MyCoursePage {
    pub chrome: Chrome,
    pub id: String,
    pub title: String,
    pub description: String,
    pub started: bool,
    pub retired: bool,
    pub cost: u32,
    pub percent: u8,
    pub lessons: Vec<LessonLine>,
    pub unread: usize,
    pub next_lesson: String,
    pub quiz: Vec<QuizQuestion>,
    pub pass_mark: u8,
    pub completed: String,
    pub certificate: String,
    pub code: String,
    pub verify: String,
    pub score: String,
    pub error: String,
    pub notice: String,
}

#[derive(Template)]
#[template(path = "pages/lesson.html")]
pub struct LessonPage {
    pub chrome: Chrome,
    pub course_id: String,
    pub course_title: String,
    pub id: String,
    pub title: String,
    /// Safe HTML, from the lesson's Markdown.
    pub body: String,
    pub number: usize,
    pub of: usize,
    pub read: bool,
    pub previous: String,
}

#[derive(Template)]
#[template(path = "pages/verify.html")]
pub struct VerifyPage {
    pub chrome: Chrome,
    pub org: String,
    pub code: String,
    pub checked: bool,
    /// (name, course, date) when the code names a certificate.
    pub found: Option<(String, String, String)>,
}
