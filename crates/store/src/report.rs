//! The storage of reports and analytics. The dashboard's figures are read from
//! `learning_tally`, which triggers keep right as enrolments and statuses change (see the
//! migrations); a completion report's pages are walked newest enrolment first, a page after the
//! last row shown, and its export in the enrolments' key order by one statement (see
//! [`report_csv`](crate::report_csv)). [`ReportStore`] reads (every [`Store`](crate::Store) is
//! one).

use async_trait::async_trait;
use futures::TryStreamExt as _;
use rollcall_domain::learning::Progress;
use rollcall_domain::report::{DatedBy, counted_statuses};
use rollcall_domain::segment::Rule;
use rollcall_domain::{CourseId, OrgId, RosterId, Status, Timestamp};
use sqlx::{Database, Executor, FromRow, IntoArguments, Pool};

use crate::backend::{Conn, JsonStyle};
use crate::report_csv::{CsvChunk, CsvRows, CsvSender, Sent};
use crate::report_rows::{
    CourseFigureColumns, CourseFigures, FigureColumns, MonthFigures, REPORT_COLUMNS, ReportColumns,
    ReportKey, ReportRow, count,
};
use crate::rows::micros;
use crate::segment::rule_sql;
use crate::shared::SqlStore;
use crate::sql::{Sql, Value};
use crate::{Backend, StoreError, StoreResult};

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
    /// Every row of a completion report as CSV lines (see [`CsvChunk`]), course by course
    /// and in each course person by person (the enrolments' own key, so the walk reads the
    /// tables in order): passed on a chunk at a time as the reader takes them, from one
    /// statement, so the export is one consistent picture however long it takes.
    async fn report_export(&self, org: OrgId, query: &ReportQuery) -> StoreResult<CsvRows>;
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

/// How a report's rows are walked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Newest enrolment first, through `enrolment_by_date` (a page).
    ByDate,
    /// In the enrolments' key order (an export): a date range is checked on each row rather
    /// than walked, so that no plan reads a range of dates and then sorts all it found.
    ByKey,
}

/// ` from … where …`: the enrolments of `query`'s people with their person and course.
fn joined<B: Backend>(q: &mut Sql<B>, org: OrgId, query: &ReportQuery, walk: Walk) {
    q.push(
        " from enrolment e join user_account u on u.org_id = e.org_id and u.user_id = e.user_id \
         join course c on c.org_id = e.org_id and c.course_id = e.course_id where e.org_id = ",
    )
    .bind(org.as_uuid());
    narrowed(q, org, query, walk);
}

/// `and` the conditions of `query` on `enrolment e` and `user_account u`.
fn narrowed<B: Backend>(q: &mut Sql<B>, org: OrgId, query: &ReportQuery, walk: Walk) {
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
    // A unary plus keeps a column's index out of the plan.
    let dated = match (query.dated_by, walk) {
        (DatedBy::Enrolled, Walk::ByDate) => "e.enrolled_at",
        (DatedBy::Enrolled, Walk::ByKey) => "+e.enrolled_at",
        (DatedBy::Completed, _) => "e.completed_at",
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
    joined(q, org, query, Walk::ByDate);
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

/// Walks the rows of `q`, writes them as CSV and passes them on a chunk at a time (see
/// [`CsvRows`]); stops when the reader goes away.
async fn walk<B: Backend>(pool: Pool<B::Db>, q: Sql<B>, sent: CsvSender)
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> ReportColumns: FromRow<'r, <B::Db as Database>::Row>,
{
    let outcome: StoreResult<()> = async {
        let (text, args) = q.into_parts()?;
        let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
        let mut rows = sqlx::query_as_with::<_, ReportColumns, _>(&text, args).fetch(&mut *conn);
        let mut chunk = CsvChunk::with_room();
        while let Some(row) = rows.try_next().await.map_err(StoreError::from_sqlx)? {
            chunk.push(&row.as_csv());
            if chunk.is_full() {
                let full = std::mem::replace(&mut chunk, CsvChunk::with_room());
                if sent.send(Ok(Sent::Lines(full))).await.is_err() {
                    // The reader went away: the statement ends with its connection, rather
                    // than be read out to its last row.
                    drop(rows);
                    conn.close_on_drop();
                    return Ok(());
                }
            }
        }
        drop(rows);
        if chunk.rows > 0 {
            let _ = sent.send(Ok(Sent::Lines(chunk))).await;
        }
        let _ = sent.send(Ok(Sent::End)).await;
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        let _ = sent.send(Err(e)).await;
    }
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
        // People first, then their enrolments: SQLite's `cross join` keeps it to that order
        // (it would otherwise walk every enrolment and look up each person, three times
        // slower on a million people); PostgreSQL plans a join as it sees fit.
        let join = match B::JSON {
            JsonStyle::Sqlite => "cross join",
            JsonStyle::Postgres => "join",
        };
        let mut q = Sql::<B>::new(format!(
            "select e.course_id, c.title, cast(count(*) as bigint) as enrolled, \
             cast(count(e.started_at) as bigint) as started, cast(count(e.completed_at) as \
             bigint) as completed, cast(coalesce(sum(case when e.started_at is not null then \
             e.credits_used end), 0) as bigint) as credits from user_account u {join} \
             enrolment e on e.org_id = u.org_id and e.user_id = u.user_id join course c on \
             c.org_id = e.org_id and c.course_id = e.course_id where u.org_id = "
        ));
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

    async fn report_export(&self, org: OrgId, query: &ReportQuery) -> StoreResult<CsvRows> {
        let mut q = Sql::<B>::new(format!("select {REPORT_COLUMNS}"));
        joined(&mut q, org, query, Walk::ByKey);
        q.push(" order by e.course_id, e.user_id");
        let (sent, rows) = CsvRows::queue();
        if !self
            .backend_state()
            .spawn_export(q.text(), q.values(), &sent)
        {
            tokio::spawn(walk(self.reader().clone(), q, sent));
        }
        Ok(rows)
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
