"""The hall's cards over the fleet's MQTT broker: this kiosk's own cases out, the other
kiosks' in (docs/hall-cards.md).

Out: a thread publishes each changed case's card (kiosk/hall/source.py), retained, QoS 1, with
a message expiry of ``hall.card_days`` (the broker forgets a card nobody refreshed), and marks
it done on the PUBACK. In: a persistent session (``kiosk-<id>-hall``) subscribed to the hall's
cards; retained cards come once when the subscription is new (retain handling 1), or again
when the index is empty. Each card is checked (kiosk/hall/verify.py) and kept in the index, or
refused with the alert ``hall_card_rejected`` (reason, kiosk; never a case's personal data);
an empty message clears that kiosk's card. Nothing raised here ends paho's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from kiosk.casestatus.receiver import Alerts, StatusKeys
from kiosk.fleet.broker import make_client
from kiosk.hall.card import CardError, card_topic, cards_filter, topic_names
from kiosk.hall.index import HallIndex
from kiosk.hall.source import CardSource
from kiosk.hall.verify import Expect, check_card
from kiosk.settings import Fleet
from kiosk.transfer.keys import Registry

log = logging.getLogger(__name__)
ALERT = "hall_card_rejected"
POLL_S = 5.0                      # changed cases are looked for this often
PUBACK_WAIT_S = 10.0
ALERT_EVERY_S = 600.0             # one alert per reason and kiosk in this time; all counted
SESSION_EXPIRY_S = 7 * 86400


class HallMirror:
    def __init__(self, fleet: Fleet, hall: str, kiosk: str, source: CardSource,
                 index: HallIndex, kiosks: Registry, keys: StatusKeys, alerts: Alerts,
                 card_days: int, now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 ) -> None:
        self.fleet, self.hall, self.kiosk = fleet, hall, kiosk
        self.source, self.index, self.kiosks, self.keys = source, index, kiosks, keys
        self.alerts, self.now, self.expiry_s = alerts, now, card_days * 86400
        self._client = make_client(fleet, f"kiosk-{kiosk}-hall")
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._denied: set[int] = set()      # mids the broker answered with a failure code
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._alerted: dict[tuple[str, str], float] = {}

    # --- the connection ----------------------------------------------------------------
    def start(self, background: bool = True) -> None:
        url = urlparse(self.fleet.broker)
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(url.hostname or "localhost", port, keepalive=30,
                                   clean_start=False, properties=props)
        self._client.loop_start()
        if background:
            self._thread = threading.Thread(target=self._loop, name="hall-cards",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PUBACK_WAIT_S + 5)
        self._client.disconnect()
        self._client.loop_stop()

    def connected(self) -> bool:
        return bool(self._client.is_connected())

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the hall cards connection: %s", reason)
            return
        # an empty index (new, or lost) asks for every retained card again
        handling = 0 if self.index.size() == 0 else 1
        client.subscribe(cards_filter(self.fleet.name, self.hall),
                         options=SubscribeOptions(qos=1, retainHandling=handling))

    # --- out ----------------------------------------------------------------------------
    def _loop(self) -> None:
        self.source.backfill(self.now())
        while not self._stop.is_set():
            try:
                self.sync()
                self.index.prune(self.now())
            except Exception:          # the disk, the broker: the next round tries again
                log.exception("hall cards round failed")
            self._stop.wait(POLL_S)

    def sync(self) -> int:
        """Publish every changed case's card; the number the broker took."""
        taken = 0
        while self.connected() and not self._stop.is_set():
            batch = self.source.pending(self.now())
            if not batch:
                break
            for outgoing in batch:
                if outgoing.payload is not None:
                    if not self._publish(outgoing.case_number, outgoing.payload):
                        return taken
                    taken += 1
                self.source.done(outgoing)
        return taken

    def _publish(self, case_number: str, payload: bytes) -> bool:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if payload:
            props.MessageExpiryInterval = self.expiry_s
        topic = card_topic(self.fleet.name, self.hall, self.kiosk, case_number)
        info = self._client.publish(topic, payload, qos=1, retain=True, properties=props)
        try:
            info.wait_for_publish(PUBACK_WAIT_S)
        except (RuntimeError, ValueError):       # not connected, or the queue was full
            return False
        if info.mid in self._denied:             # e.g. the ACL: the card stays to send
            self._denied.discard(info.mid)
            self._refuse("broker_refused", self.kiosk, "代理服务器拒收本机的办件卡（请检查 ACL）",
                         "the broker refused this kiosk's card (check its ACL)")
            return False
        return bool(info.is_published())

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._denied.add(mid)

    # --- in (paho's thread) -------------------------------------------------------------
    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self.take(message.topic, bytes(message.payload))
        except Exception:
            log.exception("hall card not taken")

    def take(self, topic: str, payload: bytes) -> str:
        """Decide on one message; what became of it (``kept``, ``removed``, a reason)."""
        names = topic_names(topic, self.fleet.name, self.hall)
        if names is None or names[0] == self.kiosk:
            return "ignored"               # not a card topic of this hall, or our own card
        kiosk, case = names
        if not payload:
            self.index.remove(kiosk, case)
            return "removed"
        expect = Expect(self.fleet.name, self.hall, self.kiosk, kiosk, case)
        try:
            verified = check_card(payload, expect, self.kiosks, self.keys, self.now())
        except CardError as refused:
            self._refuse(refused.reason, kiosk, refused.zh, refused.en)
            return refused.reason
        if not self.index.put(verified):
            self._refuse("replayed", kiosk, "大厅办件卡无效：比已有的旧",
                         "Invalid hall case card: older than the card kept")
            return "replayed"
        self.index.bump("kept")
        return "kept"

    def _refuse(self, reason: str, kiosk: str, zh: str, en: str) -> None:
        self.index.bump(f"rejected_{reason}")
        log.warning("hall card from %s refused: %s (%s)", kiosk, reason, en)
        last = self._alerted.get((reason, kiosk))
        moment = time.monotonic()
        if last is not None and moment - last < ALERT_EVERY_S:
            return
        if len(self._alerted) > 1000:       # a flood of made-up kiosk ids stays bounded
            self._alerted.clear()
        self._alerted[(reason, kiosk)] = moment
        self.alerts.alert(ALERT, {"reason": reason, "kiosk": kiosk, "zh": zh, "en": en})
