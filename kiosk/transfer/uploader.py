"""The uploader: takes due packages from the outbox to their regions, backs off with jitter
when a region cannot be reached, raises one alert per package past its transfer deadline,
and purges delivered ciphertext after the retention. Runs on its own thread in the kiosk and
from ``kiosk outbox deliver``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx

from kiosk.errors import BilingualError
from kiosk.transfer.outbox import Outbox, OutboxEntry
from kiosk.transfer.routing import Routing
from kiosk.transfer.tus import TusError, backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sender:
    kiosk_id: str
    org_code: str


@dataclass(frozen=True)
class Pacing:
    retry_min_s: float = 5.0
    retry_max_s: float = 900.0
    retention: timedelta = timedelta(days=30)


class Uploader:
    def __init__(self, outbox: Outbox, routing: Routing, sender: Sender, pacing: Pacing,
                 on_overdue: Callable[[OutboxEntry], None]) -> None:
        self.outbox = outbox
        self.routing = routing
        self.sender = sender
        self.pacing = pacing
        self._on_overdue = on_overdue
        self._lock = threading.Lock()      # one pass at a time (thread and CLI alike)
        self._stop = threading.Event()
        self._wake = threading.Event()

    def deliver_once(self) -> list[OutboxEntry]:
        """Try every due package once; return those delivered."""
        with self._lock:
            delivered = [e for e in self.outbox.due(self.outbox.now()) if self._send(e)]
            self.check()
        return delivered

    def check(self) -> None:
        now = self.outbox.now()
        for entry in self.outbox.overdue(now):
            log.warning("package %s for %s not delivered by its deadline %s", entry.package_id,
                        entry.region, entry.deadline.isoformat(timespec="minutes"))
            self._on_overdue(entry)
        for entry in self.outbox.purge(now, self.pacing.retention):
            log.info("package %s for %s purged after the retention", entry.package_id,
                     entry.region)

    def run(self, interval_s: float) -> threading.Thread:
        """Deliver on a daemon thread until :meth:`stop`; wakes early on :meth:`nudge`."""
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver_once()
                except Exception:   # why: the uploader must outlive any one bad package
                    log.exception("uploader pass failed")
                self._wake.wait(interval_s)
                self._wake.clear()

        thread = threading.Thread(target=loop, name="uploader", daemon=True)
        thread.start()
        return thread

    def nudge(self) -> None:
        """A package was just committed: deliver now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self.nudge()

    def _send(self, entry: OutboxEntry) -> bool:
        if not self.routing.reaches(entry.region):
            self._failed(entry, "no_route")   # routes changed under a queued package
            return False
        metadata = {"package_id": entry.package_id, "receiver": entry.region,
                    "matter": entry.matter_code, "sender": self.sender.org_code,
                    "kiosk": self.sender.kiosk_id, "case": entry.case_number,
                    "filename": entry.file_name}
        try:
            # again: a failed attempt may have arrived unseen (a gateway's 500 or 404 to a
            # request the region did carry out); the client then asks before it starts again
            self.routing.transport(entry.region).send(
                self.outbox.path(entry), metadata, entry.upload_url,
                lambda url, offset: self.outbox.progress(entry, url, offset),
                again=entry.attempts > 0)
        except TusError as exc:
            if exc.code == "tus_refused" and entry.upload_url:
                self.outbox.restart_upload(entry)
            self._failed(entry, exc.code)
            return False
        except (httpx.TransportError, OSError, BilingualError) as exc:
            self._failed(entry, type(exc).__name__)
            return False
        self.outbox.delivered(entry)
        log.info("package %s delivered to %s", entry.package_id, entry.region)
        return True

    def _failed(self, entry: OutboxEntry, error: str) -> None:
        wait = backoff(entry.attempts + 1, self.pacing.retry_min_s, self.pacing.retry_max_s)
        self.outbox.failed(entry, error, self.outbox.now() + timedelta(seconds=wait))
        log.warning("package %s for %s: attempt %d failed (%s), next in %.0f s",
                    entry.package_id, entry.region, entry.attempts + 1, error, wait)
