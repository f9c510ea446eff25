//! Segments: the people of an org a rule on their fields picks out. A segment keeps no list of
//! members: whoever the rule matches now is in it, so membership follows every change of a
//! person's fields (a roster import that moves someone to another department moves them to
//! another segment).
//!
//! A rule reads as an admin would say it:
//!
//! ```text
//! role = student and department in ("Science", "Maths")
//! not (grade is empty) or location prefix "North"
//! ```
//!
//! - **Fields**: `role`, `source`, and any attribute of the org's people by its name
//!   (`department`, `location`, `grade`, …). A name that is neither is refused.
//! - **Tests**: `=` (equals), `in (…)` (equals one of), `prefix`, and `is empty` (the field has
//!   no value). Text is compared ignoring case.
//! - **Joined** by `and`, `or`, `not` and parentheses; `and` binds before `or`.
//! - **Values** are words (`student`, `north-east`, `9`) or text in double quotes, where `\"`
//!   is a quote and `\\` a backslash.
//!
//! Which people a segment counts and lists is the status rules' business, not the rule's:
//! inactive members stay (marked), archived ones are left out (see [`crate::rules`]).

use std::fmt;

use crate::FieldError;
use crate::rules::{self, SegmentMembership};
use crate::status::{Role, Status};
use crate::user::User;

/// The longest rule accepted, in characters.
pub const MAX_LENGTH: usize = 2_000;
/// The most tests a rule may hold.
pub const MAX_TESTS: usize = 50;
/// The deepest nesting of `not` and parentheses accepted.
pub const MAX_DEPTH: usize = 16;

/// The statuses whose people a segment lists and counts (the status rules': inactive people
/// stay, marked; archived ones are kept in the data, hidden).
pub fn listed_statuses() -> Vec<Status> {
    Status::ALL
        .iter()
        .copied()
        .filter(|s| rules::rules(*s).segments != SegmentMembership::KeptHidden)
        .collect()
}

/// A person's field a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Role,
    Source,
    /// A custom attribute, by its name.
    Attribute(String),
}

impl Field {
    /// The field's name as a rule writes it.
    pub fn name(&self) -> &str {
        match self {
            Field::Role => "role",
            Field::Source => "source",
            Field::Attribute(name) => name,
        }
    }

    /// The person's value of the field, if they have one.
    pub fn value_of<'u>(&self, user: &'u User) -> Option<&'u str> {
        match self {
            Field::Role => Some(user.role().as_str()),
            Field::Source => Some(user.source().as_str()),
            Field::Attribute(name) => user.attributes().get(name),
        }
    }
}

/// What a field's value is tested for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Equals(String),
    In(Vec<String>),
    Prefix(String),
    Empty,
}

/// A segment's rule, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Is { field: Field, test: Test },
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

/// Why a rule was refused, and where (a character's place in the text, from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {at})")]
pub struct RuleError {
    pub at: usize,
    pub message: String,
}

impl From<RuleError> for FieldError {
    fn from(err: RuleError) -> Self {
        FieldError::new("rule", err.to_string())
    }
}

impl Rule {
    /// Parses `text`; `is_attribute` says which attribute names the org's people have.
    pub fn parse(text: &str, is_attribute: &dyn Fn(&str) -> bool) -> Result<Rule, RuleError> {
        let length = text.chars().count();
        if length > MAX_LENGTH {
            return Err(RuleError {
                at: MAX_LENGTH + 1,
                message: format!("a rule is at most {MAX_LENGTH} characters"),
            });
        }
        let tokens = tokens(text)?;
        let mut parser = Parser {
            tokens,
            next: 0,
            end: length + 1,
            depth: 0,
            tests: 0,
            is_attribute,
        };
        if parser.tokens.is_empty() {
            return Err(RuleError {
                at: 1,
                message: "the rule is empty: write a test such as role = student".into(),
            });
        }
        let rule = parser.or()?;
        if let Some(token) = parser.tokens.get(parser.next) {
            return Err(RuleError {
                at: token.at,
                message: format!("'{}' was not expected here", token.kind),
            });
        }
        Ok(rule)
    }

    /// Whether `user`'s fields pass the rule (statuses aside).
    pub fn matches(&self, user: &User) -> bool {
        match self {
            Rule::Is { field, test } => {
                let value = field.value_of(user);
                match test {
                    Test::Empty => value.is_none_or(str::is_empty),
                    Test::Equals(wanted) => value.is_some_and(|v| same(v, wanted)),
                    Test::In(wanted) => value.is_some_and(|v| wanted.iter().any(|w| same(v, w))),
                    Test::Prefix(start) => {
                        value.is_some_and(|v| v.to_lowercase().starts_with(&start.to_lowercase()))
                    }
                }
            }
            Rule::Not(rule) => !rule.matches(user),
            Rule::And(rules) => rules.iter().all(|r| r.matches(user)),
            Rule::Or(rules) => rules.iter().any(|r| r.matches(user)),
        }
    }

    /// The fields the rule looks at, each once.
    pub fn fields(&self) -> Vec<&Field> {
        let mut fields = Vec::new();
        self.collect_fields(&mut fields);
        fields
    }

    fn collect_fields<'r>(&'r self, into: &mut Vec<&'r Field>) {
        match self {
            Rule::Is { field, .. } => {
                if !into.contains(&field) {
                    into.push(field);
                }
            }
            Rule::Not(rule) => rule.collect_fields(into),
            Rule::And(rules) | Rule::Or(rules) => {
                for rule in rules {
                    rule.collect_fields(into);
                }
            }
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The rule written back in its plain form: names in lower case, every value quoted. Parsing
/// it gives the same rule.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn joined(f: &mut fmt::Formatter<'_>, rules: &[Rule], word: &str) -> fmt::Result {
            for (i, rule) in rules.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                match rule {
                    Rule::And(_) | Rule::Or(_) => write!(f, "({rule})")?,
                    _ => write!(f, "{rule}")?,
                }
            }
            Ok(())
        }
        match self {
            Rule::Is { field, test } => {
                let name = field.name();
                match test {
                    Test::Equals(v) => write!(f, "{name} = {}", Quoted(v)),
                    Test::Prefix(v) => write!(f, "{name} prefix {}", Quoted(v)),
                    Test::Empty => write!(f, "{name} is empty"),
                    Test::In(values) => {
                        write!(f, "{name} in (")?;
                        for (i, v) in values.iter().enumerate() {
                            if i > 0 {
                                write!(f, ", ")?;
                            }
                            write!(f, "{}", Quoted(v))?;
                        }
                        write!(f, ")")
                    }
                }
            }
            Rule::Not(rule) => match **rule {
                Rule::Is { .. } | Rule::Not(_) => write!(f, "not {rule}"),
                _ => write!(f, "not ({rule})"),
            },
            Rule::And(rules) => joined(f, rules, "and"),
            Rule::Or(rules) => joined(f, rules, "or"),
        }
    }
}

struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\"",
            self.0.replace('\\', "\\\\").replace('"', "\\\"")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A word: a name, a keyword or a value.
    Word(String),
    /// Text in double quotes: only ever a value.
    Text(String),
    Equals,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Word(w) => write!(f, "{w}"),
            Kind::Text(t) => write!(f, "{}", Quoted(t)),
            Kind::Equals => write!(f, "="),
            Kind::Open => write!(f, "("),
            Kind::Close => write!(f, ")"),
            Kind::Comma => write!(f, ","),
        }
    }
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    /// The place of its first character, from 1.
    at: usize,
}

fn tokens(text: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '=' => Some(Kind::Equals),
            '(' => Some(Kind::Open),
            ')' => Some(Kind::Close),
            ',' => Some(Kind::Comma),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token { kind, at });
            i += 1;
            continue;
        }
        if c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(RuleError {
                            at,
                            message: "this quote is never closed".into(),
                        });
                    }
                    Some('"') => break,
                    Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(c) if c.is_control() => {
                        return Err(RuleError {
                            at: i + 1,
                            message: "a value may not hold control characters".into(),
                        });
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            i += 1;
            tokens.push(Token {
                kind: Kind::Text(value),
                at,
            });
            continue;
        }
        if c.is_control() {
            return Err(RuleError {
                at,
                message: "a rule may not hold control characters".into(),
            });
        }
        let mut word = String::new();
        while let Some(&c) = chars.get(i) {
            if c.is_whitespace() || c.is_control() || matches!(c, '=' | '(' | ')' | ',' | '"') {
                break;
            }
            word.push(c);
            i += 1;
        }
        tokens.push(Token {
            kind: Kind::Word(word),
            at,
        });
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    next: usize,
    /// The place just past the text, for what is missing at its end.
    end: usize,
    depth: usize,
    tests: usize,
    is_attribute: &'a dyn Fn(&str) -> bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end, |t| t.at)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, RuleError> {
        Err(RuleError {
            at: self.at(),
            message: message.into(),
        })
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut rules = vec![self.and()?];
        while self.keyword("or") {
            self.next += 1;
            rules.push(self.and()?);
        }
        Ok(if rules.len() == 1 {
            rules.remove(0)
        } else {
            Rule::Or(rules)
        })
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut rules = vec![self.unary()?];
        while self.keyword("and") {
            self.next += 1;
            rules.push(self.unary()?);
        }
        Ok(if rules.len() == 1 {
            rules.remove(0)
        } else {
            Rule::And(rules)
        })
    }

    fn unary(&mut self) -> Result<Rule, RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error(format!(
                "a rule nests `not` and parentheses at most {MAX_DEPTH} deep"
            ));
        }
        let rule = if self.keyword("not") {
            self.next += 1;
            Rule::Not(Box::new(self.unary()?))
        } else if matches!(
            self.peek(),
            Some(Token {
                kind: Kind::Open,
                ..
            })
        ) {
            let open = self.at();
            self.next += 1;
            let inner = self.or()?;
            if !matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Close,
                    ..
                })
            ) {
                return Err(RuleError {
                    at: open,
                    message: "this parenthesis is never closed".into(),
                });
            }
            self.next += 1;
            inner
        } else {
            self.test()?
        };
        self.depth -= 1;
        Ok(rule)
    }

    fn test(&mut self) -> Result<Rule, RuleError> {
        let field_at = self.at();
        let field = match self.peek() {
            Some(Token {
                kind: Kind::Word(w),
                ..
            }) => self.field(w, field_at)?,
            Some(token) => {
                return self.error(format!(
                    "expected a field (role, source or an attribute), found '{}'",
                    token.kind
                ));
            }
            None => return self.error("the rule ends where a test was expected"),
        };
        self.next += 1;
        self.tests += 1;
        if self.tests > MAX_TESTS {
            return Err(RuleError {
                at: field_at,
                message: format!("a rule holds at most {MAX_TESTS} tests"),
            });
        }
        let test = if matches!(
            self.peek(),
            Some(Token {
                kind: Kind::Equals,
                ..
            })
        ) {
            self.next += 1;
            Test::Equals(self.value(&field)?)
        } else if self.keyword("in") {
            self.next += 1;
            if !matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Open,
                    ..
                })
            ) {
                return self.error("`in` takes a list of values in parentheses");
            }
            self.next += 1;
            let mut values = vec![self.value(&field)?];
            while matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Comma,
                    ..
                })
            ) {
                self.next += 1;
                values.push(self.value(&field)?);
            }
            if !matches!(
                self.peek(),
                Some(Token {
                    kind: Kind::Close,
                    ..
                })
            ) {
                return self.error("the list of values ends with ')'");
            }
            self.next += 1;
            Test::In(values)
        } else if self.keyword("prefix") {
            self.next += 1;
            let at = self.at();
            let start = self.value(&field)?;
            if start.is_empty() {
                return Err(RuleError {
                    at,
                    message: "a prefix is at least one character".into(),
                });
            }
            Test::Prefix(start)
        } else if self.keyword("is") {
            self.next += 1;
            if !self.keyword("empty") {
                return self.error("`is` is followed by `empty`");
            }
            self.next += 1;
            Test::Empty
        } else {
            return self.error(format!(
                "after '{}' comes a test: =, in (…), prefix or is empty",
                field.name()
            ));
        };
        Ok(Rule::Is { field, test })
    }

    fn field(&self, word: &str, at: usize) -> Result<Field, RuleError> {
        let name = word.to_lowercase();
        Ok(match name.as_str() {
            "role" => Field::Role,
            "source" => Field::Source,
            _ if (self.is_attribute)(&name) => Field::Attribute(name),
            _ => {
                return Err(RuleError {
                    at,
                    message: format!(
                        "'{word}' is not a field: role, source, or an attribute the org's \
                         people have"
                    ),
                });
            }
        })
    }

    fn value(&mut self, field: &Field) -> Result<String, RuleError> {
        let at = self.at();
        let value = match self.peek().map(|t| &t.kind) {
            Some(Kind::Text(text)) => text.clone(),
            Some(Kind::Word(word)) if !is_keyword(word) => word.clone(),
            Some(kind) => return self.error(format!("expected a value, found '{kind}'")),
            None => return self.error("the rule ends where a value was expected"),
        };
        if value.chars().count() > 200 {
            return Err(RuleError {
                at,
                message: "a value is at most 200 characters".into(),
            });
        }
        if *field == Field::Role && value.to_lowercase().parse::<Role>().is_err() {
            return Err(RuleError {
                at,
                message: format!("'{value}' is not a role: student, teacher, staff or admin"),
            });
        }
        self.next += 1;
        Ok(value)
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "in", "prefix", "is", "empty"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        ["department", "location", "grade"].contains(&name)
    }

    fn parse(text: &str) -> Result<Rule, RuleError> {
        Rule::parse(text, &known)
    }

    fn is(field: Field, test: Test) -> Rule {
        Rule::Is { field, test }
    }

    fn attr(name: &str) -> Field {
        Field::Attribute(name.into())
    }

    #[test]
    fn and_binds_before_or_and_parentheses_group() {
        let rule = parse("role = student and department = Science or grade is empty").unwrap();
        assert_eq!(
            rule,
            Rule::Or(vec![
                Rule::And(vec![
                    is(Field::Role, Test::Equals("student".into())),
                    is(attr("department"), Test::Equals("Science".into())),
                ]),
                is(attr("grade"), Test::Empty),
            ])
        );
        let grouped =
            parse("ROLE = student AND (department = Science OR NOT grade IS EMPTY)").unwrap();
        assert_eq!(
            grouped,
            Rule::And(vec![
                is(Field::Role, Test::Equals("student".into())),
                Rule::Or(vec![
                    is(attr("department"), Test::Equals("Science".into())),
                    Rule::Not(Box::new(is(attr("grade"), Test::Empty))),
                ]),
            ])
        );
    }

    #[test]
    fn lists_prefixes_and_quoted_values() {
        let rule = parse(r#"department in ("Science", Maths,"Art \"and\" Design") and location prefix "North \\ East""#).unwrap();
        assert_eq!(
            rule,
            Rule::And(vec![
                is(
                    attr("department"),
                    Test::In(vec![
                        "Science".into(),
                        "Maths".into(),
                        "Art \"and\" Design".into()
                    ])
                ),
                is(attr("location"), Test::Prefix("North \\ East".into())),
            ])
        );
    }

    #[test]
    fn written_back_it_parses_to_the_same_rule() {
        for text in [
            "role = student",
            "not (role = admin or source = sis) and grade in (9, 10)",
            r#"department prefix "Sci\"ence" or not not location is empty"#,
            "(grade = 9 or grade = 10) and (department = a or department = b)",
        ] {
            let rule = parse(text).unwrap();
            let again = parse(&rule.to_string()).unwrap();
            assert_eq!(rule, again, "{text} → {rule}");
        }
    }

    #[test]
    fn refusals_say_what_and_where() {
        let cases = [
            ("", 1, "empty"),
            ("   ", 1, "empty"),
            ("shoe_size = 9", 1, "'shoe_size' is not a field"),
            ("role = wizard", 8, "not a role"),
            ("role student", 6, "comes a test"),
            ("role = ", 8, "ends where a value"),
            ("grade in 9, 10", 10, "list of values"),
            ("grade in (9, 10", 16, "ends with ')'"),
            ("(grade = 9", 1, "never closed"),
            ("grade = \"9", 9, "never closed"),
            ("grade = 9 grade = 10", 11, "not expected"),
            ("grade is full", 10, "followed by `empty`"),
            ("grade prefix \"\"", 14, "at least one character"),
            ("grade = and", 9, "expected a value"),
            ("= 9", 1, "expected a field"),
            ("grade = 9 and", 14, "ends where a test"),
            ("grade = 9\u{0}", 10, "control characters"),
        ];
        for (text, at, message) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.at, at, "{text}: {err}");
            assert!(err.message.contains(message), "{text}: {err}");
        }
    }

    fn person(role: Role, attributes: &[(&str, &str)]) -> User {
        let new = crate::NewUser {
            username: Some(crate::Username::parse("ada").unwrap()),
            email: None,
            given_name: crate::PersonName::parse("Ada", "given_name").unwrap(),
            family_name: crate::PersonName::parse("Lovelace", "family_name").unwrap(),
            role,
            source: crate::Source::manual(),
            external_id: None,
            prevent_archiving: None,
            password: None,
            must_change_password: false,
            attributes: crate::Attributes::parse(
                attributes
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
            .unwrap(),
        };
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        User::create(crate::OrgId::new(), new, &crate::Actor::system("test"), at)
            .unwrap()
            .0
    }

    #[test]
    fn people_match_by_their_fields_ignoring_case() {
        let ada = person(
            Role::Student,
            &[("department", "Science"), ("location", "North East")],
        );
        let bob = person(Role::Teacher, &[("department", "Maths")]);
        let rule = |text: &str| parse(text).unwrap();
        let who = |text: &str| {
            let rule = rule(text);
            [("ada", &ada), ("bob", &bob)]
                .iter()
                .filter(|(_, p)| rule.matches(p))
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
        };
        assert_eq!(who("role = STUDENT"), ["ada"]);
        assert_eq!(who("department = science"), ["ada"]);
        assert_eq!(who("department in (maths, art)"), ["bob"]);
        assert_eq!(who("location prefix \"north\""), ["ada"]);
        assert_eq!(who("location is empty"), ["bob"]);
        assert_eq!(
            who("not location is empty or role = teacher"),
            ["ada", "bob"]
        );
        assert_eq!(
            who("source = manual and not (department = science)"),
            ["bob"]
        );
        assert_eq!(who("grade is empty and grade = 9"), Vec::<&str>::new());
        assert_eq!(
            rule("department = a or (grade = 9 and location is empty)")
                .fields()
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>(),
            ["department", "grade", "location"]
        );
    }

    #[test]
    fn inactive_people_are_listed_and_archived_ones_are_not() {
        assert_eq!(listed_statuses(), [Status::Active, Status::Inactive]);
    }

    #[test]
    fn absurd_rules_are_refused_before_they_cost_anything() {
        let deep = format!("{}grade = 9{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().message.contains("deep"));
        let nots = format!("{}grade = 9", "not ".repeat(40));
        assert!(parse(&nots).unwrap_err().message.contains("deep"));
        let many = vec!["grade = 9"; 60].join(" or ");
        assert!(
            parse(&many)
                .unwrap_err()
                .message
                .contains("at most 50 tests")
        );
        let long = format!("grade = \"{}\"", "x".repeat(3000));
        assert!(parse(&long).unwrap_err().message.contains("2000"));
        let long_value = format!("grade = \"{}\"", "x".repeat(300));
        assert!(parse(&long_value).unwrap_err().message.contains("200"));
    }
}
