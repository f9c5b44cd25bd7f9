"""The disk floor and the commit reserve.

A citizen who pressed 提交 must get a committed package and a receipt even when the disk
filled up during their session (a runaway log, another program, a long outage of the region
filling the outbox). Two rules make that so:

- the floor: below ``resources.disk_floor_mb`` free, no new session starts (the lifecycle
  shows 暂停服务 with the reason, and the fleet gets a ``disk_low`` alert);
- the reserve: a file of ``resources.disk_reserve_mb`` real blocks (fallocate) is kept in the
  data folder and deleted just before a commit, so the commit has that much room even on a
  disk that is otherwise full; it is taken again afterwards, and a kiosk that cannot take it
  back is below its floor by definition.
The reserve must exceed the largest package times its receiving regions (a demo package is
about 0.8 MB; default 64 MB).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from kiosk.lifecycle import Lifecycle, Reason
from kiosk.ops_settings import MIB, Resources

RESERVE_FILE = ".commit-reserve"
log = logging.getLogger(__name__)


class DiskGuard:
    def __init__(self, data_dir: Path, resources: Resources) -> None:
        self.data_dir = data_dir
        self.reserve = data_dir / RESERVE_FILE
        self.floor = int(resources.disk_floor_mb * MIB)
        self.reserve_bytes = int(resources.disk_reserve_mb * MIB)
        self._lock = threading.Lock()        # one commit at a time holds the reserve off

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.data_dir).free

    def reserve_held(self) -> bool:
        if self.reserve_bytes == 0:
            return True
        try:
            st = self.reserve.stat()
        except FileNotFoundError:
            return False
        return st.st_blocks * 512 >= self.reserve_bytes    # allocated, not a sparse hole

    def take_reserve(self) -> bool:
        """Allocate the reserve file (again); False when the disk has no room for it. Not
        while a commit runs: the room is the commit's."""
        if not self._lock.acquire(blocking=False):
            return self.reserve_held()
        try:
            return self._take()
        finally:
            self._lock.release()

    def _take(self) -> bool:
        if self.reserve_bytes == 0 or self.reserve_held():
            return True
        try:
            fd = os.open(self.reserve, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            with suppress(FileNotFoundError):
                self.reserve.unlink()     # half a reserve holds space and promises nothing
            log.warning("commit reserve could not be taken: the disk is full")
            return False
        return True

    def below_floor(self) -> bool:
        """No new session may start: too little free space, or no reserve for its commit."""
        return self.free_bytes() < self.floor or not self.reserve_held()

    @contextmanager
    def for_commit(self) -> Iterator[None]:
        """Release the reserve for the commit inside; take it again afterwards."""
        with self._lock:
            with suppress(FileNotFoundError):
                self.reserve.unlink()
            try:
                yield
            finally:
                self._take()

    def report(self) -> dict[str, object]:
        """For the heartbeat and ``kiosk doctor``: no paths, only sizes."""
        return {"free_mb": self.free_bytes() // MIB, "floor_mb": self.floor // MIB,
                "reserve_mb": self.reserve_bytes // MIB, "reserve_held": self.reserve_held()}


def apply_floor(guard: DiskGuard, lifecycle: Lifecycle, now: datetime) -> bool:
    """Take the reserve back if there is room, then stop or allow new sessions; a kiosk that
    goes below its floor raises a ``disk_low`` alert (the heartbeat counts it). True: below."""
    guard.take_reserve()
    low = guard.below_floor()
    if lifecycle.set_condition(Reason.DISK_FULL, low, now) and low:
        report = guard.report()
        log.warning("disk below its floor: %s", report)
        lifecycle.alert("disk_low", {
            "free_mb": str(report["free_mb"]), "floor_mb": str(report["floor_mb"]),
            "zh": "存储空间低于下限，已暂停受理新业务",
            "en": "free disk space is below the floor: no new session starts"})
    return low
