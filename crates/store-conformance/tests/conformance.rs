//! Runs the whole conformance suite against SQLite and PostgreSQL.

use rollcall_store_conformance::*;

rollcall_testkit::backend_tests!(
    a_created_user_reads_back_exactly,
    usernames_and_emails_are_unique_ignoring_case_and_nothing_is_written,
    external_ids_are_unique_per_source,
    a_stale_write_is_refused_and_changes_nothing,
    a_status_change_is_recorded_with_actor_reason_and_statuses,
    reactivating_a_username_only_user_needs_a_temporary_password,
    another_orgs_users_are_invisible,
    a_bulk_insert_is_all_or_nothing,
    tokens_work_until_revoked_or_their_user_stops_being_active,
    search_and_paging_agree_with_the_domain_on_both_plans,
    the_status_filters_follow_the_rules,
    a_rename_is_found_by_the_new_name_only,
    source_and_role_filters_narrow_the_list,
    two_writers_racing_on_one_user_cannot_both_win,
    bulk_reactivation_moves_who_it_can_and_says_why_not_for_the_rest,
    sessions_end_when_the_rules_say_so,
    only_admins_manage_tokens,
    look_alike_usernames_are_refused,
    old_usernames_get_their_skeletons_when_a_server_starts,
    two_servers_share_one_sign_in_throttle,
    throttle_runs_count_once_per_unit_of_work,
    a_server_secret_is_created_once_and_shared,
    sign_in_forms_are_signed_for_every_server,
    an_import_creates_links_and_archives_missing_students,
    refused_imports_change_nothing,
    a_mass_removal_is_held_until_confirmed,
);
