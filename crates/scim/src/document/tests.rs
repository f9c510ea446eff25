use serde_json::json;

use super::*;
use crate::ScimType;

#[test]
fn keys_are_read_in_any_case_and_kept_canonical() {
    let got = normalise(
        Resource::User,
        &json!({
            "SCHEMAS": [urn::USER],
            "USERNAME": "Ada@Example.org",
            "Name": {"GivenName": "Ada", "familyname": "Lovelace"},
            "active": "True",
            "emails": {"value": "ada@example.org", "type": "work", "primary": true},
        }),
    )
    .expect("valid");
    assert_eq!(
        Value::Object(got.doc),
        json!({
            "userName": "Ada@Example.org",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "active": true,
            "emails": [{"value": "ada@example.org", "type": "work", "primary": true}],
        })
    );
}

#[test]
fn read_only_write_only_and_nulls_are_dropped() {
    // Entra's create: meta.resourceType, nulls and empty lists; Okta's: password, groups: [].
    let got = normalise(
        Resource::User,
        &json!({
            "id": "mine",
            "meta": {"resourceType": "User"},
            "userName": "ada",
            "password": "hunter2",
            "groups": [],
            "addresses": null,
            "roles": [],
            "nickName": null,
        }),
    )
    .expect("valid");
    assert_eq!(Value::Object(got.doc), json!({"userName": "ada"}));
}

#[test]
fn extensions_known_are_kept_and_unknown_ones_ignored() {
    let got = normalise(
        Resource::User,
        &json!({
            "userName": "ada",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
                "Department": "Science",
                "employeeNumber": 42,
                "manager": {"value": "m1", "displayName": "ignored"},
            },
            "urn:example:custom:1.0:User": {"shoe": 9},
        }),
    )
    .expect("valid");
    assert_eq!(
        got.doc[urn::ENTERPRISE],
        json!({"department": "Science", "employeeNumber": "42", "manager": {"value": "m1"}})
    );
    assert_eq!(got.ignored, vec!["urn:example:custom:1.0:User".to_owned()]);
}

#[test]
fn unknown_attributes_and_wrong_types_are_refused_by_name() {
    for (body, says) in [
        (
            json!({"userName": "a", "shoeSize": 9}),
            "'shoeSize' is not an attribute",
        ),
        (
            json!({"userName": "a", "name": {"nick": "x"}}),
            "'nick' is not a sub-attribute of name",
        ),
        (
            json!({"userName": "a", "active": "maybe"}),
            "active must be true or false",
        ),
        (
            json!({"userName": ["a"]}),
            "userName must be a single string",
        ),
        (
            json!({"userName": "a", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}),
            "at most one value may be primary",
        ),
    ] {
        let err = normalise(Resource::User, &body).expect_err(says);
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{says}");
        assert!(err.detail.contains(says), "{says}: {}", err.detail);
    }
    let err = normalise(Resource::User, &json!([1])).expect_err("not an object");
    assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn required_attributes_are_checked() {
    let doc = normalise(Resource::User, &json!({"displayName": "Ada"}))
        .expect("valid")
        .doc;
    let err = require(Resource::User, &doc).expect_err("no userName");
    assert!(err.detail.contains("userName is required"));
    let doc = normalise(Resource::Group, &json!({"displayName": " "}))
        .expect("valid")
        .doc;
    assert!(require(Resource::Group, &doc).is_err());
}

#[test]
fn the_preferred_value_is_primary_then_of_the_kind_then_first() {
    let doc = normalise(
        Resource::User,
        &json!({"userName": "a", "emails": [{"value": "h@x", "type": "home"}, {"value": "w@x", "type": "work"}]}),
    )
    .expect("valid")
    .doc;
    assert_eq!(
        preferred(&doc, "emails", "work").and_then(|v| v.get("value")),
        Some(&json!("w@x"))
    );
    assert_eq!(text(&doc, Home::Core, &["userName"]), Some("a"));
}
