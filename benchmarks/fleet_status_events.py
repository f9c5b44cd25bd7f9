"""The case status phase of benchmarks/fleet_broker.py: what status events cost the broker
(docs/case-status.md). Kept apart so fleet_broker.py stays readable; it runs on that
benchmark's fleet (its selector loop, its connected kiosks, its broker meter)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.caseno import case_number, transfer_number
from kiosk.casestatus.event import CaseState, StatusEvent, sign
from kiosk.transfer.keys import generate
from kiosk.transfer.suites import Role

if TYPE_CHECKING:
    from benchmarks.fleet_broker import _Fleet, _Meter
    from rigs.mqtt_rig import MosquittoBroker

TIMEOUT_S = 120.0
SESSION_EXPIRY_S = 14 * 86400


def sample_event() -> bytes:
    """A real signed ``accepted`` event with its details, as a region sends it."""
    key = generate("510802", Role.SIGN, "x25519-chacha20")
    day = datetime(2026, 12, 7, tzinfo=UTC)
    event = StatusEvent(region="510802", transfer_number=transfer_number(
                            "440305-0001", "510802", day.date(), 42),
                        case_number=case_number("440305-0001", day.date(), 42), seq=2,
                        state=CaseState.ACCEPTED, time=day, suite=key.suite, key_id=key.key_id,
                        details={"document_number": "利政受字〔2026〕第01234号",
                                 "promised_by": "2026-12-21", "department": "利州区民政局"})
    return sign(event, key.private or b"")


def _cpu_s(meter: _Meter) -> float:
    ticks, sched = meter.cpu()
    return sched if sched is not None else ticks


def status_phase(fleet: _Fleet, broker: MosquittoBroker, meter: _Meter,
                 args: dict[str, int]) -> dict[str, Any] | None:
    from benchmarks.fleet_broker import event_topic
    if args["events"] <= 0:
        return None
    payload = sample_event()
    kiosks = [k.kiosk_id for k in fleet.kiosks if k.refused is None]
    acked = [0]
    region = fleet._client("region-510802")

    def on_publish(*_: Any) -> None:
        acked[0] += 1

    region.on_publish = on_publish
    region.max_inflight_messages_set(200)
    region.connect("127.0.0.1", broker.port, keepalive=60)
    fleet.loop.run(time.monotonic() + 10, region.is_connected)

    # online: a burst, round-robin over the connected kiosks
    got0, cpu0, t0 = fleet.count.events_got, _cpu_s(meter), time.monotonic()
    for i in range(args["events"]):
        region.publish(event_topic(kiosks[i % len(kiosks)]), payload, qos=1)
    done = fleet.loop.run(t0 + TIMEOUT_S,
                          lambda: fleet.count.events_got - got0 >= args["events"])
    burst_s, cpu = time.monotonic() - t0, _cpu_s(meter) - cpu0
    delivered = fleet.count.events_got - got0
    per_event_us = cpu / delivered * 1e6 if delivered else None
    per_day = len(kiosks) * args["per_day"]
    day_cpu_s = per_day * per_event_us / 1e6 if per_event_us is not None else None
    offline = _offline(fleet, broker, meter, region, acked, payload, args)
    region.disconnect()
    return {
        "event_bytes": len(payload), "qos": 1,
        "burst": {"events": args["events"], "delivered": delivered, "all_delivered": done,
                  "seconds": round(burst_s, 2),
                  "events_per_s": round(delivered / burst_s, 1) if burst_s else None,
                  "broker_cpu_s": round(cpu, 3),
                  "broker_cpu_us_per_event": (round(per_event_us, 1)
                                              if per_event_us is not None else None)},
        "scaled_to_a_day": {"kiosks": len(kiosks), "events_per_kiosk": args["per_day"],
                            "events": per_day,
                            "mean_events_per_s": round(per_day / 86400, 2),
                            "broker_cpu_s_per_day": (round(day_cpu_s, 1)
                                                     if day_cpu_s is not None else None),
                            "broker_cpu_pct_of_core": (round(day_cpu_s / 864, 4)
                                                       if day_cpu_s is not None else None)},
        "offline_day": offline,
    }


def _persistent(fleet: _Fleet, broker: MosquittoBroker, kiosk_id: str,
                counter: list[int]) -> Client:
    client = fleet._client(f"away-{kiosk_id}")
    topic = _topic(kiosk_id)

    def on_connect(client: Client, *_: Any) -> None:
        client.subscribe(topic, qos=1)

    def on_subscribe(*_: Any) -> None:
        counter[0] += 1

    def on_message(_c: Client, _u: Any, _m: MQTTMessage) -> None:
        counter[1] += 1

    client.on_connect, client.on_subscribe, client.on_message = \
        on_connect, on_subscribe, on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    client.connect("127.0.0.1", broker.port, keepalive=60, clean_start=False,
                   properties=props)
    return client


def _topic(kiosk_id: str) -> str:
    from benchmarks.fleet_broker import event_topic
    return event_topic(kiosk_id)


def _offline(fleet: _Fleet, broker: MosquittoBroker, meter: _Meter, region: Client,
             acked: list[int], payload: bytes, args: dict[str, int]) -> dict[str, Any] | None:
    """``offline`` kiosks with persistent sessions go away, get a day of events each, come
    back: broker memory per queued event, and how long the catch-up takes."""
    n, per_day = args["offline"], args["per_day"]
    if n <= 0:
        return None
    ids = [f"999999-{i:04d}" for i in range(1, n + 1)]
    counter = [0, 0]                          # subscribed, events received
    away = [_persistent(fleet, broker, k, counter) for k in ids]
    fleet.loop.run(time.monotonic() + 30, lambda: counter[0] >= n)
    for client in away:
        client.disconnect()
    fleet.loop.run(time.monotonic() + 10, lambda: not any(c.is_connected() for c in away))
    time.sleep(1.0)
    rss0, acked0 = meter.rss(), acked[0]
    for i in range(n * per_day):
        region.publish(_topic(ids[i % n]), payload, qos=1)
    queued = fleet.loop.run(time.monotonic() + TIMEOUT_S,
                            lambda: acked[0] - acked0 >= n * per_day)
    time.sleep(1.0)
    rss1 = meter.rss()
    counter[1] = 0
    t0 = time.monotonic()
    back = [_persistent(fleet, broker, k, counter) for k in ids]
    caught_up = fleet.loop.run(t0 + TIMEOUT_S, lambda: counter[1] >= n * per_day)
    seconds = time.monotonic() - t0
    for client in back:
        client.disconnect()
    return {"kiosks": n, "events_queued": n * per_day, "all_queued": queued,
            "rss_mib_before": round(rss0 / (1 << 20), 2),
            "rss_mib_queued": round(rss1 / (1 << 20), 2),
            "broker_bytes_per_queued_event": round((rss1 - rss0) / (n * per_day), 1),
            "delivered_on_reconnect": counter[1], "caught_up": caught_up,
            "catch_up_s": round(seconds, 2)}
