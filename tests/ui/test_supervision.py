"""Issue 26 acceptance: the real ``kiosk run`` (headless) under a real NOTIFY_SOCKET, as
systemd would run it: READY=1 once the attract screen is up, WATCHDOG=1 at half of
WATCHDOG_USEC while it lives, no ping once its UI thread hangs, STOPPING=1 and exit 0 on
SIGTERM; the next start after a kill knows the last run crashed."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kiosk_process import NotifyListener, run_settings, start_app, stop

WATCHDOG_USEC = 1_000_000          # WatchdogSec=1: a ping every 0.5 s
QUIET_S = 5.0                       # ten ping intervals: long enough to say "no ping"


def _pings_after_ready(listener: NotifyListener, count: int) -> None:
    listener.wait_for("READY=1")
    start = len(listener.states())
    while listener.states()[start:].count("WATCHDOG=1") < count:
        assert listener.receive(60) is not None, listener.messages


def test_ready_pings_and_stopping_on_sigterm(tmp_path: Path) -> None:
    listener = NotifyListener(tmp_path / "notify")
    app = start_app(run_settings(tmp_path), tmp_path / "notify", WATCHDOG_USEC,
                    tmp_path / "app.log")
    try:
        _pings_after_ready(listener, 3)
        states = listener.states()
        assert states.index("READY=1") < states.index("WATCHDOG=1")   # the watchdog starts at READY
        assert "STATUS=serving; previous run: first_start" in states
        app.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1")
        assert app.wait(120) == 0
    finally:
        stop(app)
        listener.close()
    marker = json.loads((tmp_path / "data" / "run-marker.json").read_text())
    assert marker["state"] == "ended" and marker["how"] == "clean"


def test_no_ping_once_the_ui_thread_hangs_and_the_next_start_knows(tmp_path: Path) -> None:
    settings = run_settings(tmp_path)
    listener = NotifyListener(tmp_path / "notify")
    log = tmp_path / "app.log"
    app = start_app(settings, tmp_path / "notify", WATCHDOG_USEC, log,
                    TONGBAN_TEST_HANG_SIGNAL="1")
    try:
        _pings_after_ready(listener, 2)
        app.send_signal(signal.SIGUSR2)            # a clock callback that never returns
        deadline = time.monotonic() + 60
        while "the UI thread hangs now" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "the hang did not start"
            listener.receive(0.2)
        while listener.receive(0.01) is not None:   # sent before the hang, still queued
            pass
        late = listener.receive(QUIET_S)
        assert late is None, f"a ping from a hung UI thread: {late}"
        assert app.poll() is None                  # alive but hung: systemd's case
    finally:
        stop(app)                                  # what systemd does after WatchdogSec
        listener.close()

    again = NotifyListener(tmp_path / "notify2")
    app = start_app(settings, tmp_path / "notify2", WATCHDOG_USEC, tmp_path / "app2.log")
    try:
        again.wait_for("READY=1")
        assert "STATUS=serving; previous run: crash" in again.states()
        app.send_signal(signal.SIGTERM)
        assert app.wait(120) == 0
    finally:
        stop(app)
        again.close()


def test_sigint_does_not_stop_the_app(tmp_path: Path) -> None:
    """Ctrl+C on a terminal, or SDL's quit on SIGINT: the app stays."""
    listener = NotifyListener(tmp_path / "notify")
    app = start_app(run_settings(tmp_path), tmp_path / "notify", WATCHDOG_USEC,
                    tmp_path / "app.log")
    try:
        _pings_after_ready(listener, 1)
        app.send_signal(signal.SIGINT)
        _pings_after_ready(listener, 4)            # still pinging: the UI thread runs on
        assert app.poll() is None and "STOPPING=1" not in listener.states()
    finally:
        stop(app, signal.SIGTERM)
        listener.close()


def test_the_nightly_window_restarts_the_idle_app(tmp_path: Path) -> None:
    """The window opens while the app runs idle: it ends with 75 (the unit restarts on it),
    and the next start says why. Waits for the wall clock's next minute (up to 2 minutes)."""
    now = datetime.now()
    start = (now + timedelta(seconds=100)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=2)
    if end.date() != now.date():
        pytest.skip("a window may not cross midnight: run this test at another time")
    window = f'nightly = "{start:%H:%M}-{end:%H:%M}"'
    settings = run_settings(tmp_path)
    settings.write_text(settings.read_text().replace('nightly = ""', window))
    listener = NotifyListener(tmp_path / "notify")
    app = start_app(settings, tmp_path / "notify", WATCHDOG_USEC, tmp_path / "app.log")
    try:
        listener.wait_for("READY=1")
        listener.wait_for("STOPPING=1", timeout=300)
        assert app.wait(120) == 75
    finally:
        stop(app)
        listener.close()
    marker = json.loads((tmp_path / "data" / "run-marker.json").read_text())
    assert marker["how"] == "nightly_restart"
    again = NotifyListener(tmp_path / "notify2")
    app = start_app(settings, tmp_path / "notify2", WATCHDOG_USEC, tmp_path / "app2.log")
    try:
        again.wait_for("READY=1")
        assert "STATUS=serving; previous run: nightly_restart" in again.states()
        _pings_after_ready(again, 2)      # started in the window: no second restart
        assert app.poll() is None
    finally:
        stop(app, signal.SIGTERM)
        again.close()
