//! Learning: courses and their lessons, enrolments and progress, the org's credits, certificates
//! of completion, and the e-mail they send. Every decision here asks [`crate::rules`] what a
//! person's status allows: an inactive person stays enrolled but opens nothing and is sent
//! nothing; credits consumed are never given back.
//!
//! Plain data and pure decisions; the use cases in `rollcall-app` store what these decide.

mod certificate;
mod course;
mod credits;
mod outbox;
mod progress;
#[cfg(test)]
mod tests;

pub use certificate::{Certificate, VerificationCode};
pub use course::{
    Completion, Course, CourseDraft, Lesson, LessonDraft, MAX_LESSON_BYTES, Question, Quiz,
};
pub use credits::{CreditEntry, CreditKind, CreditUse, TopUp};
pub use outbox::{
    Delivery, MAX_ATTEMPTS, Message, MessageKind, MessageState, NO_ADDRESS, NewMessage,
    suppressed_for,
};
pub use progress::{
    EnrolMethod, Enrolment, Graded, LearningError, Progress, Started, access, complete_lesson,
    finish, grade, start,
};
