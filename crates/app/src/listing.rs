//! Listing and searching users: filters, sorts and keyset cursors.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rollcall_domain::{ListFilter, Role, Source, User, UserId, rules, search};
use rollcall_store::{SortKey, UserQuery, UserSort};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::error::{Errors, lost_field};
use crate::{App, AppError, Principal};

/// The largest page a caller may ask for.
pub const MAX_PAGE: usize = 200;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// A listing as asked for: raw text, validated by [`App::list_users`].
#[derive(Debug, Clone, Default)]
pub struct ListUsers {
    /// `active` (default), `inactive`, `archived` or `all`.
    pub status: Option<String>,
    pub role: Option<String>,
    pub source: Option<String>,
    /// Words typed into the search bar.
    pub q: Option<String>,
    /// `family_name` (default), `given_name`, `created`, `status_changed`; `-` first reverses.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// One page, and the cursor of the next when there is one.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<String>,
}

/// The position after the last row of a page, as handed to clients (opaque to them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    sort: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    second: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    micros: Option<i64>,
    id: UserId,
}

impl Cursor {
    fn encode(sort: &str, key: &SortKey) -> String {
        let cursor = match key {
            SortKey::Names(first, second, id) => Cursor {
                sort: sort.to_owned(),
                first: Some(first.clone()),
                second: Some(second.clone()),
                micros: None,
                id: *id,
            },
            SortKey::Time(at, id) => Cursor {
                sort: sort.to_owned(),
                first: None,
                second: None,
                micros: Some(at.timestamp_micros()),
                id: *id,
            },
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
    }

    fn decode(raw: &str, sort: &str) -> Result<SortKey, AppError> {
        let invalid = || AppError::invalid("cursor", "is not a cursor this listing handed out");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.sort != sort {
            return Err(AppError::invalid(
                "cursor",
                format!("belongs to the sort '{}', not '{sort}'", cursor.sort),
            ));
        }
        match (cursor.first, cursor.second, cursor.micros) {
            // Sort keys are folded names: no control character (nor a NUL for the database).
            (Some(first), Some(second), None)
                if !format!("{first}{second}").chars().any(char::is_control) =>
            {
                Ok(SortKey::Names(first, second, cursor.id))
            }
            (None, None, Some(micros)) => chrono::DateTime::from_timestamp_micros(micros)
                .map(|at| SortKey::Time(at, cursor.id))
                .ok_or_else(invalid),
            _ => Err(invalid()),
        }
    }
}

fn parse_sort(raw: Option<&str>) -> Result<(UserSort, bool, String), rollcall_domain::FieldError> {
    let raw = raw.map_or("family_name", str::trim);
    let (descending, name) = raw
        .strip_prefix('-')
        .map_or((false, raw), |rest| (true, rest));
    let sort = match name {
        "family_name" | "" => UserSort::FamilyName,
        "given_name" => UserSort::GivenName,
        "created" => UserSort::Created,
        "status_changed" => UserSort::StatusChanged,
        other => {
            return Err(rollcall_domain::FieldError::new(
                "sort",
                format!(
                    "unknown sort '{other}'; expected family_name, given_name, created or \
                     status_changed, optionally with '-' first for descending"
                ),
            ));
        }
    };
    Ok((sort, descending, raw.to_owned()))
}

impl App {
    /// A page of users under a status filter, optionally searched, filtered, sorted.
    ///
    /// Each status the filter spans is read in order from its own index and the slices are
    /// merged here, so "All" pages as fast as a single status does.
    #[instrument(skip_all, fields(org.id = %who.org_id))]
    pub async fn list_users(
        &self,
        who: &Principal,
        input: ListUsers,
    ) -> Result<UserPage, AppError> {
        who.require_admin()?;
        let (statuses, template) = Self::query_template(&input)?;
        let sort_text = template.1;
        let mut query = template.0;
        let limit = input.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        query.after = input
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| Cursor::decode(c, &sort_text))
            .transpose()?;
        // One row more than the page tells whether another page follows.
        query.limit = limit + 1;
        let mut rows = Vec::new();
        for status in statuses {
            let slice = UserQuery {
                status,
                ..query.clone()
            };
            rows.extend(self.store.list_users(who.org_id, &slice).await?);
        }
        let sort = query.sort;
        rows.sort_by_cached_key(|user| sort.key_of(user));
        if query.descending {
            rows.reverse();
        }
        let next = (rows.len() > limit)
            .then(|| Cursor::encode(&sort_text, &sort.key_of(&rows[limit - 1])));
        rows.truncate(limit);
        Ok(UserPage { users: rows, next })
    }

    /// The sources the org's users come from (`manual` and each provisioning source).
    pub async fn sources(&self, who: &Principal) -> Result<Vec<String>, AppError> {
        who.require_admin()?;
        Ok(self.store.sources(who.org_id).await?)
    }

    /// How many users the listing would show in all, counting no further than `cap`.
    pub async fn count_users(
        &self,
        who: &Principal,
        input: &ListUsers,
        cap: u64,
    ) -> Result<u64, AppError> {
        who.require_admin()?;
        let (statuses, (query, _)) = Self::query_template(input)?;
        let mut total = 0;
        for status in statuses {
            let slice = UserQuery {
                status,
                ..query.clone()
            };
            total += self.store.count_users(who.org_id, &slice, cap).await?;
        }
        Ok(total.min(cap))
    }

    fn query_template(
        input: &ListUsers,
    ) -> Result<(Vec<rollcall_domain::Status>, (UserQuery, String)), AppError> {
        let mut errors = Errors::default();
        let filter = match input.status.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => errors.take(raw.parse::<ListFilter>()),
            None => Some(ListFilter::default()),
        };
        let role = input
            .role
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|r| errors.take(r.parse::<Role>()));
        let source = input
            .source
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| errors.take(Source::parse(s)));
        let sort = errors.take(parse_sort(input.sort.as_deref()));
        let words = errors.take(search::parse_query(input.q.as_deref().unwrap_or_default()));
        errors.finish()?;
        let (Some(filter), Some((sort, descending, sort_text)), Some(words)) =
            (filter, sort, words)
        else {
            return Err(lost_field());
        };
        let query = UserQuery {
            status: rollcall_domain::Status::Active,
            role,
            source,
            words,
            sort,
            descending,
            after: None,
            limit: DEFAULT_PAGE,
        };
        Ok((rules::statuses_under(filter), (query, sort_text)))
    }
}
