//! A value a shared statement binds, and how any database binds it: the one piece of the SQL
//! layer that row types and backends both need, kept apart so neither depends on the other.

use sqlx::{Arguments, Database, Encode, Type};
use uuid::Uuid;

/// A value a shared statement binds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Bytes(Vec<u8>),
}

/// Adds `value` to a backend's arguments: what each backend's [`Backend::bind`](crate::Backend::bind) does, written
/// once for any database that encodes every kind of [`Value`].
pub fn bind_value<'q, DB: Database>(
    args: &mut DB::Arguments<'q>,
    value: Value,
) -> Result<(), sqlx::error::BoxDynError>
where
    Uuid: Encode<'q, DB> + Type<DB>,
    Option<Uuid>: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    match value {
        Value::Uuid(v) => args.add(v),
        Value::OptUuid(v) => args.add(v),
        Value::Text(v) => args.add(v),
        Value::OptText(v) => args.add(v),
        Value::Int(v) => args.add(v),
        Value::OptInt(v) => args.add(v),
        Value::Bool(v) => args.add(v),
        Value::Bytes(v) => args.add(v),
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),+ $(,)?) => {
        $(impl From<$t> for Value {
            fn from(value: $t) -> Self {
                Self::$variant(value)
            }
        })+
    };
}

value_from!(
    Uuid => Uuid,
    Option<Uuid> => OptUuid,
    String => Text,
    Option<String> => OptText,
    i64 => Int,
    Option<i64> => OptInt,
    bool => Bool,
    Vec<u8> => Bytes,
);

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}
