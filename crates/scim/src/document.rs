//! Resources as clients send them, normalised to the schema: keys in their canonical spelling
//! whatever the case sent, booleans sent as strings made booleans, a single value sent for a
//! multi-valued attribute made a list, `null`s and empty lists dropped (unassigned), read-only
//! attributes (`id`, `meta`, `groups`) and the write-only `password` left out. Values are
//! otherwise kept exactly as sent.
//!
//! An attribute a known schema does not have is refused; the attributes of an extension this
//! service provider does not know are ignored, and named so the caller can log them.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::schema::{self, Attribute, Home, Mutability, Resource, Type};
use crate::urn;

/// A resource's attributes, normalised: what is stored.
pub type Doc = Map<String, Value>;

/// A normalised resource, and the extensions it carried that were ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    pub doc: Doc,
    pub ignored: Vec<String>,
}

/// Reads a boolean as clients send it: `true`, or the string "True" in any case.
pub fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ScimError::invalid_value(format!(
            "{name} must be true or false, not {other}"
        ))),
    }
}

fn scalar(attr: &Attribute, value: &Value, name: &str) -> Result<Option<Value>, ScimError> {
    if value.as_str().is_some_and(|s| s.contains('\0')) {
        return Err(ScimError::invalid_value(format!(
            "{name} holds a NUL character"
        )));
    }
    Ok(Some(match (attr.ty, value) {
        (_, Value::Null) => return Ok(None),
        (Type::Boolean, v) => Value::Bool(boolean(v, name)?),
        (Type::DateTime, Value::String(s)) => {
            chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                ScimError::invalid_value(format!(
                    "{name} must be a date and time such as 2026-01-31T09:00:00Z, not '{s}'"
                ))
            })?;
            Value::String(s.clone())
        }
        (Type::String | Type::Reference, Value::String(s)) => Value::String(s.clone()),
        (Type::String | Type::Reference, Value::Number(n)) => Value::String(n.to_string()),
        (Type::String | Type::Reference, Value::Bool(b)) => Value::String(b.to_string()),
        (_, other) => {
            return Err(ScimError::invalid_value(format!(
                "{name} must be a single {}, not {}",
                match attr.ty {
                    Type::DateTime => "date and time",
                    Type::Complex => "object",
                    _ => "string",
                },
                kind(other)
            )));
        }
    }))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn object(attr: &'static Attribute, value: &Value, name: &str) -> Result<Option<Value>, ScimError> {
    let map = match value {
        Value::Null => return Ok(None),
        Value::Object(map) => map,
        // A plain value for a complex attribute stands for its `value` (Entra's manager id).
        Value::String(_) if schema::sub(attr, "value").is_some() => {
            return Ok(Some(Value::Object(Map::from_iter([(
                "value".to_owned(),
                value.clone(),
            )]))));
        }
        other => {
            return Err(ScimError::invalid_value(format!(
                "{name} must be an object, not {}",
                kind(other)
            )));
        }
    };
    let mut out = Map::new();
    for (key, v) in map {
        let Some(sub) = schema::sub(attr, key) else {
            return Err(ScimError::invalid_value(format!(
                "'{key}' is not a sub-attribute of {name}"
            )));
        };
        if sub.mutability == Mutability::ReadOnly && attr.mutability != Mutability::ReadOnly {
            continue;
        }
        if let Some(v) = scalar(sub, v, &format!("{name}.{}", sub.name))? {
            out.insert(sub.name.to_owned(), v);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// One attribute's value, normalised; `None` when it is unassigned.
pub fn attribute(attr: &'static Attribute, value: &Value) -> Result<Option<Value>, ScimError> {
    let name = attr.name;
    if !attr.multi {
        return if attr.ty == Type::Complex {
            // Entra sends a single-valued complex attribute (manager) as a one-element list.
            match value {
                Value::Array(items) if items.len() <= 1 => items
                    .first()
                    .map_or(Ok(None), |item| object(attr, item, name)),
                other => object(attr, other, name),
            }
        } else {
            scalar(attr, value, name)
        };
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    // Duplicates are dropped by their text: a group of thousands stays linear.
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut primary = false;
    for (i, item) in items.into_iter().enumerate() {
        let item_name = format!("{name}[{i}]");
        let Some(item) = (if attr.ty == Type::Complex {
            object(attr, item, &item_name)?
        } else {
            scalar(attr, item, &item_name)?
        }) else {
            continue;
        };
        if item.get("primary") == Some(&Value::Bool(true)) {
            if primary {
                return Err(ScimError::invalid_value(format!(
                    "{name}: at most one value may be primary"
                )));
            }
            primary = true;
        }
        if seen.insert(item.to_string()) {
            out.push(item);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn attributes_into(
    resource: Resource,
    home: Home,
    attributes: &Map<String, Value>,
    out: &mut Doc,
    ignored: &mut Vec<String>,
) -> Result<(), ScimError> {
    let schema_name = match home {
        Home::Core => resource.schema(),
        Home::Enterprise => urn::ENTERPRISE,
    };
    for (key, value) in attributes {
        if home == Home::Core {
            if key.eq_ignore_ascii_case("schemas") {
                check_schemas(value)?;
                continue;
            }
            if let Some((home, _)) = resource.extension(key) {
                let Value::Object(inner) = value else {
                    if value.is_null() {
                        continue;
                    }
                    return Err(ScimError::invalid_value(format!(
                        "{key} must be an object of the extension's attributes"
                    )));
                };
                let mut ext = Doc::new();
                attributes_into(resource, home, inner, &mut ext, ignored)?;
                if !ext.is_empty() {
                    out.insert(urn::ENTERPRISE.to_owned(), Value::Object(ext));
                }
                continue;
            }
            if let (true, Value::Object(inner)) =
                (key.eq_ignore_ascii_case(resource.schema()), value)
            {
                attributes_into(resource, Home::Core, inner, out, ignored)?;
                continue;
            }
            if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
                ignored.push(key.clone());
                continue;
            }
        }
        let Some(attr) = schema::lookup(resource, home, key) else {
            return Err(ScimError::invalid_value(format!(
                "'{key}' is not an attribute of {schema_name}"
            )));
        };
        if matches!(
            attr.mutability,
            Mutability::ReadOnly | Mutability::WriteOnly
        ) {
            continue;
        }
        match attribute(attr, value)? {
            Some(v) => {
                out.insert(attr.name.to_owned(), v);
            }
            None => {
                out.remove(attr.name);
            }
        }
    }
    Ok(())
}

fn check_schemas(value: &Value) -> Result<(), ScimError> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
        Value::Null => Ok(()),
        _ => Err(ScimError::invalid_syntax(
            "schemas must be a list of schema URNs",
        )),
    }
}

/// Normalises a resource sent whole (POST, PUT). Required attributes are checked by
/// [`require`], once the whole resource is known.
pub fn normalise(resource: Resource, body: &Value) -> Result<Normalised, ScimError> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_syntax(format!(
            "the body must be a JSON object (a {}), not {}",
            resource.name(),
            kind(body)
        )));
    };
    let mut doc = Doc::new();
    let mut ignored = Vec::new();
    attributes_into(resource, Home::Core, map, &mut doc, &mut ignored)?;
    Ok(Normalised { doc, ignored })
}

/// Refuses a resource without its required attributes (userName, displayName).
pub fn require(resource: Resource, doc: &Doc) -> Result<(), ScimError> {
    for attr in resource.attributes().iter().filter(|a| a.required) {
        match doc.get(attr.name) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "{} is required",
                    attr.name
                )));
            }
        }
    }
    Ok(())
}

/// A string attribute of the core schema, or of the enterprise extension when `home` says so.
pub fn text<'a>(doc: &'a Doc, home: Home, path: &[&str]) -> Option<&'a str> {
    let mut at = match home.key() {
        Some(key) => doc.get(key)?,
        None => doc.get(*path.first()?)?,
    };
    let rest = if home.key().is_some() {
        path
    } else {
        &path[1..]
    };
    for part in rest {
        at = at.get(part)?;
    }
    at.as_str()
}

/// The value of a multi-valued attribute to use: the primary one, else the one of type
/// `kind`, else the first.
pub fn preferred<'a>(doc: &'a Doc, attr: &str, kind: &str) -> Option<&'a Value> {
    let items = doc.get(attr)?.as_array()?;
    items
        .iter()
        .find(|i| i.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            items
                .iter()
                .find(|i| i.get("type").and_then(Value::as_str) == Some(kind))
        })
        .or_else(|| items.first())
}

/// What a resource's representation carries besides its attributes.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    pub id: &'a str,
    pub created: chrono::DateTime<chrono::Utc>,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub location: &'a str,
    pub version: &'a str,
}

/// The full representation of a resource (before any attribute selection).
pub fn render(resource: Resource, doc: &Doc, meta: &Meta<'_>) -> Value {
    let mut out = doc.clone();
    let mut schemas = vec![Value::from(resource.schema())];
    for (urn, _) in resource.extensions() {
        if out.contains_key(*urn) {
            schemas.push(Value::from(*urn));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), meta.id.into());
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    out.insert(
        "meta".into(),
        serde_json::json!({
            "resourceType": resource.name(),
            "created": stamp(meta.created),
            "lastModified": stamp(meta.last_modified),
            "location": meta.location,
            "version": meta.version,
        }),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests;
