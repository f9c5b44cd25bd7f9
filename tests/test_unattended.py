"""Issue 26, the kiosk PC's unattended side without a screen: ``kiosk run`` refusing a bad
settings file, the hall's hours (holidays, 调休 working days, when it opens next), the
nightly window and ``kiosk maintenance nightly``, and the restart cause in the heartbeat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.bus import EventBus
from kiosk.fleet.status import OutboxHealth, build_status
from kiosk.hours import is_open, next_opening, open_on
from kiosk.lifecycle import Lifecycle, Reason
from kiosk.settings import Hours, load_settings
from kiosk.supervision.maintenance import check_devices
from kiosk.supervision.nightly import restart_due
from kiosk.supervision.runmarker import RunMarker

ROOT = Path(__file__).resolve().parents[1]
# 2026: 国庆 holiday 10-01 to 10-08 (a Thursday to a Thursday); Sunday 09-28 and Saturday
# 10-10 are 调休 working days
HALL = Hours(open=time(9), close=time(17), closed_weekdays=(5, 6),
             closed_dates=tuple(date(2026, 10, d) for d in range(1, 9)),
             open_dates=(date(2026, 9, 28), date(2026, 10, 10)), nightly="03:00-04:00")


def settings_file(folder: Path, retention_days: int = 30) -> Path:
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('"../assets', f'"{ROOT}/assets')
    text = text.replace('catalogue = "catalogue.yaml"',
                        f'catalogue = "{ROOT}/config/catalogue.yaml"')
    text = text.replace('data_dir = "../var/demo"', f'data_dir = "{folder}/data"')
    text = text.replace("retention_days = 30", f"retention_days = {retention_days}")
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "screens", *args], env=environ,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


# --- kiosk run --------------------------------------------------------------------------
def test_run_refuses_a_bad_settings_file_in_both_languages(tmp_path: Path) -> None:
    path = settings_file(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert 'nightly = ""' in text
    path.write_text(text.replace('nightly = ""', 'nightly = "04:00-03:00"'), encoding="utf-8")
    done = kiosk("run", "--settings", str(path), env={"SDL_VIDEODRIVER": "offscreen"})
    assert done.returncode == 2
    assert "kiosk.toml:" in done.stderr and "hours" in done.stderr
    assert "结束早于开始" in done.stderr and "ends before it starts" in done.stderr
    assert "Traceback" not in done.stderr
    missing = kiosk("run", "--settings", str(tmp_path / "nowhere.toml"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_run_without_a_display_is_a_typed_error(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    done = subprocess.run([sys.executable, "-m", "screens", "run", "--settings",
                           str(settings_file(tmp_path))], env={**environ,
                          "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 2
    assert "没有图形显示" in done.stderr and "No display" in done.stderr


# --- hours ------------------------------------------------------------------------------
def test_holidays_and_adjusted_working_days() -> None:
    assert open_on(HALL, date(2026, 9, 30))                # Wednesday
    assert not open_on(HALL, date(2026, 10, 5))            # Monday, 国庆
    assert open_on(HALL, date(2026, 9, 28))                # Sunday, 调休
    assert not open_on(HALL, date(2026, 10, 11))           # Sunday
    assert is_open(HALL, datetime(2026, 10, 10, 9, 30))    # Saturday, 调休
    assert not is_open(HALL, datetime(2026, 9, 30, 17, 30))


def test_next_opening_skips_the_holiday_week() -> None:
    assert next_opening(HALL, datetime(2026, 9, 30, 18)) == datetime(2026, 10, 9, 9)
    assert next_opening(HALL, datetime(2026, 10, 9, 8)) == datetime(2026, 10, 9, 9)
    never = Hours(closed_weekdays=(0, 1, 2, 3, 4, 5, 6))
    assert next_opening(never, datetime(2026, 10, 9, 8)) is None


def test_the_lifecycle_closes_on_a_holiday() -> None:
    lifecycle = Lifecycle(EventBus(), HALL)
    lifecycle.evaluate(datetime(2026, 10, 6, 10))
    assert lifecycle.reason is Reason.OUTSIDE_HOURS


@pytest.mark.parametrize("hours, problem", [
    ({"open": time(18), "close": time(9)}, "open must be before"),
    ({"closed_dates": [date(2026, 10, 1)], "open_dates": [date(2026, 10, 1)]}, "both"),
    ({"nightly": "3:00-4:00"}, "not HH:MM-HH:MM"),
    ({"nightly": "23:30-00:30"}, "over midnight"),
    ({"maintenance": ["25:00-26:00"]}, "not HH:MM-HH:MM"),
])
def test_hours_are_validated(hours: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Hours.model_validate(hours)


# --- the nightly window -----------------------------------------------------------------
def test_restart_once_in_the_window() -> None:
    started = datetime(2026, 12, 6, 9)
    assert not restart_due("03:00-04:00", started, datetime(2026, 12, 7, 2, 59))
    assert restart_due("03:00-04:00", started, datetime(2026, 12, 7, 3, 0))
    assert restart_due("03:00-04:00", started, datetime(2026, 12, 7, 3, 59))   # was busy
    assert not restart_due("03:00-04:00", datetime(2026, 12, 7, 3, 1),
                           datetime(2026, 12, 7, 3, 30))      # this process: already fresh
    assert not restart_due("03:00-04:00", started, datetime(2026, 12, 7, 4, 0))
    assert not restart_due("", started, datetime(2026, 12, 7, 3, 30))


def test_nightly_purges_delivered_packages_past_retention(tmp_path: Path) -> None:
    demo = kiosk("demo", "--headless", "--settings", str(settings_file(tmp_path)), "--out",
                 str(tmp_path))
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout)["delivered"]                  # a package, delivered
    packages = list((tmp_path / "data" / "outbox" / "spool").iterdir())
    assert packages                                              # kept for the retention
    path = settings_file(tmp_path, retention_days=0)             # ... which is now over
    done = kiosk("maintenance", "nightly", "--settings", str(path))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["purge"]["purged"] == 1 and report["purge"]["counts"]["purged"] == 1
    assert not any(p.exists() for p in packages)                 # the ciphertext is gone
    assert report["devices"]["receipt_printer"]["status"] == "online"   # checked here
    assert set(report["logs"]) == {"kept_bytes", "removed"} and report["upload"] == "no_broker"
    written = list((tmp_path / "data" / "diagnostics").glob("nightly-*.json"))
    assert len(written) == 1 and json.loads(written[0].read_text())["purge"]["purged"] == 1
    again = json.loads(kiosk("maintenance", "nightly", "--settings", str(path)).stdout)
    assert again["purge"]["purged"] == 0


def test_nightly_leaves_the_devices_to_a_running_app(tmp_path: Path) -> None:
    settings = load_settings(settings_file(tmp_path))
    RunMarker(settings.paths.data_dir).begin(datetime.now())    # this process: alive
    assert check_devices(settings) == {"checked_by": "app"}


# --- the restart in the heartbeat -------------------------------------------------------
def test_status_reports_how_the_last_run_ended(tmp_path: Path) -> None:
    marker = RunMarker(tmp_path)
    marker.begin(datetime(2026, 12, 7, 8))
    restart = marker.begin(datetime(2026, 12, 7, 9)).as_dict()
    status = build_status(kiosk_id="510802-0001", config={}, state="available", reason=None,
                          devices={}, outbox=OutboxHealth(0, None, 0), disk_mb=1, alerts={},
                          restart=restart)
    assert status["restart"] == {"cause": "crash", "detail": "", "session_interrupted": False,
                                 "started_at": "2026-12-07T08:00:00"}


def test_a_crash_during_a_session_is_told_apart(tmp_path: Path) -> None:
    marker = RunMarker(tmp_path)
    marker.begin(datetime(2026, 12, 7, 8))
    marker.note(session=True)                 # the app notes it on the lifecycle's ACTIVE
    assert marker.begin(datetime(2026, 12, 7, 9)).session_interrupted
    marker.note(session=True)
    marker.note(session=False)                # the session ended before the crash
    previous = marker.begin(datetime(2026, 12, 7, 10))
    assert previous.cause == "crash" and not previous.session_interrupted
