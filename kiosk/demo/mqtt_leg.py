"""The tracked demo's MQTT leg: Mosquitto on loopback when the machine has it, the region's
``kiosk-region publish --fleet`` and the kiosk's own subscriber (kiosk/fleet/status_events.py)
taking the events. The demo starts its own small broker: rigs/mqtt_rig.py is a test rig,
which product code may not import."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.bootstrap import Kiosk
from kiosk.demo.region_side import RegionSide
from kiosk.errors import KioskError
from kiosk.fleet.status_events import StatusSubscriber

WAIT_S = 120.0          # a bound for a loaded machine, not a measured time


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    return found or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").is_file() else None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(done: object, zh: str, en: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():                                       # type: ignore[operator]
        if time.monotonic() > deadline:
            raise KioskError(zh, en, code="demo_mqtt")
        time.sleep(0.05)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def local_mosquitto(folder: Path) -> Iterator[str]:
    """A Mosquitto on 127.0.0.1 for the demo; yields its ``mqtt://`` URL."""
    binary = mosquitto_binary()
    if binary is None:
        raise KioskError("本机未安装 Mosquitto", "Mosquitto is not installed", code="demo_mqtt")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false"]
    if os.geteuid() == 0:       # as root it would drop to "mosquitto"; stay who we are
        lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
    config = folder / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    child = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        _until(lambda: child.poll() is not None or _answers(port),
               "Mosquitto 未能启动", "Mosquitto did not start")
        if child.poll() is not None:
            raise KioskError("Mosquitto 未能启动", "Mosquitto did not start", code="demo_mqtt")
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=30)


class MqttLeg:
    """Carriage.bring over MQTT: the region publishes, and this returns once the kiosk's
    subscriber has decided on every event sent."""

    def __init__(self, subscriber: StatusSubscriber, broker_url: str, fleet: str) -> None:
        self.subscriber, self.fleet = subscriber, fleet
        self.broker = broker_url.removeprefix("mqtt://")

    def __call__(self, kiosk: Kiosk, region: RegionSide) -> int:
        before = self.subscriber.received
        sent = int(region.publish(self.broker, self.fleet).split()[-1])
        _until(lambda: self.subscriber.received >= before + sent,
               "状态消息未到达本机", f"{sent} published status events never reached the kiosk")
        return sent


def subscribed(kiosk: Kiosk) -> StatusSubscriber:
    """The kiosk's own persistent subscription on ``kiosk.settings.fleet``, connected."""
    subscriber = StatusSubscriber(kiosk.settings.fleet, kiosk.settings.kiosk.id,
                                  kiosk.case_status.receiver.apply, 3600)
    subscriber.start()
    _until(subscriber.connected, "无法连接 MQTT 代理", "could not connect to the MQTT broker")
    time.sleep(0.5)     # its SUBACK: the subscriber offers no callback to wait on
    return subscriber
