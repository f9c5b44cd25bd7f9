"""Fleet broker: Mosquitto on loopback carrying N kiosks' heartbeats, JSON out, against the
same broker idle in the same run.

    .venv/bin/python benchmarks/fleet_broker.py [--kiosks 1000] [--period 30] [--duration 90]
                                                [--json-out FILE.json]

Each simulated kiosk is its own MQTT 5 connection, as in the field: client id
``kiosk-<id>``, a retained last will on ``tongban/kiosk/<id>/status`` (the offline status),
subscriptions to ``tongban/config/published`` and ``tongban/kiosk/<id>/cmd``, and its
retained status (``kiosk.fleet.status.sample_status``, QoS 1) on connect and then every
``period`` seconds, the kiosks staggered evenly over the period. One operator console
subscribes to every status (``--consoles``). All clients run on this one thread through a
selector (paho's external-loop hooks), not one paho thread each; connections are opened at
``--connect-rate`` per second.

- baseline_idle: the started broker with no client for a window as long as the steady one:
  its CPU seconds (user + system) and resident memory.
- connect: the ramp: CONNACK latency, all kiosks ready (subscribed, first status acked),
  broker CPU during it; then the console's snapshot of N retained statuses.
- steady: ``duration`` seconds of heartbeats: sent, acknowledged (PUBACK), delivered to the
  console; broker CPU seconds, CPU % of one core, resident memory (final and peak).
- ratios: steady CPU ÷ idle CPU (null if the idle broker used no measurable CPU), loaded RSS
  ÷ idle RSS, and the resident memory each connected kiosk adds.
- status_events (docs/case-status.md): each kiosk also holds its QoS 1 subscription to its
  case status topic; one region client sends ``--status-events`` signed events (a real
  ``accepted`` event's bytes) round-robin to the connected kiosks as fast as the broker takes
  them: broker CPU per event delivered, and that scaled to ``--events-per-day`` per kiosk
  (200: a busy hall's cases × their steps) as CPU seconds a day and % of one core. Then
  ``--offline`` kiosks with persistent sessions (clean start off, a session expiry) go away
  and get a day of events each: the broker memory each queued event holds, and the catch-up
  when they come back.

Plain MQTT without a password file and without persistence: TLS (production's mqtts) adds
per-connection memory and per-message crypto that this does not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import heapq
import itertools
import json
import re
import resource
import selectors
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from paho.mqtt.client import (
    Client,
    ConnectFlags,
    DisconnectFlags,
    MQTTMessage,
)
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fleet_status_events import status_phase  # noqa: E402
from benchmarks.timing import report, run_timed  # noqa: E402
from kiosk.casestatus.wire import status_root  # noqa: E402
from kiosk.casestatus.wire import status_topic as wire_topic  # noqa: E402
from kiosk.fleet.status import offline_status, sample_status  # noqa: E402
from rigs.mqtt_rig import MosquittoBroker, mosquitto_available  # noqa: E402

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

HALLS = ("440305", "440304", "510802", "310115", "110105")   # GB/T 2260 districts
CONFIG_TOPIC = "tongban/config/published"
ALL_STATUS = "tongban/kiosk/+/status"
KEEPALIVE_S = 60            # twice the default heartbeat: no PINGREQ while heartbeats flow
READY_TIMEOUT_S = 60.0
MISC_EVERY_S = 1.0          # paho's loop_misc (keepalive) and the broker's memory sample
SETTLE_S = 2.0
MiB = 1 << 20


def kiosk_ids(n: int) -> list[str]:
    """``<hall>-<serial>``: round-robin over the halls, serials from 0001 in each."""
    return [f"{HALLS[i % len(HALLS)]}-{i // len(HALLS) + 1:04d}" for i in range(n)]


def _compact(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def status_topic(kiosk_id: str) -> str:
    return f"tongban/kiosk/{kiosk_id}/status"


def event_topic(kiosk_id: str) -> str:
    """The kiosk's case status events (kiosk/casestatus/wire.py), apart from its status."""
    return wire_topic(status_root("bench"), kiosk_id)


def raise_open_files(needed: int) -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit, before the broker starts (it inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise SystemExit(f"needs {needed} open files, the hard limit is {hard} "
                         "(raise it: ulimit -Hn, or LimitNOFILE= for a service)")
    return soft, hard


class _Loop:
    """One selector for every client, through paho's external-loop callbacks, plus timers."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.clients: list[Client] = []

    def attach(self, client: Client) -> None:
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._wrote
        self.clients.append(client)

    def _opened(self, client: Client, userdata: Any, sock: SocketLike) -> None:
        self.sel.register(sock, selectors.EVENT_READ, client)

    def _closed(self, client: Client, userdata: Any, sock: SocketLike) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(sock)

    def _want_write(self, client: Client, userdata: Any, sock: SocketLike) -> None:
        self.sel.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)

    def _wrote(self, client: Client, userdata: Any, sock: SocketLike) -> None:
        with contextlib.suppress(KeyError, ValueError):     # closing: already unregistered
            self.sel.modify(sock, selectors.EVENT_READ, client)

    def call_at(self, when: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), fn))

    def run(self, until: float, done: Callable[[], bool] = lambda: False) -> bool:
        """Serve sockets and timers until ``done()`` (→ True) or the ``until`` deadline."""
        while not done():
            now = time.monotonic()
            if now >= until:
                return False
            while self._timers and self._timers[0][0] <= now:
                heapq.heappop(self._timers)[2]()
            wake = min(until, self._timers[0][0]) if self._timers else until
            for key, mask in self.sel.select(max(0.0, wake - time.monotonic())):
                client: Client = key.data
                if mask & selectors.EVENT_READ:
                    client.loop_read()
                if mask & selectors.EVENT_WRITE:
                    client.loop_write()
        return True


@dataclass(eq=False)
class _Kiosk:
    kiosk_id: str
    client: Client
    started: float = 0.0
    connack_ms: float | None = None
    refused: str | None = None
    subscribed: bool = False
    first_acked: bool = False


@dataclass
class _Counters:
    sent: int = 0                    # heartbeats published in the steady window
    acked: int = 0                   # … and acknowledged by the broker
    console_got: int = 0             # status messages the console received, retained or live
    console_live: int = 0            # … of them, not retained: heartbeats passed on
    disconnects: int = 0
    events_got: int = 0              # case status events the kiosks received
    steady_mids: dict[Client, set[int]] = field(default_factory=dict)


class _Fleet:
    def __init__(self, broker: MosquittoBroker, n: int, consoles: int) -> None:
        self.broker = broker
        self.loop = _Loop()
        self.count = _Counters()
        self.kiosks = [self._kiosk(kiosk_id) for kiosk_id in kiosk_ids(n)]
        self.consoles = [self._console(i) for i in range(consoles)]
        self.steady = False

    def _client(self, client_id: str) -> Client:
        client = Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                        protocol=MQTTProtocolVersion.MQTTv5)
        client.on_disconnect = self._on_disconnect
        self.loop.attach(client)
        return client

    def _kiosk(self, kiosk_id: str) -> _Kiosk:
        kiosk = _Kiosk(kiosk_id, self._client(f"kiosk-{kiosk_id}"))
        client = kiosk.client
        client.will_set(status_topic(kiosk_id), _compact(offline_status(kiosk_id)), qos=1,
                        retain=True)

        def on_connect(client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode,
                       properties: Properties | None) -> None:
            kiosk.connack_ms = (time.monotonic() - kiosk.started) * 1000
            if reason.is_failure:
                kiosk.refused = reason.getName()
                return
            client.subscribe([(CONFIG_TOPIC, 1), (f"tongban/kiosk/{kiosk_id}/cmd", 1),
                              (event_topic(kiosk_id), 1)])
            self.heartbeat(kiosk)

        def on_subscribe(client: Client, userdata: Any, mid: int, codes: list[ReasonCode],
                         properties: Properties | None) -> None:
            kiosk.subscribed = not any(code.is_failure for code in codes)

        def on_publish(client: Client, userdata: Any, mid: int, reason: ReasonCode,
                       properties: Properties | None) -> None:
            kiosk.first_acked = True
            mids = self.count.steady_mids.get(client)
            if mids is not None and mid in mids and not reason.is_failure:
                mids.discard(mid)
                self.count.acked += 1

        def on_event(client: Client, userdata: Any, message: MQTTMessage) -> None:
            self.count.events_got += 1

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_publish = on_publish
        client.on_message = on_event
        return kiosk

    def _console(self, index: int) -> Client:
        client = self._client(f"console-{index}")

        def on_connect(client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode,
                       properties: Properties | None) -> None:
            if not reason.is_failure:
                client.subscribe(ALL_STATUS, qos=1)

        def on_message(client: Client, userdata: Any, message: MQTTMessage) -> None:
            self.count.console_got += 1
            if not message.retain:
                self.count.console_live += 1

        client.on_connect = on_connect
        client.on_message = on_message
        return client

    def _on_disconnect(self, client: Client, userdata: Any, flags: DisconnectFlags,
                       reason: ReasonCode, properties: Properties | None) -> None:
        self.count.disconnects += 1

    def heartbeat(self, kiosk: _Kiosk) -> None:
        info = kiosk.client.publish(status_topic(kiosk.kiosk_id),
                                    _compact(sample_status(kiosk.kiosk_id)), qos=1, retain=True)
        if self.steady:
            self.count.sent += 1
            self.count.steady_mids.setdefault(kiosk.client, set()).add(info.mid)

    def connect(self, rate: float) -> None:
        start = time.monotonic()
        for index, kiosk in enumerate(self.kiosks):
            self.loop.call_at(start + index / rate, functools.partial(self._open, kiosk))

    def _open(self, kiosk: _Kiosk) -> None:
        kiosk.started = time.monotonic()
        kiosk.client.connect("127.0.0.1", self.broker.port, keepalive=KEEPALIVE_S)

    def ready(self) -> bool:
        return all(k.refused is not None or (k.subscribed and k.first_acked)
                   for k in self.kiosks)

    def every(self, seconds: float, fn: Callable[[], None]) -> None:
        def tick() -> None:
            fn()
            self.loop.call_at(time.monotonic() + seconds, tick)
        self.loop.call_at(time.monotonic() + seconds, tick)

    def misc(self) -> None:
        for client in self.loop.clients:
            client.loop_misc()

    def schedule_heartbeats(self, start: float, period: float, duration: float) -> int:
        """Kiosk i beats at start + (i + ½)·period/N + k·period within the window."""
        planned = 0
        for index, kiosk in enumerate(self.kiosks):
            if kiosk.refused is not None:
                continue
            due = start + (index + 0.5) * period / len(self.kiosks)
            while due < start + duration:
                self.loop.call_at(due, functools.partial(self.heartbeat, kiosk))
                planned += 1
                due += period
        return planned

    def close(self) -> None:
        for client in self.loop.clients:
            client.disconnect()
        self.loop.run(time.monotonic() + 5, lambda: not self.loop.sel.get_map())


class _Meter:
    """The broker process's CPU time and resident memory. CPU two ways: user + system from
    psutil (kernel ticks, 10 ms: an idle broker often reads 0) and, on Linux, the scheduler's
    on-CPU nanoseconds (/proc/<pid>/task/*/schedstat), which the ratios use when present."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak_rss = 0
        self._tasks = Path(f"/proc/{pid}/task")

    def cpu(self) -> tuple[float, float | None]:
        """(user + system seconds, on-CPU seconds or None)."""
        times = self.process.cpu_times()
        try:
            ns = sum(int((task / "schedstat").read_text().split()[0])
                     for task in self._tasks.iterdir())
            return float(times.user + times.system), ns / 1e9
        except (OSError, ValueError, IndexError):
            return float(times.user + times.system), None

    def rss(self) -> int:
        rss = int(self.process.memory_info().rss)
        self.peak_rss = max(self.peak_rss, rss)
        return rss


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 2),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
            "max": round(ordered[-1], 2)}


def _ratio(a: float, b: float, digits: int = 2) -> float | None:
    return round(a / b, digits) if b > 0 else None


@dataclass
class _Cpu:
    """CPU the broker used over a window (see _Meter)."""

    ticks_s: float
    sched_s: float | None
    window_s: float

    @staticmethod
    def between(a: tuple[float, float | None], b: tuple[float, float | None],
                window_s: float) -> _Cpu:
        sched = None if a[1] is None or b[1] is None else b[1] - a[1]
        return _Cpu(b[0] - a[0], sched, window_s)

    @property
    def best_s(self) -> float:
        return self.sched_s if self.sched_s is not None else self.ticks_s

    def report(self) -> dict[str, float | None]:
        return {"cpu_s": round(self.ticks_s, 3),
                "cpu_s_schedstat": None if self.sched_s is None else round(self.sched_s, 4),
                "cpu_pct_of_core": round(self.best_s / self.window_s * 100, 3)}


def bench(n: int, period: float, duration: float, rate: float, consoles: int,
          status_args: dict[str, int]) -> dict[str, Any]:
    soft, hard = raise_open_files(n + consoles + 64)
    sample = kiosk_ids(1)[0]
    with MosquittoBroker() as broker:
        assert broker.pid is not None
        version = re.search(r"mosquitto version (\S+)", broker.log())
        meter = _Meter(broker.pid)
        broker_nofile = meter.process.rlimit(psutil.RLIMIT_NOFILE)

        # Baseline: the same broker, no client, for as long as the steady window.
        time.sleep(SETTLE_S)
        cpu0, t0 = meter.cpu(), time.monotonic()
        while time.monotonic() < t0 + duration:
            meter.rss()
            time.sleep(min(MISC_EVERY_S, max(0.0, t0 + duration - time.monotonic())))
        idle = _Cpu.between(cpu0, meter.cpu(), time.monotonic() - t0)
        idle_rss = meter.rss()

        fleet = _Fleet(broker, n, consoles)

        def tick() -> None:
            fleet.misc()
            meter.rss()

        fleet.every(MISC_EVERY_S, tick)
        cpu0, t0 = meter.cpu(), time.monotonic()
        fleet.connect(rate)
        all_ready = fleet.loop.run(t0 + n / rate + READY_TIMEOUT_S, fleet.ready)
        ramp = _Cpu.between(cpu0, meter.cpu(), time.monotonic() - t0)
        refused = [k.refused for k in fleet.kiosks if k.refused is not None]
        connack = [k.connack_ms for k in fleet.kiosks if k.connack_ms is not None]
        tcp = len([c for c in meter.process.net_connections(kind="tcp")
                   if c.status == psutil.CONN_ESTABLISHED])

        # The operator console comes up: N retained statuses at once.
        snapshot_ms: float | None = None
        if fleet.consoles:
            t_console = time.monotonic()
            for console in fleet.consoles:
                console.connect("127.0.0.1", broker.port, keepalive=KEEPALIVE_S)
            wanted = (n - len(refused)) * len(fleet.consoles)
            if fleet.loop.run(time.monotonic() + READY_TIMEOUT_S,
                              lambda: fleet.count.console_got >= wanted):
                snapshot_ms = round((time.monotonic() - t_console) * 1000, 1)
        fleet.loop.run(time.monotonic() + SETTLE_S)

        # Steady state: heartbeats only.
        fleet.steady = True
        live0 = fleet.count.console_live
        cpu0, t0, proc0 = meter.cpu(), time.monotonic(), time.process_time()
        planned = fleet.schedule_heartbeats(t0, period, duration)
        fleet.loop.run(t0 + duration)
        steady = _Cpu.between(cpu0, meter.cpu(), time.monotonic() - t0)
        loaded_rss = meter.rss()
        simulator_cpu = time.process_time() - proc0
        fleet.steady = False
        # PUBACKs still in flight at the window's end (milliseconds on loopback).
        fleet.loop.run(time.monotonic() + 10, lambda: fleet.count.acked >= fleet.count.sent)
        fleet.loop.run(time.monotonic() + 2, lambda: fleet.count.console_live - live0
                       >= fleet.count.sent * len(fleet.consoles))
        delivered = fleet.count.console_live - live0
        disconnects = fleet.count.disconnects
        events = status_phase(fleet, broker, meter, status_args)
        fleet.close()

    sent = fleet.count.sent
    connected = n - len(refused)
    return {
        "setup": {"kiosks": n, "consoles": consoles, "halls": list(HALLS),
                  "period_s": period, "duration_s": duration, "qos": 1, "retain": True,
                  "keepalive_s": KEEPALIVE_S, "connect_rate_per_s": rate,
                  "mosquitto": version.group(1) if version else None,
                  "nofile_soft_hard": [soft, hard], "broker_nofile": list(broker_nofile),
                  "client_threads": 1},
        "payload": {"heartbeat_bytes": len(_compact(sample_status(sample))),
                    "offline_will_bytes": len(_compact(offline_status(sample))),
                    "status_topic_bytes": len(status_topic(sample))},
        "baseline_idle": {"window_s": round(idle.window_s, 1), **idle.report(),
                          "rss_mib": round(idle_rss / MiB, 2)},
        "connect": {"connected": connected, "refused": len(refused),
                    "all_ready": all_ready, "ramp_s": round(ramp.window_s, 2),
                    "connack_ms": _ms(connack) if connack else None,
                    "broker": ramp.report(),
                    "broker_tcp_established": tcp,
                    "console_snapshot_ms": snapshot_ms},
        "steady": {"window_s": round(steady.window_s, 1), "heartbeats_planned": planned,
                   "heartbeats_sent": sent, "heartbeats_acked": fleet.count.acked,
                   "delivered_to_consoles": delivered,
                   "heartbeats_per_s": round(sent / steady.window_s, 1),
                   "broker": steady.report(),
                   "broker_cpu_us_per_heartbeat": (round(steady.best_s / sent * 1e6, 1)
                                                   if sent else None),
                   "rss_mib_final": round(loaded_rss / MiB, 2),
                   "rss_mib_peak": round(meter.peak_rss / MiB, 2),
                   "unexpected_disconnects": disconnects,
                   "simulator_cpu_s": round(simulator_cpu, 2)},
        "ratios": {"cpu_steady_vs_idle": _ratio(steady.best_s, idle.best_s, 1),
                   "rss_loaded_vs_idle": _ratio(loaded_rss, idle_rss),
                   "rss_kib_per_kiosk": (round((loaded_rss - idle_rss) / connected / 1024, 2)
                                         if connected else None)},
        "status_events": events,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kiosks", type=int, default=1000)
    p.add_argument("--period", type=float, default=30.0, help="seconds between heartbeats")
    p.add_argument("--duration", type=float, default=90.0,
                   help="seconds of steady state (and of the idle baseline)")
    p.add_argument("--connect-rate", type=float, default=200.0, help="connections per second")
    p.add_argument("--consoles", type=int, default=1, help="operator consoles (status readers)")
    p.add_argument("--status-events", type=int, default=5000,
                   help="case status events sent in the burst (0: no status phase)")
    p.add_argument("--events-per-day", type=int, default=200, help="per kiosk, for the scale")
    p.add_argument("--offline", type=int, default=100,
                   help="kiosks away for a day of events (persistent sessions)")
    p.add_argument("--json-out", "--out", dest="out", type=Path,
                   help="also write the JSON here")
    args = p.parse_args()
    if args.kiosks < 1 or args.period <= 0 or args.duration <= 0 or args.connect_rate <= 0:
        p.error("--kiosks, --period, --duration and --connect-rate must be positive")
    if not mosquitto_available():
        print("mosquitto is not installed (Debian: apt-get install mosquitto)", file=sys.stderr)
        return 2
    results = {"machine_note": "2 cores, loopback, broker and simulator on the same machine; "
                               "ratios and per-kiosk figures are what carries over",
               **bench(args.kiosks, args.period, args.duration, args.connect_rate,
                       args.consoles, {"events": args.status_events,
                                       "per_day": args.events_per_day,
                                       "offline": args.offline})}
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)
