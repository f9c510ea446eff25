//! Reports and analytics: the dashboard's figures, a segment's figures, and the completion
//! report in its two tabs, read a page at a time and exported as CSV a chunk at a time. Whose
//! results count and which tab shows whose is the status rules' word
//! ([`rollcall_domain::report`]); nothing here names a status.

use rollcall_domain::learning::Progress;
use rollcall_domain::report::{DatedBy, DayRange, ReportFilter, ReportTab, last_months};
use rollcall_domain::{CourseId, FieldError, RosterId, SegmentId, Timestamp, UserId};
use rollcall_store::report::{Figures, ReportQuery};
use rollcall_store::report_csv::CsvRows;
use rollcall_store::report_rows::{CourseFigures, ReportKey, ReportRow};

use crate::{App, AppError, Principal, Segment};

/// How many months the dashboard shows, ending with this one.
pub const DASHBOARD_MONTHS: u32 = 12;
/// The most rows a report page shows.
pub const MAX_REPORT_PAGE: u64 = 500;

/// A report's filters as a person or a client wrote them (an address's query, a form, the
/// CLI's options); [`ReportRequest::parse`] checks them.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// `active` (the default) or `archived`.
    pub tab: Option<String>,
    pub inactive_only: bool,
    pub course: Option<String>,
    pub segment: Option<String>,
    pub roster: Option<String>,
    /// `enrolled` (the default) or `completed`: which date the range applies to.
    pub dated_by: Option<String>,
    /// `YYYY-MM-DD`, included.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, included.
    pub to: Option<String>,
    /// `not_started`, `in_progress` or `completed`.
    pub progress: Option<String>,
}

/// A page of a completion report, and where the next one starts.
#[derive(Debug, Clone)]
pub struct ReportPage {
    pub rows: Vec<ReportRow>,
    /// Present when there may be more rows (see [`encode_key`]).
    pub next: Option<String>,
}

/// A completion report being exported: yields its rows as CSV a chunk at a time, as the
/// store walks them, so a million rows never sit in memory together. Dropping it midway stops
/// the walk and leaves nothing behind.
pub struct ReportExport {
    rows: CsvRows,
}

impl ReportExport {
    /// The next chunk of CSV lines (see [`CsvChunk`](rollcall_store::report_csv::CsvChunk))
    /// and how many rows it holds, or `None` when every row has been written.
    pub async fn next_csv(&mut self) -> Result<Option<(String, u64)>, AppError> {
        match self.rows.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                Ok(Some((chunk.text, chunk.rows)))
            }
            None => Ok(None),
        }
    }
}

/// A place in a report as an address carries it: `micros.course.user`.
pub fn encode_key(key: ReportKey) -> String {
    format!(
        "{}.{}.{}",
        key.enrolled_at.timestamp_micros(),
        key.course_id,
        key.user_id
    )
}

/// The place [`encode_key`] wrote; refused when it does not read.
pub fn decode_key(text: &str) -> Result<ReportKey, FieldError> {
    let bad = || FieldError::new("after", "not a place in this report");
    let mut parts = text.split('.');
    let (Some(at), Some(course), Some(user), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let at: i64 = at.parse().map_err(|_| bad())?;
    Ok(ReportKey {
        enrolled_at: Timestamp::from_timestamp_micros(at).ok_or_else(bad)?,
        course_id: course.parse::<CourseId>().map_err(|_| bad())?,
        user_id: user.parse::<UserId>().map_err(|_| bad())?,
    })
}

/// An id from a filter's text, or a clear refusal naming the filter.
fn id_of<T: std::str::FromStr>(field: &str, text: Option<&str>) -> Result<Option<T>, FieldError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| FieldError::new(field, format!("'{t}' is not a {field} id"))),
    }
}

/// The value, or `None` with its error kept in `errors`.
fn keep<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

impl ReportRequest {
    /// The filters, read and checked on their own (ids are not looked up yet); every field at
    /// fault is listed.
    pub fn parse(&self) -> Result<ReportFilter, AppError> {
        let mut errors = Vec::new();
        let tab = keep(
            &mut errors,
            ReportTab::parse(self.tab.as_deref().unwrap_or("active"), self.inactive_only),
        );
        let course = keep(
            &mut errors,
            id_of::<CourseId>("course", self.course.as_deref()),
        );
        let segment = keep(
            &mut errors,
            id_of::<SegmentId>("segment", self.segment.as_deref()),
        );
        let roster = keep(
            &mut errors,
            id_of::<RosterId>("roster", self.roster.as_deref()),
        );
        let dated_by = keep(
            &mut errors,
            DatedBy::parse(self.dated_by.as_deref().unwrap_or("")),
        );
        let days = keep(
            &mut errors,
            DayRange::parse(self.from.as_deref(), self.to.as_deref()),
        );
        let progress = keep(
            &mut errors,
            match self
                .progress
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                None => Ok(None),
                Some(word) => Progress::parse(word).map(Some).ok_or_else(|| {
                    FieldError::new(
                        "progress",
                        format!(
                            "'{word}' is not a state: use not_started, in_progress or completed"
                        ),
                    )
                }),
            },
        );
        match (tab, course, segment, roster, dated_by, days, progress) {
            (
                Some(tab),
                Some(course),
                Some(segment),
                Some(roster),
                Some(dated_by),
                Some(days),
                Some(progress),
            ) if errors.is_empty() => Ok(ReportFilter {
                tab,
                course,
                segment,
                roster,
                dated_by,
                days,
                progress,
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

impl App {
    /// The dashboard's figures: counted people only, the last [`DASHBOARD_MONTHS`] months.
    pub async fn dashboard(&self, who: &Principal) -> Result<Figures, AppError> {
        who.require_admin()?;
        let months = last_months(self.now(), DASHBOARD_MONTHS);
        Ok(self.store.figures(who.org_id, &months).await?)
    }

    /// A segment's figures per course: its counted members' enrolments, starts and
    /// completions.
    pub async fn segment_figures(
        &self,
        who: &Principal,
        id: SegmentId,
    ) -> Result<(Segment, Vec<CourseFigures>), AppError> {
        let segment = self.segment(who, id).await?;
        let rule = self.segment_rule(who.org_id, &segment.record.rule).await?;
        let figures = self.store.rule_figures(who.org_id, &rule).await?;
        Ok((segment, figures))
    }

    /// How many rows a report holds, when the kept figures tell without reading it: the
    /// Active tab, whole or of one course (what a progress bar needs); `None` otherwise.
    pub async fn report_expected_rows(
        &self,
        who: &Principal,
        filter: &ReportFilter,
    ) -> Result<Option<u64>, AppError> {
        who.require_admin()?;
        let whole = filter.tab == ReportTab::Active
            && filter.segment.is_none()
            && filter.roster.is_none()
            && filter.days.from.is_none()
            && filter.days.to.is_none()
            && filter.progress.is_none();
        if !whole {
            return Ok(None);
        }
        let figures = self.store.figures(who.org_id, &[]).await?;
        Ok(Some(match filter.course {
            None => figures.enrolled(),
            Some(id) => figures
                .courses
                .iter()
                .filter(|c| c.course_id == id)
                .map(|c| c.enrolled)
                .sum(),
        }))
    }

    /// What a report reads: the filter with its course, segment and roster found in the
    /// admin's org (another org's are not found).
    async fn report_query(
        &self,
        who: &Principal,
        filter: &ReportFilter,
    ) -> Result<ReportQuery, AppError> {
        who.require_admin()?;
        if let Some(course) = filter.course {
            self.store
                .course(who.org_id, course)
                .await?
                .ok_or(AppError::NotFound("course"))?;
        }
        let rule = match filter.segment {
            Some(id) => {
                let segment = self.segment(who, id).await?;
                Some(self.segment_rule(who.org_id, &segment.record.rule).await?)
            }
            None => None,
        };
        if let Some(roster) = filter.roster
            && !self
                .store
                .rosters(who.org_id)
                .await?
                .iter()
                .any(|r| r.id == roster)
        {
            return Err(AppError::NotFound("roster"));
        }
        let (from, until) = filter.days.bounds();
        Ok(ReportQuery {
            statuses: filter.tab.statuses(),
            course: filter.course,
            rule,
            roster: filter.roster,
            dated_by: filter.dated_by,
            from,
            until,
            progress: filter.progress,
        })
    }

    /// A page of the completion report, newest enrolment first, after `after` (what a previous
    /// page's `next` said).
    pub async fn report_page(
        &self,
        who: &Principal,
        filter: &ReportFilter,
        after: Option<&str>,
        limit: u64,
    ) -> Result<ReportPage, AppError> {
        let query = self.report_query(who, filter).await?;
        let after = after
            .filter(|a| !a.is_empty())
            .map(decode_key)
            .transpose()?;
        let limit = limit.clamp(1, MAX_REPORT_PAGE);
        let rows = self
            .store
            .report_page(who.org_id, &query, after, limit)
            .await?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| encode_key(r.key())))
            .flatten();
        Ok(ReportPage { rows, next })
    }

    /// Every row of the completion report, to be read a chunk at a time.
    pub async fn report_export(
        &self,
        who: &Principal,
        filter: &ReportFilter,
    ) -> Result<ReportExport, AppError> {
        let query = self.report_query(who, filter).await?;
        let rows = self.store.report_export(who.org_id, &query).await?;
        Ok(ReportExport { rows })
    }
}

/// The columns of an exported report, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "user_id",
    "username",
    "email",
    "given_name",
    "family_name",
    "status",
    "course_id",
    "course",
    "enrolled_by",
    "enrolled_at",
    "started_at",
    "completed_at",
    "score",
    "credits_used",
];

/// The CSV header line of an exported report, ended by a newline.
pub fn csv_header() -> String {
    let mut line = CSV_COLUMNS.join(",");
    line.push('\n');
    line
}
