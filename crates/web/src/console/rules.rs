//! "What each status means": the rules table, generated from the module that enforces it.

use axum::response::Response;
use rollcall_domain::{Status, rules};

use super::extract::Admin;
use super::pages::{MoveLine, StatusRulesPage};
use super::render;

pub async fn page(Admin(signed_in): Admin) -> Response {
    let statuses = Status::ALL
        .iter()
        .map(|status| rules::presentation(*status).label)
        .collect();
    let moves = Status::ALL
        .iter()
        .flat_map(|from| {
            rules::admin_transitions(*from).iter().map(|t| MoveLine {
                from: rules::presentation(*from).label,
                to: rules::presentation(t.to).label,
                verb: t.verb,
                consequence: t.consequence,
            })
        })
        .collect();
    render(&StatusRulesPage {
        chrome: signed_in.chrome,
        statuses,
        rows: rules::table(),
        moves,
    })
}
