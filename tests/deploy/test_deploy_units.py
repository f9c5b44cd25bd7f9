"""The kiosk PC's systemd units: they pass ``systemd-analyze verify`` as installed, and they
say what the other parts rely on (the app's entry point and watchdog, the restart limit
and the pause screen after it, the nightly job)."""

from __future__ import annotations

import configparser
import os
import socket
import subprocess
from pathlib import Path

import pytest
from deploy_rig import DEPLOY, Verify, needs_root, stub_venv

UNITS = DEPLOY / "systemd"
SETTINGS = "--settings /etc/tongban-kiosk/settings.toml"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str          # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def installed_units(root: Path) -> list[Path]:
    return sorted((root / "etc/systemd/system").glob("tongban-kiosk*"))


@needs_root
def test_every_installed_unit_passes_systemd_analyze_verify(installed: Path,
                                                            verify: Verify) -> None:
    stub_venv(installed)
    units = installed_units(installed)
    assert len(units) == len(list(UNITS.iterdir())) == 5
    done = verify(installed, units)
    # verify exits 0 on warnings such as an unknown key: any output at all is a finding.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@needs_root
def test_verify_finds_a_misspelt_key_and_a_missing_program(installed: Path,
                                                           verify: Verify) -> None:
    """The check above can fail: without the venv, and with a key misspelt."""
    app = installed / "etc/systemd/system/tongban-kiosk.service"
    app.write_text(app.read_text().replace("WatchdogSec=", "WatchdogSecs="))
    done = verify(installed, [app])
    assert "WatchdogSecs" in done.stderr
    assert "/opt/tongban-kiosk/current/venv/bin/kiosk is not executable" in done.stderr


def test_the_app_runs_the_production_entry_under_a_watchdog() -> None:
    service = unit("tongban-kiosk.service")["Service"]
    assert service["ExecStart"] == f"/opt/tongban-kiosk/current/venv/bin/kiosk run {SETTINGS}"
    assert (service["Type"], service["NotifyAccess"]) == ("notify", "main")
    assert 0 < int(service["WatchdogSec"]) <= 60
    assert service["Restart"] == "on-failure"
    assert service["User"] == "kiosk"


def test_restarts_are_limited_and_then_the_pause_screen_shows() -> None:
    app = unit("tongban-kiosk.service")["Unit"]
    assert int(app["StartLimitBurst"]) >= 2 and int(app["StartLimitIntervalSec"]) > 0
    assert app["OnFailure"] == "tongban-kiosk-paused.service"
    assert app["Conflicts"] == "tongban-kiosk-paused.service"   # a start takes it down
    paused = unit("tongban-kiosk-paused.service")
    assert paused["Unit"]["Conflicts"] == "tongban-kiosk.service"
    assert "-m screens.paused" in paused["Service"]["ExecStart"]


def test_staff_exit_to_the_desktop_is_neither_restarted_nor_a_failure() -> None:
    from kiosk.ops.power import EXIT_POWER_OFF
    from kiosk.staff.session import EXIT_TO_DESKTOP
    from kiosk.supervision.nightly import RESTART_EXIT

    service = unit("tongban-kiosk.service")["Service"]
    assert len({RESTART_EXIT, EXIT_POWER_OFF, EXIT_TO_DESKTOP}) == 3
    prevented = service["RestartPreventExitStatus"].split()
    assert str(EXIT_TO_DESKTOP) in prevented and str(EXIT_POWER_OFF) in prevented
    assert service["SuccessExitStatus"].split() == [str(EXIT_TO_DESKTOP)]   # no OnFailure=
    assert str(RESTART_EXIT) not in prevented


def test_the_nightly_job_is_a_oneshot_on_a_timer() -> None:
    job = unit("tongban-kiosk-nightly.service")["Service"]
    assert job["Type"] == "oneshot"
    assert job["ExecStart"].endswith(f"kiosk maintenance nightly {SETTINGS}")
    timer = unit("tongban-kiosk-nightly.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_display_logs_the_kiosk_user_in_on_tty1() -> None:
    display = unit("tongban-kiosk-display.service")
    assert display["Service"]["PAMName"] == "tongban-kiosk"
    assert display["Service"]["TTYPath"] == "/dev/tty1"
    assert display["Service"]["User"] == "kiosk"
    assert "getty@tty1.service" in display["Unit"]["Conflicts"]
    assert (DEPLOY / "pam" / display["Service"]["PAMName"]).is_file()


@pytest.mark.parametrize("server", ["listening", "stale", "none"])
def test_wait_display_waits_for_a_server_that_answers(tmp_path: Path, server: str) -> None:
    """A socket file a crashed X server left behind is not a display."""
    path = tmp_path / "X0"
    with socket.socket(socket.AF_UNIX) as listener:
        if server != "none":
            listener.bind(str(path))
        if server == "listening":
            listener.listen(1)
        done = subprocess.run([str(DEPLOY / "bin/wait-display"), ":0", "0.3"],
                              env={**os.environ, "X11_SOCKET_DIR": str(tmp_path)},
                              capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == (0 if server == "listening" else 1), done.stderr
