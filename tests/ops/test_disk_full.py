"""Disk full, on a real full filesystem: a small tmpfs (mounted as root; skipped where this
process may not mount) holds the kiosk's data folder, and a filler file takes every last
block. A citizen who already confirmed still gets a committed package and a receipt; the
next citizen is refused with 暂停服务 and the fleet gets an alert; freeing space brings the
kiosk back."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from ops_citizen import confirmed_session

from kiosk.bootstrap import Kiosk, build_kiosk
from kiosk.demo.hand import DemoHand
from kiosk.errors import SessionError
from kiosk.fsutil import sha256_file
from kiosk.lifecycle import HEALTH_TOPIC, KioskState, Reason
from kiosk.ops.disk import RESERVE_FILE
from kiosk.ops_settings import Resources
from kiosk.service import KioskService
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
FS_MB = 24


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_MB}m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(path: Path) -> int:
    """Write until the filesystem refuses: ENOSPC, a real full disk. Bytes written."""
    written, block = 0, b"\0" * 65536
    with path.open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
        for size in (4096, 512, 1):          # the last partial blocks too
            while True:
                try:
                    written += f.write(b"\0" * size)
                except OSError:
                    break
    return written


def kiosk_on(data: Path, floor_mb: float, reserve_mb: float) -> Kiosk:
    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(data)
    settings = settings.model_copy(update={"resources": Resources(
        disk_floor_mb=floor_mb, disk_reserve_mb=reserve_mb)})
    return build_kiosk(settings)


def test_full_disk_commits_the_confirmed_package_and_refuses_the_next_session(
        small_fs: Path) -> None:
    data = small_fs / "data"
    kiosk = kiosk_on(data, floor_mb=8, reserve_mb=4)
    alerts: list[dict[str, str]] = []
    kiosk.bus.subscribe(HEALTH_TOPIC, lambda _t, p: alerts.append(p))
    service = KioskService(kiosk)
    hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer)
    try:
        kiosk.open(datetime.now())
        assert (data / RESERVE_FILE).stat().st_blocks * 512 >= 4 * 2**20
        session = confirmed_session(service, hand)
        filled = fill(small_fs / "filler")          # someone else fills the disk meanwhile
        assert filled > 0 and os.statvfs(small_fs).f_bavail == 0

        submitted = service.submit(session)         # the reserve makes room for the commit

        entries = [e for e in kiosk.outbox.entries() if e.package_id == submitted.package_id]
        assert entries, "the package is in the outbox"
        for entry in entries:
            spooled = data / "outbox" / "spool" / entry.file_name
            assert sha256_file(spooled) == entry.sha256 and spooled.stat().st_size == entry.size
        assert submitted.printed
        session.finish()

        with pytest.raises(SessionError) as refused:   # no room for the next citizen's
            service.start_session()
        assert refused.value.code == "kiosk_unavailable"
        assert refused.value.zh.startswith("暂停服务")
        assert service.state() == (KioskState.UNAVAILABLE, Reason.DISK_FULL)
        assert [a["code"] for a in alerts] == ["disk_low"]

        (small_fs / "filler").unlink()               # a technician frees the disk
        service.start_session().cancel()
        assert (data / RESERVE_FILE).stat().st_blocks * 512 >= 4 * 2**20
        assert [e.package_id for e in kiosk.outbox.entries()] == [submitted.package_id]
    finally:
        kiosk.close()


def test_below_the_floor_at_start_up_no_session_starts(small_fs: Path) -> None:
    kiosk = kiosk_on(small_fs / "data", floor_mb=FS_MB * 2, reserve_mb=1)   # never enough
    try:
        kiosk.open(datetime.now())
        assert kiosk.lifecycle.state is KioskState.UNAVAILABLE
        assert kiosk.lifecycle.reason is Reason.DISK_FULL
        assert [a["code"] for a in kiosk.lifecycle.alerts] == ["disk_low"]
    finally:
        kiosk.close()
