//! Reports and figures through the API: the dashboard's figures, a segment's figures, and the
//! completion report in its two tabs, a page at a time as JSON or whole as CSV, streamed.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use rollcall_app::{
    App, CourseFigures, Figures, MonthFigures, ReportExport, ReportRequest, ReportRow, csv_header,
};
use rollcall_domain::SegmentId;
use rollcall_domain::report::rate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::ApiPrincipal;
use super::error::Problem;
use super::extract::ApiQuery;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseFiguresBody {
    pub course_id: Uuid,
    pub title: String,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    /// Completed of enrolled, in whole percent; absent when nobody is enrolled.
    pub completion_rate: Option<u64>,
    /// Credits the starts consumed.
    pub credits: u64,
}

impl From<&CourseFigures> for CourseFiguresBody {
    fn from(c: &CourseFigures) -> Self {
        Self {
            course_id: c.course_id.as_uuid(),
            title: c.title.clone(),
            enrolled: c.enrolled,
            started: c.started,
            completed: c.completed,
            completion_rate: rate(c.completed, c.enrolled),
            credits: c.credits,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonthFiguresBody {
    /// `YYYY-MM`, in UTC.
    pub month: String,
    /// Enrolments made that month.
    pub enrolled: u64,
    /// First starts that month.
    pub started: u64,
    /// Completions that month.
    pub completed: u64,
    /// Credits consumed by that month's starts.
    pub credits: u64,
}

impl From<&MonthFigures> for MonthFiguresBody {
    fn from(m: &MonthFigures) -> Self {
        Self {
            month: m.month.clone(),
            enrolled: m.enrolled,
            started: m.started,
            completed: m.completed,
            credits: m.credits,
        }
    }
}

/// The dashboard's figures. Only active people count: the results of inactive and archived
/// people are left out of every figure here (they are in the report's archived tab).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FiguresBody {
    pub active_people: u64,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    pub completion_rate: Option<u64>,
    /// Every course, by title.
    pub courses: Vec<CourseFiguresBody>,
    /// The last twelve months, oldest first.
    pub months: Vec<MonthFiguresBody>,
    /// Credits consumed since the org began, by anyone: consumed credits are kept whatever
    /// becomes of whoever consumed them.
    pub credits_consumed: i64,
    pub credits_left: i64,
}

impl From<&Figures> for FiguresBody {
    fn from(f: &Figures) -> Self {
        Self {
            active_people: f.counted_people,
            enrolled: f.enrolled(),
            started: f.started(),
            completed: f.completed(),
            completion_rate: rate(f.completed(), f.enrolled()),
            courses: f.courses.iter().map(CourseFiguresBody::from).collect(),
            months: f.months.iter().map(MonthFiguresBody::from).collect(),
            credits_consumed: f.credits_consumed,
            credits_left: f.credits_left,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentFiguresBody {
    pub segment_id: Uuid,
    pub name: String,
    /// Per course its active members are enrolled in, by title.
    pub courses: Vec<CourseFiguresBody>,
}

/// Declares a completion report's query parameters: its filters, the same for its pages and its
/// CSV, then the fields given.
macro_rules! report_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Query)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// `active` (default): the results of active people; `archived`: those of inactive
            /// and archived people.
            #[param(pattern = "^(active|archived)$")]
            tab: Option<String>,
            /// With `tab=archived`: inactive people's results only.
            inactive_only: Option<bool>,
            /// A course's id.
            course: Option<String>,
            /// A segment's id: the people its rule picks out.
            segment: Option<String>,
            /// A roster's id: its members.
            roster: Option<String>,
            /// `enrolled` (default) or `completed`: the date `from` and `to` apply to.
            #[param(pattern = "^(enrolled|completed)?$")]
            dated_by: Option<String>,
            /// `YYYY-MM-DD`, included.
            #[param(pattern = r"^\s*([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})?\s*$")]
            from: Option<String>,
            /// `YYYY-MM-DD`, included; not before `from`.
            #[param(pattern = r"^\s*([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})?\s*$")]
            to: Option<String>,
            /// `not_started`, `in_progress` or `completed`.
            #[param(pattern = "^(not_started|in_progress|completed)?$")]
            progress: Option<String>,
            $($(#[$field_meta])* $field: $ty,)*
        }

        impl $name {
            fn request(&self) -> ReportRequest {
                ReportRequest {
                    tab: self.tab.clone(),
                    inactive_only: self.inactive_only.unwrap_or(false),
                    course: self.course.clone(),
                    segment: self.segment.clone(),
                    roster: self.roster.clone(),
                    dated_by: self.dated_by.clone(),
                    from: self.from.clone(),
                    to: self.to.clone(),
                    progress: self.progress.clone(),
                }
            }
        }
    };
}

report_params! {
    /// A page of a completion report: its filters, and where the page starts.
    ReportParams {
        /// The `next` of the page before.
        after: Option<String>,
        /// 1 to 500; 100 by default.
        #[param(minimum = 1, maximum = 500)]
        limit: Option<u64>,
    }
}

report_params! {
    /// A completion report exported whole: its filters alone.
    ExportParams {}
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportRowBody {
    pub user_id: Uuid,
    pub username: Option<String>,
    pub email: Option<String>,
    pub given_name: String,
    pub family_name: String,
    /// The person's status now.
    pub status: String,
    pub course_id: Uuid,
    pub course: String,
    /// `everyone`, `selected` or `roster`.
    pub enrolled_by: String,
    pub enrolled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The last quiz attempt's percentage.
    pub score: Option<u8>,
    pub credits_used: u32,
}

impl From<&ReportRow> for ReportRowBody {
    fn from(r: &ReportRow) -> Self {
        Self {
            user_id: r.user_id.as_uuid(),
            username: r.username.clone(),
            email: r.email.clone(),
            given_name: r.given_name.clone(),
            family_name: r.family_name.clone(),
            status: r.status.as_str().to_owned(),
            course_id: r.course_id.as_uuid(),
            course: r.course_title.clone(),
            enrolled_by: r.method.clone(),
            enrolled_at: r.enrolled_at,
            started_at: r.started_at,
            completed_at: r.completed_at,
            score: r.score,
            credits_used: r.credits_used,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportPageBody {
    /// Newest enrolment first.
    pub rows: Vec<ReportRowBody>,
    /// Send as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/figures", tag = "reports",
    responses((status = 200, body = FiguresBody), (status = 403, body = Problem)),
    security(("token" = [])))]
pub async fn figures(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<FiguresBody>, Problem> {
    Ok(Json(FiguresBody::from(&app.dashboard(&who).await?)))
}

#[utoipa::path(get, path = "/api/v1/segments/{id}/figures", tag = "reports",
    params(("id" = Uuid, Path, description = "The segment's id")),
    responses((status = 200, body = SegmentFiguresBody), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn segment_figures(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<SegmentFiguresBody>, Problem> {
    let id = id
        .parse::<SegmentId>()
        .map_err(|_| Problem::not_found("segment"))?;
    let (segment, courses) = app.segment_figures(&who, id).await?;
    Ok(Json(SegmentFiguresBody {
        segment_id: segment.record.id.as_uuid(),
        name: segment.record.name,
        courses: courses.iter().map(CourseFiguresBody::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/reports/completions", tag = "reports",
    params(ReportParams),
    responses((status = 200, body = ReportPageBody), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn completions(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Json<ReportPageBody>, Problem> {
    let filter = params.request().parse()?;
    let page = app
        .report_page(
            &who,
            &filter,
            params.after.as_deref(),
            super::extract::limit_within(params.limit, 100, 500)?,
        )
        .await?;
    Ok(Json(ReportPageBody {
        rows: page.rows.iter().map(ReportRowBody::from).collect(),
        next: page.next,
    }))
}

#[utoipa::path(get, path = "/api/v1/reports/completions.csv", tag = "reports",
    params(ExportParams),
    responses((status = 200, description = "Every row of the report as CSV (RFC 4180), \
        streamed; a failure midway ends the transfer unfinished, never as a short file",
        content_type = "text/csv"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn completions_csv(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, Problem> {
    let filter = params.request().parse()?;
    let export = app.report_export(&who, &filter).await?;
    let name = format!("completions-{}.csv", filter.tab.as_str());
    Ok(csv_response(export, &name))
}

/// A CSV download of an export, written a chunk at a time as the client reads it. A failure
/// midway is logged and breaks the transfer, so the client sees it fail rather than keep a
/// short file.
pub fn csv_response(export: ReportExport, file_name: &str) -> Response {
    let first = futures::stream::once(async { Ok(csv_header().into_bytes()) });
    let rest = futures::stream::unfold(Some(export), |state| async move {
        let mut export = state?;
        match export.next_csv().await {
            Ok(Some((text, _))) => Some((Ok(text.into_bytes()), Some(export))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    let body = first.chain(rest).map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = ?e, "a CSV export failed midway");
            std::io::Error::other("the export failed")
        })
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
