"""Fuzz and regression cases for the receiving path (the tests/fuzz pattern, kept beside the
status rig): whatever bytes arrive — random, mutated from a genuine event, or the classic
hostile JSON — ``Receiver.apply`` answers with a Result (never an exception), applies nothing
but the genuine event, and alerts for each refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from status_rig import Rig

from kiosk.casestatus.event import MAX_EVENT_BYTES, ZH, CaseState, parse
from kiosk.casestatus.receiver import Outcome, Reason

START = ["已代收待流转"]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Rig, str, bytes]]:
    rig = Rig(tmp_path_factory.mktemp("fuzz"))
    case = rig.send_case()
    yield rig, case, rig.event(case, 1, CaseState.RECEIVED)
    rig.close()


@FUZZ
@given(raw=st.binary(max_size=2048))
def test_random_bytes_are_refused(shared: tuple[Rig, str, bytes], raw: bytes) -> None:
    rig, case, _ = shared
    before = rig.states(case)
    assert rig.receiver.apply(raw).outcome is Outcome.REJECTED
    assert rig.states(case) == before


@FUZZ
@given(data=st.data())
def test_a_genuine_event_mutated_anywhere_is_refused(shared: tuple[Rig, str, bytes],
                                                     data: st.DataObject) -> None:
    rig, case, genuine = shared
    at = data.draw(st.integers(0, len(genuine) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != genuine[at]))
    mutated = genuine[:at] + bytes([byte]) + genuine[at + 1:]
    before = rig.states(case)     # an earlier example may have applied the genuine event
    result = rig.receiver.apply(mutated)
    # a change the parsed event cannot see may still verify: "\u0041" for "A" in a string,
    # or a time written "2026-12-07 09:00" for "2026-12-07T09:00" (the signature is over
    # the canonical form, and that is the same event)
    assert result.outcome is Outcome.REJECTED or parse(mutated) == parse(genuine)
    assert rig.states(case) in (before, [*START, ZH[CaseState.RECEIVED]])
    if result.outcome is Outcome.REJECTED:
        assert rig.states(case) == before


def _outer(rig: Rig, case: str, change: dict[str, object]) -> bytes:
    doc = json.loads(rig.event(case, 1, CaseState.RECEIVED))
    doc["event"].update(change)
    return json.dumps(doc).encode()


HOSTILE = {
    "empty": b"",
    "not_json": b"\xff\xfe{",
    "array": b"[]",
    "deep": b"[" * 5000 + b"]" * 5000,            # under the size cap: the depth cap
    "huge": b'{"event": "' + b"x" * MAX_EVENT_BYTES + b'"}',
    "nan": b'{"event": NaN, "signature": ""}',
    "duplicate_keys": b'{"event": {}, "event": {}, "signature": ""}',
    "extra_field": b'{"event": {}, "signature": "", "more": 1}',
    "signature_not_base64": b'{"event": {}, "signature": "***"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_are_malformed(tmp_path: Path, name: str) -> None:
    rig = Rig(tmp_path)
    assert rig.receiver.apply(HOSTILE[name]).reason is Reason.MALFORMED
    assert [a["reason"] for a in rig.alerts.raised] == ["malformed"]
    rig.close()


@pytest.mark.parametrize("change", [
    {"seq": True}, {"seq": 1.0}, {"seq": 0}, {"seq": 10_001}, {"seq": "1"},
    {"time": "2026-12-07T10:00:00"}, {"time": "yesterday"}, {"time": 1},
    {"state": "lost"}, {"region": "51080"}, {"region": "../../x"},
    {"transfer_number": "XT1"}, {"case_number": "1"}, {"key_id": "A" * 16},
    {"suite": "rot13"}, {"details": {"reason": "not for received"}}, {"details": []},
    {"format": "other"}, {"schema": 2},
], ids=lambda c: next(iter(c)) + "=" + repr(next(iter(c.values())))[:20])
def test_malformed_fields_are_refused_before_any_key_is_asked(
        tmp_path: Path, change: dict[str, object]) -> None:
    rig = Rig(tmp_path)
    case = rig.send_case()
    assert rig.receiver.apply(_outer(rig, case, change)).reason is Reason.MALFORMED
    assert rig.states(case) == START
    rig.close()
