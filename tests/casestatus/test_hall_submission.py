"""The hall key is written by a real submission: `kiosk demo --headless` (a child process)
with the hall case index on (a Mosquitto on loopback, `[hall]` set) submits a case; its
ledger keeps the applicant's keyed hash under the hall secret and marks the case for the
hall, durably. Kiosk A then (as after a restart) publishes what is still marked, and kiosk B
finds the case by the same person's ID card."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from test_hall_index import PERSON, PRIVATE, _until, broker  # noqa: F401 - the fixture

from kiosk.applicant_key import applicant_key
from kiosk.casestatus.keys import DirectoryStatusKeys
from kiosk.hall.index import HallIndex
from kiosk.hall.mirror import HallMirror
from kiosk.hall.service import HallCases
from kiosk.hall.source import CardSource
from kiosk.ledger import connect
from kiosk.settings import Fleet, load_settings
from kiosk.transfer.keys import DeviceKeys, KeyFile, Registry
from rigs.mqtt_rig import MosquittoBroker

ROOT = Path(__file__).resolve().parents[2]
HALL, PEER = "lizhou-zwzx", "510802-0002"
SECRET = bytes(range(32))


def _settings(tmp: Path, url: str) -> Path:
    # the demo's settings in the test's folder, its relative paths made absolute (the
    # checkout's config/ is not written: the suite's lanes run side by side)
    config = ROOT / "config"
    demo = (config / "demo.toml").read_text(encoding="utf-8")
    # (the printer's "../paper" stays relative: beside the data folder the demo's --out sets)
    demo = re.sub(r'"\.\./(?!paper")', f'"{config.parent}/', demo).replace(
        'catalogue = "catalogue.yaml"', f'catalogue = "{config / "catalogue.yaml"}"')
    (tmp / "hall.key").write_text(SECRET.hex())
    (tmp / "hall-kiosks").mkdir()
    path = tmp / "hall-demo.toml"
    path.write_text(demo + f'''
[fleet]
name = "demo"
repository = "http://127.0.0.1:9/"
broker = "{url}"

[hall]
id = "{HALL}"
kiosk_keys = "{tmp / 'hall-kiosks'}"
applicant_key_file = "{tmp / 'hall.key'}"
''', encoding="utf-8")
    return path


def test_a_submission_keeps_the_hall_key_and_kiosk_b_finds_it_by_card(
        broker: MosquittoBroker, tmp_path: Path) -> None:  # noqa: F811
    settings = _settings(tmp_path, broker.url)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--headless", "--settings",
                           str(settings), "--out", str(out)], capture_output=True, text=True,
                           timeout=600, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    case = json.loads(done.stdout)["case_number"]
    data = out / "data"
    conn = connect(data / "ledger.sqlite")
    keys = dict(conn.execute("SELECT case_number, applicant_key FROM hall_applicant_keys"))
    conn.close()
    assert keys == {case: applicant_key(SECRET, PERSON)}

    kiosk_a = load_settings(ROOT / "config" / "demo.toml").kiosk.id
    fleet = Fleet(name="demo", repository="http://127.0.0.1:9/", broker=broker.url)
    signer = DeviceKeys(data / "keys", kiosk_a).signer("x25519-chacha20")
    a_key = DeviceKeys(data / "keys", kiosk_a).key("x25519-chacha20")
    registry = Registry([KeyFile(a_key.owner, a_key.role, a_key.suite, a_key.public)])
    now = datetime.now(UTC)
    b = HallMirror(fleet, HALL, PEER, CardSource(tmp_path / "b.sqlite", "demo", HALL, PEER,
                                                 DeviceKeys(tmp_path / "b-keys", PEER)
                                                 .signer("x25519-chacha20"), 90),
                   HallIndex(tmp_path / "b-index.sqlite", 100), registry,
                   DirectoryStatusKeys(lambda: None), _NoAlerts(), 90)
    a = HallMirror(fleet, HALL, kiosk_a, CardSource(data / "ledger.sqlite", "demo", HALL,
                                                    kiosk_a, signer, 90),
                   HallIndex(tmp_path / "a-index.sqlite", 100), registry,
                   DirectoryStatusKeys(lambda: None), _NoAlerts(), 90)
    try:
        b.start(background=False)
        a.start(background=False)
        _until(lambda: a.connected() and b.connected())
        # still marked (kept across the child's exit), or sent by the child's own mirror in
        # its 5 s round: either way the broker holds the card retained for B
        a.sync()
        _until(lambda: b.index.find(case, now) is not None)
        catalogue = SimpleNamespace(matter=lambda code: (_ for _ in ()).throw(KeyError(code)))
        cases = HallCases(SimpleNamespace(catalogue=catalogue), b, SECRET,  # type: ignore[arg-type]
                          now=lambda: now)
        assert [line.number for line in cases.lines(PERSON)] == [case]
        assert [line.kiosk for line in cases.lines(PERSON)] == [kiosk_a]
        text = "\n".join(p.read_text(errors="replace") for p in data.rglob("*.log"))
        assert not any(p in text for p in PRIVATE)
    finally:
        for mirror in (a, b):
            mirror.stop()
            mirror.source.close()
            mirror.index.close()


class _NoAlerts:
    def alert(self, code: str, detail: dict[str, str]) -> None:
        raise AssertionError(f"unexpected alert {code}: {detail}")
