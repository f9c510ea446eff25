//! Rosters in the console: an admin sees every roster, a teacher the ones they teach; a
//! roster's members are listed by the status rules (inactive ones marked, archived ones hidden).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, SegmentReach};
use rollcall_domain::User;
use rollcall_domain::roster::MemberRole;
use rollcall_domain::rules;

use super::errors::explain;
use super::extract::{Admin, SignedIn};
use super::pages::{MemberLine, MessagePage, RosterLine, RosterPage, RostersPage};
use super::render;
use super::segments::{DoneQuery, MessageForm, written_redirect};

/// The pages of rosters.
pub fn routes() -> axum::Router<App> {
    use axum::routing::get;
    axum::Router::new()
        .route("/rosters", get(index))
        .route("/rosters/{id}", get(show))
        .route("/rosters/{id}/message", axum::routing::post(message))
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

pub async fn show(
    State(app): State<App>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    roster_page(&app, signed_in, &id, query.written(), String::new()).await
}

/// Writes to the roster's members through the outbox (admins only).
pub async fn message(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<MessageForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let written = match id.parse() {
        Ok(roster) => {
            app.write_to_roster(
                &signed_in.visitor.principal,
                roster,
                &form.subject,
                &form.body,
            )
            .await
        }
        Err(_) => Err(AppError::NotFound("roster")),
    };
    match written {
        Ok(written) => written_redirect(&format!("/rosters/{id}"), &written),
        Err(err) => roster_page(&app, signed_in, &id, String::new(), explain(&err).1).await,
    }
}

/// Whom a message to these members reaches: active people with an address.
fn reach(members: &[(User, MemberRole)]) -> SegmentReach {
    let mut reach = SegmentReach::default();
    for (user, _) in members {
        reach.add(user.status(), user.email().is_some(), 1);
    }
    reach
}

async fn roster_page(
    app: &App,
    signed_in: SignedIn,
    id: &str,
    notice: String,
    error: String,
) -> Response {
    let Ok(id) = id.parse() else {
        return failure(&signed_in, &AppError::NotFound("roster"));
    };
    match app.roster(&signed_in.visitor.principal, id).await {
        Ok((roster, members)) => {
            let reach = reach(&members);
            render(&RosterPage {
                admin: signed_in.chrome.is_admin,
                chrome: signed_in.chrome,
                title: roster.title,
                code: roster.code,
                school: roster.school,
                reached: reach.reached,
                no_address: reach.no_address,
                inactive: reach.inactive,
                write_heading: "Write to this roster".to_owned(),
                write_action: format!("/rosters/{id}/message"),
                write_ids: Vec::new(),
                write_back: String::new(),
                write_notice: notice,
                write_error: error,
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
            })
        }
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
