//! Provisioning in the console: the Sources page (add, pause, resume, drop folders, the org's
//! safeguard), the upload page (preview first, then apply the same file, with progress), run
//! history, a run's report with the approval of a held run (keeping chosen people) and undo
//! with confirmation.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Extension, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rollcall_app::{
    App, AppError, ImportOutcome, ImportRequest, NewSource, Principal, SettingsChange,
};
use rollcall_domain::provisioning::{
    Counts, MissingPolicy, Mode, Outcome, Plan, ReportLine, RunRecord, SourceSettings, WhenMissing,
};
use rollcall_domain::roster::RosterChanges;
use rollcall_domain::token::sha256_hex;
use rollcall_domain::{RunId, UserId};
use rollcall_import::Problem;
use serde::Deserialize;

use super::extract::{Admin, SignedIn, is_htmx};
use super::pages::{
    ClassLine, CountLine, ImportPage, MessagePage, PreviewPart, ProblemLine, RunLine, RunPage,
    RunsPage, SourceLine, SourcesPage, UndonePage,
};
use super::render;

/// Items a preview or report lists on the page; the rest are counted.
const SHOWN_ITEMS: usize = 2_000;

fn failure(signed_in: &SignedIn, err: &AppError, back: &str) -> Response {
    super::errors::failure_page(signed_in.chrome.clone(), err, back, "Back")
}

/// The run a path names, or the page saying there is none.
fn run_in_path(signed_in: &SignedIn, raw: &str) -> Result<RunId, Response> {
    raw.parse()
        .map_err(|_| failure(signed_in, &AppError::NotFound("import run"), "/runs"))
}

/// What every decision on a run starts with: the form's CSRF token, then the run.
fn decision_on(
    signed_in: &SignedIn,
    headers: &HeaderMap,
    csrf: &str,
    raw: &str,
) -> Result<RunId, Response> {
    signed_in.check_csrf(headers, Some(csrf))?;
    run_in_path(signed_in, raw)
}

/// Sends the browser to `to` (htmx follows `HX-Redirect`).
fn see(headers: &HeaderMap, to: &str) -> Response {
    if is_htmx(headers) {
        let mut response = StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(to) {
            response.headers_mut().insert("hx-redirect", value);
        }
        response
    } else {
        Redirect::to(to).into_response()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SourcesQuery {
    done: Option<String>,
}

pub async fn sources(
    State(app): State<App>,
    Extension(server): Extension<crate::Settings>,
    Admin(signed_in): Admin,
    Query(query): Query<SourcesQuery>,
) -> Response {
    let who = &signed_in.visitor.principal;
    let drop_base = match &server.drop_root {
        Some(root) => match app.drop_base(who, root).await {
            Ok(base) => Some(format!("{}/", base.to_string_lossy())),
            Err(err) => return failure(&signed_in, &err, "/users"),
        },
        None => None,
    };
    let listed = match app.provisioning_sources(who).await {
        Ok(listed) => listed,
        Err(err) => return failure(&signed_in, &err, "/users"),
    };
    let settings = match app.provisioning_settings(who).await {
        Ok(settings) => settings,
        Err(err) => return failure(&signed_in, &err, "/users"),
    };
    let mut lines = Vec::with_capacity(listed.len());
    for source in &listed {
        let last = app
            .run_history(who, Some(source.name.as_str()), 1)
            .await
            .ok()
            .and_then(|runs| runs.into_iter().next());
        lines.push(source_line(source, last.as_ref(), drop_base.as_deref()));
    }
    let notice = match query.done.as_deref() {
        Some("added") => "Source added.",
        Some("paused") => "Source paused: its imports are refused until it is resumed.",
        Some("resumed") => "Source resumed.",
        Some("safeguard") => "Safeguard saved.",
        Some("watching") => {
            "Drop folder saved: the server imports each complete new file delivered there when it \
             next scans its drop folders."
        }
        Some("unwatched") => "The source's drop folder is no longer watched.",
        _ => "",
    };
    render(&SourcesPage {
        chrome: signed_in.chrome,
        sources: lines,
        notice: notice.to_owned(),
        percent: settings.safeguard.percent,
        floor: settings.safeguard.floor,
        apply_rest: settings.apply_rest_when_held,
        when_missing: WHEN_MISSING,
        roles: missing_roles(),
        drop_base,
        role_attributes: rollcall_app::ROLE_ATTRIBUTES,
    })
}

/// The choices of a policy, as the form offers them.
const WHEN_MISSING: &[(&str, &str)] = &[
    ("archive", "Archive them"),
    ("deactivate", "Deactivate them"),
    ("keep", "Keep them as they are"),
];

/// The add-source form's policy choices, a role at a time, each with its default chosen.
fn missing_roles() -> Vec<(&'static str, &'static str, &'static str)> {
    let defaults = MissingPolicy::default();
    let value = |w: WhenMissing| match w {
        WhenMissing::Archive => "archive",
        WhenMissing::Deactivate => "deactivate",
        WhenMissing::Keep => "keep",
    };
    vec![
        ("student", "Students", value(defaults.student)),
        ("teacher", "Teachers", value(defaults.teacher)),
        ("staff", "Staff", value(defaults.staff)),
        ("admin", "Admins", value(defaults.admin)),
    ]
}

fn source_line(
    source: &SourceSettings,
    last: Option<&RunRecord>,
    drop_base: Option<&str>,
) -> SourceLine {
    let policy = source.policy;
    let words = |w: WhenMissing| match w {
        WhenMissing::Archive => "archived",
        WhenMissing::Deactivate => "deactivated",
        WhenMissing::Keep => "kept",
    };
    SourceLine {
        name: source.name.as_str().to_owned(),
        format: match source.format {
            rollcall_domain::provisioning::Format::PlainCsv => "CSV file",
            rollcall_domain::provisioning::Format::OneRoster => "OneRoster package",
            rollcall_domain::provisioning::Format::Scim => "SCIM connection",
        },
        mode: match source.mode {
            Mode::Full => "Full list",
            Mode::Delta => "Changes only",
        },
        policy: if source.format == rollcall_domain::provisioning::Format::Scim {
            "deactivated or archived only when the identity provider says so".to_owned()
        } else {
            format!(
                "students {}, teachers {}, staff {}, admins {}",
                words(policy.student),
                words(policy.teacher),
                words(policy.staff),
                words(policy.admin)
            )
        },
        paused: source.paused,
        drop_folder: source.drop_folder.clone(),
        drop_name: source
            .drop_folder
            .as_deref()
            .zip(drop_base)
            .and_then(|(folder, base)| folder.strip_prefix(base))
            .unwrap_or_default()
            .to_owned(),
        last_run: last.map(run_line),
        scim: source.format == rollcall_domain::provisioning::Format::Scim,
    }
}

#[derive(Debug, Deserialize)]
pub struct AddSourceForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    missing_student: String,
    #[serde(default)]
    missing_teacher: String,
    #[serde(default)]
    missing_staff: String,
    #[serde(default)]
    missing_admin: String,
}

pub async fn add_source(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<AddSourceForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let parse = |raw: &str| raw.parse::<WhenMissing>();
    let (Ok(student), Ok(teacher), Ok(staff), Ok(admin)) = (
        parse(&form.missing_student),
        parse(&form.missing_teacher),
        parse(&form.missing_staff),
        parse(&form.missing_admin),
    ) else {
        return failure(
            &signed_in,
            &AppError::invalid(
                "policy",
                "choose what happens to the people of each role no longer listed",
            ),
            "/sources",
        );
    };
    let new = NewSource {
        name: form.name,
        format: form.format,
        mode: form.mode,
        policy: MissingPolicy {
            student,
            teacher,
            staff,
            admin,
        },
    };
    match app.add_source(&signed_in.visitor.principal, new).await {
        Ok(_) => see(&headers, "/sources?done=added"),
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn pause(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    set_paused(&app, &headers, signed_in, &name, &form, true).await
}

pub async fn resume(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    set_paused(&app, &headers, signed_in, &name, &form, false).await
}

async fn set_paused(
    app: &App,
    headers: &HeaderMap,
    signed_in: SignedIn,
    name: &str,
    form: &CsrfForm,
    paused: bool,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(headers, Some(&form.csrf)) {
        return refused;
    }
    match app
        .set_source_paused(&signed_in.visitor.principal, name, paused)
        .await
    {
        Ok(_) if paused => see(headers, "/sources?done=paused"),
        Ok(_) => see(headers, "/sources?done=resumed"),
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

#[derive(Debug, Deserialize)]
pub struct DropFolderForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    folder: String,
    /// Present when "Stop watching" was pressed.
    #[serde(default)]
    stop: Option<String>,
}

/// Names the folder the server watches for a source's files, under the org's own folder of
/// the server's drop root, or stops watching it.
pub async fn drop_folder(
    State(app): State<App>,
    Extension(server): Extension<crate::Settings>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
    Form(form): Form<DropFolderForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let who = &signed_in.visitor.principal;
    let stop = form.stop.is_some();
    let folder = (!stop).then_some(form.folder.as_str());
    let saved = app
        .set_drop_folder_as_admin(who, &name, folder, server.drop_root.as_deref())
        .await;
    match saved {
        Ok(_) if stop => see(&headers, "/sources?done=unwatched"),
        Ok(_) => see(&headers, "/sources?done=watching"),
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

#[derive(Debug, Deserialize)]
pub struct SafeguardForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    percent: String,
    #[serde(default)]
    floor: String,
    #[serde(default)]
    apply_rest: Option<String>,
}

pub async fn safeguard(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Form(form): Form<SafeguardForm>,
) -> Response {
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&form.csrf)) {
        return refused;
    }
    let (Ok(percent), Ok(floor)) = (form.percent.trim().parse(), form.floor.trim().parse()) else {
        return failure(
            &signed_in,
            &AppError::invalid(
                "safeguard",
                "the percentage and the number of people must be whole numbers",
            ),
            "/sources",
        );
    };
    let change = SettingsChange {
        safeguard_percent: Some(percent),
        safeguard_floor: Some(floor),
        apply_rest_when_held: Some(form.apply_rest.is_some()),
    };
    match app
        .set_provisioning_settings(&signed_in.visitor.principal, change)
        .await
    {
        Ok(_) => see(&headers, "/sources?done=safeguard"),
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

pub async fn import_page(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
) -> Response {
    match app.source(&signed_in.visitor.principal, &name).await {
        Ok(source) => render(&ImportPage {
            chrome: signed_in.chrome,
            source: source_line(&source, None, None),
            default_full: source.mode == Mode::Full,
            oneroster: source.format == rollcall_domain::provisioning::Format::OneRoster,
            preview: None,
        }),
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

/// The upload form's fields.
#[derive(Default)]
struct Upload {
    csrf: String,
    action: String,
    mode: String,
    previewed: String,
    file_name: String,
    file: Bytes,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, String> {
    let mut upload = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(err.body_text()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            upload.file_name = field.file_name().unwrap_or("upload").to_owned();
            upload.file = field.bytes().await.map_err(|e| e.body_text())?;
        } else {
            let text = field.text().await.map_err(|e| e.body_text())?;
            match name.as_str() {
                "_csrf" => upload.csrf = text,
                "action" => upload.action = text,
                "mode" => upload.mode = text,
                "previewed" => upload.previewed = text,
                _ => {}
            }
        }
    }
    Ok(upload)
}

pub async fn import(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(name): Path<String>,
    multipart: Multipart,
) -> Response {
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(why) => {
            return failure(
                &signed_in,
                &AppError::invalid("file", format!("the upload could not be read: {why}")),
                &format!("/sources/{name}/import"),
            );
        }
    };
    if let Err(refused) = signed_in.check_csrf(&headers, Some(&upload.csrf)) {
        return refused;
    }
    let who = &signed_in.visitor.principal;
    let source = match app.source(who, &name).await {
        Ok(source) => source,
        Err(err) => return failure(&signed_in, &err, "/sources"),
    };
    let back = format!("/sources/{}/import", source.name.as_str());
    if upload.file.is_empty() {
        let err = AppError::invalid("file", "choose a file to import: the one chosen is empty");
        return preview_or_page(
            &signed_in,
            &headers,
            &source,
            error_part(&err),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let dry_run = upload.action != "apply";
    let checksum = sha256_hex(&upload.file);
    if !dry_run && !upload.previewed.is_empty() && upload.previewed != checksum {
        let err = AppError::conflict(
            "file",
            "the file chosen is not the one previewed: preview it again before applying",
        );
        return preview_or_page(
            &signed_in,
            &headers,
            &source,
            error_part(&err),
            StatusCode::CONFLICT,
        );
    }
    let request = ImportRequest {
        source: name,
        file_name: upload.file_name,
        mode: upload.mode.parse().ok(),
        dry_run,
        confirmed: false,
    };
    match app.import(who, &request, upload.file).await {
        Ok(ImportOutcome::Preview(plan)) => {
            let report = plan.report();
            let names = names_in(&app, who, &report, |_| true).await;
            let mut part = preview_part(&plan, &report, &checksum, &names);
            if let Some(classes) = &plan.classes {
                (part.class_lines, part.more_class_lines) = class_lines(&app, who, classes).await;
            }
            preview_or_page(&signed_in, &headers, &source, part, StatusCode::OK)
        }
        Ok(ImportOutcome::Refused(problems)) => {
            let part = refused_part(&problems, dry_run);
            preview_or_page(
                &signed_in,
                &headers,
                &source,
                part,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok(ImportOutcome::Held { run, .. } | ImportOutcome::Applied { run, .. }) => {
            see(&headers, &format!("/runs/{run}"))
        }
        Err(err) => {
            let (status, _) = super::errors::explain(&err);
            if is_htmx(&headers) {
                preview_or_page(&signed_in, &headers, &source, error_part(&err), status)
            } else {
                failure(&signed_in, &err, &back)
            }
        }
    }
}

/// The preview region alone for htmx (the form, and the file chosen in it, stay); the whole
/// upload page otherwise.
fn preview_or_page(
    signed_in: &SignedIn,
    headers: &HeaderMap,
    source: &SourceSettings,
    part: PreviewPart,
    status: StatusCode,
) -> Response {
    let page = ImportPage {
        chrome: signed_in.chrome.clone(),
        source: source_line(source, None, None),
        default_full: source.mode == Mode::Full,
        oneroster: source.format == rollcall_domain::provisioning::Format::OneRoster,
        preview: Some(part),
    };
    if is_htmx(headers) {
        let part = page.preview.unwrap_or_default();
        (status, render(&part)).into_response()
    } else {
        (status, render(&page)).into_response()
    }
}

fn counts_lines(c: Counts) -> Vec<CountLine> {
    [
        ("Created", c.created, "created"),
        ("Linked", c.linked, "linked"),
        ("Updated", c.updated, "updated"),
        ("Deactivated", c.deactivated, "deactivated"),
        ("Reactivated", c.reactivated, "reactivated"),
        ("Archived", c.archived, "archived"),
        ("Restored", c.restored, "restored"),
        ("Kept", c.kept, "kept"),
        ("Unchanged", c.unchanged, "unchanged"),
        ("Skipped", c.skipped, "skipped"),
    ]
    .into_iter()
    .map(|(label, count, kind)| CountLine { label, count, kind })
    .collect()
}

/// The first [`SHOWN_ITEMS`] of `report` that `keep` admits, each with its person's name
/// (from `names`, read for them), and how many more it admits.
fn item_lines(
    report: &[ReportLine],
    keep: impl Fn(&ReportLine) -> bool,
    names: &HashMap<UserId, String>,
) -> (Vec<super::pages::ItemLine>, usize) {
    let mut admitted = report.iter().filter(|line| keep(line));
    let shown = admitted
        .by_ref()
        .take(SHOWN_ITEMS)
        .map(|line| super::pages::ItemLine {
            line: line
                .line
                .map_or_else(|| "not listed".to_owned(), |l| l.to_string()),
            external_id: line.external_id.clone().unwrap_or_default(),
            user_id: line.user_id.map(|id| id.to_string()).unwrap_or_default(),
            name: line
                .user_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            kind: if line.kind.is_empty() {
                "other".to_owned()
            } else {
                line.kind.clone()
            },
            what: line.what.clone(),
        })
        .collect();
    (shown, admitted.count())
}

/// The names of the people the shown lines of `report` name (those `keep` admits first, then
/// the first of the rest), read in one go; none when they cannot be read (the page still shows
/// external ids).
async fn names_in(
    app: &App,
    who: &Principal,
    report: &[ReportLine],
    keep: impl Fn(&ReportLine) -> bool,
) -> HashMap<UserId, String> {
    let mut ids: Vec<UserId> = report
        .iter()
        .filter(|line| keep(line))
        .filter_map(|line| line.user_id)
        .take(SHOWN_ITEMS)
        .chain(
            report
                .iter()
                .take(SHOWN_ITEMS)
                .filter_map(|line| line.user_id),
        )
        .collect();
    ids.sort_unstable();
    ids.dedup();
    app.names_of(who, &ids).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "names of a run's people could not be read");
        HashMap::new()
    })
}

/// The first [`SHOWN_ITEMS`] of a run's class changes (`made`), each with its class's title
/// and its member's name; and how many more there are.
async fn class_lines(app: &App, who: &Principal, made: &RosterChanges) -> (Vec<ClassLine>, usize) {
    let all = made.itemised();
    let more = all.len().saturating_sub(SHOWN_ITEMS);
    let shown = &all[..all.len().min(SHOWN_ITEMS)];
    if shown.is_empty() {
        return (Vec::new(), 0);
    }
    let titles = app.class_titles(who, made).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "titles of a run's classes could not be read");
        HashMap::new()
    });
    let mut ids: Vec<UserId> = shown.iter().filter_map(|c| c.user).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = app.names_of(who, &ids).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "names of a run's members could not be read");
        HashMap::new()
    });
    let lines = shown
        .iter()
        .map(|c| ClassLine {
            class: titles
                .get(&c.roster)
                .cloned()
                .unwrap_or_else(|| "a class since removed".to_owned()),
            // Everyone an applied run seated is in the directory (nobody is deleted): a
            // member without a name is one a held run would create.
            person: c.user.map_or_else(String::new, |user| {
                names
                    .get(&user)
                    .cloned()
                    .unwrap_or_else(|| "someone this import creates".to_owned())
            }),
            user_id: c
                .user
                .filter(|user| names.contains_key(user))
                .map(|user| user.to_string())
                .unwrap_or_default(),
            what: c.what.clone(),
        })
        .collect();
    (lines, more)
}

/// The preview of `plan`, whose report is `report`.
fn preview_part(
    plan: &Plan,
    report: &[ReportLine],
    checksum: &str,
    names: &HashMap<UserId, String>,
) -> PreviewPart {
    let (items, more) = item_lines(report, |_| true, names);
    PreviewPart {
        heading: "Preview: nothing has changed yet".to_owned(),
        counts: counts_lines(plan.counts()),
        notes: plan.notes.clone(),
        removals: plan.removals(),
        class_changes: plan
            .classes
            .as_ref()
            .map(RosterChanges::summary)
            .unwrap_or_default(),
        more,
        items,
        checksum: checksum.to_owned(),
        ..PreviewPart::default()
    }
}

fn refused_part(problems: &[Problem], dry_run: bool) -> PreviewPart {
    PreviewPart {
        heading: if dry_run {
            "This file cannot be imported".to_owned()
        } else {
            "This file was refused: nothing changed".to_owned()
        },
        problems: problems
            .iter()
            .map(|p| ProblemLine {
                file: p.file.clone().unwrap_or_default(),
                line: if p.line == 0 {
                    String::new()
                } else {
                    p.line.to_string()
                },
                column: p.column.clone().unwrap_or_default(),
                value: p.value.clone().unwrap_or_default(),
                reason: p.reason.clone(),
            })
            .collect(),
        ..PreviewPart::default()
    }
}

fn error_part(err: &AppError) -> PreviewPart {
    PreviewPart {
        error: super::errors::explain(err).1,
        ..PreviewPart::default()
    }
}

fn run_line(run: &RunRecord) -> RunLine {
    let c = run.counts;
    let mut changes: Vec<String> = [
        (c.created, "created"),
        (c.linked, "linked"),
        (c.updated, "updated"),
        (c.deactivated, "deactivated"),
        (c.reactivated, "reactivated"),
        (c.archived, "archived"),
        (c.restored, "restored"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, word)| format!("{n} {word}"))
    .collect();
    if changes.is_empty() && run.outcome != Outcome::Refused {
        changes.push("no changes".to_owned());
    }
    let outcome = match (run.outcome, &run.undone) {
        (Outcome::Applied, Some(_)) => "Undone",
        (Outcome::Applied, None) => "Applied",
        (Outcome::Refused, _) => "Refused",
        (Outcome::Held, _) => "Awaiting approval",
        (Outcome::Rejected, _) => "Rejected",
    };
    RunLine {
        id: run.id.to_string(),
        when: run.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        file_name: run.file_name.clone(),
        outcome,
        outcome_class: match run.outcome {
            Outcome::Applied if run.undone.is_none() => "on",
            Outcome::Held => "warn",
            _ => "off",
        },
        changes: changes.join(", "),
        actor: run.actor_label.clone(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    source: Option<String>,
}

pub async fn runs(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Query(query): Query<RunsQuery>,
) -> Response {
    let source = query.source.filter(|s| !s.is_empty());
    match app
        .run_history(&signed_in.visitor.principal, source.as_deref(), 200)
        .await
    {
        Ok(runs) => render(&RunsPage {
            chrome: signed_in.chrome,
            source: source.unwrap_or_default(),
            runs: runs.iter().map(run_line).collect(),
        }),
        Err(err) => failure(&signed_in, &err, "/sources"),
    }
}

pub async fn run(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
) -> Response {
    let id = match run_in_path(&signed_in, &id) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let who = &signed_in.visitor.principal;
    let mut run = match app.run(who, id).await {
        Ok(run) => run,
        Err(err) => return failure(&signed_in, &err, "/runs"),
    };
    if let Err(err) = app.identify_created(who, &mut run, SHOWN_ITEMS).await {
        // The page still shows their external ids.
        tracing::warn!(error = %err, "the people a run created could not be read");
    }
    let source = app
        .provisioning_sources(who)
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|s| s.id == run.source_id))
        .map(|s| s.name.as_str().to_owned())
        .unwrap_or_default();
    let decided = run
        .decided
        .as_ref()
        .map(|d| {
            let verdict = match run.outcome {
                Outcome::Rejected => "Rejected",
                _ => "Approved",
            };
            format!(
                "{verdict} by {} at {}",
                d.by,
                d.at.format("%Y-%m-%d %H:%M:%S UTC")
            )
        })
        .unwrap_or_default();
    let undone = run
        .undone
        .as_ref()
        .map(|d| {
            format!(
                "Undone by {} at {}",
                d.by,
                d.at.format("%Y-%m-%d %H:%M:%S UTC")
            )
        })
        .unwrap_or_default();
    let made = match app.run_roster_changes(who, id).await {
        Ok(made) => made.unwrap_or_default(),
        Err(err) => return failure(&signed_in, &err, "/runs"),
    };
    let class_changes = made.summary();
    let (class_lines, more_class_lines) = class_lines(&app, who, &made).await;
    let held = run.outcome == Outcome::Held;
    // A held run's removals are listed on their own, whatever else it changes first.
    let is_removal = |line: &ReportLine| held && line.removal;
    let names = names_in(&app, who, &run.report, is_removal).await;
    let (removals, more_removals) = item_lines(&run.report, is_removal, &names);
    let (items, more) = item_lines(&run.report, |_| true, &names);
    render(&RunPage {
        chrome: signed_in.chrome,
        line: run_line(&run),
        source,
        mode: run.mode.as_str(),
        checksum: run.checksum.clone(),
        counts: counts_lines(run.counts),
        held,
        undoable: run.outcome == Outcome::Applied && run.undone.is_none(),
        refused: run.outcome == Outcome::Refused,
        decided,
        undone,
        class_changes,
        class_lines,
        more_class_lines,
        notes: run.notes.clone(),
        removals,
        more_removals,
        items,
        more,
    })
}

#[derive(Debug, Deserialize)]
pub struct ApproveForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    /// Users whose removal is not approved.
    #[serde(default)]
    keep: Vec<String>,
}

pub async fn approve(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Response {
    let id = match decision_on(&signed_in, &headers, &form.csrf, &id) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let keep: Vec<UserId> = form.keep.iter().filter_map(|k| k.parse().ok()).collect();
    let back = format!("/runs/{id}");
    match app
        .approve_run(&signed_in.visitor.principal, id, &keep)
        .await
    {
        Ok(ImportOutcome::Refused(problems)) => {
            let reasons: Vec<String> = problems.iter().take(5).map(ToString::to_string).collect();
            let message = format!(
                "The file no longer applies to your users as they are now, so the run stays held \
                 and nothing changed: {}",
                reasons.join("; ")
            );
            let page = MessagePage::new(
                signed_in.chrome,
                "Not approved",
                &message,
                &back,
                "Back to the run",
            );
            (StatusCode::CONFLICT, render(&page)).into_response()
        }
        Ok(_) => see(&headers, &back),
        Err(err) => failure(&signed_in, &err, &back),
    }
}

pub async fn reject(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let id = match decision_on(&signed_in, &headers, &form.csrf, &id) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let back = format!("/runs/{id}");
    match app.reject_run(&signed_in.visitor.principal, id).await {
        Ok(_) => see(&headers, &back),
        Err(err) => failure(&signed_in, &err, &back),
    }
}

/// The confirmation before an undo: what it will and will not do.
pub async fn undo_confirm(
    State(app): State<App>,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
) -> Response {
    let id = match run_in_path(&signed_in, &id) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let who = &signed_in.visitor.principal;
    let found = match app.run(who, id).await {
        Ok(run) => app
            .run_roster_changes(who, id)
            .await
            .map(|made| (run, made)),
        Err(err) => Err(err),
    };
    match found {
        Ok((run, made)) => render(&UndonePage {
            chrome: signed_in.chrome,
            line: run_line(&run),
            confirm: true,
            reverted: 0,
            left_alone: Vec::new(),
            rosters_reverted: 0,
            rosters_left_alone: 0,
            rosters_unrecorded: false,
            class_changes: made
                .as_ref()
                .map(RosterChanges::summary)
                .unwrap_or_default(),
        }),
        Err(err) => failure(&signed_in, &err, "/runs"),
    }
}

pub async fn undo(
    State(app): State<App>,
    headers: HeaderMap,
    Admin(signed_in): Admin,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let id = match decision_on(&signed_in, &headers, &form.csrf, &id) {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    match app.undo_run(&signed_in.visitor.principal, id).await {
        Ok(undo) => render(&UndonePage {
            chrome: signed_in.chrome,
            line: run_line(&undo.run),
            confirm: false,
            reverted: undo.reverted,
            left_alone: undo
                .left_alone
                .iter()
                .map(|u| (u.id().to_string(), u.display_name()))
                .collect(),
            rosters_reverted: undo.rosters_reverted,
            rosters_left_alone: undo.rosters_left_alone,
            rosters_unrecorded: undo.rosters_unrecorded,
            class_changes: String::new(),
        }),
        Err(err) => failure(&signed_in, &err, &format!("/runs/{id}")),
    }
}
