"""The kiosk's call for hall staff (呼叫工作人员): it goes to the hall over the fleet's broker
and the citizen is told the truth about it.

One call at a time (one citizen at a kiosk). It is retained on ``…/kiosk/<id>/call`` with QoS 1
(kiosk/fleet/calls.py) until it is closed: cancelled by the citizen, the session's end, the
kiosk closing; an empty retained message then clears it, and so does the last will if the
kiosk vanishes. The console's acknowledgement arrives on ``…/call/ack``; the kiosk answers it
by republishing the call as acknowledged, which is how the console knows the citizen saw it.

Nothing here waits on the network: paho connects, publishes and reconnects on its own thread,
and never while this object's lock is held (paho runs our callbacks under its own locks). The
screens ask :meth:`StaffCalls.current` on their tick; the time-driven changes (no PUBACK within
``SEND_TIMEOUT_S``, nobody answering within ``hall.call_wait_s``) happen there, on an injected
monotonic clock. Every change is published on the bus as ``hall.call`` (the heartbeat shows it)
and logged with the call id and step only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import paho.mqtt.client as mqtt

from kiosk.bus import EventBus
from kiosk.fleet.broker import connect_async, make_client, topic_root
from kiosk.fleet.calls import (
    ACKNOWLEDGED,
    OPEN,
    STEP,
    HallCall,
    ack_topic,
    call_topic,
    new_call_id,
    read_ack,
)
from kiosk.settings import Fleet, Settings

log = logging.getLogger(__name__)
CALL_EVENT = "hall.call"      # payload: StaffCall.summary()
SEND_TIMEOUT_S = 10.0         # a call the broker has not taken by then counts as not sent


class CallState(StrEnum):
    OFFLINE = "offline"            # no broker configured: the call goes nowhere
    UNREACHABLE = "unreachable"    # the broker is away, or did not take the call in time
    SENDING = "sending"
    WAITING = "waiting"            # the broker has it; nobody has answered yet
    ACKNOWLEDGED = "acknowledged"  # someone in the hall is on the way
    EXPIRED = "expired"            # nobody answered within hall.call_wait_s
    CLOSED = "closed"


@dataclass(frozen=True)
class StaffCall:
    """What the screens know of a call: no staff names, nothing about the citizen."""

    id: str
    step: str
    state: CallState
    session: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "state": self.state.value}


@dataclass
class _Open:
    call: StaffCall
    opened: float                       # monotonic
    at: str                             # ISO 8601, UTC
    sent: mqtt.MQTTMessageInfo | None = None
    by: str = ""
    acked_at: str = ""

    def document(self, kiosk: str) -> bytes:
        state = ACKNOWLEDGED if self.call.state is CallState.ACKNOWLEDGED else OPEN
        return HallCall(self.call.id, kiosk, self.call.step, state, self.at, self.by,
                        self.acked_at).document()


class StaffCalls:
    def __init__(self, bus: EventBus, kiosk_id: str, wait_s: float, fleet: Fleet | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._bus, self.kiosk_id, self.wait_s, self._clock = bus, kiosk_id, wait_s, clock
        self._lock = threading.Lock()
        self._open: _Open | None = None
        self._client: mqtt.Client | None = None
        if fleet is not None and fleet.broker:
            root = topic_root(fleet.name)
            self.call_topic, self.ack_topic = call_topic(root, kiosk_id), ack_topic(root, kiosk_id)
            self._client = self._connect(fleet)
        self._unsubscribe = bus.subscribe("session.ended", self._session_ended)

    @classmethod
    def build(cls, settings: Settings, bus: EventBus,
              clock: Callable[[], float] = time.monotonic) -> StaffCalls:
        return cls(bus, settings.kiosk.id, settings.hall.call_wait_s, settings.fleet, clock)

    @property
    def connected(self) -> bool:
        """Whether a call made now would reach the broker."""
        return self._client is not None and self._client.is_connected()

    # --- the citizen's side ------------------------------------------------------------
    def open(self, step: str, session: str | None = None) -> StaffCall:
        """Call staff; a call already open is kept (a second tap does not call twice)."""
        with self._lock:
            if self._open is not None:
                return self._open.call
            client = self._client
            state = (CallState.OFFLINE if client is None else CallState.SENDING
                     if client.is_connected() else CallState.UNREACHABLE)
            call = StaffCall(new_call_id(), step if STEP.fullmatch(step) else "other", state,
                             session)
            entry = _Open(call, self._clock(), datetime.now(UTC).isoformat(timespec="seconds"))
            self._open = entry
        if client is not None and state is CallState.SENDING:
            entry.sent = client.publish(self.call_topic, entry.document(self.kiosk_id), qos=1,
                                        retain=True)
        self._changed(call)
        return call

    def current(self) -> StaffCall | None:
        """The open call, moved on by the clock (sent → waiting → expired)."""
        with self._lock:
            entry = self._open
            if entry is None:
                return None
            before = entry.call
            state = self._next_state(entry)
            if state is not before.state:
                entry.call = replace(before, state=state)
            call = entry.call
        if call is not before:
            self._changed(call)
        return call

    def _next_state(self, entry: _Open) -> CallState:
        state, age = entry.call.state, self._clock() - entry.opened
        if state is CallState.SENDING:
            if _delivered(entry.sent):
                state = CallState.WAITING
            elif age >= SEND_TIMEOUT_S:
                state = CallState.UNREACHABLE
        if state is CallState.WAITING and age >= self.wait_s:
            state = CallState.EXPIRED
        return state

    def close_call(self, reason: str) -> None:
        """Cancelled, the session over, the kiosk closing: the hall's list drops it."""
        with self._lock:
            entry, self._open = self._open, None
        if entry is None:
            return
        if self._client is not None and self._client.is_connected():   # else: on reconnect
            self._client.publish(self.call_topic, b"", qos=1, retain=True)
        self._changed(replace(entry.call, state=CallState.CLOSED), reason)

    def shutdown(self) -> None:
        """Close the call and the connection (off the caller's thread: paho's may be in a
        connect that waits for its timeout)."""
        self._unsubscribe()
        self.close_call("kiosk_closed")
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            threading.Thread(target=client.loop_stop, name="calls-stop", daemon=True).start()

    def _session_ended(self, _topic: str, payload: Any) -> None:
        entry = self._open
        if entry is not None and entry.call.session == payload.get("session"):
            self.close_call("session_ended")

    def _changed(self, call: StaffCall, reason: str = "") -> None:
        log.info("staff call %s at step %s: %s%s", call.id, call.step, call.state.value,
                 f" ({reason})" if reason else "")
        self._bus.publish(CALL_EVENT, call.summary())

    # --- the broker's side (paho's thread) -----------------------------------------------
    def _connect(self, fleet: Fleet) -> mqtt.Client:
        client = make_client(fleet, f"kiosk-{self.kiosk_id}-calls")
        client.will_set(self.call_topic, b"", qos=1, retain=True)   # gone: no stale call
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        connect_async(client, fleet)
        return client

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the staff-call connection: %s", reason)
            return
        client.subscribe(self.ack_topic, qos=1)      # the call follows its SUBACK

    def _on_subscribe(self, client: mqtt.Client, *_args: Any) -> None:
        """The broker's view in step with ours: the open call again, or none. Sent after the
        SUBACK, so behind whatever paho re-sends from the last connection (it queues those
        after on_connect), which the broker would otherwise take as the newer word."""
        with self._lock:
            entry = self._open
            document = entry.document(self.kiosk_id) if entry is not None else b""
        client.publish(self.call_topic, document, qos=1, retain=True)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        with self._lock:
            entry = self._open
            if entry is None or entry.call.state not in (CallState.SENDING, CallState.WAITING):
                return
            entry.call = replace(entry.call, state=CallState.UNREACHABLE)
            call = entry.call
        self._changed(call, "broker lost")

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        ack = read_ack(bytes(message.payload))
        if ack is None:
            log.warning("staff-call acknowledgement not understood; ignored")
            return
        call_id, by = ack
        with self._lock:
            entry = self._open
            if entry is None or entry.call.id != call_id:
                return                      # a call already closed, or another kiosk's
            first = entry.call.state is not CallState.ACKNOWLEDGED
            if first:
                entry.call = replace(entry.call, state=CallState.ACKNOWLEDGED)
                entry.by, entry.acked_at = by, datetime.now(UTC).isoformat(timespec="seconds")
            call, document = entry.call, entry.document(self.kiosk_id)
        client.publish(self.call_topic, document, qos=1, retain=True)   # the console's proof
        if first:
            self._changed(call)


def _delivered(sent: mqtt.MQTTMessageInfo | None) -> bool:
    if sent is None:
        return False
    try:
        return sent.is_published()
    except (RuntimeError, ValueError):   # paho: the publish failed outright
        return False
