"""Staff calls on a real broker, for the fleet and UI tests: a listener on every kiosk's call
topics (what a hall sees) and the hall console run as its own process."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.fleet.calls import HallCall, read_call
from kiosk.settings import Fleet
from rigs.mqtt_rig import MosquittoBroker

ROOT = Path(__file__).resolve().parents[2]
DEMO_TREE = ROOT / "assets" / "demo" / "fleet"
FLEET = "demo-sichuan"
WAIT = 60.0          # a bound for a hung test, never an assertion about speed


def fleet_settings(broker: str) -> Fleet:
    """A kiosk's [fleet] with a broker (the repository is never fetched by these tests)."""
    return Fleet(name=FLEET, repository="http://127.0.0.1:9/", broker=broker)


class HallListener:
    """Every message on ``…/kiosk/+/call`` and ``…/call/ack``, with its QoS and retain flag."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.messages: list[tuple[str, bytes, int, bool]] = []
        self._changed = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe([(f"tongban/{FLEET}/kiosk/+/call", 1),
                               (f"tongban/{FLEET}/kiosk/+/call/ack", 1)])
        self.client.loop_start()

    def _message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append((message.topic, bytes(message.payload), message.qos,
                                  bool(message.retain)))
            self._changed.notify_all()

    def calls(self) -> list[HallCall]:
        with self._changed:
            return [c for t, p, _q, _r in self.messages
                    if t.endswith("/call") and (c := read_call(p)) is not None]

    def until(self, condition: Callable[[HallListener], bool], what: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: condition(self), WAIT), (what, self.messages)

    def cleared(self, kiosk: str) -> bool:
        """The kiosk's call topic was last set to nothing."""
        last = [p for t, p, _q, _r in self.messages if t == f"tongban/{FLEET}/kiosk/{kiosk}/call"]
        return bool(last) and last[-1] == b""

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def console(broker: MosquittoBroker, *args: str, tree: Path = DEMO_TREE,
            wait: str = "10") -> subprocess.CompletedProcess[str]:
    """``kiosk-fleet calls …`` as the hall would run it: its own process."""
    return subprocess.run([sys.executable, "-m", "fleetops", "calls", *args, "--broker",
                           broker.url, "--tree", str(tree), "--wait", wait],
                          capture_output=True, text=True, timeout=120, check=False)
