"""The UPS through Network UPS Tools' protocol: Debian's real upsd with the dummy-ups driver
where nut-server is installed (and we are root), and the protocol rig on loopback always.

On battery the running session finishes and no new one starts (暂停服务); a low battery, or
a runtime under the minimum, shuts the kiosk down cleanly and asks for a poweroff (here a
harmless command that leaves a mark, not ``systemctl poweroff``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.errors import ConfigError, SessionError
from kiosk.lifecycle import KioskState, Reason
from kiosk.ops.power import EXIT_POWER_OFF, NutClient, PowerWatch, UpsError, Verdict, power_off
from kiosk.ops_settings import Power
from kiosk.service import KioskService
from kiosk.settings import load_settings
from rigs.nut_rig import FakeUpsd, NutServer, nut_installed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["nut-server", "protocol-rig"])
def ups(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "nut-server":
        if not nut_installed():
            pytest.skip("Debian's nut-server is not installed here (or not root)")
        rig: Any = NutServer()
    else:
        rig = FakeUpsd()
    try:
        yield rig
    finally:
        rig.close()


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path / "data")
    k = build_kiosk(settings)
    k.open(datetime.now())
    try:
        yield k
    finally:
        k.close()


def watch_for(ups: Any, kiosk: Kiosk, calls: list[str], **power: Any) -> PowerWatch:
    settings = Power(ups_host="127.0.0.1", ups_port=ups.port, ups_name=ups.ups, timeout_s=2,
                     **power)
    return PowerWatch(settings, lambda: kiosk.lifecycle, lambda: calls.append("shut_down"))


def test_on_battery_finishes_the_session_then_starts_no_new_one(ups: Any,
                                                                kiosk: Kiosk) -> None:
    calls: list[str] = []
    watch = watch_for(ups, kiosk, calls)
    service = KioskService(kiosk)
    assert watch.check() is Verdict.MAINS
    session = service.start_session()

    ups.set("OB", runtime=1500, charge=90)            # mains gone, plenty of battery
    assert watch.check() is Verdict.ON_BATTERY
    assert kiosk.lifecycle.state is KioskState.ACTIVE   # the citizen is not cut off
    service.choose(session, service.matter("GA-HJZM-001"))
    session.cancel()                                   # their session ends as they end it

    assert service.state() == (KioskState.UNAVAILABLE, Reason.ON_BATTERY)
    with pytest.raises(SessionError) as refused:
        service.start_session()
    assert refused.value.zh.startswith("暂停服务")
    assert calls == [] and "on_battery" in [a["code"] for a in kiosk.lifecycle.alerts]

    ups.set("OL", runtime=1800, charge=100)            # mains back
    assert watch.check() is Verdict.MAINS
    service.start_session().cancel()
    service.close()


@pytest.mark.parametrize("status,runtime", [("OB LB", 900), ("OB", 60)])
def test_low_battery_or_short_runtime_shuts_down_cleanly(ups: Any, kiosk: Kiosk,
                                                         tmp_path: Path, status: str,
                                                         runtime: int) -> None:
    calls: list[str] = []
    mark = tmp_path / "poweroff-requested"
    command = (sys.executable, "-c", f"open({str(mark)!r}, 'w').write('off')")
    watch = watch_for(ups, kiosk, calls, min_runtime_s=180, shutdown_command=command)
    ups.set(status, runtime=runtime, charge=8)
    assert watch.check() is Verdict.SHUT_DOWN
    assert watch.check() is Verdict.SHUT_DOWN
    assert calls == ["shut_down"]                     # once, however often it is seen
    assert kiosk.lifecycle.reason is Reason.ON_BATTERY
    kiosk.close()                                     # what the composition root does next
    assert power_off(watch.power) == EXIT_POWER_OFF
    assert mark.read_text() == "off"


def test_an_unreachable_upsd_is_reported_and_changes_nothing(kiosk: Kiosk) -> None:
    with FakeUpsd() as rig:
        port = rig.port                               # a port nothing listens on any more
    calls: list[str] = []
    watch = PowerWatch(Power(ups_host="127.0.0.1", ups_port=port, timeout_s=1),
                       lambda: kiosk.lifecycle, lambda: calls.append("shut_down"))
    assert watch.check() is Verdict.UNKNOWN
    assert kiosk.lifecycle.state is KioskState.AVAILABLE and calls == []
    assert [a["code"] for a in kiosk.lifecycle.alerts] == ["ups_unreachable"]


def test_hostile_or_wrong_answers_are_bounded_errors() -> None:
    with FakeUpsd() as rig:
        client = NutClient("127.0.0.1", rig.port, 2)
        with pytest.raises(UpsError, match="ERR UNKNOWN-UPS"):
            client.list_vars("other")
        rig.mode = "garbage"                          # one 100 KB line
        with pytest.raises(UpsError):
            client.list_vars(rig.ups)
        rig.mode = "silent"
        with pytest.raises(UpsError):
            NutClient("127.0.0.1", rig.port, 0.5).list_vars(rig.ups)


@pytest.mark.parametrize("bad", [{"ups_name": "my ups"}, {"ups_port": 0},
                                 {"ups_host": "bad host;rm"}, {"shutdown_command": ()},
                                 {"min_runtime_s": -1}])
def test_power_settings_are_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Power(**bad)


def test_a_bad_power_section_names_its_key(tmp_path: Path) -> None:
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    path = tmp_path / "kiosk.toml"
    text = text.replace('"../', f'"{ROOT}/').replace('"catalogue.yaml"',
                                                     f'"{ROOT}/config/catalogue.yaml"')
    path.write_text(text + '\n[power]\nups_host = "127.0.0.1"\nups_port = 99999\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    assert "ups_port" in str(refused.value)


def test_the_app_shuts_down_on_low_battery_with_the_no_restart_status(tmp_path: Path) -> None:
    """The real ``kiosk demo`` program, headless: UPS low → the app stops, the kiosk closes,
    the poweroff command runs, the process exits with EXIT_POWER_OFF; its log is written."""
    mark = tmp_path / "poweroff-requested"
    data = tmp_path / "data"
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "../var/demo"', f'data_dir = "{data}"')
    text = text.replace('out = "../paper"', f'out = "{tmp_path / "paper"}"')
    text = text.replace('"../', f'"{ROOT}/').replace('catalogue = "catalogue.yaml"',
                                                     f'catalogue = "{ROOT}/config/catalogue.yaml"')
    with FakeUpsd() as rig:
        command = json.dumps([sys.executable, "-c", f"open({str(mark)!r}, 'w').write('off')"])
        settings = tmp_path / "kiosk.toml"
        settings.write_text(text + f'\n[power]\nups_host = "127.0.0.1"\nups_port = {rig.port}\n'
                            f'ups_name = "{rig.ups}"\npoll_s = 0.5\nshutdown_command = '
                            f'{command}\n', encoding="utf-8")
        env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
               "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_LOG_MODE": "PYTHON"}
        app = subprocess.Popen([sys.executable, "-c", "import sys; from screens.launch import "
                                f"main; sys.exit(main(['demo', '--settings', {str(settings)!r}]))"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 240           # a bound, not a measurement
            while len(rig.questions) < 2 and app.poll() is None:
                assert time.monotonic() < deadline, "the app never asked the UPS"
                time.sleep(0.2)
            rig.set("OB LB", runtime=100, charge=5)
            status = app.wait(timeout=240)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
        assert status == EXIT_POWER_OFF, app.stderr.read().decode()[-2000:] if app.stderr \
            else status
    assert mark.read_text() == "off"
    log = (data / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert "battery" in log or "UPS" in log
