"""Refresh docs/screens/ from the UI tests' screenshots (run the UI tests first):

    .venv/bin/python -m pytest tests/ui
    .venv/bin/python scripts/screens_docs.py

Half-size PNGs (540×960 / 960×540), palette-quantised so the set stays small in git.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screens"
DOCS = ROOT / "docs" / "screens"
SETS = {
    "portrait-zh": ["test_complete_application_ends_with_receipt_and_delivered_package",
                    "test_missing_materials_end_with_the_correction_notice",
                    "test_posting_elsewhere_picks_the_region_then_types_the_street",
                    "test_idle_in_capture_wipes_everything_and_returns_to_attract"],
    # what surrounds the journey: the plate, the pages, calling staff, the card, a bad rating
    "portrait-zh-care": ["test_a_page_left_by_the_last_citizen_is_not_filed_for_the_next",
                         "test_a_new_material_does_not_take_the_page_still_on_the_plate",
                         "test_every_page_opens_large_and_one_page_is_retaken_in_place",
                         "test_review_opens_each_page_and_sends_a_retake_back_to_capture",
                         "test_without_a_broker_the_call_sends_the_citizen_to_the_guide_desk",
                         "test_the_call_reaches_the_hall_and_the_citizen_sees_it_acknowledged",
                         "test_nobody_answering_gives_the_phone_and_the_session_end_closes_the_call",
                         "test_a_card_taken_back_turns_the_reminder_into_a_tick",
                         "test_a_correction_notice_shows_the_skipped_steps_and_the_printed_title",
                         "test_a_bad_rating_asks_why_and_whether_staff_may_call",
                         "test_done_and_next_say_what_they_wait_for",
                         "test_a_notice_the_printer_could_not_print_is_on_screen_and_never_printed_later"],
    # running unattended (issue 26): the attract screen when no session may start
    "portrait-zh-unattended": ["test_attract_shows_out_of_service_while_it_is_up[disk_full]",
                               "test_attract_shows_out_of_service_while_it_is_up[on_battery]"],
    "portrait-elder": ["test_elder_view_is_larger_and_still_fits",
                       "test_elder_view_shows_the_page_large_with_large_buttons"],
    "landscape-zh": ["test_landscape_journey"],
    "portrait-en": ["test_english_first"],
    "fleet-swap": ["test_screens_follow_a_swap_applied_after_the_session"],
    # staff mode (issue 21): tests/ui/test_staff_frame.py and test_staff_functions.py
    "staff": ["test_without_a_roster_staff_mode_says_why",
              "test_the_title_hold_opens_sign_in_from_idle",
              "test_service_mode_signs_in_shows_only_the_roles_functions_and_signs_out",
              "test_five_wrong_pins_lock_staff_sign_in",
              "test_a_remote_emergency_opening_signs_in_once_past_a_lock",
              "test_staff_screens_for_the_docs",
              "test_reprint_by_number_by_list_and_by_the_receipts_qr",
              "test_maintenance_stays_on_after_sign_out_until_switched_off",
              "test_exit_to_the_desktop_asks_why_and_ends_with_status_77",
              "test_the_audit_view_shows_the_verdict_and_the_newest_entries",
              # tests/ui/test_staff_assist.py and test_staff_checks.py
              "test_originals_and_rongque_by_touch_then_the_review_accepts",
              "test_a_guide_sees_no_rongque_and_records_the_agent_and_the_mandate",
              "test_selftest_walk_records_the_inspection_and_clears_the_reminder",
              "test_a_failing_row_says_why_and_a_row_can_be_checked_again",
              "test_consumables_refill_refused_then_confirmed_and_a_part_change",
              "test_ledger_filter_preview_and_save",
              "test_the_ledger_is_exported_from_the_screen_in_the_seed_columns"],
    # the applicant's handling region (issue 23): tests/ui/test_region_step.py
    "portrait-zh-region": ["test_joint_matter_two_parties_one_tap",
                           "test_property_is_picked_province_city_county",
                           "test_an_old_address_is_asked_not_guessed",
                           "test_no_route_makes_the_matter_unavailable_with_phone_and_slip",
                           "test_the_step_in_english"],
    # 人证核验 (issue 22): tests/ui/test_face_step.py
    "portrait-zh-face": ["test_the_cards_holder_passes_and_goes_on_to_the_materials",
                         "test_someone_else_is_told_the_face_does_not_match_and_may_try_again",
                         "test_three_failures_call_staff_and_the_session_waits",
                         "test_staff_verify_by_sight_and_the_applicant_goes_on",
                         "test_a_card_with_no_photo_goes_to_staff_who_may_end_the_session"],
    # 进度查询 after the receipt (issue 24): tests/ui/test_progress_lookup.py
    "portrait-zh-progress": ["test_the_receipts_qr_shows_the_timeline_in_both_languages",
                             "test_an_id_card_lists_the_persons_cases_here",
                             "test_a_qr_from_elsewhere_is_told_plainly",
                             "test_a_result_at_the_window_says_where_and_when_to_collect",
                             "test_the_second_rating_is_given_once",
                             # 补正 from the status screen: tests/ui/test_progress_correction.py
                             "test_the_requested_items_are_captured_and_sent_as_version_2",
                             "test_another_persons_card_is_refused",
                             "test_a_passed_deadline_offers_no_correction",
                             "test_the_regions_notice_is_printed_from_the_status_screen"],
}


def main() -> None:
    shutil.rmtree(DOCS, ignore_errors=True)
    for name, tests in SETS.items():
        out = DOCS / name
        out.mkdir(parents=True)
        seen: set[str] = set()
        for test in tests:
            for png in sorted((SHOTS / test).glob("*.png")):
                label = png.stem.split("-", 1)[1]
                if label in seen:            # the first journey's copy of a shared screen
                    continue
                seen.add(label)
                image = Image.open(png).convert("RGB")
                image = image.resize((image.width // 2, image.height // 2), Image.LANCZOS)
                image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
                    out / f"{len(seen):02d}-{label}.png", optimize=True)
        print(f"{out.relative_to(ROOT)}: {len(seen)} screens")


if __name__ == "__main__":
    main()
