"""The kiosk's log files: rotated at a size, capped in total, never holding personal data.

``install_log_file(settings)`` is called once by the program that runs the kiosk (``kiosk
run``): the root logger writes to ``<log_dir>/kiosk.log`` (owner-only), rolled over at
``resources.log_file_mb`` with as many old files kept as fit under ``log_total_mb``, every
record passed through the redacting filter (kiosk/privacy.py) first.
``rotate_logs(settings)`` is the nightly job's: roll the file over (when this process writes
it) and delete the oldest log files until all of them fit under the cap again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from kiosk.fsutil import owner_only_dir, private_file
from kiosk.ops_settings import MIB, Resources
from kiosk.privacy import RedactingFilter
from kiosk.settings import Settings

LOG_NAME = "kiosk.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir(settings: Settings) -> Path:
    return settings.resources.logs(settings.paths.data_dir)


def backups(resources: Resources) -> int:
    """Old files kept beside the current one so that all of them fit in the total cap."""
    return max(1, int(resources.log_total_mb // resources.log_file_mb) - 1)


class KioskLogFile(RotatingFileHandler):
    """A rotating file handler whose files are created owner-only (mode 0600)."""

    def _open(self):  # type: ignore[no-untyped-def]
        private_file(Path(self.baseFilename))
        return super()._open()


def install_log_file(settings: Settings, level: int = logging.INFO) -> KioskLogFile:
    """Send the root logger to the kiosk's rotating, redacted log file (once per process)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, KioskLogFile):
            return handler
    folder = log_dir(settings)
    owner_only_dir(folder)
    r = settings.resources
    handler = KioskLogFile(folder / LOG_NAME, maxBytes=int(r.log_file_mb * MIB),
                           backupCount=backups(r), encoding="utf-8")
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    logging.getLogger("fontTools").setLevel(logging.WARNING)   # fpdf2 subsetting chatter
    return handler


@dataclass(frozen=True)
class Pruned:
    kept_bytes: int
    removed: tuple[str, ...]        # file names (no paths: they go into reports)

    def as_dict(self) -> dict[str, object]:
        return {"kept_bytes": self.kept_bytes, "removed": list(self.removed)}


def rotate_logs(settings: Settings) -> Pruned:
    """The nightly job: roll the current file over if this process writes it, then prune
    the folder to ``resources.log_total_mb``. Another process (``kiosk maintenance nightly``
    beside a running app) only prunes: renaming a file the app writes would lose its lines."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, KioskLogFile) and Path(handler.baseFilename).parent == \
                log_dir(settings):
            handler.doRollover()
    return prune_logs(log_dir(settings), int(settings.resources.log_total_mb * MIB))


def prune_logs(folder: Path, cap_bytes: int) -> Pruned:
    """Delete the oldest log files (``*.log``, ``*.log.N``) until the rest fit in
    ``cap_bytes``; the file being written (``kiosk.log``) is never deleted."""
    if not folder.is_dir():
        return Pruned(0, ())
    files = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()
             and (p.suffix == ".log" or ".log." in p.name)]
    stats = {p: p.stat() for p in files}
    total = sum(s.st_size for s in stats.values())
    removed = []
    for path in sorted(files, key=lambda p: stats[p].st_mtime):     # oldest first
        if total <= cap_bytes:
            break
        if path.name == LOG_NAME:
            continue
        os.unlink(path)
        total -= stats[path].st_size
        removed.append(path.name)
    return Pruned(total, tuple(removed))
