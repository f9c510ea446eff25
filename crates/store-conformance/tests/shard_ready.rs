//! The PostgreSQL schema is ready to be distributed by `org_id` (on Citus, or any engine that
//! shards tables by a column): every table carries `org_id`, every primary key, unique
//! constraint and index begins with it, and every foreign key includes it on both sides. Read
//! from the catalog after every migration has run, so a new table or index that would break
//! distribution fails here. On both backends, every index also says why it exists.

use rollcall_testkit::TestDb;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// Tables that are not distributed by org, and why. Each would be a reference table (copied to
/// every node): small, and read far more often than written.
const NOT_BY_ORG: &[(&str, &str)] = &[
    (
        "org",
        "the tenants themselves: every request finds its org by slug before knowing its id",
    ),
    (
        "server_secret",
        "keys every server process shares, written once",
    ),
    (
        "sign_in_throttle",
        "an address is counted across every org it tries; pruned as runs fade",
    ),
    ("_sqlx_migrations", "the migrations applied"),
];

/// Indexes whose keys are not column values but lexemes, each of which begins with its org's
/// key: the org leads every key as in a B-tree index led by `org_id`, and a search reads only
/// its org's postings. A GIN index led by an `org_id` column would instead intersect every
/// search with the org's whole posting list (all its users).
const LED_BY_ORG_KEY: &[(&str, &str)] = &[(
    "user_account_search",
    "word-prefix search: each lexeme is the org's key, the term's kind and a prefix (migration 0011)",
)];

/// A foreign key: its name, its table, the table it references, and the columns on each side.
type ForeignKey = (String, String, String, Vec<String>, Vec<String>);

fn exempt(table: &str) -> bool {
    NOT_BY_ORG.iter().any(|(name, _)| *name == table)
}

#[tokio::test]
async fn every_table_key_and_index_of_the_schema_begins_with_org_id() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let mut broken = Vec::new();

    let tables: Vec<(String, bool)> = sqlx::query_as(
        "select c.relname::text, exists (select 1 from pg_attribute a \
             where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped) \
         from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') \
         order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        tables.iter().any(|(t, _)| t == "user_account") && tables.len() > 10,
        "the catalog was read: {tables:?}"
    );
    for (table, has_org) in &tables {
        if !has_org && !exempt(table) {
            broken.push(format!("table {table} has no org_id column"));
        }
    }

    // Every index, and so every primary key and unique constraint (each is an index): its
    // first column. An expression as the first column reads as none.
    let indexes: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select i.indexrelid::regclass::text, t.relname::text, a.attname::text \
         from pg_index i join pg_class t on t.oid = i.indrelid \
         left join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0] \
         where t.relnamespace = 'public'::regnamespace order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (index, table, first) in &indexes {
        let led_by_org_key = LED_BY_ORG_KEY.iter().any(|(name, _)| name == index);
        if first.as_deref() != Some("org_id") && !exempt(table) && !led_by_org_key {
            broken.push(format!(
                "index {index} on {table} begins with {}",
                first.as_deref().unwrap_or("an expression")
            ));
        }
    }

    let foreign: Vec<ForeignKey> = sqlx::query_as(
        "select c.conname::text, c.conrelid::regclass::text, c.confrelid::regclass::text, \
             array(select attname::text from pg_attribute \
                   where attrelid = c.conrelid and attnum = any(c.conkey)), \
             array(select attname::text from pg_attribute \
                   where attrelid = c.confrelid and attnum = any(c.confkey)) \
         from pg_constraint c where c.contype = 'f' \
             and c.connamespace = 'public'::regnamespace order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (name, from, to, columns, referenced) in &foreign {
        let org = |cols: &[String]| cols.iter().any(|c| c == "org_id");
        if !org(columns) || !org(referenced) {
            broken.push(format!(
                "foreign key {name} from {from} ({}) to {to} ({}) leaves out org_id",
                columns.join(", "),
                referenced.join(", ")
            ));
        }
    }

    assert!(
        broken.is_empty(),
        "the schema cannot be distributed by org_id:\n{}",
        broken.join("\n")
    );
}

/// The indexes of a schema that do not say why they exist, given how each says it.
fn unexplained(indexes: &[(String, bool)]) -> Vec<String> {
    indexes
        .iter()
        .filter(|(_, explained)| !explained)
        .map(|(name, _)| name.clone())
        .collect()
}

#[tokio::test]
async fn every_postgres_index_says_why_it_exists() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    // Each index's comment (`comment on index`, migration 0012): `\di+` shows it.
    let indexes: Vec<(String, bool)> = sqlx::query_as(
        "select c.relname::text, coalesce(length(obj_description(c.oid, 'pg_class')), 0) > 10 \
         from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'i' \
           and c.relname <> '_sqlx_migrations_pkey' order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(indexes.len() > 30, "the schema's indexes: {indexes:?}");
    assert_eq!(
        unexplained(&indexes),
        Vec::<String>::new(),
        "indexes without a comment saying why they exist (add `comment on index` in a migration)"
    );
}

#[tokio::test]
async fn every_sqlite_index_says_why_it_exists() {
    // The reasons are comment lines of the migrations (0009 for the indexes made before it).
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../store-sqlite/migrations");
    let mut reasons = String::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        reasons.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let db = TestDb::sqlite().await;
    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'index' and name not like 'sqlite_%' \
         order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(names.len() > 15, "the schema's indexes: {names:?}");
    let indexes: Vec<(String, bool)> = names
        .into_iter()
        .map(|name| {
            let explained = reasons.contains(&format!("--   {name}: "));
            (name, explained)
        })
        .collect();
    assert_eq!(
        unexplained(&indexes),
        Vec::<String>::new(),
        "indexes not named, with why they exist, in a SQLite migration (`--   name: why`)"
    );
}
