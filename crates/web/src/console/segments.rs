//! Segments in the console: the org's segments with their counts, a rule written with a live
//! count and preview of its members, and a segment's page (its members, inactive ones marked;
//! its rule changed; the segment deleted after a confirmation).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{App, AppError, NewSegment, Segment};
use rollcall_domain::{SegmentId, User, rules};
use serde::Deserialize;

use super::errors::{explain, failure_page};
use super::extract::{Admin, SignedIn};
use super::pages::{
    MemberLine, SegmentLine, SegmentPage, SegmentPreviewPart, SegmentsPage, WriteEveryonePage,
};
use super::render;

/// How many members a segment's page lists.
const LISTED: u64 = 200;

/// The pages of segments.
pub fn routes() -> axum::Router<App> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/segments", get(index).post(create))
        .route("/segments/preview", post(preview))
        .route("/segments/{id}", get(show).post(update))
        .route("/segments/{id}/delete", post(delete))
        .route("/segments/{id}/message", post(message))
        .route("/messages/everyone", get(everyone).post(write_everyone))
}

#[derive(Debug, Deserialize, Default)]
pub struct SegmentForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    version: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
    queued: Option<usize>,
    suppressed: Option<usize>,
}

impl DoneQuery {
    /// What a message written said it did, when one was.
    pub fn written(&self) -> String {
        if self.done.as_deref() != Some("written") {
            return String::new();
        }
        format!(
            "Message queued for {} {}; {} kept unsent (inactive, or without an e-mail address), \
             as the outbox shows.",
            self.queued.unwrap_or(0),
            if self.queued == Some(1) {
                "person"
            } else {
                "people"
            },
            self.suppressed.unwrap_or(0),
        )
    }
}

/// Where a written message's outcome is shown: `back` with the counts.
pub fn written_redirect(back: &str, written: &rollcall_app::Written) -> Response {
    Redirect::to(&format!(
        "{back}?done=written&queued={}&suppressed={}#write",
        written.queued, written.suppressed
    ))
    .into_response()
}

fn line(segment: &Segment) -> SegmentLine {
    SegmentLine {
        id: segment.record.id.to_string(),
        name: segment.record.name.clone(),
        rule: segment.record.rule.clone(),
        active: segment.tally.active,
        inactive: segment.tally.inactive,
    }
}

fn member(user: &User) -> MemberLine {
    MemberLine {
        id: user.id().to_string(),
        name: user.display_name(),
        login: user.login().to_owned(),
        role: user.role().as_str(),
        badge: rules::presentation(user.status()).badge.unwrap_or_default(),
    }
}

fn segment_id(raw: &str) -> Result<SegmentId, AppError> {
    raw.parse::<uuid::Uuid>()
        .map(SegmentId::from_uuid)
        .map_err(|_| AppError::NotFound("segment"))
}

/// The list, with the new segment's form (kept as typed, and why it was refused, if it was).
async fn list_page(
    app: &App,
    signed_in: SignedIn,
    form: &SegmentForm,
    error: String,
    notice: &str,
) -> Response {
    let segments = match app.segments(&signed_in.visitor.principal).await {
        Ok(segments) => segments,
        Err(err) => return failure_page(signed_in.chrome, &err, "/users", "Back to users"),
    };
    render(&SegmentsPage {
        chrome: signed_in.chrome,
        segments: segments.iter().map(line).collect(),
        name: form.name.clone(),
        rule: form.rule.clone(),
        error,
        notice: notice.to_owned(),
    })
}

pub async fn index(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<DoneQuery>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("deleted") => "Segment deleted. Its people are as they were.",
        _ => "",
    };
    list_page(
        &app,
        signed_in,
        &SegmentForm::default(),
        String::new(),
        notice,
    )
    .await
}

/// The live count and first members of the rule being written.
pub async fn preview(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<SegmentForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let mut part = SegmentPreviewPart::default();
    if form.rule.trim().is_empty() {
        return render(&part);
    }
    match app
        .preview_segment(&signed_in.visitor.principal, &form.rule)
        .await
    {
        Ok(preview) => {
            part.shown = true;
            part.rule = preview.rule;
            part.active = preview.tally.active;
            part.inactive = preview.tally.inactive;
            part.members = preview.first.iter().map(member).collect();
        }
        Err(err) => part.error = explain(&err).1,
    }
    render(&part)
}

pub async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<SegmentForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let new = NewSegment {
        name: form.name.clone(),
        rule: form.rule.clone(),
    };
    match app.create_segment(&signed_in.visitor.principal, &new).await {
        Ok(made) => {
            Redirect::to(&format!("/segments/{}?done=made", made.record.id)).into_response()
        }
        Err(err) => list_page(&app, signed_in, &form, explain(&err).1, "").await,
    }
}

async fn segment_page(
    app: &App,
    signed_in: SignedIn,
    id: &str,
    form: Option<&SegmentForm>,
    error: String,
    notice: &str,
) -> Response {
    let who = &signed_in.visitor.principal;
    let found = match segment_id(id) {
        Ok(id) => app.segment(who, id).await,
        Err(err) => Err(err),
    };
    let segment = match found {
        Ok(segment) => segment,
        Err(err) => return failure_page(signed_in.chrome, &err, "/segments", "Back to segments"),
    };
    let members = app
        .segment_members(who, segment.record.id, 0, LISTED)
        .await
        .unwrap_or_default();
    let reach = app
        .segment_reach(who, segment.record.id)
        .await
        .unwrap_or_default();
    let total = segment.tally.active + segment.tally.inactive;
    render(&SegmentPage {
        chrome: signed_in.chrome,
        segment: line(&segment),
        version: segment.record.version,
        created_by: segment.record.created_by.clone(),
        name: form.map_or_else(|| segment.record.name.clone(), |f| f.name.clone()),
        rule: form.map_or_else(|| segment.record.rule.clone(), |f| f.rule.clone()),
        members: members.iter().map(member).collect(),
        more: total.saturating_sub(LISTED),
        reached: reach.reached,
        no_address: reach.no_address,
        inactive: reach.inactive,
        error,
        notice: notice.to_owned(),
        write_heading: "Write to this segment".to_owned(),
        write_action: format!("/segments/{}/message", segment.record.id),
        write_ids: Vec::new(),
        write_back: String::new(),
        write_notice: "",
        write_error: "",
    })
}

pub async fn show(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("made") => "Segment saved.".to_owned(),
        Some("saved") => "Segment changed.".to_owned(),
        Some("written") => query.written(),
        _ => String::new(),
    };
    segment_page(&app, signed_in, &id, None, String::new(), &notice).await
}

pub async fn update(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<SegmentForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let change = NewSegment {
        name: form.name.clone(),
        rule: form.rule.clone(),
    };
    let done = match segment_id(&id) {
        Ok(segment) => {
            app.update_segment(&signed_in.visitor.principal, segment, &change, form.version)
                .await
        }
        Err(err) => Err(err),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/segments/{id}?done=saved")).into_response(),
        Err(err) => {
            let error = if err.class() == rollcall_app::ErrorClass::Stale {
                "Someone else changed this segment while you were editing it, so nothing was \
                 saved. Reload to see their change, then make yours again."
                    .to_owned()
            } else {
                explain(&err).1
            };
            segment_page(&app, signed_in, &id, Some(&form), error, "").await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn delete(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    if form.confirm.is_none() {
        let error = "Tick the box to confirm the deletion.".to_owned();
        return segment_page(&app, signed_in, &id, None, error, "").await;
    }
    let done = match segment_id(&id) {
        Ok(segment) => {
            app.delete_segment(&signed_in.visitor.principal, segment)
                .await
        }
        Err(err) => Err(err),
    };
    match done {
        Ok(()) => Redirect::to("/segments?done=deleted").into_response(),
        Err(err) => failure_page(signed_in.chrome, &err, "/segments", "Back to segments"),
    }
}

#[derive(Debug, Deserialize)]
pub struct MessageForm {
    #[serde(default, rename = "_csrf")]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) subject: String,
    #[serde(default)]
    pub(super) body: String,
}

/// Writes to the segment's members through the outbox.
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
    let written = match segment_id(&id) {
        Ok(segment) => {
            app.write_to_segment(
                &signed_in.visitor.principal,
                segment,
                &form.subject,
                &form.body,
            )
            .await
        }
        Err(err) => Err(err),
    };
    match written {
        Ok(written) => written_redirect(&format!("/segments/{id}"), &written),
        Err(err) => segment_page(&app, signed_in, &id, None, explain(&err).1, "").await,
    }
}

async fn everyone_page(app: &App, signed_in: SignedIn, notice: String, error: String) -> Response {
    let reach = match app.everyone_reach(&signed_in.visitor.principal).await {
        Ok(reach) => reach,
        Err(err) => return failure_page(signed_in.chrome, &err, "/segments", "Back to segments"),
    };
    render(&WriteEveryonePage {
        chrome: signed_in.chrome,
        reached: reach.reached,
        no_address: reach.no_address,
        inactive: reach.inactive,
        write_heading: "Your message".to_owned(),
        write_action: "/messages/everyone".to_owned(),
        write_ids: Vec::new(),
        write_back: String::new(),
        write_notice: notice,
        write_error: error,
    })
}

/// Whom a message to everyone reaches, and the form to write it.
pub async fn everyone(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<DoneQuery>,
) -> Response {
    everyone_page(&app, signed_in, query.written(), String::new()).await
}

/// Writes to everyone through the outbox.
pub async fn write_everyone(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<MessageForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    match app
        .write_to_everyone(&signed_in.visitor.principal, &form.subject, &form.body)
        .await
    {
        Ok(written) => written_redirect("/messages/everyone", &written),
        Err(err) => everyone_page(&app, signed_in, String::new(), explain(&err).1).await,
    }
}
