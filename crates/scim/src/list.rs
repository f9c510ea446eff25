//! Listing and searching (RFC 7644 §3.4.2): paging, sorting, attribute selection and the
//! ListResponse.

use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::filter::{self, Field, Query};
use crate::schema::{self, Home, Resource, Type};
use crate::urn;

/// Which attributes a response carries (`attributes` / `excludedAttributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Canonical paths: `userName`, `name.givenName`, or an extension's URN (all of it),
    /// `urn:…:User:department`.
    include: Vec<(Home, String, Option<String>)>,
    exclude: Vec<(Home, String, Option<String>)>,
}

/// A list or search request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub filter: Option<Query>,
    /// 1-based.
    pub start_index: u64,
    pub count: u64,
    pub sort: Option<(Field, bool)>,
    pub selection: Selection,
}

fn number(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim().parse::<i64>().map_err(|_| {
        ScimError::invalid_value(format!("{name} must be a whole number, not '{text}'"))
    })
}

fn paths(resource: Resource, text: &str) -> Vec<(Home, String, Option<String>)> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            if let Some((home, _)) = resource.extension(p) {
                return Some((home, String::new(), None));
            }
            let (home, rest) = schema::split_urn(resource, p).ok()?;
            let (name, sub) = match rest.split_once('.') {
                Some((n, s)) => (n, Some(s)),
                None => (rest, None),
            };
            let (home, attr) = schema::find(resource, home, name)?;
            let sub = match sub {
                Some(s) => Some(schema::sub(attr, s)?.name.to_owned()),
                None => None,
            };
            Some((home, attr.name.to_owned(), sub))
        })
        .collect()
}

impl Selection {
    pub fn new(resource: Resource, attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Self {
            include: attributes.map(|a| paths(resource, a)).unwrap_or_default(),
            exclude: excluded.map(|a| paths(resource, a)).unwrap_or_default(),
        }
    }

    /// Whether the response leaves out `attribute` of the core schema (a group's members,
    /// when a client asks for `excludedAttributes=members`).
    pub fn leaves_out(&self, attribute: &str) -> bool {
        let named = |list: &[(Home, String, Option<String>)]| {
            list.iter()
                .any(|(h, n, s)| *h == Home::Core && n == attribute && s.is_none())
        };
        if self.include.is_empty() {
            named(&self.exclude)
        } else {
            !named(&self.include)
        }
    }

    /// Keeps in `resource` what the selection asks for. `id` and `schemas` always stay.
    pub fn apply(&self, resource: &mut Value) {
        let Some(map) = resource.as_object_mut() else {
            return;
        };
        if !self.include.is_empty() {
            let mut kept = Map::new();
            for key in ["schemas", "id"] {
                if let Some(v) = map.remove(key) {
                    kept.insert(key.to_owned(), v);
                }
            }
            for (home, name, sub) in &self.include {
                let source = match home.key() {
                    None => Some(&*map),
                    Some(key) => map.get(key).and_then(Value::as_object),
                };
                let Some(source) = source else { continue };
                let target = match home.key() {
                    None => &mut kept,
                    Some(key) => {
                        if name.is_empty() {
                            if let Some(all) = map.get(key) {
                                kept.insert(key.to_owned(), all.clone());
                            }
                            continue;
                        }
                        kept.entry(key.to_owned())
                            .or_insert_with(|| Value::Object(Map::new()))
                            .as_object_mut()
                            .expect("an extension is an object")
                    }
                };
                let Some(value) = source.get(name.as_str()) else {
                    continue;
                };
                match sub {
                    None => {
                        target.insert(name.clone(), value.clone());
                    }
                    Some(sub) => {
                        let picked = pick(value, sub);
                        if let Some(picked) = picked {
                            match target.get_mut(name.as_str()) {
                                Some(existing) => merge_picked(existing, picked),
                                None => {
                                    target.insert(name.clone(), picked);
                                }
                            }
                        }
                    }
                }
            }
            *map = kept;
        }
        for (home, name, sub) in &self.exclude {
            let holder = match home.key() {
                None => Some(&mut *map),
                Some(key) => {
                    if name.is_empty() {
                        map.remove(key);
                        continue;
                    }
                    map.get_mut(key).and_then(Value::as_object_mut)
                }
            };
            let Some(holder) = holder else { continue };
            if name == "id" {
                continue;
            }
            match sub {
                None => {
                    holder.remove(name.as_str());
                }
                Some(sub) => match holder.get_mut(name.as_str()) {
                    Some(Value::Object(o)) => {
                        o.remove(sub.as_str());
                    }
                    Some(Value::Array(items)) => {
                        for item in items.iter_mut().filter_map(Value::as_object_mut) {
                            item.remove(sub.as_str());
                        }
                    }
                    _ => {}
                },
            }
        }
    }
}

fn pick(value: &Value, sub: &str) -> Option<Value> {
    match value {
        Value::Object(o) => o
            .get(sub)
            .map(|v| Value::Object(Map::from_iter([(sub.to_owned(), v.clone())]))),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|i| {
                    i.get(sub).map_or_else(
                        || Value::Object(Map::new()),
                        |v| Value::Object(Map::from_iter([(sub.to_owned(), v.clone())])),
                    )
                })
                .collect(),
        )),
        _ => None,
    }
}

fn merge_picked(existing: &mut Value, picked: Value) {
    match (existing, picked) {
        (Value::Object(a), Value::Object(b)) => a.extend(b),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter_mut().zip(b) {
                if let (Value::Object(x), Value::Object(y)) = (x, y) {
                    x.extend(y);
                }
            }
        }
        _ => {}
    }
}

/// The most resources one page returns, whatever `count` asks.
pub const MAX_COUNT: u64 = 1000;
/// A page's size when `count` is not given.
pub const DEFAULT_COUNT: u64 = 100;

/// Reads a list request's parameters (a GET's query, or a search body's members), each
/// looked up ignoring case.
pub fn params(
    resource: Resource,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<ListParams, ScimError> {
    let filter = match get("filter") {
        Some(text) => Some(filter::query(resource, &text)?),
        None => None,
    };
    let start_index = match get("startIndex") {
        Some(text) => u64::try_from(number("startIndex", &text)?.max(1)).unwrap_or(1),
        None => 1,
    };
    let count = match get("count") {
        Some(text) => u64::try_from(number("count", &text)?.max(0))
            .unwrap_or(0)
            .min(MAX_COUNT),
        None => DEFAULT_COUNT,
    };
    let sort = match get("sortBy") {
        Some(path) if !path.trim().is_empty() => {
            let field = filter::field(resource, path.trim())?;
            if field.leaf().ty == Type::Complex {
                return Err(ScimError::invalid_value(format!(
                    "sortBy '{path}' names a complex attribute; name one of its sub-attributes"
                )));
            }
            let descending = match get("sortOrder").map(|o| o.to_ascii_lowercase()) {
                None => false,
                Some(o) if o == "ascending" => false,
                Some(o) if o == "descending" => true,
                Some(o) => {
                    return Err(ScimError::invalid_value(format!(
                        "sortOrder must be ascending or descending, not '{o}'"
                    )));
                }
            };
            Some((field, descending))
        }
        _ => None,
    };
    let selection = Selection::new(
        resource,
        get("attributes").as_deref(),
        get("excludedAttributes").as_deref(),
    );
    Ok(ListParams {
        filter,
        start_index,
        count,
        sort,
        selection,
    })
}

/// Reads a SearchRequest body (`POST …/.search`).
pub fn search_params(resource: Resource, body: &Value) -> Result<ListParams, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_syntax(
            "the body must be a SearchRequest object",
        ));
    };
    let get = |name: &str| -> Option<String> {
        let value = map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)?;
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        }
    };
    params(resource, &get)
}

/// A ListResponse.
pub fn response(resources: Vec<Value>, total: u64, start_index: u64) -> Value {
    let mut body = json!({
        "schemas": [urn::LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
    });
    if let Some(map) = body.as_object_mut() {
        map.insert("Resources".to_owned(), Value::Array(resources));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Value {
        json!({
            "schemas": [urn::USER],
            "id": "1",
            "userName": "ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.org", "type": "work"}],
            "meta": {"resourceType": "User"},
        })
    }

    #[test]
    fn attributes_keep_only_what_is_asked_and_the_id() {
        let mut u = user();
        Selection::new(
            Resource::User,
            Some("userName,name.givenName,EMAILS.value"),
            None,
        )
        .apply(&mut u);
        assert_eq!(
            u,
            json!({
                "schemas": [urn::USER],
                "id": "1",
                "userName": "ada",
                "name": {"givenName": "Ada"},
                "emails": [{"value": "ada@example.org"}],
            })
        );
    }

    #[test]
    fn excluded_attributes_are_left_out_but_never_the_id() {
        let mut u = user();
        Selection::new(Resource::User, None, Some("emails,name.familyName,id")).apply(&mut u);
        assert_eq!(u["name"], json!({"givenName": "Ada"}));
        assert!(u.get("emails").is_none());
        assert_eq!(u["id"], "1");
        assert!(Selection::new(Resource::Group, None, Some("members")).leaves_out("members"));
    }

    #[test]
    fn paging_parameters_are_read_as_the_rfc_says() {
        let p = |pairs: &'static [(&'static str, &'static str)]| {
            params(Resource::User, &|name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        let got = p(&[("startIndex", "0"), ("count", "-4")]).expect("valid");
        assert_eq!((got.start_index, got.count), (1, 0));
        let got = p(&[("count", "100000000")]).expect("valid");
        assert_eq!(got.count, MAX_COUNT);
        let err = p(&[("count", "ten")]).expect_err("not a number");
        assert_eq!(err.status, 400);
        let err =
            p(&[("sortBy", "name.givenName"), ("sortOrder", "sideways")]).expect_err("bad order");
        assert!(err.detail.contains("sortOrder"));
        let err = p(&[("filter", "nickname eq")]).expect_err("bad filter");
        assert_eq!(err.scim_type, Some(crate::ScimType::InvalidFilter));
    }
}
