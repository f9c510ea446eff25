//! The storage of SCIM connections: their settings and tokens, and the resources (Users and
//! Groups) their identity providers manage. [`ScimStore`] reads, [`ScimWork`] writes within a
//! unit of work; both are written once here for any [`Backend`].
//!
//! A list's filter is turned into SQL here (`condition`): attributes Rollcall keeps in
//! columns (id, userName, externalId, active, the times) are compared there, the others in the
//! resource's JSON document, each backend through its own JSON functions.

use std::collections::HashMap;

use async_trait::async_trait;
use rollcall_domain::provisioning::SourceSettings;
use rollcall_domain::{OrgId, SourceId, Timestamp, TokenId, User};
use rollcall_scim::Resource;
use rollcall_scim::filter::{Field, Op, Operand, Query};
use rollcall_scim::schema::{Home, Type};
use sqlx::{Database, Executor, FromRow, IntoArguments};
use uuid::Uuid;

use crate::backend::{Conn, JsonStyle};
use crate::rows::{USER_COLUMNS, UserColumns, micros};
use crate::shared::{SqlStore, SqlUnitOfWork};
use crate::sql::{Sql, Value};
use crate::{Backend, StoreError, StoreResult};

/// A page of a list: which resources, from where, how many.
#[derive(Debug, Clone)]
pub struct ScimPage<'a> {
    pub filter: Option<&'a Query>,
    pub sort: Option<(Field, bool)>,
    /// 0-based.
    pub offset: u64,
    pub limit: u64,
}

use crate::scim_rows::{
    CALLER_COLUMNS, CallerRow, RECORD_COLUMNS, RecordRow, SettingsRow, TokenRow,
};
pub use crate::scim_rows::{ScimRecord, ScimSettings, ScimToken, name_key};

/// Reads of SCIM connections, outside any unit of work.
#[async_trait]
pub trait ScimStore: Send + Sync {
    async fn scim_settings(
        &self,
        org: OrgId,
        source: SourceId,
    ) -> StoreResult<Option<ScimSettings>>;
    /// The token with this digest, with its connection's settings and source: what each
    /// request is checked against, in one read.
    async fn scim_caller(
        &self,
        org: OrgId,
        digest: &str,
    ) -> StoreResult<Option<(ScimToken, ScimSettings, SourceSettings)>>;
    /// A connection's tokens, newest first.
    async fn scim_tokens(&self, org: OrgId, source: SourceId) -> StoreResult<Vec<ScimToken>>;
    /// A live resource of the connection.
    async fn scim_resource(
        &self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        id: Uuid,
    ) -> StoreResult<Option<ScimRecord>>;
    /// A page of the connection's live resources that pass the filter, and how many pass it.
    async fn scim_list(
        &self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        page: &ScimPage<'_>,
    ) -> StoreResult<(Vec<ScimRecord>, u64)>;
    /// The people with these ids (any status).
    async fn users_by_id(&self, org: OrgId, ids: &[Uuid]) -> StoreResult<Vec<User>>;
    /// Whether the person has a live User in the connection.
    async fn has_live_scim_user(
        &self,
        org: OrgId,
        source: SourceId,
        person: Uuid,
    ) -> StoreResult<bool>;
    /// The connection's live Groups that these people are members of: (person, group id,
    /// group name), by name.
    async fn scim_groups_of(
        &self,
        org: OrgId,
        source: SourceId,
        users: &[Uuid],
    ) -> StoreResult<Vec<(Uuid, Uuid, String)>>;
    /// The live User resources of the connection among `ids`.
    async fn scim_users_among(
        &self,
        org: OrgId,
        source: SourceId,
        ids: &[Uuid],
    ) -> StoreResult<Vec<ScimRecord>>;
}

/// Writes of SCIM connections, within a unit of work.
#[async_trait]
pub trait ScimWork: Send {
    async fn put_scim_settings(&mut self, settings: &ScimSettings) -> StoreResult<()>;
    async fn insert_scim_token(&mut self, token: &ScimToken) -> StoreResult<()>;
    /// Revokes a token of the connection; `false` when there is none live.
    async fn revoke_scim_token(
        &mut self,
        org: OrgId,
        source: SourceId,
        id: TokenId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    async fn touch_scim_token(&mut self, org: OrgId, id: TokenId, at: Timestamp)
    -> StoreResult<()>;
    /// A live resource, locked until the unit of work ends.
    async fn lock_scim_resource(
        &mut self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        id: Uuid,
    ) -> StoreResult<Option<ScimRecord>>;
    /// The connection's resources of `kind`, live or deleted, with one of these names
    /// (ignoring case) or external ids: newest first.
    async fn scim_claims(
        &mut self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        names: &[&str],
        external_ids: &[&str],
    ) -> StoreResult<Vec<ScimRecord>>;
    async fn insert_scim_resources(&mut self, records: &[ScimRecord]) -> StoreResult<()>;
    /// Writes each record over the one at the version given with it; `Stale` (and nothing
    /// written) when one is at another version, or gone.
    async fn update_scim_resources(&mut self, records: &[(ScimRecord, i64)]) -> StoreResult<()>;
}

fn record_values(r: &ScimRecord) -> Vec<Value> {
    vec![
        r.org_id.as_uuid().into(),
        r.id.into(),
        r.source_id.as_uuid().into(),
        r.kind.name().to_owned().into(),
        r.owner.into(),
        r.name.clone().into(),
        name_key(&r.name).into(),
        Value::OptText(r.external_id.clone()),
        r.document.clone().into(),
        micros(r.created_at).into(),
        micros(r.updated_at).into(),
        r.version.into(),
        Value::OptInt(r.deleted_at.map(micros)),
    ]
}

const INSERT_COLUMNS: &str = "org_id, scim_id, source_id, kind, owner_id, name, name_key, \
    external_id, document, created_at, updated_at, version, deleted_at";

fn live<B: Backend>(org: OrgId, source: SourceId, kind: Resource) -> Sql<B> {
    let mut q = Sql::<B>::new(format!("select {RECORD_COLUMNS} from scim_resource s"));
    if kind == Resource::User {
        q.push(" join user_account u on u.org_id = s.org_id and u.user_id = s.owner_id");
    }
    q.push(" where s.org_id = ")
        .bind(org.as_uuid())
        .push(" and s.source_id = ")
        .bind(source.as_uuid())
        .push(" and s.kind = ")
        .bind(kind.name().to_owned())
        .push(" and s.deleted_at is null");
    q
}

/// The SQL of a column-backed field, or `None` for one kept in the document.
fn column(kind: Resource, field: &Field) -> Option<&'static str> {
    if field.home != Home::Core {
        return None;
    }
    Some(match (field.attr.name, field.sub.map(|s| s.name)) {
        ("id", None) => "s.scim_id",
        ("externalId", None) => "s.external_id",
        ("userName", None) if kind == Resource::User => "s.name_key",
        ("displayName", None) if kind == Resource::Group => "s.name_key",
        ("meta", Some("created")) => "s.created_at",
        ("meta", Some("lastModified")) if kind == Resource::User => {
            "(case when u.updated_at > s.updated_at then u.updated_at else s.updated_at end)"
        }
        ("meta", Some("lastModified")) => "s.updated_at",
        _ => return None,
    })
}

/// A JSON path for SQLite's functions: `$."name"."givenName"`, `[0]` for an index.
fn sqlite_path(keys: &[&str]) -> String {
    use std::fmt::Write as _;
    let mut at = String::from("$");
    for key in keys {
        if key.bytes().all(|b| b.is_ascii_digit()) {
            let _ = write!(at, "[{key}]");
        } else {
            let _ = write!(at, ".\"{}\"", key.replace('"', ""));
        }
    }
    at
}

/// Appends `, $1, $2…` binding each key (PostgreSQL's variadic path functions).
fn bind_keys<B: Backend>(q: &mut Sql<B>, keys: &[&str]) {
    for key in keys {
        q.push(", ").bind((*key).to_owned());
    }
}

/// Appends the text of the document's value at `path` (keys), from `source` (a JSON text or
/// value expression).
fn json_text<B: Backend>(q: &mut Sql<B>, source: &str, path: &[&str]) {
    match B::JSON {
        JsonStyle::Sqlite => {
            q.push("json_extract(")
                .push(source)
                .push(", ")
                .bind(sqlite_path(path))
                .push(")");
        }
        JsonStyle::Postgres => {
            q.push("jsonb_extract_path_text(").push(source);
            bind_keys(q, path);
            q.push(")");
        }
    }
}

fn document_path(field: &Field, sub: bool) -> Vec<&'static str> {
    let mut path: Vec<&'static str> = field.home.key().into_iter().collect();
    path.push(field.attr.name);
    if let (true, Some(s)) = (sub, field.sub) {
        path.push(s.name);
    }
    path
}

fn doc_source<B: Backend>() -> &'static str {
    match B::JSON {
        JsonStyle::Sqlite => "s.document",
        JsonStyle::Postgres => "s.document::jsonb",
    }
}

/// Appends `filter` as SQL. Inside an `Any`, `element` is the element's alias.
fn condition<B: Backend>(q: &mut Sql<B>, kind: Resource, query: &Query, element: Option<&str>) {
    match query {
        Query::And(a, b) | Query::Or(a, b) => {
            q.push("(");
            condition(q, kind, a, element);
            q.push(if matches!(query, Query::And(..)) {
                " and "
            } else {
                " or "
            });
            condition(q, kind, b, element);
            q.push(")");
        }
        Query::Not(a) => {
            q.push("not coalesce(");
            condition(q, kind, a, element);
            q.push(", false)");
        }
        Query::Any { list, filter } => {
            let path = document_path(list, false);
            q.push("exists (select 1 from ");
            match B::JSON {
                JsonStyle::Sqlite => {
                    q.push("json_each(s.document, ")
                        .bind(sqlite_path(&path))
                        .push(") e");
                }
                JsonStyle::Postgres => {
                    q.push("jsonb_array_elements(jsonb_extract_path(s.document::jsonb");
                    bind_keys(q, &path);
                    q.push(")) e");
                }
            }
            q.push(" where ");
            condition(q, kind, filter, Some("e.value"));
            q.push(")");
        }
        Query::Present(field) | Query::Absent(field) => {
            let absent = matches!(query, Query::Absent(_));
            if absent {
                q.push("not ");
            }
            present(q, kind, field, element);
        }
        Query::Compare(field, op, operand) => compare(q, kind, field, *op, operand, element),
    }
}

fn present<B: Backend>(q: &mut Sql<B>, kind: Resource, field: &Field, element: Option<&str>) {
    if element.is_none() {
        if let Some(col) = column(kind, field) {
            q.push("(").push(col).push(" is not null)");
            return;
        }
        if field.is("active", None) {
            q.push("(1 = 1)");
            return;
        }
        if field.attr.multi && field.sub.is_none() {
            let path = document_path(field, false);
            match B::JSON {
                JsonStyle::Sqlite => {
                    q.push("(coalesce(json_array_length(s.document, ")
                        .bind(sqlite_path(&path))
                        .push("), 0) > 0)");
                }
                JsonStyle::Postgres => {
                    q.push("(coalesce(jsonb_array_length(jsonb_extract_path(s.document::jsonb");
                    bind_keys(q, &path);
                    q.push(")), 0) > 0)");
                }
            }
            return;
        }
    }
    q.push("(coalesce(");
    value_text(q, field, element);
    q.push(", '') <> '')");
}

/// Appends the text of a document-kept field (of the element when inside an `Any`).
fn value_text<B: Backend>(q: &mut Sql<B>, field: &Field, element: Option<&str>) {
    match element {
        Some(alias) => {
            let sub = field.sub.map_or("value", |s| s.name);
            json_text(q, alias, &[sub]);
        }
        None => json_text(q, doc_source::<B>(), &document_path(field, true)),
    }
}

fn compare<B: Backend>(
    q: &mut Sql<B>,
    kind: Resource,
    field: &Field,
    op: Op,
    operand: &Operand,
    element: Option<&str>,
) {
    let leaf = field.leaf();
    // active is the person's status.
    if element.is_none() && field.is("active", None) {
        let Operand::Bool(wanted) = operand else {
            q.push("(1 = 0)");
            return;
        };
        let is_active = *wanted == (op == Op::Eq);
        q.push(if is_active {
            "(u.status = 'active')"
        } else {
            "(u.status <> 'active')"
        });
        return;
    }
    let column = if element.is_none() {
        column(kind, field)
    } else {
        None
    };
    match (column, operand) {
        (Some("s.scim_id"), Operand::Str(text)) => {
            // Ids are UUIDs: one that does not parse matches nothing.
            match (Uuid::parse_str(text), op) {
                (Ok(id), Op::Eq) => {
                    q.push("(s.scim_id = ").bind(id).push(")");
                }
                (Ok(id), _) => {
                    q.push("(s.scim_id <> ").bind(id).push(")");
                }
                (Err(_), Op::Ne) => {
                    q.push("(1 = 1)");
                }
                (Err(_), _) => {
                    q.push("(1 = 0)");
                }
            }
        }
        (Some(col), Operand::Time(at)) => {
            q.push("(").push(col).push(sql_op(op)).bind(*at).push(")");
        }
        (Some(col), Operand::Str(text)) => {
            string_test(q, col, op, text);
        }
        (None, Operand::Time(at)) => {
            // Dates in a document are RFC 3339 text; compared as text they order only when
            // written alike, so compare the UTC text both ways are written in.
            let text = chrono::DateTime::from_timestamp_micros(*at)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_default();
            q.push("(");
            value_text(q, field, element);
            q.push(sql_op(op)).bind(text).push(")");
        }
        (None, Operand::Bool(wanted)) => {
            q.push("(");
            value_text(q, field, element);
            let truth = match B::JSON {
                JsonStyle::Sqlite => {
                    if *wanted {
                        "1"
                    } else {
                        "0"
                    }
                }
                JsonStyle::Postgres => {
                    if *wanted {
                        "'true'"
                    } else {
                        "'false'"
                    }
                }
            };
            if op == Op::Eq {
                q.push(" = ").push(truth).push(")");
            } else {
                q.push(" is distinct from ").push(truth).push(")");
            }
        }
        (None, Operand::Str(text)) => {
            q.push("(");
            if leaf.case_exact || leaf.ty == Type::Boolean {
                string_test_expr(q, op, text, |q| value_text(q, field, element));
            } else {
                string_test_expr(q, op, text, |q| {
                    q.push("lower(");
                    value_text(q, field, element);
                    q.push(")");
                });
            }
            q.push(")");
        }
        (Some(_), Operand::Bool(_)) => {
            q.push("(1 = 0)");
        }
    }
}

/// Whether `query` matches at most one resource: an equality on a unique column (id, userName
/// or displayName, externalId), alone or and-ed with anything.
fn names_one(kind: Resource, query: &Query) -> bool {
    match query {
        Query::Compare(field, Op::Eq, Operand::Str(_)) => matches!(
            column(kind, field),
            Some("s.scim_id" | "s.name_key" | "s.external_id")
        ),
        Query::And(a, b) => names_one(kind, a) || names_one(kind, b),
        _ => false,
    }
}

fn sql_op(op: Op) -> &'static str {
    match op {
        Op::Eq | Op::Co | Op::Sw | Op::Ew => " = ",
        Op::Ne => " <> ",
        Op::Gt => " > ",
        Op::Ge => " >= ",
        Op::Lt => " < ",
        Op::Le => " <= ",
    }
}

fn string_test<B: Backend>(q: &mut Sql<B>, col: &'static str, op: Op, text: &str) {
    q.push("(");
    string_test_expr(q, op, text, |q| {
        q.push(col);
    });
    q.push(")");
}

/// Appends `hay op text`; `hay` appends the compared expression (it may be written twice).
fn string_test_expr<B: Backend>(q: &mut Sql<B>, op: Op, text: &str, hay: impl Fn(&mut Sql<B>)) {
    match op {
        Op::Co => {
            q.push(match B::JSON {
                JsonStyle::Sqlite => "instr(",
                JsonStyle::Postgres => "strpos(",
            });
            hay(q);
            q.push(", ").bind(text.to_owned()).push(") > 0");
        }
        Op::Sw => {
            // PostgreSQL's substr takes integers, not the bigints bound.
            q.push("substr(");
            hay(q);
            q.push(", 1, cast(")
                .bind(i64::try_from(text.chars().count()).unwrap_or(i64::MAX))
                .push(" as integer)) = ")
                .bind(text.to_owned());
        }
        Op::Ew => {
            let n = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
            q.push("(length(");
            hay(q);
            q.push(") >= ").bind(n).push(" and substr(");
            hay(q);
            q.push(", cast(length(");
            hay(q);
            q.push(") - ")
                .bind(n)
                .push(" + 1 as integer)) = ")
                .bind(text.to_owned())
                .push(")");
        }
        Op::Ne => {
            q.push("coalesce(");
            hay(q);
            q.push(", '') <> ").bind(text.to_owned());
        }
        _ => {
            hay(q);
            q.push(sql_op(op)).bind(text.to_owned());
        }
    }
}

fn order<B: Backend>(q: &mut Sql<B>, kind: Resource, sort: Option<&(Field, bool)>) {
    q.push(" order by ");
    if let Some((field, descending)) = sort {
        let dir = if *descending { " desc" } else { "" };
        if field.is("active", None) && kind == Resource::User {
            q.push("(u.status = 'active')").push(dir).push(", ");
        } else if let Some(col) = column(kind, field) {
            q.push(col).push(dir).push(", ");
        } else {
            let mut path = document_path(field, false);
            if field.attr.multi {
                path.push("0");
            }
            if let Some(sub) = field.sub {
                path.push(sub.name);
            }
            q.push("lower(");
            match B::JSON {
                JsonStyle::Sqlite => {
                    q.push("json_extract(s.document, ")
                        .bind(sqlite_path(&path))
                        .push(")");
                }
                JsonStyle::Postgres => {
                    q.push("jsonb_extract_path_text(s.document::jsonb");
                    bind_keys(q, &path);
                    q.push(")");
                }
            }
            q.push(")").push(dir);
            // Missing values sort last either way, on both backends.
            q.push(" nulls last, ");
        }
    }
    q.push("s.scim_id");
}

#[async_trait]
impl<B: Backend> ScimStore for SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> TokenRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> SettingsRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> CallerRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> RecordRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> UserColumns: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, Uuid, String): FromRow<'r, <B::Db as Database>::Row>,
{
    async fn scim_settings(
        &self,
        org: OrgId,
        source: SourceId,
    ) -> StoreResult<Option<ScimSettings>> {
        let mut q = Sql::<B>::new("select * from scim_connection where org_id = ");
        q.bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid());
        Ok(q.fetch_optional::<SettingsRow, _>(self.reader())
            .await?
            .map(SettingsRow::into_settings))
    }

    async fn scim_caller(
        &self,
        org: OrgId,
        digest: &str,
    ) -> StoreResult<Option<(ScimToken, ScimSettings, SourceSettings)>> {
        let mut q = Sql::<B>::new(format!(
            "select {CALLER_COLUMNS} from scim_token t join scim_connection c on \
             c.org_id = t.org_id and c.source_id = t.source_id join source s on \
             s.org_id = t.org_id and s.source_id = t.source_id where t.org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and t.digest = ")
            .bind(digest.to_owned());
        q.fetch_optional::<CallerRow, _>(self.reader())
            .await?
            .map(CallerRow::into_parts)
            .transpose()
    }

    async fn scim_tokens(&self, org: OrgId, source: SourceId) -> StoreResult<Vec<ScimToken>> {
        let mut q = Sql::<B>::new("select * from scim_token where org_id = ");
        q.bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid())
            .push(" order by created_at desc, token_id");
        q.fetch_all::<TokenRow, _>(self.reader())
            .await?
            .into_iter()
            .map(TokenRow::into_token)
            .collect()
    }

    async fn scim_resource(
        &self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        id: Uuid,
    ) -> StoreResult<Option<ScimRecord>> {
        let mut q = live::<B>(org, source, kind);
        q.push(" and s.scim_id = ").bind(id);
        q.fetch_optional::<RecordRow, _>(self.reader())
            .await?
            .map(RecordRow::into_record)
            .transpose()
    }

    async fn scim_list(
        &self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        page: &ScimPage<'_>,
    ) -> StoreResult<(Vec<ScimRecord>, u64)> {
        let mut count = Sql::<B>::new("select count(*) from scim_resource s");
        let mut rows = Sql::<B>::new(format!("select {RECORD_COLUMNS} from scim_resource s"));
        for q in [&mut count, &mut rows] {
            if kind == Resource::User {
                q.push(" join user_account u on u.org_id = s.org_id and u.user_id = s.owner_id");
            }
            q.push(" where s.org_id = ")
                .bind(org.as_uuid())
                .push(" and s.source_id = ")
                .bind(source.as_uuid())
                .push(" and s.kind = ")
                .bind(kind.name().to_owned())
                .push(" and s.deleted_at is null");
            if let Some(filter) = page.filter {
                q.push(" and ");
                condition(q, kind, filter, None);
            }
        }
        // A filter naming one resource by a unique attribute (what identity providers send
        // before each create) is answered by one read of its index: neither an order (which
        // tempts the planner to walk the connection in id order) nor a count is needed.
        if page.filter.is_some_and(|f| names_one(kind, f)) {
            let found = rows
                .fetch_all::<RecordRow, _>(self.reader())
                .await?
                .into_iter()
                .map(RecordRow::into_record)
                .collect::<StoreResult<Vec<_>>>()?;
            let total = found.len() as u64;
            let page_of = found
                .into_iter()
                .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
                .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
                .collect();
            return Ok((page_of, total));
        }
        order(&mut rows, kind, page.sort.as_ref());
        rows.push(" limit ")
            .bind(i64::try_from(page.limit).unwrap_or(i64::MAX))
            .push(" offset ")
            .bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
        let (total,) = count
            .fetch_optional::<(i64,), _>(self.reader())
            .await?
            .unwrap_or((0,));
        let records = if page.limit == 0 {
            Vec::new()
        } else {
            rows.fetch_all::<RecordRow, _>(self.reader())
                .await?
                .into_iter()
                .map(RecordRow::into_record)
                .collect::<StoreResult<_>>()?
        };
        Ok((records, u64::try_from(total).unwrap_or(0)))
    }

    async fn has_live_scim_user(
        &self,
        org: OrgId,
        source: SourceId,
        person: Uuid,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("select count(*) from scim_resource where org_id = ");
        q.bind(org.as_uuid())
            .push(" and owner_id = ")
            .bind(person)
            .push(" and source_id = ")
            .bind(source.as_uuid())
            .push(" and kind = 'User' and deleted_at is null");
        let (n,) = q
            .fetch_optional::<(i64,), _>(self.reader())
            .await?
            .unwrap_or((0,));
        Ok(n > 0)
    }

    async fn users_by_id(&self, org: OrgId, ids: &[Uuid]) -> StoreResult<Vec<User>> {
        let mut users = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut q = Sql::<B>::new(format!(
                "select {USER_COLUMNS} from user_account where org_id = "
            ));
            q.bind(org.as_uuid()).push(" and user_id in ");
            q.row(true, chunk.iter().map(|id| (*id).into()));
            for row in q.fetch_all::<UserColumns, _>(self.reader()).await? {
                users.push(row.into_user()?);
            }
        }
        Ok(users)
    }

    async fn scim_groups_of(
        &self,
        org: OrgId,
        source: SourceId,
        users: &[Uuid],
    ) -> StoreResult<Vec<(Uuid, Uuid, String)>> {
        let mut found = Vec::new();
        for chunk in users.chunks(500) {
            let mut q = Sql::<B>::new(
                "select m.user_id, s.scim_id, s.name from roster_member m join scim_resource s \
                 on s.org_id = m.org_id and s.owner_id = m.roster_id where m.org_id = ",
            );
            q.bind(org.as_uuid())
                .push(" and s.source_id = ")
                .bind(source.as_uuid())
                .push(" and s.kind = 'Group' and s.deleted_at is null and m.user_id in ");
            q.row(true, chunk.iter().map(|id| (*id).into()));
            q.push(" order by s.name_key, s.scim_id");
            found.extend(
                q.fetch_all::<(Uuid, Uuid, String), _>(self.reader())
                    .await?,
            );
        }
        Ok(found)
    }

    async fn scim_users_among(
        &self,
        org: OrgId,
        source: SourceId,
        ids: &[Uuid],
    ) -> StoreResult<Vec<ScimRecord>> {
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut q = live::<B>(org, source, Resource::User);
            q.push(" and s.scim_id in ");
            q.row(true, chunk.iter().map(|id| (*id).into()));
            for row in q.fetch_all::<RecordRow, _>(self.reader()).await? {
                records.push(row.into_record()?);
            }
        }
        Ok(records)
    }
}

#[async_trait]
impl<B: Backend> ScimWork for SqlUnitOfWork<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'r> RecordRow: FromRow<'r, <B::Db as Database>::Row>,
{
    async fn put_scim_settings(&mut self, s: &ScimSettings) -> StoreResult<()> {
        let mut q = Sql::<B>::new("delete from scim_connection where org_id = ");
        q.bind(s.org_id.as_uuid())
            .push(" and source_id = ")
            .bind(s.source_id.as_uuid());
        q.execute(self.conn()).await?;
        let mut q = Sql::<B>::new(
            "insert into scim_connection (org_id, source_id, role_attribute, requests_per_minute) values ",
        );
        q.row(
            true,
            [
                s.org_id.as_uuid().into(),
                s.source_id.as_uuid().into(),
                s.role_attribute.clone().into(),
                i64::from(s.requests_per_minute).into(),
            ],
        );
        q.execute(self.conn()).await.map(drop)
    }

    async fn insert_scim_token(&mut self, t: &ScimToken) -> StoreResult<()> {
        let mut q = Sql::<B>::new(
            "insert into scim_token (org_id, token_id, source_id, name, digest, created_at, \
             last_used_at, revoked_at) values ",
        );
        q.row(
            true,
            [
                t.org_id.as_uuid().into(),
                t.id.as_uuid().into(),
                t.source_id.as_uuid().into(),
                t.name.clone().into(),
                t.digest.clone().into(),
                micros(t.created_at).into(),
                Value::OptInt(t.last_used_at.map(micros)),
                Value::OptInt(t.revoked_at.map(micros)),
            ],
        );
        q.execute(self.conn()).await.map(drop)
    }

    async fn revoke_scim_token(
        &mut self,
        org: OrgId,
        source: SourceId,
        id: TokenId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut q = Sql::<B>::new("update scim_token set revoked_at = ");
        q.bind(micros(at))
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and source_id = ")
            .bind(source.as_uuid())
            .push(" and token_id = ")
            .bind(id.as_uuid())
            .push(" and revoked_at is null");
        Ok(q.execute(self.conn()).await? == 1)
    }

    async fn touch_scim_token(
        &mut self,
        org: OrgId,
        id: TokenId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut q = Sql::<B>::new("update scim_token set last_used_at = ");
        q.bind(micros(at))
            .push(" where org_id = ")
            .bind(org.as_uuid())
            .push(" and token_id = ")
            .bind(id.as_uuid());
        q.execute(self.conn()).await.map(drop)
    }

    async fn lock_scim_resource(
        &mut self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        id: Uuid,
    ) -> StoreResult<Option<ScimRecord>> {
        let mut q = Sql::<B>::new(format!(
            "select {RECORD_COLUMNS} from scim_resource s where s.org_id = "
        ));
        q.bind(org.as_uuid())
            .push(" and s.source_id = ")
            .bind(source.as_uuid())
            .push(" and s.kind = ")
            .bind(kind.name().to_owned())
            .push(" and s.scim_id = ")
            .bind(id)
            .push(" and s.deleted_at is null")
            .push(B::LOCK_ROW);
        q.fetch_optional::<RecordRow, _>(self.conn())
            .await?
            .map(RecordRow::into_record)
            .transpose()
    }

    async fn scim_claims(
        &mut self,
        org: OrgId,
        source: SourceId,
        kind: Resource,
        names: &[&str],
        external_ids: &[&str],
    ) -> StoreResult<Vec<ScimRecord>> {
        // One lookup per index (live and deleted, by name and by externalId): an `or` across
        // partial indexes would walk the connection's every resource.
        let keys: Vec<Value> = names.iter().map(|n| Value::from(name_key(n))).collect();
        let ids: Vec<Value> = external_ids
            .iter()
            .map(|&e| Value::from(e.to_owned()))
            .collect();
        let mut branches = Vec::new();
        for (column, values) in [("name_key", keys), ("external_id", ids)] {
            if !values.is_empty() {
                branches.push((column, values));
            }
        }
        if branches.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::<B>::new("");
        let mut first = true;
        for (column, values) in &branches {
            for state in ["is null", "is not null"] {
                if !first {
                    q.push(" union ");
                }
                first = false;
                q.push(format!(
                    "select {RECORD_COLUMNS} from scim_resource s where s.org_id = "
                ))
                .bind(org.as_uuid())
                .push(" and s.source_id = ")
                .bind(source.as_uuid())
                .push(" and s.kind = ")
                .bind(kind.name().to_owned())
                .push(format!(" and s.{column} in "))
                .row(true, values.iter().cloned())
                .push(format!(" and s.deleted_at {state}"));
            }
        }
        let mut records = q
            .fetch_all::<RecordRow, _>(self.conn())
            .await?
            .into_iter()
            .map(RecordRow::into_record)
            .collect::<StoreResult<Vec<_>>>()?;
        records.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
        Ok(records)
    }

    async fn insert_scim_resources(&mut self, records: &[ScimRecord]) -> StoreResult<()> {
        // 13 columns: 500 rows stay far below either backend's bound-parameter limit.
        for chunk in records.chunks(500) {
            let mut q = Sql::<B>::new(format!(
                "insert into scim_resource ({INSERT_COLUMNS}) values "
            ));
            for (i, record) in chunk.iter().enumerate() {
                q.row(i == 0, record_values(record));
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    async fn update_scim_resources(&mut self, records: &[(ScimRecord, i64)]) -> StoreResult<()> {
        let mut by_org: HashMap<OrgId, Vec<&(ScimRecord, i64)>> = HashMap::new();
        for pair in records {
            by_org.entry(pair.0.org_id).or_default().push(pair);
        }
        // Every column but the org and the id, which find the row.
        let columns: Vec<&str> = INSERT_COLUMNS.split(", ").skip(2).collect();
        let taken: Vec<String> = columns.iter().map(|c| format!("v.{c}")).collect();
        for (org, records) in by_org {
            // 14 values a row: 30 rows stay far below either backend's bound-parameter limit.
            for chunk in records.chunks(30) {
                let mut q = Sql::<B>::new(format!(
                    "with v (scim_id, expected, {}) as (values ",
                    columns.join(", ")
                ));
                for (i, (record, expected)) in chunk.iter().enumerate() {
                    let mut row = vec![Value::from(record.id), Value::from(*expected)];
                    row.extend(record_values(record).into_iter().skip(2));
                    q.row(i == 0, row);
                }
                // As `update_users`: each row found by id takes its values from v.
                q.push(format!(
                    ") update scim_resource set ({}) = (select {} from v \
                     where v.scim_id = scim_resource.scim_id) where org_id = ",
                    columns.join(", "),
                    taken.join(", ")
                ))
                .bind(org.as_uuid())
                .push(
                    " and scim_id in (select scim_id from v) and version = \
                     (select expected from v where v.scim_id = scim_resource.scim_id)",
                );
                if q.execute(self.conn()).await? != chunk.len() as u64 {
                    return Err(StoreError::Stale {
                        current: chunk.first().map_or(0, |(_, expected)| *expected),
                    });
                }
            }
        }
        Ok(())
    }
}
