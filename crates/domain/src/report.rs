//! Reports and analytics: whose results count in the figures and which tab of the completion
//! report shows whose, both from the status rules table; and a report's filters, checked.
//!
//! Counted people (active) fill the dashboard and the report's Active tab. Everyone else's
//! results stay and are shown in the Archived tab, which can narrow to inactive people only.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::learning::Progress;
use crate::rules::{self, Analytics};
use crate::{CourseId, FieldError, RosterId, SegmentId, Status, Timestamp};

/// The statuses whose results count in analytics and the report's Active tab.
pub fn counted_statuses() -> Vec<Status> {
    statuses_where(|a| a == Analytics::Counted)
}

/// The statuses whose results the report's Archived tab shows.
pub fn archived_tab_statuses() -> Vec<Status> {
    statuses_where(|a| a == Analytics::ArchivedTab)
}

fn statuses_where(keep: impl Fn(Analytics) -> bool) -> Vec<Status> {
    Status::ALL
        .iter()
        .copied()
        .filter(|&s| keep(rules::rules(s).analytics))
        .collect()
}

/// The two tabs of the completion report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTab {
    /// The results of counted (active) people.
    Active,
    /// The results of everyone else; with `inactive_only`, of inactive people only.
    Archived { inactive_only: bool },
}

impl ReportTab {
    /// `active` or `archived`, as addresses and the API name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived { .. } => "archived",
        }
    }

    /// The tab from its word and the inactive-only switch (which only the Archived tab has).
    pub fn parse(word: &str, inactive_only: bool) -> Result<Self, FieldError> {
        match word {
            "active" if inactive_only => Err(FieldError::new(
                "inactive_only",
                "only the archived tab narrows to inactive people",
            )),
            "active" => Ok(Self::Active),
            "archived" => Ok(Self::Archived { inactive_only }),
            other => Err(FieldError::new(
                "tab",
                format!("'{other}' is not a tab: use active or archived"),
            )),
        }
    }

    /// Whose results the tab shows.
    pub fn statuses(self) -> Vec<Status> {
        match self {
            Self::Active => counted_statuses(),
            Self::Archived {
                inactive_only: false,
            } => archived_tab_statuses(),
            // Inactive people: those of the Archived tab whom listings still show.
            Self::Archived {
                inactive_only: true,
            } => archived_tab_statuses()
                .into_iter()
                .filter(|&s| rules::rules(s).search != rules::SearchVisibility::Hidden)
                .collect(),
        }
    }
}

/// Which of an enrolment's dates a report's date range applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatedBy {
    #[default]
    Enrolled,
    Completed,
}

impl DatedBy {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Enrolled => "enrolled",
            Self::Completed => "completed",
        }
    }

    pub fn parse(word: &str) -> Result<Self, FieldError> {
        match word {
            "" | "enrolled" => Ok(Self::Enrolled),
            "completed" => Ok(Self::Completed),
            other => Err(FieldError::new(
                "dated_by",
                format!("'{other}' is not a date of an enrolment: use enrolled or completed"),
            )),
        }
    }
}

/// A range of whole days, in UTC, both ends included; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DayRange {
    /// A range from two optional `YYYY-MM-DD` days; refused when a day does not read or the
    /// range ends before it starts.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, FieldError> {
        let day = |field: &'static str, text: Option<&str>| -> Result<_, FieldError> {
            match text.map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        FieldError::new(field, format!("'{text}' is not a day (YYYY-MM-DD)"))
                    }),
            }
        };
        let range = Self {
            from: day("from", from)?,
            to: day("to", to)?,
        };
        if let (Some(from), Some(to)) = (range.from, range.to)
            && to < from
        {
            return Err(FieldError::new(
                "to",
                format!("the range ends ({to}) before it starts ({from})"),
            ));
        }
        Ok(range)
    }

    /// The first instant of the range, and the first instant after it.
    pub fn bounds(self) -> (Option<Timestamp>, Option<Timestamp>) {
        let start = |d: NaiveDate| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN));
        (
            self.from.map(start),
            self.to.map(|d| start(d) + Duration::days(1)),
        )
    }
}

/// What a completion report shows: one tab, narrowed by any of these filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFilter {
    pub tab: ReportTab,
    pub course: Option<CourseId>,
    pub segment: Option<SegmentId>,
    pub roster: Option<RosterId>,
    pub dated_by: DatedBy,
    pub days: DayRange,
    pub progress: Option<Progress>,
}

impl ReportFilter {
    /// Everyone's results in one tab.
    pub const fn tab(tab: ReportTab) -> Self {
        Self {
            tab,
            course: None,
            segment: None,
            roster: None,
            dated_by: DatedBy::Enrolled,
            days: DayRange {
                from: None,
                to: None,
            },
            progress: None,
        }
    }
}

/// A month of the dashboard, `YYYY-MM` in UTC.
pub fn month_of(at: Timestamp) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// The `count` months that end with the month of `now`, oldest first.
pub fn last_months(now: Timestamp, count: u32) -> Vec<String> {
    let (mut year, mut month) = (now.year(), now.month());
    let mut months = Vec::new();
    for _ in 0..count {
        months.push(format!("{year:04}-{month:02}"));
        if month == 1 {
            year -= 1;
            month = 12;
        } else {
            month -= 1;
        }
    }
    months.reverse();
    months
}

/// A completion rate, in whole percent of those enrolled; none when nobody is.
pub fn rate(completed: u64, enrolled: u64) -> Option<u64> {
    (enrolled > 0).then(|| (completed * 100 + enrolled / 2) / enrolled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_people_count_and_the_rest_go_to_the_archived_tab() {
        assert_eq!(counted_statuses(), vec![Status::Active]);
        assert_eq!(
            archived_tab_statuses(),
            vec![Status::Inactive, Status::Archived]
        );
        assert_eq!(
            ReportTab::Archived {
                inactive_only: true
            }
            .statuses(),
            vec![Status::Inactive]
        );
        assert_eq!(ReportTab::Active.statuses(), vec![Status::Active]);
    }

    #[test]
    fn tabs_read_from_their_words() {
        assert_eq!(ReportTab::parse("active", false), Ok(ReportTab::Active));
        assert_eq!(
            ReportTab::parse("archived", true),
            Ok(ReportTab::Archived {
                inactive_only: true
            })
        );
        assert_eq!(
            ReportTab::parse("active", true)
                .map_err(|e| e.field)
                .err()
                .as_deref(),
            Some("inactive_only")
        );
        assert_eq!(
            ReportTab::parse("gone", false)
                .map_err(|e| e.field)
                .err()
                .as_deref(),
            Some("tab")
        );
    }

    #[test]
    fn a_day_range_is_checked_and_covers_whole_days() {
        let range = DayRange::parse(Some("2026-03-01"), Some("2026-03-31")).expect("range");
        let (from, to) = range.bounds();
        assert_eq!(
            from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-03-01T00:00:00+00:00")
        );
        assert_eq!(
            to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-04-01T00:00:00+00:00")
        );
        assert_eq!(DayRange::parse(Some(""), None), Ok(DayRange::default()));
        let inverted = DayRange::parse(Some("2026-03-31"), Some("2026-03-01")).unwrap_err();
        assert_eq!(inverted.field, "to");
        assert!(
            inverted.message.contains("before it starts"),
            "{inverted:?}"
        );
        let bad = DayRange::parse(Some("31/03/2026"), None).unwrap_err();
        assert_eq!(bad.field, "from");
    }

    #[test]
    fn months_run_back_across_a_year() {
        let now = Utc
            .with_ymd_and_hms(2026, 2, 14, 10, 0, 0)
            .single()
            .expect("time");
        assert_eq!(last_months(now, 3), vec!["2025-12", "2026-01", "2026-02"]);
        assert_eq!(month_of(now), "2026-02");
    }

    #[test]
    fn rates_round_to_whole_percent() {
        assert_eq!(rate(1, 3), Some(33));
        assert_eq!(rate(2, 3), Some(67));
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(5, 5), Some(100));
    }
}
