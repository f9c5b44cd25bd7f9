"""The region directory's own channel: two TUF targets beside the kiosks' bundles, so a
directory update reaches every kiosk without rebuilding a bundle, verified the same way.

``directory/regions.json``      the directory (kiosk/routing/directory_format.py)
``directory/revocations.json``  keys revoked since, published fast and apart

Each poll (after the bundle's check, on the same refreshed TUF metadata) a newer version of
either is downloaded (TUF checks its signed hash and length), read with the directory's own
limits, checked to name this fleet and the version its signed entry says, then written to
``<data_dir>/fleet/directory/`` and used at once. Anything refused leaves the last good
copy in use — the kiosk keeps routing with it — and is raised once as a ``directory_refused``
alert; the heartbeat's ``config.directory`` says which versions are in use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.fleet.client import ConfigClient
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import write_atomic
from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import (
    Directory,
    DirectoryError,
    Revocations,
    parse_directory,
    parse_revocations,
)

log = logging.getLogger(__name__)
REGIONS_TARGET = "directory/regions.json"
REVOCATIONS_TARGET = "directory/revocations.json"
ALERT = "directory_refused"
Alert = Callable[[str, dict[str, str]], None]


class DirectoryChannel:
    def __init__(self, folder: Path, *, fleet: str, suite: Callable[[], str]) -> None:
        """``suite``: the running kiosk's ``transfer.suite`` (a bundle may change it)."""
        self.folder, self.fleet, self._suite = folder, fleet, suite
        self._lock = threading.Lock()
        self._directory: Directory | None = None
        self._revocations: Revocations | None = None
        self._current: RegionDirectory | None = None
        self.refused: dict[str, Any] | None = None   # this round's refusal: target, code, at
        self._codes: dict[str, str] = {}     # target → the code alerted (once per reason)
        self._load()

    def current(self) -> RegionDirectory | None:
        """The verified directory in use (a RegionDirectoryLookup), or None: none yet."""
        with self._lock:
            suite = self._suite()
            if self._directory is None:
                return None
            if self._current is None or self._current.suite != suite:
                revoked = self._revocations.revoked if self._revocations else ()
                self._current = RegionDirectory(self._directory, suite, revoked)
            return self._current

    # --- one round, on the agent's thread --------------------------------------------------
    def refresh(self, client: ConfigClient, alert: Alert) -> None:
        """Take in a newer directory and revocation list, each on its own: a directory that
        is refused never holds back a revocation. A refusal changes nothing, is recorded,
        and is alerted once per new reason."""
        refused, alerted = None, set()
        for target in (REGIONS_TARGET, REVOCATIONS_TARGET):
            try:
                self._take(target, client)
                self._codes.pop(target, None)
                continue
            except FleetError as exc:
                error = exc
            except OSError as exc:     # the data disk: the copy in use stays, and says so
                error = FleetError("地区目录无法保存", f"{target} not stored: "
                                   f"{exc.strerror or exc}", code="unwritable")
            log.warning("%s refused: %s (%s)", target, error.code, error.en)
            if self._codes.get(target) != error.code and error.code not in alerted:
                alert(ALERT, {"reason": error.code, "target": target, "zh": error.zh,
                              "en": error.en})
                alerted.add(error.code)    # untrusted metadata fails both: one alert
            self._codes[target] = error.code
            refused = refused or {"target": target, "code": error.code,
                                  "at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.refused = refused

    def _take(self, target: str, client: ConfigClient) -> None:
        held = self._directory if target == REGIONS_TARGET else self._revocations
        found = client.target(target, held.version if held is not None else None)
        if found is None:
            return
        listed, raw = found
        doc = _read(target, raw)
        if doc.fleet != self.fleet:
            raise FleetError(f"地区目录属于其他终端群（{doc.fleet[:40]}）",
                             f"{target} is for fleet {doc.fleet[:40]!r}", code="wrong_fleet")
        if doc.version != listed:
            raise FleetError(f"{target} 版本与签名元数据不符",
                             f"{target} says version {doc.version}, its signed entry "
                             f"{listed}", code="tampered")
        write_atomic(self.folder / Path(target).name, raw)
        with self._lock:
            if isinstance(doc, Directory):
                self._directory = doc
            else:
                self._revocations = doc
            self._rebuild()
        log.info("%s version %s in use", target, doc.version)

    # --- state -----------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """For the heartbeat (``config.directory``): versions in use, the last refusal."""
        return {"version": self._directory.version if self._directory else None,
                "revocations": self._revocations.version if self._revocations else None,
                "error": self.refused}

    def _load(self) -> None:
        """The last good copies, read again with the same rules (a damaged file: none)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for target in (REGIONS_TARGET, REVOCATIONS_TARGET):
            path = self.folder / Path(target).name
            if not path.is_file():
                continue
            try:
                doc = _read(target, path.read_bytes())
            except (FleetError, OSError) as exc:
                log.warning("stored %s unusable: %s", target, getattr(exc, "code", exc))
                continue
            if isinstance(doc, Directory):
                self._directory = doc
            else:
                self._revocations = doc
        self._rebuild()

    def _rebuild(self) -> None:
        self._current = None          # built again, for the running suite, when next asked


def _read(target: str, raw: bytes) -> Directory | Revocations:
    try:
        if target == REGIONS_TARGET:
            return parse_directory(raw)
        return parse_revocations(raw)
    except DirectoryError as exc:
        code = "newer_schema" if exc.code == "newer_schema" else "invalid"
        raise FleetError(exc.zh, exc.en, code=code) from None

