"""Issue 24's end-to-end story on loopback with the real parts: a kiosk (emulated devices,
KioskService) submits a case → its uploader sends it to the tus server → `kiosk-region
intake` (a child) records it → `kiosk-region case move` (a child, PIN on stdin): accepted →
correction required → a 补正 package for the same case arrives and intake marks it
correction_received → decided → dispatched to the window → arrived → collected. After each
step `kiosk-region publish --fleet` sends the signed events over Mosquitto (MQTT 5, QoS 1),
and the kiosk's own subscriber (kiosk/fleet/status_events.py) applies them; one step comes by
the pull feed instead (`kiosk-region feed` + the kiosk's feed client), so MQTT later brings
it again, as a duplicate. The ledger is read with `kiosk ledger show --json` and
`kiosk status` (children)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.bootstrap import Kiosk
from kiosk.case_timeline import MEANING
from kiosk.casestatus.feed import FeedClient
from kiosk.catalogue import load_catalogue
from kiosk.demo.citizen import demo_kiosk
from kiosk.demo.mqtt_leg import MqttLeg, subscribed
from kiosk.demo.region_side import RegionSide
from kiosk.demo.tracked import (
    DEMO_REGIONS,
    Carriage,
    demo_region,
    export_kiosk_key,
    story,
)
from kiosk.service import KioskService
from kiosk.settings import load_settings
from kiosk.transfer.outbox import State
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available
from rigs.tus_rig import TusServer, node_available

ROOT = Path(__file__).resolve().parents[2]
FLEET = "demo"
WAIT_S = 120.0          # a bound for a loaded machine, not a measured time
STATES = ["受理中", "已代收待流转", "办理地已接收", "已受理", "需补正", "补正已提交",
          "补正材料已接收", "已办结", "结果已寄出", "结果已到窗口待领取", "已领取"]

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto"),
              pytest.mark.skipif(not node_available(), reason="needs the tus server")]


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    running = MosquittoBroker(persistence=True).start()
    try:
        yield running
    finally:
        running.stop()


def _tus_directory(url: str, out: Path) -> Path:
    """The demo's region directory with every region reached over tus at ``url``."""
    doc = json.loads((DEMO_REGIONS / "directory.json").read_text(encoding="utf-8"))
    for entry in [*doc["regions"].values(), *doc["exchanges"].values()]:
        entry["transport"], entry["endpoint"] = "tus", url
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return out


def _until(done: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():                                    # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class _Bring:
    """The region's new events to the kiosk: MQTT, except the second step (the pull feed)."""

    def __init__(self, mqtt: MqttLeg) -> None:
        self.mqtt, self.calls = mqtt, 0

    def __call__(self, kiosk: Kiosk, region: RegionSide) -> int:
        self.calls += 1
        if self.calls != 2:
            return self.mqtt(kiosk, region)
        status = kiosk.case_status
        with region.feed() as base:
            feed = FeedClient(base, kiosk.settings.kiosk.id, status.receiver, status.store, 30)
            try:
                return feed.pull()
            finally:
                feed.close()


def _deliver(kiosk: Kiosk, service: KioskService) -> None:
    def all_delivered() -> bool:
        service.deliver()                                # one uploader pass
        return all(e.state is State.DELIVERED for e in kiosk.outbox.entries())
    _until(all_delivered, "the uploader did not deliver to the tus server")


def _child(*argv: str) -> str:
    return subprocess.run([sys.executable, "-m", "kiosk", *argv], capture_output=True,
                          text=True, timeout=120, check=True, cwd=ROOT).stdout


def test_the_case_after_the_receipt_end_to_end(tmp_path: Path,
                                               broker: MosquittoBroker) -> None:
    with TusServer(tmp_path / "tus") as tus:
        settings = load_settings(ROOT / "config" / "demo.toml")
        routes = {code: route.model_copy(update={"transport": "tus", "endpoint": tus.url})
                  for code, route in settings.transfer.routes.items()}
        settings = settings.model_copy(update={
            "transfer": settings.transfer.model_copy(update={"routes": routes, "directory_file":
                _tus_directory(tus.url, tmp_path / "directory.json")}),
            "fleet": settings.fleet.model_copy(update={"name": FLEET, "broker": broker.url})})
        out = tmp_path / "kiosk"
        with demo_kiosk(settings, out) as kiosk:
            subscriber = subscribed(kiosk)       # kiosk/fleet/status_events.py, connected
            keys = tmp_path / "registered"
            keys.mkdir()
            export_kiosk_key(kiosk, keys)
            regions = demo_region(tmp_path / "regions", keys, settings.transfer.suite)

            def region_for(code: str) -> RegionSide:
                made = regions(code)       # the tus server's delivered/ is its upload store
                return RegionSide(made.root, tus.root, made.key, made.status_key, keys)

            try:
                done = story(kiosk, _first_takeable(), region_for,
                             Carriage(_deliver, _Bring(MqttLeg(subscriber, broker.url, FLEET))),
                             lambda zh, en: None)
            finally:
                subscriber.stop()
            counts = kiosk.case_status.store.counts()
        assert len(tus.delivered()) == 2                 # the case and its 补正 package
    # the feed, new to the kiosk, pulls `received` again (already come by MQTT) with
    # `accepted`, which MQTT then brings too: two duplicates, each applied once
    assert counts.get("applied") == 8 and counts.get("duplicate") == 2, counts
    assert not any(name.startswith("rejected") for name in counts), counts
    data = str(out / "data")
    shown = json.loads(_child("ledger", "show", "--case", done.case_number, "--json",
                              "--data-dir", data))
    states = [s["state"] for s in shown["states"]]
    assert [s for s in states if s != "已送达办理地"] == STATES
    assert states.count("已送达办理地") == 2
    status = _child("status", "--case", done.case_number, "--data-dir", data)
    lines = [line.strip() for line in status.splitlines()]
    assert lines[0] == f"受理编号 / Case {done.case_number}"
    shown_zh = [line.split(maxsplit=2)[2] for line in lines[1:] if line[:4].isdigit()]
    # for a person every state is said plainly (kiosk/case_timeline.py), in the same order
    assert [s for s in shown_zh if not s.startswith("已送达办理地")] == [
        MEANING[state][0] for state in STATES]


def _first_takeable() -> str:
    catalogue = load_catalogue(ROOT / "config" / "catalogue.yaml")
    return next(m.code for m in catalogue.matters if m.kiosk_can_take)
