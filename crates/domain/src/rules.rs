//! The status rules: the one place that says what `active`, `inactive` and `archived` mean.
//!
//! Every part of Rollcall (sign-in, listings, search, rosters, segments, enrolments, course
//! access, e-mail, analytics, history, credits) asks this module. Nothing else compares statuses.

use crate::status::{ListFilter, Status};

/// How a person appears in search results, rosters and pickers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchVisibility {
    Shown,
    /// Listed, but marked as inactive so nobody mistakes them for a current member.
    ShownMarkedInactive,
    Hidden,
}

/// How a person counts in rule-based segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentMembership {
    Member,
    MemberMarkedInactive,
    /// The membership stays in the data but is left out of listings and counts.
    KeptHidden,
}

/// What an `everyone` enrolment does with a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EveryoneEnrolment {
    /// Enrolled, notified, with access.
    IncludedNotified,
    /// Enrolled silently and without access; access comes at once on reactivation.
    IncludedSilentWithoutAccess,
    Excluded,
}

/// What happens to e-mail addressed to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailDelivery {
    Send,
    /// Not sent; recorded as suppressed.
    Suppress,
}

/// Where a person's results go in analytics and completion reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analytics {
    Counted,
    /// Left out of the figures; shown in the reports' Archived tab.
    ArchivedTab,
}

/// The answers to every question of the rules table for one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each flag is one row of the rules table"
)]
pub struct StatusRules {
    /// May sign in and use sessions or API tokens; when false, existing ones stop working.
    pub may_sign_in: bool,
    pub search: SearchVisibility,
    pub segments: SegmentMembership,
    pub everyone_enrolment: EveryoneEnrolment,
    /// May open courses and view or download their own certificates.
    pub may_open_courses: bool,
    pub email: EmailDelivery,
    pub analytics: Analytics,
    /// Training history stays visible to admins (profile, reports, export).
    pub history_visible_to_admins: bool,
    /// Credits already consumed stay consumed: a status change never refunds.
    pub consumed_credits_kept: bool,
}

/// The rules table, one row per status.
pub const fn rules(status: Status) -> StatusRules {
    match status {
        Status::Active => StatusRules {
            may_sign_in: true,
            search: SearchVisibility::Shown,
            segments: SegmentMembership::Member,
            everyone_enrolment: EveryoneEnrolment::IncludedNotified,
            may_open_courses: true,
            email: EmailDelivery::Send,
            analytics: Analytics::Counted,
            history_visible_to_admins: true,
            consumed_credits_kept: true,
        },
        Status::Inactive => StatusRules {
            may_sign_in: false,
            search: SearchVisibility::ShownMarkedInactive,
            segments: SegmentMembership::MemberMarkedInactive,
            everyone_enrolment: EveryoneEnrolment::IncludedSilentWithoutAccess,
            may_open_courses: false,
            email: EmailDelivery::Suppress,
            analytics: Analytics::ArchivedTab,
            history_visible_to_admins: true,
            consumed_credits_kept: true,
        },
        Status::Archived => StatusRules {
            may_sign_in: false,
            search: SearchVisibility::Hidden,
            segments: SegmentMembership::KeptHidden,
            everyone_enrolment: EveryoneEnrolment::Excluded,
            may_open_courses: false,
            email: EmailDelivery::Suppress,
            analytics: Analytics::ArchivedTab,
            history_visible_to_admins: true,
            consumed_credits_kept: true,
        },
    }
}

/// May a person with this status sign in, keep a session or use an API token?
pub const fn may_sign_in(status: Status) -> bool {
    rules(status).may_sign_in
}

/// Is a person with this status listed under this filter of the Users screen?
///
/// Active people show under Active and All; inactive under Inactive and All; archived only
/// under Archived (All means "everyone still with us").
pub const fn shown_under(status: Status, filter: ListFilter) -> bool {
    match filter {
        ListFilter::Active => matches!(status, Status::Active),
        ListFilter::Inactive => matches!(status, Status::Inactive),
        ListFilter::Archived => matches!(status, Status::Archived),
        ListFilter::All => !matches!(rules(status).search, SearchVisibility::Hidden),
    }
}

/// The statuses a filter lists, in [`Status::ALL`] order.
pub fn statuses_under(filter: ListFilter) -> Vec<Status> {
    Status::ALL
        .iter()
        .copied()
        .filter(|status| shown_under(*status, filter))
        .collect()
}

/// Is this change of status one an admin or a source may make?
///
/// active ⇄ inactive; active or inactive → archived; archived → active (a restore).
pub const fn transition_allowed(from: Status, to: Status) -> bool {
    matches!(
        (from, to),
        (Status::Active, Status::Inactive | Status::Archived)
            | (Status::Inactive | Status::Archived, Status::Active)
            | (Status::Inactive, Status::Archived)
    )
}

/// Does this change take sign-in away? (Sessions end; a user without e-mail loses the password.)
pub const fn revokes_sign_in(from: Status, to: Status) -> bool {
    may_sign_in(from) && !may_sign_in(to)
}

/// Does this change give sign-in back? (A user without e-mail needs a temporary password.)
pub const fn restores_sign_in(from: Status, to: Status) -> bool {
    !may_sign_in(from) && may_sign_in(to)
}

/// Are the two statuses the same? (So callers need not compare statuses themselves.)
pub fn is_unchanged(from: Status, to: Status) -> bool {
    from == to
}

/// Has the user left every listing, search and count (their history kept)? Only reappearing
/// in their source, or an admin's restore, brings them back.
pub const fn is_archived(status: Status) -> bool {
    matches!(status, Status::Archived)
}

/// What a source's enabled or disabled flag asks for: the same as the Active switch.
pub const fn enabled_status(enabled: bool) -> Status {
    active_switch_target(enabled)
}

/// The statuses a user passes through from `from` to `to`: straight there when allowed, or
/// through active (an archived user reaches inactive only that way). Empty when already there.
pub fn path(from: Status, to: Status) -> Vec<Status> {
    if is_unchanged(from, to) {
        Vec::new()
    } else if transition_allowed(from, to) {
        vec![to]
    } else {
        vec![Status::Active, to]
    }
}

/// A move an admin may make from a status, with the words the console and API use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminTransition {
    pub to: Status,
    /// The action's word: "Deactivate", "Reactivate", "Archive", "Restore".
    pub verb: &'static str,
    /// What the move does to the person, said before they confirm it.
    pub consequence: &'static str,
    /// It takes access away: confirmations show it as a destructive action.
    pub destructive: bool,
}

const DEACTIVATE: AdminTransition = AdminTransition {
    to: Status::Inactive,
    verb: "Deactivate",
    consequence: "They will be signed out at once and will not be able to sign in. Their history \
                  is kept and they can be reactivated at any time.",
    destructive: true,
};
const REACTIVATE: AdminTransition = AdminTransition {
    to: Status::Active,
    verb: "Reactivate",
    consequence: "They will be able to sign in again, with their history and enrolments as \
                  they were.",
    destructive: false,
};
const ARCHIVE: AdminTransition = AdminTransition {
    to: Status::Archived,
    verb: "Archive",
    consequence: "They will not be able to sign in and will leave search and rosters. Their \
                  history is kept and they can be restored.",
    destructive: true,
};
const RESTORE: AdminTransition = AdminTransition {
    to: Status::Active,
    verb: "Restore",
    consequence: "They will be able to sign in again and will be back in search and rosters, \
                  with their history as it was.",
    destructive: false,
};

/// The moves an admin may make from a status, in the order menus list them. Every move
/// [`transition_allowed`] permits appears here once (a test checks it).
pub const fn admin_transitions(from: Status) -> &'static [AdminTransition] {
    match from {
        Status::Active => &[DEACTIVATE, ARCHIVE],
        Status::Inactive => &[REACTIVATE, ARCHIVE],
        Status::Archived => &[RESTORE],
    }
}

/// The move named by `to` from `from`, if an admin may make it.
pub fn admin_transition(from: Status, to: Status) -> Option<&'static AdminTransition> {
    admin_transitions(from).iter().find(|t| t.to == to)
}

/// How a status is shown wherever a person is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presentation {
    /// The status in a word: "Active", "Inactive", "Archived".
    pub label: &'static str,
    /// A badge beside the person's name, for statuses people must not mistake for current.
    pub badge: Option<&'static str>,
    /// The status column's one-click switch: the move it makes (with confirmation).
    pub switch: Option<Status>,
    /// The Active on/off switch of the edit dialog and the user's page is offered (it moves
    /// between active and inactive only; archived people are restored first).
    pub active_switch: bool,
}

/// How `status` is shown (see [`Presentation`]).
pub const fn presentation(status: Status) -> Presentation {
    match status {
        Status::Active => Presentation {
            label: "Active",
            badge: None,
            switch: Some(Status::Inactive),
            active_switch: true,
        },
        Status::Inactive => Presentation {
            label: "Inactive",
            badge: Some("Inactive"),
            switch: Some(Status::Active),
            active_switch: true,
        },
        Status::Archived => Presentation {
            label: "Archived",
            badge: Some("Archived"),
            switch: None,
            active_switch: false,
        },
    }
}

/// The status the Active switch stands for, on or off.
pub const fn active_switch_target(on: bool) -> Status {
    if on { Status::Active } else { Status::Inactive }
}

/// One row of the rules table, as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    /// A stable name for the question (`may_sign_in`, `search`, …).
    pub key: &'static str,
    pub question: &'static str,
    /// The answer for each status, in [`Status::ALL`] order.
    pub answers: Vec<String>,
}

impl SearchVisibility {
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Shown => "yes",
            Self::ShownMarkedInactive => "yes, marked inactive",
            Self::Hidden => "no",
        }
    }
}

impl SegmentMembership {
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Member => "yes",
            Self::MemberMarkedInactive => "yes, marked inactive",
            Self::KeptHidden => "kept in the data, hidden from listings and counts",
        }
    }
}

impl EveryoneEnrolment {
    pub const fn describe(self) -> &'static str {
        match self {
            Self::IncludedNotified => "yes, notified",
            Self::IncludedSilentWithoutAccess => {
                "yes, not notified and without access until reactivated (then at once)"
            }
            Self::Excluded => "no",
        }
    }
}

impl EmailDelivery {
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Send => "yes",
            Self::Suppress => "no, recorded as suppressed",
        }
    }
}

impl Analytics {
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Counted => "yes",
            Self::ArchivedTab => "no, results are in the reports' Archived tab",
        }
    }
}

const fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Where the Users screen lists a status: "Active and All filters", "Archived filter".
fn listed_under(status: Status) -> String {
    let filters: Vec<&str> = ListFilter::ALL
        .iter()
        .filter(|filter| shown_under(status, **filter))
        .map(|filter| match filter {
            ListFilter::Active => "Active",
            ListFilter::Inactive => "Inactive",
            ListFilter::Archived => "Archived",
            ListFilter::All => "All",
        })
        .collect();
    match filters.as_slice() {
        [one] => format!("under the {one} filter"),
        many => format!("under the {} filters", many.join(" and ")),
    }
}

/// The whole rules table, row by row, in words: what the API serves and the console shows.
pub fn table() -> Vec<RuleRow> {
    let row = |key, question, answer: &dyn Fn(StatusRules, Status) -> String| RuleRow {
        key,
        question,
        answers: Status::ALL
            .iter()
            .map(|status| answer(rules(*status), *status))
            .collect(),
    };
    vec![
        row(
            "may_sign_in",
            "May sign in, keep sessions and use API tokens",
            &|r, _| {
                if r.may_sign_in {
                    "yes".to_owned()
                } else {
                    "no: sessions and tokens stop working at once".to_owned()
                }
            },
        ),
        row("users_screen", "Listed on the Users screen", &|_, s| {
            listed_under(s)
        }),
        row(
            "search",
            "Found by search, shown in rosters and pickers",
            &|r, _| r.search.describe().to_owned(),
        ),
        row("segments", "Member of segments", &|r, _| {
            r.segments.describe().to_owned()
        }),
        row(
            "everyone_enrolment",
            "Included by an 'everyone' enrolment",
            &|r, _| r.everyone_enrolment.describe().to_owned(),
        ),
        row(
            "may_open_courses",
            "May open courses and view or download their certificates",
            &|r, _| yes_no(r.may_open_courses).to_owned(),
        ),
        row(
            "email",
            "Receives e-mail (admin messages, enrolment notices)",
            &|r, _| r.email.describe().to_owned(),
        ),
        row(
            "analytics",
            "Counted in analytics and completion reports",
            &|r, _| r.analytics.describe().to_owned(),
        ),
        row(
            "history_visible_to_admins",
            "Training history visible to admins",
            &|r, _| yes_no(r.history_visible_to_admins).to_owned(),
        ),
        row(
            "consumed_credits_kept",
            "Credits already consumed stay consumed",
            &|r, _| yes_no(r.consumed_credits_kept).to_owned(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Analytics::{ArchivedTab, Counted};
    use EmailDelivery::{Send, Suppress};
    use EveryoneEnrolment::{Excluded, IncludedNotified, IncludedSilentWithoutAccess};
    use SearchVisibility::{Hidden, Shown, ShownMarkedInactive};
    use SegmentMembership::{KeptHidden, Member, MemberMarkedInactive};
    use Status::{Active, Archived, Inactive};

    /// Every cell of DESIGN.md's rules table, written out as a row per status.
    #[test]
    fn every_cell_of_the_rules_table() {
        #[rustfmt::skip]
        let table = [
            // status    sign-in search               segments              everyone                     courses email     analytics    history credits
            (Active,   true,  Shown,               Member,               IncludedNotified,            true,  Send,     Counted,     true,   true),
            (Inactive, false, ShownMarkedInactive, MemberMarkedInactive, IncludedSilentWithoutAccess, false, Suppress, ArchivedTab, true,   true),
            (Archived, false, Hidden,              KeptHidden,           Excluded,                    false, Suppress, ArchivedTab, true,   true),
        ];
        assert_eq!(table.len(), Status::ALL.len(), "one row per status");
        for (
            status,
            sign_in,
            search,
            segments,
            everyone,
            courses,
            email,
            analytics,
            history,
            credits,
        ) in table
        {
            let r = rules(status);
            assert_eq!(r.may_sign_in, sign_in, "{status}: sign-in");
            assert_eq!(r.search, search, "{status}: search");
            assert_eq!(r.segments, segments, "{status}: segments");
            assert_eq!(
                r.everyone_enrolment, everyone,
                "{status}: everyone enrolment"
            );
            assert_eq!(
                r.may_open_courses, courses,
                "{status}: courses and certificates"
            );
            assert_eq!(r.email, email, "{status}: e-mail");
            assert_eq!(r.analytics, analytics, "{status}: analytics");
            assert_eq!(r.history_visible_to_admins, history, "{status}: history");
            assert_eq!(r.consumed_credits_kept, credits, "{status}: credits");
            assert_eq!(may_sign_in(status), sign_in);
        }
    }

    /// The listing row of the table: which filter shows which status.
    #[test]
    fn every_cell_of_the_listing_row() {
        #[rustfmt::skip]
        let table = [
            // filter               active inactive archived
            (ListFilter::Active,   true,  false,   false),
            (ListFilter::Inactive, false, true,    false),
            (ListFilter::Archived, false, false,   true),
            (ListFilter::All,      true,  true,    false),
        ];
        for (filter, active, inactive, archived) in table {
            assert_eq!(shown_under(Active, filter), active, "{filter}: active");
            assert_eq!(
                shown_under(Inactive, filter),
                inactive,
                "{filter}: inactive"
            );
            assert_eq!(
                shown_under(Archived, filter),
                archived,
                "{filter}: archived"
            );
        }
        assert_eq!(statuses_under(ListFilter::All), vec![Active, Inactive]);
        assert_eq!(statuses_under(ListFilter::Archived), vec![Archived]);
    }

    #[test]
    fn every_transition_is_either_allowed_or_refused() {
        #[rustfmt::skip]
        let table = [
            // from      to        allowed revokes restores
            (Active,   Inactive, true,   true,   false),
            (Active,   Archived, true,   true,   false),
            (Inactive, Active,   true,   false,  true),
            (Inactive, Archived, true,   false,  false),
            (Archived, Active,   true,   false,  true),
            (Archived, Inactive, false,  false,  false),
            (Active,   Active,   false,  false,  false),
            (Inactive, Inactive, false,  false,  false),
            (Archived, Archived, false,  false,  false),
        ];
        for (from, to, allowed, revokes, restores) in table {
            assert_eq!(transition_allowed(from, to), allowed, "{from} -> {to}");
            assert_eq!(revokes_sign_in(from, to), revokes, "{from} -> {to} revokes");
            assert_eq!(
                restores_sign_in(from, to),
                restores,
                "{from} -> {to} restores"
            );
        }
    }

    #[test]
    fn admin_moves_are_exactly_the_allowed_transitions() {
        for from in Status::ALL {
            for to in Status::ALL {
                let offered = admin_transitions(*from)
                    .iter()
                    .filter(|t| t.to == *to)
                    .count();
                let allowed = usize::from(transition_allowed(*from, *to));
                assert_eq!(offered, allowed, "{from} -> {to}");
            }
            for t in admin_transitions(*from) {
                assert_eq!(
                    t.destructive,
                    revokes_sign_in(*from, t.to) || matches!(rules(t.to).search, Hidden),
                    "{from} -> {}: destructive when it takes sign-in or visibility away",
                    t.to
                );
            }
        }
        assert_eq!(
            admin_transition(Archived, Active).map(|t| t.verb),
            Some("Restore")
        );
        assert_eq!(
            admin_transition(Inactive, Active).map(|t| t.verb),
            Some("Reactivate")
        );
        assert_eq!(admin_transition(Archived, Inactive), None);
    }

    #[test]
    fn presentation_follows_the_transitions() {
        for status in Status::ALL {
            let p = presentation(*status);
            if let Some(to) = p.switch {
                assert!(
                    transition_allowed(*status, to),
                    "{status}: the switch moves"
                );
            }
            assert_eq!(
                p.active_switch,
                [active_switch_target(true), active_switch_target(false)].contains(status),
                "{status}: the Active switch is offered on the statuses it moves between"
            );
            assert_eq!(p.badge.is_some(), !may_sign_in(*status), "{status}: badge");
        }
    }

    #[test]
    fn the_table_in_words_has_an_answer_per_status() {
        let table = table();
        assert_eq!(table.len(), 10);
        for row in &table {
            assert_eq!(row.answers.len(), Status::ALL.len(), "{}", row.key);
        }
        let screen = table.iter().find(|r| r.key == "users_screen").unwrap();
        assert_eq!(
            screen.answers,
            [
                "under the Active and All filters",
                "under the Inactive and All filters",
                "under the Archived filter"
            ]
        );
    }
}
