//! HTTP tests: the real router on a random port, over SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, reason = "tests: a failed step is a failed test")]

mod console;
mod helpers;
mod learning;
mod provisioning;
mod reports;
mod scim;
mod segments;
mod suite;

use console::*;
use learning::*;
use provisioning::*;
use reports::*;
use scim::*;
use segments::*;
use suite::*;

rollcall_testkit::backend_tests!(
    figures_and_reports_follow_a_deactivation,
    everyone_is_written_to_and_a_segment_is_enrolled,
    bad_report_filters_are_refused_by_name,
    health_reports_the_database,
    listing_defaults_to_active_and_pages_with_cursors,
    search_ignores_case_and_accents,
    a_created_user_comes_back_with_location_and_etag,
    bad_input_is_refused_with_the_field_named_and_nothing_written,
    tokens_are_checked_on_every_request,
    another_orgs_user_is_not_found,
    stale_versions_are_refused,
    status_changes_follow_the_rules_and_are_in_the_history,
    sign_in_refusals_say_what_and_change_nothing,
    repeated_failures_are_throttled,
    deactivation_ends_an_open_session_at_once,
    admin_pages_are_for_admins,
    weak_passwords_and_missing_tokens_change_nothing,
    a_stale_console_edit_shows_a_conflict,
    an_expired_session_is_refused,
    archive_and_restore_from_the_console_keep_the_person_whole,
    archive_and_restore_through_the_api_keep_the_person_whole,
    concurrent_guesses_cannot_pass_the_limit,
    failures_slow_one_address_down_without_locking_others_out,
    unknown_logins_take_as_long_as_real_ones,
    a_users_tokens_end_for_good_when_they_lose_sign_in,
    hostile_text_is_refused_naming_the_field,
    a_search_with_nothing_to_search_for_is_refused,
    every_error_is_a_documented_problem,
    console_responses_carry_security_headers,
    slow_and_idle_clients_are_cut_off,
    a_trusted_proxy_names_the_client_and_no_one_else_does,
    sources_are_managed_and_files_imported_through_the_api,
    a_oneroster_runs_record_says_what_it_did_to_classes,
    a_held_run_is_approved_with_exclusions_rejected_and_undone,
    a_file_beyond_the_limit_is_refused_unread,
    drop_folders_stay_inside_the_orgs_own_folder,
    a_learner_goes_through_a_course_by_the_api,
    bad_course_input_is_refused_by_field_and_changes_nothing,
    okta_provisions_updates_deactivates_and_reactivates,
    entra_provisions_disables_and_deletes_then_restores,
    an_admins_decision_sticks_until_the_provider_changes_its_word,
    a_person_added_by_hand_is_taken_over_and_another_sources_is_not,
    scim_refuses_bad_requests_with_the_rfc_error_and_changes_nothing,
    discovery_documents_and_unknown_paths_answer_in_scim,
    a_connection_over_its_allowance_is_told_when_to_come_back,
    filters_sorting_and_paging_are_answered_by_the_database,
    groups_become_rosters_and_follow_their_members,
    connections_are_managed_through_the_api_with_their_last_requests,
    people_are_never_shared_merged_or_promoted_by_a_connection,
    a_group_goes_on_after_one_of_its_members_is_deleted,
    requests_sent_together_each_get_their_own_answer,
    a_message_to_a_roster_reaches_its_active_members,
    segments_are_previewed_saved_and_listed_as_the_status_rules_say,
);

#[test]
fn the_committed_openapi_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let generated = rollcall_web::openapi_json();
    if std::env::var("ROLLCALL_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json is out of date: run `ROLLCALL_UPDATE_OPENAPI=1 cargo test -p rollcall-web \
         --test api the_committed_openapi` (or `rollcall openapi > openapi.json`) and commit it"
    );
}
