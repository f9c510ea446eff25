//! The console's words for each class of failure: the same classification the API renders as
//! problem+json, said so that an administrator knows what to do next.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rollcall_app::{AppError, ErrorClass};

use super::pages::{Chrome, MessagePage};

/// The status and the sentence a page or dialog shows for `err`.
pub fn explain(err: &AppError) -> (StatusCode, String) {
    crate::failure::log(err);
    let status = crate::failure::http_status(err.class(), false);
    let message = match (err.class(), err) {
        (ErrorClass::Stale, _) => "Someone else changed this user while you were editing, so \
             nothing was saved. Reload to see their changes, then make yours again."
            .to_owned(),
        (_, AppError::Taken { field }) => {
            format!("Another user already has this {}.", field.replace('_', " "))
        }
        (_, AppError::LooksLike { field }) => format!(
            "Another user has a {} that looks the same. Choose one that reads differently.",
            field.replace('_', " ")
        ),
        (_, AppError::Learning(refusal)) => capitalize(&refusal.to_string()) + ".",
        (ErrorClass::Invalid, _) => err
            .fields()
            .iter()
            .map(|f| field_sentence(&field_label(&f.field), &f.message))
            .collect::<Vec<_>>()
            .join(" "),
        (ErrorClass::Conflict, _) => capitalize(&err.public_message()) + ".",
        (ErrorClass::NotFound, AppError::NotFound(what)) if *what != "user" => {
            format!("There is no such {what} in your organisation.")
        }
        (ErrorClass::NotFound, _) => "That user no longer exists.".to_owned(),
        (ErrorClass::Unauthenticated, _) => {
            "Your session has ended. Sign in again to continue.".to_owned()
        }
        (ErrorClass::Forbidden, _) => {
            "Only administrators of your organisation can do this.".to_owned()
        }
        (ErrorClass::Throttled, AppError::Throttled { retry_after_secs }) => {
            let wait = match *retry_after_secs {
                1 => "a second".to_owned(),
                secs @ 2..60 => format!("{secs} seconds"),
                secs => format!("{} minutes", secs.div_ceil(60)),
            };
            format!("Too many attempts. Wait {wait} before trying again.")
        }
        (ErrorClass::Throttled, _) => "Too many attempts. Wait a little and try again.".to_owned(),
        (ErrorClass::Busy, _) => {
            "Many people are signing in right now. Try again in a few seconds.".to_owned()
        }
        (ErrorClass::Internal, _) => {
            "Something went wrong on our side; nothing was changed. Try again.".to_owned()
        }
    };
    (status, message)
}

/// A page for someone not signed in, saying why a request failed (the database is down, say).
pub fn failure(err: &AppError) -> Response {
    failure_page(Chrome::default(), err, "/sign-in", "Back to sign-in")
}

/// A page in `chrome` saying why a request failed, with a link `back`.
pub fn failure_page(chrome: Chrome, err: &AppError, back: &str, back_label: &str) -> Response {
    let (status, message) = explain(err);
    let page = MessagePage::new(chrome, "That did not work", &message, back, back_label);
    (status, super::render(&page)).into_response()
}

/// "New password" and "is too short: use …" → "New password is too short: use …."; a message that is not
/// a predicate ("at most 50 attributes") follows a colon.
fn field_sentence(label: &str, message: &str) -> String {
    const PREDICATES: [&str; 5] = ["is ", "must ", "may ", "has ", "looks "];
    let message = message.trim_end_matches('.');
    if PREDICATES.iter().any(|verb| message.starts_with(verb)) {
        format!("{label} {message}.")
    } else {
        format!("{label}: {message}.")
    }
}

/// A field as the console's forms call it (the API's names are the parameters').
fn field_label(field: &str) -> String {
    // `lessons[2].title` is "Lesson 3 title"; `completion.questions[0].prompt`, "Question 1".
    let numbered = |rest: &str, noun: &str| -> Option<String> {
        let (index, tail) = rest.split_once(']')?;
        let n = index.parse::<usize>().ok()? + 1;
        let tail = tail.trim_start_matches('.').replace('_', " ");
        let tail = match tail.as_str() {
            "prompt" => String::new(),
            "options" => " answers".to_owned(),
            "answer" => " right answer".to_owned(),
            t if t.starts_with("options[") => " answer".to_owned(),
            "" => String::new(),
            t => format!(" {t}"),
        };
        Some(format!("{noun} {n}{tail}"))
    };
    if let Some(rest) = field.strip_prefix("lessons[") {
        return numbered(rest, "Lesson").unwrap_or_else(|| "Lessons".to_owned());
    }
    if let Some(rest) = field.strip_prefix("completion.questions[") {
        return numbered(rest, "Question").unwrap_or_else(|| "Questions".to_owned());
    }
    match field {
        "q" => "Search".to_owned(),
        "completion.questions" => "The quiz".to_owned(),
        "completion.pass_mark" => "Pass mark".to_owned(),
        other => capitalize(&other.replace('_', " ")),
    }
}

/// "deactivate" → "Deactivate".
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::field_label;

    #[test]
    fn fields_are_named_as_the_forms_name_them() {
        assert_eq!(field_label("q"), "Search");
        assert_eq!(field_label("drop_folder"), "Drop folder");
        assert_eq!(field_label("lessons[2].title"), "Lesson 3 title");
        assert_eq!(field_label("completion.questions[0].prompt"), "Question 1");
        assert_eq!(
            field_label("completion.questions[1].answer"),
            "Question 2 right answer"
        );
        assert_eq!(field_label("completion.pass_mark"), "Pass mark");
    }
}
