//! The template structs: one per page (and the blocks htmx swaps in).

use askama::Template;

/// What the frame of every page shows.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub org_name: String,
    pub user_name: String,
    pub is_admin: bool,
    /// Admins see every roster, teachers the ones they teach.
    pub sees_rosters: bool,
    /// The session's CSRF token; empty when signed out.
    pub csrf: String,
    pub flash: String,
    /// Render only the page's content, without the frame: what htmx swaps into a dialog.
    pub bare: bool,
}

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
pub struct SignInPage {
    pub chrome: Chrome,
    pub form_csrf: String,
    pub show_org: bool,
    pub org: String,
    pub login: String,
    pub error: String,
    pub notice: String,
}

#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub forced: bool,
    pub name: String,
    pub login: String,
    pub role: String,
    pub saved: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "pages/message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub heading: String,
    pub error: String,
    pub lines: Vec<String>,
    /// (whose, password) pairs to show once.
    pub secrets: Vec<(String, String)>,
    pub back: String,
    pub back_label: String,
}

impl MessagePage {
    pub fn new(chrome: Chrome, heading: &str, line: &str, back: &str, back_label: &str) -> Self {
        Self {
            chrome,
            heading: heading.to_owned(),
            error: String::new(),
            lines: vec![line.to_owned()],
            secrets: Vec::new(),
            back: back.to_owned(),
            back_label: back_label.to_owned(),
        }
    }
}

/// One row of the Users table, as the status rules say to show it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub sort_name: String,
    pub login: String,
    pub role: String,
    pub source: String,
    /// "Active", "Inactive", "Archived".
    pub status_label: &'static str,
    /// Beside the name: "Inactive", "Archived".
    pub badge: Option<&'static str>,
    /// Shown as a green tick (may sign in) or a red cross.
    pub signs_in: bool,
    /// The status column's switch: where it moves the user, and its verb.
    pub switch_to: Option<&'static str>,
    pub switch_verb: &'static str,
    /// The ⋯ menu's moves.
    pub actions: Vec<RowAction>,
}

/// A move offered in a row's ⋯ menu.
#[derive(Debug, Clone)]
pub struct RowAction {
    pub to: &'static str,
    pub verb: &'static str,
}

/// A sortable column header.
#[derive(Debug, Clone)]
pub struct Column {
    pub label: &'static str,
    pub class: &'static str,
    pub href: String,
    pub arrow: &'static str,
    pub aria_sort: &'static str,
}

#[derive(Template)]
#[template(path = "pages/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub q: String,
    pub status: String,
    pub status_label: String,
    pub role: String,
    pub source: String,
    pub sort: String,
    pub status_options: Vec<(&'static str, &'static str)>,
    pub role_options: Vec<&'static str>,
    pub sort_options: Vec<(&'static str, &'static str)>,
    pub source_options: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub count_text: String,
    pub here: String,
    /// Where row actions return to: this listing.
    pub back: String,
    pub next_href: String,
    pub first_href: String,
    /// Only the results (an htmx search, sort or refresh), not the page around them.
    pub results_only: bool,
    /// A refresh after a change: the change's message stays.
    pub refresh: bool,
}

/// A table row on its own (htmx swaps it in place after a change).
#[derive(Template)]
#[template(path = "partials/user_row.html")]
pub struct RowPartial {
    pub row: Row,
    pub back: String,
    /// Swapped out of band (beside a dialog's content) rather than as the response itself.
    pub oob: bool,
}

/// What htmx receives after a change from the Users screen: the row (or its removal when it
/// leaves the filter), the message, and a temporary password to show once.
#[derive(Template)]
#[template(path = "partials/changed.html")]
pub struct ChangedPartial {
    pub id: String,
    pub name: String,
    /// The row, rendered (out of band when a password is shown); empty when the user no
    /// longer belongs under the screen's filter.
    pub row_html: String,
    pub message: String,
    /// Empty when no temporary password was set.
    pub secret: String,
}

#[derive(Template)]
#[template(path = "pages/confirm_status.html")]
pub struct ConfirmStatusPage {
    pub chrome: Chrome,
    pub id: String,
    pub name: String,
    pub heading: String,
    pub explanation: String,
    pub to: String,
    pub version: i64,
    pub back: String,
    pub needs_password: bool,
    pub destructive: bool,
    pub error: String,
}

/// The editable fields of a user, as a form shows them.
#[derive(Debug, Clone, Default)]
pub struct UserForm {
    pub version: i64,
    pub given_name: String,
    pub family_name: String,
    pub username: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub prevent_archiving: bool,
}

#[derive(Template)]
#[template(path = "pages/new_user.html")]
pub struct NewUserPage {
    pub chrome: Chrome,
    pub form: UserForm,
    pub roles: Vec<&'static str>,
    pub error: String,
}

#[derive(Template)]
#[template(path = "pages/edit_user.html")]
pub struct EditPage {
    pub chrome: Chrome,
    pub id: String,
    pub name: String,
    pub form: UserForm,
    pub roles: Vec<&'static str>,
    pub can_toggle: bool,
    pub needs_password: bool,
    pub back: String,
    pub error: String,
}

/// One line of a user's history.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub at: String,
    pub who: String,
    pub change: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "pages/user.html")]
pub struct ProfilePage {
    /// The last import run that changed the user: (run id, what to call it).
    pub last_run: Option<(String, String)>,
    pub chrome: Chrome,
    pub id: String,
    pub name: String,
    pub form: UserForm,
    pub roles: Vec<&'static str>,
    /// The Active on/off switch is offered.
    pub active_switch: bool,
    /// The status badge beside the name (empty when none).
    pub badge: &'static str,
    /// Where there is no switch: the verb of the move back ("Restore").
    pub restore: &'static str,
    pub needs_password: bool,
    pub source: String,
    pub external_id: String,
    pub attributes: Vec<(String, String)>,
    pub created: String,
    pub history: Vec<HistoryLine>,
    /// Their training, whatever their status.
    pub training: Vec<TrainingLine>,
    /// Why their training could not be read (empty when it was).
    pub training_error: String,
    /// Credits their first starts used, in all.
    pub credits_used: u64,
    pub saved: String,
    /// A temporary password made by this change, shown once.
    pub secret: String,
    pub error: String,
}

/// One course of a person's training history, on their page.
#[derive(Debug, Clone)]
pub struct TrainingLine {
    pub course_id: String,
    pub course: String,
    pub enrolled: String,
    pub state: &'static str,
    pub percent: u8,
    pub completed: String,
    pub score: String,
    pub credits: u32,
    pub certificate: String,
}

#[derive(Template)]
#[template(path = "pages/bulk_confirm.html")]
pub struct BulkPage {
    pub chrome: Chrome,
    pub heading: String,
    pub explanation: String,
    /// Users without e-mail get generated temporary passwords.
    pub generates_passwords: bool,
    /// Selected users this move does not apply to.
    pub left_out: usize,
    pub action: String,
    pub confirm_label: String,
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub back: String,
}

/// A message to the users selected on the Users screen: whom it reaches, and the form.
#[derive(Template)]
#[template(path = "pages/write_selected.html")]
pub struct WriteSelectedPage {
    pub chrome: Chrome,
    pub reached: u64,
    pub no_address: u64,
    pub inactive: u64,
    pub write_heading: String,
    pub write_action: String,
    pub write_ids: Vec<String>,
    pub write_back: String,
    pub write_notice: String,
    pub write_error: String,
}

/// One move of the rules page.
#[derive(Debug, Clone)]
pub struct MoveLine {
    pub from: &'static str,
    pub to: &'static str,
    pub verb: &'static str,
    pub consequence: &'static str,
}

#[derive(Template)]
#[template(path = "pages/status_rules.html")]
pub struct StatusRulesPage {
    pub chrome: Chrome,
    pub statuses: Vec<&'static str>,
    pub rows: Vec<rollcall_domain::rules::RuleRow>,
    pub moves: Vec<MoveLine>,
}

/// A provisioning source as the Sources page lists it.
#[derive(Debug, Clone)]
pub struct SourceLine {
    pub name: String,
    pub format: &'static str,
    pub mode: &'static str,
    /// What happens to people a full run no longer lists, in words.
    pub policy: String,
    pub paused: bool,
    /// The folder the server watches for its files.
    pub drop_folder: Option<String>,
    /// That folder's name under the org's own drop folder, as the form edits it (empty when
    /// it has none there).
    pub drop_name: String,
    pub last_run: Option<RunLine>,
    /// A SCIM connection: managed on its own page, never sent files.
    pub scim: bool,
}

/// An import run as the history lists it.
#[derive(Debug, Clone)]
pub struct RunLine {
    pub id: String,
    pub when: String,
    pub file_name: String,
    pub outcome: &'static str,
    /// The badge's class: `on`, `warn` or `off`.
    pub outcome_class: &'static str,
    pub changes: String,
    pub actor: String,
}

#[derive(Template)]
#[template(path = "pages/sources.html")]
pub struct SourcesPage {
    pub chrome: Chrome,
    pub sources: Vec<SourceLine>,
    pub notice: String,
    pub percent: u32,
    pub floor: usize,
    pub apply_rest: bool,
    pub when_missing: &'static [(&'static str, &'static str)],
    /// (role, its heading, the value chosen at first) for each role's policy.
    pub roles: Vec<(&'static str, &'static str, &'static str)>,
    /// The org's own folder under the server's drop root, where its admins may name their
    /// sources' drop folders (none: only the server's operator sets them).
    pub drop_base: Option<String>,
    /// Where a SCIM connection may read roles from.
    pub role_attributes: &'static [&'static str],
}

/// One count of a preview or a run.
#[derive(Debug, Clone)]
pub struct CountLine {
    pub label: &'static str,
    pub count: usize,
    /// The filter it matches.
    pub kind: &'static str,
}

/// One person of a preview or a run's report.
#[derive(Debug, Clone)]
pub struct ItemLine {
    pub line: String,
    pub external_id: String,
    pub user_id: String,
    /// The person's name as they are now; empty for one the run creates.
    pub name: String,
    /// The filter it is shown under.
    pub kind: String,
    pub what: String,
}

/// One problem of a refused file.
#[derive(Debug, Clone)]
pub struct ProblemLine {
    pub file: String,
    pub line: String,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// What the upload page shows under the form: a preview, a refusal, or an error.
#[derive(Template, Debug, Clone, Default)]
#[template(path = "partials/preview.html")]
pub struct PreviewPart {
    pub heading: String,
    pub counts: Vec<CountLine>,
    /// What the reader did not read (files of a package).
    pub notes: Vec<String>,
    pub removals: usize,
    /// What the run would do to classes, in words; empty when nothing.
    pub class_changes: String,
    /// The same, change by change; and how many more there are.
    pub class_lines: Vec<ClassLine>,
    pub more_class_lines: usize,
    pub items: Vec<ItemLine>,
    /// Items not shown.
    pub more: usize,
    pub problems: Vec<ProblemLine>,
    /// The previewed file's SHA-256: applying checks it is the same file.
    pub checksum: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "pages/import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub source: SourceLine,
    pub default_full: bool,
    /// The source reads OneRoster packages (the package says full or delta).
    pub oneroster: bool,
    pub preview: Option<PreviewPart>,
}

#[derive(Template)]
#[template(path = "pages/runs.html")]
pub struct RunsPage {
    pub chrome: Chrome,
    pub source: String,
    pub runs: Vec<RunLine>,
}

#[derive(Template)]
#[template(path = "pages/run.html")]
pub struct RunPage {
    pub chrome: Chrome,
    pub line: RunLine,
    pub source: String,
    pub mode: &'static str,
    pub checksum: String,
    pub counts: Vec<CountLine>,
    pub held: bool,
    pub undoable: bool,
    pub refused: bool,
    pub decided: String,
    pub undone: String,
    /// What the run changed in classes, in words; empty when nothing.
    pub class_changes: String,
    /// The same, change by change; and how many more there are.
    pub class_lines: Vec<ClassLine>,
    pub more_class_lines: usize,
    /// What the reader noted of the file (files of a package not read, …).
    pub notes: Vec<String>,
    /// A held run's removals, each of which the admin may keep; and how many more there are.
    pub removals: Vec<ItemLine>,
    pub more_removals: usize,
    pub items: Vec<ItemLine>,
    pub more: usize,
}

/// One change a run made to a class: the class, the member (empty for the class itself), and
/// what happened.
#[derive(Debug, Clone)]
pub struct ClassLine {
    pub class: String,
    pub person: String,
    pub user_id: String,
    pub what: String,
}

/// The confirmation before an undo (`confirm`), or what the undo did.
#[derive(Template)]
#[template(path = "pages/undo.html")]
pub struct UndonePage {
    pub chrome: Chrome,
    pub line: RunLine,
    pub confirm: bool,
    pub reverted: usize,
    /// People changed since the run, left alone: (id, name).
    pub left_alone: Vec<(String, String)>,
    /// Roster changes taken back, and those left as they are (changed since).
    pub rosters_reverted: usize,
    pub rosters_left_alone: usize,
    /// The run's class changes were not kept (applied before runs kept them).
    pub rosters_unrecorded: bool,
    /// Before an undo: what the run changed in classes, in words (empty: nothing).
    pub class_changes: String,
}

/// A roster as the Rosters page lists it.
#[derive(Debug, Clone)]
pub struct RosterLine {
    pub id: String,
    pub title: String,
    pub code: String,
    pub school: String,
    pub teachers: u64,
    pub students: u64,
}

#[derive(Template)]
#[template(path = "pages/rosters.html")]
pub struct RostersPage {
    pub chrome: Chrome,
    pub admin: bool,
    pub rosters: Vec<RosterLine>,
}

/// A member as a roster lists them.
#[derive(Debug, Clone)]
pub struct MemberLine {
    pub id: String,
    pub name: String,
    pub login: String,
    pub role: &'static str,
    /// "Inactive" for a member who may not sign in (archived ones are not listed).
    pub badge: &'static str,
}

#[derive(Template)]
#[template(path = "pages/roster.html")]
pub struct RosterPage {
    pub chrome: Chrome,
    pub admin: bool,
    pub title: String,
    pub code: String,
    pub school: String,
    pub members: Vec<MemberLine>,
    /// Whom a message to the members reaches, and the form's outcome.
    pub reached: u64,
    pub no_address: u64,
    pub inactive: u64,
    pub write_heading: String,
    pub write_action: String,
    /// The people a message to selected users goes to, carried by the form.
    pub write_ids: Vec<String>,
    /// Where the form's outcome links back to (the Users screen as it was).
    pub write_back: String,
    pub write_notice: String,
    pub write_error: String,
}

/// A message to every person of the org: whom it reaches, and the form.
#[derive(Template)]
#[template(path = "pages/write_everyone.html")]
pub struct WriteEveryonePage {
    pub chrome: Chrome,
    pub reached: u64,
    pub no_address: u64,
    pub inactive: u64,
    pub write_heading: String,
    pub write_action: String,
    /// The people a message to selected users goes to, carried by the form.
    pub write_ids: Vec<String>,
    /// Where the form's outcome links back to (the Users screen as it was).
    pub write_back: String,
    pub write_notice: String,
    pub write_error: String,
}

/// A SCIM connection's token, as its page lists it.
#[derive(Debug, Clone)]
pub struct TokenLine {
    pub id: String,
    pub name: String,
    pub made: String,
    pub last_used: String,
    pub revoked: String,
}

/// A request a SCIM connection made.
#[derive(Debug, Clone)]
pub struct RequestLine {
    pub when: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub outcome: &'static str,
    pub ok: bool,
    pub id: String,
}

#[derive(Template)]
#[template(path = "pages/scim_connection.html")]
pub struct ScimConnectionPage {
    pub chrome: Chrome,
    pub name: String,
    pub paused: bool,
    pub base_url: String,
    pub role_attribute: String,
    pub requests_per_minute: u32,
    /// A token just made, shown this once.
    pub secret: String,
    pub notice: String,
    pub tokens: Vec<TokenLine>,
    pub requests: Vec<RequestLine>,
    pub active: u64,
    pub inactive: u64,
    pub archived: u64,
}

/// A segment in a list.
pub struct SegmentLine {
    pub id: String,
    pub name: String,
    pub rule: String,
    pub active: u64,
    pub inactive: u64,
}

#[derive(Template)]
#[template(path = "pages/segments.html")]
pub struct SegmentsPage {
    pub chrome: Chrome,
    pub segments: Vec<SegmentLine>,
    /// The new segment's form, as typed.
    pub name: String,
    pub rule: String,
    pub error: String,
    pub notice: String,
}

/// The live count of a rule being written, and its first members.
#[derive(Template, Default)]
#[template(path = "partials/segment_preview.html")]
pub struct SegmentPreviewPart {
    /// False while the rule is empty.
    pub shown: bool,
    pub rule: String,
    pub active: u64,
    pub inactive: u64,
    pub members: Vec<MemberLine>,
    pub error: String,
}

#[derive(Template)]
#[template(path = "pages/segment.html")]
pub struct SegmentPage {
    pub chrome: Chrome,
    pub segment: SegmentLine,
    pub version: i64,
    pub created_by: String,
    /// The form, as typed (or as saved).
    pub name: String,
    pub rule: String,
    pub members: Vec<MemberLine>,
    /// Members beyond those listed.
    pub more: u64,
    /// Whom a message reaches, and who is left out.
    pub reached: u64,
    pub no_address: u64,
    pub inactive: u64,
    pub error: String,
    pub notice: String,
    /// The message form's heading and address (its outcome is the page's notice or error).
    pub write_heading: String,
    pub write_action: String,
    /// The people a message to selected users goes to, carried by the form.
    pub write_ids: Vec<String>,
    /// Where the form's outcome links back to (the Users screen as it was).
    pub write_back: String,
    pub write_notice: &'static str,
    pub write_error: &'static str,
}
