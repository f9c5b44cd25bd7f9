"""The kiosk's status event services, composed from its settings: the store and receiver,
the feed poller (started with the uploader, stopped with the kiosk: kiosk/bootstrap.py) and
the overdue alerts. The MQTT subscription on the fleet's broker is the fleet node's
(kiosk/fleet/status_events.py), applying through :attr:`receiver`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kiosk.casestatus.feed import FeedClient, FeedError
from kiosk.casestatus.keys import DirectoryStatusKeys
from kiosk.casestatus.overdue import alert_overdue
from kiosk.casestatus.receiver import Alerts, Receiver
from kiosk.casestatus.store import StatusStore
from kiosk.routing.lookup import RegionDirectoryLookup
from kiosk.settings import Settings
from kiosk.transfer.outbox import Outbox

log = logging.getLogger(__name__)


class CaseStatusService:
    def __init__(self, settings: Settings, store: StatusStore,
                 directory: Callable[[], RegionDirectoryLookup | None], alerts: Alerts,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings, self.store, self.alerts, self.now = settings, store, alerts, now
        options = settings.casestatus
        self.max_age = timedelta(days=options.max_age_days)
        self.receiver = Receiver(store, DirectoryStatusKeys(directory), alerts, now=now,
                                 max_age=self.max_age)
        self.feeds = [FeedClient(url, settings.kiosk.id, self.receiver, store,
                                 options.timeout_s, token_file=options.feed_tokens.get(url))
                      for url in options.feeds]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether any region can reach this kiosk (else no overdue ``received`` alerts)."""
        mqtt = self.settings.casestatus.mqtt and bool(self.settings.fleet.broker)
        return mqtt or bool(self.feeds)

    def start(self) -> None:
        if self.feeds:
            self._thread = threading.Thread(target=self._poll, name="status-feed",
                                            daemon=True)
            self._thread.start()

    def pull(self) -> int:
        taken = 0
        for feed in self.feeds:
            try:
                taken += feed.pull(self._stop.is_set)   # a stop waits for one reply at most
            except FeedError as exc:
                log.warning("%s: %s", feed.url, exc.en)
        return taken

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.pull()
            self._stop.wait(self.settings.casestatus.poll_s)

    def report(self) -> dict[str, object]:
        """For the fleet heartbeat: what came in (counts by outcome and refusal reason), what
        waits for a gap, and which transports are on. No case or transfer numbers."""
        return {"active": self.active, "feeds": len(self.feeds), "held": self.store.held(),
                "counts": dict(sorted(self.store.counts().items()))}

    def overdue(self, outbox: Outbox) -> int:
        if not self.active:
            return 0
        return alert_overdue(self.store, outbox, self.alerts, self.now(),
                             collect_days=self.settings.casestatus.collect_days,
                             max_age=self.max_age)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.casestatus.timeout_s + 5)
        for feed in self.feeds:
            feed.close()
