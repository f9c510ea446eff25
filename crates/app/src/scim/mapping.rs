//! How a SCIM User becomes a Rollcall person (documented in docs/scim.md):
//!
//! - `userName` is their username when it is one (letters, digits, `.`, `_`, `-`); an e-mail
//!   address as userName becomes their e-mail when they have none;
//! - their e-mail is the primary one of `emails`, else the work one, else the first;
//! - `name.givenName` and `name.familyName` are their names; without them, `displayName` (or
//!   the userName) is split at its last space;
//! - their role is read from the connection's role attribute (`userType` unless set
//!   otherwise), as a role word or a common synonym; a person created without one is a
//!   student, and one updated without one keeps theirs;
//! - `externalId` is their id in the connection;
//! - the enterprise extension's values, `title` and `userType` are kept among their attributes.

use std::collections::BTreeMap;

use rollcall_domain::{Attributes, Email, ExternalId, FieldError, PersonName, Role, Username};
use rollcall_scim::ScimError;
use rollcall_scim::document::{self, Doc};
use rollcall_scim::schema::Home;
use serde_json::Value;

/// What a User resource says of a person, in Rollcall's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub given_name: PersonName,
    pub family_name: PersonName,
    /// `None` when the role attribute is absent or names no role.
    pub role: Option<Role>,
    pub external_id: Option<ExternalId>,
    /// The attributes the connection keeps: set when the resource has them, removed when not.
    pub attributes: BTreeMap<String, String>,
    /// `active` as sent; `None` when the resource does not say.
    pub active: Option<bool>,
}

/// The attributes a connection writes (and so may remove), with where each is read from.
pub const MANAGED_ATTRIBUTES: &[(&str, Home, &str)] = &[
    ("employee_number", Home::Enterprise, "employeeNumber"),
    ("cost_center", Home::Enterprise, "costCenter"),
    ("organization", Home::Enterprise, "organization"),
    ("division", Home::Enterprise, "division"),
    ("department", Home::Enterprise, "department"),
    ("title", Home::Core, "title"),
    ("user_type", Home::Core, "userType"),
];

/// Where a role may be read from: `userType`, `title`, `roles` (the primary one), or an
/// attribute of the enterprise extension.
pub const ROLE_ATTRIBUTES: &[&str] = &[
    "userType",
    "title",
    "roles",
    "department",
    "division",
    "organization",
    "costCenter",
];

fn invalid(err: &FieldError, scim_name: &str) -> ScimError {
    ScimError::invalid_value(format!("{scim_name}: {}", err.message))
}

/// A role word as identity providers write it. No word makes an admin: an HR field saying
/// "Administrator" must not hand out the org's keys.
pub fn role_of(text: &str) -> Option<Role> {
    Some(match text.trim().to_lowercase().as_str() {
        "student" | "learner" | "pupil" => Role::Student,
        "teacher" | "instructor" | "faculty" | "trainer" => Role::Teacher,
        "staff" | "employee" | "manager" => Role::Staff,
        // Never an admin: admins are made in Rollcall, not by a directory's free text.
        _ => return None,
    })
}

fn role_text<'a>(doc: &'a Doc, attribute: &str) -> Option<&'a str> {
    match attribute {
        "roles" => document::preferred(doc, "roles", "")
            .and_then(|r| r.get("value"))
            .and_then(Value::as_str),
        "userType" | "title" => doc.get(attribute).and_then(Value::as_str),
        other => document::text(doc, Home::Enterprise, &[other]),
    }
}

fn split_name(whole: &str) -> (String, String) {
    let whole = whole.trim();
    match whole.rsplit_once(' ') {
        Some((given, family)) if !given.trim().is_empty() => {
            (given.trim().to_owned(), family.trim().to_owned())
        }
        _ => (whole.to_owned(), whole.to_owned()),
    }
}

/// Reads a normalised User resource; `role_attribute` names where the role comes from.
pub fn map_user(doc: &Doc, role_attribute: &str) -> Result<Mapped, ScimError> {
    let sent_name = doc.get("userName").and_then(Value::as_str).unwrap_or("");
    let username = Username::parse(sent_name).ok();
    let email = match document::preferred(doc, "emails", "work")
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
    {
        Some(address) => Some(Email::parse(address).map_err(|e| invalid(&e, "emails.value"))?),
        None => Email::parse(sent_name).ok(),
    };
    if username.is_none() && email.is_none() {
        return Err(ScimError::invalid_value(format!(
            "userName '{sent_name}' is neither a username (letters, digits, '.', '_' and '-') \
             nor an e-mail address, and no e-mail was given: the person could not sign in"
        )));
    }
    let name = doc.get("name");
    let part = |key: &str| {
        name.and_then(|n| n.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let fallback = doc
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            name.and_then(|n| n.get("formatted"))
                .and_then(Value::as_str)
        })
        .unwrap_or_else(|| sent_name.split('@').next().unwrap_or(sent_name));
    let (given_fallback, family_fallback) = split_name(fallback);
    let given_name = PersonName::parse(part("givenName").unwrap_or(&given_fallback), "given_name")
        .map_err(|e| invalid(&e, "name.givenName"))?;
    let family_name = PersonName::parse(
        part("familyName").unwrap_or(&family_fallback),
        "family_name",
    )
    .map_err(|e| invalid(&e, "name.familyName"))?;
    let role = role_text(doc, role_attribute).and_then(role_of);
    let external_id = match doc.get("externalId").and_then(Value::as_str) {
        Some(id) => Some(ExternalId::parse(id).map_err(|e| invalid(&e, "externalId"))?),
        None => None,
    };
    let mut attributes = BTreeMap::new();
    for (key, home, name) in MANAGED_ATTRIBUTES {
        if let Some(value) = document::text(doc, *home, &[name]) {
            attributes.insert((*key).to_owned(), value.to_owned());
        }
    }
    if let Some(manager) = document::text(doc, Home::Enterprise, &["manager", "value"]) {
        attributes.insert("manager_id".to_owned(), manager.to_owned());
    }
    // Checked as any attribute is (lengths, characters), named as the client wrote them.
    Attributes::parse(attributes.clone()).map_err(|e| invalid(&e, "attributes"))?;
    let active = doc.get("active").and_then(Value::as_bool);
    Ok(Mapped {
        username,
        email,
        given_name,
        family_name,
        role,
        external_id,
        attributes,
        active,
    })
}

/// A person's attributes after the connection's say: its own set or removed, others kept.
pub fn merged_attributes(current: &Attributes, mapped: &BTreeMap<String, String>) -> Attributes {
    let mut all = current.to_map();
    all.retain(|key, _| {
        key != "manager_id" && !MANAGED_ATTRIBUTES.iter().any(|(k, _, _)| k == key)
    });
    all.extend(mapped.iter().map(|(k, v)| (k.clone(), v.clone())));
    Attributes::from_stored(&all)
}

#[cfg(test)]
mod tests {
    use rollcall_scim::Resource;
    use rollcall_scim::document::normalise;
    use serde_json::json;

    use super::*;

    fn doc(body: &Value) -> Doc {
        normalise(Resource::User, body).expect("valid").doc
    }

    #[test]
    fn an_okta_user_maps_to_a_person() {
        let got = map_user(
            &doc(&json!({
                "userName": "ada.lovelace@example.org",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"value": "ada@example.org", "type": "work", "primary": true}],
                "externalId": "00ujl29u0le5T6Aj10h7",
                "userType": "Instructor",
                "active": true,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                    "department": "Science", "manager": {"value": "m-1"},
                },
            })),
            "userType",
        )
        .expect("maps");
        assert_eq!(got.username, None, "an e-mail is not a username");
        assert_eq!(
            got.email.as_ref().map(Email::as_str),
            Some("ada@example.org")
        );
        assert_eq!(got.given_name.as_str(), "Ada");
        assert_eq!(got.role, Some(Role::Teacher));
        assert_eq!(
            got.external_id.as_ref().map(ExternalId::as_str),
            Some("00ujl29u0le5T6Aj10h7")
        );
        assert_eq!(
            got.attributes.get("department").map(String::as_str),
            Some("Science")
        );
        assert_eq!(
            got.attributes.get("manager_id").map(String::as_str),
            Some("m-1")
        );
        assert_eq!(got.active, Some(true));
    }

    #[test]
    fn names_and_addresses_fall_back_and_roles_default_to_student() {
        let got = map_user(
            &doc(&json!({"userName": "grace@example.org", "displayName": "Grace Brewster Hopper"})),
            "userType",
        )
        .expect("maps");
        assert_eq!(
            got.email.as_ref().map(Email::as_str),
            Some("grace@example.org")
        );
        assert_eq!(
            (got.given_name.as_str(), got.family_name.as_str()),
            ("Grace Brewster", "Hopper")
        );
        assert_eq!(got.role, None);
        assert_eq!(got.active, None);
        let got = map_user(
            &doc(&json!({"userName": "jdoe", "roles": [{"value": "staff", "primary": true}]})),
            "roles",
        )
        .expect("maps");
        assert_eq!(got.username.as_ref().map(Username::as_str), Some("jdoe"));
        assert_eq!(got.role, Some(Role::Staff));
    }

    #[test]
    fn a_person_who_could_not_sign_in_is_refused() {
        let err =
            map_user(&doc(&json!({"userName": "John Smith"})), "userType").expect_err("no login");
        assert_eq!(err.scim_type, Some(rollcall_scim::ScimType::InvalidValue));
        assert!(
            err.detail.contains("userName 'John Smith'"),
            "{}",
            err.detail
        );
        let err = map_user(
            &doc(&json!({"userName": "js", "emails": [{"value": "not an address"}]})),
            "userType",
        )
        .expect_err("bad e-mail");
        assert!(err.detail.starts_with("emails.value"), "{}", err.detail);
    }

    #[test]
    fn the_connection_rewrites_only_its_own_attributes() {
        let current = Attributes::from_stored(&BTreeMap::from([
            ("grade".to_owned(), "7".to_owned()),
            ("department".to_owned(), "Old".to_owned()),
            ("title".to_owned(), "Old title".to_owned()),
        ]));
        let mapped = BTreeMap::from([("department".to_owned(), "New".to_owned())]);
        let merged = merged_attributes(&current, &mapped);
        assert_eq!(merged.get("grade"), Some("7"));
        assert_eq!(merged.get("department"), Some("New"));
        assert_eq!(merged.get("title"), None);
    }
}
