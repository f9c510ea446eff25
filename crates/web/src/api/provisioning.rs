//! `/api/v1/sources`, `/api/v1/runs` and `/api/v1/provisioning-settings`: provisioning sources,
//! their imports (previewed, applied, held, refused), the approval of held runs, undo, and
//! the org's safeguard.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use rollcall_app::{App, AppError, ImportOutcome, ImportRequest, NewSource, SettingsChange};
use rollcall_domain::provisioning::{
    Counts, MissingPolicy, Mode, Plan, ProvisioningSettings, ReportLine, RunRecord, SourceSettings,
};
use rollcall_domain::roster::RosterChanges;
use rollcall_domain::{FieldError, RunId};
use rollcall_import::Problem as FileProblem;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::ApiPrincipal;
use super::extract::{ApiBytes, ApiJson, ApiQuery, OptionalJson};
use super::users::UserBody;
use super::{Problem, RowProblem};

/// The largest roster file an import takes through the API unless the server says otherwise
/// (`--max-import-mb`).
pub const DEFAULT_MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

/// What happens to users of each role a full run no longer lists: `archive`, `deactivate` or
/// `keep`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingBody {
    pub student: String,
    pub teacher: String,
    pub staff: String,
    pub admin: String,
}

/// A provisioning source of the org.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceBody {
    pub id: Uuid,
    /// The name its users carry as their `source`.
    pub name: String,
    /// `plain_csv` or `oneroster`.
    pub format: String,
    /// `full` or `delta`: what a run is unless it says otherwise.
    pub mode: String,
    pub missing: MissingBody,
    /// A paused source's imports are refused until it is resumed.
    pub paused: bool,
    /// The folder `rollcall serve` watches for the source's files.
    pub drop_folder: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&SourceSettings> for SourceBody {
    fn from(source: &SourceSettings) -> Self {
        let policy = &source.policy;
        Self {
            id: source.id.as_uuid(),
            name: source.name.as_str().to_owned(),
            format: source.format.as_str().to_owned(),
            mode: source.mode.as_str().to_owned(),
            missing: MissingBody {
                student: policy.student.as_str().to_owned(),
                teacher: policy.teacher.as_str().to_owned(),
                staff: policy.staff.as_str().to_owned(),
                admin: policy.admin.as_str().to_owned(),
            },
            paused: source.paused,
            drop_folder: source.drop_folder.clone(),
            created_at: source.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceListBody {
    pub sources: Vec<SourceBody>,
}

/// Policies for a new source; a role left out gets the default (students `archive`, everyone
/// else `keep`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingInput {
    #[schema(value_type = Option<WhenMissingName>)]
    student: Option<String>,
    #[schema(value_type = Option<WhenMissingName>)]
    teacher: Option<String>,
    #[schema(value_type = Option<WhenMissingName>)]
    staff: Option<String>,
    #[schema(value_type = Option<WhenMissingName>)]
    admin: Option<String>,
}

/// What becomes of a user of this role whom a full run no longer lists.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "a schema only: the values are read as text and checked"
)]
pub enum WhenMissingName {
    Archive,
    Deactivate,
    Keep,
}

/// A source's format.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "a schema only: the values are read as text and checked"
)]
pub enum FormatName {
    PlainCsv,
    Oneroster,
}

/// A full list (people it leaves out are handled by the policy) or only changes.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "a schema only: the values are read as text and checked"
)]
pub enum ModeName {
    Full,
    Delta,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSourceBody {
    /// 1 to 64 characters of a-z, 0-9, `-`, `_`, `.` and `:` (kept in lower case; not
    /// `manual`, the name of people added by hand).
    #[schema(pattern = r"^\s*[A-Za-z0-9._:-]{1,64}\s*$")]
    name: String,
    /// `plain_csv` (the default) or `oneroster` (OneRoster 1.1 or 1.2 CSV packages, zipped).
    #[schema(value_type = Option<FormatName>)]
    format: Option<String>,
    /// `full` (the default) or `delta`.
    #[schema(value_type = Option<ModeName>)]
    mode: Option<String>,
    #[serde(default)]
    missing: Option<MissingInput>,
}

#[utoipa::path(get, path = "/api/v1/sources", tag = "provisioning",
    responses((status = 200, body = SourceListBody)),
    security(("token" = [])))]
pub async fn list_sources(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<SourceListBody>, Problem> {
    let sources = app.provisioning_sources(&who).await?;
    Ok(Json(SourceListBody {
        sources: sources.iter().map(SourceBody::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/sources", tag = "provisioning", request_body = NewSourceBody,
    responses((status = 201, body = SourceBody), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn add_source(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<NewSourceBody>,
) -> Result<Response, Problem> {
    let missing = body.missing.unwrap_or_default();
    let defaults = MissingPolicy::default();
    let mut errors = Vec::new();
    let mut policy = |raw: Option<String>, role: &str, default| match raw {
        None => default,
        Some(raw) => raw.parse().unwrap_or_else(|err: FieldError| {
            errors.push(FieldError::new(format!("missing.{role}"), err.message));
            default
        }),
    };
    let policy = MissingPolicy {
        student: policy(missing.student, "student", defaults.student),
        teacher: policy(missing.teacher, "teacher", defaults.teacher),
        staff: policy(missing.staff, "staff", defaults.staff),
        admin: policy(missing.admin, "admin", defaults.admin),
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let new = NewSource {
        name: body.name,
        format: body.format.unwrap_or_else(|| "plain_csv".to_owned()),
        mode: body.mode.unwrap_or_else(|| "full".to_owned()),
        policy,
    };
    // The body's field is `name`; the rule that checks it speaks of a source.
    let source = app.add_source(&who, new).await.map_err(|err| match err {
        AppError::Invalid(mut errors) => {
            for error in &mut errors {
                if error.field == "source" {
                    error.field = "name".to_owned();
                }
            }
            AppError::Invalid(errors)
        }
        other => other,
    })?;
    let mut response = (StatusCode::CREATED, Json(SourceBody::from(&source))).into_response();
    if let Ok(location) =
        HeaderValue::from_str(&format!("/api/v1/sources/{}", source.name.as_str()))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/sources/{name}", tag = "provisioning",
    params(("name" = String, Path, description = "The source's name")),
    responses((status = 200, body = SourceBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn show_source(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(name): Path<String>,
) -> Result<Json<SourceBody>, Problem> {
    let source = app.source(&who, &name).await.map_err(not_found_source)?;
    Ok(Json(SourceBody::from(&source)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcePatchBody {
    /// Pause (`true`: its imports are refused) or resume (`false`).
    paused: Option<bool>,
    /// The folder `rollcall serve` watches for the source's files: a folder name (like
    /// `sis/nightly`) under the org's own folder of the server's drop root (`--drop-root`);
    /// `null` stops watching. Refused (409) when the server has no drop root: its operator
    /// then sets drop folders (`rollcall source watch`).
    #[serde(default, deserialize_with = "super::users::nullable")]
    drop_folder: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/sources/{name}", tag = "provisioning",
    request_body = SourcePatchBody,
    params(("name" = String, Path, description = "The source's name")),
    responses((status = 200, body = SourceBody), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn edit_source(
    State(app): State<App>,
    Extension(DropRoot(root)): Extension<DropRoot>,
    ApiPrincipal(who): ApiPrincipal,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SourcePatchBody>,
) -> Result<Json<SourceBody>, Problem> {
    let mut source = app.source(&who, &name).await.map_err(not_found_source)?;
    if let Some(paused) = body.paused {
        source = app.set_source_paused(&who, &name, paused).await?;
    }
    if let Some(folder) = body.drop_folder {
        source = app
            .set_drop_folder_as_admin(&who, &name, folder.as_deref(), root.as_deref())
            .await?;
    }
    Ok(Json(SourceBody::from(&source)))
}

/// The server's drop root, if it has one (see [`crate::Settings::drop_root`]).
#[derive(Debug, Clone)]
pub struct DropRoot(pub Option<std::path::PathBuf>);

/// A source name that does not parse names no source.
fn not_found_source(err: rollcall_app::AppError) -> Problem {
    match err {
        rollcall_app::AppError::Invalid(_) => Problem::not_found("source"),
        other => other.into(),
    }
}

/// A roster file's bytes, sent as the request body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct RosterFile(#[allow(dead_code, reason = "a schema only")] Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Plan and answer the preview; change nothing and keep nothing.
    dry_run: Option<bool>,
    /// `full` or `delta` for this run; the source's own by default.
    #[param(value_type = Option<ModeName>)]
    mode: Option<String>,
    /// Apply even a run the safeguard would hold.
    confirm_mass_removal: Option<bool>,
    /// The file's name, for the history.
    file_name: Option<String>,
}

/// How many people each kind of change touches.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CountsBody {
    pub created: usize,
    pub linked: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub reactivated: usize,
    pub archived: usize,
    pub restored: usize,
    pub kept: usize,
    pub unchanged: usize,
    /// Rows left out (parents and guardians of a OneRoster package).
    pub skipped: usize,
}

impl From<Counts> for CountsBody {
    fn from(c: Counts) -> Self {
        Self {
            created: c.created,
            linked: c.linked,
            updated: c.updated,
            deactivated: c.deactivated,
            reactivated: c.reactivated,
            archived: c.archived,
            restored: c.restored,
            kept: c.kept,
            unchanged: c.unchanged,
            skipped: c.skipped,
        }
    }
}

/// One person a run changes or keeps, or one problem that refused it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportLineBody {
    /// The line in the file (the header is line 1); none for someone a full run no longer
    /// lists.
    pub line: Option<u64>,
    pub external_id: Option<String>,
    /// The user concerned, when there is one: in a preview, people the run would create
    /// have none yet; read back as one run (`GET /runs/{id}`), the people it created have theirs.
    pub user_id: Option<Uuid>,
    /// One of the run's removals: what the safeguard counts and an approval may exclude.
    pub removal: bool,
    /// What the run does, and why.
    pub what: String,
}

impl From<&ReportLine> for ReportLineBody {
    fn from(line: &ReportLine) -> Self {
        Self {
            line: line.line,
            external_id: line.external_id.clone(),
            user_id: line.user_id.map(|id| id.as_uuid()),
            removal: line.removal,
            what: line.what.clone(),
        }
    }
}

/// A run planned and not applied: a dry run's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewBody {
    pub counts: CountsBody,
    /// How many people it would deactivate or archive because it no longer lists them.
    pub removals: usize,
    /// A line per person changed, kept or skipped.
    pub items: Vec<ReportLineBody>,
    /// What the reader did not read (files of a package), and why.
    pub notes: Vec<String>,
    /// What the run would do to classes (a OneRoster package with classes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<ClassChangesBody>,
}

impl From<&Plan> for PreviewBody {
    fn from(plan: &Plan) -> Self {
        Self {
            counts: plan.counts().into(),
            removals: plan.removals(),
            items: plan.report().iter().map(ReportLineBody::from).collect(),
            notes: plan.notes.clone(),
            classes: plan.classes.as_ref().map(ClassChangesBody::from),
        }
    }
}

/// An import run as history keeps it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunBody {
    pub id: Uuid,
    pub source_id: Uuid,
    /// Who started it.
    pub actor: String,
    pub file_name: String,
    /// SHA-256 of the file, in hex.
    pub checksum: String,
    /// `full` or `delta`.
    pub mode: String,
    /// `applied`, `refused`, `held` (awaiting approval) or `rejected`.
    pub outcome: String,
    pub counts: CountsBody,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Who approved (outcome `applied`) or rejected a held run.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Who undid an applied run.
    pub undone_by: Option<String>,
    pub undone_at: Option<DateTime<Utc>>,
    /// What the reader noted of the file: files of a package not read, and the like.
    pub notes: Vec<String>,
    /// A line per person changed or kept, or per problem; left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Vec<ReportLineBody>>,
    /// What an applied OneRoster run changed in classes, or what approving a held one would
    /// change (as worked out when it was held); given when one run is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<ClassChangesBody>,
}

/// How many classes (rosters) an applied run made, changed and removed, and how many seats in
/// them it added and took away.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClassChangesBody {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub joined: usize,
    pub left: usize,
}

impl From<&RosterChanges> for ClassChangesBody {
    fn from(made: &RosterChanges) -> Self {
        Self {
            created: made.created.len(),
            updated: made.updated.len(),
            deleted: made.deleted.len(),
            joined: made.joined.len(),
            left: made.left.len(),
        }
    }
}

impl RunBody {
    fn of(run: &RunRecord, with_report: bool) -> Self {
        Self {
            id: run.id.as_uuid(),
            source_id: run.source_id.as_uuid(),
            actor: run.actor_label.clone(),
            file_name: run.file_name.clone(),
            checksum: run.checksum.clone(),
            mode: run.mode.as_str().to_owned(),
            outcome: run.outcome.as_str().to_owned(),
            counts: run.counts.into(),
            started_at: run.started_at,
            finished_at: run.finished_at,
            decided_by: run.decided.as_ref().map(|d| d.by.clone()),
            notes: run.notes.clone(),
            decided_at: run.decided.as_ref().map(|d| d.at),
            undone_by: run.undone.as_ref().map(|d| d.by.clone()),
            undone_at: run.undone.as_ref().map(|d| d.at),
            report: with_report.then(|| run.report.iter().map(ReportLineBody::from).collect()),
            classes: None,
        }
    }
}

fn run_response(status: StatusCode, run: &RunRecord) -> Response {
    let mut response = (status, Json(RunBody::of(run, true))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/runs/{}", run.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A refused file: a problem report whose `rows` list every problem, line by line.
fn refused(problems: &[FileProblem], detail: String) -> Problem {
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "refused-file",
        "File refused",
        detail,
    );
    problem.rows = problems
        .iter()
        .map(|p| RowProblem {
            file: p.file.clone(),
            line: p.line,
            column: p.column.clone(),
            value: p.value.clone(),
            reason: p.reason.clone(),
        })
        .collect();
    problem
}

#[utoipa::path(post, path = "/api/v1/sources/{name}/imports", tag = "provisioning",
    params(("name" = String, Path, description = "The source's name"), ImportParams),
    request_body(description = "The roster file, as the source's format reads it: a CSV file, \
        or a zipped OneRoster package (up to 256 MiB unless the server sets another limit)",
        content((RosterFile = "text/csv"), (RosterFile = "application/zip"))),
    responses(
        (status = 200, body = PreviewBody, description = "A dry run: the plan; nothing changed"),
        (status = 201, body = RunBody, description = "Applied, all of it"),
        (status = 202, body = RunBody, description = "Held for an admin's approval: it would \
            remove more people at once than the safeguard allows; nothing of it changed (or \
            only its creates and updates, if the org applies those at once)"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The source is paused, or another run of \
            it was applied meanwhile"),
        (status = 413, body = Problem, description = "The file is larger than the limit"),
        (status = 422, body = Problem, description = "The file was refused (`rows` names every \
            problem by line and column), or a parameter is invalid; nothing changed")),
    security(("token" = [])))]
pub async fn import(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<ImportParams>,
    ApiBytes(file): ApiBytes,
) -> Result<Response, Problem> {
    let mode = params
        .mode
        .as_deref()
        .map(str::parse::<Mode>)
        .transpose()
        .map_err(|err| Problem::invalid(vec![err]))?;
    let request = ImportRequest {
        source: name,
        file_name: params.file_name.unwrap_or_else(|| "upload".to_owned()),
        mode,
        dry_run: params.dry_run.unwrap_or(false),
        confirmed: params.confirm_mass_removal.unwrap_or(false),
    };
    let outcome = app
        .import(&who, &request, file)
        .await
        .map_err(not_found_source)?;
    Ok(match outcome {
        ImportOutcome::Refused(problems) => {
            let detail = format!(
                "the file was refused with {} problem(s); nothing changed",
                problems.len()
            );
            refused(&problems, detail).into_response()
        }
        ImportOutcome::Preview(plan) => Json(PreviewBody::from(&plan)).into_response(),
        ImportOutcome::Held { run, .. } => {
            run_response(StatusCode::ACCEPTED, &app.run(&who, run).await?)
        }
        ImportOutcome::Applied { run, .. } => {
            run_response(StatusCode::CREATED, &app.run(&who, run).await?)
        }
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListParams {
    /// Only this source's runs.
    source: Option<String>,
    /// 1 to 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunListBody {
    /// Newest first, without their reports.
    pub runs: Vec<RunBody>,
}

#[utoipa::path(get, path = "/api/v1/runs", tag = "provisioning", params(RunListParams),
    responses((status = 200, body = RunListBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn list_runs(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiQuery(params): ApiQuery<RunListParams>,
) -> Result<Json<RunListBody>, Problem> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Problem::invalid(vec![FieldError::new(
            "limit",
            "must be from 1 to 200",
        )]));
    }
    let runs = app
        .run_history(&who, params.source.as_deref(), limit)
        .await
        .map_err(not_found_source)?;
    Ok(Json(RunListBody {
        runs: runs.iter().map(|run| RunBody::of(run, false)).collect(),
    }))
}

/// The `{id}` of a run path. A malformed id names no run.
fn run_id(raw: &str) -> Result<RunId, Problem> {
    raw.parse().map_err(|_| Problem::not_found("import run"))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "provisioning",
    params(("id" = Uuid, Path, description = "The run's id")),
    responses((status = 200, body = RunBody), (status = 404, body = Problem)),
    security(("token" = [])))]
pub async fn show_run(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<RunBody>, Problem> {
    let id = run_id(&id)?;
    let mut run = app.run(&who, id).await?;
    app.identify_created(&who, &mut run, usize::MAX).await?;
    let made = app.run_roster_changes(&who, id).await?;
    Ok(Json(RunBody {
        classes: made.as_ref().map(ClassChangesBody::from),
        ..RunBody::of(&run, true)
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Users (ids from the run's report) whose removal is not approved: they stay as they
    /// are, and the source leaves them be.
    #[serde(default)]
    excluded: Vec<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/approve", tag = "provisioning",
    request_body(content = Option<ApproveBody>, description = "Users to keep; no body approves \
        every removal", content_type = "application/json"),
    params(("id" = Uuid, Path, description = "The held run's id")),
    responses((status = 200, body = RunBody, description = "Approved and applied"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The run is not held, or its source is paused"),
        (status = 422, body = Problem, description = "An excluded user is not among the run's \
            removals, or the file no longer applies to the org as it is now (`rows` says why); \
            the run stays held")),
    security(("token" = [])))]
pub async fn approve_run(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<ApproveBody>,
) -> Result<Response, Problem> {
    let id = run_id(&id)?;
    let body = body.unwrap_or_default();
    let excluded: Vec<_> = body
        .excluded
        .into_iter()
        .map(rollcall_domain::UserId::from_uuid)
        .collect();
    match app.approve_run(&who, id, &excluded).await? {
        ImportOutcome::Refused(problems) => {
            let detail = format!(
                "the held file no longer applies to the org as it is now ({} problem(s)); the \
                 run stays held and nothing changed",
                problems.len()
            );
            Ok(refused(&problems, detail).into_response())
        }
        _ => Ok(Json(RunBody::of(&app.run(&who, id).await?, true)).into_response()),
    }
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/reject", tag = "provisioning",
    params(("id" = Uuid, Path, description = "The held run's id")),
    responses((status = 200, body = RunBody), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The run is not held")),
    security(("token" = [])))]
pub async fn reject_run(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<RunBody>, Problem> {
    let run = app.reject_run(&who, run_id(&id)?).await?;
    Ok(Json(RunBody::of(&run, true)))
}

/// What an undo did.
#[derive(Debug, Serialize, ToSchema)]
pub struct UndoBody {
    pub run: RunBody,
    /// How many people were put back.
    pub reverted: usize,
    /// People changed since the run, left as they are.
    pub left_alone: Vec<UserBody>,
    /// How many of the run's roster changes (classes made, changed or removed; members who
    /// joined or left) were taken back.
    pub rosters_reverted: usize,
    /// Roster changes left as they are: changed again since the run.
    pub rosters_left_alone: usize,
    /// The run was applied before runs kept their class changes: its classes were left as
    /// they are.
    pub rosters_unrecorded: bool,
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/undo", tag = "provisioning",
    params(("id" = Uuid, Path, description = "The applied run's id")),
    responses((status = 200, body = UndoBody), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The run was not applied, or is undone \
            already")),
    security(("token" = [])))]
pub async fn undo_run(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    Path(id): Path<String>,
) -> Result<Json<UndoBody>, Problem> {
    let undo = app.undo_run(&who, run_id(&id)?).await?;
    Ok(Json(UndoBody {
        run: RunBody::of(&undo.run, false),
        reverted: undo.reverted,
        left_alone: undo.left_alone.iter().map(UserBody::from).collect(),
        rosters_reverted: undo.rosters_reverted,
        rosters_left_alone: undo.rosters_left_alone,
        rosters_unrecorded: undo.rosters_unrecorded,
    }))
}

/// The org's provisioning settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettingsBody {
    /// A run is held when it would deactivate or archive more than this percentage of a
    /// source's people...
    pub safeguard_percent: u32,
    /// ...and at least this many.
    pub safeguard_floor: usize,
    /// A held run's creates, links, updates and reactivations are applied at once, and only
    /// its removals wait (by default the whole run waits).
    pub apply_rest_when_held: bool,
}

impl From<ProvisioningSettings> for SettingsBody {
    fn from(s: ProvisioningSettings) -> Self {
        Self {
            safeguard_percent: s.safeguard.percent,
            safeguard_floor: s.safeguard.floor,
            apply_rest_when_held: s.apply_rest_when_held,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatchBody {
    /// A run is held when it would remove more than this percentage of its source's users
    /// (0 to 100) …
    #[schema(maximum = 100)]
    safeguard_percent: Option<u32>,
    /// … and at least this many.
    safeguard_floor: Option<usize>,
    apply_rest_when_held: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/provisioning-settings", tag = "provisioning",
    responses((status = 200, body = SettingsBody)),
    security(("token" = [])))]
pub async fn settings(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
) -> Result<Json<SettingsBody>, Problem> {
    Ok(Json(app.provisioning_settings(&who).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/provisioning-settings", tag = "provisioning",
    request_body = SettingsPatchBody,
    responses((status = 200, body = SettingsBody), (status = 422, body = Problem)),
    security(("token" = [])))]
pub async fn edit_settings(
    State(app): State<App>,
    ApiPrincipal(who): ApiPrincipal,
    ApiJson(body): ApiJson<SettingsPatchBody>,
) -> Result<Json<SettingsBody>, Problem> {
    let change = SettingsChange {
        safeguard_percent: body.safeguard_percent,
        safeguard_floor: body.safeguard_floor,
        apply_rest_when_held: body.apply_rest_when_held,
    };
    Ok(Json(
        app.set_provisioning_settings(&who, change).await?.into(),
    ))
}
