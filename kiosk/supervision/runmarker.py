"""How the last run ended, for the next start: a marker file written when the app starts
serving and rewritten when it ends cleanly. Found still "running" at start-up, the last run
crashed, was killed or was restarted by the watchdog; systemd's own verdict
(``$SERVICE_RESULT``, given to ``ExecStopPost=kiosk maintenance run-ended``) or the app's last word
(the liveness problem that made it withhold its pings) says which. Operational facts only:
nothing about a citizen goes in.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.fsutil import write_atomic

log = logging.getLogger(__name__)
MARKER = "run-marker.json"          # under paths.data_dir
MAX_BYTES = 4096                    # what we write is < 300 bytes; read no more than this
RUNNING, ENDED = "running", "ended"
# the causes the heartbeat reports for a start: the previous run ended ...
FIRST_START, CLEAN, CRASH, WATCHDOG = "first_start", "clean", "crash", "watchdog"
NIGHTLY = "nightly_restart"         # ... for the nightly window (kiosk.supervision.nightly)


@dataclass(frozen=True)
class PreviousRun:
    cause: str                      # first_start / clean / nightly_restart / crash / watchdog
    detail: str = ""                # what the app or systemd said (no personal data)
    started_at: str = ""
    session_interrupted: bool = False   # a citizen was being served when it ended

    def as_dict(self) -> dict[str, str | bool]:
        return {"cause": self.cause, "detail": self.detail, "started_at": self.started_at,
                "session_interrupted": self.session_interrupted}


class RunMarker:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MARKER

    def begin(self, now: datetime) -> PreviousRun:
        """Read how the last run ended, then mark this one running."""
        previous = self.previous()
        self._write({"state": RUNNING, "pid": os.getpid(),
                     "started_at": now.isoformat(timespec="seconds")})
        if previous.cause not in (CLEAN, FIRST_START):
            log.warning("previous run ended by %s (%s)", previous.cause, previous.detail)
        return previous

    def previous(self) -> PreviousRun:
        doc = self._read()
        if doc is None:
            return PreviousRun(FIRST_START)
        started = str(doc.get("started_at", ""))
        detail = str(doc.get("detail", ""))[:200]
        if doc.get("state") == ENDED:
            return PreviousRun(str(doc.get("how", CLEAN))[:40], detail, started)
        result = str(doc.get("service_result", ""))[:40]
        cause = WATCHDOG if result == "watchdog" or doc.get("watchdog") else CRASH
        return PreviousRun(cause, detail or result, started, doc.get("session") is True)

    def running_pid(self) -> int | None:
        """The process of a run still marked running (it may have died since)."""
        doc = self._read()
        pid = doc.get("pid") if doc else None
        return pid if doc and doc.get("state") == RUNNING and isinstance(pid, int) else None

    def note(self, **facts: str | bool) -> None:
        """Add facts to the running marker (the liveness problem, systemd's verdict)."""
        doc = self._read()
        if doc is not None and doc.get("state") == RUNNING and any(
                doc.get(key) != value for key, value in facts.items()):
            self._write({**doc, **facts})      # only what changed: every write is fsynced

    def end(self, how: str = CLEAN) -> None:
        doc = self._read() or {}
        self._write({"state": ENDED, "how": how, "started_at": doc.get("started_at", "")})

    def _read(self) -> dict[str, object] | None:
        try:
            with self.path.open("rb") as f:
                raw = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("run marker unreadable: %s", exc.strerror)
            return {"state": RUNNING, "detail": "marker unreadable"}
        try:
            doc = json.loads(raw) if len(raw) <= MAX_BYTES else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict):      # torn by a power cut, or not ours: a crash
            return {"state": RUNNING, "detail": "marker unreadable"}
        return doc

    def _write(self, doc: dict[str, object]) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(doc).encode())
        except OSError as exc:         # a full disk must not keep the kiosk from serving
            log.warning("run marker not written: %s", exc.strerror)
