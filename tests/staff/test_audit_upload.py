"""The audit log in the diagnostics: the nightly job publishes it over a real mosquitto on
loopback (anchor, check, the exact lines, which the receiver re-hashes and chains); a long
log is sent as its newest whole lines; a damaged one is sent with the first bad entry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from staff_kit import KIOSK_ID, Clock

from kiosk.paths import DEMO_SETTINGS
from kiosk.settings import Fleet, load_settings
from kiosk.staff.audit import AuditLog, entry_hash
from kiosk.staff.audit_upload import STAFF_DIR, audit_for_diagnostics
from kiosk.supervision.maintenance import nightly
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available

WAIT = 20.0


def _log(folder: Path, n: int) -> AuditLog:
    audit = AuditLog(folder, KIOSK_ID, Clock())
    for i in range(n):
        audit.append("M001", "device.self_test", after={"result": "done", "n": i})
    return audit


def _chained(entries: list[str]) -> bool:
    docs = [json.loads(line) for line in entries]
    return all(d["hash"] == entry_hash(d) for d in docs) and all(
        b["prev"] == a["hash"] for a, b in pairwise(docs))


def test_a_long_log_goes_as_its_newest_whole_lines(tmp_path: Path) -> None:
    audit = _log(tmp_path, 40)
    sent = audit_for_diagnostics(tmp_path, max_bytes=4000)
    assert sent["verify"] == {"ok": True, "entries": 40, "torn_cuts": []}
    assert sent["anchor"] == audit.anchor().as_dict() and sent["truncated"] is True
    assert json.loads(sent["entries"][-1])["seq"] == 40
    assert sent["first_seq"] == 41 - len(sent["entries"]) and _chained(sent["entries"])


def test_a_damaged_log_is_sent_with_its_first_bad_entry(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    path = tmp_path / "audit.log"
    path.write_bytes(path.read_bytes().replace(b'"n":1', b'"n":7'))
    sent = audit_for_diagnostics(tmp_path)
    assert sent["verify"] == {"ok": False, "code": "changed", "seq": 2}
    assert len(sent["entries"]) == 3 and sent["truncated"] is False


def test_no_log_yet(tmp_path: Path) -> None:
    assert audit_for_diagnostics(tmp_path) == {
        "anchor": None, "verify": {"ok": True, "entries": 0, "torn_cuts": []},
        "first_seq": None, "truncated": False, "entries": []}


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (scripts/setup.sh installs it)")
    with MosquittoBroker() as running:
        yield running


def test_the_nightly_diagnostics_carry_the_audit_log_over_the_broker(
        tmp_path: Path, broker: MosquittoBroker) -> None:
    fleet = Fleet(name="hall-test", repository="http://127.0.0.1:9/", broker=broker.url)
    settings = load_settings(DEMO_SETTINGS).with_data_dir(tmp_path / "data")
    settings = settings.model_copy(update={"fleet": fleet})
    audit = _log(settings.paths.data_dir / STAFF_DIR, 5)
    got: list[dict[str, Any]] = []
    arrived = threading.Event()
    subscribed = threading.Event()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = lambda _c, _u, m: (got.append(json.loads(m.payload)), arrived.set())
    watcher.on_subscribe = lambda *_a: subscribed.set()
    watcher.connect("127.0.0.1", broker.port)
    watcher.loop_start()
    try:
        watcher.subscribe(f"tongban/hall-test/kiosk/{KIOSK_ID}/diagnostics", qos=1)
        assert subscribed.wait(WAIT)
        report = nightly(settings)
        assert report["upload"] == "sent"
        assert arrived.wait(WAIT)
    finally:
        watcher.loop_stop()
        watcher.disconnect()
    sent = got[0]["audit"]
    assert sent["anchor"] == audit.anchor().as_dict() and sent["anchor"]["seq"] == 5
    assert sent["verify"]["ok"] and len(sent["entries"]) == 5 and _chained(sent["entries"])
    on_disk = (settings.paths.data_dir / STAFF_DIR / "audit.log").read_text().splitlines()
    assert sent["entries"] == on_disk
