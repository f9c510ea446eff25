use serde_json::json;

use super::*;
use crate::ScimType;
use crate::document::normalise;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Doc {
    normalise(
        Resource::User,
        &json!({
            "userName": "ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "active": true,
            "emails": [{"value": "ada@example.org", "type": "work", "primary": true}],
        }),
    )
    .expect("valid")
    .doc
}

fn patched(resource: Resource, mut doc: Doc, body: &Value) -> Result<Doc, ScimError> {
    let ops = operations(body)?;
    apply(resource, &mut doc, &ops, "the-id")?;
    Ok(doc)
}

fn ops(list: &Value) -> Value {
    json!({"schemas": [urn::PATCH], "Operations": list})
}

#[test]
fn okta_deactivates_with_a_pathless_replace() {
    let doc = patched(
        Resource::User,
        user(),
        &ops(&json!([{"op": "replace", "value": {"active": false}}])),
    )
    .expect("applies");
    assert_eq!(doc["active"], json!(false));
}

#[test]
fn entra_sends_capitalised_ops_and_booleans_as_strings() {
    for text in ["False", "false", "FALSE"] {
        let doc = patched(
            Resource::User,
            user(),
            &ops(&json!([{"op": "Replace", "path": "active", "value": text}])),
        )
        .expect("applies");
        assert_eq!(doc["active"], json!(false), "{text}");
    }
    let err = patched(
        Resource::User,
        user(),
        &ops(&json!([{"op": "Replace", "path": "active", "value": "nope"}])),
    )
    .expect_err("not a boolean");
    assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn entra_pathless_keys_are_paths() {
    let doc = patched(
        Resource::User,
        user(),
        &ops(&json!([{"op": "replace", "value": {
            "displayName": "Ada King",
            "name.givenName": "Augusta",
            "name.familyName": "King",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
            "active": false,
        }}])),
    )
    .expect("applies");
    assert_eq!(
        doc["name"],
        json!({"givenName": "Augusta", "familyName": "King"})
    );
    assert_eq!(doc["displayName"], "Ada King");
    assert_eq!(doc[ENT]["employeeNumber"], "7");
    assert!(doc.get("name.givenName").is_none());
}

#[test]
fn entra_adds_a_work_email_that_was_not_there() {
    let mut doc = user();
    doc.remove("emails");
    let doc = patched(
        Resource::User,
        doc,
        &ops(&json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.org"}])),
    )
    .expect("applies");
    assert_eq!(
        doc["emails"],
        json!([{"type": "work", "value": "new@example.org"}])
    );
    // …and replaces it in place when it is.
    let doc = patched(
        Resource::User,
        doc,
        &ops(&json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "other@example.org"}])),
    )
    .expect("applies");
    assert_eq!(
        doc["emails"],
        json!([{"type": "work", "value": "other@example.org"}])
    );
}

#[test]
fn entra_manager_as_a_list_and_nickname_added() {
    let doc = patched(
        Resource::User,
        user(),
        &ops(&json!([
            {"op": "Add", "path": "manager", "value": [{"$ref": "../Users/m1", "value": "m1"}]},
            {"op": "Add", "path": "nickName", "value": "Babs"},
        ])),
    )
    .expect("applies");
    assert_eq!(doc[ENT]["manager"]["value"], "m1");
    assert_eq!(doc["nickName"], "Babs");
}

#[test]
fn group_membership_in_every_dialect() {
    let group = normalise(
        Resource::Group,
        &json!({"displayName": "Year 7", "members": [{"value": "u1"}, {"value": "u2"}]}),
    )
    .expect("valid")
    .doc;
    // Okta: rename with the group's own id, remove by filter, add a list — in one request.
    let doc = patched(
        Resource::Group,
        group,
        &ops(&json!([
            {"op": "replace", "value": {"id": "the-id", "displayName": "Year 7 (2026)"}},
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "add", "path": "members", "value": [{"value": "u3", "display": "Cy"}, {"value": "u2"}]},
        ])),
    )
    .expect("applies");
    assert_eq!(doc["displayName"], "Year 7 (2026)");
    assert_eq!(
        doc["members"],
        json!([{"value": "u2"}, {"value": "u3", "display": "Cy"}])
    );
    // Entra: add with $ref null, remove with a list of values; replaying changes nothing.
    let doc = patched(
        Resource::Group,
        doc,
        &ops(&json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u4"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "u2"}, {"value": "gone"}]},
            {"op": "Remove", "path": "members[value eq \"never\"]"},
        ])),
    )
    .expect("applies");
    assert_eq!(
        doc["members"],
        json!([{"value": "u3", "display": "Cy"}, {"value": "u4"}])
    );
    // Okta's full replace.
    let doc = patched(
        Resource::Group,
        doc,
        &ops(&json!([{"op": "replace", "path": "members", "value": [{"value": "u9"}]}])),
    )
    .expect("applies");
    assert_eq!(doc["members"], json!([{"value": "u9"}]));
}

#[test]
fn bad_operations_are_refused_with_the_rfc_type() {
    for (list, kind, says) in [
        (
            json!([{"op": "move", "path": "title", "value": "x"}]),
            ScimType::InvalidSyntax,
            "'move'",
        ),
        (
            json!([{"op": "remove"}]),
            ScimType::NoTarget,
            "needs a path",
        ),
        (
            json!([{"op": "add", "path": "shoeSize", "value": 9}]),
            ScimType::InvalidPath,
            "shoeSize",
        ),
        (
            json!([{"op": "replace", "path": "id", "value": "other"}]),
            ScimType::Mutability,
            "read-only",
        ),
        (
            json!([{"op": "replace", "path": "meta.created", "value": "x"}]),
            ScimType::Mutability,
            "read-only",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"home\" and primary eq true]", "value": {"value": "x"}}]),
            ScimType::NoTarget,
            "matches",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]),
            ScimType::InvalidPath,
            "']'",
        ),
        (
            json!([{"op": "add", "path": "title"}]),
            ScimType::InvalidValue,
            "needs a value",
        ),
        (json!([]), ScimType::InvalidSyntax, "empty"),
    ] {
        let err = patched(Resource::User, user(), &ops(&list)).expect_err(says);
        assert_eq!(err.scim_type, Some(kind), "{says}: {}", err.detail);
        assert!(err.detail.contains(says), "{says}: {}", err.detail);
    }
    let err = patched(
        Resource::User,
        user(),
        &json!({"schemas": ["urn:x"], "Operations": []}),
    )
    .expect_err("wrong schema");
    assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn unknown_extensions_are_ignored_and_removal_clears() {
    let mut doc = user();
    let ops = operations(&ops(&json!([
        {"op": "add", "path": "urn:example:custom:1.0:User:shoe", "value": 9},
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "emails[type eq \"work\"]"},
    ])))
    .expect("reads");
    let ignored = apply(Resource::User, &mut doc, &ops, "x").expect("applies");
    assert_eq!(ignored, vec!["urn:example:custom:1.0:User:shoe".to_owned()]);
    assert_eq!(doc["name"], json!({"familyName": "Lovelace"}));
    assert!(doc.get("emails").is_none());
}

#[test]
fn a_new_primary_value_demotes_the_old_one() {
    let doc = patched(
        Resource::User,
        user(),
        &ops(&json!([{"op": "add", "path": "emails", "value": [{"value": "b@x.org", "type": "home", "primary": true}]}])),
    )
    .expect("applies");
    assert_eq!(
        doc["emails"],
        json!([
            {"value": "ada@example.org", "type": "work"},
            {"value": "b@x.org", "type": "home", "primary": true},
        ])
    );
}
