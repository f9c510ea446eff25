//! The parts of a user listing's SQL that both backends write the same way (their search
//! plans differ, so each builds its listing with sqlx's own `QueryBuilder`).

use rollcall_domain::OrgId;
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

use crate::rows::micros;
use crate::{SortKey, UserQuery, UserSort};

/// The columns a sort orders by, most significant first; each ends with the id.
pub fn sort_columns(sort: UserSort) -> &'static [&'static str] {
    match sort {
        UserSort::FamilyName => &["family_key", "given_key", "user_id"],
        UserSort::GivenName => &["given_key", "family_key", "user_id"],
        UserSort::Created => &["created_at", "user_id"],
        UserSort::StatusChanged => &["status_changed_at", "user_id"],
    }
}

/// Pushes ` u.org_id = … and u.status = …` plus the role and source filters.
pub fn push_filters<'a, DB>(b: &mut QueryBuilder<'a, DB>, org: OrgId, query: &UserQuery)
where
    DB: Database,
    Uuid: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    b.push(" u.org_id = ").push_bind(org.as_uuid());
    b.push(" and u.status = ")
        .push_bind(query.status.as_str().to_owned());
    if let Some(role) = query.role {
        b.push(" and u.role = ").push_bind(role.as_str().to_owned());
    }
    if let Some(source) = &query.source {
        b.push(" and u.source = ")
            .push_bind(source.as_str().to_owned());
    }
}

/// Pushes one ` and <find>(u.search_text, ' word') > 0` per word: a scan's word check.
/// `find` is the backend's substring position function (`instr`, `strpos`).
pub fn push_word_checks<'a, DB>(b: &mut QueryBuilder<'a, DB>, words: &[String], find: &str)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    for word in words {
        b.push(format_args!(" and {find}(u.search_text, "))
            .push_bind(format!(" {word}"))
            .push(") > 0");
    }
}

/// Pushes the keyset condition, the order and the limit.
pub fn push_page<'a, DB>(b: &mut QueryBuilder<'a, DB>, query: &UserQuery)
where
    DB: Database,
    Uuid: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let columns = sort_columns(query.sort);
    let list = |prefix: &str| {
        columns
            .iter()
            .map(|c| format!("{prefix}{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(after) = &query.after {
        let op = if query.descending { "<" } else { ">" };
        b.push(format_args!(" and ({}) {op} (", list("u.")));
        match after {
            SortKey::Names(first, second, id) => {
                b.push_bind(first.clone())
                    .push(", ")
                    .push_bind(second.clone())
                    .push(", ")
                    .push_bind(id.as_uuid());
            }
            SortKey::Time(at, id) => {
                b.push_bind(micros(*at)).push(", ").push_bind(id.as_uuid());
            }
        }
        b.push(")");
    }
    b.push(format_args!(" order by {} limit ", order_by(query, "u.")))
        .push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
}

/// The listing's order: `u.family_key desc, u.given_key desc, …` (with `prefix` as the alias).
pub fn order_by(query: &UserQuery, prefix: &str) -> String {
    let direction = if query.descending { " desc" } else { "" };
    sort_columns(query.sort)
        .iter()
        .map(|c| format!("{prefix}{c}{direction}"))
        .collect::<Vec<_>>()
        .join(", ")
}
