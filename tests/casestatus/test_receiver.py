"""Applying signed status events to a real ledger file: the ledger follows the case, and
forged, replayed, out-of-order, foreign-region, stale and disallowed events are rejected or
held — never applied, never applied twice — with an alert for each rejection."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from status_rig import HOME, OTHER, STORY, Rig

from kiosk.casestatus.event import ZH, CaseState
from kiosk.casestatus.receiver import ALERT, Outcome, Reason
from kiosk.casestatus.store import MAX_HELD_PER_TRANSFER, StatusStore
from kiosk.transfer.keys import generate
from kiosk.transfer.suites import SUITE_NAMES, Role

START = ["已代收待流转"]


def test_the_ledger_follows_the_whole_story(rig: Rig) -> None:
    case = rig.send_case()
    for seq, state in enumerate(STORY, start=1):
        assert rig.receiver.apply(rig.event(case, seq, state)).outcome is Outcome.APPLIED
    assert rig.states(case) == START + [ZH[s] for s in STORY]
    assert rig.alerts.raised == []


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_each_suite_verifies(tmp_path: Path, suite: str) -> None:
    made = Rig(tmp_path, suite=suite)
    case = made.send_case()
    assert made.receiver.apply(made.event(case, 1, CaseState.RECEIVED)).outcome is \
        Outcome.APPLIED
    made.close()


def test_details_are_kept_for_the_timeline(rig: Rig) -> None:
    case = rig.send_case()
    rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED))
    details = {"items": ["身份证复印件"], "deadline": "2026-12-20"}
    rig.receiver.apply(rig.event(case, 2, CaseState.ACCEPTED))
    rig.receiver.apply(rig.event(case, 3, CaseState.CORRECTION_REQUIRED, details=details))
    kept = rig.store.events_of(case)
    assert [e.seq for e in kept] == [1, 2, 3]
    assert kept[2].details == details and kept[2].state is CaseState.CORRECTION_REQUIRED


def test_a_forged_event_changes_nothing_and_alerts(rig: Rig) -> None:
    case = rig.send_case()
    raw = rig.event(case, 1, CaseState.RECEIVED)
    forged = raw.replace(b'"received"', b'"accepted"')     # the body changed, not re-signed
    assert rig.receiver.apply(forged).reason is Reason.FORGED
    impostor = generate(HOME, Role.SIGN, rig.suite)           # a key not in the directory
    assert rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED, signer=impostor)
                              ).reason is Reason.UNKNOWN_KEY
    assert rig.states(case) == START
    assert rig.alerts.raised and all(a["code"] == ALERT for a in rig.alerts.raised)


def test_a_signature_of_the_right_key_over_other_bytes_is_forged(rig: Rig) -> None:
    case = rig.send_case()
    good = rig.event(case, 1, CaseState.RECEIVED)
    other = rig.event(case, 1, CaseState.RECEIVED, at=rig.now - timedelta(hours=2))
    signature = other[other.index(b'"signature"'):]
    spliced = good[:good.index(b'"signature"')] + signature
    assert rig.receiver.apply(spliced).reason is Reason.FORGED
    assert rig.states(case) == START


def test_a_revoked_status_key_is_refused(rig: Rig) -> None:
    rig.revoked = (rig.signers[HOME].key_id,)
    case = rig.send_case()
    assert rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED)).reason is \
        Reason.UNKNOWN_KEY


def test_a_replay_is_not_applied_twice(rig: Rig) -> None:
    case = rig.send_case()
    first = rig.event(case, 1, CaseState.RECEIVED)
    assert rig.receiver.apply(first).outcome is Outcome.APPLIED
    assert rig.receiver.apply(first).outcome is Outcome.DUPLICATE      # QoS 1 redelivery
    assert rig.receiver.apply(rig.event(case, 2, CaseState.ACCEPTED)).applied == 1
    # an old seq with another body: a replay, refused with an alert
    other = rig.event(case, 1, CaseState.RECEIVED, at=rig.now - timedelta(hours=3))
    assert rig.receiver.apply(other).reason is Reason.REPLAYED
    assert rig.states(case) == [*START, ZH[CaseState.RECEIVED], ZH[CaseState.ACCEPTED]]
    counts = rig.store.counts()
    assert counts["applied"] == 2 and counts["duplicate"] == 1
    assert counts["rejected_replayed"] == 1 and rig.alerts.reasons() == ["replayed"]


def test_out_of_order_events_are_held_until_the_gap_fills(rig: Rig) -> None:
    case = rig.send_case()
    events = [rig.event(case, seq, state) for seq, state in enumerate(STORY[:4], start=1)]
    for raw in reversed(events[1:]):
        assert rig.receiver.apply(raw).outcome is Outcome.HELD
    assert rig.states(case) == START and rig.store.held() == 3
    result = rig.receiver.apply(events[0])
    assert result.outcome is Outcome.APPLIED and result.applied == 4
    assert rig.states(case) == START + [ZH[s] for s in STORY[:4]]
    assert rig.store.held() == 0
    assert rig.receiver.apply(events[2]).outcome is Outcome.DUPLICATE


def test_held_events_are_bounded(rig: Rig) -> None:
    case = rig.send_case()
    for seq in range(3, 3 + MAX_HELD_PER_TRANSFER):
        rig.receiver.apply(rig.event(case, seq, CaseState.ACCEPTED))
    assert rig.store.held() == MAX_HELD_PER_TRANSFER
    beyond = rig.event(case, 3 + MAX_HELD_PER_TRANSFER, CaseState.ACCEPTED)
    assert rig.receiver.apply(beyond).reason is Reason.HELD_FULL


def test_a_held_event_that_turns_out_disallowed_is_dropped(rig: Rig) -> None:
    case = rig.send_case()
    rig.receiver.apply(rig.event(case, 2, CaseState.COLLECTED))      # not after received
    assert rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED)).applied == 1
    assert rig.store.held() == 0 and rig.alerts.reasons() == ["disallowed"]
    assert rig.states(case) == [*START, ZH[CaseState.RECEIVED]]


def test_a_foreign_regions_event_is_refused(rig: Rig) -> None:
    case = rig.send_case()
    # 旌阳区, with its own valid key, speaks for a transfer sent to 利州区
    raw = rig.event(case, 1, CaseState.RECEIVED, region=OTHER)
    assert rig.receiver.apply(raw).reason is Reason.FOREIGN_REGION
    assert rig.states(case) == START


def test_an_event_for_a_case_this_kiosk_never_sent_is_refused(rig: Rig) -> None:
    case = rig.send_case(seq=1)
    transfer = dict(rig.cases)[case]
    stranger = transfer[:-1] + "9"
    raw = rig.event(case, 1, CaseState.RECEIVED, transfer=stranger)
    assert rig.receiver.apply(raw).reason is Reason.NOT_OURS


@pytest.mark.parametrize("age", [timedelta(days=31), -timedelta(hours=1)])
def test_stale_and_future_events_are_refused(rig: Rig, age: timedelta) -> None:
    case = rig.send_case()
    raw = rig.event(case, 1, CaseState.RECEIVED, at=rig.now - age)
    assert rig.receiver.apply(raw).reason is Reason.STALE
    assert rig.states(case) == START


def test_a_disallowed_move_is_refused(rig: Rig) -> None:
    case = rig.send_case()
    rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED))
    assert rig.receiver.apply(rig.event(case, 2, CaseState.COLLECTED)).reason is \
        Reason.DISALLOWED
    # seq 2 is still free: the allowed move applies
    assert rig.receiver.apply(rig.event(case, 2, CaseState.ACCEPTED)).applied == 1


def test_two_transfers_of_one_case_keep_their_own_sequences(rig: Rig) -> None:
    case = rig.send_case(regions=(HOME, OTHER))
    transfers = rig.store.ledger.find(case).transfer_numbers.split(",")   # type: ignore[union-attr]
    assert rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED)).applied == 1
    raw = rig.event(case, 1, CaseState.RECEIVED, region=OTHER, transfer=transfers[1])
    assert rig.receiver.apply(raw).applied == 1
    assert len(rig.store.events_of(case)) == 2


def test_an_event_survives_a_reopened_store(rig: Rig) -> None:
    case = rig.send_case()
    rig.receiver.apply(rig.event(case, 1, CaseState.RECEIVED))
    rig.receiver.apply(rig.event(case, 3, CaseState.CORRECTION_REQUIRED))
    again = StatusStore(rig.ledger_path)
    assert again.held() == 1 and [e.seq for e in again.events_of(case)] == [1]
    again.close()
