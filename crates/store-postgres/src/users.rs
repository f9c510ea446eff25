//! Writing user rows with their search vectors.
//!
//! Search goes through one GIN index on `user_account.search_vector` (migration 0011): each of
//! a user's terms gives its prefixes of one to five letters as lexemes, led by the org's key
//! and the term's kind (the whole family name, the whole given name, anything else). A query
//! word is one exact lexeme per kind, and GIN intersects the words' posting lists itself (see
//! `search`).

use std::collections::BTreeSet;

use rollcall_store::rows::{USER_COLUMNS, UserColumns};
use rollcall_store::sql::Value;
use rollcall_store::{StoreResult, bind_user_columns};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::copy::{COPY_MIN, copy_rows};
use crate::db_error;

/// The longest prefix indexed; a longer word is found by its first this many letters and
/// checked against the row's search text.
pub(crate) const PREFIX_MAX: usize = 5;

/// The kinds of term, as the letter after the org's key: which of the user's names it is.
pub(crate) const FAMILY: char = 'f';
pub(crate) const GIVEN: char = 'g';
const OTHER: char = 'o';
pub(crate) const KINDS: [char; 3] = [FAMILY, GIVEN, OTHER];

/// The org's key at the head of each of its lexemes: the last 12 hex digits of its id (the
/// random part of a UUIDv7). Two orgs sharing one would only read each other's postings and
/// drop them on the row's `org_id`; no search depends on it for isolation.
pub(crate) fn org_key(org: Uuid) -> String {
    let hex = org.simple().to_string();
    hex[hex.len() - 12..].to_owned()
}

/// A user row's search vector in `tsvector`'s text form: every prefix of every term, with its
/// kind, under the org's key. Terms are [a-z0-9], so lexemes need no quoting.
pub(crate) fn search_vector(row: &UserColumns) -> String {
    vector(row.org_id, row.terms(), &row.family_key, &row.given_key)
}

fn vector(org: Uuid, terms: &str, family_key: &str, given_key: &str) -> String {
    let key = org_key(org);
    let mut lexemes = BTreeSet::new();
    for term in terms.split(' ').filter(|t| !t.is_empty()) {
        let kind = if term == family_key {
            FAMILY
        } else if term == given_key {
            GIVEN
        } else {
            OTHER
        };
        for n in 1..=term.len().min(PREFIX_MAX) {
            if let Some(prefix) = term.get(..n) {
                lexemes.insert(format!("{key}{kind}{prefix}"));
            }
        }
    }
    lexemes.into_iter().collect::<Vec<_>>().join(" ")
}

/// The lexeme of `word` for one kind (the word cut to the indexed prefix length).
pub(crate) fn lexeme(key: &str, kind: char, word: &str) -> String {
    let cut = word.get(..word.len().min(PREFIX_MAX)).unwrap_or(word);
    format!("{key}{kind}{cut}")
}

async fn insert_vectors(conn: &mut PgConnection, rows: &[UserColumns]) -> StoreResult<()> {
    // 25 columns × 2,000 rows stay below PostgreSQL's 65,535 bound parameters.
    for chunk in rows.chunks(2_000) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "insert into user_account ({USER_COLUMNS}, search_vector) "
        ));
        q.push_values(chunk, |mut b, row| {
            bind_user_columns!(b, push_bind, row);
            b.push_bind(search_vector(row))
                .push_unseparated("::tsvector");
        });
        q.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Inserts users with their search vectors: many through `COPY`, a few in multi-row inserts.
pub(crate) async fn insert_user_rows(
    conn: &mut PgConnection,
    rows: &[UserColumns],
) -> StoreResult<()> {
    if rows.len() < COPY_MIN {
        return insert_vectors(conn, rows).await;
    }
    copy_rows(
        conn,
        &format!("user_account ({USER_COLUMNS}, search_vector)"),
        rows,
        |row| {
            let mut values = row.values().into_iter().collect::<Vec<_>>();
            values.push(Value::Text(search_vector(row)));
            values
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lexeme_is_a_prefix_of_a_term_under_the_orgs_key_and_its_kind() {
        let org = Uuid::parse_str("01a24565-af33-7295-b587-e6ee4a7c67e2").unwrap();
        let vector = vector(org, "wei valmor weivalmor12", "valmor", "wei");
        let lexemes: Vec<&str> = vector.split(' ').collect();
        assert!(lexemes.iter().all(|l| l.starts_with("e6ee4a7c67e2")));
        for expected in ["e6ee4a7c67e2gw", "e6ee4a7c67e2gwei", "e6ee4a7c67e2fvalmo"] {
            assert!(lexemes.contains(&expected), "{expected} in {vector}");
        }
        // Five letters at most; the login is another kind of term.
        assert!(lexemes.contains(&"e6ee4a7c67e2oweiva"));
        assert!(!lexemes.iter().any(|l| l.len() > 12 + 1 + PREFIX_MAX));
        assert!(!lexemes.contains(&"e6ee4a7c67e2fwei"));
    }
}
