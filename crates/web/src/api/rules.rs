//! `/api/v1/status-rules`: what each status means, from the rules module itself.

use axum::Json;
use rollcall_domain::{Status, rules};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The status rules table: every question, answered for every status, and the moves an admin
/// may make. Generated from the code that enforces it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusRulesBody {
    /// The statuses, in the order every `answers` list follows.
    pub statuses: Vec<String>,
    pub rules: Vec<RuleBody>,
    pub details: Vec<StatusDetailBody>,
}

/// One question of the table.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RuleBody {
    /// A stable name for the question.
    pub key: String,
    pub question: String,
    /// The answer for each status, in `statuses` order.
    pub answers: Vec<String>,
}

/// One status: how it is shown, and where an admin may move someone from it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusDetailBody {
    pub status: String,
    pub label: String,
    /// A badge shown beside the person's name, if any.
    pub badge: Option<String>,
    /// The Active on/off switch is offered for people with this status.
    pub active_switch: bool,
    pub transitions: Vec<TransitionBody>,
}

/// A move an admin may make.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransitionBody {
    pub to: String,
    /// "Deactivate", "Reactivate", "Archive" or "Restore".
    pub verb: String,
    pub consequence: String,
    /// It takes access away.
    pub destructive: bool,
}

#[utoipa::path(get, path = "/api/v1/status-rules", tag = "status rules",
    responses((status = 200, body = StatusRulesBody)))]
pub async fn status_rules() -> Json<StatusRulesBody> {
    Json(StatusRulesBody {
        statuses: Status::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        rules: rules::table()
            .into_iter()
            .map(|row| RuleBody {
                key: row.key.to_owned(),
                question: row.question.to_owned(),
                answers: row.answers,
            })
            .collect(),
        details: Status::ALL
            .iter()
            .map(|status| {
                let shown = rules::presentation(*status);
                StatusDetailBody {
                    status: status.as_str().to_owned(),
                    label: shown.label.to_owned(),
                    badge: shown.badge.map(str::to_owned),
                    active_switch: shown.active_switch,
                    transitions: rules::admin_transitions(*status)
                        .iter()
                        .map(|t| TransitionBody {
                            to: t.to.as_str().to_owned(),
                            verb: t.verb.to_owned(),
                            consequence: t.consequence.to_owned(),
                            destructive: t.destructive,
                        })
                        .collect(),
                }
            })
            .collect(),
    })
}
