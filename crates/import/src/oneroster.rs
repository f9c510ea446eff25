//! OneRoster 1.1 and 1.2 CSV packages (`docs/formats/oneroster.md`): a zip (or a folder) of
//! `manifest.csv`, `users.csv`, in 1.2 `roles.csv`, and `orgs.csv`, with the other files of the
//! standard read for what Rollcall needs or knowingly ignored.
//!
//! The reader is lenient where a reasonable reader would be (file and header names in any case,
//! `TRUE` for `true`, a UTF-8 byte-order mark, CRLF, `active` written in bulk files, the
//! package inside one folder of the zip) and strict where a mistake would cost people their
//! accounts: a bulk users file with no rows, a file the manifest does not declare (or declares
//! and leaves out), a status that mixes bulk and delta (`tobedeleted` in a bulk file, a blank one
//! in a delta file), a zip entry that escapes the package, or a package that unpacks to an
//! absurd size.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read as _;

use rollcall_domain::provisioning::{Digest, Listed, Mode, OrgsSent, Row, SourceOrg};
use rollcall_domain::roster::MemberRole;
use rollcall_domain::{Attributes, Email, ExternalId, PersonName, Role, Username};

use crate::digest::Digester;
use crate::table::{Header, Record, Rows, Table, squeezed};
use crate::{ClassRow, EnrollmentRow, Problem, Quiet, Read, Report, RosterSet, Sink, Skipped};

/// Bytes a package may hold once unpacked, and each file within it.
pub const MAX_UNPACKED_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// How much larger than its zip a package may unpack to (a deflate bomb unpacks a thousandfold).
const MAX_RATIO: u64 = 200;
/// Entries a package may hold (1.2 defines 22 files).
const MAX_ENTRIES: usize = 64;

/// The files of the standard Rollcall reads nothing from, by version.
const IGNORED: &[&str] = &[
    "academicsessions.csv",
    "categories.csv",
    "classresources.csv",
    "courseresources.csv",
    "courses.csv",
    "demographics.csv",
    "lineitems.csv",
    "resources.csv",
    "results.csv",
    "userprofiles.csv",
    "userresources.csv",
    "scorescales.csv",
    "lineitemscorescales.csv",
    "resultscorescales.csv",
    "lineitemlearningobjectiveids.csv",
    "resultlearningobjectiveids.csv",
];

/// A package's files by lower-case name, each with its name as sent and its bytes.
pub type Files<'z> = BTreeMap<String, (String, Cow<'z, [u8]>)>;

/// Whether a (lower-cased) file name is a CSV file's.
fn is_csv(key: &str) -> bool {
    std::path::Path::new(key)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
}

/// Reads a zipped package.
pub fn read_zip(zip: &[u8]) -> Result<Read, Vec<Problem>> {
    read_zip_with(zip, &mut |_, _, _| false)
}

/// Reads a zipped package, passing over the users `quiet` says are sent as before.
pub fn read_zip_with(zip: &[u8], quiet: &mut Quiet<'_>) -> Result<Read, Vec<Problem>> {
    let mut rows = Vec::new();
    let read = read_zip_into(zip, &[], quiet, &mut |row| rows.push(row))?;
    Ok(Read { rows, ..read })
}

/// Reads a zipped package as [`read_zip_with`] does, handing each person's row to `sink` as it
/// is read instead of holding them (the [`Read`] has none). `known` are the orgs the source's
/// earlier packages named: they name the schools of a package that does not send them.
pub fn read_zip_into(
    zip: &[u8],
    known: &[SourceOrg],
    quiet: &mut Quiet<'_>,
    sink: &mut Sink<'_>,
) -> Result<Read, Vec<Problem>> {
    unzip(zip).and_then(|files| read_files_into(&files, known, quiet, sink))
}

/// The package's files by lower-case name, refusing entries that escape it and absurd sizes.
fn unzip(zip: &[u8]) -> Result<Files<'_>, Vec<Problem>> {
    let fail = |reason: String| vec![Problem::at_line(0, reason).in_file("the package")];
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|err| {
        fail(format!(
            "is not a zip file ({err}); send the package as a .zip"
        ))
    })?;
    if archive.len() > MAX_ENTRIES {
        return Err(fail(format!(
            "holds {} entries; a OneRoster package holds at most 22 files",
            archive.len()
        )));
    }
    let budget = (zip.len() as u64)
        .saturating_mul(MAX_RATIO)
        .min(MAX_UNPACKED_BYTES);
    let mut used = 0_u64;
    let mut files = BTreeMap::new();
    let mut folders = HashSet::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|err| fail(format!("cannot be read: {err}")))?;
        let raw = entry
            .name()
            .map_err(|err| fail(format!("has an entry whose name cannot be read: {err}")))?
            .into_owned();
        let escapes = raw.starts_with('/')
            || raw.starts_with('\\')
            || raw.contains(':')
            || raw.split(['/', '\\']).any(|part| part == "..");
        if escapes {
            return Err(fail(format!(
                "has an entry '{raw}' whose path leaves the package folder"
            )));
        }
        if entry.is_dir() {
            continue;
        }
        let (folder, name) = match raw.rsplit_once('/') {
            Some((folder, name)) => (folder.to_owned(), name.to_owned()),
            None => (String::new(), raw.clone()),
        };
        // Files macOS adds beside the real ones.
        if folder.starts_with("__MACOSX") || name.starts_with("._") || name == ".DS_Store" {
            continue;
        }
        folders.insert(folder);
        let allowed = budget.saturating_sub(used);
        let bytes = if let Some(stored) = stored_in_place(zip, &entry) {
            // Stored as it is: read where it lies, checked as unpacking would.
            if crc32fast::hash(stored) != entry.crc32() {
                return Err(fail(format!(
                    "has an entry '{raw}' whose checksum does not match: the zip is damaged"
                )));
            }
            used += stored.len() as u64;
            Cow::Borrowed(stored)
        } else {
            // Room for the size the entry says it has (within what is allowed): grown as it
            // is read, a file of 100 MiB would for a moment be held twice.
            let room = usize::try_from(entry.size().min(allowed + 1)).unwrap_or_default();
            let mut bytes = Vec::with_capacity(room);
            let read = entry
                .by_ref()
                .take(allowed + 1)
                .read_to_end(&mut bytes)
                .map_err(|err| fail(format!("cannot unpack '{raw}': {err}")))?;
            used += read as u64;
            Cow::Owned(bytes)
        };
        if used > budget {
            return Err(fail(format!(
                "unpacks to more than {} MiB (from a {} KiB zip); Rollcall refuses packages \
                 that grow more than {MAX_RATIO} times or past {} MiB",
                budget / (1024 * 1024),
                zip.len() / 1024,
                MAX_UNPACKED_BYTES / (1024 * 1024)
            )));
        }
        files.insert(name.to_lowercase(), (name, bytes));
    }
    if folders.len() > 1 {
        return Err(fail(
            "spreads its files over several folders; put every file at the top of the zip (or \
             in one folder)"
                .to_owned(),
        ));
    }
    Ok(files)
}

/// The bytes of an entry stored without compression, where they lie in `zip`: a package
/// stored as it is (as [`pack`] makes one) is read in place, not copied.
fn stored_in_place<'z>(
    zip: &'z [u8],
    entry: &zip::read::ZipFile<'_, impl std::io::Read>,
) -> Option<&'z [u8]> {
    if entry.compression() != zip::CompressionMethod::Stored
        || entry.encrypted()
        || entry.compressed_size() != entry.size()
    {
        return None;
    }
    let start = usize::try_from(entry.data_start()?).ok()?;
    let end = start.checked_add(usize::try_from(entry.size()).ok()?)?;
    zip.get(start..end)
}

/// Zips the CSV files of a folder (stored, not compressed): a package on disk, as SFTP delivers
/// it, becomes the zip the import reads.
pub fn pack_folder(folder: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut entries: Vec<_> = std::fs::read_dir(folder)?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    let mut files = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        files.push((name, std::fs::read(entry.path())?));
    }
    pack(&files)
}

/// Zips named files (stored, not compressed), in the order given.
pub fn pack(files: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// What the manifest declares.
struct Manifest {
    version: &'static str,
    /// `file.<name>` → `bulk`, `delta` or `absent`, by lower-case file name.
    files: HashMap<String, String>,
}

fn manifest(files: &Files<'_>) -> Result<Manifest, Vec<Problem>> {
    let Some((name, bytes)) = files.get("manifest.csv") else {
        let why = if files.contains_key("users.csv") {
            "has no manifest.csv: OneRoster 1.1 and 1.2 packages start with one (a package \
             without it is OneRoster 1.0, which Rollcall does not read)"
        } else {
            "has neither manifest.csv nor users.csv: it is not a OneRoster package"
        };
        return Err(vec![Problem::at_line(0, why).in_file("the package")]);
    };
    let table = Table::read(name, bytes)?;
    let (Some(property), Some(value)) = (table.column("propertyname"), table.column("value"))
    else {
        return Err(vec![
            Problem::at_line(1, "needs the columns propertyName and value").in_file(name),
        ]);
    };
    let mut report = Report::default();
    let mut version = None;
    let mut declared = HashMap::new();
    for (line, fields) in &table.rows {
        let key = fields[property].trim();
        let val = fields[value].trim();
        if key.eq_ignore_ascii_case("oneroster.version") {
            // A minor release and its patches (`1.1.0`, `1.2.1`) write the same files.
            let release = val.trim_start_matches(['v', 'V']);
            let minor = release.split('.').take(2).collect::<Vec<_>>().join(".");
            let patch_ok = release
                .split('.')
                .skip(2)
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
            version = match minor.as_str() {
                "1.1" if patch_ok => Some("1.1"),
                "1.2" if patch_ok => Some("1.2"),
                _ => {
                    report.push(
                        Problem::at(
                            *line,
                            "value",
                            val,
                            "is not a OneRoster version Rollcall reads: 1.1 or 1.2",
                        )
                        .in_file(name),
                    );
                    None
                }
            };
        } else if let Some(file) = key.to_ascii_lowercase().strip_prefix("file.") {
            let mode = val.to_ascii_lowercase();
            if !matches!(mode.as_str(), "bulk" | "delta" | "absent") {
                report.push(
                    Problem::at(*line, "value", val, "must be bulk, delta or absent").in_file(name),
                );
            }
            declared.insert(format!("{file}.csv"), mode);
        }
    }
    if version.is_none() && report.is_empty() {
        report
            .push(Problem::at_line(1, "does not say oneroster.version (1.1 or 1.2)").in_file(name));
    }
    // The files sent must be the files declared.
    for (key, (file, _)) in files {
        if key == "manifest.csv" || !is_csv(key) {
            continue;
        }
        match declared.get(key).map(String::as_str) {
            None => report.push(
                Problem::at_line(0, "is in the package but not in manifest.csv").in_file(file),
            ),
            Some("absent") => report.push(
                Problem::at_line(0, "is in the package but manifest.csv says it is absent")
                    .in_file(file),
            ),
            Some(_) => {}
        }
    }
    for (key, mode) in &declared {
        if mode != "absent" && !files.contains_key(key) {
            report.push(
                Problem::at_line(
                    0,
                    format!("manifest.csv says {mode}, but the package lacks it"),
                )
                .in_file(key),
            );
        }
    }
    match version {
        Some(version) if report.is_empty() => Ok(Manifest {
            version,
            files: declared,
        }),
        _ => Err(report.finish()),
    }
}

/// Reads an unpacked package (files by lower-case name, with their names as sent).
pub fn read_files(files: &Files<'_>) -> Result<Read, Vec<Problem>> {
    read_files_with(files, &mut |_, _, _| false)
}

/// Reads an unpacked package, passing over the users `quiet` says are sent as before.
pub fn read_files_with(files: &Files<'_>, quiet: &mut Quiet<'_>) -> Result<Read, Vec<Problem>> {
    let mut rows = Vec::new();
    let read = read_files_into(files, &[], quiet, &mut |row| rows.push(row))?;
    Ok(Read { rows, ..read })
}

/// Reads an unpacked package, handing each person's row to `sink` (see [`read_zip_into`]).
pub fn read_files_into(
    files: &Files<'_>,
    known: &[SourceOrg],
    quiet: &mut Quiet<'_>,
    sink: &mut Sink<'_>,
) -> Result<Read, Vec<Problem>> {
    let manifest = manifest(files)?;
    let mut notes = Vec::new();
    for (key, (name, _)) in files {
        if IGNORED.contains(&key.as_str()) {
            notes.push(format!(
                "{name}: not read (Rollcall imports people, classes and enrolments; not courses, \
                 sessions or results)"
            ));
        } else if !is_csv(key) {
            notes.push(format!("{name}: not a CSV file, not read"));
        }
    }
    let file = |key: &str| files.get(key).map(|(name, bytes)| Table::read(name, bytes));
    // Every file's problems are told at once: a file that cannot be read is told, and the
    // files after it are still read for theirs.
    let mut problems: Vec<Problem> = Vec::new();
    let orgs_full = manifest.files.get("orgs.csv").map(String::as_str) == Some("bulk");
    let read_orgs = |table: Result<Table, Vec<Problem>>| table.and_then(|t| orgs(&t, orgs_full));
    let sent_orgs = match file("orgs.csv").map(read_orgs) {
        Some(Ok(orgs)) => Some(orgs),
        Some(Err(told)) => {
            problems.extend(told);
            None
        }
        None => None,
    };
    let (orgs, sent_orgs) = named_orgs(known, sent_orgs, orgs_full);
    // `None`: users.csv is absent (classes and their members alone, or nothing).
    let mode = match manifest.files.get("users.csv").map(String::as_str) {
        Some("bulk") => Some(Mode::Full),
        Some("delta") => Some(Mode::Delta),
        _ => None,
    };
    let roles = match package_roles(&manifest, files, mode, &mut notes) {
        Ok(roles) => roles,
        Err(told) => {
            // Its people cannot be read without their roles; classes can.
            problems.extend(told);
            problems.extend(rosters(&manifest, files, &orgs).err().unwrap_or_default());
            return Err(problems);
        }
    };
    let Some(mode) = mode else {
        let rosters = match rosters(&manifest, files, &orgs) {
            Ok(rosters) if problems.is_empty() => rosters,
            read => {
                problems.extend(read.err().unwrap_or_default());
                return Err(problems);
            }
        };
        notes.push(
            match rosters {
                Some(_) => "users.csv is absent: the package changes no person, only classes",
                None => "users.csv is absent: the package changes nobody",
            }
            .to_owned(),
        );
        // Roles without their people are not read: each is listed as skipped.
        let skipped = roles
            .map(|(name, held)| unlisted_roles(&name, &held, Mode::Delta))
            .unwrap_or_default();
        let mut read = Read {
            mode: Some(Mode::Delta),
            notes,
            rosters,
            skipped,
            orgs: sent_orgs,
            ..Read::default()
        };
        read.take_roster_notes();
        return Ok(read);
    };
    let Some((users_name, users_bytes)) = files.get("users.csv") else {
        return Err(vec![
            Problem::at_line(0, "the package has no users.csv").in_file("users.csv"),
        ]);
    };
    let held = roles.as_ref().map(|(_, held)| held);
    let read = Rows::open(users_name, users_bytes)
        .and_then(|users| read_users(users, mode, held, &orgs, notes, quiet, sink));
    let rosters = rosters(&manifest, files, &orgs);
    let (mut read, rosters) = match (read, rosters) {
        (Ok(read), Ok(rosters)) if problems.is_empty() => (read, rosters),
        (read, rosters) => {
            problems.extend(read.err().unwrap_or_default());
            problems.extend(rosters.err().unwrap_or_default());
            return Err(problems);
        }
    };
    if let Some((name, held)) = &roles {
        read.skipped.extend(unlisted_roles(name, held, mode));
    }
    read.rosters = rosters;
    read.orgs = sent_orgs;
    read.take_roster_notes();
    Ok(read)
}

/// A 1.2 package's roles.csv, by person, with the file's name (`None` in 1.1). A delta of
/// `users.csv` (`mode`) may leave it out: its people keep their roles (an empty file's worth).
fn package_roles(
    manifest: &Manifest,
    files: &Files<'_>,
    mode: Option<Mode>,
    notes: &mut Vec<String>,
) -> Result<Option<(String, RolesByPerson)>, Vec<Problem>> {
    match (manifest.version, files.get("roles.csv")) {
        ("1.2", Some((name, bytes))) => {
            let table = Table::read(name, bytes)?;
            let bulk = manifest.files.get("roles.csv").map(String::as_str) == Some("bulk");
            let (held, twice) = roles(&table, bulk)?;
            if !twice.is_empty() {
                notes.push(format!(
                    "{}: {} role(s) are a second primary role of their person in one org (line(s) \
                     {}): the first primary role is the one read",
                    table.header.name,
                    twice.len(),
                    crate::listed_lines(&twice)
                ));
            }
            Ok(Some((table.header.name, held)))
        }
        ("1.2", None) if mode == Some(Mode::Delta) => {
            notes.push(
                "roles.csv is absent: the people of this delta keep their roles (one it would \
                 create needs a role, in roles.csv)"
                    .to_owned(),
            );
            Ok(Some(("roles.csv".to_owned(), HashMap::new())))
        }
        ("1.2", None) if mode.is_some() => Err(vec![
            Problem::at_line(
                0,
                "OneRoster 1.2 keeps users' roles in roles.csv, and the package lacks it",
            )
            .in_file("roles.csv"),
        ]),
        _ => Ok(None),
    }
}

impl Read {
    /// The reader's notes on classes and enrolments, moved to the package's.
    fn take_roster_notes(&mut self) {
        if let Some(rosters) = &mut self.rosters {
            self.notes.append(&mut rosters.notes);
        }
    }
}

/// Classes and enrollments, when the manifest sends either.
fn rosters(
    manifest: &Manifest,
    files: &Files<'_>,
    orgs: &HashMap<String, Org>,
) -> Result<Option<RosterSet>, Vec<Problem>> {
    // A file the manifest sends (bulk: the full list), with its name and bytes.
    let sent_file = |key: &str| match (manifest.files.get(key).map(String::as_str), files.get(key))
    {
        (Some(mode @ ("bulk" | "delta")), Some(file)) => Some((mode == "bulk", file)),
        _ => None,
    };
    let (classes_sent, enrollments_sent) = (sent_file("classes.csv"), sent_file("enrollments.csv"));
    if classes_sent.is_none() && enrollments_sent.is_none() {
        return Ok(None);
    }
    let mut report = Report::default();
    let mut set = RosterSet::default();
    // Every class classes.csv lists, even one refused (its enrolments are not refused too).
    let mut listed: HashSet<String> = HashSet::new();
    if let Some((full, (name, bytes))) = classes_sent {
        set.classes_full = full;
        let table = Table::read(name, bytes)?;
        if full {
            not_empty_in_bulk(&table, "class", &mut report);
        }
        if let Some(id) = table.column("sourcedid") {
            listed.extend(table.rows.iter().map(|(_, f)| f[id].trim().to_owned()));
        }
        set.classes = classes(&table, full, orgs, &mut report);
        // A class naming a school neither the package nor the source names keeps the one it
        // has.
        let unnamed: Vec<u64> = match table.column("schoolsourcedid") {
            Some(school) => table
                .rows
                .iter()
                .filter(|(_, f)| {
                    let id = f[school].trim();
                    !id.is_empty() && !orgs.contains_key(id)
                })
                .map(|(line, _)| *line)
                .collect(),
            None => Vec::new(),
        };
        if !unnamed.is_empty() {
            set.notes.push(format!(
                "{}: {} class(es) name a school the source has no name for (the package does \
                 not name it, nor do the orgs kept from its earlier packages): line(s) {}; a class \
                 the source has keeps its school, a new one has none",
                table.header.name,
                unnamed.len(),
                crate::listed_lines(&unnamed)
            ));
        }
    }
    // Enrolments without classes.csv are of the classes the source has.
    if let Some((full, (name, bytes))) = enrollments_sent {
        set.enrollments_full = full;
        let known: HashSet<&str> = listed.iter().map(String::as_str).collect();
        let table = Table::read(name, bytes)?;
        if full {
            not_empty_in_bulk(&table, "enrolment", &mut report);
        }
        let (rows, not_current) =
            enrollments(&table, (full, set.classes_full), &known, &mut report);
        if !not_current.is_empty() {
            set.notes.push(format!(
                "{}: {} enrolment(s) are not current today (ended, or beginning later): each \
                 ends the enrolment of its sourcedId, if the source has it (send one beginning \
                 later again once it has begun): line(s) {}",
                table.header.name,
                not_current.len(),
                crate::listed_lines(&not_current),
            ));
        }
        let let_go = seated_again(&rows);
        set.enrollments = rows;
        if !let_go.is_empty() {
            set.notes.push(format!(
                "{}: {} enrolment(s) name a person already enrolled in their class by an \
                 earlier line (line(s) {}): each person has one seat in a class, in the highest \
                 part of their enrolments there (teacher, then student, then other), while any of them \
                 stands",
                table.header.name,
                let_go.len(),
                crate::listed_lines(&let_go),
            ));
        }
    }
    if report.is_empty() {
        Ok(Some(set))
    } else {
        Err(report.finish())
    }
}

/// Reports each sourcedId of `table` (in `column`) listed again, naming the line it was first
/// listed on: two rows of one record would leave which one counts to chance.
fn listed_once(table: &Table, column: usize, report: &mut Report) {
    let mut first_of: HashMap<&str, u64> = HashMap::new();
    for (line, f) in &table.rows {
        let id = f[column].trim();
        if id.is_empty() {
            continue;
        }
        let first = *first_of.entry(id).or_insert(*line);
        if first != *line {
            report.push(
                Problem::at(
                    *line,
                    &table.header.headers[column],
                    id,
                    format!("is listed twice: first on line {first}"),
                )
                .in_file(&table.header.name),
            );
        }
    }
}

/// Refuses a bulk `table` with a header and no rows: a bulk file is the whole list, so an empty
/// one would take away every `what` the source has (the standard does not allow one either).
fn not_empty_in_bulk(table: &Table, what: &str, report: &mut Report) {
    if table.rows.is_empty() {
        report.push(
            Problem::at_line(
                1,
                format!(
                    "has a header but no rows: a bulk file lists every {what}, so an empty one \
                     would take them all away; it is refused (mark the file absent in the \
                     manifest to leave them as they are)"
                ),
            )
            .in_file(&table.header.name),
        );
    }
}

/// Whether a row of classes.csv, enrollments.csv or orgs.csv deletes (`tobedeleted`, in a
/// delta file); `None`, reported, for a status the file may not hold: `tobedeleted` in a bulk
/// file (it lists current rows only), a blank one in a delta file (which says active or
/// tobedeleted on every row, as users.csv does), or any other word.
fn deletes(
    table: &Table,
    status: Option<usize>,
    (line, f): (u64, &[String]),
    full: bool,
    report: &mut Report,
) -> Option<bool> {
    if status.is_none() && !full {
        // Told once, for the file (see `status_column`).
        return None;
    }
    let said = status.map_or("", |i| f[i].trim());
    match status_says(said, full, "rows") {
        Ok(deleted) => Some(deleted),
        Err(why) => {
            let column = status.map_or("status", |i| table.header.headers[i].as_str());
            report.push(Problem::at(line, column, said, why).in_file(&table.header.name));
            None
        }
    }
}

/// What a row's status (`said`, in any case) says in a bulk (`full`) or delta file: whether
/// the row deletes, or why the status is refused (a bulk file lists current `rows` only; a
/// delta file says active or tobedeleted on every row).
fn status_says(said: &str, full: bool, rows: &str) -> Result<bool, String> {
    match (said.to_ascii_lowercase().as_str(), full) {
        ("" | "active", true) | ("active", false) => Ok(false),
        ("tobedeleted", false) => Ok(true),
        ("tobedeleted", true) => Err(format!(
            "a bulk file lists current {rows} only; send deletions in a delta package"
        )),
        ("", false) => Err("a delta file says active or tobedeleted on every row".to_owned()),
        _ => Err("must be active or tobedeleted".to_owned()),
    }
}

/// The status column of classes.csv, enrollments.csv or orgs.csv: a delta file needs one (each
/// row says active or tobedeleted), which is told once when it is missing.
fn status_column(table: &Table, full: bool, report: &mut Report) -> Option<usize> {
    if full {
        table.column("status")
    } else {
        table.header.need("status", report)
    }
}

/// The classes of classes.csv; a class without a sourcedId or a title is reported.
fn classes(
    table: &Table,
    full: bool,
    orgs: &HashMap<String, Org>,
    report: &mut Report,
) -> Vec<ClassRow> {
    let need = |c: &str, report: &mut Report| table.header.need(c, report);
    let (id, title) = (need("sourcedId", report), need("title", report));
    let (Some(id), Some(title)) = (id, title) else {
        return Vec::new();
    };
    let (code, school, status) = (
        table.column("classcode"),
        table.column("schoolsourcedid"),
        status_column(table, full, report),
    );
    let text = |f: &[String], c: Option<usize>| c.map_or(String::new(), |i| f[i].trim().to_owned());
    let classes: Vec<ClassRow> = table
        .rows
        .iter()
        .filter_map(|(line, f)| {
            Some(ClassRow {
                line: *line,
                external_id: f[id].trim().to_owned(),
                title: f[title].trim().to_owned(),
                code: text(f, code),
                school: orgs.get(&text(f, school)).map(|o| o.name.clone()),
                deleted: deletes(table, status, (*line, f), full, report)?,
            })
        })
        .collect();
    // A deletion needs its sourcedId alone.
    let empty = |line: u64, column: usize, why: &str| {
        Problem::at(line, &table.header.headers[column], "", why).in_file(&table.header.name)
    };
    for class in &classes {
        if class.external_id.is_empty() {
            report.push(empty(
                class.line,
                id,
                "is empty: every class needs its sourcedId",
            ));
        } else if class.title.is_empty() && !class.deleted {
            report.push(empty(class.line, title, "is empty: a class needs a title"));
        }
    }
    listed_once(table, id, report);
    classes
}

/// An org of the package: its name and type.
struct Org {
    name: String,
    kind: String,
}

/// The orgs of orgs.csv, each with whether it is deleted (a delta's `tobedeleted`). Every org
/// needs its sourcedId, and a name unless deleted; a bulk file (`full`) lists current orgs
/// only, and at least one: an empty one would forget every school the source named.
fn orgs(table: &Table, full: bool) -> Result<Vec<(SourceOrg, bool)>, Vec<Problem>> {
    let mut report = Report::default();
    let need = |c: &str, report: &mut Report| table.header.need(c, report);
    let (id, name, kind) = (
        need("sourcedId", &mut report),
        need("name", &mut report),
        need("type", &mut report),
    );
    let (Some(id), Some(name), Some(kind)) = (id, name, kind) else {
        return Err(report.finish());
    };
    if full {
        not_empty_in_bulk(table, "org", &mut report);
    }
    listed_once(table, id, &mut report);
    let status = status_column(table, full, &mut report);
    let problem = |line: u64, column: usize, value: &str, why: &str| {
        Problem::at(line, &table.header.headers[column], value, why).in_file(&table.header.name)
    };
    let mut orgs = Vec::with_capacity(table.rows.len());
    for (line, f) in &table.rows {
        let org = SourceOrg {
            external_id: f[id].trim().to_owned(),
            name: f[name].trim().to_owned(),
            kind: f[kind].trim().to_owned(),
        };
        let Some(deleted) = deletes(table, status, (*line, f), full, &mut report) else {
            continue;
        };
        if org.external_id.is_empty() {
            report.push(problem(
                *line,
                id,
                "",
                "is empty: every org needs its sourcedId",
            ));
        } else if org.name.is_empty() && !deleted {
            report.push(problem(*line, name, "", "is empty: an org needs a name"));
        }
        orgs.push((org, deleted));
    }
    if report.is_empty() {
        Ok(orgs)
    } else {
        Err(report.finish())
    }
}

/// The orgs that name this package's schools: those it sends (even one it deletes: its people
/// and classes of this package are still named by it) over those the source's earlier packages
/// sent (`known`), unless it sends all of them (`full`); and what it sends, for the source to
/// keep.
fn named_orgs(
    known: &[SourceOrg],
    sent: Option<Vec<(SourceOrg, bool)>>,
    full: bool,
) -> (HashMap<String, Org>, Option<OrgsSent>) {
    let org = |o: &SourceOrg| {
        let named = Org {
            name: o.name.clone(),
            kind: o.kind.clone(),
        };
        (o.external_id.clone(), named)
    };
    let Some(sent) = sent else {
        return (known.iter().map(org).collect(), None);
    };
    let mut named: HashMap<String, Org> = if full {
        HashMap::new()
    } else {
        known.iter().map(org).collect()
    };
    // A deletion naming only its id leaves the name the source has.
    named.extend(
        sent.iter()
            .filter(|(o, deleted)| !deleted || !o.name.is_empty())
            .map(|(o, _)| org(o)),
    );
    let (gone, kept): (Vec<_>, Vec<_>) = sent.into_iter().partition(|&(_, deleted)| deleted);
    let mut sent = OrgsSent {
        full,
        orgs: kept.into_iter().map(|(o, _)| o).collect(),
        gone: gone.into_iter().map(|(o, _)| o.external_id).collect(),
    };
    sent.orgs.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    (named, Some(sent))
}

/// A user's current roles in the package (1.2's roles.csv), and whether users.csv lists the
/// user.
#[derive(Default)]
struct Roles {
    held: Vec<Held>,
    listed: Cell<bool>,
}

/// A user's current role in the package (1.2's roles.csv), the org it is held in, and its line.
struct Held {
    role: String,
    primary: bool,
    org: String,
    line: u64,
}

/// The current roles of roles.csv that name someone users.csv does not list, each a row left
/// out, in the file's order: a role is read with its person's row.
fn unlisted_roles(file: &str, held: &HashMap<String, Roles>, mode: Mode) -> Vec<Skipped> {
    let why = match mode {
        Mode::Full => "names a person users.csv does not list: the role is not read",
        Mode::Delta => {
            "names a person this delta's users.csv does not list: the role is not read (send \
             their users.csv row with a change of role)"
        }
    };
    let mut unlisted: Vec<Skipped> = held
        .iter()
        .filter(|(_, roles)| !roles.listed.get())
        .flat_map(|(user, roles)| {
            roles.held.iter().map(|held| Skipped {
                file: file.to_owned(),
                line: held.line,
                external_id: user.clone(),
                why: why.to_owned(),
            })
        })
        .collect();
    unlisted.sort_unstable_by_key(|skipped| skipped.line);
    unlisted
}

/// The current roles of roles.csv, by person.
type RolesByPerson = HashMap<String, Roles>;

/// The current roles of roles.csv by person, and the lines of primary roles a person already
/// holds a primary role in that org before (only one is allowed).
fn roles(table: &Table, bulk: bool) -> Result<(RolesByPerson, Vec<u64>), Vec<Problem>> {
    let mut report = Report::default();
    if bulk {
        not_empty_in_bulk(table, "person's role", &mut report);
    }
    if let Some(column) = table.column("sourcedid") {
        listed_once(table, column, &mut report);
    }
    let columns: Vec<Option<usize>> = ["userSourcedId", "role", "roleType", "orgSourcedId"]
        .iter()
        .map(|c| table.header.need(c, &mut report))
        .collect();
    let [Some(user), Some(role), Some(kind), Some(org)] = columns[..] else {
        return Err(report.finish());
    };
    let (status, begin, end) = (
        table.column("status"),
        table.column("begindate"),
        table.column("enddate"),
    );
    let today = chrono::Utc::now().date_naive();
    let mut held: HashMap<String, Roles> = HashMap::new();
    let mut primary_in: HashSet<(&str, &str)> = HashSet::new();
    let mut twice = Vec::new();
    for (line, f) in &table.rows {
        if status.is_some_and(|s| f[s].trim().eq_ignore_ascii_case("tobedeleted")) {
            continue;
        }
        let current = current_on(today, table, (*line, f), (begin, end), &mut report);
        // The role and its kind are checked here, where they are written, current or not.
        let at = |column: usize, why: String| {
            let header = &table.header;
            Problem::at(*line, &header.headers[column], f[column].trim(), why).in_file(&header.name)
        };
        if let Err(why) = role_of(&f[role]) {
            report.push(at(role, why));
        }
        let primary = match squeezed(&f[kind]).as_str() {
            "primary" => true,
            "secondary" => false,
            _ => {
                report.push(at(kind, "must be primary or secondary".to_owned()));
                false
            }
        };
        if current && primary && !primary_in.insert((f[user].trim(), f[org].trim())) {
            twice.push(*line);
        }
        if current {
            let roles = held.entry(f[user].trim().to_owned()).or_default();
            roles.held.push(Held {
                role: f[role].trim().to_owned(),
                primary,
                org: f[org].trim().to_owned(),
                line: *line,
            });
        }
    }
    if report.is_empty() {
        Ok((held, twice))
    } else {
        Err(report.finish())
    }
}

/// The enrolments of enrollments.csv. In a bulk file an ended or future one is not read; in a
/// delta it ends the enrolment of its id, as a deletion does: with the lines of those.
fn enrollments(
    table: &Table,
    (full, classes_full): (bool, bool),
    known: &HashSet<&str>,
    report: &mut Report,
) -> (Vec<EnrollmentRow>, Vec<u64>) {
    let text = |f: &[String], c: Option<usize>| c.map_or(String::new(), |i| f[i].trim().to_owned());
    let columns: Vec<Option<usize>> = ["classSourcedId", "userSourcedId", "role"]
        .iter()
        .map(|c| table.header.need(c, report))
        .collect();
    let [Some(class), Some(user), Some(role)] = columns[..] else {
        return (Vec::new(), Vec::new());
    };
    let (status, begin, end) = (
        status_column(table, full, report),
        table.column("begindate"),
        table.column("enddate"),
    );
    let today = chrono::Utc::now().date_naive();
    let sourced_id = table.column("sourcedid");
    if let Some(column) = sourced_id {
        listed_once(table, column, report);
    }
    let mut rows = Vec::new();
    let mut not_current = Vec::new();
    for (line, f) in &table.rows {
        let Some(said_deleted) = deletes(table, status, (*line, f), full, report) else {
            continue;
        };
        let current = current_on(today, table, (*line, f), (begin, end), report);
        if full && !current {
            continue;
        }
        if !current && !said_deleted {
            not_current.push(*line);
        }
        let deleted = !current || said_deleted;
        let external_id = text(f, sourced_id);
        // A deletion may name the enrolment alone; any other row names its class and person.
        let by_id = deleted && !external_id.is_empty();
        let named = |column: usize, report: &mut Report| {
            let empty = f[column].trim().is_empty();
            if empty && !by_id {
                let why = if deleted {
                    "is empty: a deletion names the enrolment by its sourcedId, or its class \
                     and person"
                } else {
                    "is empty: an enrolment names its class and its person"
                };
                report.push(
                    Problem::at(*line, &table.header.headers[column], "", why)
                        .in_file(&table.header.name),
                );
            }
            !empty || by_id
        };
        if !(named(class, report) & named(user, report)) {
            continue;
        }
        let class_id = f[class].trim().to_owned();
        if classes_full && !deleted && !known.contains(class_id.as_str()) {
            report.push(
                Problem::at(
                    *line,
                    &table.header.headers[class],
                    &class_id,
                    "names no class of classes.csv",
                )
                .in_file(&table.header.name),
            );
            continue;
        }
        let user_id = f[user].trim().to_owned();
        // Without a sourcedId, the enrolment is known by its class and person.
        let external_id = if external_id.is_empty() {
            rollcall_domain::roster::unnamed_enrolment_id(&class_id, &user_id)
        } else {
            external_id
        };
        // One not current ends only the enrolment of its id: it is no deletion of whatever
        // seat its class and person have (a seat may stand on another enrolment, or predate
        // enrolments kept by id).
        let (class_id, user_id) = if current || said_deleted {
            (class_id, user_id)
        } else {
            (String::new(), String::new())
        };
        rows.push(EnrollmentRow {
            line: *line,
            external_id,
            class: class_id,
            user: user_id,
            // As in users.csv: aides and proctors teach the class with its teacher.
            role: match squeezed(f[role].trim()).as_str() {
                "teacher" | "aide" | "proctor" => MemberRole::Teacher,
                "student" => MemberRole::Student,
                _ => MemberRole::Other,
            },
            deleted,
        });
    }
    (rows, not_current)
}

/// The lines of current enrolments naming a person already enrolled in the same class by an
/// earlier line: they make no second seat.
fn seated_again(rows: &[EnrollmentRow]) -> Vec<u64> {
    let mut seen = HashSet::new();
    rows.iter()
        .filter(|row| !row.deleted)
        .filter(|row| !seen.insert((row.class.as_str(), row.user.as_str())))
        .map(|row| row.line)
        .collect()
}

/// Whether a row of `table` (its line and fields) holds on `today`, by its optional begin and
/// end dates (columns `dates`): begun by then, not yet ended. A date that does not read is
/// reported, and the row does not hold: a role or a membership is never guessed.
fn current_on(
    today: chrono::NaiveDate,
    table: &Table,
    (line, fields): (u64, &[String]),
    dates: (Option<usize>, Option<usize>),
    report: &mut Report,
) -> bool {
    let mut current = true;
    for (column, is_begin) in [(dates.0, true), (dates.1, false)] {
        let Some(column) = column else { continue };
        let text = fields[column].trim();
        if text.is_empty() {
            continue;
        }
        match date(text) {
            Some(day) if is_begin => current &= day <= today,
            Some(day) => current &= today < day,
            None => {
                report.push(
                    Problem::at(
                        line,
                        &table.header.headers[column],
                        text,
                        "is not a date (use YYYY-MM-DD)",
                    )
                    .in_file(&table.header.name),
                );
                current = false;
            }
        }
    }
    current
}

/// A date as packages write them: `2026-09-01`, `2026-09-01T00:00:00Z`, `2026/09/01`.
fn date(text: &str) -> Option<chrono::NaiveDate> {
    let day = text.get(..10).unwrap_or(text).replace('/', "-");
    chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()
}

/// What a OneRoster role is in Rollcall; `None` for the people Rollcall does not manage
/// (parents, guardians and relatives). Administrators of a school system are staff here:
/// a feed never makes anyone an administrator of Rollcall.
fn role_of(raw: &str) -> Result<Option<Role>, String> {
    Ok(Some(match squeezed(raw).as_str() {
        "student" => Role::Student,
        "teacher" | "aide" | "proctor" => Role::Teacher,
        "administrator"
        | "principal"
        | "counselor"
        | "siteadministrator"
        | "districtadministrator"
        | "systemadministrator" => Role::Staff,
        "guardian" | "parent" | "relative" => return Ok(None),
        other if other.starts_with("ext:") => Role::Staff,
        _ => {
            return Err(
                "is not a OneRoster role (student, teacher, aide, proctor, administrator, \
                 principal, counselor, guardian, parent, relative, …)"
                    .to_owned(),
            );
        }
    }))
}

fn boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

/// The fields of users.csv a row's digest covers (with, in 1.2, the user's roles in
/// roles.csv): every field the reader reads.
const DIGESTED: [&str; 11] = [
    "sourcedid",
    "status",
    "enableduser",
    "orgsourcedids",
    "role",
    "username",
    "givenname",
    "familyname",
    "identifier",
    "email",
    "grades",
];

fn read_users(
    (header, mut rows): (Header, Rows<'_>),
    mode: Mode,
    roles: Option<&HashMap<String, Roles>>,
    orgs: &HashMap<String, Org>,
    mut notes: Vec<String>,
    quiet: &mut Quiet<'_>,
    sink: &mut Sink<'_>,
) -> Result<Read, Vec<Problem>> {
    let file = header.name.as_str();
    let mut report = Report::default();
    let mut required = vec![
        "sourcedId",
        "enabledUser",
        "givenName",
        "familyName",
        "username",
    ];
    if roles.is_none() {
        required.push("role");
    }
    // Each row of a delta says active or tobedeleted.
    if mode == Mode::Delta {
        required.push("status");
    }
    for column in &required {
        header.need(column, &mut report);
    }
    if !report.is_empty() {
        return Err(report.finish());
    }
    let users = Users {
        header: &header,
        mode,
        roles,
        orgs,
        digested: DIGESTED.map(|c| header.column(c)),
        unnamed_schools: Cell::new(0),
    };
    let mut digester = users.digester();
    let sourced_id = header.column("sourcedid");
    let mut listed = 0_usize;
    let mut passed = 0_usize;
    let mut skipped = Vec::new();
    while let Some((line, record)) = rows.next_record(&header, &mut report) {
        listed += 1;
        let digest = users.digest(&mut digester, record);
        if quiet(line, sourced_id.map_or("", |i| record.get(i)), digest) {
            passed += 1;
            continue;
        }
        let fields = record.fields();
        let mut row = UserRow {
            users: &users,
            line,
            fields: &fields,
            digest,
            report: &mut report,
        };
        match row.read() {
            Some(Ok(read)) => sink(read),
            Some(Err(skip)) => skipped.push(skip),
            None => {}
        }
    }
    if listed == 0 && report.is_empty() && mode == Mode::Full {
        return Err(vec![
            Problem::at_line(
                1,
                "has a header but no people: a bulk file lists everyone, and an empty one would \
                 archive a whole school, so it is refused (mark users absent in the manifest to \
                 send no users)",
            )
            .in_file(file),
        ]);
    }
    let unnamed = users.unnamed_schools.get();
    if unnamed > 0 {
        notes.push(format!(
            "{file}: {unnamed} person(s) belong to orgs the source has no name for (the \
             package does not name them, nor do the orgs kept from its earlier packages): their \
             school_id is kept; the name in their school attribute stays for those still at that \
             school, and is cleared for those moved to it"
        ));
    }
    if report.is_empty() {
        Ok(Read {
            rows: Vec::new(),
            mode: Some(mode),
            skipped,
            notes,
            quiet: passed,
            ..Read::default()
        })
    } else {
        Err(report.finish())
    }
}

/// What users.csv is read with.
struct Users<'a> {
    header: &'a Header,
    mode: Mode,
    /// 1.2's roles by user; `None` in 1.1, where users.csv says.
    roles: Option<&'a HashMap<String, Roles>>,
    orgs: &'a HashMap<String, Org>,
    /// Where each of [`DIGESTED`] sits.
    digested: [Option<usize>; DIGESTED.len()],
    /// How many people read belong only to orgs neither the package nor the source names.
    unnamed_schools: Cell<usize>,
}

impl Users<'_> {
    fn text<'f>(&self, fields: &[&'f str], column: &str) -> &'f str {
        self.header.column(column).map_or("", |i| fields[i].trim())
    }

    /// A digester whose context is the reader and the package's orgs (a school renamed
    /// changes every row of its people).
    fn digester(&self) -> Digester {
        let mut context = vec!["oneroster-users/1"];
        let mut orgs: Vec<(&String, &Org)> = self.orgs.iter().collect();
        orgs.sort_unstable_by_key(|(id, _)| *id);
        for (id, org) in orgs {
            context.extend([id.as_str(), org.name.as_str(), org.kind.as_str()]);
        }
        Digester::new(&context)
    }

    fn digest(&self, digester: &mut Digester, record: Record<'_>) -> Digest {
        digester.start();
        for column in self.digested {
            digester.field(column.map_or("", |i| record.get(i)));
        }
        if let Some(roles) = self.roles {
            let roles = roles.get(self.digested[0].map_or("", |i| record.get(i)));
            if let Some(roles) = roles {
                roles.listed.set(true);
            }
            for held in roles.map(|roles| roles.held.as_slice()).unwrap_or_default() {
                digester.field(&held.role);
                digester.field(&held.org);
                digester.field(if held.primary { "primary" } else { "" });
            }
        }
        digester.finish()
    }
}

/// One row of users.csv being read; its problems go to the file's report.
struct UserRow<'a> {
    users: &'a Users<'a>,
    line: u64,
    fields: &'a [&'a str],
    digest: Digest,
    report: &'a mut Report,
}

impl UserRow<'_> {
    fn text(&self, column: &str) -> &str {
        self.users.text(self.fields, column)
    }

    fn problem(&mut self, column: &str, value: &str, why: impl Into<String>) {
        let header = self.users.header;
        let name = header
            .column(column)
            .map_or(column, |i| header.headers[i].as_str());
        self.report
            .push(Problem::at(self.line, name, value, why).in_file(&header.name));
    }

    fn skip(&self, why: String) -> Skipped {
        Skipped {
            file: self.users.header.name.clone(),
            line: self.line,
            external_id: self.text("sourcedid").to_owned(),
            why,
        }
    }

    /// The row as the planner takes it, a row knowingly left out, or `None` (a problem).
    fn read(&mut self) -> Option<Result<Row, Skipped>> {
        let sourced_id = self.text("sourcedid").to_owned();
        let external_id = ExternalId::parse(&sourced_id)
            .map_err(|err| self.problem("sourcedid", &sourced_id, err.message))
            .ok();
        let status = self.text("status").to_ascii_lowercase();
        match status_says(&status, self.users.mode == Mode::Full, "people") {
            Ok(true) => {
                return external_id.map(|external_id| {
                    Ok(Row::Deleted {
                        line: self.line,
                        external_id,
                    })
                });
            }
            Ok(false) => {}
            Err(why) => {
                self.problem("status", &status, why);
                return None;
            }
        }
        let (raw_role, org_ids) = match self.role_and_orgs(&sourced_id) {
            Ok(Some(found)) => found,
            // A 1.2 delta that changes a person and not their roles: they keep their role.
            Ok(None) => {
                let listed = self.person(external_id?, None, None, &[])?;
                return Some(Ok(Row::Listed(listed)));
            }
            Err(skip) => return Some(Err(skip)),
        };
        let role = match role_of(&raw_role) {
            Ok(Some(role)) => role,
            Ok(None) => {
                let why = format!("a {raw_role}: Rollcall does not manage parents and guardians");
                return Some(Err(self.skip(why)));
            }
            Err(why) => {
                self.problem("role", &raw_role, why);
                return None;
            }
        };
        let listed = self.person(external_id?, Some(role), Some(&raw_role), &org_ids)?;
        Some(Ok(Row::Listed(listed)))
    }

    /// The person's role as the package writes it, and the orgs they belong to: users.csv's
    /// in 1.1; in 1.2 the primary current role of roles.csv (else the first current one).
    /// `None` for a person of a 1.2 delta whose roles.csv sends none of theirs: a delta sends
    /// what changed, and their roles did not.
    fn role_and_orgs(&self, sourced_id: &str) -> Result<Option<(String, Vec<String>)>, Skipped> {
        let Some(roles) = self.users.roles else {
            let orgs = self
                .text("orgsourcedids")
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            return Ok(Some((self.text("role").to_owned(), orgs)));
        };
        let Some(held) = roles.get(sourced_id).map(|roles| &roles.held) else {
            return match self.users.mode {
                Mode::Delta => Ok(None),
                Mode::Full => Err(self.skip("no current role in roles.csv".to_owned())),
            };
        };
        held.iter()
            .find(|h| h.primary)
            .or_else(|| held.first())
            .map(|h| Some((h.role.clone(), vec![h.org.clone()])))
            .ok_or_else(|| self.skip("no current role in roles.csv".to_owned()))
    }

    /// The person of this row, with their role (`None`: left as it is, and nobody is created)
    /// and its OneRoster name.
    fn person(
        &mut self,
        external_id: ExternalId,
        role: Option<Role>,
        raw_role: Option<&str>,
        org_ids: &[String],
    ) -> Option<Listed> {
        let enabled_text = self.text("enableduser").to_owned();
        let enabled = boolean(&enabled_text)
            .map_err(|why| self.problem("enableduser", &enabled_text, why))
            .unwrap_or(true);
        let username_text = self.text("username").to_owned();
        let username = Username::parse(&username_text)
            .map_err(|err| self.problem("username", &username_text, err.message))
            .ok();
        let email_text = self.text("email").to_owned();
        let email = (!email_text.is_empty())
            .then(|| {
                Email::parse(&email_text)
                    .map_err(|err| self.problem("email", &email_text, err.message))
                    .ok()
            })
            .flatten();
        let mut name = |column: &str, field: &str| {
            let text = self.text(column).to_owned();
            PersonName::parse(&text, field)
                .map_err(|err| self.problem(column, &text, err.message))
                .ok()
        };
        let given_name = name("givenname", "given_name");
        let family_name = name("familyname", "family_name");
        let attributes = Attributes::parse(self.attributes(raw_role, org_ids))
            .map_err(|err| self.problem(&err.field, "", err.message))
            .ok();
        Some(Listed {
            line: self.line,
            external_id,
            username: Some(username?),
            email,
            given_name: given_name?,
            family_name: family_name?,
            role,
            creates: role.is_some(),
            enabled,
            attributes: attributes?,
            digest: Some(self.digest),
        })
    }

    /// The attributes a row sets: grade, identifier, school, and the role as written.
    fn attributes(&self, raw_role: Option<&str>, org_ids: &[String]) -> BTreeMap<String, String> {
        let mut attributes = BTreeMap::new();
        for (column, name) in [("grades", "grade"), ("identifier", "identifier")] {
            let text = self.text(column);
            if !text.is_empty() {
                attributes.insert(name.to_owned(), text.to_owned());
            }
        }
        // Their school: the first of their named orgs that is not a district, else the first
        // org named nowhere (it may be a school), else the first. Its sourcedId is always kept;
        // its name when the package or the source names it (else the name they have is left as
        // it is).
        let orgs = self.users.orgs;
        let district = |id: &&String| {
            orgs.get(*id)
                .is_some_and(|o| o.kind.eq_ignore_ascii_case("district"))
        };
        let school = org_ids
            .iter()
            .find(|id| orgs.contains_key(*id) && !district(id))
            .or_else(|| org_ids.iter().find(|id| !district(id)))
            .or(org_ids.first());
        if let Some(id) = school {
            attributes.insert("school_id".to_owned(), id.clone());
            if let Some(org) = orgs.get(id) {
                attributes.insert("school".to_owned(), org.name.clone());
            } else {
                let unnamed = &self.users.unnamed_schools;
                unnamed.set(unnamed.get() + 1);
            }
        }
        if let Some(raw_role) = raw_role {
            attributes.insert("oneroster_role".to_owned(), raw_role.to_owned());
        }
        attributes
    }
}

#[cfg(test)]
mod tests;
