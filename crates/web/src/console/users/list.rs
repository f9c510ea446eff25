//! The Users screen: search, filters, sorting, paging and the count.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rollcall_app::{App, AppError, ListUsers};
use rollcall_domain::ListFilter;
use serde::Deserialize;

use super::{failure_page, role_names, row};
use crate::console::extract::{Admin, is_htmx};
use crate::console::pages::{Column, MessagePage, UsersPage};
use crate::console::render;

/// Counts stop here: "more than 10,000" is as useful as the exact figure, and stays cheap.
const COUNT_CAP: u64 = 10_000;
const PAGE: usize = 50;

#[derive(Debug, Deserialize, Default, Clone)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl UsersQuery {
    fn href(&self, sort: &str, cursor: &str) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("q", self.q.as_str()),
            ("status", &self.status),
            ("role", &self.role),
            ("source", &self.source),
            ("sort", sort),
            ("cursor", cursor),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        if parts.is_empty() {
            "/users".to_owned()
        } else {
            format!("/users?{}", parts.join("&"))
        }
    }
}

fn columns(query: &UsersQuery) -> Vec<Column> {
    let current = if query.sort.is_empty() {
        "family_name"
    } else {
        query.sort.as_str()
    };
    let sortable = |label, class, key: &str| {
        let (arrow, aria_sort, next) = if current == key {
            (" ▲", "ascending", format!("-{key}"))
        } else if current.strip_prefix('-') == Some(key) {
            (" ▼", "descending", key.to_owned())
        } else {
            ("", "", key.to_owned())
        };
        Column {
            label,
            class,
            href: query.href(&next, ""),
            arrow,
            aria_sort,
        }
    };
    let plain = |label, class| Column {
        label,
        class,
        href: String::new(),
        arrow: "",
        aria_sort: "",
    };
    vec![
        sortable("Name", "", "family_name"),
        plain("Username or e-mail", "col-login"),
        plain("Role", "col-role"),
        plain("Source", "col-source"),
        sortable("Status", "", "status_changed"),
    ]
}

pub async fn index(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Query(query): Query<UsersQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let input = ListUsers {
        status: Some(query.status.clone()).filter(|s| !s.is_empty()),
        role: Some(query.role.clone()).filter(|s| !s.is_empty()),
        source: Some(query.source.clone()).filter(|s| !s.is_empty()),
        q: Some(query.q.clone()),
        sort: Some(query.sort.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        cursor: Some(query.cursor.clone()).filter(|s| !s.is_empty()),
    };
    let (page, count, sources) = match tokio::try_join!(
        app.list_users(who, input.clone()),
        app.count_users(who, &input, COUNT_CAP),
        app.sources(who),
    ) {
        Ok(found) => found,
        Err(err @ AppError::Invalid(_)) => {
            let (status, detail) = crate::console::errors::explain(&err);
            let page = MessagePage::new(
                signed_in.chrome,
                "Those filters do not work",
                &detail,
                "/users",
                "Show all users",
            );
            return (status, render(&page)).into_response();
        }
        Err(err) => return failure_page(&signed_in, &err),
    };
    let filter: ListFilter = query.status.parse().unwrap_or_default();
    let noun = if count == 1 { "user" } else { "users" };
    let count_text = if count >= COUNT_CAP {
        format!("More than {COUNT_CAP} users")
    } else {
        format!("{count} {noun}")
    };
    let here = query.href(&query.sort, &query.cursor);
    let mut chrome = signed_in.chrome;
    chrome.bare = is_htmx(&headers);
    // htmx asking for the results (a search as you type, a sort, a refresh) gets them alone.
    let results_only = chrome.bare
        && headers
            .get("hx-target")
            .is_some_and(|target| target.as_bytes() == b"results");
    let refresh = headers.contains_key("x-rollcall-refresh");
    let users_page = UsersPage {
        q: query.q.clone(),
        status: filter.as_str().to_owned(),
        status_label: format!("{} filter", status_label(filter)),
        role: query.role.clone(),
        source: query.source.clone(),
        sort: query.sort.clone(),
        status_options: ListFilter::ALL
            .iter()
            .map(|f| (f.as_str(), status_label(*f)))
            .collect(),
        role_options: role_names(),
        sort_options: vec![
            ("family_name", "Family name"),
            ("given_name", "Given name"),
            ("-created", "Newest first"),
            ("-status_changed", "Status changed, latest first"),
        ],
        source_options: sources,
        columns: columns(&query),
        rows: page.users.iter().map(row).collect(),
        count_text,
        back: here.clone(),
        here,
        next_href: page
            .next
            .as_deref()
            .map(|next| query.href(&query.sort, next))
            .unwrap_or_default(),
        first_href: if query.cursor.is_empty() {
            String::new()
        } else {
            query.href(&query.sort, "")
        },
        results_only,
        refresh,
        chrome,
    };
    render(&users_page)
}

fn status_label(filter: ListFilter) -> &'static str {
    match filter {
        ListFilter::Active => "Active",
        ListFilter::Inactive => "Inactive",
        ListFilter::Archived => "Archived",
        ListFilter::All => "Active and inactive",
    }
}
