//! Plain CSV: one person per row, under headers Rollcall documents (`docs/formats/plain-csv.md`)
//! or the ones other learning platforms' "upload users" files use (`firstname`, `lastname`,
//! `email`, `username`, …), so a school can bring the file it already has.
//!
//! Headers are matched ignoring case, spaces, `_` and `-`; a header that names no known column
//! is an attribute (`Department` → `department`). UTF-8 with or without a byte-order mark, CRLF
//! or LF line ends, RFC 4180 quoting.

use std::collections::{BTreeMap, HashSet};
use std::io;

use rollcall_domain::provisioning::{Digest, Listed, Row};
use rollcall_domain::{Attributes, Email, ExternalId, FieldError, PersonName, Role, Username};

use crate::digest::Digester;
use crate::table::{Lines, csv_problem, line_of, squeezed, texts, wrong_count};
use crate::{Problem, Quiet, Report, Sink};

/// A column Rollcall knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Column {
    ExternalId,
    Username,
    Email,
    GivenName,
    FamilyName,
    Role,
    Status,
    /// Any other header: an attribute of that name.
    Attribute(String),
}

fn column_of(header: &str) -> Result<Column, String> {
    let column = match squeezed(header).as_str() {
        "externalid" | "id" | "userid" | "sourcedid" | "studentid" | "employeeid" | "idnumber"
        | "personid" => Column::ExternalId,
        "username" | "login" | "loginname" | "userlogin" => Column::Username,
        "email" | "emailaddress" | "mail" => Column::Email,
        "givenname" | "firstname" | "first" | "forename" => Column::GivenName,
        "familyname" | "lastname" | "last" | "surname" => Column::FamilyName,
        "role" | "usertype" | "type" => Column::Role,
        "status" | "enabled" | "enableduser" | "active" => Column::Status,
        "" => return Err("a column has no header".to_owned()),
        _ => {
            let name: String = header
                .trim()
                .chars()
                .map(|c| if matches!(c, ' ' | '-') { '_' } else { c })
                .flat_map(char::to_lowercase)
                .collect();
            let valid = name.len() <= 40
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(
                    "is not a column Rollcall knows, and not an attribute name (1 to 40 \
                            characters of a-z, 0-9 and '_')"
                        .to_owned(),
                );
            }
            Column::Attribute(name)
        }
    };
    Ok(column)
}

/// A role as the files of several platforms write it.
fn role_of(value: &str) -> Result<Role, String> {
    let role = match squeezed(value).as_str() {
        "" | "student" | "learner" | "pupil" => Role::Student,
        "teacher" | "instructor" | "trainer" | "faculty" | "aide" => Role::Teacher,
        "staff" | "employee" | "counselor" | "principal" => Role::Staff,
        "admin" | "administrator" | "siteadministrator" | "districtadministrator" => Role::Admin,
        _ => {
            return Err("is not a role: use student, teacher, staff or admin".to_owned());
        }
    };
    Ok(role)
}

/// Whether a row's person is enabled; blank means yes.
fn enabled_of(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "active" | "enabled" | "true" | "yes" | "y" | "1" => Ok(true),
        "inactive" | "disabled" | "suspended" | "false" | "no" | "n" | "0" => Ok(false),
        _ => Err("is not a status: use active or inactive (or true/false)".to_owned()),
    }
}

/// Where each known column sits.
struct Layout {
    headers: Vec<String>,
    columns: Vec<Column>,
}

impl Layout {
    fn read(headers: &[String], report: &mut Report) -> Option<Self> {
        let mut columns = Vec::with_capacity(headers.len());
        let mut seen = HashSet::new();
        for header in headers {
            match column_of(header) {
                Ok(column) => {
                    if !seen.insert(column.clone()) {
                        report.push(Problem::at(1, header, header, "names a column twice"));
                    }
                    columns.push(column);
                }
                Err(why) => report.push(Problem::at(1, header, header, why)),
            }
        }
        for (needed, name) in [
            (Column::GivenName, "given_name"),
            (Column::FamilyName, "family_name"),
        ] {
            if !seen.contains(&needed) {
                report.push(Problem::at_line(
                    1,
                    format!("the header has no {name} column"),
                ));
            }
        }
        if !seen.contains(&Column::Username) && !seen.contains(&Column::Email) {
            report.push(Problem::at_line(
                1,
                "the header needs a username or an email column (people sign in with one)",
            ));
        }
        report.is_empty().then(|| Self {
            headers: headers.to_vec(),
            columns,
        })
    }

    fn position(&self, column: &Column) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }
}

/// Reads a plain CSV file whole: its people, or every problem in it.
pub fn read(input: impl io::Read) -> Result<Vec<Row>, Vec<Problem>> {
    read_with(input, &mut |_, _, _| false).map(|(rows, _)| rows)
}

/// Reads a plain CSV file, passing over the people `quiet` says are sent as before (only a
/// file with an external id column can say who a row is before it is read): the other people,
/// and how many were passed over.
pub fn read_with(
    input: impl io::Read,
    quiet: &mut Quiet<'_>,
) -> Result<(Vec<Row>, usize), Vec<Problem>> {
    let mut rows = Vec::new();
    let passed = read_into(input, quiet, &mut |row| rows.push(row))?;
    Ok((rows, passed))
}

/// Reads a plain CSV file as [`read_with`] does, handing each person's row to `sink` as it is
/// read instead of holding them: how many were passed over.
pub fn read_into(
    input: impl io::Read,
    quiet: &mut Quiet<'_>,
    sink: &mut Sink<'_>,
) -> Result<usize, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Lines::new(input));
    let mut report = Report::default();
    let mut record = csv::ByteRecord::new();
    let first = reader.read_byte_record(&mut record);
    let headers = header_of(first, &record, &mut reader).map_err(|problem| vec![problem])?;
    let Some(layout) = Layout::read(&headers, &mut report) else {
        return Err(report.finish());
    };
    let mut digester = {
        let mut context = vec!["plain-csv/1"];
        context.extend(headers.iter().map(String::as_str));
        Digester::new(&context)
    };
    let id_column = layout.position(&Column::ExternalId);
    let mut passed = 0;
    let mut sent = 0_usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                report.push(csv_problem(&err, reader.get_mut()));
                // A broken quote leaves the reader unable to tell where rows start again.
                break;
            }
        }
        let line = line_of(&record, reader.get_mut());
        if record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        if record.len() != headers.len() {
            report.push(wrong_count(&record, headers.len(), line));
            continue;
        }
        let fields = match texts(&record, Some(&headers), line) {
            Ok(fields) => fields,
            Err(problem) => {
                report.push(problem);
                continue;
            }
        };
        digester.start();
        for field in &fields {
            digester.field(field.trim());
        }
        let digest = digester.finish();
        if let Some(id) = id_column
            && quiet(line, fields[id].trim(), digest)
        {
            passed += 1;
            continue;
        }
        match person(&layout, &fields, line, digest) {
            Ok(listed) => {
                sink(Row::Listed(listed));
                sent += 1;
            }
            Err(problems) => problems.into_iter().for_each(|p| report.push(p)),
        }
    }
    if sent == 0 && passed == 0 && report.is_empty() {
        report.push(Problem::at_line(
            1,
            "the file has a header but no people: a run never empties a source by accident",
        ));
    }
    if report.is_empty() {
        Ok(passed)
    } else {
        Err(report.finish())
    }
}

/// The header's names (a byte-order mark before the first dropped), or why there is none.
fn header_of<R: io::Read>(
    first: csv::Result<bool>,
    record: &csv::ByteRecord,
    reader: &mut csv::Reader<Lines<R>>,
) -> Result<Vec<String>, Problem> {
    match first {
        Ok(false) => Err(Problem::at_line(1, "the file is empty")),
        Err(err) => Err(csv_problem(&err, reader.get_mut())),
        Ok(true) => {
            let mut headers = texts(record, None, 1)?;
            if let Some(first) = headers.first_mut() {
                *first = first.trim_start_matches('\u{feff}').to_owned();
            }
            Ok(headers)
        }
    }
}

/// A value, when there is one.
fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// One row's person, or every problem in the row.
/// The attributes a row sets: its other columns.
fn attributes_of(layout: &Layout, fields: &[String], line: u64) -> Result<Attributes, Problem> {
    let mut attributes = BTreeMap::new();
    for (i, column) in layout.columns.iter().enumerate() {
        if let Column::Attribute(name) = column {
            attributes.insert(name.clone(), fields[i].clone());
        }
    }
    Attributes::parse(attributes)
        .map_err(|err| Problem::at_line(line, format!("{}: {}", err.field, err.message)))
}

fn person(
    layout: &Layout,
    fields: &[String],
    line: u64,
    digest: Digest,
) -> Result<Listed, Vec<Problem>> {
    let mut problems = Vec::new();
    let value = |column: &Column| {
        layout
            .position(column)
            .map(|i| (layout.headers[i].as_str(), fields[i].trim()))
    };
    let mut check = |column: &Column, parse: &dyn Fn(&str) -> Result<(), String>| {
        if let Some((header, text)) = value(column)
            && let Err(why) = parse(text)
        {
            problems.push(Problem::at(line, header, text, why));
        }
    };
    let field_error = |err: FieldError| err.message;
    check(&Column::Role, &|text| role_of(text).map(drop));
    check(&Column::Status, &|text| enabled_of(text).map(drop));
    check(&Column::GivenName, &|text| {
        PersonName::parse(text, "given_name")
            .map(drop)
            .map_err(field_error)
    });
    check(&Column::FamilyName, &|text| {
        PersonName::parse(text, "family_name")
            .map(drop)
            .map_err(field_error)
    });
    check(&Column::Username, &|text| match optional(text) {
        Some(text) => Username::parse(text).map(drop).map_err(field_error),
        None => Ok(()),
    });
    check(&Column::Email, &|text| match optional(text) {
        Some(text) => Email::parse(text).map(drop).map_err(field_error),
        None => Ok(()),
    });
    check(&Column::ExternalId, &|text| {
        ExternalId::parse(text).map(drop).map_err(field_error)
    });
    let text = |column: &Column| value(column).map(|(_, text)| text).and_then(optional);
    let username = text(&Column::Username).and_then(|t| Username::parse(t).ok());
    let email = text(&Column::Email).and_then(|t| Email::parse(t).ok());
    if username.is_none() && email.is_none() && problems.is_empty() {
        problems.push(Problem::at_line(
            line,
            "has neither a username nor an email: people sign in with one",
        ));
    }
    let attributes = attributes_of(layout, fields, line)
        .map_err(|problem| problems.push(problem))
        .ok();
    if !problems.is_empty() {
        return Err(problems);
    }
    // Without an id column, a person is known to the source by their username, else e-mail.
    let key = text(&Column::ExternalId)
        .map(str::to_owned)
        .or_else(|| username.as_ref().map(Username::key))
        .or_else(|| email.as_ref().map(Email::key))
        .unwrap_or_default();
    let parsed = (
        ExternalId::parse(&key),
        PersonName::parse(text(&Column::GivenName).unwrap_or_default(), "given_name"),
        PersonName::parse(text(&Column::FamilyName).unwrap_or_default(), "family_name"),
        text(&Column::Role).map(role_of).transpose(),
        enabled_of(text(&Column::Status).unwrap_or_default()),
        attributes,
    );
    match parsed {
        (
            Ok(external_id),
            Ok(given_name),
            Ok(family_name),
            Ok(role),
            Ok(enabled),
            Some(attributes),
        ) => Ok(Listed {
            line,
            external_id,
            username,
            email,
            given_name,
            family_name,
            role,
            creates: true,
            enabled,
            attributes,
            digest: Some(digest),
        }),
        // Every part was checked above; one failing here is a row with an empty required
        // value the checks let through.
        _ => Err(vec![Problem::at_line(line, "is missing a required value")]),
    }
}

#[cfg(test)]
mod tests;
