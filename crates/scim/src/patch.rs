//! PATCH (RFC 7644 §3.5.2) as real clients send it, applied to a normalised resource.
//!
//! Accepted besides the RFC's own forms: `op` in any case (Entra's "Replace"); a path-less add
//! or replace whose object's keys are paths (`"name.givenName"`, `"urn:…:User:department"`);
//! `active` and other booleans as the strings "True"/"False"; a remove with a list of values
//! instead of a filter (Entra's member removal); a replace of `emails[type eq "work"].value`
//! when there is no work e-mail yet, which adds one; a single-valued complex attribute sent as
//! a one-element list or a plain id (Entra's manager); the resource's own `id` inside a
//! path-less replace (Okta's group rename). Adding a value already there, or removing one that
//! is not, succeeds (clients replay operations after a timeout).
//!
//! The operations apply all or nothing: the caller keeps the document unless every one
//! succeeds.

use serde_json::{Map, Value};

use crate::document::{self, Doc};
use crate::error::ScimError;
use crate::filter::{self, Expr};
use crate::schema::{self, Attribute, Home, Mutability, Resource, Type};
use crate::urn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Add,
    Remove,
    Replace,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub kind: Kind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Reads a PatchOp request body.
pub fn operations(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_syntax(
            "the body must be a PatchOp object with Operations",
        ));
    };
    if let Some(schemas) = field(map, "schemas") {
        let named = schemas.as_array().is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(urn::PATCH))
            })
        });
        if !named {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must name {}",
                urn::PATCH
            )));
        }
    }
    let Some(Value::Array(items)) = field(map, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "Operations must be a list of operations",
        ));
    };
    if items.is_empty() {
        return Err(ScimError::invalid_syntax("Operations is empty"));
    }
    if items.len() > 1000 {
        return Err(ScimError::too_many("at most 1000 operations per request"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(op) = item else {
                return Err(ScimError::invalid_syntax(format!(
                    "Operations[{i}] must be an object"
                )));
            };
            let kind = match field(op, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
            {
                Some(k) if k == "add" => Kind::Add,
                Some(k) if k == "remove" => Kind::Remove,
                Some(k) if k == "replace" => Kind::Replace,
                Some(other) => {
                    return Err(ScimError::invalid_syntax(format!(
                        "Operations[{i}].op '{other}' is not add, remove or replace"
                    )));
                }
                None => {
                    return Err(ScimError::invalid_syntax(format!(
                        "Operations[{i}].op is missing (add, remove or replace)"
                    )));
                }
            };
            let path = match field(op, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(p.clone()),
                Some(_) => {
                    return Err(ScimError::invalid_path(format!(
                        "Operations[{i}].path must be a string"
                    )));
                }
            };
            let value = field(op, "value").cloned();
            if kind != Kind::Remove && value.is_none() {
                return Err(ScimError::invalid_value(format!(
                    "Operations[{i}] ({}) needs a value",
                    if kind == Kind::Add { "add" } else { "replace" }
                )));
            }
            Ok(Operation { kind, path, value })
        })
        .collect()
}

/// Applies `operations` to `doc` (the resource `id`); what was ignored (attributes of unknown
/// extensions) is returned to be logged. On error `doc` may be half-changed: apply to a copy.
pub fn apply(
    resource: Resource,
    doc: &mut Doc,
    operations: &[Operation],
    id: &str,
) -> Result<Vec<String>, ScimError> {
    let mut ignored = Vec::new();
    for op in operations {
        match (&op.path, &op.value) {
            (Some(path), value) => {
                at_path(
                    resource,
                    doc,
                    op.kind,
                    path,
                    value.as_ref(),
                    id,
                    false,
                    &mut ignored,
                )?;
            }
            (None, _) if op.kind == Kind::Remove => {
                return Err(ScimError::no_target("a remove operation needs a path"));
            }
            (None, Some(Value::Object(map))) => {
                for (key, value) in map {
                    if key.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    // The core schema's URN as a key: its object's keys are attributes.
                    if let (true, Value::Object(inner)) =
                        (key.eq_ignore_ascii_case(resource.schema()), value)
                    {
                        for (sub, value) in inner {
                            at_path(
                                resource,
                                doc,
                                op.kind,
                                sub,
                                Some(value),
                                id,
                                true,
                                &mut ignored,
                            )?;
                        }
                        continue;
                    }
                    if let (Some(_), Value::Object(inner)) = (resource.extension(key), value) {
                        for (sub, value) in inner {
                            let path = format!("{}:{sub}", urn::ENTERPRISE);
                            at_path(
                                resource,
                                doc,
                                op.kind,
                                &path,
                                Some(value),
                                id,
                                true,
                                &mut ignored,
                            )?;
                        }
                        continue;
                    }
                    at_path(
                        resource,
                        doc,
                        op.kind,
                        key,
                        Some(value),
                        id,
                        true,
                        &mut ignored,
                    )?;
                }
            }
            (None, _) => {
                return Err(ScimError::invalid_value(
                    "an add or replace without a path needs an object of attributes as its value",
                ));
            }
        }
    }
    // The whole resource is normalised again: types, the one primary value, duplicates.
    *doc = document::normalise(resource, &Value::Object(std::mem::take(doc)))?.doc;
    Ok(ignored)
}

/// The object an attribute of `home` lives in (created when `create`).
fn container(doc: &mut Doc, home: Home, create: bool) -> Option<&mut Doc> {
    match home.key() {
        None => Some(doc),
        Some(key) => {
            if create && !doc.contains_key(key) {
                doc.insert(key.to_owned(), Value::Object(Map::new()));
            }
            doc.get_mut(key).and_then(Value::as_object_mut)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn at_path(
    resource: Resource,
    doc: &mut Doc,
    kind: Kind,
    path: &str,
    value: Option<&Value>,
    id: &str,
    pathless: bool,
    ignored: &mut Vec<String>,
) -> Result<(), ScimError> {
    let (attr_path, filter, sub_after) = filter::parse_path(path)?;
    let Ok((home, rest)) = schema::split_urn(resource, &attr_path) else {
        ignored.push(path.to_owned());
        return Ok(());
    };
    let (name, sub_in_name) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let (home, attr) = schema::find(resource, home, name).ok_or_else(|| {
        ScimError::invalid_path(format!(
            "'{path}': '{name}' is not an attribute of the {}",
            resource.name()
        ))
    })?;
    let sub = match (sub_in_name, sub_after.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ScimError::invalid_path(format!(
                "'{path}' is not an attribute path"
            )));
        }
        (Some(s), None) | (None, Some(s)) => Some(schema::sub(attr, s).ok_or_else(|| {
            ScimError::invalid_path(format!(
                "'{path}': '{s}' is not a sub-attribute of {}",
                attr.name
            ))
        })?),
        (None, None) => None,
    };
    match attr.mutability {
        Mutability::WriteOnly => return Ok(()),
        Mutability::ReadOnly => {
            let same_id = attr.name == "id" && value.and_then(Value::as_str) == Some(id);
            if same_id || (pathless && attr.name != "id") {
                return Ok(());
            }
            return Err(ScimError::mutability(format!("{} is read-only", attr.name)));
        }
        Mutability::ReadWrite | Mutability::Immutable => {}
    }
    let create = kind != Kind::Remove;
    let Some(holder) = container(doc, home, create) else {
        return Ok(());
    };
    match filter {
        None => without_filter(holder, kind, attr, sub, value),
        Some(filter) => with_filter(holder, kind, attr, &filter, sub, value, path),
    }?;
    if let Some(key) = home.key() {
        drop_empty(doc, key);
    }
    Ok(())
}

fn normalised(attr: &'static Attribute, value: Option<&Value>) -> Result<Option<Value>, ScimError> {
    value.map_or(Ok(None), |v| document::attribute(attr, v))
}

fn sub_value(
    attr: &'static Attribute,
    sub: &'static Attribute,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let Some(value) = value else { return Ok(None) };
    let name = format!("{}.{}", attr.name, sub.name);
    if sub.ty == Type::Boolean {
        if value.is_null() {
            return Ok(None);
        }
        return document::boolean(value, &name).map(|b| Some(Value::Bool(b)));
    }
    match value {
        Value::Null => Ok(None),
        Value::String(_) => Ok(Some(value.clone())),
        Value::Number(n) => Ok(Some(Value::String(n.to_string()))),
        other => Err(ScimError::invalid_value(format!(
            "{name} must be a single value, not {other}"
        ))),
    }
}

/// Whether two values of a multi-valued attribute are the same one: group members by id,
/// others when equal.
fn same(attr: &Attribute, a: &Value, b: &Value) -> bool {
    if attr.name == "members" {
        return a.get("value").is_some() && a.get("value") == b.get("value");
    }
    a == b
}

fn merge(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        for (k, v) in from {
            into.insert(k.clone(), v.clone());
        }
    }
}

#[allow(clippy::too_many_lines)]
fn without_filter(
    holder: &mut Doc,
    kind: Kind,
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let key = attr.name;
    if let Some(sub) = sub {
        let new = sub_value(attr, sub, value)?;
        if attr.multi {
            let items = holder
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            let Some(items) = items.as_array_mut() else {
                return Ok(());
            };
            if items.is_empty() {
                if let Some(new) = new {
                    items.push(Value::Object(Map::from_iter([(sub.name.to_owned(), new)])));
                }
            } else {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    match (&new, kind) {
                        (Some(v), Kind::Add | Kind::Replace) => {
                            item.insert(sub.name.to_owned(), v.clone());
                        }
                        _ => {
                            item.remove(sub.name);
                        }
                    }
                }
            }
        } else {
            let object = holder
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(object) = object.as_object_mut() {
                match (new, kind) {
                    (Some(v), Kind::Add | Kind::Replace) => {
                        object.insert(sub.name.to_owned(), v);
                    }
                    _ => {
                        object.remove(sub.name);
                    }
                }
            }
        }
        drop_empty(holder, key);
        return Ok(());
    }
    match kind {
        Kind::Remove => {
            match (attr.multi, value) {
                // A remove with a list of values (Entra's members): remove those values.
                (true, Some(v)) if !v.is_null() => {
                    let gone = normalised(attr, Some(v))?.unwrap_or(Value::Array(Vec::new()));
                    let gone = gone.as_array().cloned().unwrap_or_default();
                    if let Some(items) = holder.get_mut(key).and_then(Value::as_array_mut) {
                        items.retain(|item| {
                            !gone.iter().any(|g| {
                                same(attr, item, g)
                                    || (g.get("value").is_some()
                                        && g.get("value") == item.get("value"))
                            })
                        });
                    }
                    drop_empty(holder, key);
                }
                _ => {
                    holder.remove(key);
                }
            }
        }
        Kind::Add | Kind::Replace => {
            let new = normalised(attr, value)?;
            if attr.multi {
                let mut items = match (kind, holder.remove(key)) {
                    (Kind::Add, Some(Value::Array(items))) => items,
                    _ => Vec::new(),
                };
                for item in new.and_then(|v| v.as_array().cloned()).unwrap_or_default() {
                    if item.get("primary") == Some(&Value::Bool(true)) {
                        for other in items.iter_mut().filter_map(Value::as_object_mut) {
                            other.remove("primary");
                        }
                    }
                    match items.iter_mut().find(|i| same(attr, i, &item)) {
                        Some(existing) => merge(existing, &item),
                        None => items.push(item),
                    }
                }
                if !items.is_empty() {
                    holder.insert(key.to_owned(), Value::Array(items));
                }
            } else if attr.ty == Type::Complex {
                match new {
                    Some(new) => {
                        let object = holder
                            .entry(key)
                            .or_insert_with(|| Value::Object(Map::new()));
                        merge(object, &new);
                    }
                    None => {
                        holder.remove(key);
                    }
                }
            } else {
                match new {
                    Some(new) => holder.insert(key.to_owned(), new),
                    None => holder.remove(key),
                };
            }
        }
    }
    Ok(())
}

fn drop_empty(holder: &mut Doc, key: &str) {
    let empty = match holder.get(key) {
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        holder.remove(key);
    }
}

fn with_filter(
    holder: &mut Doc,
    kind: Kind,
    attr: &'static Attribute,
    filter: &Expr,
    sub: Option<&'static Attribute>,
    value: Option<&Value>,
    path: &str,
) -> Result<(), ScimError> {
    if !attr.multi {
        return Err(ScimError::invalid_path(format!(
            "'{path}': only a multi-valued attribute takes a value filter"
        )));
    }
    let key = attr.name;
    let mut items = match holder.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut hits = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if filter::element_matches(attr, filter, item)? {
            hits.push(i);
        }
    }
    let result = (|| {
        match kind {
            Kind::Remove => {
                if let Some(sub) = sub {
                    for &i in &hits {
                        if let Some(item) = items[i].as_object_mut() {
                            item.remove(sub.name);
                        }
                    }
                } else {
                    for &i in hits.iter().rev() {
                        items.remove(i);
                    }
                }
            }
            Kind::Add | Kind::Replace => {
                if hits.is_empty() {
                    // Entra replaces emails[type eq "work"].value on people without one:
                    // the value is added, with that type.
                    let wanted = filter::type_eq(filter);
                    return match (wanted, sub) {
                        (Some(kind_of), Some(sub)) if sub.name != "type" => {
                            if let Some(v) = sub_value(attr, sub, value)? {
                                items.push(Value::Object(Map::from_iter([
                                    ("type".to_owned(), Value::from(kind_of)),
                                    (sub.name.to_owned(), v),
                                ])));
                            }
                            Ok(())
                        }
                        _ => Err(ScimError::no_target(format!(
                            "'{path}': no value of {key} matches the filter"
                        ))),
                    };
                }
                if let Some(sub) = sub {
                    let v = sub_value(attr, sub, value)?;
                    for &i in &hits {
                        let Some(item) = items[i].as_object_mut() else {
                            continue;
                        };
                        if let Some(v) = &v {
                            item.insert(sub.name.to_owned(), v.clone());
                        } else {
                            item.remove(sub.name);
                        }
                    }
                } else {
                    let new = normalised(attr, value)?
                        .and_then(|v| v.as_array().and_then(|a| a.first().cloned()))
                        .ok_or_else(|| {
                            ScimError::invalid_value(format!(
                                "'{path}' needs an object as its value"
                            ))
                        })?;
                    for &i in &hits {
                        merge(&mut items[i], &new);
                    }
                }
            }
        }
        Ok(())
    })();
    if !items.is_empty() {
        holder.insert(key.to_owned(), Value::Array(items));
    }
    result
}

#[cfg(test)]
mod tests;
