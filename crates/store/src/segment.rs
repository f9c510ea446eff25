//! The storage of segments, and their rules as SQL. Who a rule picks out is always asked of
//! the database (a count, a page), never worked out by loading an org's people: a segment of a
//! million people costs one indexed walk of the org, not a million rows in memory.
//! [`SegmentStore`] reads (every [`Store`](crate::Store) is one), [`SegmentWork`] writes
//! within a unit of work.

use async_trait::async_trait;
use rollcall_domain::rules::{self, EmailDelivery};
use rollcall_domain::segment::{Field, Rule, Test, listed_statuses};
use rollcall_domain::{OrgId, SegmentId, Status, User, UserId};
use sqlx::{Database, Executor, FromRow, IntoArguments};

use crate::backend::{Conn, JsonStyle};
use crate::rows::{UserColumns, corrupt, micros, user_columns_of_u};
pub use crate::segment_rows::SegmentRecord;
use crate::segment_rows::{SEGMENT_COLUMNS, SegmentRow};
use crate::shared::{SqlStore, SqlUnitOfWork};
use crate::sql::{Sql, Value};
use crate::{Backend, StoreError, StoreResult};

/// How many people a rule picks out, by the statuses a segment lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentTally {
    pub active: u64,
    /// Listed, marked inactive.
    pub inactive: u64,
}

/// Whom a message to a rule's people reaches: active people with an e-mail address. The others
/// are left out (their messages kept as suppressed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentReach {
    pub reached: u64,
    /// Active, without an e-mail address.
    pub no_address: u64,
    /// Listed, but kept from e-mail by the status rules (inactive people).
    pub inactive: u64,
}

impl SegmentReach {
    /// Counts `n` people of `status`, with an e-mail address or without: whom e-mail reaches
    /// is the status rules' word.
    pub fn add(&mut self, status: Status, addressed: bool, n: u64) {
        match (rules::rules(status).email, addressed) {
            (EmailDelivery::Send, true) => self.reached += n,
            (EmailDelivery::Send, false) => self.no_address += n,
            (EmailDelivery::Suppress, _) => self.inactive += n,
        }
    }
}

/// Reads of segments, outside any unit of work.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// The org's segments, by name.
    async fn segments(&self, org: OrgId) -> StoreResult<Vec<SegmentRecord>>;
    async fn segment(&self, org: OrgId, id: SegmentId) -> StoreResult<Option<SegmentRecord>>;
    /// Whether any person of the org (of any status) has the attribute `name`.
    async fn attribute_in_use(&self, org: OrgId, name: &str) -> StoreResult<bool>;
    /// How many of the org's people the rule picks out; archived people never count.
    async fn segment_tally(&self, org: OrgId, rule: &Rule) -> StoreResult<SegmentTally>;
    /// Whom a message to the rule's people reaches, and who is left out.
    async fn segment_reach(&self, org: OrgId, rule: &Rule) -> StoreResult<SegmentReach>;
    /// A page of the people the rule picks out, by family then given name; archived people
    /// are left out.
    async fn segment_members(
        &self,
        org: OrgId,
        rule: &Rule,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    /// The people the rule picks out after `after`, in the order of their ids: a walk
    /// through everyone (a message to a whole org) that costs the same at any depth.
    async fn segment_members_after(
        &self,
        org: OrgId,
        rule: &Rule,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
}

/// Writes of segments, within a unit of work.
#[async_trait]
pub trait SegmentWork: Send {
    /// `Conflict { field: "name_key" }` when the org has a segment of that name (ignoring case).
    async fn insert_segment(&mut self, segment: &SegmentRecord) -> StoreResult<()>;
    /// Writes `segment` over the one at version `expected`; `Stale` when it moved on.
    async fn update_segment(&mut self, segment: &SegmentRecord, expected: i64) -> StoreResult<()>;
    /// `false` when there was no such segment.
    async fn delete_segment(&mut self, org: OrgId, id: SegmentId) -> StoreResult<bool>;
}

/// A segment's name, as its uniqueness is checked: ignoring case.
pub fn segment_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Appends the person's value of `field` (of `user_account u`), as text.
fn field_sql<B: Backend>(q: &mut Sql<B>, field: &Field) {
    match field {
        Field::Role => {
            q.push("u.role");
        }
        Field::Source => {
            q.push("u.source");
        }
        Field::Attribute(name) => match B::JSON {
            JsonStyle::Sqlite => {
                q.push("json_extract(u.attributes, ")
                    .bind(format!("$.\"{}\"", name.replace('"', "")))
                    .push(")");
            }
            JsonStyle::Postgres => {
                q.push("jsonb_extract_path_text(u.attributes::jsonb, ")
                    .bind(name.clone())
                    .push(")");
            }
        },
    }
}

/// Appends `rule` as a condition on `user_account u`. Every test is true or false, never
/// unknown (a person without the attribute fails `=` and passes `not … =`), as the domain's
/// [`Rule::matches`] says. Values are compared in lower case, as they are bound.
pub fn rule_sql<B: Backend>(q: &mut Sql<B>, rule: &Rule) {
    match rule {
        // No tests at all: `and` of none holds for everyone, `or` of none for no one.
        Rule::And(rules) if rules.is_empty() => {
            q.push("(1 = 1)");
        }
        Rule::Or(rules) if rules.is_empty() => {
            q.push("(1 = 0)");
        }
        Rule::And(rules) | Rule::Or(rules) => {
            let word = if matches!(rule, Rule::And(_)) {
                " and "
            } else {
                " or "
            };
            q.push("(");
            for (i, rule) in rules.iter().enumerate() {
                if i > 0 {
                    q.push(word);
                }
                rule_sql(q, rule);
            }
            q.push(")");
        }
        Rule::Not(rule) => {
            q.push("(not ");
            rule_sql(q, rule);
            q.push(")");
        }
        Rule::Is { field, test } => match test {
            Test::Empty => {
                q.push("(coalesce(");
                field_sql(q, field);
                q.push(", '') = '')");
            }
            Test::Equals(value) => {
                q.push("(coalesce(lower(");
                field_sql(q, field);
                q.push("), '') = ").bind(value.to_lowercase()).push(")");
            }
            Test::In(values) => {
                q.push("(coalesce(lower(");
                field_sql(q, field);
                q.push("), '') in ");
                q.row(true, values.iter().map(|v| Value::from(v.to_lowercase())));
                q.push(")");
            }
            Test::Prefix(start) => {
                let start = start.to_lowercase();
                let length = i64::try_from(start.chars().count()).unwrap_or(i64::MAX);
                q.push("(substr(coalesce(lower(");
                field_sql(q, field);
                q.push("), ''), 1, cast(")
                    .bind(length)
                    .push(" as integer)) = ")
                    .bind(start)
                    .push(")");
            }
        },
    }
}

/// `select … from user_account u where` the org's listed people the rule picks out.
fn picked<B: Backend>(select: &str, org: OrgId, rule: &Rule) -> Sql<B> {
    let mut q = Sql::<B>::new(format!(
        "select {select} from user_account u where u.org_id = "
    ));
    q.bind(org.as_uuid()).push(" and u.status in ");
    q.row(
        true,
        listed_statuses()
            .into_iter()
            .map(|s| Value::from(s.as_str().to_owned())),
    );
    q.push(" and ");
    rule_sql(&mut q, rule);
    q
}

#[async_trait]
impl<B: Backend> SegmentStore for SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> SegmentRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> UserColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, i64, i64): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
{
    async fn segments(&self, org: OrgId) -> StoreResult<Vec<SegmentRecord>> {
        let mut q = Sql::<B>::new(format!(
            "select {SEGMENT_COLUMNS} from segment where org_id = "
        ));
        q.bind(org.as_uuid()).push(" order by name_key, segment_id");
        q.fetch_all::<SegmentRow, _>(self.reader())
            .await?
            .into_iter()
            .map(SegmentRow::into_record)
            .collect()
    }

    async fn segment(&self, org: OrgId, id: SegmentId) -> StoreResult<Option<SegmentRecord>> {
        let mut q = Sql::<B>::new(format!(
            "select {SEGMENT_COLUMNS} from segment where org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and segment_id = ")
            .bind(id.as_uuid());
        q.fetch_optional::<SegmentRow, _>(self.reader())
            .await?
            .map(SegmentRow::into_record)
            .transpose()
    }

    async fn attribute_in_use(&self, org: OrgId, name: &str) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("select cast(1 as bigint) from user_account u where u.org_id = ");
        q.bind(org.as_uuid()).push(" and ");
        field_sql(&mut q, &Field::Attribute(name.to_owned()));
        q.push(" is not null limit 1");
        Ok(q.fetch_optional::<(i64,), _>(self.reader())
            .await?
            .is_some())
    }

    async fn segment_tally(&self, org: OrgId, rule: &Rule) -> StoreResult<SegmentTally> {
        let mut q = picked::<B>("u.status, count(*)", org, rule);
        q.push(" group by u.status");
        let mut tally = SegmentTally::default();
        for (status, count) in q.fetch_all::<(String, i64), _>(self.reader()).await? {
            let count = u64::try_from(count).unwrap_or(0);
            match status.parse::<Status>() {
                Ok(Status::Active) => tally.active = count,
                Ok(Status::Inactive) => tally.inactive = count,
                _ => return Err(corrupt(format!("a segment counted status '{status}'"))),
            }
        }
        Ok(tally)
    }

    async fn segment_reach(&self, org: OrgId, rule: &Rule) -> StoreResult<SegmentReach> {
        let mut q = picked::<B>(
            "u.status, cast(case when u.email is null then 0 else 1 end as bigint) as addressed, \
             count(*)",
            org,
            rule,
        );
        q.push(" group by u.status, addressed");
        let mut reach = SegmentReach::default();
        for (status, addressed, count) in
            q.fetch_all::<(String, i64, i64), _>(self.reader()).await?
        {
            let count = u64::try_from(count).unwrap_or(0);
            let status = status
                .parse::<Status>()
                .map_err(|_| corrupt(format!("a segment counted status '{status}'")))?;
            reach.add(status, addressed == 1, count);
        }
        Ok(reach)
    }

    async fn segment_members(
        &self,
        org: OrgId,
        rule: &Rule,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        let mut q = picked::<B>(&user_columns_of_u(), org, rule);
        q.push(" order by u.family_key, u.given_key, u.user_id limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .push(" offset ")
            .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        q.fetch_all::<UserColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(UserColumns::into_user)
            .collect()
    }

    async fn segment_members_after(
        &self,
        org: OrgId,
        rule: &Rule,
        after: Option<UserId>,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        let mut q = picked::<B>(&user_columns_of_u(), org, rule);
        if let Some(after) = after {
            q.push(" and u.user_id > ").bind(after.as_uuid());
        }
        q.push(" order by u.user_id limit ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        q.fetch_all::<UserColumns, _>(self.reader())
            .await?
            .into_iter()
            .map(UserColumns::into_user)
            .collect()
    }
}

fn segment_values(s: &SegmentRecord) -> Vec<Value> {
    vec![
        s.org_id.as_uuid().into(),
        s.id.as_uuid().into(),
        s.name.clone().into(),
        segment_name_key(&s.name).into(),
        s.rule.clone().into(),
        s.created_by.clone().into(),
        micros(s.created_at).into(),
        micros(s.updated_at).into(),
        s.version.into(),
    ]
}

#[async_trait]
impl<B: Backend> SegmentWork for SqlUnitOfWork<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
{
    async fn insert_segment(&mut self, segment: &SegmentRecord) -> StoreResult<()> {
        let mut q = Sql::<B>::new(
            "insert into segment (org_id, segment_id, name, name_key, rule, created_by, \
             created_at, updated_at, version) values ",
        );
        q.row(true, segment_values(segment));
        q.execute(self.conn()).await.map(drop)
    }

    async fn update_segment(&mut self, segment: &SegmentRecord, expected: i64) -> StoreResult<()> {
        let mut q = Sql::<B>::new("update segment set name = ");
        q.bind(segment.name.clone())
            .push(", name_key = ")
            .bind(segment_name_key(&segment.name))
            .push(", rule = ")
            .bind(segment.rule.clone())
            .push(", updated_at = ")
            .bind(micros(segment.updated_at))
            .push(", version = ")
            .bind(segment.version)
            .push(" where org_id = ")
            .bind(segment.org_id.as_uuid())
            .push(" and segment_id = ")
            .bind(segment.id.as_uuid())
            .push(" and version = ")
            .bind(expected);
        if q.execute(self.conn()).await? == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale { current: expected })
        }
    }

    async fn delete_segment(&mut self, org: OrgId, id: SegmentId) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("delete from segment where org_id = ");
        q.bind(org.as_uuid())
            .push(" and segment_id = ")
            .bind(id.as_uuid());
        Ok(q.execute(self.conn()).await? == 1)
    }
}
