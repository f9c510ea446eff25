//! The demo's SCIM connection: an identity provider (`entra`) that has provisioned a few
//! staff, one of them disabled since, so the connection's people can be seen at once.

use anyhow::{Result, anyhow};
use rollcall_app::{App, NewConnection, Principal};
use serde_json::json;

/// The connection's name.
pub const CONNECTION: &str = "entra";

pub async fn seed(app: &App, who: &Principal) -> Result<()> {
    let fail = |e: rollcall_app::AppError| anyhow!("{e}");
    let (_, secret) = app
        .add_scim_connection(
            who,
            NewConnection {
                name: CONNECTION.into(),
                token_name: Some("demo".into()),
                ..NewConnection::default()
            },
        )
        .await
        .map_err(fail)?;
    let caller = app.authenticate_scim(&secret).await.map_err(fail)?;
    let people = [
        ("Priya", "Raman", "Counsellor", "Student Services"),
        ("Tomasz", "Nowak", "Network administrator", "IT"),
        ("Amara", "Okafor", "Payroll officer", "Finance"),
        ("Lucas", "Moreau", "Facilities lead", "Facilities"),
    ];
    let mut ids = Vec::new();
    for (i, (given, family, title, department)) in people.into_iter().enumerate() {
        let user_name = format!(
            "{}.{}@{}",
            given.to_lowercase(),
            family.to_lowercase(),
            crate::demo::DOMAIN
        );
        let body = json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "userName": user_name,
            "externalId": format!("entra-{:04}", i + 1),
            "name": {"givenName": given, "familyName": family},
            "displayName": format!("{given} {family}"),
            "emails": [{"value": user_name, "type": "work", "primary": true}],
            "title": title,
            "userType": "staff",
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": department},
        });
        let made = app.scim_create_user(&caller, &body).await.map_err(fail)?;
        ids.push(made.record.id.to_string());
    }
    // The identity provider disabled one of them since (their history stays).
    let disable = rollcall_scim::patch::operations(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }))
    .map_err(|e| anyhow!("{e}"))?;
    if let Some(last) = ids.last() {
        app.scim_patch_user(&caller, last, &disable, None)
            .await
            .map_err(fail)?;
    }
    Ok(())
}
