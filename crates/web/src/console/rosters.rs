//! Rosters in the console: an admin sees every roster, a teacher the ones they teach; a
//! roster's members are listed by the status rules (inactive ones marked, archived ones hidden).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rollcall_app::{App, AppError};
use rollcall_domain::rules;

use super::extract::SignedIn;
use super::pages::{MemberLine, MessagePage, RosterLine, RosterPage, RostersPage};
use super::render;

/// The pages of rosters.
pub fn routes() -> axum::Router<App> {
    use axum::routing::get;
    axum::Router::new()
        .route("/rosters", get(index))
        .route("/rosters/{id}", get(show))
}

fn failure(signed_in: &SignedIn, err: &AppError) -> Response {
    super::errors::failure_page(signed_in.chrome.clone(), err, "/rosters", "Back to rosters")
}

pub async fn index(State(app): State<App>, signed_in: SignedIn) -> Response {
    match app.rosters(&signed_in.visitor.principal).await {
        Ok(rosters) => render(&RostersPage {
            admin: signed_in.chrome.is_admin,
            chrome: signed_in.chrome,
            rosters: rosters
                .into_iter()
                .map(|r| RosterLine {
                    id: r.roster.id.to_string(),
                    title: r.roster.title,
                    code: r.roster.code,
                    school: r.roster.school,
                    teachers: r.teachers,
                    students: r.students,
                })
                .collect(),
        }),
        Err(err) => failure(&signed_in, &err),
    }
}

pub async fn show(State(app): State<App>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse() else {
        return failure(&signed_in, &AppError::NotFound("roster"));
    };
    match app.roster(&signed_in.visitor.principal, id).await {
        Ok((roster, members)) => render(&RosterPage {
            admin: signed_in.chrome.is_admin,
            chrome: signed_in.chrome,
            title: roster.title,
            code: roster.code,
            school: roster.school,
            members: members
                .into_iter()
                .map(|(user, role)| MemberLine {
                    id: user.id().to_string(),
                    name: user.display_name(),
                    login: user.login().to_owned(),
                    role: role.as_str(),
                    badge: rules::presentation(user.status()).badge.unwrap_or_default(),
                })
                .collect(),
        }),
        Err(AppError::Forbidden) => (
            StatusCode::FORBIDDEN,
            render(&MessagePage::new(
                signed_in.chrome,
                "Teachers and administrators only",
                "Rosters are for the teachers who teach them and for administrators.",
                "/account",
                "Go to your account",
            )),
        )
            .into_response(),
        Err(err) => failure(&signed_in, &err),
    }
}
