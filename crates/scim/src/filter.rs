//! SCIM filters (RFC 7644 §3.4.2.2): parsed into an [`Expr`], then resolved against a
//! resource's schema into a [`Query`] a store turns into SQL, or matched in memory against the
//! values of a multi-valued attribute (PATCH paths such as `emails[type eq "work"]`).
//!
//! Operators, `and`/`or`/`not` and attribute names are read ignoring case. Besides the RFC's
//! grammar, a bare word is read as a string (`externalId eq jyoung`, as Entra's documentation
//! writes it), `not` may go without parentheses, and `emails[type eq "work"].value eq "x"`
//! (Entra's matching filter) reads as "an e-mail of type work whose value is x".

use chrono::DateTime;
use serde_json::Value;

use crate::error::ScimError;
use crate::schema::{self, Attribute, Home, Resource, Type};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    const fn matches_text(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

/// A value compared with, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    /// A bare number, as written (`00123` stays `00123`).
    Num(String),
    Null,
}

/// What is asked of an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Present,
    Compare(Op, Literal),
}

/// A filter as written: attribute paths are still text.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(String, Cond),
    /// `path[filter]`, optionally followed by `.sub cond` (Entra's form).
    Within {
        path: String,
        filter: Box<Expr>,
        then: Option<(String, Cond)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

fn tokens(text: &str) -> Result<Vec<(usize, Token)>, ScimError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((i, Token::Open));
                i += 1;
            }
            b')' => {
                out.push((i, Token::Close));
                i += 1;
            }
            b'[' => {
                out.push((i, Token::OpenBracket));
                i += 1;
            }
            b']' => {
                out.push((i, Token::CloseBracket));
                i += 1;
            }
            b'"' => {
                // A JSON string: find its closing quote, honouring escapes.
                let start = i;
                i += 1;
                let mut escaped = false;
                while i < bytes.len() && (escaped || bytes[i] != b'"') {
                    escaped = !escaped && bytes[i] == b'\\';
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err(ScimError::invalid_filter(format!(
                        "the string starting at character {} is not closed",
                        start + 1
                    )));
                }
                let raw = &text[start..=i];
                let value: String = serde_json::from_str(raw).map_err(|_| {
                    ScimError::invalid_filter(format!(
                        "the string at character {} is not a valid JSON string",
                        start + 1
                    ))
                })?;
                if value.contains('\0') {
                    return Err(ScimError::invalid_filter(format!(
                        "the string at character {} holds a NUL character",
                        start + 1
                    )));
                }
                out.push((start, Token::Str(value)));
                i += 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !b" \t\r\n()[]\"".contains(&bytes[i]) {
                    i += 1;
                }
                out.push((start, Token::Word(text[start..i].to_owned())));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    /// How deep in `not`, parentheses and brackets the parser is.
    depth: usize,
    /// Comparisons read so far.
    tests: usize,
}

/// The deepest nesting of `not`, parentheses and value filters a filter may have.
const MAX_DEPTH: usize = 32;
/// The most comparisons one filter may make.
const MAX_TESTS: usize = 100;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        token
    }

    fn place(&self) -> String {
        match self.tokens.get(self.at) {
            Some((at, _)) => format!("at character {}", at + 1),
            None => "at the end".to_owned(),
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expr, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ScimError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.at += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn deeper(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter(format!(
                "the filter nests more than {MAX_DEPTH} levels of not, parentheses and brackets"
            )));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, ScimError> {
        if self.keyword("not") {
            self.at += 1;
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            self.deeper()?;
            let inner = self.or()?;
            self.depth -= 1;
            if self.next() != Some(Token::Close) {
                self.at -= 1;
                return Err(ScimError::invalid_filter(format!(
                    "a ')' is missing {}",
                    self.place()
                )));
            }
            return Ok(inner);
        }
        self.attribute()
    }

    fn attribute(&mut self) -> Result<Expr, ScimError> {
        let place = self.place();
        let Some(Token::Word(path)) = self.next() else {
            return Err(ScimError::invalid_filter(format!(
                "an attribute name is expected {place}"
            )));
        };
        self.tests += 1;
        if self.tests > MAX_TESTS {
            return Err(ScimError::invalid_filter(format!(
                "the filter makes more than {MAX_TESTS} comparisons"
            )));
        }
        if self.peek() == Some(&Token::OpenBracket) {
            self.at += 1;
            self.deeper()?;
            let filter = self.or()?;
            self.depth -= 1;
            if self.next() != Some(Token::CloseBracket) {
                self.at -= 1;
                return Err(ScimError::invalid_filter(format!(
                    "a ']' is missing {}",
                    self.place()
                )));
            }
            let then = match self.peek() {
                Some(Token::Word(w)) if w.starts_with('.') => {
                    let sub = w[1..].to_owned();
                    self.at += 1;
                    Some((sub, self.cond()?))
                }
                _ => None,
            };
            return Ok(Expr::Within {
                path,
                filter: Box::new(filter),
                then,
            });
        }
        Ok(Expr::Test(path, self.cond()?))
    }

    fn cond(&mut self) -> Result<Cond, ScimError> {
        let place = self.place();
        let Some(Token::Word(word)) = self.next() else {
            return Err(ScimError::invalid_filter(format!(
                "an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) is expected {place}"
            )));
        };
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Cond::Present);
        }
        let op = Op::parse(&word).ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "'{word}' {place} is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)"
            ))
        })?;
        let place = self.place();
        let literal = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => match w.parse::<f64>() {
                    Ok(n) if n.is_finite() => Literal::Num(w),
                    // A bare word without quotes, read as a string.
                    _ => Literal::Str(w),
                },
            },
            _ => {
                return Err(ScimError::invalid_filter(format!(
                    "a value is expected {place} after '{}'",
                    op.as_str()
                )));
            }
        };
        Ok(Cond::Compare(op, literal))
    }
}

/// Parses a filter as written.
pub fn parse(text: &str) -> Result<Expr, ScimError> {
    if text.trim().is_empty() {
        return Err(ScimError::invalid_filter("the filter is empty"));
    }
    if text.len() > 4096 {
        return Err(ScimError::invalid_filter(
            "the filter is longer than 4096 characters",
        ));
    }
    let mut parser = Parser {
        tokens: tokens(text)?,
        at: 0,
        depth: 0,
        tests: 0,
    };
    let expr = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err(ScimError::invalid_filter(format!(
            "unexpected text {}",
            parser.place()
        )));
    }
    Ok(expr)
}

/// Parses a PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`, each
/// optionally after a schema URN.
pub fn parse_path(text: &str) -> Result<(String, Option<Expr>, Option<String>), ScimError> {
    let bad = |why: String| ScimError::invalid_path(format!("path '{text}': {why}"));
    let Some(open) = text.find('[') else {
        if text.trim().is_empty() || text.contains([' ', '"', ']', '(', ')']) {
            return Err(bad("is not an attribute path".to_owned()));
        }
        return Ok((text.trim().to_owned(), None, None));
    };
    let close = text
        .rfind(']')
        .filter(|&c| c > open)
        .ok_or_else(|| bad("a ']' is missing".to_owned()))?;
    let attr = text[..open].trim();
    let rest = text[close + 1..].trim();
    let sub = match rest {
        "" => None,
        r if r.starts_with('.') && r.len() > 1 => Some(r[1..].to_owned()),
        _ => return Err(bad(format!("unexpected '{rest}' after ']'"))),
    };
    if attr.is_empty() {
        return Err(bad("an attribute name is expected before '['".to_owned()));
    }
    let filter = parse(&text[open + 1..close]).map_err(|e| bad(e.detail))?;
    Ok((attr.to_owned(), Some(filter), sub))
}

/// An attribute a resolved filter tests: a top attribute of a schema and maybe one of its
/// sub-attributes. Within [`Query::Any`], `attr` is the multi-valued attribute and `sub` the
/// element's sub-attribute tested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub home: Home,
    pub attr: &'static Attribute,
    pub sub: Option<&'static Attribute>,
}

impl Field {
    /// The attribute whose values are compared.
    pub fn leaf(&self) -> &'static Attribute {
        self.sub.unwrap_or(self.attr)
    }

    /// The dotted name, as messages say it.
    pub fn name(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}.{}", self.attr.name, sub.name),
            None => self.attr.name.to_owned(),
        }
    }

    pub fn is(&self, attr: &str, sub: Option<&str>) -> bool {
        self.home == Home::Core && self.attr.name == attr && self.sub.map(|s| s.name) == sub
    }
}

/// A value ready to compare: strings are lower-cased already for attributes compared
/// ignoring case, and times are microseconds since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Str(String),
    Bool(bool),
    Time(i64),
}

/// A filter resolved against a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    And(Box<Query>, Box<Query>),
    Or(Box<Query>, Box<Query>),
    Not(Box<Query>),
    Present(Field),
    Compare(Field, Op, Operand),
    /// `eq null`: the attribute has no value (and `ne null`, negated).
    Absent(Field),
    /// Some value of the multi-valued `list` matches `filter` (whose fields are the
    /// element's sub-attributes).
    Any {
        list: Field,
        filter: Box<Query>,
    },
}

/// Resolves an attribute path (`userName`, `name.givenName`, `urn:…:User:department`) to a
/// field of `resource`.
pub fn field(resource: Resource, path: &str) -> Result<Field, ScimError> {
    let unknown = |why: &str| ScimError::invalid_filter(format!("'{path}' {why}"));
    let (home, rest) = schema::split_urn(resource, path).map_err(|urn| {
        unknown(&format!(
            "names a schema this service provider does not know ({urn})"
        ))
    })?;
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let (home, attr) = schema::find(resource, home, name)
        .ok_or_else(|| unknown("is not an attribute that can be filtered on"))?;
    let sub = match sub {
        Some(sub) => Some(
            schema::sub(attr, sub)
                .ok_or_else(|| unknown("is not an attribute that can be filtered on"))?,
        ),
        None => None,
    };
    if attr.returned == schema::Returned::Never {
        return Err(unknown("is never returned, so it cannot be filtered on"));
    }
    let filterable_meta = matches!(sub.map(|s| s.name), Some("created" | "lastModified"));
    if attr.name == "meta" && !filterable_meta {
        return Err(unknown(
            "cannot be filtered on (meta.created and meta.lastModified can)",
        ));
    }
    if attr.name == "groups" && home == Home::Core && resource == Resource::User {
        return Err(unknown(
            "cannot be filtered on: filter Groups on members.value instead",
        ));
    }
    Ok(Field { home, attr, sub })
}

fn operand(field: &Field, op: Op, literal: &Literal) -> Result<Operand, ScimError> {
    let leaf = field.leaf();
    let name = field.name();
    let refuse = |why: String| ScimError::invalid_filter(format!("{name} {}: {why}", op.as_str()));
    if leaf.ty == Type::Complex {
        return Err(refuse(
            "a complex attribute cannot be compared; name one of its sub-attributes".to_owned(),
        ));
    }
    if field.is("id", None) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(refuse("an id is compared with eq or ne only".to_owned()));
    }
    match leaf.ty {
        Type::Boolean => {
            if op != Op::Eq && op != Op::Ne {
                return Err(refuse(
                    "a boolean is compared with eq or ne only".to_owned(),
                ));
            }
            match literal {
                Literal::Bool(b) => Ok(Operand::Bool(*b)),
                Literal::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Operand::Bool(true)),
                Literal::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Operand::Bool(false)),
                _ => Err(refuse("the value must be true or false".to_owned())),
            }
        }
        Type::DateTime => {
            let Literal::Str(text) = literal else {
                return Err(refuse(
                    "the value must be a date and time in quotes".to_owned(),
                ));
            };
            if op.matches_text() {
                return Err(refuse(
                    "dates are compared with eq, ne, gt, ge, lt or le".to_owned(),
                ));
            }
            let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
                refuse(format!(
                    "'{text}' is not a date and time such as 2026-01-31T09:00:00Z"
                ))
            })?;
            Ok(Operand::Time(at.timestamp_micros()))
        }
        Type::String | Type::Reference | Type::Complex => {
            let text = match literal {
                Literal::Str(s) => s.clone(),
                Literal::Num(n) => n.clone(),
                Literal::Bool(b) => b.to_string(),
                Literal::Null => {
                    return Err(refuse("null is compared with eq or ne only".to_owned()));
                }
            };
            Ok(Operand::Str(if leaf.case_exact {
                text
            } else {
                text.to_lowercase()
            }))
        }
    }
}

fn test(field: Field, cond: &Cond) -> Result<Query, ScimError> {
    match cond {
        Cond::Present => Ok(Query::Present(field)),
        Cond::Compare(op, Literal::Null) => match op {
            Op::Eq => Ok(Query::Absent(field)),
            Op::Ne => Ok(Query::Not(Box::new(Query::Absent(field)))),
            _ => Err(ScimError::invalid_filter(format!(
                "{} {} null: null is compared with eq or ne only",
                field.name(),
                op.as_str()
            ))),
        },
        Cond::Compare(op, literal) => {
            Ok(Query::Compare(field, *op, operand(&field, *op, literal)?))
        }
    }
}

/// A test on `field`: on a multi-valued attribute it asks whether any value passes (the
/// `value` sub-attribute when none is named).
fn wrap(field: Field, cond: &Cond) -> Result<Query, ScimError> {
    if !field.attr.multi {
        return test(field, cond);
    }
    let sub = match field.sub {
        Some(sub) => sub,
        None if *cond == Cond::Present => return Ok(Query::Present(field)),
        None => schema::sub(field.attr, "value").ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "{}: name one of its sub-attributes",
                field.attr.name
            ))
        })?,
    };
    let list = Field { sub: None, ..field };
    let inner = test(
        Field {
            sub: Some(sub),
            ..field
        },
        cond,
    )?;
    Ok(Query::Any {
        list,
        filter: Box::new(inner),
    })
}

fn within(list: Field, expr: &Expr) -> Result<Query, ScimError> {
    Ok(match expr {
        Expr::And(a, b) => Query::And(Box::new(within(list, a)?), Box::new(within(list, b)?)),
        Expr::Or(a, b) => Query::Or(Box::new(within(list, a)?), Box::new(within(list, b)?)),
        Expr::Not(a) => Query::Not(Box::new(within(list, a)?)),
        Expr::Test(name, cond) => {
            let sub = schema::sub(list.attr, name).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "'{name}' is not a sub-attribute of {}",
                    list.attr.name
                ))
            })?;
            test(
                Field {
                    sub: Some(sub),
                    ..list
                },
                cond,
            )?
        }
        Expr::Within { path, .. } => {
            return Err(ScimError::invalid_filter(format!(
                "'{path}[…]' cannot be nested inside {}[…]",
                list.attr.name
            )));
        }
    })
}

/// Resolves a filter against `resource`'s schema.
pub fn resolve(resource: Resource, expr: &Expr) -> Result<Query, ScimError> {
    Ok(match expr {
        Expr::And(a, b) => Query::And(
            Box::new(resolve(resource, a)?),
            Box::new(resolve(resource, b)?),
        ),
        Expr::Or(a, b) => Query::Or(
            Box::new(resolve(resource, a)?),
            Box::new(resolve(resource, b)?),
        ),
        Expr::Not(a) => Query::Not(Box::new(resolve(resource, a)?)),
        Expr::Test(path, cond) => wrap(field(resource, path)?, cond)?,
        Expr::Within { path, filter, then } => {
            let list = field(resource, path)?;
            if !list.attr.multi || list.sub.is_some() {
                return Err(ScimError::invalid_filter(format!(
                    "'{path}[…]': only a multi-valued attribute takes a value filter"
                )));
            }
            let mut inner = within(list, filter)?;
            if let Some((sub, cond)) = then {
                let then = within(list, &Expr::Test(sub.clone(), cond.clone()))?;
                inner = Query::And(Box::new(inner), Box::new(then));
            }
            Query::Any {
                list,
                filter: Box::new(inner),
            }
        }
    })
}

/// Parses and resolves a filter.
pub fn query(resource: Resource, text: &str) -> Result<Query, ScimError> {
    resolve(resource, &parse(text)?)
}

/// Whether one value of the multi-valued attribute `list` (a JSON object, or a plain value
/// standing for its `value`) matches `expr`, a filter over its sub-attributes.
pub fn element_matches(
    list: &'static Attribute,
    expr: &Expr,
    element: &Value,
) -> Result<bool, ScimError> {
    Ok(match expr {
        Expr::And(a, b) => element_matches(list, a, element)? && element_matches(list, b, element)?,
        Expr::Or(a, b) => element_matches(list, a, element)? || element_matches(list, b, element)?,
        Expr::Not(a) => !element_matches(list, a, element)?,
        Expr::Within { path, .. } => {
            return Err(ScimError::invalid_filter(format!(
                "'{path}[…]' cannot be nested inside {}[…]",
                list.name
            )));
        }
        Expr::Test(name, cond) => {
            let sub = schema::sub(list, name).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "'{name}' is not a sub-attribute of {}",
                    list.name
                ))
            })?;
            let value = match element {
                Value::Object(map) => map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(sub.name))
                    .map(|(_, v)| v),
                other if sub.name == "value" => Some(other),
                _ => None,
            };
            let present = value.is_some_and(|v| !v.is_null() && v != &Value::from(""));
            match cond {
                Cond::Present => present,
                Cond::Compare(op, Literal::Null) => match op {
                    Op::Eq => !present,
                    Op::Ne => present,
                    _ => {
                        return Err(ScimError::invalid_filter(
                            "null is compared with eq or ne only",
                        ));
                    }
                },
                Cond::Compare(op, literal) => {
                    let field = Field {
                        home: Home::Core,
                        attr: list,
                        sub: Some(sub),
                    };
                    let wanted = operand(&field, *op, literal)?;
                    value.is_some_and(|v| compare(v, *op, &wanted, sub.case_exact))
                }
            }
        }
    })
}

fn compare(value: &Value, op: Op, wanted: &Operand, case_exact: bool) -> bool {
    match (value, wanted) {
        (Value::Bool(b), Operand::Bool(w)) => (b == w) == (op == Op::Eq),
        (Value::String(s), Operand::Bool(w)) => {
            s.eq_ignore_ascii_case(if *w { "true" } else { "false" }) == (op == Op::Eq)
        }
        (Value::String(s), Operand::Time(w)) => {
            DateTime::parse_from_rfc3339(s).is_ok_and(|t| ordered(t.timestamp_micros().cmp(w), op))
        }
        (Value::String(s), Operand::Str(w)) => {
            let s = if case_exact {
                s.clone()
            } else {
                s.to_lowercase()
            };
            match op {
                Op::Co => s.contains(w.as_str()),
                Op::Sw => s.starts_with(w.as_str()),
                Op::Ew => s.ends_with(w.as_str()),
                _ => ordered(s.as_str().cmp(w.as_str()), op),
            }
        }
        (Value::Number(n), Operand::Str(w)) => ordered(n.to_string().cmp(w), op),
        _ => op == Op::Ne,
    }
}

fn ordered(order: std::cmp::Ordering, op: Op) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Op::Eq => order == Equal,
        Op::Ne => order != Equal,
        Op::Gt => order == Greater,
        Op::Ge => order != Less,
        Op::Lt => order == Less,
        Op::Le => order != Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}

/// Whether `expr` is `type eq "X"` (what a PATCH may create an element for when nothing
/// matches): the type wanted.
pub fn type_eq(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Test(name, Cond::Compare(Op::Eq, Literal::Str(value)))
            if name.eq_ignore_ascii_case("type") =>
        {
            Some(value)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
