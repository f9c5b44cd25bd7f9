"""The UPS, through Network UPS Tools: upsd's TCP protocol (port 3493), read-only.

``LIST VAR <ups>`` gives ``ups.status`` (flags: OL on line, OB on battery, LB low battery,
FSD forced shutdown) and ``battery.runtime`` (seconds left). What the kiosk does with it:
- OL: serve;
- OB: the session running finishes, no new one starts (lifecycle reason on_battery: the
  attract screen says 暂停服务);
- LB, FSD, or OB with battery.runtime under ``power.min_runtime_s``: a clean shutdown — the
  composition root closes the kiosk (ledger and outbox closed, SQLite's WAL checkpointed),
  runs ``power.shutdown_command`` (default ``systemctl poweroff``) and exits with
  :data:`EXIT_POWER_OFF`, which the systemd unit lists in ``RestartPreventExitStatus=``;
- upsd unreachable or the UPS unknown: reported (``ups_unreachable`` alert), nothing stops —
  a broken monitoring link must not close the hall's kiosk.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.errors import KioskError
from kiosk.lifecycle import Lifecycle, Reason
from kiosk.ops_settings import Power

EXIT_POWER_OFF = 76          # the unit's RestartPreventExitStatus (75 is the nightly restart)
MAX_LINE = 1024              # upsd's own lines are far shorter
MAX_VARS = 512
log = logging.getLogger(__name__)


class UpsError(KioskError):
    """upsd could not be asked, or did not answer as NUT does."""


class Verdict(StrEnum):
    MAINS = "mains"
    ON_BATTERY = "on_battery"
    SHUT_DOWN = "shut_down"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class UpsReading:
    status: frozenset[str]
    runtime_s: float | None
    charge: float | None

    def as_dict(self) -> dict[str, object]:
        return {"status": " ".join(sorted(self.status)), "runtime_s": self.runtime_s,
                "charge": self.charge}


def _error(zh: str, en: str) -> UpsError:
    return UpsError(f"不间断电源（UPS）{zh}", f"UPS: {en}", code="ups_unreachable")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


class NutClient:
    """One question per connection: upsd is on this PC or the hall's network, polled every
    few seconds; a fresh connection never leaves a half-read answer behind."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def list_vars(self, ups: str) -> dict[str, str]:
        try:
            with socket.create_connection((self.host, self.port), self.timeout_s) as sock:
                sock.settimeout(self.timeout_s)
                sock.sendall(f"LIST VAR {ups}\n".encode("ascii"))
                values = self._read_list(sock.makefile("rb"), ups)
                sock.sendall(b"LOGOUT\n")
                return values
        except OSError as exc:
            raise _error(f"监控服务 {self.host}:{self.port} 无法连接",
                         f"upsd at {self.host}:{self.port} unreachable ({exc})") from None

    @staticmethod
    def _read_list(stream: object, ups: str) -> dict[str, str]:
        values: dict[str, str] = {}
        begun = False
        for _ in range(MAX_VARS + 2):
            raw = stream.readline(MAX_LINE + 1)  # type: ignore[attr-defined]
            if not raw or len(raw) > MAX_LINE:
                break
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("ERR "):
                raise _error(f"报告错误：{line[4:]}", f"upsd answered {line}")
            if line == f"BEGIN LIST VAR {ups}":
                begun = True
            elif line == f"END LIST VAR {ups}" and begun:
                return values
            elif begun and line.startswith(f"VAR {ups} "):
                name, _, value = line[len(f"VAR {ups} "):].partition(" ")
                values[name] = _unquote(value)
        raise _error("的回答无法识别", "upsd's answer was cut short or not understood")


def read_ups(client: NutClient, ups: str) -> UpsReading:
    values = client.list_vars(ups)
    return UpsReading(frozenset(values.get("ups.status", "").split()),
                      _number(values.get("battery.runtime")), _number(values.get("battery.charge")))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def verdict(reading: UpsReading, min_runtime_s: float) -> Verdict:
    flags = reading.status
    if "LB" in flags or "FSD" in flags:
        return Verdict.SHUT_DOWN
    if "OB" in flags:
        short = reading.runtime_s is not None and reading.runtime_s < min_runtime_s
        return Verdict.SHUT_DOWN if short else Verdict.ON_BATTERY
    return Verdict.MAINS if "OL" in flags else Verdict.UNKNOWN


class PowerWatch:
    """Polls upsd on a daemon thread; puts on_battery into the lifecycle; calls
    ``shut_down`` once (from its thread) when the battery is nearly empty. The composition
    root's ``shut_down`` stops the app; after the kiosk is closed it calls :func:`power_off`."""

    def __init__(self, power: Power, lifecycle: Callable[[], Lifecycle],
                 shut_down: Callable[[], None],
                 clock: Callable[[], datetime] = datetime.now) -> None:
        """``lifecycle``: the running kiosk's (a fleet swap replaces the kiosk)."""
        self.power, self._lifecycle, self._shut_down = power, lifecycle, shut_down
        self.client = NutClient(power.ups_host, power.ups_port, power.timeout_s)
        self._clock = clock
        self._stop = threading.Event()
        self.last: UpsReading | None = None
        self.verdict = Verdict.UNKNOWN
        self.shutting_down = False

    @property
    def lifecycle(self) -> Lifecycle:
        return self._lifecycle()

    def check(self) -> Verdict:
        """One look at the UPS, and what follows from it."""
        now = self._clock()
        try:
            self.last = read_ups(self.client, self.power.ups_name)
        except UpsError as exc:
            if self.verdict is not Verdict.UNKNOWN or self.last is None:
                log.warning("UPS not read: %s", exc.en)
                self.lifecycle.alert("ups_unreachable", {"zh": exc.zh, "en": exc.en})
            self.verdict = Verdict.UNKNOWN
            return self.verdict
        self.verdict = verdict(self.last, self.power.min_runtime_s)
        on_battery = self.verdict in (Verdict.ON_BATTERY, Verdict.SHUT_DOWN)
        if self.lifecycle.set_condition(Reason.ON_BATTERY, on_battery, now):
            log.warning("UPS %s: %s", self.power.ups_name, self.last.as_dict())
            if on_battery:
                self.lifecycle.alert("on_battery", {"zh": "市电中断，使用备用电源",
                                                    "en": "mains power lost: on battery"})
        if self.verdict is Verdict.SHUT_DOWN and not self.shutting_down:
            self.shutting_down = True
            self.lifecycle.alert("power_shutdown", {"zh": "备用电源即将耗尽，正在关机",
                                                    "en": "battery nearly empty: shutting down"})
            self._shut_down()
        return self.verdict

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.check()
                self._stop.wait(self.power.poll_s)
        threading.Thread(target=loop, name="ups-watch", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def report(self) -> dict[str, object]:
        """For the heartbeat and ``kiosk doctor``."""
        return {"verdict": self.verdict.value,
                "ups": self.last.as_dict() if self.last is not None else None}


def power_off(power: Power, run: Callable[..., object] = subprocess.run) -> int:
    """Ask the system to power off (after the kiosk has been closed); the exit status the
    program ends with. A failed request is logged: the UPS cuts the power anyway."""
    try:
        run(list(power.shutdown_command), check=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        log.error("poweroff request failed: %s", exc)
    return EXIT_POWER_OFF
