"""`kiosk demo --headless --scenario tracked`: the whole case after the receipt on one machine
(kiosk → region intake → staff moves → signed events back over the pull feed). The printed
steps, the kiosk's ledger (read by `kiosk ledger show --json`, a child) and the region's own
database must tell the same story."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from kiosk.demo import tracked
from kiosk.demo.mqtt_leg import mosquitto_binary
from kiosk.ledger import Ledger
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEMO_NAME, DEMO_ID = "张明华", "110101195803121237"   # assets/demo/identities.toml: resident
STATES = ["受理中", "已代收待流转", "办理地已接收", "已受理", "需补正", "补正已提交",
          "补正材料已接收", "已办结", "结果已寄出", "结果已到窗口待领取", "已领取"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("tracked")
    done = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--headless", "--scenario",
                           "tracked", "--out", str(out)], capture_output=True, text=True,
                          timeout=900, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out, done.stdout


def _case(stdout: str) -> str:
    return stdout.split("受理编号 / Case ")[1].split()[0]


@pytest.mark.skipif(mosquitto_binary() is None, reason="needs mosquitto")
def test_each_step_is_printed_in_both_languages_in_order(demo: tuple[Path, str]) -> None:
    _, stdout = demo
    steps = [line for line in stdout.splitlines() if line[:2].rstrip(".").isdigit()]
    assert [s.split(".")[0] for s in steps] == [str(n) for n in range(1, 10)]
    assert all(" / " in s for s in steps)
    for words in ("补正", "办结", "3 号窗口", "已领取"):
        assert words in stdout
    assert "status events applied: 8" in stdout        # received … collected
    assert "over a local Mosquitto (MQTT 5)" in stdout   # the machine has it (see skip)


def test_the_timeline_is_kiosk_status_and_the_ledger_follows_each_state(
        demo: tuple[Path, str]) -> None:
    out, stdout = demo
    case = _case(stdout)
    shown = subprocess.run([sys.executable, "-m", "kiosk", "ledger", "show", "--case", case,
                            "--json", "--data-dir", str(out / "data")], capture_output=True,
                           text=True, timeout=120, check=True, cwd=ROOT)
    states = [s["state"] for s in json.loads(shown.stdout)["states"]]
    # the outbox's deliveries (the case, then its 补正 package) sit among the region's states
    assert [s for s in states if s != "已送达办理地"] == STATES
    assert states.count("已送达办理地") == 2
    status = subprocess.run([sys.executable, "-m", "kiosk", "status", "--case", case,
                             "--data-dir", str(out / "data")], capture_output=True, text=True,
                            timeout=120, check=True, cwd=ROOT)
    assert status.stdout in stdout                   # the demo ends with exactly this
    # each state's details from the region's signed events, in both languages
    for words in ("需补正：户口簿首页复印件", "补正期限 2027-01-05", "物流单号 SF1234567890",
                  "tracking no. SF1234567890", "to add: 户口簿首页复印件"):
        assert words in status.stdout, words


def test_the_region_holds_two_versions_and_eight_signed_events(
        demo: tuple[Path, str]) -> None:
    out, _ = demo
    dbs = list((out / "regions").glob("*/region.db"))
    assert len(dbs) == 1
    with closing(sqlite3.connect(dbs[0])) as conn:
        assert conn.execute("SELECT COUNT(*) FROM packages").fetchone() == (2,)
        assert conn.execute("SELECT COUNT(*) FROM outgoing").fetchone() == (8,)
        assert conn.execute("SELECT state FROM transfers").fetchall() == [("collected",)]


def test_no_personal_data_on_the_output_or_in_the_kiosk_log(demo: tuple[Path, str]) -> None:
    out, stdout = demo
    log = (out / "data" / "kiosk.log").read_text(encoding="utf-8")
    assert "status" in log or "session" in log                # the log is really written
    for text in (stdout, log):
        assert DEMO_NAME not in text and DEMO_ID not in text and "13800138000" not in text


def test_without_a_broker_the_events_come_by_the_pull_feed(tmp_path: Path) -> None:
    """The demo's other way back (a machine without Mosquitto): `kiosk-region feed` and the
    kiosk's feed client, run in-process with ``mqtt=False``."""
    settings = load_settings(ROOT / "config" / "demo.toml")
    said: list[str] = []
    done = tracked.run(settings, "RS-YLZY-007", tmp_path, lambda zh, en: said.append(zh),
                       mqtt=False)
    assert done.events == 8 and len(said) == 9 and len(done.packages) == 2
    assert not (tmp_path / "broker").exists()                 # no broker was started
    ledger = Ledger(tmp_path / "data" / "ledger.sqlite")
    try:
        states = [state for state, _ in ledger.states(done.case_number)]
    finally:
        ledger.close()
    assert [s for s in states if s != "已送达办理地"] == STATES
