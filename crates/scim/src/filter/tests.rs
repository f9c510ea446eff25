use serde_json::json;

use super::*;
use crate::ScimType;
use crate::schema::Resource;

fn user(text: &str) -> Result<Query, ScimError> {
    query(Resource::User, text)
}

fn compare(q: &Query) -> (String, Op, Operand) {
    match q {
        Query::Compare(f, op, v) => (f.name(), *op, v.clone()),
        other => panic!("not a comparison: {other:?}"),
    }
}

#[test]
fn every_operator_parses_in_any_case() {
    for (word, op) in [
        ("eq", Op::Eq),
        ("NE", Op::Ne),
        ("Co", Op::Co),
        ("sw", Op::Sw),
        ("EW", Op::Ew),
        ("gt", Op::Gt),
        ("ge", Op::Ge),
        ("lt", Op::Lt),
        ("le", Op::Le),
    ] {
        let q = user(&format!("USERNAME {word} \"Bjensen\"")).expect("parses");
        assert_eq!(
            compare(&q),
            ("userName".into(), op, Operand::Str("bjensen".into()))
        );
    }
    assert_eq!(
        user("title pr").expect("parses"),
        Query::Present(field(Resource::User, "title").expect("known"))
    );
}

#[test]
fn case_follows_the_attribute() {
    // userName ignores case; externalId and id are compared exactly.
    assert_eq!(
        compare(&user("userName eq \"ADA\"").expect("ok")).2,
        Operand::Str("ada".into())
    );
    assert_eq!(
        compare(&user("externalId eq \"00uAB\"").expect("ok")).2,
        Operand::Str("00uAB".into())
    );
    assert_eq!(
        compare(&user("id eq \"AbC\"").expect("ok")).2,
        Operand::Str("AbC".into())
    );
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let q = user("title pr or userName eq \"a\" and not (active eq true)").expect("parses");
    let Query::Or(left, right) = q else {
        panic!("or at the top")
    };
    assert!(matches!(*left, Query::Present(_)));
    let Query::And(_, not) = *right else {
        panic!("and under or")
    };
    assert!(matches!(*not, Query::Not(_)));
    let grouped = user("(title pr or userName eq \"a\") and active eq false").expect("parses");
    assert!(matches!(grouped, Query::And(..)));
}

#[test]
fn dates_compare_as_times_and_booleans_accept_strings() {
    let q = user("meta.lastModified gt \"2026-01-01T00:00:00Z\"").expect("parses");
    let (name, op, value) = compare(&q);
    assert_eq!((name.as_str(), op), ("meta.lastModified", Op::Gt));
    assert_eq!(value, Operand::Time(1_767_225_600_000_000));
    let q = user("active eq \"False\"").expect("parses");
    assert_eq!(compare(&q).2, Operand::Bool(false));
    let err = user("meta.created gt \"yesterday\"").expect_err("not a date");
    assert_eq!(err.scim_type, Some(ScimType::InvalidFilter));
    assert!(err.detail.contains("yesterday"), "{}", err.detail);
    assert!(user("active gt true").is_err());
}

#[test]
fn multi_valued_attributes_match_any_value() {
    let q = user("emails.value eq \"a@x.org\"").expect("parses");
    let Query::Any { list, filter } = q else {
        panic!("any")
    };
    assert_eq!(list.attr.name, "emails");
    assert_eq!(compare(&filter).0, "emails.value");
    // `emails eq x` means its value; Entra's matching filter reads as one e-mail of that kind.
    assert!(matches!(
        user("emails eq \"a@x.org\"").expect("parses"),
        Query::Any { .. }
    ));
    let q = user("emails[type eq \"work\"].value eq \"a@x.org\"").expect("parses");
    let Query::Any { filter, .. } = q else {
        panic!("any")
    };
    assert!(matches!(*filter, Query::And(..)));
    let q = user("emails[type eq \"work\" and value co \"@x.org\"]").expect("parses");
    assert!(matches!(q, Query::Any { .. }));
}

#[test]
fn extension_attributes_are_named_by_their_urn() {
    let q = user(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Science\"",
    )
    .expect("parses");
    let (name, _, value) = compare(&q);
    assert_eq!(
        (name.as_str(), value),
        ("department", Operand::Str("science".into()))
    );
    let q = user("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"a\"").expect("parses");
    assert_eq!(compare(&q).0, "userName");
}

#[test]
fn a_bare_word_is_a_string_and_null_means_absent() {
    assert_eq!(
        compare(&user("externalId eq jyoung").expect("ok")).2,
        Operand::Str("jyoung".into())
    );
    assert!(matches!(
        user("title eq null").expect("ok"),
        Query::Absent(_)
    ));
}

#[test]
fn what_does_not_parse_or_is_unknown_is_an_invalid_filter() {
    for (text, says) in [
        ("userName eq", "value is expected"),
        ("userName is \"a\"", "not an operator"),
        ("(userName eq \"a\"", "')' is missing"),
        ("userName eq \"a", "not closed"),
        ("shoeSize eq 42", "shoeSize"),
        ("name.shoe eq \"x\"", "name.shoe"),
        (
            "urn:example:custom:2.0:User:level eq \"x\"",
            "does not know",
        ),
        ("password eq \"x\"", "never returned"),
        ("userName eq \"a\" garbage", "unexpected"),
        ("", "empty"),
        ("name eq \"x\"", "complex"),
        ("emails[type eq \"work\"", "']' is missing"),
    ] {
        let err = user(text).expect_err(text);
        assert_eq!(err.status, 400, "{text}");
        assert_eq!(err.scim_type, Some(ScimType::InvalidFilter), "{text}");
        assert!(err.detail.contains(says), "{text}: {}", err.detail);
    }
}

#[test]
fn groups_filter_on_their_own_attributes() {
    let q = query(Resource::Group, "displayName eq \"Year 7\"").expect("parses");
    assert_eq!(compare(&q).2, Operand::Str("year 7".into()));
    assert!(matches!(
        query(Resource::Group, "members.value eq \"u1\"").expect("parses"),
        Query::Any { .. }
    ));
    assert!(query(Resource::Group, "userName eq \"x\"").is_err());
}

#[test]
fn value_filters_match_elements_in_memory() {
    let emails = crate::schema::USER_ATTRIBUTES
        .iter()
        .find(|a| a.name == "emails")
        .expect("emails");
    let work = json!({"value": "Ada@Example.org", "type": "work", "primary": true});
    let home = json!({"value": "ada@home.example", "type": "home"});
    let f = parse("type eq \"WORK\"").expect("parses");
    // `type` is not case-exact: WORK matches work.
    assert!(element_matches(emails, &f, &work).expect("ok"));
    assert!(!element_matches(emails, &f, &home).expect("ok"));
    let f = parse("value ew \"example.org\" and primary eq true").expect("parses");
    assert!(element_matches(emails, &f, &work).expect("ok"));
    assert!(!element_matches(emails, &f, &home).expect("ok"));
    let f = parse("not (type eq \"work\")").expect("parses");
    assert!(element_matches(emails, &f, &home).expect("ok"));
    assert!(element_matches(emails, &parse("shoe eq 1").expect("parses"), &work).is_err());
}

#[test]
fn deep_or_long_filters_and_nuls_are_refused_not_crashed_on() {
    let deep = format!("{}userName eq \"a\"", "not ".repeat(40));
    assert!(
        user(&deep)
            .expect_err("too deep")
            .detail
            .contains("nests more than")
    );
    let parens = format!("{}userName eq \"a\"{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(
        user(&parens).expect_err("too deep").scim_type,
        Some(ScimType::InvalidFilter)
    );
    let long = vec!["title pr"; 101].join(" or ");
    assert!(
        user(&long)
            .expect_err("too many")
            .detail
            .contains("100 comparisons")
    );
    assert!(
        user("userName eq \"a\\u0000b\"")
            .expect_err("NUL")
            .detail
            .contains("NUL")
    );
    // A bare number stays as written, and ids compare by equality only.
    assert_eq!(
        compare(&user("externalId eq 00123").expect("ok")).2,
        Operand::Str("00123".into())
    );
    assert!(user("id gt \"a\"").is_err());
    assert!(user("meta.version eq \"x\"").is_err());
    assert!(user("groups.value eq \"x\"").is_err());
}
