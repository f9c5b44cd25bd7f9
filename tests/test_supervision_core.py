"""The supervision core without Kivy: the sd_notify client on a real datagram socket, the
watchdog interval, device-worker heartbeats on real executors, the run marker, and
``kiosk maintenance run-ended`` as systemd's ExecStopPost runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.supervision.liveness import Liveness
from kiosk.supervision.notify import Notifier, watchdog_interval_s
from kiosk.supervision.runmarker import PreviousRun, RunMarker
from kiosk.supervision.watchdog import Supervisor

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(5)
    yield sock
    sock.close()


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_notifier_sends_one_datagram_per_call(tmp_path: Path, listener: socket.socket) -> None:
    notifier = Notifier(str(tmp_path / "notify"))
    assert notifier.notify("READY=1", "STATUS=serving")
    assert listener.recv(4096) == b"READY=1\nSTATUS=serving"


def test_notifier_abstract_namespace() -> None:
    name = f"tongban-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        assert Notifier("@" + name).notify("WATCHDOG=1")
        assert sock.recv(4096) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_notifier_off_without_socket_and_quiet_when_nobody_listens(tmp_path: Path) -> None:
    assert not Notifier("").enabled and not Notifier("").notify("READY=1")
    assert not Notifier(str(tmp_path / "gone")).notify("READY=1")     # no raise


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "junk"}) is None
    mine = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval_s(mine) == 1.0
    assert watchdog_interval_s({**mine, "WATCHDOG_PID": "1"}) is None   # for another process


def test_a_stuck_device_worker_stops_the_pings(tmp_path: Path, listener: socket.socket) -> None:
    clock, release = Clock(), threading.Event()
    printer = ThreadPoolExecutor(max_workers=1)
    try:
        liveness = Liveness(lambda: {"receipt_printer": printer}, clock, stall_s=120)
        marker = RunMarker(tmp_path)
        marker.begin(datetime(2026, 12, 7, 3, 0))
        supervisor = Supervisor(Notifier(str(tmp_path / "notify")), liveness, marker, 0.5)
        supervisor.ready(PreviousRun("first_start"))
        listener.recv(4096)
        assert supervisor.tick() and listener.recv(4096) == b"WATCHDOG=1"
        printer.submit(release.wait)           # a driver call that never returns
        for _ in range(3):      # the probe waits behind the stuck call; within stall_s: alive
            clock.now += 30
            assert supervisor.tick()
        clock.now += 60         # 120 s and the probe has not run: stuck in the driver
        assert not supervisor.tick()
        assert supervisor.withheld == ["worker receipt_printer stalled 120s"]
        release.set()
        printer.submit(lambda: None).result(timeout=5)
        assert not supervisor.tick()      # once found dead, stays unpinged until restarted
        assert marker.previous().cause == "watchdog"
    finally:
        release.set()
        printer.shutdown()


def test_a_dead_background_thread_stops_the_pings() -> None:
    done = threading.Event()
    worker = threading.Thread(target=done.wait, name="uploader")
    worker.start()
    liveness = Liveness(dict, Clock(), threads=("uploader", "status-poll"))
    assert liveness.problems() == []          # status-poll never ran here: not required
    done.set()
    worker.join()
    assert liveness.problems() == []          # once: a configuration swap replacing it
    assert liveness.problems() == ["thread uploader died"]


def test_run_marker_causes(tmp_path: Path) -> None:
    marker = RunMarker(tmp_path)
    assert marker.begin(datetime(2026, 12, 7, 8)).cause == "first_start"
    assert marker.begin(datetime(2026, 12, 7, 9)).cause == "crash"     # never ended
    marker.end("nightly_restart")
    assert marker.begin(datetime(2026, 12, 7, 10)).cause == "nightly_restart"
    marker.end()
    assert marker.begin(datetime(2026, 12, 7, 11)).cause == "clean"
    marker.path.write_bytes(b"\x00{torn")
    assert marker.previous().cause == "crash"
    marker.path.write_bytes(b"[" * 10_000)
    assert marker.previous().cause == "crash"


def test_run_ended_records_systemds_verdict(tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    settings.write_text(text.replace('"../', f'"{ROOT}/').replace(
        'data_dir = "{ROOT}/var/demo"'.replace("{ROOT}", str(ROOT)),
        f'data_dir = "{tmp_path}/data"').replace(
        'catalogue = "catalogue.yaml"', f'catalogue = "{ROOT}/config/catalogue.yaml"'),
        encoding="utf-8")
    RunMarker(tmp_path / "data").begin(datetime(2026, 12, 7, 3))
    env = {**os.environ, "SERVICE_RESULT": "watchdog", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "kiosk", "maintenance", "run-ended",
                           "--settings", str(settings)], env=env, capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    previous = RunMarker(tmp_path / "data").previous()
    assert (previous.cause, previous.detail) == ("watchdog", "watchdog")


def test_a_reader_that_lags_never_blocks_the_sender(tmp_path: Path,
                                                    listener: socket.socket) -> None:
    """The sender is the UI thread: a full notify socket drops pings, it does not hang."""
    notifier = Notifier(str(tmp_path / "notify"))
    sent = [notifier.notify("WATCHDOG=1") for _ in range(5000)]   # nobody reads meanwhile
    assert sent[0] and not sent[-1]
    assert listener.recv(4096) == b"WATCHDOG=1"
