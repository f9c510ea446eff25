//! The storage of reports and analytics. The dashboard's figures are read from
//! `learning_tally`, which triggers keep right as enrolments and statuses change (see the
//! migrations); a completion report is walked newest enrolment first, a page after the last row
//! shown, so an export of millions of rows reads them a page at a time. [`ReportStore`] reads
//! (every [`Store`](crate::Store) is one).

use async_trait::async_trait;
use rollcall_domain::learning::Progress;
use rollcall_domain::report::{DatedBy, counted_statuses};
use rollcall_domain::segment::Rule;
use rollcall_domain::{CourseId, OrgId, RosterId, Status, Timestamp};
use sqlx::{Database, Executor, FromRow, IntoArguments};

use crate::backend::{Conn, JsonStyle};
use crate::report_rows::{
    CourseFigureColumns, CourseFigures, FigureColumns, MonthFigures, REPORT_COLUMNS, ReportColumns,
    ReportKey, ReportRow, count,
};
use crate::rows::{corrupt, micros};
use crate::segment::rule_sql;
use crate::shared::SqlStore;
use crate::sql::{Sql, Value};
use crate::{Backend, StoreResult};

/// The dashboard's figures: counted people only, as the status rules say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Figures {
    /// People whose results count (the active).
    pub counted_people: u64,
    /// Every course of the org, by title, with its figures (zero when nobody counted is in it).
    pub courses: Vec<CourseFigures>,
    /// The months asked for, oldest first, each with its figures.
    pub months: Vec<MonthFigures>,
    /// Credits the org has left.
    pub credits_left: i64,
    /// Credits consumed since the org began, by anyone (consumed credits are kept whatever
    /// the status of whoever consumed them).
    pub credits_consumed: i64,
}

impl Figures {
    /// The sum over every course of one figure.
    fn total(&self, pick: fn(&CourseFigures) -> u64) -> u64 {
        self.courses.iter().map(pick).sum()
    }

    /// Enrolments of counted people, in every course.
    pub fn enrolled(&self) -> u64 {
        self.total(|c| c.enrolled)
    }

    pub fn started(&self) -> u64 {
        self.total(|c| c.started)
    }

    pub fn completed(&self) -> u64 {
        self.total(|c| c.completed)
    }
}

/// Whose results a report reads, narrowed by any of the rest.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub statuses: Vec<Status>,
    pub course: Option<CourseId>,
    /// A segment's rule: only the people it picks out.
    pub rule: Option<Rule>,
    pub roster: Option<RosterId>,
    pub dated_by: DatedBy,
    /// From this instant, included.
    pub from: Option<Timestamp>,
    /// Until this instant, excluded.
    pub until: Option<Timestamp>,
    pub progress: Option<Progress>,
}

/// Rows of a completion report as CSV: `user_id, username, email, given_name, family_name,
/// status, course_id, course, enrolled_by, enrolled_at, started_at, completed_at, score,
/// credits_used`, each line ended by a newline (RFC 4180 quoting: text in double quotes, a
/// quote doubled; times in UTC, RFC 3339 to the second; a missing value empty). Text a
/// spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first)
/// is written with a leading `'`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvChunk {
    pub text: String,
    pub rows: u64,
    /// The place of the chunk's last row, where the next chunk starts.
    pub last: Option<ReportKey>,
}

/// One course and month of the tally, as kept or as recomputed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TallyLine {
    pub course_id: CourseId,
    pub month: String,
    pub enrolled: i64,
    pub started: i64,
    pub completed: i64,
    pub credits: i64,
}

/// Reads of reports and figures, outside any unit of work.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The dashboard's figures, with `months` (`YYYY-MM`, oldest first) filled in.
    async fn figures(&self, org: OrgId, months: &[String]) -> StoreResult<Figures>;
    /// The figures per course of the counted people a segment's rule picks out; worked out
    /// when asked (a rule is any condition, so nothing can be kept for it).
    async fn rule_figures(&self, org: OrgId, rule: &Rule) -> StoreResult<Vec<CourseFigures>>;
    /// A page of a completion report, newest enrolment first, after `after`.
    async fn report_page(
        &self,
        org: OrgId,
        query: &ReportQuery,
        after: Option<ReportKey>,
        limit: u64,
    ) -> StoreResult<Vec<ReportRow>>;
    /// A chunk of a completion report as CSV lines (see [`CsvChunk`]), in the order of
    /// [`report_page`](Self::report_page), after `after`: written by the database itself, so a
    /// chunk of thousands of rows comes back as one value.
    async fn report_csv(
        &self,
        org: OrgId,
        query: &ReportQuery,
        after: Option<ReportKey>,
        limit: u64,
    ) -> StoreResult<CsvChunk>;
    /// The tally as the triggers keep it, lines with figures only, in order.
    async fn kept_tally(&self, org: OrgId) -> StoreResult<Vec<TallyLine>>;
    /// The tally worked out from the enrolments and statuses as they are, in order.
    async fn recomputed_tally(&self, org: OrgId) -> StoreResult<Vec<TallyLine>>;
}

fn counted_in<B: Backend>(q: &mut Sql<B>, statuses: &[Status]) {
    q.row(
        true,
        statuses.iter().map(|s| Value::from(s.as_str().to_owned())),
    );
}

/// `and` the conditions of `query` on `enrolment e` and `user_account u`.
fn narrowed<B: Backend>(q: &mut Sql<B>, org: OrgId, query: &ReportQuery) {
    q.push(" and u.status in ");
    counted_in(q, &query.statuses);
    if let Some(course) = query.course {
        q.push(" and e.course_id = ").bind(course.as_uuid());
    }
    if let Some(roster) = query.roster {
        q.push(" and e.user_id in (select m.user_id from roster_member m where m.org_id = ")
            .bind(org.as_uuid())
            .push(" and m.roster_id = ")
            .bind(roster.as_uuid())
            .push(")");
    }
    if let Some(rule) = &query.rule {
        q.push(" and ");
        rule_sql(q, rule);
    }
    let dated = match query.dated_by {
        DatedBy::Enrolled => "e.enrolled_at",
        DatedBy::Completed => "e.completed_at",
    };
    if let Some(from) = query.from {
        q.push(" and ").push(dated).push(" >= ").bind(micros(from));
    }
    if let Some(until) = query.until {
        q.push(" and ").push(dated).push(" < ").bind(micros(until));
    }
    q.push(match query.progress {
        None => "",
        Some(Progress::NotStarted) => " and e.started_at is null",
        Some(Progress::InProgress) => " and e.started_at is not null and e.completed_at is null",
        Some(Progress::Completed) => " and e.completed_at is not null",
    });
}

/// Writes the SQL of one value of a CSV line from the SQL of a column.
type Fragment = fn(&str) -> String;

/// The SQL of one CSV line of `enrolment e`, `user_account u` and `course c`, in the dialect
/// of `style`.
fn csv_line(style: JsonStyle) -> String {
    let (uuid, text, time): (Fragment, Fragment, Fragment) = match style {
        JsonStyle::Sqlite => (
            |x| {
                let h = format!("hex({x})");
                format!(
                    "lower(substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-' || \
                         substr({h}, 13, 4) || '-' || substr({h}, 17, 4) || '-' || \
                         substr({h}, 21, 12))"
                )
            },
            |x| {
                format!(
                    "coalesce('\"' || case when substr({x}, 1, 1) in ('=', '+', '-', '@', \
                         char(9), char(13)) then '''' else '' end || replace({x}, '\"', \
                         '\"\"') || '\"', '')"
                )
            },
            |x| format!("coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', {x} / 1000000, 'unixepoch'), '')"),
        ),
        JsonStyle::Postgres => (
            |x| format!("cast({x} as text)"),
            |x| {
                format!(
                    "coalesce('\"' || case when left({x}, 1) in ('=', '+', '-', '@', \
                         chr(9), chr(13)) then '''' else '' end || replace({x}, '\"', \
                         '\"\"') || '\"', '')"
                )
            },
            |x| {
                format!(
                    "coalesce(to_char(to_timestamp({x} / 1000000) at time zone 'UTC', \
                         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
                )
            },
        ),
    };
    let number = |x: &str| format!("coalesce(cast({x} as text), '')");
    [
        uuid("u.user_id"),
        text("u.username"),
        text("u.email"),
        text("u.given_name"),
        text("u.family_name"),
        "u.status".to_owned(),
        uuid("e.course_id"),
        text("c.title"),
        "e.method".to_owned(),
        time("e.enrolled_at"),
        time("e.started_at"),
        time("e.completed_at"),
        number("e.score"),
        number("e.credits_used"),
    ]
    .join(" || ',' || ")
}

/// The place of a chunk's last row, from the text `report_csv` sorts them by: the enrolment's
/// microseconds in 20 digits, then the course's id and the person's (as hex or as UUIDs).
fn key_of(text: &str, style: JsonStyle) -> StoreResult<ReportKey> {
    let id_len = match style {
        JsonStyle::Sqlite => 32,
        JsonStyle::Postgres => 36,
    };
    let bad = || corrupt(format!("a report's place '{text}'"));
    let at: i64 = text.get(..20).ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let course = text.get(20..20 + id_len).ok_or_else(bad)?;
    let user = text.get(20 + id_len..).ok_or_else(bad)?;
    Ok(ReportKey {
        enrolled_at: crate::rows::from_micros(at)?,
        course_id: CourseId::from_uuid(uuid::Uuid::parse_str(course).map_err(|_| bad())?),
        user_id: rollcall_domain::UserId::from_uuid(
            uuid::Uuid::parse_str(user).map_err(|_| bad())?,
        ),
    })
}

/// The figures of each month of `months`, zero where the tally has none.
fn fill_months(months: &[String], rows: Vec<FigureColumns>) -> Vec<MonthFigures> {
    let mut filled: Vec<MonthFigures> = months
        .iter()
        .map(|m| MonthFigures {
            month: m.clone(),
            ..MonthFigures::default()
        })
        .collect();
    for row in rows {
        if let Some(month) = filled.iter_mut().find(|m| m.month == row.key) {
            month.enrolled = count(row.enrolled);
            month.started = count(row.started);
            month.completed = count(row.completed);
            month.credits = count(row.credits);
        }
    }
    filled
}

/// The tally's lines from enrolments and statuses as they are (what the triggers keep).
fn recompute<B: Backend>(org: OrgId) -> Sql<B> {
    let month = |column: &str| B::month_of(column);
    let mut q = Sql::<B>::new(format!(
        "select d.course_id, d.month, cast(sum(d.enrolled) as bigint), cast(sum(d.started) as \
         bigint), cast(sum(d.completed) as bigint), cast(sum(d.credits) as bigint) from (select e.course_id, {} as month, 1 as enrolled, 0 as started, \
         0 as completed, 0 as credits from enrolment e where e.org_id = ",
        month("e.enrolled_at")
    ));
    let counted = |q: &mut Sql<B>| {
        q.push(
            " and exists (select 1 from user_account u where u.org_id = e.org_id and \
             u.user_id = e.user_id and u.status in ",
        );
        counted_in(q, &counted_statuses());
        q.push(")");
    };
    q.bind(org.as_uuid());
    counted(&mut q);
    q.push(format!(
        " union all select e.course_id, {}, 0, 1, 0, e.credits_used from enrolment e \
         where e.started_at is not null and e.org_id = ",
        month("e.started_at")
    ))
    .bind(org.as_uuid());
    counted(&mut q);
    q.push(format!(
        " union all select e.course_id, {}, 0, 0, 1, 0 from enrolment e \
         where e.completed_at is not null and e.org_id = ",
        month("e.completed_at")
    ))
    .bind(org.as_uuid());
    counted(&mut q);
    q.push(") d group by d.course_id, d.month order by d.course_id, d.month");
    q
}

type TallyTuple = (uuid::Uuid, String, i64, i64, i64, i64);

fn tally_lines(rows: Vec<TallyTuple>) -> Vec<TallyLine> {
    rows.into_iter()
        .map(
            |(course, month, enrolled, started, completed, credits)| TallyLine {
                course_id: CourseId::from_uuid(course),
                month,
                enrolled,
                started,
                completed,
                credits,
            },
        )
        .filter(|l| l.enrolled != 0 || l.started != 0 || l.completed != 0 || l.credits != 0)
        .collect()
}

/// ` from … where … order by …`: the rows of a report after `after`, newest enrolment first.
fn report_rows<B: Backend>(
    q: &mut Sql<B>,
    org: OrgId,
    query: &ReportQuery,
    after: Option<ReportKey>,
) {
    q.push(
        " from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id \
         join course c on c.org_id = e.org_id and c.course_id = e.course_id where e.org_id = ",
    )
    .bind(org.as_uuid());
    narrowed(q, org, query);
    if let Some(after) = after {
        // A range on the index's first column, then the exact place as a row value: both
        // backends walk `enrolment_by_date` from there, however deep the page.
        let at = micros(after.enrolled_at);
        q.push(" and e.enrolled_at <= ")
            .bind(at)
            .push(" and (e.enrolled_at, e.course_id, e.user_id) < (")
            .bind(at)
            .push(", ")
            .bind(after.course_id.as_uuid())
            .push(", ")
            .bind(after.user_id.as_uuid())
            .push(")");
    }
    q.push(" order by e.enrolled_at desc, e.course_id desc, e.user_id desc");
}

#[async_trait]
impl<B: Backend> ReportStore for SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> ReportColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> FigureColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> CourseFigureColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> TallyTuple: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, i64, String): FromRow<'r, <B::Db as Database>::Row>,
{
    async fn figures(&self, org: OrgId, months: &[String]) -> StoreResult<Figures> {
        let mut q =
            Sql::<B>::new("select cast(count(*) as bigint) from user_account where org_id = ");
        q.bind(org.as_uuid()).push(" and status in ");
        counted_in(&mut q, &counted_statuses());
        let counted_people = q
            .fetch_optional::<(i64,), _>(self.reader())
            .await?
            .map_or(0, |(n,)| n);

        let mut q = Sql::<B>::new(
            "select c.course_id, c.title, cast(coalesce(sum(t.enrolled), 0) as bigint) as \
             enrolled, cast(coalesce(sum(t.started), 0) as bigint) as started, \
             cast(coalesce(sum(t.completed), 0) as bigint) as completed, \
             cast(coalesce(sum(t.credits), 0) as bigint) as credits from course c \
             left join learning_tally t on t.org_id = c.org_id and t.course_id = c.course_id \
             where c.org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" group by c.course_id, c.title order by c.title, c.course_id");
        let courses = q
            .fetch_all::<CourseFigureColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(CourseFigureColumns::into_figures)
            .collect();

        let mut rows = Vec::new();
        if let Some(first) = months.first() {
            let mut q = Sql::<B>::new(
                "select month as key, cast(sum(enrolled) as bigint) as enrolled, \
                 cast(sum(started) as bigint) as started, cast(sum(completed) as bigint) as \
                 completed, cast(sum(credits) as bigint) as credits from learning_tally \
                 where org_id = ",
            );
            q.bind(org.as_uuid())
                .push(" and month >= ")
                .bind(first.clone())
                .push(" group by month");
            rows = q.fetch_all::<FigureColumns, _>(self.reader()).await?;
        }

        let mut q =
            Sql::<B>::new("select coalesce((select balance from credit_account where org_id = ");
        q.bind(org.as_uuid()).push("), 0)");
        let credits_left = q
            .fetch_optional::<(i64,), _>(self.reader())
            .await?
            .map_or(0, |(n,)| n);
        let mut q = Sql::<B>::new(
            "select cast(coalesce(sum(amount), 0) as bigint) from credit_entry where org_id = ",
        );
        q.bind(org.as_uuid()).push(" and kind = 'top_up'");
        let topped_up = q
            .fetch_optional::<(i64,), _>(self.reader())
            .await?
            .map_or(0, |(n,)| n);

        Ok(Figures {
            counted_people: count(counted_people),
            courses,
            months: fill_months(months, rows),
            credits_left,
            // Every credit topped up is either left or consumed.
            credits_consumed: (topped_up - credits_left).max(0),
        })
    }

    async fn rule_figures(&self, org: OrgId, rule: &Rule) -> StoreResult<Vec<CourseFigures>> {
        let mut q = Sql::<B>::new(
            "select e.course_id, c.title, cast(count(*) as bigint) as enrolled, \
             cast(count(e.started_at) as bigint) as started, cast(count(e.completed_at) as \
             bigint) as completed, cast(coalesce(sum(case when e.started_at is not null then \
             e.credits_used end), 0) as bigint) as credits from user_account u join enrolment e \
             on e.org_id = u.org_id and e.user_id = u.user_id join course c on c.org_id = \
             e.org_id and c.course_id = e.course_id where u.org_id = ",
        );
        q.bind(org.as_uuid()).push(" and u.status in ");
        counted_in(&mut q, &counted_statuses());
        q.push(" and ");
        rule_sql(&mut q, rule);
        q.push(" group by e.course_id, c.title order by c.title, e.course_id");
        Ok(q.fetch_all::<CourseFigureColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(CourseFigureColumns::into_figures)
            .collect())
    }

    async fn report_page(
        &self,
        org: OrgId,
        query: &ReportQuery,
        after: Option<ReportKey>,
        limit: u64,
    ) -> StoreResult<Vec<ReportRow>> {
        let mut q = Sql::<B>::new(format!("select {REPORT_COLUMNS}"));
        report_rows(&mut q, org, query, after);
        q.push(" limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        q.fetch_all::<ReportColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(ReportColumns::into_row)
            .collect()
    }

    async fn report_csv(
        &self,
        org: OrgId,
        query: &ReportQuery,
        after: Option<ReportKey>,
        limit: u64,
    ) -> StoreResult<CsvChunk> {
        let (key, aggregate) = match B::JSON {
            JsonStyle::Sqlite => (
                "printf('%020d', e.enrolled_at) || hex(e.course_id) || hex(e.user_id)",
                "group_concat(r.line || char(10), '' order by r.key desc)",
            ),
            JsonStyle::Postgres => (
                "lpad(cast(e.enrolled_at as text), 20, '0') || cast(e.course_id as text) || \
                 cast(e.user_id as text) collate \"C\"",
                "string_agg(r.line || chr(10), '' order by r.key desc)",
            ),
        };
        let mut q = Sql::<B>::new(format!(
            "select coalesce({aggregate}, ''), cast(count(*) as bigint), coalesce(min(r.key), '') \
             from (select {} as line, {key} as key",
            csv_line(B::JSON)
        ));
        report_rows(&mut q, org, query, after);
        q.push(" limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .push(") r");
        let (text, rows, last) = q
            .fetch_optional::<(String, i64, String), _>(self.reader())
            .await?
            .unwrap_or_default();
        Ok(CsvChunk {
            text,
            rows: count(rows),
            last: if last.is_empty() {
                None
            } else {
                Some(key_of(&last, B::JSON)?)
            },
        })
    }

    async fn kept_tally(&self, org: OrgId) -> StoreResult<Vec<TallyLine>> {
        let mut q = Sql::<B>::new(
            "select course_id, month, cast(enrolled as bigint), cast(started as bigint), \
             cast(completed as bigint), cast(credits as bigint) from learning_tally \
             where org_id = ",
        );
        q.bind(org.as_uuid()).push(" order by course_id, month");
        Ok(tally_lines(
            q.fetch_all::<TallyTuple, _>(self.reader()).await?,
        ))
    }

    async fn recomputed_tally(&self, org: OrgId) -> StoreResult<Vec<TallyLine>> {
        Ok(tally_lines(
            recompute::<B>(org)
                .fetch_all::<TallyTuple, _>(self.reader())
                .await?,
        ))
    }
}
