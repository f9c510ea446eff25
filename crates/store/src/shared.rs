//! The SQL both backends share, written once over sqlx's [`Database`] trait.
//!
//! [`SqlStore`] implements [`Store`] and [`UnitOfWork`] for any [`Backend`]. Queries are built
//! with [`Sql`], which writes each backend's own placeholders (`?` or `$n`), so the same text
//! serves SQLite and PostgreSQL. What truly differs (opening the database, migrations, search
//! plans, how a user's search entries are written) is asked of the backend.
//!
//! ## Adding a table
//!
//! Write its migration in both backends' `migrations/`, a `…Columns` row type in
//! [`crate::rows`], a method on [`UnitOfWork`] (writes) or [`Store`] (reads), and its query
//! once, below. The `where` clauses name every type the queries bind or read; a new column type
//! is one more line there.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use rollcall_domain::provisioning::{
    Known, OrgsSent, Outcome, ProvisioningSettings, ReportLine, Roll, RunRecord, Safeguard, Said,
    Sent, SourceOrg, SourceSettings, Touch, Wanted,
};
use rollcall_domain::roster::{
    Enrolment, MemberRole, Roster, RosterChanges, RosterState, RosterUndo, Seat,
};
use rollcall_domain::{
    ApiToken, AuditEvent, Org, OrgId, OrgSlug, RosterId, RunId, Session, Source, SourceId, Status,
    Timestamp, TokenId, User, UserId,
};
use sqlx::{Database, Executor, FromRow, IntoArguments, Pool};
use uuid::Uuid;

use crate::learning_rows::{
    CertificateColumns, CourseColumns, EnrolmentColumns, EntryColumns, MessageColumns,
    TallyColumns, UseColumns,
};
use crate::rows::{
    EVENT_COLUMNS, EventColumns, KnownColumns, MemberColumns, MembershipColumns, OrgColumns,
    ROLL_COLUMNS, ROSTER_COLUMNS, RUN_COLUMNS, RollColumns, RosterColumns, RunColumns,
    RunPartColumns, SOURCE_COLUMNS, SessionColumns, SessionUserColumns, SourceColumns,
    TOUCH_COLUMNS, ThrottleRun, TokenColumns, TouchColumns, USER_COLUMNS, UserColumns, corrupt,
    member_role, micros, select_known, user_columns_of_u,
};
use crate::sql::{Sql, Value};
use crate::{BROAD_PREFIX_ENTRIES, Store, StoreError, StoreResult, UnitOfWork, UserQuery};

pub use crate::backend::{Backend, Conn, JsonStyle, Opened};

/// Units of work that insert at least this many users are followed by
/// [`Backend::after_large_write`].
const LARGE_BATCH: usize = 10_000;

/// Rollcall's store on a SQL database.
pub struct SqlStore<B: Backend> {
    reader: Pool<B::Db>,
    writer: Pool<B::Db>,
    backend: Arc<B>,
    search_cutoff: i64,
}

impl<B: Backend> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &B::NAME)
            .finish()
    }
}

impl<B: Backend> SqlStore<B> {
    /// Opens (and on SQLite creates) the database at `url`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opened = B::open(url).await?;
        Ok(Self {
            reader: opened.reader,
            writer: opened.writer,
            backend: Arc::new(opened.backend),
            search_cutoff: BROAD_PREFIX_ENTRIES,
        })
    }

    /// Changes how many search-index entries make a query word "broad" (see
    /// [`BROAD_PREFIX_ENTRIES`]). Tests use it to drive each plan on a small population.
    #[must_use]
    pub fn with_search_cutoff(mut self, entries: i64) -> Self {
        self.search_cutoff = entries;
        self
    }

    pub(crate) fn reader(&self) -> &Pool<B::Db> {
        &self.reader
    }

    pub(crate) fn backend_state(&self) -> &B {
        &self.backend
    }

    /// The writer's pool, for a backend's own work beside the store (the benchmark's baseline).
    pub fn writer(&self) -> &Pool<B::Db> {
        &self.writer
    }
}

impl<B: Backend> SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> (Uuid, Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
{
    /// Applies the migrations that have not run yet, then fills in what SQL alone cannot.
    pub async fn migrate(&self) -> StoreResult<()> {
        B::migrate(&self.writer).await?;
        self.fill_username_skeletons().await
    }

    /// Gives rows written before usernames had skeletons theirs (migration 0005), in one
    /// transaction. Where two existing usernames already look alike, the older keeps the
    /// skeleton and the other gets a placeholder no real skeleton can equal (`!` and its id),
    /// logged: its owner can still sign in and be changed, and a rename is checked. Rows done
    /// are never read again.
    async fn fill_username_skeletons(&self) -> StoreResult<()> {
        let mut tx = B::begin(&self.writer).await?;
        let rows = Sql::<B>::new(
            "select org_id, user_id, username from user_account \
             where username is not null and username_skeleton is null \
             order by org_id, created_at, user_id",
        )
        .fetch_all::<(Uuid, Uuid, String), _>(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut seen: std::collections::HashSet<(Uuid, String)> = Sql::<B>::new(
            "select org_id, username_skeleton from user_account \
             where username_skeleton is not null",
        )
        .fetch_all::<(Uuid, String), _>(&mut *tx)
        .await?
        .into_iter()
        .collect();
        for (org, user, username) in &rows {
            let mut skeleton = rollcall_domain::text::skeleton(username);
            if !seen.insert((*org, skeleton.clone())) {
                tracing::warn!(%user, "a username looks like an older one of its org");
                skeleton = format!("!{user}");
            }
            let mut q = Sql::<B>::new("update user_account set username_skeleton = ");
            q.bind(skeleton)
                .push(" where org_id = ")
                .bind(*org)
                .push(" and user_id = ")
                .bind(*user);
            q.execute(&mut *tx).await?;
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        tracing::info!(users = rows.len(), "username skeletons filled in");
        Ok(())
    }
}

/// A unit of work on a SQL database: one transaction on the writer.
pub struct SqlUnitOfWork<B: Backend> {
    tx: sqlx::Transaction<'static, B::Db>,
    writer: Pool<B::Db>,
    backend: Arc<B>,
    inserted_users: usize,
    /// Enrolments this unit of work wrote (an everyone-course's are many).
    pub(crate) enrolled: u64,
    /// The user rows this unit of work has locked, as they stand in it: an update compares
    /// with these instead of reading the row again.
    locked: HashMap<UserId, UserColumns>,
    /// The rows `provisioning_users` read last with a lock: a batch update takes them from here
    /// rather than reading them again. One part's people at most: each read replaces them.
    part: HashMap<UserId, UserColumns>,
}

impl<B: Backend> SqlUnitOfWork<B> {
    /// The transaction's connection.
    pub(crate) fn conn(&mut self) -> &mut Conn<B> {
        &mut self.tx
    }
}

impl<B: Backend> SqlUnitOfWork<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
{
    /// Writes `run`'s report, a part at a time (see [`RunColumns::report_parts`]), over any
    /// it had.
    async fn put_report(&mut self, run: &RunRecord) -> StoreResult<()> {
        let mut q = Sql::<B>::new("delete from import_run_report where org_id = ");
        q.bind(run.org_id.as_uuid())
            .push(" and run_id = ")
            .bind(run.id.as_uuid());
        q.execute(&mut *self.tx).await?;
        self.put_report_parts(run.org_id, run.id, 0, &run.report)
            .await
    }

    /// Writes `lines` as parts of a run's report, numbered from `first`.
    async fn put_report_parts(
        &mut self,
        org: OrgId,
        run: RunId,
        first: i64,
        lines: &[ReportLine],
    ) -> StoreResult<()> {
        for (part, lines) in (first..).zip(RunColumns::report_parts(lines)) {
            let mut q = Sql::<B>::new(
                "insert into import_run_report (org_id, run_id, part, lines) values ",
            );
            q.row(
                true,
                [
                    org.as_uuid().into(),
                    run.as_uuid().into(),
                    part.into(),
                    lines.into(),
                ],
            );
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> UserColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EventColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> OrgColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> SessionColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> SessionUserColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> TokenColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> ThrottleRun: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> SourceColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> KnownColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> RollColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> RunColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> RunPartColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> TouchColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> RosterColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> MembershipColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> MemberColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::segment_rows::SegmentRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::report_rows::ReportColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::report_rows::FigureColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::report_rows::CourseFigureColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, String, i64, i64, i64, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, i64, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, i64, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, String, Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, String, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64, i64, bool): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> CourseColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::scim_rows::TokenRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::scim_rows::SettingsRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::scim_rows::CallerRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::scim_rows::RecordRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EnrolmentColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> CertificateColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EntryColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> MessageColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> TallyColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> UseColumns: FromRow<'r, <B::Db as Database>::Row>,
{
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn one_writer(&self) -> bool {
        B::ONE_WRITER
    }

    async fn ping(&self) -> StoreResult<()> {
        Sql::<B>::new("select cast(1 as bigint)")
            .fetch_optional::<(i64,), _>(&self.reader)
            .await
            .map(drop)
    }

    async fn begin(&self) -> StoreResult<Box<dyn UnitOfWork>> {
        Ok(Box::new(SqlUnitOfWork {
            tx: B::begin(&self.writer).await?,
            writer: self.writer.clone(),
            backend: self.backend.clone(),
            inserted_users: 0,
            enrolled: 0,
            locked: HashMap::new(),
            part: HashMap::new(),
        }))
    }

    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        let mut q = Sql::<B>::new("select * from org where org_id = ");
        q.bind(id.as_uuid());
        q.fetch_optional::<OrgColumns, _>(&self.reader)
            .await?
            .map(OrgColumns::into_org)
            .transpose()
    }

    async fn org_by_slug(&self, slug: &OrgSlug) -> StoreResult<Option<Org>> {
        let mut q = Sql::<B>::new("select * from org where slug = ");
        q.bind(slug.as_str());
        q.fetch_optional::<OrgColumns, _>(&self.reader)
            .await?
            .map(OrgColumns::into_org)
            .transpose()
    }

    async fn only_org(&self) -> StoreResult<Option<Org>> {
        let mut orgs = Sql::<B>::new("select * from org limit 2")
            .fetch_all::<OrgColumns, _>(&self.reader)
            .await?;
        match (orgs.pop(), orgs.is_empty()) {
            (Some(org), true) => org.into_org().map(Some),
            _ => Ok(None),
        }
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        select_user::<B>(org, id)
            .fetch_optional::<UserColumns, _>(&self.reader)
            .await?
            .map(UserColumns::into_user)
            .transpose()
    }

    async fn user_by_login(&self, org: OrgId, login: &str) -> StoreResult<Option<User>> {
        let key = rollcall_domain::text::login_key(login);
        if key.contains('\0') {
            // No login holds a NUL, and PostgreSQL refuses one in text.
            return Ok(None);
        }
        let mut q = Sql::<B>::new(format!(
            "select {USER_COLUMNS} from user_account where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and (username_key = ")
            .bind(key.clone())
            .push(" or email_key = ")
            .bind(key.clone())
            // Someone's username wins over someone else's identical e-mail.
            .push(") order by case when username_key = ")
            .bind(key)
            .push(" then 0 else 1 end limit 1");
        q.fetch_optional::<UserColumns, _>(&self.reader)
            .await?
            .map(UserColumns::into_user)
            .transpose()
    }

    async fn sources(&self, org: OrgId) -> StoreResult<Vec<String>> {
        // Hops along the (org_id, source, external_id) index, one seek per source, so it costs
        // the same with a thousand users or a million.
        let mut q = Sql::<B>::new(
            "with recursive s(source) as (select min(source) from user_account where org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" union all select (select min(source) from user_account where org_id = ")
            .bind(org.as_uuid())
            .push(" and source > s.source) from s where s.source is not null) ")
            .push("select source from s where source is not null");
        let rows = q.fetch_all::<(String,), _>(&self.reader).await?;
        Ok(rows.into_iter().map(|(source,)| source).collect())
    }

    async fn list_users(&self, org: OrgId, query: &UserQuery) -> StoreResult<Vec<User>> {
        self.backend
            .list_users(&self.reader, self.search_cutoff, org, query)
            .await
    }

    async fn count_users(&self, org: OrgId, query: &UserQuery, cap: u64) -> StoreResult<u64> {
        self.backend
            .count_users(&self.reader, org, query, cap)
            .await
    }

    async fn user_events(&self, org: OrgId, user: UserId) -> StoreResult<Vec<AuditEvent>> {
        let mut q = Sql::<B>::new(format!(
            "select {EVENT_COLUMNS} from audit_event where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" order by at, event_id");
        q.fetch_all::<EventColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(EventColumns::into_event)
            .collect()
    }

    async fn session_user(
        &self,
        org: OrgId,
        digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>> {
        let mut q = Sql::<B>::new(format!(
            "select s.digest, s.csrf_token, s.created_at as session_created_at, s.expires_at, {} \
             from session s join user_account u \
             on u.org_id = s.org_id and u.user_id = s.user_id where s.org_id = ",
            user_columns_of_u()
        ));
        q.bind(org.as_uuid())
            .push(" and s.digest = ")
            .bind(digest)
            .push(" and s.expires_at > ")
            .bind(micros(now));
        let Some(row) = q
            .fetch_optional::<SessionUserColumns, _>(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        let user = row.user.into_user()?;
        let session = row.session.into_session(&user)?;
        Ok(Some((session, user)))
    }

    async fn user_sessions(&self, org: OrgId, user: UserId) -> StoreResult<Vec<Session>> {
        let Some(owner) = Store::user(self, org, user).await? else {
            return Ok(Vec::new());
        };
        let mut q = Sql::<B>::new(
            "select digest, csrf_token, created_at as session_created_at, expires_at \
             from session where org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" order by created_at, digest");
        q.fetch_all::<SessionColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(|row| row.into_session(&owner))
            .collect()
    }

    async fn provisioning_sources(&self, org: OrgId) -> StoreResult<Vec<SourceSettings>> {
        let mut q = Sql::<B>::new(format!(
            "select {SOURCE_COLUMNS} from source where org_id = "
        ));
        q.bind(org.as_uuid()).push(" order by name");
        q.fetch_all::<SourceColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(SourceColumns::into_source)
            .collect()
    }

    async fn source_by_name(
        &self,
        org: OrgId,
        name: &Source,
    ) -> StoreResult<Option<SourceSettings>> {
        let mut q = Sql::<B>::new(format!(
            "select {SOURCE_COLUMNS} from source where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and name = ")
            .bind(name.as_str());
        q.fetch_optional::<SourceColumns, _>(&self.reader)
            .await?
            .map(SourceColumns::into_source)
            .transpose()
    }

    async fn source_roll(&self, org: OrgId, source: &Source) -> StoreResult<Roll> {
        if let Some(roll) = self.backend.source_roll(&self.reader, org, source).await? {
            return Ok(roll);
        }
        let mut q = Sql::<B>::new(format!(
            "select {ROLL_COLUMNS} from user_account u left join source_said s \
             on s.org_id = u.org_id and s.user_id = u.user_id where u.org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and u.source = ")
            .bind(source.as_str());
        let users = q
            .fetch_all::<RollColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(RollColumns::into_enrolled)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Roll::new(users))
    }

    async fn source_users_by_external_id(
        &self,
        org: OrgId,
        source: &Source,
        external_ids: &[String],
    ) -> StoreResult<Vec<(String, UserId)>> {
        let mut found = Vec::with_capacity(external_ids.len());
        for chunk in external_ids.chunks(500) {
            let mut q =
                Sql::<B>::new("select user_id, external_id from user_account where org_id = ");
            q.bind(org.as_uuid())
                .push(" and source = ")
                .bind(source.as_str())
                .push(" and external_id in ")
                .row(true, chunk.iter().map(|id| id.as_str().into()));
            found.extend(
                q.fetch_all::<(Uuid, String), _>(&self.reader)
                    .await?
                    .into_iter()
                    .map(|(id, external_id)| (external_id, UserId::from_uuid(id))),
            );
        }
        Ok(found)
    }

    async fn provisioning_known(&self, org: OrgId, wanted: &Wanted) -> StoreResult<Vec<Known>> {
        if let Some(known) = self
            .backend
            .provisioning_known(&self.reader, org, wanted)
            .await?
        {
            return Ok(known);
        }
        // First the ids the values name (narrow: one column a user), then each user once, whole.
        let texts =
            |list: &[String]| -> Vec<Value> { list.iter().map(|t| t.as_str().into()).collect() };
        let lookups = [
            (
                "external_id",
                Some(Source::MANUAL),
                texts(&wanted.manual_external_ids),
            ),
            ("username_key", None, texts(&wanted.username_keys)),
            ("username_skeleton", None, texts(&wanted.username_skeletons)),
            ("email_key", None, texts(&wanted.email_keys)),
        ];
        let mut ids: Vec<Uuid> = wanted.ids.iter().map(UserId::as_uuid).collect();
        for (column, source, values) in lookups {
            for chunk in values.chunks(500) {
                let mut q = Sql::<B>::new("select user_id from user_account where org_id = ");
                q.bind(org.as_uuid());
                if let Some(source) = source {
                    q.push(" and source = ").bind(source);
                }
                q.push(format!(" and {column} in "));
                q.row(true, chunk.iter().cloned());
                ids.extend(
                    q.fetch_all::<(Uuid,), _>(&self.reader)
                        .await?
                        .into_iter()
                        .map(|(id,)| id),
                );
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut known = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let q = select_known_of::<B>(org, chunk.iter().copied());
            for row in q.fetch_all::<KnownColumns, _>(&self.reader).await? {
                known.push(row.into_known()?);
            }
        }
        Ok(known)
    }

    async fn rosters(&self, org: OrgId) -> StoreResult<Vec<Roster>> {
        let mut q = Sql::<B>::new(format!(
            "select {ROSTER_COLUMNS} from roster where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" order by title, code, roster_id");
        Ok(q.fetch_all::<RosterColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(RosterColumns::into_roster)
            .collect())
    }

    async fn memberships(
        &self,
        org: OrgId,
    ) -> StoreResult<Vec<(RosterId, UserId, MemberRole, Status)>> {
        let mut q = Sql::<B>::new(
            "select m.roster_id, m.user_id, m.role, u.status from roster_member m \
             join user_account u on u.org_id = m.org_id and u.user_id = m.user_id \
             where m.org_id = ",
        );
        q.bind(org.as_uuid());
        q.fetch_all::<MembershipColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(|row| {
                Ok((
                    RosterId::from_uuid(row.roster_id),
                    UserId::from_uuid(row.user_id),
                    member_role(&row.role)?,
                    row.status
                        .parse()
                        .map_err(|err: rollcall_domain::FieldError| StoreError::Corrupt {
                            what: err.to_string(),
                        })?,
                ))
            })
            .collect()
    }

    async fn roster_members(
        &self,
        org: OrgId,
        roster: RosterId,
    ) -> StoreResult<Vec<(User, MemberRole)>> {
        let mut q = Sql::<B>::new(format!(
            "select {}, m.role from roster_member m join user_account u \
             on u.org_id = m.org_id and u.user_id = m.user_id where m.org_id = ",
            user_columns_of_u()
        ));
        q.bind(org.as_uuid())
            .push(" and m.roster_id = ")
            .bind(roster.as_uuid());
        q.fetch_all::<MemberColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(|row| Ok((row.user.into_user()?, member_role(&row.role)?)))
            .collect()
    }

    async fn drop_folder_sources(&self) -> StoreResult<Vec<SourceSettings>> {
        let q = Sql::<B>::new(format!(
            "select {SOURCE_COLUMNS} from source where drop_folder is not null \
             order by org_id, name"
        ));
        q.fetch_all::<SourceColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(SourceColumns::into_source)
            .collect()
    }

    async fn provisioning_settings(&self, org: OrgId) -> StoreResult<ProvisioningSettings> {
        let mut q = Sql::<B>::new(
            "select safeguard_percent, safeguard_floor, apply_rest_when_held \
             from provisioning_settings where org_id = ",
        );
        q.bind(org.as_uuid());
        let Some((percent, floor, apply_rest_when_held)) = q
            .fetch_optional::<(i64, i64, bool), _>(&self.reader)
            .await?
        else {
            return Ok(ProvisioningSettings::default());
        };
        let safeguard = u32::try_from(percent)
            .ok()
            .zip(usize::try_from(floor).ok())
            .and_then(|(percent, floor)| Safeguard::new(percent, floor).ok())
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("safeguard of {percent}% and {floor} people"),
            })?;
        Ok(ProvisioningSettings {
            safeguard,
            apply_rest_when_held,
        })
    }

    async fn run_touches(&self, org: OrgId, run: RunId) -> StoreResult<Vec<Touch>> {
        let mut q = Sql::<B>::new(format!(
            "select {TOUCH_COLUMNS} from run_touch where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(run.as_uuid())
            .push(" order by user_id");
        q.fetch_all::<TouchColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(TouchColumns::into_touch)
            .collect()
    }

    async fn run_roster_changes(
        &self,
        org: OrgId,
        run: RunId,
    ) -> StoreResult<Option<RosterChanges>> {
        let mut q = Sql::<B>::new("select changes from run_roster_changes where org_id = ");
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(run.as_uuid());
        q.fetch_optional::<(String,), _>(&self.reader)
            .await?
            .map(|(text,)| serde_json::from_str(&text).map_err(corrupt))
            .transpose()
    }

    async fn held_file(&self, org: OrgId, run: RunId) -> StoreResult<Option<Vec<u8>>> {
        let mut q = Sql::<B>::new("select file from held_file where org_id = ");
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(run.as_uuid());
        Ok(q.fetch_optional::<(Vec<u8>,), _>(&self.reader)
            .await?
            .map(|(file,)| file))
    }

    async fn runs(
        &self,
        org: OrgId,
        source: Option<SourceId>,
        limit: u64,
        reports: bool,
    ) -> StoreResult<Vec<RunRecord>> {
        let columns = if reports {
            RUN_COLUMNS.to_owned()
        } else {
            RUN_COLUMNS.replace("report,", "'[]' as report,")
        };
        let mut q = Sql::<B>::new(format!("select {columns} from import_run where org_id = "));
        q.bind(org.as_uuid());
        if let Some(source) = source {
            q.push(" and source_id = ").bind(source.as_uuid());
        }
        q.push(" order by started_at desc, run_id desc limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        if !reports {
            return q
                .fetch_all::<RunColumns, _>(&self.reader)
                .await?
                .into_iter()
                .map(RunColumns::into_run)
                .collect();
        }
        // The runs and their reports' parts, by one statement.
        q.wrap(|runs| RunPartColumns::select(runs, "r.started_at desc, r.run_id desc"));
        RunPartColumns::into_runs(q.fetch_all::<RunPartColumns, _>(&self.reader).await?)
    }

    async fn run(&self, org: OrgId, id: RunId) -> StoreResult<Option<RunRecord>> {
        let mut q = Sql::<B>::new(format!(
            "select {RUN_COLUMNS} from import_run where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(id.as_uuid());
        // The run and its report's parts, by one statement.
        q.wrap(|run| RunPartColumns::select(run, "r.run_id"));
        let rows = q.fetch_all::<RunPartColumns, _>(&self.reader).await?;
        Ok(RunPartColumns::into_runs(rows)?.into_iter().next())
    }

    async fn token_by_digest(&self, org: OrgId, digest: &str) -> StoreResult<Option<ApiToken>> {
        let mut q = Sql::<B>::new("select * from api_token where org_id = ");
        q.bind(org.as_uuid()).push(" and digest = ").bind(digest);
        q.fetch_optional::<TokenColumns, _>(&self.reader)
            .await?
            .map(TokenColumns::into_token)
            .transpose()
    }

    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>> {
        let mut q = Sql::<B>::new("select * from api_token where org_id = ");
        q.bind(org.as_uuid()).push(" order by created_at, token_id");
        q.fetch_all::<TokenColumns, _>(&self.reader)
            .await?
            .into_iter()
            .map(TokenColumns::into_token)
            .collect()
    }
}

/// The users of `org` with these ids, each with what their source last said (`u` is the user).
fn select_known_of<B: Backend>(org: OrgId, ids: impl IntoIterator<Item = Uuid>) -> Sql<B> {
    let mut q = Sql::<B>::new(select_known());
    q.bind(org.as_uuid()).push(" and u.user_id in ");
    q.row(true, ids.into_iter().map(Value::from));
    q
}

/// `select <user columns> from user_account where org_id = … and user_id = …`.
fn select_user<B: Backend>(org: OrgId, id: UserId) -> Sql<B> {
    let mut q = Sql::new(format!(
        "select {USER_COLUMNS} from user_account where org_id = "
    ));
    q.bind(org.as_uuid())
        .push(" and user_id = ")
        .bind(id.as_uuid());
    q
}

/// The columns `row` changes from `old`, with the search entries when the backend keeps them in
/// the row; `true` when they live in a table of their own and [`Backend::reindex_users`] must
/// rewrite them.
fn changes_of<B: Backend>(
    old: &UserColumns,
    row: &UserColumns,
) -> (Vec<(&'static str, Value)>, bool) {
    let mut changed = old.changed_columns(row);
    if old.search_text == row.search_text {
        return (changed, false);
    }
    match B::search_column(row) {
        Some(search) => {
            changed.push(search);
            (changed, false)
        }
        None => (changed, true),
    }
}

#[async_trait]
impl<B: Backend> UnitOfWork for SqlUnitOfWork<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> KnownColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> UserColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> ThrottleRun: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> RosterColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, String, Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, String, String): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> CourseColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EnrolmentColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> MessageColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> crate::scim_rows::RecordRow: FromRow<'r, <B::Db as Database>::Row>,
{
    async fn insert_org(&mut self, org: &Org) -> StoreResult<()> {
        let mut q = Sql::<B>::new("insert into org (org_id, slug, name, created_at) values ");
        q.row(
            true,
            [
                org.id.as_uuid().into(),
                org.slug.as_str().into(),
                org.name.as_str().into(),
                micros(org.created_at).into(),
            ],
        );
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn user(&mut self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        let mut q = select_user::<B>(org, id);
        q.push(B::LOCK_ROW);
        let Some(row) = q.fetch_optional::<UserColumns, _>(&mut *self.tx).await? else {
            return Ok(None);
        };
        self.locked.insert(id, row.clone());
        row.into_user().map(Some)
    }

    async fn provisioning_users(
        &mut self,
        org: OrgId,
        ids: &[UserId],
        lock: bool,
    ) -> StoreResult<Vec<Known>> {
        let mut known = Vec::with_capacity(ids.len());
        if lock {
            self.part.clear();
        }
        for chunk in ids.chunks(500) {
            let mut q = select_known_of::<B>(org, chunk.iter().map(UserId::as_uuid));
            if lock && !B::LOCK_ROW.is_empty() {
                // The user's row only: their source's, joined, may be missing.
                q.push(B::LOCK_ROW).push(" of u");
            }
            for row in q.fetch_all::<KnownColumns, _>(&mut *self.tx).await? {
                if lock {
                    self.part
                        .insert(UserId::from_uuid(row.user.user_id), row.user.clone());
                }
                known.push(row.into_known()?);
            }
        }
        Ok(known)
    }

    async fn insert_users(&mut self, org: OrgId, users: &[User]) -> StoreResult<()> {
        if let Some(stranger) = users.iter().find(|user| user.org_id() != org) {
            return Err(StoreError::Corrupt {
                what: format!("a bulk insert into one org held user {}", stranger.id()),
            });
        }
        let rows: Vec<UserColumns> = users.iter().map(UserColumns::from_user).collect();
        B::insert_user_rows(&mut self.tx, &rows).await?;
        self.inserted_users += users.len();
        Ok(())
    }

    async fn update_user(&mut self, user: &User, expected_version: i64) -> StoreResult<()> {
        let mut row = UserColumns::from_user(user);
        let old = match self.locked.remove(&user.id()) {
            Some(old) if old.org_id == row.org_id => Some(old),
            _ => {
                let mut q = select_user::<B>(user.org_id(), user.id());
                q.push(B::LOCK_ROW);
                q.fetch_optional::<UserColumns, _>(&mut *self.tx).await?
            }
        };
        let old = match old {
            None => return Err(StoreError::NotFound),
            Some(old) if old.version != expected_version => {
                return Err(StoreError::Stale {
                    current: old.version,
                });
            }
            Some(old) => old,
        };
        if old.username_key == row.username_key {
            // The same username keeps the skeleton it has (a placeholder, for one that looked
            // like another before skeletons were kept): only a new one is checked.
            row.username_skeleton.clone_from(&old.username_skeleton);
        }
        let (changed, reindex) = changes_of::<B>(&old, &row);
        if !changed.is_empty() {
            let mut q = Sql::<B>::new("update user_account set ");
            for (i, (column, value)) in changed.into_iter().enumerate() {
                q.push(if i == 0 { "" } else { ", " })
                    .push(column)
                    .push(" = ")
                    .bind(value)
                    .push(B::column_cast(column));
            }
            q.push(" where org_id = ")
                .bind(row.org_id)
                .push(" and user_id = ")
                .bind(row.user_id);
            q.execute(&mut *self.tx).await?;
        }
        if reindex {
            B::reindex_users(&mut self.tx, std::slice::from_ref(&row)).await?;
        }
        self.locked.insert(user.id(), row);
        Ok(())
    }

    async fn update_users(&mut self, users: &[(User, i64)]) -> StoreResult<()> {
        let Some((first, _)) = users.first() else {
            return Ok(());
        };
        let org = first.org_id();
        if users.iter().any(|(user, _)| user.org_id() != org) {
            return Err(StoreError::Corrupt {
                what: "one batch of users of several orgs".into(),
            });
        }
        // The rows as they are, locked: those this unit of work has not read yet, by chunks.
        let unread: Vec<Uuid> = users
            .iter()
            .map(|(user, _)| user.id())
            .filter(|id| {
                !self.locked.contains_key(id)
                    && self
                        .part
                        .get(id)
                        .is_none_or(|row| row.org_id != org.as_uuid())
            })
            .map(|id| id.as_uuid())
            .collect();
        let mut old: HashMap<UserId, UserColumns> = HashMap::with_capacity(users.len());
        for chunk in unread.chunks(500) {
            let mut q = Sql::<B>::new(format!(
                "select {USER_COLUMNS} from user_account where org_id = "
            ));
            q.bind(org.as_uuid()).push(" and user_id in ");
            q.row(true, chunk.iter().map(|id| Value::from(*id)));
            q.push(B::LOCK_ROW);
            for row in q.fetch_all::<UserColumns, _>(&mut *self.tx).await? {
                old.insert(UserId::from_uuid(row.user_id), row);
            }
        }
        // Each user's changed columns; users changing the same columns are written together.
        let mut groups: HashMap<Vec<&'static str>, Vec<(Uuid, Vec<Value>)>> = HashMap::new();
        let mut reindex = Vec::new();
        for (user, expected) in users {
            let was = match self.locked.remove(&user.id()) {
                Some(row) if row.org_id == org.as_uuid() => Some(row),
                _ => self
                    .part
                    .remove(&user.id())
                    .filter(|row| row.org_id == org.as_uuid())
                    .or_else(|| old.remove(&user.id())),
            };
            let was = match was {
                None => return Err(StoreError::NotFound),
                Some(row) if row.version != *expected => {
                    return Err(StoreError::Stale {
                        current: row.version,
                    });
                }
                Some(row) => row,
            };
            let mut row = UserColumns::from_user(user);
            if was.username_key == row.username_key {
                // As in `update_user`: an unchanged username keeps the skeleton it has.
                row.username_skeleton.clone_from(&was.username_skeleton);
            }
            let (changed, reindexed) = changes_of::<B>(&was, &row);
            let (columns, values): (Vec<&'static str>, Vec<Value>) = changed.into_iter().unzip();
            if !columns.is_empty() {
                groups
                    .entry(columns)
                    .or_default()
                    .push((row.user_id, values));
            }
            // The row is not kept, unlike `update_user`'s: a run changing a million people
            // would hold them all. It stays locked; a later update reads it again.
            if reindexed {
                reindex.push(row);
            }
        }
        for (columns, rows) in groups {
            // At most ~500 bound values a statement, on either backend.
            let per_statement = (500 / (columns.len() + 1)).max(1);
            for chunk in rows.chunks(per_statement) {
                let mut q = Sql::<B>::new(format!(
                    "with v (user_id, {}) as (values ",
                    columns.join(", ")
                ));
                for (i, (id, values)) in chunk.iter().enumerate() {
                    let mut row: Vec<Value> = Vec::with_capacity(values.len() + 1);
                    row.push((*id).into());
                    row.extend(values.iter().cloned());
                    q.row(i == 0, row);
                }
                // Not `update … from v`: SQLite would walk the org's every row for each of
                // v's. The rows are found by id; each takes its values from v.
                let taken: Vec<String> = columns
                    .iter()
                    .map(|c| format!("v.{c}{}", B::column_cast(c)))
                    .collect();
                q.push(format!(
                    ") update user_account set ({}) = (select {} from v \
                     where v.user_id = user_account.user_id) where org_id = ",
                    columns.join(", "),
                    taken.join(", ")
                ))
                .bind(org.as_uuid())
                .push(" and user_id in (select user_id from v)");
                q.execute(&mut *self.tx).await?;
            }
        }
        B::reindex_users(&mut self.tx, &reindex).await?;
        Ok(())
    }

    async fn record(&mut self, events: &[AuditEvent]) -> StoreResult<()> {
        if B::copy_events(&mut self.tx, events).await? {
            return Ok(());
        }
        // 14 columns: 500 rows stay far below either backend's bound-parameter limit.
        for chunk in events.chunks(500) {
            let mut q = Sql::<B>::new(format!("insert into audit_event ({EVENT_COLUMNS}) values "));
            for (i, event) in chunk.iter().enumerate() {
                q.row(i == 0, EventColumns::from_event(event).values());
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()> {
        let mut q = Sql::<B>::new(
            "insert into session (org_id, digest, user_id, csrf_token, created_at, expires_at) \
             values ",
        );
        q.row(
            true,
            [
                session.org_id.as_uuid().into(),
                session.digest.as_str().into(),
                session.user_id.as_uuid().into(),
                session.csrf_token.as_str().into(),
                micros(session.created_at).into(),
                micros(session.expires_at).into(),
            ],
        );
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn delete_session(&mut self, org: OrgId, digest: &str) -> StoreResult<()> {
        let mut q = Sql::<B>::new("delete from session where org_id = ");
        q.bind(org.as_uuid()).push(" and digest = ").bind(digest);
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn delete_user_sessions(
        &mut self,
        org: OrgId,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut q = Sql::<B>::new("delete from session where org_id = ");
        q.bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid());
        if let Some(keep) = keep {
            q.push(" and digest <> ").bind(keep);
        }
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn delete_sessions_of(&mut self, org: OrgId, users: &[UserId]) -> StoreResult<()> {
        for chunk in users.chunks(500) {
            let mut q = Sql::<B>::new("delete from session where org_id = ");
            q.bind(org.as_uuid()).push(" and user_id in ");
            q.row(true, chunk.iter().map(|id| Value::from(id.as_uuid())));
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn revoke_tokens_of(
        &mut self,
        org: OrgId,
        users: &[UserId],
        at: Timestamp,
    ) -> StoreResult<Vec<(UserId, u64)>> {
        let mut revoked = Vec::new();
        for chunk in users.chunks(500) {
            let of_chunk = |q: &mut Sql<B>| {
                q.push(" where org_id = ")
                    .bind(org.as_uuid())
                    .push(" and revoked_at is null and user_id in ");
                q.row(true, chunk.iter().map(|id| Value::from(id.as_uuid())));
            };
            let mut q = Sql::<B>::new("select user_id, count(*) from api_token");
            of_chunk(&mut q);
            q.push(" group by user_id");
            let live = q.fetch_all::<(Uuid, i64), _>(&mut *self.tx).await?;
            if live.is_empty() {
                // Most people have no token: nothing to write.
                continue;
            }
            for (user, n) in live {
                revoked.push((
                    UserId::from_uuid(user),
                    u64::try_from(n).unwrap_or_default(),
                ));
            }
            let mut q = Sql::<B>::new("update api_token set revoked_at = ");
            q.bind(micros(at));
            of_chunk(&mut q);
            q.execute(&mut *self.tx).await?;
        }
        Ok(revoked)
    }

    async fn insert_token(&mut self, token: &ApiToken) -> StoreResult<()> {
        let mut q = Sql::<B>::new(
            "insert into api_token \
             (token_id, org_id, user_id, name, digest, created_at, revoked_at) values ",
        );
        q.row(
            true,
            [
                token.id.as_uuid().into(),
                token.org_id.as_uuid().into(),
                token.user_id.as_uuid().into(),
                token.name.as_str().into(),
                token.digest.as_str().into(),
                micros(token.created_at).into(),
                token.revoked_at.map(micros).into(),
            ],
        );
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn revoke_user_tokens(
        &mut self,
        org: OrgId,
        user: UserId,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let mut q = Sql::<B>::new("update api_token set revoked_at = ");
        q.bind(micros(at))
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and user_id = ")
            .bind(user.as_uuid())
            .push(" and revoked_at is null");
        q.execute(&mut *self.tx).await
    }

    async fn revoke_token(&mut self, org: OrgId, id: TokenId, at: Timestamp) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update api_token set revoked_at = ");
        q.bind(micros(at))
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and token_id = ")
            .bind(id.as_uuid())
            .push(" and revoked_at is null");
        Ok(q.execute(&mut *self.tx).await? == 1)
    }

    async fn lock_throttle_runs(&mut self, keys: &[&str]) -> StoreResult<Vec<ThrottleRun>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // Every key gets a row first (in key order, so two attempts never wait on each other
        // crosswise), then all are read locked: a key nobody has seen yet is locked too.
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut q = Sql::<B>::new("insert into sign_in_throttle (key, failures, last_at) values ");
        for (i, key) in sorted.iter().enumerate() {
            q.row(i == 0, [(*key).into(), 0i64.into(), 0i64.into()]);
        }
        q.push(" on conflict (key) do nothing");
        q.execute(&mut *self.tx).await?;
        let mut q =
            Sql::<B>::new("select key, failures, last_at from sign_in_throttle where key in (");
        for (i, key) in sorted.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).bind(*key);
        }
        q.push(") order by key").push(B::LOCK_ROW);
        let mut runs = q.fetch_all::<ThrottleRun, _>(&mut *self.tx).await?;
        // A faded row pruned between the insert and the read comes back fresh; the write that
        // follows puts it back.
        for key in sorted {
            if !runs.iter().any(|run| run.key == key) {
                runs.push(ThrottleRun {
                    key: key.to_owned(),
                    failures: 0,
                    last_at: 0,
                });
            }
        }
        Ok(runs)
    }

    async fn put_throttle_runs(&mut self, runs: &[ThrottleRun]) -> StoreResult<()> {
        if runs.is_empty() {
            return Ok(());
        }
        let mut q = Sql::<B>::new("insert into sign_in_throttle (key, failures, last_at) values ");
        for (i, run) in runs.iter().enumerate() {
            q.row(
                i == 0,
                [
                    run.key.as_str().into(),
                    run.failures.into(),
                    run.last_at.into(),
                ],
            );
        }
        q.push(
            " on conflict (key) do update \
             set failures = excluded.failures, last_at = excluded.last_at",
        );
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn prune_throttle_runs(&mut self, before_micros: i64) -> StoreResult<u64> {
        // A batch at a time, skipping rows a sign-in holds: pruning never waits on a sign-in,
        // and a sign-in never waits on pruning.
        let mut q = Sql::<B>::new(
            "delete from sign_in_throttle where key in \
             (select key from sign_in_throttle where last_at < ",
        );
        q.bind(before_micros)
            .push(" limit 1000")
            .push(B::SKIP_LOCKED)
            .push(")");
        q.execute(&mut *self.tx).await
    }

    async fn server_secret(&mut self, name: &str, fresh: &str) -> StoreResult<String> {
        let mut q = Sql::<B>::new("insert into server_secret (name, value) values ");
        q.row(true, [name.into(), fresh.into()])
            .push(" on conflict (name) do nothing");
        q.execute(&mut *self.tx).await?;
        let mut q = Sql::<B>::new("select value from server_secret where name = ");
        q.bind(name);
        let (value,) = q
            .fetch_optional::<(String,), _>(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(value)
    }

    async fn insert_source(&mut self, source: &SourceSettings) -> StoreResult<()> {
        let mut q = Sql::<B>::new(format!("insert into source ({SOURCE_COLUMNS}) values "));
        q.row(true, SourceColumns::values(source));
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn insert_run(&mut self, run: &RunRecord) -> StoreResult<()> {
        let mut q = Sql::<B>::new(format!("insert into import_run ({RUN_COLUMNS}) values "));
        q.row(true, RunColumns::values(run));
        q.execute(&mut *self.tx).await?;
        self.put_report(run).await
    }

    async fn add_report_lines(
        &mut self,
        org: OrgId,
        run: RunId,
        lines: &[ReportLine],
    ) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut q = Sql::<B>::new(
            "select coalesce(max(part) + 1, 0) from import_run_report where org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(run.as_uuid());
        let next = q
            .fetch_optional::<(i64,), _>(&mut *self.tx)
            .await?
            .map_or(0, |(next,)| next);
        self.put_report_parts(org, run, next, lines).await
    }

    async fn update_run(&mut self, run: &RunRecord, was: Outcome) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update import_run set outcome = ");
        q.bind(run.outcome.as_str())
            .push(", counts = ")
            .bind(RunColumns::counts(run))
            .push(", report = '[]', finished_at = ")
            .bind(micros(run.finished_at))
            .push(", decided_by = ")
            .bind(run.decided.as_ref().map(|d| d.by.clone()))
            .push(", decided_at = ")
            .bind(run.decided.as_ref().map(|d| micros(d.at)))
            .push(", undone_by = ")
            .bind(run.undone.as_ref().map(|d| d.by.clone()))
            .push(", undone_at = ")
            .bind(run.undone.as_ref().map(|d| micros(d.at)))
            .push(" where org_id = ")
            .bind(run.org_id.as_uuid())
            .push(" and run_id = ")
            .bind(run.id.as_uuid())
            .push(" and outcome = ")
            .bind(was.as_str())
            .push(" and undone_at is null");
        if q.execute(&mut *self.tx).await? != 1 {
            return Ok(false);
        }
        self.put_report(run).await?;
        Ok(true)
    }

    async fn claim_source(
        &mut self,
        org: OrgId,
        source: SourceId,
        version: i64,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update source set version = version + 1 where org_id = ");
        q.bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid())
            .push(" and version = ")
            .bind(version);
        Ok(q.execute(&mut *self.tx).await? == 1)
    }

    async fn put_rosters(
        &mut self,
        org: OrgId,
        source: SourceId,
        rosters: &[Roster],
        full: bool,
    ) -> StoreResult<()> {
        for chunk in rosters.chunks(500) {
            let mut q = Sql::<B>::new(format!("insert into roster ({ROSTER_COLUMNS}) values "));
            for (i, roster) in chunk.iter().enumerate() {
                q.row(i == 0, RosterColumns::values(roster));
            }
            q.push(
                " on conflict (org_id, source_id, external_id) do update set \
                 title = excluded.title, code = excluded.code, school = excluded.school",
            );
            q.execute(&mut *self.tx).await?;
        }
        if full {
            let keep: std::collections::HashSet<&str> =
                rosters.iter().map(|r| r.external_id.as_str()).collect();
            let mut q = Sql::<B>::new("select external_id from roster where org_id = ");
            q.bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid());
            let gone: Vec<String> = q
                .fetch_all::<(String,), _>(&mut *self.tx)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .filter(|id| !keep.contains(id.as_str()))
                .collect();
            self.delete_rosters(org, source, &gone).await?;
        }
        Ok(())
    }

    async fn delete_rosters(
        &mut self,
        org: OrgId,
        source: SourceId,
        external_ids: &[String],
    ) -> StoreResult<()> {
        for id in external_ids {
            // A class's enrolments end with it.
            let mut q = Sql::<B>::new("delete from roster_enrolment where org_id = ");
            q.bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid())
                .push(" and class_external_id = ")
                .bind(id.as_str());
            q.execute(&mut *self.tx).await?;
            for table in ["roster_member", "roster"] {
                let mut q = Sql::<B>::new(format!("delete from {table} where org_id = "));
                q.bind(org.as_uuid())
                    .push(" and roster_id in (select roster_id from roster where org_id = ")
                    .bind(org.as_uuid())
                    .push(" and source_id = ")
                    .bind(source.as_uuid())
                    .push(" and external_id = ")
                    .bind(id.as_str())
                    .push(")");
                q.execute(&mut *self.tx).await?;
            }
        }
        Ok(())
    }

    async fn put_members(
        &mut self,
        org: OrgId,
        source: SourceId,
        members: &[(String, UserId, MemberRole)],
        removed: &[(String, UserId)],
        full: bool,
    ) -> StoreResult<()> {
        let of_class = |q: &mut Sql<B>, class: &str| {
            q.push("(select roster_id from roster where org_id = ")
                .bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid())
                .push(" and external_id = ")
                .bind(class)
                .push(")");
        };
        if full {
            let mut q = Sql::<B>::new("delete from roster_member where org_id = ");
            q.bind(org.as_uuid())
                .push(" and roster_id in (select roster_id from roster where org_id = ")
                .bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid())
                .push(")");
            q.execute(&mut *self.tx).await?;
        }
        for (class, user) in removed {
            let mut q = Sql::<B>::new("delete from roster_member where org_id = ");
            q.bind(org.as_uuid())
                .push(" and user_id = ")
                .bind(user.as_uuid());
            q.push(" and roster_id = ");
            of_class(&mut q, class);
            q.execute(&mut *self.tx).await?;
        }
        for (class, user, role) in members {
            let mut q = Sql::<B>::new(
                "insert into roster_member (org_id, roster_id, user_id, role) select ",
            );
            q.bind(org.as_uuid())
                .push(", roster_id, ")
                .bind(user.as_uuid())
                .push(", ")
                .bind(role.as_str())
                .push(" from roster where org_id = ")
                .bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid())
                .push(" and external_id = ")
                .bind(class.as_str())
                .push(
                    " on conflict (org_id, roster_id, user_id) do update set role = excluded.role",
                );
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn set_drop_folder(
        &mut self,
        org: OrgId,
        source: SourceId,
        folder: Option<&str>,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update source set drop_folder = ");
        q.bind(folder.map(str::to_owned))
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid());
        Ok(q.execute(&mut *self.tx).await? == 1)
    }

    async fn claim_drop(
        &mut self,
        org: OrgId,
        source: SourceId,
        file_name: &str,
        checksum: &str,
        by: &str,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new(
            "insert into drop_claim \
             (org_id, source_id, file_name, checksum, claimed_by, claimed_at) values ",
        );
        q.row(
            true,
            [
                org.as_uuid().into(),
                source.as_uuid().into(),
                file_name.into(),
                checksum.into(),
                by.into(),
                micros(at).into(),
            ],
        )
        .push(" on conflict do nothing");
        Ok(q.execute(&mut *self.tx).await? == 1)
    }

    async fn insert_touches(
        &mut self,
        org: OrgId,
        run: RunId,
        touches: &[Touch],
    ) -> StoreResult<()> {
        for chunk in touches.chunks(500) {
            let mut q = Sql::<B>::new(format!("insert into run_touch ({TOUCH_COLUMNS}) values "));
            for (i, touch) in chunk.iter().enumerate() {
                q.row(i == 0, TouchColumns::values(org, run, touch));
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn source_enrolments(
        &mut self,
        org: OrgId,
        source: SourceId,
    ) -> StoreResult<Vec<Enrolment>> {
        let mut q = Sql::<B>::new(
            "select external_id, class_external_id, user_id, role from roster_enrolment \
             where org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid());
        q.fetch_all::<(String, String, Uuid, String), _>(&mut *self.tx)
            .await?
            .into_iter()
            .map(|(external_id, class, user, role)| {
                Ok(Enrolment {
                    external_id,
                    class,
                    user: UserId::from_uuid(user),
                    role: member_role(&role)?,
                })
            })
            .collect()
    }

    async fn put_enrolments(
        &mut self,
        org: OrgId,
        source: SourceId,
        enrolments: &[Enrolment],
        gone: &[String],
        full: bool,
    ) -> StoreResult<()> {
        let ended = |q: &mut Sql<B>| {
            q.bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid());
        };
        if full {
            let mut q = Sql::<B>::new("delete from roster_enrolment where org_id = ");
            ended(&mut q);
            q.execute(&mut *self.tx).await?;
        }
        for chunk in gone.chunks(500) {
            let mut q = Sql::<B>::new("delete from roster_enrolment where org_id = ");
            ended(&mut q);
            q.push(" and external_id in (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind(id.as_str());
            }
            q.push(")");
            q.execute(&mut *self.tx).await?;
        }
        for chunk in enrolments.chunks(500) {
            let mut q = Sql::<B>::new(
                "insert into roster_enrolment \
                 (org_id, source_id, external_id, class_external_id, user_id, role) values ",
            );
            for (i, e) in chunk.iter().enumerate() {
                q.row(
                    i == 0,
                    [
                        org.as_uuid().into(),
                        source.as_uuid().into(),
                        e.external_id.as_str().into(),
                        e.class.as_str().into(),
                        e.user.as_uuid().into(),
                        e.role.as_str().into(),
                    ],
                );
            }
            q.push(
                " on conflict (org_id, source_id, external_id) do update set \
                 class_external_id = excluded.class_external_id, user_id = excluded.user_id, \
                 role = excluded.role",
            );
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn source_orgs(&mut self, org: OrgId, source: SourceId) -> StoreResult<Vec<SourceOrg>> {
        let mut q = Sql::<B>::new("select external_id, name, kind from source_org where org_id = ");
        q.bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid())
            .push(" order by external_id");
        let orgs = q
            .fetch_all::<(String, String, String), _>(&mut *self.tx)
            .await?;
        Ok(orgs
            .into_iter()
            .map(|(external_id, name, kind)| SourceOrg {
                external_id,
                name,
                kind,
            })
            .collect())
    }

    async fn put_source_orgs(
        &mut self,
        org: OrgId,
        source: SourceId,
        sent: &OrgsSent,
    ) -> StoreResult<()> {
        let of_source = |q: &mut Sql<B>| {
            q.bind(org.as_uuid())
                .push(" and source_id = ")
                .bind(source.as_uuid());
        };
        if sent.full {
            let mut q = Sql::<B>::new("delete from source_org where org_id = ");
            of_source(&mut q);
            q.execute(&mut *self.tx).await?;
        }
        for chunk in sent.gone.chunks(500) {
            let mut q = Sql::<B>::new("delete from source_org where org_id = ");
            of_source(&mut q);
            q.push(" and external_id in ");
            q.row(true, chunk.iter().map(|id| Value::from(id.as_str())));
            q.execute(&mut *self.tx).await?;
        }
        for chunk in sent.orgs.chunks(500) {
            let mut q = Sql::<B>::new(
                "insert into source_org (org_id, source_id, external_id, name, kind) values ",
            );
            for (i, o) in chunk.iter().enumerate() {
                q.row(
                    i == 0,
                    [
                        org.as_uuid().into(),
                        source.as_uuid().into(),
                        o.external_id.as_str().into(),
                        o.name.as_str().into(),
                        o.kind.as_str().into(),
                    ],
                );
            }
            q.push(
                " on conflict (org_id, source_id, external_id) do update set \
                 name = excluded.name, kind = excluded.kind",
            );
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn source_rosters(&mut self, org: OrgId, source: SourceId) -> StoreResult<RosterState> {
        let mut q = Sql::<B>::new(format!(
            "select {ROSTER_COLUMNS} from roster where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid());
        let rosters = q
            .fetch_all::<RosterColumns, _>(&mut *self.tx)
            .await?
            .into_iter()
            .map(RosterColumns::into_roster)
            .collect();
        let mut q = Sql::<B>::new(
            "select m.roster_id, m.user_id, m.role from roster_member m join roster r \
             on r.org_id = m.org_id and r.roster_id = m.roster_id where m.org_id = ",
        );
        q.bind(org.as_uuid())
            .push(" and r.source_id = ")
            .bind(source.as_uuid());
        let seats = q
            .fetch_all::<(Uuid, Uuid, String), _>(&mut *self.tx)
            .await?
            .into_iter()
            .map(|(roster, user, role)| {
                Ok(Seat {
                    roster: RosterId::from_uuid(roster),
                    user: UserId::from_uuid(user),
                    role: member_role(&role)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(RosterState { rosters, seats })
    }

    async fn put_run_roster_changes(
        &mut self,
        org: OrgId,
        run: RunId,
        changes: &RosterChanges,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(changes).map_err(corrupt)?;
        let mut q =
            Sql::<B>::new("insert into run_roster_changes (org_id, run_id, changes) values ");
        q.row(
            true,
            [org.as_uuid().into(), run.as_uuid().into(), text.into()],
        )
        .push(" on conflict (org_id, run_id) do update set changes = excluded.changes");
        q.execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn delete_run_roster_changes(&mut self, org: OrgId, run: RunId) -> StoreResult<()> {
        let mut q = Sql::<B>::new("delete from run_roster_changes where org_id = ");
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(run.as_uuid());
        q.execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn undo_rosters(&mut self, org: OrgId, undo: &RosterUndo) -> StoreResult<()> {
        for roster in &undo.remove {
            for table in ["roster_member", "roster"] {
                let mut q = Sql::<B>::new(format!("delete from {table} where org_id = "));
                q.bind(org.as_uuid())
                    .push(" and roster_id = ")
                    .bind(roster.as_uuid());
                q.execute(&mut *self.tx).await?;
            }
        }
        for roster in &undo.set_back {
            let mut q = Sql::<B>::new("update roster set title = ");
            q.bind(roster.title.as_str())
                .push(", code = ")
                .bind(roster.code.as_str())
                .push(", school = ")
                .bind(roster.school.as_str())
                .push(" where org_id = ")
                .bind(org.as_uuid())
                .push(" and roster_id = ")
                .bind(roster.id.as_uuid());
            q.execute(&mut *self.tx).await?;
        }
        for chunk in undo.restore.chunks(500) {
            let mut q = Sql::<B>::new(format!("insert into roster ({ROSTER_COLUMNS}) values "));
            for (i, roster) in chunk.iter().enumerate() {
                q.row(i == 0, RosterColumns::values(roster));
            }
            q.execute(&mut *self.tx).await?;
        }
        for seat in &undo.unseat {
            let mut q = Sql::<B>::new("delete from roster_member where org_id = ");
            q.bind(org.as_uuid())
                .push(" and roster_id = ")
                .bind(seat.roster.as_uuid())
                .push(" and user_id = ")
                .bind(seat.user.as_uuid());
            q.execute(&mut *self.tx).await?;
        }
        for chunk in undo.reseat.chunks(500) {
            let mut q = Sql::<B>::new(
                "insert into roster_member (org_id, roster_id, user_id, role) values ",
            );
            for (i, seat) in chunk.iter().enumerate() {
                q.row(
                    i == 0,
                    [
                        org.as_uuid().into(),
                        seat.roster.as_uuid().into(),
                        seat.user.as_uuid().into(),
                        seat.role.as_str().into(),
                    ],
                );
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn put_held_file(&mut self, org: OrgId, run: RunId, file: &[u8]) -> StoreResult<()> {
        let mut q = Sql::<B>::new("insert into held_file (org_id, run_id, file) values ");
        q.row(
            true,
            [
                org.as_uuid().into(),
                run.as_uuid().into(),
                file.to_vec().into(),
            ],
        );
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn delete_held_file(&mut self, org: OrgId, run: RunId) -> StoreResult<()> {
        let mut q = Sql::<B>::new("delete from held_file where org_id = ");
        q.bind(org.as_uuid())
            .push(" and run_id = ")
            .bind(run.as_uuid());
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn put_provisioning_settings(
        &mut self,
        org: OrgId,
        settings: &ProvisioningSettings,
    ) -> StoreResult<()> {
        let mut q = Sql::<B>::new(
            "insert into provisioning_settings \
             (org_id, safeguard_percent, safeguard_floor, apply_rest_when_held) values ",
        );
        q.row(
            true,
            [
                org.as_uuid().into(),
                i64::from(settings.safeguard.percent).into(),
                i64::try_from(settings.safeguard.floor)
                    .unwrap_or(i64::MAX)
                    .into(),
                settings.apply_rest_when_held.into(),
            ],
        )
        .push(
            " on conflict (org_id) do update set safeguard_percent = excluded.safeguard_percent, \
             safeguard_floor = excluded.safeguard_floor, \
             apply_rest_when_held = excluded.apply_rest_when_held",
        );
        q.execute(&mut *self.tx).await.map(drop)
    }

    async fn set_source_paused(
        &mut self,
        org: OrgId,
        id: SourceId,
        paused: bool,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update source set paused = ");
        q.bind(paused)
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(id.as_uuid());
        Ok(q.execute(&mut *self.tx).await? == 1)
    }

    async fn put_said(&mut self, org: OrgId, said: &[(UserId, Said)]) -> StoreResult<()> {
        for chunk in said.chunks(1_000) {
            let mut q = Sql::<B>::new("insert into source_said (org_id, user_id, said) values ");
            for (i, (user, said)) in chunk.iter().enumerate() {
                q.row(
                    i == 0,
                    [
                        org.as_uuid().into(),
                        user.as_uuid().into(),
                        said.as_str().into(),
                    ],
                );
            }
            q.push(
                " on conflict (org_id, user_id) do update set said = excluded.said, \
                 digest = null, digest_version = null",
            );
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn put_sent(&mut self, org: OrgId, sent: &[Sent]) -> StoreResult<()> {
        for chunk in sent.chunks(1_000) {
            let mut q = Sql::<B>::new(
                "insert into source_said (org_id, user_id, said, digest, digest_version) values ",
            );
            for (i, sent) in chunk.iter().enumerate() {
                q.row(
                    i == 0,
                    [
                        org.as_uuid().into(),
                        sent.user.as_uuid().into(),
                        sent.said.as_str().into(),
                        sent.digest.0.to_vec().into(),
                        sent.version.into(),
                    ],
                );
            }
            q.push(
                " on conflict (org_id, user_id) do update set said = excluded.said, \
                 digest = excluded.digest, digest_version = excluded.digest_version",
            );
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn forget_said(&mut self, org: OrgId, users: &[UserId]) -> StoreResult<()> {
        for chunk in users.chunks(1_000) {
            let mut q = Sql::<B>::new("delete from source_said where org_id = ");
            q.bind(org.as_uuid()).push(" and user_id in (");
            for (i, user) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind(user.as_uuid());
            }
            q.push(")");
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let Self {
            tx,
            writer,
            backend,
            inserted_users,
            enrolled,
            ..
        } = *self;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        if inserted_users >= LARGE_BATCH {
            backend.after_large_write(&writer).await?;
        }
        if enrolled >= LARGE_BATCH as u64 {
            // The planner's statistics of the tables an everyone-course just filled: without
            // them a person's courses may be looked for through the whole org's enrolments.
            // They are committed: a failure here is logged, not reported as the write's.
            for table in ["enrolment", "outbox_message"] {
                if let Err(err) = Sql::<B>::new(format!("analyze {table}"))
                    .execute(&writer)
                    .await
                {
                    tracing::warn!(table, error = %err, "statistics not refreshed after a large enrolment");
                }
            }
        }
        Ok(())
    }
}
