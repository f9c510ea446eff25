//! The dashboard and the completion report in the console. The dashboard shows the figures of
//! active people only, each chart drawn as SVG with its figures in a table beside it; the
//! report has an Active and an Archived tab, filters kept in the address, pages, and a CSV
//! export of exactly what the filters show.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use rollcall_app::{App, AppError, CourseFigures, Figures, ReportRequest, ReportRow};
use rollcall_domain::report::rate;
use rollcall_domain::{SegmentId, rules};
use serde::Deserialize;

use super::charts::{Bars, Columns, bars, columns, month_name};
use super::errors::{explain, failure_page};
use super::extract::Admin;
use super::pages::Chrome;
use super::render;

/// How many rows a page of the report shows.
const REPORT_PAGE: u64 = 50;

pub fn routes() -> axum::Router<App> {
    use axum::routing::get;
    axum::Router::new()
        .route("/dashboard", get(dashboard))
        .route("/reports", get(report))
        .route("/reports/completions.csv", get(export))
}

/// A course's line in a figures table.
pub struct CourseLine {
    pub title: String,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    /// `75%`, or `–` when nobody is enrolled.
    pub rate: String,
    pub credits: u64,
}

fn shown_rate(completed: u64, enrolled: u64) -> String {
    rate(completed, enrolled).map_or_else(|| "–".to_owned(), |r| format!("{r}%"))
}

fn course_line(c: &CourseFigures) -> CourseLine {
    CourseLine {
        title: c.title.clone(),
        enrolled: c.enrolled,
        started: c.started,
        completed: c.completed,
        rate: shown_rate(c.completed, c.enrolled),
        credits: c.credits,
    }
}

/// Completion rate by course, as bars.
fn rate_bars(courses: &[CourseFigures]) -> Bars {
    bars(courses.iter().filter(|c| c.enrolled > 0).map(|c| {
        (
            c.title.clone(),
            format!(
                "{} ({} of {})",
                shown_rate(c.completed, c.enrolled),
                c.completed,
                c.enrolled
            ),
            rate(c.completed, c.enrolled).unwrap_or(0),
        )
    }))
}

pub struct MonthLine {
    pub month: String,
    pub name: String,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    pub credits: u64,
}

pub struct SegmentChoice {
    pub id: String,
    pub name: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub active_people: u64,
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
    pub rate: String,
    pub credits_consumed: i64,
    pub credits_left: i64,
    pub courses: Vec<CourseLine>,
    pub rate_chart: Bars,
    pub months: Vec<MonthLine>,
    pub month_chart: Columns,
    pub segments: Vec<SegmentChoice>,
    /// The chosen segment's name and figures, when one is chosen.
    pub segment_name: String,
    pub segment_courses: Vec<CourseLine>,
    pub segment_chart: Bars,
}

#[derive(Debug, Deserialize, Default)]
pub struct DashboardQuery {
    segment: Option<String>,
}

impl DashboardPage {
    fn new(chrome: Chrome, figures: &Figures) -> Self {
        let months: Vec<MonthLine> = figures
            .months
            .iter()
            .map(|m| MonthLine {
                month: m.month.clone(),
                name: month_name(&m.month),
                enrolled: m.enrolled,
                started: m.started,
                completed: m.completed,
                credits: m.credits,
            })
            .collect();
        let month_chart = columns(
            &months
                .iter()
                .map(|m| {
                    (
                        m.name.clone(),
                        m.enrolled,
                        m.completed,
                        format!(
                            "{}: {} enrolled, {} completed",
                            m.month, m.enrolled, m.completed
                        ),
                    )
                })
                .collect::<Vec<_>>(),
        );
        Self {
            chrome,
            active_people: figures.counted_people,
            enrolled: figures.enrolled(),
            started: figures.started(),
            completed: figures.completed(),
            rate: shown_rate(figures.completed(), figures.enrolled()),
            credits_consumed: figures.credits_consumed,
            credits_left: figures.credits_left,
            courses: figures.courses.iter().map(course_line).collect(),
            rate_chart: rate_bars(&figures.courses),
            months,
            month_chart,
            segments: Vec::new(),
            segment_name: String::new(),
            segment_courses: Vec::new(),
            segment_chart: bars([]),
        }
    }
}

pub async fn dashboard(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let figures = match app.dashboard(who).await {
        Ok(figures) => figures,
        Err(err) => return failure_page(signed_in.chrome, &err, "/users", "Back to users"),
    };
    let mut page = DashboardPage::new(signed_in.chrome.clone(), &figures);
    let chosen = query
        .segment
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<SegmentId>()
                .map_err(|_| AppError::NotFound("segment"))
        })
        .transpose();
    let chosen = match chosen {
        Ok(chosen) => chosen,
        Err(err) => return failure_page(signed_in.chrome, &err, "/dashboard", "Back"),
    };
    let segments = app.segments(who).await.unwrap_or_default();
    page.segments = segments
        .iter()
        .map(|s| SegmentChoice {
            id: s.record.id.to_string(),
            name: s.record.name.clone(),
            chosen: Some(s.record.id) == chosen,
        })
        .collect();
    if let Some(id) = chosen {
        match app.segment_figures(who, id).await {
            Ok((segment, courses)) => {
                page.segment_name = segment.record.name;
                page.segment_courses = courses.iter().map(course_line).collect();
                page.segment_chart = rate_bars(&courses);
            }
            Err(err) => return failure_page(signed_in.chrome, &err, "/dashboard", "Back"),
        }
    }
    render(&page)
}

/// The report's filters, as the address carries them.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct ReportQuery {
    #[serde(default)]
    tab: Option<String>,
    #[serde(default)]
    inactive_only: Option<String>,
    #[serde(default)]
    course: Option<String>,
    #[serde(default)]
    segment: Option<String>,
    #[serde(default)]
    roster: Option<String>,
    #[serde(default)]
    dated_by: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    progress: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

impl ReportQuery {
    fn archived(&self) -> bool {
        self.tab.as_deref() == Some("archived")
    }

    fn request(&self) -> ReportRequest {
        ReportRequest {
            tab: Some(
                if self.archived() {
                    "archived"
                } else {
                    "active"
                }
                .to_owned(),
            ),
            // The switch belongs to the Archived tab; on the Active tab it is not asked.
            inactive_only: self.archived() && self.inactive_only.as_deref() == Some("on"),
            course: self.course.clone(),
            segment: self.segment.clone(),
            roster: self.roster.clone(),
            dated_by: self.dated_by.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            progress: self.progress.clone(),
        }
    }

    /// The filters as an address's query, without the tab or the page.
    fn filters(&self) -> String {
        let pairs = [
            ("inactive_only", &self.inactive_only),
            ("course", &self.course),
            ("segment", &self.segment),
            ("roster", &self.roster),
            ("dated_by", &self.dated_by),
            ("from", &self.from),
            ("to", &self.to),
            ("progress", &self.progress),
        ];
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                query.append_pair(key, value);
            }
        }
        query.finish()
    }
}

/// One option of a filter's list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

fn choices(
    chosen: Option<&str>,
    options: impl IntoIterator<Item = (String, String)>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            chosen: chosen == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

/// A line of the report as shown.
pub struct ReportLine {
    pub name: String,
    pub login: String,
    pub badge: &'static str,
    pub course: String,
    pub enrolled: String,
    pub state: &'static str,
    pub completed: String,
    pub score: String,
}

fn day(at: Option<rollcall_domain::Timestamp>) -> String {
    at.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn report_line(r: &ReportRow) -> ReportLine {
    let state = if r.completed_at.is_some() {
        "Completed"
    } else if r.started_at.is_some() {
        "In progress"
    } else {
        "Not started"
    };
    ReportLine {
        name: format!("{} {}", r.given_name, r.family_name),
        login: r
            .username
            .clone()
            .or_else(|| r.email.clone())
            .unwrap_or_default(),
        badge: rules::presentation(r.status).badge.unwrap_or_default(),
        course: r.course_title.clone(),
        enrolled: day(Some(r.enrolled_at)),
        state,
        completed: day(r.completed_at),
        score: r.score.map(|s| format!("{s}%")).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "pages/reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub archived: bool,
    pub inactive_only: bool,
    /// The filters as a query (for the tabs, the export and the next page).
    pub filters: String,
    pub courses: Vec<Choice>,
    pub segments: Vec<Choice>,
    pub rosters: Vec<Choice>,
    pub states: Vec<Choice>,
    pub dated_by: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub error: String,
    pub rows: Vec<ReportLine>,
    /// The next page's place, when there is one.
    pub next: String,
    pub paged: bool,
}

pub async fn report(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<ReportQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let mut error = String::new();
    let mut rows = Vec::new();
    let mut next = String::new();
    match query.request().parse() {
        Ok(filter) => match app
            .report_page(who, &filter, query.after.as_deref(), REPORT_PAGE)
            .await
        {
            Ok(page) => {
                rows = page.rows.iter().map(report_line).collect();
                next = page.next.unwrap_or_default();
            }
            Err(err) => error = explain(&err).1,
        },
        Err(err) => error = explain(&err).1,
    }
    let courses = app.courses(who).await.unwrap_or_default();
    let segments = app.segments(who).await.unwrap_or_default();
    let rosters = app.rosters(who).await.unwrap_or_default();
    let page = ReportsPage {
        chrome: signed_in.chrome,
        archived: query.archived(),
        inactive_only: query.request().inactive_only,
        filters: query.filters(),
        courses: choices(
            query.course.as_deref(),
            courses.iter().map(|c| (c.id.to_string(), c.title.clone())),
        ),
        segments: choices(
            query.segment.as_deref(),
            segments
                .iter()
                .map(|s| (s.record.id.to_string(), s.record.name.clone())),
        ),
        rosters: choices(
            query.roster.as_deref(),
            rosters
                .iter()
                .map(|r| (r.roster.id.to_string(), r.roster.title.clone())),
        ),
        states: choices(
            query.progress.as_deref(),
            rollcall_domain::learning::Progress::ALL
                .iter()
                .map(|p| (p.as_str().to_owned(), capitalised(p.words()))),
        ),
        dated_by: choices(
            Some(query.dated_by.as_deref().unwrap_or("enrolled")),
            [
                ("enrolled".to_owned(), "Enrolled".to_owned()),
                ("completed".to_owned(), "Completed".to_owned()),
            ],
        ),
        from: query.from.clone().unwrap_or_default(),
        to: query.to.clone().unwrap_or_default(),
        error,
        rows,
        next,
        paged: query.after.as_deref().is_some_and(|a| !a.is_empty()),
    };
    render(&page)
}

fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The report as CSV, with the same tab and filters as the page.
pub async fn export(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<ReportQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let filter = match query.request().parse() {
        Ok(filter) => filter,
        Err(err) => return failure_page(signed_in.chrome, &err, "/reports", "Back to reports"),
    };
    match app.report_export(who, &filter).await {
        Ok(export) => crate::api::reports::csv_response(
            export,
            &format!("completions-{}.csv", filter.tab.as_str()),
        ),
        Err(err) => failure_page(signed_in.chrome, &err, "/reports", "Back to reports"),
    }
}
