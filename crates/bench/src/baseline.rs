//! The baseline: the fastest plain way to write the same users into a lean reference schema,
//! built here (not the product's): the user table with its primary and unique keys, one index
//! for the default listing, one word-prefix search index, and the audit events.
//!
//! - SQLite: the C API through rusqlite (the same bundled SQLite that sqlx links), one reused
//!   prepared statement per table, one transaction, the product's pragmas (WAL, `synchronous =
//!   normal`, a 128 MiB page cache); search is FTS5 with two prefix lengths.
//! - PostgreSQL: `COPY … FROM STDIN` per table in one transaction; search is a GIN index (as
//!   created, with its pending list) on a `tsvector` of the terms and their prefixes of two and
//!   three letters, FTS5's equivalent.

use std::time::Instant;

use anyhow::{Context, Result};
use rollcall_domain::{AuditEvent, User};
use rollcall_store::rows::{EventColumns, UserColumns};
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

use crate::io::Written;

/// How fast the baseline wrote, and how much.
#[derive(Debug, Clone, Copy, Default)]
pub struct Baseline {
    pub rows_per_s: f64,
    pub bytes_per_row: f64,
}

impl Baseline {
    /// Not measured (`--no-baseline`).
    pub const NONE: Self = Self {
        rows_per_s: f64::NAN,
        bytes_per_row: f64::NAN,
    };
}

const SQLITE_SCHEMA: &str = "
create table user_account (
    user_rowid integer primary key,
    org_id blob not null,
    user_id blob not null,
    username text,
    username_key text,
    username_skeleton text,
    email text,
    email_key text,
    given_name text not null,
    family_name text not null,
    given_key text not null,
    family_key text not null,
    role text not null,
    status text not null,
    source text not null,
    external_id text,
    prevent_archiving integer not null,
    password_hash text,
    must_change_password integer not null,
    attributes text not null,
    created_at integer not null,
    updated_at integer not null,
    status_changed_at integer not null,
    version integer not null
);
create unique index user_account_id on user_account (org_id, user_id);
create unique index user_account_username on user_account (org_id, username_key);
create unique index user_account_skeleton on user_account (org_id, username_skeleton);
create unique index user_account_email on user_account (org_id, email_key);
create unique index user_account_external_id on user_account (org_id, source, external_id);
create index user_account_listing on user_account (org_id, status, family_key, given_key, user_id);
create virtual table user_search using fts5 (
    terms, content = '', detail = none, prefix = '2 3', tokenize = 'ascii'
);
create table audit_event (
    event_id blob primary key,
    org_id blob not null,
    user_id blob not null,
    at integer not null,
    actor_kind text not null,
    actor_user_id blob,
    actor_label text not null,
    action text not null,
    from_status text,
    to_status text,
    reason text,
    changed_fields text not null,
    actor_id blob,
    run_id blob
) without rowid;
";

/// SQLite: rusqlite, reused prepared statements, one transaction, into a fresh file.
pub async fn sqlite(rows: &[(User, AuditEvent)]) -> Result<Baseline> {
    let dir = tempfile::tempdir()?;
    let mut conn = rusqlite::Connection::open(dir.path().join("baseline.db"))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "normal")?;
    conn.pragma_update(None, "cache_size", -131_072)?;
    conn.execute_batch(SQLITE_SCHEMA)?;
    // The rows' columns are made before the clock starts: the baseline only writes.
    let rows: Vec<(UserColumns, EventColumns)> = rows
        .iter()
        .map(|(u, e)| (UserColumns::from_user(u), EventColumns::from_event(e)))
        .collect();
    let written = Written::process();
    let started = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut user = tx.prepare(
            "insert into user_account values \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
              ?19, ?20, ?21, ?22, ?23, ?24)",
        )?;
        let mut search = tx.prepare("insert into user_search (rowid, terms) values (?1, ?2)")?;
        let mut event = tx.prepare(
            "insert into audit_event values \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        for (rowid, (u, e)) in (1_i64..).zip(&rows) {
            user.execute(rusqlite::params![
                rowid,
                u.org_id.as_bytes(),
                u.user_id.as_bytes(),
                &u.username,
                &u.username_key,
                &u.username_skeleton,
                &u.email,
                &u.email_key,
                &u.given_name,
                &u.family_name,
                &u.given_key,
                &u.family_key,
                &u.role,
                &u.status,
                &u.source,
                &u.external_id,
                &u.prevent_archiving,
                &u.password_hash,
                &u.must_change_password,
                &u.attributes,
                &u.created_at,
                &u.updated_at,
                &u.status_changed_at,
                &u.version,
            ])?;
            search.execute(rusqlite::params![rowid, u.search_text.trim()])?;
            event.execute(rusqlite::params![
                e.event_id.as_bytes(),
                e.org_id.as_bytes(),
                e.user_id.as_bytes(),
                &e.at,
                &e.actor_kind,
                e.actor_user_id.map(|id| *id.as_bytes()),
                &e.actor_label,
                &e.action,
                &e.from_status,
                &e.to_status,
                &e.reason,
                &e.changed_fields,
                e.actor_id.map(|id| *id.as_bytes()),
                e.run_id.map(|id| *id.as_bytes()),
            ])?;
        }
    }
    tx.commit()?;
    // What the product's checkpointer would do after a large write: the log into the file.
    conn.pragma_update(None, "wal_checkpoint", "truncate")?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Baseline {
        rows_per_s: rows.len() as f64 / seconds,
        bytes_per_row: written.since().await? as f64 / rows.len().max(1) as f64,
    })
}

const POSTGRES_SCHEMA: &[&str] = &[
    "create schema lean",
    "create table lean.user_account (
        org_id uuid not null,
        user_id uuid not null,
        username text,
        username_key text,
        username_skeleton text,
        email text,
        email_key text,
        given_name text not null,
        family_name text not null,
        given_key text collate \"C\" not null,
        family_key text collate \"C\" not null,
        role text not null,
        status text not null,
        source text not null,
        external_id text,
        prevent_archiving boolean not null,
        password_hash text,
        must_change_password boolean not null,
        attributes text not null,
        created_at bigint not null,
        updated_at bigint not null,
        status_changed_at bigint not null,
        version bigint not null,
        terms tsvector not null,
        primary key (org_id, user_id)
    )",
    "create unique index on lean.user_account (org_id, username_key)",
    "create unique index on lean.user_account (org_id, username_skeleton)",
    "create unique index on lean.user_account (org_id, email_key)",
    "create unique index on lean.user_account (org_id, source, external_id)",
    "create index on lean.user_account (org_id, status, family_key, given_key, user_id)",
    "create index on lean.user_account using gin (terms)",
    "create table lean.audit_event (
        event_id uuid not null,
        org_id uuid not null,
        user_id uuid not null,
        at bigint not null,
        actor_kind text not null,
        actor_user_id uuid,
        actor_label text not null,
        action text not null,
        from_status text,
        to_status text,
        reason text,
        changed_fields text not null,
        actor_id uuid,
        run_id uuid,
        primary key (org_id, event_id)
    )",
];

/// A value in `COPY`'s text format: `\N` for null, backslash escapes for the rest.
fn field(out: &mut String, value: Option<&str>) {
    let Some(value) = value else {
        out.push_str("\\N");
        return;
    };
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// One `COPY` line of `fields`.
fn line(out: &mut String, fields: &[Option<&str>]) {
    for (i, value) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, *value);
    }
    out.push('\n');
}

/// Sends `text` as the data of `statement` (a `COPY … FROM STDIN`).
async fn copy(conn: &mut PgConnection, statement: &str, text: String) -> Result<()> {
    let mut sink = conn.copy_in_raw(statement).await?;
    sink.send(text.into_bytes()).await?;
    sink.finish().await?;
    Ok(())
}

/// PostgreSQL: `COPY` per table, one transaction, into a lean schema of its own in `url`'s
/// database. Bytes written are the write-ahead log the load produced (the server's writes are
/// not this process's).
pub async fn postgres(url: &str, rows: &[(User, AuditEvent)]) -> Result<Baseline> {
    let mut conn = PgConnection::connect(url)
        .await
        .context("connect for the baseline")?;
    for statement in POSTGRES_SCHEMA {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    let written = Written::wal(url).await?;
    let started = Instant::now();
    // The text is made inside the timing: the plain way has to make it too.
    let mut users = String::with_capacity(rows.len() * 300);
    let mut events = String::with_capacity(rows.len() * 200);
    for (u, e) in rows {
        let u = UserColumns::from_user(u);
        let (org, id) = (u.org_id.to_string(), u.user_id.to_string());
        let mut lexemes: Vec<&str> = u
            .search_text
            .split_whitespace()
            .flat_map(|term| {
                [term.get(..2), term.get(..3), Some(term)]
                    .into_iter()
                    .flatten()
            })
            .collect();
        lexemes.sort_unstable();
        lexemes.dedup();
        let terms = lexemes.join(" ");
        let (created, updated, changed, version) = (
            u.created_at.to_string(),
            u.updated_at.to_string(),
            u.status_changed_at.to_string(),
            u.version.to_string(),
        );
        line(
            &mut users,
            &[
                Some(&org),
                Some(&id),
                u.username.as_deref(),
                u.username_key.as_deref(),
                u.username_skeleton.as_deref(),
                u.email.as_deref(),
                u.email_key.as_deref(),
                Some(&u.given_name),
                Some(&u.family_name),
                Some(&u.given_key),
                Some(&u.family_key),
                Some(&u.role),
                Some(&u.status),
                Some(&u.source),
                u.external_id.as_deref(),
                Some(if u.prevent_archiving { "t" } else { "f" }),
                u.password_hash.as_deref(),
                Some(if u.must_change_password { "t" } else { "f" }),
                Some(&u.attributes),
                Some(&created),
                Some(&updated),
                Some(&changed),
                Some(&version),
                Some(&terms),
            ],
        );
        let e = EventColumns::from_event(e);
        let uuid = |v: Option<uuid::Uuid>| v.map(|v| v.to_string());
        let (actor_user, actor_id, run_id) =
            (uuid(e.actor_user_id), uuid(e.actor_id), uuid(e.run_id));
        line(
            &mut events,
            &[
                Some(&e.event_id.to_string()),
                Some(&org),
                Some(&e.user_id.to_string()),
                Some(&e.at.to_string()),
                Some(&e.actor_kind),
                actor_user.as_deref(),
                Some(&e.actor_label),
                Some(&e.action),
                e.from_status.as_deref(),
                e.to_status.as_deref(),
                e.reason.as_deref(),
                Some(&e.changed_fields),
                actor_id.as_deref(),
                run_id.as_deref(),
            ],
        );
    }
    let mut tx = conn.begin().await?;
    copy(&mut tx, "copy lean.user_account from stdin", users).await?;
    copy(&mut tx, "copy lean.audit_event from stdin", events).await?;
    tx.commit().await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Baseline {
        rows_per_s: rows.len() as f64 / seconds,
        bytes_per_row: written.since().await? as f64 / rows.len().max(1) as f64,
    })
}
