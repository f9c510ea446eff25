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
}
