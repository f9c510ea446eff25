//! Reading request documents into typed bodies with errors that name their field.
//!
//! serde's own JSON and query-string errors are sentences ("missing field `x` at line 1
//! column 9"). Here a body is parsed to a [`serde_json::Value`] first (so syntax errors stay
//! syntax errors), then deserialized through [`Json`] or [`Query`], whose error type keeps what
//! serde reports structurally: which field is missing, which one is unknown, and where
//! (`serde_path_to_error` tracks the path).

use std::fmt;

use rollcall_domain::FieldError;
use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;

/// What went wrong while shaping a document into a type, as serde reported it.
#[derive(Debug)]
pub enum ShapeError {
    /// A required field is absent.
    Missing(&'static str),
    /// A field the type does not have.
    Unknown {
        field: String,
        expected: &'static [&'static str],
    },
    /// A wrong type or value, in serde's words (which carry no position here).
    Other(String),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(field) => write!(f, "missing field `{field}`"),
            Self::Unknown { field, .. } => write!(f, "unknown field `{field}`"),
            Self::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ShapeError {}

impl de::Error for ShapeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::Other(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        Self::Missing(field)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::Unknown {
            field: field.to_owned(),
            expected,
        }
    }
}

/// Deserializes a JSON document into `T`, or names the field that is wrong and says why.
pub fn from_json<T: DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(Json(value)).map_err(field_error)
}

/// Deserializes query parameters (name, text) into `T`, or names the parameter that is wrong.
pub fn from_query<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, FieldError> {
    let map = MapDeserializer::new(pairs.into_iter().map(|(k, v)| (k, Query(v))));
    serde_path_to_error::deserialize(MapAsDeserializer(map)).map_err(field_error)
}

fn field_error(err: serde_path_to_error::Error<ShapeError>) -> FieldError {
    // The path of an unknown field ends with it; a missing one's is its parent object's.
    let parent = err.path().to_string();
    let within = |name: &str| {
        if parent == "." {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    match err.into_inner() {
        ShapeError::Missing(name) => FieldError::new(within(name), "is required"),
        ShapeError::Unknown { expected, .. } => {
            let known = expected.join(", ");
            FieldError::new(
                parent,
                format!("is not a field here (the fields are: {known})"),
            )
        }
        ShapeError::Other(message) => FieldError::new(parent, message),
    }
}

/// A JSON value as a serde deserializer whose errors are [`ShapeError`]s.
struct Json(Value);

impl IntoDeserializer<'_, ShapeError> for Json {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

fn json_unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// `f` as an integer, when it is one that i64 holds exactly.
fn whole(f: f64) -> Option<i64> {
    // 2^63 as f64: from there on, f64 values are past i64.
    const PAST_I64: f64 = 9_223_372_036_854_775_808.0;
    #[allow(clippy::cast_possible_truncation)] // in range and whole: exact
    (f.fract() == 0.0 && (-PAST_I64..PAST_I64).contains(&f)).then_some(f as i64)
}

impl<'de> de::Deserializer<'de> for Json {
    type Error = ShapeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                // A whole number written with a point (`5.0`) is the integer JSON Schema says
                // it is; within i64, it is read as one.
                (None, None, Some(f)) => match whole(f) {
                    Some(i) if i >= 0 => visitor.visit_u64(i.unsigned_abs()),
                    Some(i) => visitor.visit_i64(i),
                    None => visitor.visit_f64(f),
                },
                (None, None, None) => Err(ShapeError::Other(format!("{n} is not a number"))),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter().map(Json));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(map) => {
                let mut map = MapDeserializer::new(map.into_iter().map(|(k, v)| (k, Json(v))));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A struct is a JSON object only: serde would also fill one from an array, field by field
    /// in order, so that `[true]` would set whatever field comes first.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(ShapeError::Other(format!(
                "must be a JSON object, not {}",
                json_unexpected(&other)
            ))),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Object(map) => {
                let map = MapDeserializer::new(map.into_iter().map(|(k, v)| (k, Json(v))));
                visitor.visit_enum(MapAccessDeserializer::new(map))
            }
            other => Err(de::Error::invalid_type(json_unexpected(&other), &visitor)),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// A map of parameters as a deserializer (for the top-level struct of a query).
struct MapAsDeserializer<'de, I: Iterator<Item = (String, Query)>>(
    MapDeserializer<'de, I, ShapeError>,
);

impl<'de, I: Iterator<Item = (String, Query)>> de::Deserializer<'de> for MapAsDeserializer<'de, I> {
    type Error = ShapeError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ShapeError> {
        let value = visitor.visit_map(&mut self.0)?;
        self.0.end()?;
        Ok(value)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string option
        bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// One query parameter's text: numbers and booleans are parsed when the type asks for them.
struct Query(String);

impl IntoDeserializer<'_, ShapeError> for Query {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_query_text {
    ($($method:ident => $visit:ident: $ty:ty, $what:literal;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
                match self.0.trim().parse::<$ty>() {
                    Ok(value) => visitor.$visit(value),
                    Err(_) => Err(ShapeError::Other(format!(
                        "'{}' is not {}", self.0, $what
                    ))),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Query {
    type Error = ShapeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        visitor.visit_string(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    parse_query_text! {
        deserialize_bool => visit_bool: bool, "true or false";
        deserialize_i8 => visit_i8: i8, "a whole number";
        deserialize_i16 => visit_i16: i16, "a whole number";
        deserialize_i32 => visit_i32: i32, "a whole number";
        deserialize_i64 => visit_i64: i64, "a whole number";
        deserialize_u8 => visit_u8: u8, "a whole number of 0 or more";
        deserialize_u16 => visit_u16: u16, "a whole number of 0 or more";
        deserialize_u32 => visit_u32: u32, "a whole number of 0 or more";
        deserialize_u64 => visit_u64: u64, "a whole number of 0 or more";
        deserialize_f32 => visit_f32: f32, "a number";
        deserialize_f64 => visit_f64: f64, "a number";
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Body {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
        inner: Option<Inner>,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        count: u32,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Special,
    }

    fn fails(value: Value) -> FieldError {
        match from_json::<Body>(value) {
            Ok(body) => panic!("accepted {body:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn a_whole_number_written_with_a_point_reads_as_an_integer_and_a_fraction_does_not() {
        let body: Body = from_json(json!({"name": "a", "inner": {"count": 5.0}}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body.inner, Some(Inner { count: 5 }));
        let err = fails(json!({"name": "a", "inner": {"count": 5.5}}));
        assert_eq!(err.field, "inner.count");
        let err = fails(json!({"name": "a", "inner": {"count": -1.0}}));
        assert_eq!(
            err.field, "inner.count",
            "a negative count is still no count"
        );
        assert_eq!(whole(1e300), None, "past i64");
        assert_eq!(whole(-3.0), Some(-3));
    }

    #[test]
    fn a_well_shaped_document_is_read() {
        let body: Body = from_json(json!({
            "name": "a", "tags": ["x"], "inner": {"count": 3}, "kind": "special"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            body,
            Body {
                name: "a".into(),
                tags: vec!["x".into()],
                inner: Some(Inner { count: 3 }),
                kind: Some(Kind::Special),
            }
        );
        let body: Body =
            from_json(json!({"name": "a", "inner": null})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body.inner, None);
    }

    #[test]
    fn missing_and_unknown_fields_are_named_where_they_are() {
        let missing = fails(json!({}));
        assert_eq!(
            (missing.field.as_str(), missing.message.as_str()),
            ("name", "is required")
        );
        let nested = fails(json!({"name": "a", "inner": {}}));
        assert_eq!(nested.field, "inner.count");
        let unknown = fails(json!({"name": "a", "shoe_size": 44}));
        assert_eq!(unknown.field, "shoe_size");
        assert!(
            unknown.message.contains("name, tags, inner, kind"),
            "{}",
            unknown.message
        );
        let nested_unknown = fails(json!({"name": "a", "inner": {"count": 1, "x": 2}}));
        assert_eq!(nested_unknown.field, "inner.x");
    }

    #[test]
    fn wrong_types_and_values_name_their_path() {
        let wrong = fails(json!({"name": 7}));
        assert_eq!(wrong.field, "name");
        assert!(
            wrong.message.contains("expected a string"),
            "{}",
            wrong.message
        );
        assert_eq!(
            fails(json!({"name": "a", "tags": ["x", 2]})).field,
            "tags[1]"
        );
        assert_eq!(
            fails(json!({"name": "a", "inner": {"count": -1}})).field,
            "inner.count"
        );
        let variant = fails(json!({"name": "a", "kind": "odd"}));
        assert_eq!(variant.field, "kind");
        assert!(variant.message.contains("plain"), "{}", variant.message);
        assert_eq!(fails(json!(["a"])).field, ".");
    }

    #[test]
    fn an_object_is_not_read_from_an_array() {
        // serde would fill each field from the array's items in turn.
        let whole = fails(json!(["a", [], null, null]));
        assert_eq!(whole.field, ".");
        assert!(
            whole.message.contains("must be a JSON object"),
            "{}",
            whole.message
        );
        assert_eq!(fails(json!({"name": "a", "inner": [3]})).field, "inner");
        assert_eq!(fails(json!(null)).field, ".");
    }

    #[derive(Debug, Deserialize)]
    struct Params {
        q: Option<String>,
        limit: Option<usize>,
    }

    #[test]
    fn query_parameters_parse_numbers_and_name_the_bad_one() {
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        let params: Params =
            from_query(pairs(&[("q", "ada"), ("limit", "20")])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((params.q.as_deref(), params.limit), (Some("ada"), Some(20)));
        let err = from_query::<Params>(pairs(&[("limit", "many")])).err();
        let err = err.unwrap_or_else(|| panic!("accepted limit=many"));
        assert_eq!(err.field, "limit");
        assert!(err.message.contains("'many'"), "{}", err.message);
        let twice = from_query::<Params>(pairs(&[("q", "a"), ("q", "b")])).err();
        assert!(twice.is_some(), "a parameter given twice is refused");
    }
}
