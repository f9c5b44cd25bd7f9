"""Sends kept ratings to the hall's evaluation system (好差评 interface): one JSON POST per
rating version, the fields coded with the endpoint's table. 2xx (or 409: already have it) is
delivered; another 4xx, or a value the table cannot code, is refused for good with an alert
(sending it again would not help); anything else is tried again later, with doubling waits."""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime
from typing import Any, Protocol

import httpx

from kiosk.evaluation.codes import TABLES, CodeTable, Unmapped
from kiosk.evaluation.record import CHANNEL, Evaluation
from kiosk.evaluation.store import EvaluationStore, Queued, backoff
from kiosk.settings import EvaluationSettings

log = logging.getLogger(__name__)


class Alerts(Protocol):
    def alert(self, code: str, detail: dict[str, str]) -> None: ...


def body(item: Evaluation, version: int, table: CodeTable, channel_code: str
         ) -> dict[str, Any]:
    """The document the endpoint receives (codes from ``table``; raises Unmapped)."""
    return {"ratingId": item.rating_id, "version": version, "kioskId": item.kiosk_id,
            "areaCode": item.area_code, "orgCode": item.org_code,
            "department": item.department, "matterCode": item.matter_code,
            "matterName": item.matter_name, "caseNumber": item.number,
            "outcome": item.outcome, "caseType": table.code_case_type(item.kind),
            "promisedDays": item.promised_days, "channel": CHANNEL,
            "channelCode": channel_code, "round": item.round,
            "satisfaction": table.code_satisfaction(item.rating),
            "reasons": list(item.reasons), "comment": item.comment,
            "mayContact": item.staff_may_contact, "ratedAt": item.rated_at}


class EvaluationUploader:
    def __init__(self, store: EvaluationStore, settings: EvaluationSettings, alerts: Alerts,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.store, self.settings, self.alerts = store, settings, alerts
        self.table = TABLES[settings.codes]
        self._client = httpx.Client(timeout=httpx.Timeout(settings.timeout_s),
                                    transport=transport)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send_due(self, now: datetime) -> int:
        """One round: every due version, in order. Returns how many were delivered."""
        delivered = 0
        for item in self.store.due(now):
            if self._send(item, now):
                delivered += 1
        return delivered

    def _send(self, item: Queued, now: datetime) -> bool:
        try:
            document = body(item.evaluation, item.version, self.table, self.settings.channel_code)
        except Unmapped as exc:
            self._refuse(item, f"unmapped {exc.field}={exc.value}")
            return False
        try:
            # only the status counts: the reply's body is never read (a hostile or broken
            # endpoint cannot make the kiosk hold a large one)
            with self._client.stream("POST", self.settings.endpoint, json=document) as reply:
                status = reply.status_code
        except httpx.HTTPError as exc:
            self._later(item, type(exc).__name__, now)
            return False
        if 200 <= status < 300 or status == 409:
            self.store.sent(item)
            return True
        if 400 <= status < 500 and status not in (408, 429):
            self._refuse(item, f"HTTP {status}")
        else:
            self._later(item, f"HTTP {status}", now)
        return False

    def _later(self, item: Queued, why: str, now: datetime) -> None:
        wait = backoff(item.attempts, self.settings.retry_min_s, self.settings.retry_max_s)
        self.store.retry(item, why, now + wait * random.uniform(1.0, 1.25))

    def _refuse(self, item: Queued, why: str) -> None:
        self.store.refused(item, why)
        log.warning("rating %s refused by the evaluation endpoint: %s",
                    item.evaluation.rating_id, why)
        self.alerts.alert("evaluation_refused", {"rating": item.evaluation.rating_id,
                                                 "why": why})

    # --- on a daemon thread ----------------------------------------------------------------
    def run(self, clock: Any = datetime.now) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.send_due(clock())
                except Exception:           # a bad round must not end the thread
                    log.exception("evaluation upload round failed")
                self._wake.wait(self.settings.poll_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="evaluation-upload", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._client.close()
