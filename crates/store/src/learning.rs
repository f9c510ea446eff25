//! The storage of learning: courses, enrolments and progress, credits, certificates and the
//! outbox. [`LearningStore`] reads (every [`Store`](crate::Store) is one), [`LearningWork`]
//! writes within a unit of work; both are written once here for any [`Backend`].

use async_trait::async_trait;
use rollcall_domain::learning::{
    Certificate, Course, CreditEntry, CreditUse, EnrolMethod, Enrolment, Message, MessageState,
    NewMessage, Progress, VerificationCode,
};
use rollcall_domain::{CertificateId, CourseId, LessonId, OrgId, Status, Timestamp, User, UserId};
use sqlx::{Database, Executor, FromRow, IntoArguments};
use uuid::Uuid;

use crate::learning_rows::{
    CERTIFICATE_COLUMNS, COURSE_COLUMNS, CertificateColumns, CourseColumns, ENROLMENT_COLUMNS,
    ENTRY_COLUMNS, EnrolmentColumns, EntryColumns, MESSAGE_COLUMNS, MessageColumns, TallyColumns,
    UseColumns,
};
use crate::rows::{USER_COLUMNS, UserColumns, corrupt, micros};
use crate::shared::{SqlStore, SqlUnitOfWork};
use crate::sql::Sql;
use crate::{Backend, StoreError, StoreResult, backend::Conn};

/// How many of a course's people each enrolment counts, by their status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub enrolled: u64,
    pub started: u64,
    pub completed: u64,
}

/// Whom an enrolment takes in: the org's people of some statuses (all of them, a list, or a
/// roster's members) who are not enrolled yet. Each is sent `notice`, or has it kept as
/// suppressed with the reason the status rules give.
#[derive(Debug, Clone)]
pub struct Enrol<'a> {
    pub org: OrgId,
    pub course: CourseId,
    pub method: EnrolMethod,
    /// Who enrols them, as recorded.
    pub by: &'a str,
    pub at: Timestamp,
    /// The statuses an enrolment may take in (the others are left out).
    pub statuses: &'a [Status],
    /// Only these people (when the method is not a roster's or everyone's).
    pub users: Option<&'a [UserId]>,
    /// Only the people a segment's rule picks out now.
    pub rule: Option<&'a rollcall_domain::segment::Rule>,
    /// The notice; `name_marker` in its body becomes each person's given name.
    pub notice: &'a NewMessage,
    pub name_marker: &'a str,
    /// Why each status's notice is suppressed; a status not listed is sent its notice.
    pub suppressed: &'a [(Status, String)],
    /// Why a notice to someone without an e-mail address is suppressed.
    pub no_address: &'a str,
}

/// Reads of learning, outside any unit of work.
#[async_trait]
pub trait LearningStore: Send + Sync {
    /// The org's courses, by title.
    async fn courses(&self, org: OrgId) -> StoreResult<Vec<Course>>;
    async fn course(&self, org: OrgId, id: CourseId) -> StoreResult<Option<Course>>;
    async fn enrolment(
        &self,
        org: OrgId,
        course: CourseId,
        user: UserId,
    ) -> StoreResult<Option<Enrolment>>;
    /// Every enrolment of a person, newest first.
    async fn user_enrolments(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Enrolment>>;
    /// A page of a course's people (by user id, after `after`; only those this far, when
    /// given), with each person.
    async fn course_enrolments(
        &self,
        org: OrgId,
        course: CourseId,
        progress: Option<Progress>,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<(Enrolment, User)>>;
    /// A course's people counted by status.
    async fn course_tally(&self, org: OrgId, course: CourseId)
    -> StoreResult<Vec<(Status, Tally)>>;
    async fn certificate(&self, org: OrgId, id: CertificateId) -> StoreResult<Option<Certificate>>;
    async fn certificate_by_code(
        &self,
        org: OrgId,
        code: &VerificationCode,
    ) -> StoreResult<Option<Certificate>>;
    /// A person's certificates, newest first.
    async fn user_certificates(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Certificate>>;
    /// The org's credits left (0 before its first top-up).
    async fn credit_balance(&self, org: OrgId) -> StoreResult<i64>;
    /// The ledger, newest first, at most `limit` entries.
    async fn credit_entries(&self, org: OrgId, limit: u64) -> StoreResult<Vec<CreditEntry>>;
    /// Credits consumed per course, most first.
    async fn credit_use_by_course(&self, org: OrgId) -> StoreResult<Vec<CreditUse<CourseId>>>;
    /// Credits consumed per person (whatever their status now), most first, at most `limit`.
    async fn credit_use_by_user(
        &self,
        org: OrgId,
        limit: u64,
    ) -> StoreResult<Vec<CreditUse<UserId>>>;
    /// The outbox, newest first (of one state, or all), at most `limit` messages.
    async fn messages(
        &self,
        org: OrgId,
        state: Option<MessageState>,
        limit: u64,
    ) -> StoreResult<Vec<Message>>;
    /// Messages addressed to a person, newest first.
    async fn user_messages(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Message>>;
    /// The orgs with messages due for delivery at `now`.
    async fn orgs_with_mail_due(&self, now: Timestamp) -> StoreResult<Vec<OrgId>>;
}

/// Writes of learning, within a unit of work.
#[async_trait]
pub trait LearningWork: Send {
    async fn insert_course(&mut self, course: &Course) -> StoreResult<()>;
    /// Replaces a course read at `expected_version` by `course`.
    async fn update_course(&mut self, course: &Course, expected_version: i64) -> StoreResult<()>;
    /// The course, as this unit of work sees it (PostgreSQL locks it).
    async fn lock_course(&mut self, org: OrgId, id: CourseId) -> StoreResult<Option<Course>>;
    /// Adds messages to the outbox, as they are (queued or suppressed).
    async fn insert_messages(&mut self, messages: &[Message]) -> StoreResult<()>;
    /// The org's open courses that enrol everyone (what people who join are enrolled in). Every
    /// course of the org is locked until this unit of work ends: a course being made to enrol
    /// everyone at this moment is waited for, and then seen.
    async fn everyone_courses(&mut self, org: OrgId) -> StoreResult<Vec<Course>>;
    /// Enrols whom `enrol` takes in and addresses them its notice; how many were enrolled.
    async fn enrol(&mut self, enrol: &Enrol<'_>) -> StoreResult<u64>;
    /// The enrolment, locked until this unit of work ends.
    async fn lock_enrolment(
        &mut self,
        org: OrgId,
        course: CourseId,
        user: UserId,
    ) -> StoreResult<Option<Enrolment>>;
    /// Records a first start consuming `credits`; `false` (nothing written) when the enrolment
    /// was started already, by a start that got there first.
    async fn start_enrolment(
        &mut self,
        org: OrgId,
        course: CourseId,
        user: UserId,
        at: Timestamp,
        credits: u32,
    ) -> StoreResult<bool>;
    /// Replaces an enrolment read at `expected_version` (progress, a completion).
    async fn update_enrolment(
        &mut self,
        enrolment: &Enrolment,
        expected_version: i64,
    ) -> StoreResult<()>;
    /// Takes `amount` credits from the org when it has that many: `Ok` with the balance after,
    /// or `Err` with the balance it has (nothing taken).
    async fn take_credits(&mut self, org: OrgId, amount: u32) -> StoreResult<Result<i64, i64>>;
    /// Adds credits to the org; the balance after.
    async fn add_credits(&mut self, org: OrgId, amount: u32) -> StoreResult<i64>;
    async fn insert_credit_entry(&mut self, entry: &CreditEntry) -> StoreResult<()>;
    async fn insert_certificate(&mut self, certificate: &Certificate) -> StoreResult<()>;
    /// Claims up to `limit` of the org's messages due at `now` for `worker` until `until`: none
    /// another worker holds (its claim not yet run out), each claimed once.
    async fn claim_messages(
        &mut self,
        org: OrgId,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u64,
    ) -> StoreResult<Vec<Message>>;
    /// Holds a message `worker` claimed until `until`, right before it is sent; `false` when
    /// the claim ran out and another worker took it (this one must not send it).
    async fn hold_message(
        &mut self,
        message: &Message,
        worker: &str,
        until: Timestamp,
    ) -> StoreResult<bool>;
    /// Writes what became of a message `worker` claimed (sent, suppressed, to try again,
    /// failed) and lets it go; `false` when the claim was lost (it ran out, and another worker
    /// took the message).
    async fn finish_message(&mut self, message: &Message, worker: &str) -> StoreResult<bool>;
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

fn status_of(text: &str) -> StoreResult<Status> {
    text.parse()
        .map_err(|err: rollcall_domain::FieldError| corrupt(err))
}

fn parse_all<R, T>(rows: Vec<R>, parse: impl Fn(R) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(parse).collect()
}

#[async_trait]
impl<B: Backend> LearningStore for SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> CourseColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EnrolmentColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> UserColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> CertificateColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EntryColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> MessageColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> TallyColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> UseColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <B::Db as Database>::Row>,
{
    async fn courses(&self, org: OrgId) -> StoreResult<Vec<Course>> {
        let mut q = Sql::<B>::new(format!(
            "select {COURSE_COLUMNS} from course where org_id = "
        ));
        q.bind(org.as_uuid()).push(" order by title, course_id");
        parse_all(
            q.fetch_all::<CourseColumns, _>(self.reader()).await?,
            CourseColumns::into_course,
        )
    }

    async fn course(&self, org: OrgId, id: CourseId) -> StoreResult<Option<Course>> {
        select_course::<B>(org, id)
            .fetch_optional::<CourseColumns, _>(self.reader())
            .await?
            .map(CourseColumns::into_course)
            .transpose()
    }

    async fn enrolment(
        &self,
        org: OrgId,
        course: CourseId,
        user: UserId,
    ) -> StoreResult<Option<Enrolment>> {
        select_enrolment::<B>(org, course, user)
            .fetch_optional::<EnrolmentColumns, _>(self.reader())
            .await?
            .map(EnrolmentColumns::into_enrolment)
            .transpose()
    }

    async fn user_enrolments(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Enrolment>> {
        let mut q = Sql::<B>::new(format!(
            "select {ENROLMENT_COLUMNS} from enrolment where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" order by enrolled_at desc, course_id");
        parse_all(
            q.fetch_all::<EnrolmentColumns, _>(self.reader()).await?,
            EnrolmentColumns::into_enrolment,
        )
    }

    async fn course_enrolments(
        &self,
        org: OrgId,
        course: CourseId,
        progress: Option<Progress>,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<(Enrolment, User)>> {
        let mut q = Sql::<B>::new(format!(
            "select {ENROLMENT_COLUMNS} from enrolment where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and course_id = ")
            .bind(course.as_uuid());
        q.push(match progress {
            None => "",
            Some(Progress::NotStarted) => " and started_at is null",
            Some(Progress::InProgress) => " and started_at is not null and completed_at is null",
            Some(Progress::Completed) => " and completed_at is not null",
        });
        if let Some(after) = after {
            q.push(" and user_id > ").bind(after.as_uuid());
        }
        q.push(" order by user_id limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let enrolments = parse_all(
            q.fetch_all::<EnrolmentColumns, _>(self.reader()).await?,
            EnrolmentColumns::into_enrolment,
        )?;
        if enrolments.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::<B>::new(format!(
            "select {USER_COLUMNS} from user_account where org_id = "
        ));
        q.bind(org.as_uuid()).push(" and user_id in ");
        q.row(true, enrolments.iter().map(|e| e.user_id.as_uuid().into()));
        let mut users: std::collections::HashMap<UserId, User> = parse_all(
            q.fetch_all::<UserColumns, _>(self.reader()).await?,
            UserColumns::into_user,
        )?
        .into_iter()
        .map(|u| (u.id(), u))
        .collect();
        Ok(enrolments
            .into_iter()
            .filter_map(|e| Some((users.remove(&e.user_id)?, e)))
            .map(|(u, e)| (e, u))
            .collect())
    }

    async fn course_tally(
        &self,
        org: OrgId,
        course: CourseId,
    ) -> StoreResult<Vec<(Status, Tally)>> {
        let mut q = Sql::<B>::new(
            "select u.status, count(*) enrolled, count(e.started_at) started, \
             count(e.completed_at) completed from enrolment e join user_account u \
             on u.org_id = e.org_id and u.user_id = e.user_id where e.org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" and e.course_id = ")
            .bind(course.as_uuid())
            .push(" group by u.status");
        parse_all(
            q.fetch_all::<TallyColumns, _>(self.reader()).await?,
            |row| {
                Ok((
                    status_of(&row.status)?,
                    Tally {
                        enrolled: count(row.enrolled),
                        started: count(row.started),
                        completed: count(row.completed),
                    },
                ))
            },
        )
    }

    async fn certificate(&self, org: OrgId, id: CertificateId) -> StoreResult<Option<Certificate>> {
        let mut q = Sql::<B>::new(format!(
            "select {CERTIFICATE_COLUMNS} from certificate where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and certificate_id = ")
            .bind(id.as_uuid());
        q.fetch_optional::<CertificateColumns, _>(self.reader())
            .await?
            .map(CertificateColumns::into_certificate)
            .transpose()
    }

    async fn certificate_by_code(
        &self,
        org: OrgId,
        code: &VerificationCode,
    ) -> StoreResult<Option<Certificate>> {
        let mut q = Sql::<B>::new(format!(
            "select {CERTIFICATE_COLUMNS} from certificate where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and code = ")
            .bind(code.as_str());
        q.fetch_optional::<CertificateColumns, _>(self.reader())
            .await?
            .map(CertificateColumns::into_certificate)
            .transpose()
    }

    async fn user_certificates(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Certificate>> {
        let mut q = Sql::<B>::new(format!(
            "select {CERTIFICATE_COLUMNS} from certificate where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" order by issued_at desc");
        parse_all(
            q.fetch_all::<CertificateColumns, _>(self.reader()).await?,
            CertificateColumns::into_certificate,
        )
    }

    async fn credit_balance(&self, org: OrgId) -> StoreResult<i64> {
        let mut q = Sql::<B>::new("select balance from credit_account where org_id = ");
        q.bind(org.as_uuid());
        Ok(q.fetch_optional::<(i64,), _>(self.reader())
            .await?
            .map_or(0, |(balance,)| balance))
    }

    async fn credit_entries(&self, org: OrgId, limit: u64) -> StoreResult<Vec<CreditEntry>> {
        let mut q = Sql::<B>::new(format!(
            "select {ENTRY_COLUMNS} from credit_entry where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" order by at desc, entry_id desc limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        parse_all(
            q.fetch_all::<EntryColumns, _>(self.reader()).await?,
            EntryColumns::into_entry,
        )
    }

    async fn credit_use_by_course(&self, org: OrgId) -> StoreResult<Vec<CreditUse<CourseId>>> {
        let mut q = Sql::<B>::new(
            "select course_id of, cast(sum(amount) as bigint) credits, count(*) starts from credit_entry \
             where org_id = ",
        );
        q.bind(org.as_uuid()).push(
            " and course_id is not null and kind = 'consumption' group by course_id \
                   order by credits desc, course_id",
        );
        Ok(q.fetch_all::<UseColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(|row| CreditUse {
                of: CourseId::from_uuid(row.of),
                credits: row.credits,
                starts: row.starts,
            })
            .collect())
    }

    async fn credit_use_by_user(
        &self,
        org: OrgId,
        limit: u64,
    ) -> StoreResult<Vec<CreditUse<UserId>>> {
        let mut q = Sql::<B>::new(
            "select user_id of, cast(sum(amount) as bigint) credits, count(*) starts from credit_entry \
             where org_id = ",
        );
        q.bind(org.as_uuid())
            .push(
                " and user_id is not null and kind = 'consumption' group by user_id \
                   order by credits desc, user_id limit ",
            )
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        Ok(q.fetch_all::<UseColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(|row| CreditUse {
                of: UserId::from_uuid(row.of),
                credits: row.credits,
                starts: row.starts,
            })
            .collect())
    }

    async fn messages(
        &self,
        org: OrgId,
        state: Option<MessageState>,
        limit: u64,
    ) -> StoreResult<Vec<Message>> {
        let mut q = Sql::<B>::new(format!(
            "select {MESSAGE_COLUMNS} from outbox_message where org_id = "
        ));
        q.bind(org.as_uuid());
        if let Some(state) = state {
            q.push(" and state = ").bind(state.as_str());
        }
        q.push(" order by message_id desc limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        parse_all(
            q.fetch_all::<MessageColumns, _>(self.reader()).await?,
            MessageColumns::into_message,
        )
    }

    async fn user_messages(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Message>> {
        let mut q = Sql::<B>::new(format!(
            "select {MESSAGE_COLUMNS} from outbox_message where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" order by message_id desc");
        parse_all(
            q.fetch_all::<MessageColumns, _>(self.reader()).await?,
            MessageColumns::into_message,
        )
    }

    async fn orgs_with_mail_due(&self, now: Timestamp) -> StoreResult<Vec<OrgId>> {
        let mut q = Sql::<B>::new(
            "select o.org_id from org o where exists (select 1 from outbox_message m \
             where m.org_id = o.org_id and m.state = 'queued' and m.next_attempt_at <= ",
        );
        q.bind(micros(now)).push(") order by o.org_id");
        Ok(q.fetch_all::<(Uuid,), _>(self.reader())
            .await?
            .into_iter()
            .map(|(id,)| OrgId::from_uuid(id))
            .collect())
    }
}

fn select_course<B: Backend>(org: OrgId, id: CourseId) -> Sql<B> {
    let mut q = Sql::new(format!(
        "select {COURSE_COLUMNS} from course where org_id = "
    ));
    q.bind(org.as_uuid())
        .push(" and course_id = ")
        .bind(id.as_uuid());
    q
}

fn select_enrolment<B: Backend>(org: OrgId, course: CourseId, user: UserId) -> Sql<B> {
    let mut q = Sql::new(format!(
        "select {ENROLMENT_COLUMNS} from enrolment where org_id = "
    ));
    q.bind(org.as_uuid())
        .push(" and course_id = ")
        .bind(course.as_uuid())
        .push(" and user_id = ")
        .bind(user.as_uuid());
    q
}

/// The first half of a batch of notices' ids: the time in milliseconds, then 16 random bits,
/// and never the same twice in a process (two batches in one millisecond, say for one joiner
/// and two everyone-courses, get consecutive halves), so ids of different batches never meet.
fn batch_prefix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
    // The low bits of a fresh v7 id are random.
    let random = Uuid::now_v7().as_u128() & 0xffff;
    let fresh = (millis << 16) | u64::try_from(random).unwrap_or_default();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = fresh.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// ` and u.status in (…) and not enrolled [and among these people]`: whom an enrolment takes in
/// from `user_account u`.
fn taken_in<B: Backend>(q: &mut Sql<B>, enrol: &Enrol<'_>, users: Option<&[UserId]>) {
    q.push(" and u.status in ");
    q.row(true, enrol.statuses.iter().map(|s| s.as_str().into()));
    q.push(
        " and not exists (select 1 from enrolment e where e.org_id = u.org_id and e.course_id = ",
    )
    .bind(enrol.course.as_uuid())
    .push(" and e.user_id = u.user_id)");
    if let EnrolMethod::Roster(roster) = enrol.method {
        q.push(" and u.user_id in (select m.user_id from roster_member m where m.org_id = ")
            .bind(enrol.org.as_uuid())
            .push(" and m.roster_id = ")
            .bind(roster.as_uuid())
            .push(")");
    }
    if let Some(users) = users {
        q.push(" and u.user_id in ");
        q.row(true, users.iter().map(|u| u.as_uuid().into()));
    }
    if let Some(rule) = enrol.rule {
        q.push(" and ");
        crate::segment::rule_sql(q, rule);
    }
}

/// Enrols one batch of people: first their notices (who is taken in is decided by the same
/// condition before any of them is enrolled), then their enrolments.
async fn enrol_batch<B: Backend>(
    conn: &mut Conn<B>,
    enrol: &Enrol<'_>,
    users: Option<&[UserId]>,
) -> StoreResult<u64>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
{
    let org = enrol.org.as_uuid();
    // Each notice's id: the first half the batch's (see `batch_prefix`), the second half the
    // recipient's own (random in their id), so a batch's ids are unique and in order.
    let prefix = format!("{:016x}", batch_prefix());
    let mut q = Sql::<B>::new(format!(
        "insert into outbox_message ({MESSAGE_COLUMNS}) select u.org_id, "
    ));
    let (before, after) = B::derived_id("u.user_id");
    q.push(before).bind(prefix).push(after);
    q.push(", u.user_id, coalesce(u.email, ''), ")
        .bind(enrol.notice.subject.as_str())
        .push(", replace(")
        .bind(enrol.notice.body.as_str())
        .push(", ")
        .bind(enrol.name_marker)
        .push(", u.given_name), ")
        .bind(enrol.notice.kind.as_str())
        .push(", case when u.email is null");
    for (status, _) in enrol.suppressed {
        q.push(" or u.status = ").bind(status.as_str());
    }
    q.push(" then 'suppressed' else 'queued' end, case");
    for (status, why) in enrol.suppressed {
        q.push(" when u.status = ")
            .bind(status.as_str())
            .push(" then ")
            .bind(why.as_str());
    }
    q.push(" when u.email is null then ")
        .bind(enrol.no_address)
        .push(" end, 0, ")
        .bind(micros(enrol.at))
        .push(", ")
        .bind(micros(enrol.at))
        .push(", null from user_account u where u.org_id = ")
        .bind(org);
    taken_in(&mut q, enrol, users);
    q.push(" order by u.user_id");
    q.execute(&mut *conn).await?;

    let mut q = Sql::<B>::new(
        "insert into enrolment (org_id, course_id, user_id, method, roster_id, enrolled_by, \
         enrolled_at) select u.org_id, ",
    );
    q.bind(enrol.course.as_uuid())
        .push(", u.user_id, ")
        .bind(enrol.method.as_str())
        .push(", ")
        .bind(enrol.method.roster().map(|r| r.as_uuid()))
        .push(", ")
        .bind(enrol.by)
        .push(", ")
        .bind(micros(enrol.at))
        .push(" from user_account u where u.org_id = ")
        .bind(org);
    taken_in(&mut q, enrol, users);
    q.push(" order by u.user_id");
    q.execute(&mut *conn).await
}

#[async_trait]
impl<B: Backend> LearningWork for SqlUnitOfWork<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> CourseColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EnrolmentColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> MessageColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
{
    async fn insert_course(&mut self, course: &Course) -> StoreResult<()> {
        let mut q = Sql::<B>::new(format!("insert into course ({COURSE_COLUMNS}) values "));
        q.row(true, CourseColumns::values(course)?);
        q.execute(self.conn()).await.map(drop)
    }

    async fn update_course(&mut self, course: &Course, expected_version: i64) -> StoreResult<()> {
        let values = CourseColumns::values(course)?;
        let mut q = Sql::<B>::new("update course set ");
        for (i, (column, value)) in COURSE_COLUMNS.split(", ").zip(values).enumerate().skip(2) {
            if i > 2 {
                q.push(", ");
            }
            q.push(column).push(" = ").bind(value);
        }
        q.push(" where org_id = ")
            .bind(course.org_id.as_uuid())
            .push(" and course_id = ")
            .bind(course.id.as_uuid())
            .push(" and version = ")
            .bind(expected_version);
        if q.execute(self.conn()).await? == 1 {
            return Ok(());
        }
        let current = self
            .lock_course(course.org_id, course.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Err(StoreError::Stale {
            current: current.version,
        })
    }

    async fn lock_course(&mut self, org: OrgId, id: CourseId) -> StoreResult<Option<Course>> {
        let mut q = select_course::<B>(org, id);
        q.push(B::LOCK_ROW);
        q.fetch_optional::<CourseColumns, _>(self.conn())
            .await?
            .map(CourseColumns::into_course)
            .transpose()
    }

    async fn insert_messages(&mut self, messages: &[Message]) -> StoreResult<()> {
        for chunk in messages.chunks(200) {
            let mut q = Sql::<B>::new(format!(
                "insert into outbox_message ({MESSAGE_COLUMNS}) values "
            ));
            for (i, m) in chunk.iter().enumerate() {
                q.row(i == 0, MessageColumns::values(m));
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    async fn everyone_courses(&mut self, org: OrgId) -> StoreResult<Vec<Course>> {
        let mut q = Sql::<B>::new(format!(
            "select {COURSE_COLUMNS} from course where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and everyone_since is not null and retired = ")
            .bind(false)
            .push(" order by course_id");
        parse_all(
            q.fetch_all::<CourseColumns, _>(self.conn()).await?,
            CourseColumns::into_course,
        )
    }

    async fn enrol(&mut self, enrol: &Enrol<'_>) -> StoreResult<u64> {
        let enrolled = match enrol.users {
            None => enrol_batch::<B>(self.conn(), enrol, None).await?,
            Some(users) => {
                let mut enrolled = 0;
                for chunk in users.chunks(500) {
                    enrolled += enrol_batch::<B>(self.conn(), enrol, Some(chunk)).await?;
                }
                enrolled
            }
        };
        self.enrolled += enrolled;
        Ok(enrolled)
    }

    async fn lock_enrolment(
        &mut self,
        org: OrgId,
        course: CourseId,
        user: UserId,
    ) -> StoreResult<Option<Enrolment>> {
        let mut q = select_enrolment::<B>(org, course, user);
        q.push(B::LOCK_ROW);
        q.fetch_optional::<EnrolmentColumns, _>(self.conn())
            .await?
            .map(EnrolmentColumns::into_enrolment)
            .transpose()
    }

    async fn start_enrolment(
        &mut self,
        org: OrgId,
        course: CourseId,
        user: UserId,
        at: Timestamp,
        credits: u32,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update enrolment set started_at = ");
        q.bind(micros(at))
            .push(", credits_used = ")
            .bind(i64::from(credits))
            .push(", version = version + 1 where org_id = ")
            .bind(org.as_uuid())
            .push(" and course_id = ")
            .bind(course.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" and started_at is null");
        Ok(q.execute(self.conn()).await? == 1)
    }

    async fn update_enrolment(&mut self, e: &Enrolment, expected_version: i64) -> StoreResult<()> {
        let lessons: Vec<Uuid> = e.lessons_done.iter().map(LessonId::as_uuid).collect();
        let mut q = Sql::<B>::new("update enrolment set lessons_done = ");
        q.bind(serde_json::to_string(&lessons).map_err(corrupt)?)
            .push(", completed_at = ")
            .bind(e.completed_at.map(micros))
            .push(", score = ")
            .bind(e.score.map(i64::from))
            .push(", attempts = ")
            .bind(i64::from(e.attempts))
            .push(", version = ")
            .bind(e.version)
            .push(" where org_id = ")
            .bind(e.org_id.as_uuid())
            .push(" and course_id = ")
            .bind(e.course_id.as_uuid())
            .push(" and user_id = ")
            .bind(e.user_id.as_uuid())
            .push(" and version = ")
            .bind(expected_version);
        if q.execute(self.conn()).await? == 1 {
            return Ok(());
        }
        let current = self
            .lock_enrolment(e.org_id, e.course_id, e.user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Err(StoreError::Stale {
            current: current.version,
        })
    }

    async fn take_credits(&mut self, org: OrgId, amount: u32) -> StoreResult<Result<i64, i64>> {
        let amount = i64::from(amount);
        let mut q = Sql::<B>::new("update credit_account set balance = balance - ");
        q.bind(amount)
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and balance >= ")
            .bind(amount)
            .push(" returning balance");
        if let Some((after,)) = q.fetch_optional::<(i64,), _>(self.conn()).await? {
            return Ok(Ok(after));
        }
        let mut q = Sql::<B>::new("select balance from credit_account where org_id = ");
        q.bind(org.as_uuid());
        let balance = q.fetch_optional::<(i64,), _>(self.conn()).await?;
        Ok(Err(balance.map_or(0, |(b,)| b)))
    }

    async fn add_credits(&mut self, org: OrgId, amount: u32) -> StoreResult<i64> {
        let mut q = Sql::<B>::new("insert into credit_account (org_id, balance) values ");
        q.row(true, [org.as_uuid().into(), i64::from(amount).into()]);
        q.push(" on conflict (org_id) do update set balance = credit_account.balance + ")
            .bind(i64::from(amount))
            .push(" returning balance");
        let (after,) = q
            .fetch_optional::<(i64,), _>(self.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(after)
    }

    async fn insert_credit_entry(&mut self, e: &CreditEntry) -> StoreResult<()> {
        let mut q = Sql::<B>::new(format!(
            "insert into credit_entry ({ENTRY_COLUMNS}) values "
        ));
        q.row(
            true,
            [
                e.org_id.as_uuid().into(),
                e.id.as_uuid().into(),
                micros(e.at).into(),
                e.kind.as_str().into(),
                i64::from(e.amount).into(),
                e.balance_after.into(),
                e.course_id.map(|c| c.as_uuid()).into(),
                e.user_id.map(|u| u.as_uuid()).into(),
                e.actor.as_str().into(),
                e.reason.as_str().into(),
            ],
        );
        q.execute(self.conn()).await.map(drop)
    }

    async fn insert_certificate(&mut self, c: &Certificate) -> StoreResult<()> {
        let mut q = Sql::<B>::new(format!(
            "insert into certificate ({CERTIFICATE_COLUMNS}) values "
        ));
        q.row(
            true,
            [
                c.org_id.as_uuid().into(),
                c.id.as_uuid().into(),
                c.user_id.as_uuid().into(),
                c.course_id.as_uuid().into(),
                c.code.as_str().into(),
                micros(c.issued_at).into(),
                c.learner_name.as_str().into(),
                c.course_title.as_str().into(),
            ],
        );
        q.execute(self.conn()).await.map(drop)
    }

    async fn claim_messages(
        &mut self,
        org: OrgId,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u64,
    ) -> StoreResult<Vec<Message>> {
        let mut q = Sql::<B>::new(format!(
            "select {MESSAGE_COLUMNS} from outbox_message where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and state = 'queued' and next_attempt_at <= ")
            .bind(micros(now))
            .push(" and (claimed_until is null or claimed_until < ")
            .bind(micros(now))
            .push(") order by next_attempt_at, message_id limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .push(B::SKIP_LOCKED);
        let messages = parse_all(
            q.fetch_all::<MessageColumns, _>(self.conn()).await?,
            MessageColumns::into_message,
        )?;
        if messages.is_empty() {
            return Ok(messages);
        }
        let mut q = Sql::<B>::new("update outbox_message set claimed_by = ");
        q.bind(worker)
            .push(", claimed_until = ")
            .bind(micros(until))
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and message_id in ");
        q.row(true, messages.iter().map(|m| m.id.as_uuid().into()));
        q.execute(self.conn()).await?;
        Ok(messages)
    }

    async fn hold_message(
        &mut self,
        m: &Message,
        worker: &str,
        until: Timestamp,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update outbox_message set claimed_until = ");
        q.bind(micros(until))
            .push(" where org_id = ")
            .bind(m.org_id.as_uuid())
            .push(" and message_id = ")
            .bind(m.id.as_uuid())
            .push(" and claimed_by = ")
            .bind(worker)
            .push(" and state = 'queued'");
        Ok(q.execute(self.conn()).await? == 1)
    }

    async fn finish_message(&mut self, m: &Message, worker: &str) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update outbox_message set state = ");
        q.bind(m.state.as_str())
            .push(", to_address = ")
            .bind(m.to.as_str())
            .push(", reason = ")
            .bind(m.reason.clone())
            .push(", attempts = ")
            .bind(i64::from(m.attempts))
            .push(", next_attempt_at = ")
            .bind(micros(m.next_attempt_at))
            .push(", sent_at = ")
            .bind(m.sent_at.map(micros))
            .push(", claimed_by = null, claimed_until = null where org_id = ")
            .bind(m.org_id.as_uuid())
            .push(" and message_id = ")
            .bind(m.id.as_uuid())
            .push(" and claimed_by = ")
            .bind(worker);
        Ok(q.execute(self.conn()).await? == 1)
    }
}
