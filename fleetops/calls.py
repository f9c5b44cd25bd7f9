"""The hall console: the open staff calls (呼叫工作人员) of a hall's kiosks, and the answer
"someone is coming" that the citizen then sees (docs/hall-calls.md).

    kiosk-fleet calls list [--hall H] [--kiosk K] [--json] --broker URL [--tree T]
    kiosk-fleet calls ack CALL_ID --by NAME --broker URL [--tree T]

It lives in ``kiosk-fleet`` because that program already holds what a console needs: the
inventory (fleet.toml: which kiosk is in which hall, and the fleet's topic root; a hall gets a
read-only copy of the tree, as a city does) and the broker connection (fleetops/console.py).

Reading retained calls has no natural end, so the console subscribes to the calls and to a
probe topic of its own in one request, then publishes to the probe: the broker handles one
client's packets in order, so the probe's echo comes after every retained call.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from fleetops.console import connect
from fleetops.layers import Tree
from kiosk.fleet.broker import topic_root
from kiosk.fleet.calls import (
    ACKNOWLEDGED,
    HallCall,
    ack_document,
    ack_topic,
    calls_filter,
    check_call_id,
    check_staff_name,
    read_call,
)
from kiosk.fleet.errors import FleetError

BROKER = re.compile(r"mqtts?://[^/:\s]+(:\d{1,5})?/?")


def add_parser(fleet: Any) -> None:
    """``calls list`` and ``calls ack`` under ``kiosk-fleet``'s subcommands."""
    group = fleet.add_parser("calls", help="the hall console: open staff calls, acknowledge "
                             "one").add_subparsers(required=True, metavar="{list,ack}")
    lst = _common(group.add_parser("list", help="open staff calls (all, or of a selection)"),
                  _list, wait=5.0)
    for flag in ("kiosk", "hall", "city", "tag"):
        lst.add_argument(f"--{flag}", action="append", default=[])
    lst.add_argument("--json", action="store_true")
    ack = _common(group.add_parser("ack", help="tell the citizen someone is coming"), _ack,
                  wait=10.0)
    ack.add_argument("call_id", metavar="CALL_ID", help="from `calls list`")
    ack.add_argument("--by", required=True, metavar="NAME", help="who is going (name, desk)")


def _common(p: argparse.ArgumentParser, func: Callable[[argparse.Namespace], int], *,
            wait: float) -> argparse.ArgumentParser:
    p.add_argument("--tree", type=Path, default=Path("."), help="the operator's tree "
                   "(its fleet.toml)")
    p.add_argument("--broker", required=True, type=_broker,
                   help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--wait", type=_seconds, default=wait, help="seconds to wait for the "
                   f"broker and the kiosk (default {wait:g})")
    p.set_defaults(func=func)
    return p


def _broker(text: str) -> str:
    if not BROKER.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text[:80]!r}: 应为 / must be mqtt://host[:port] "
                                         "or mqtts://host[:port]")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: 应为秒数 / not a number of "
                                         "seconds") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: 应在 0 到 300 秒之间 / between 0 "
                                         "and 300 seconds")
    return value


# --- the commands --------------------------------------------------------------------------
def _list(args: argparse.Namespace) -> int:
    tree = Tree.load(args.tree)
    inventory = tree.inventory
    chosen = {k.id: k.hall for k in inventory.select(
        kiosks=tuple(args.kiosk), halls=tuple(args.hall), cities=tuple(args.city),
        tags=tuple(args.tag))}
    with CallWatch(args.broker, topic_root(inventory.fleet.name), args.wait) as watch:
        calls = [c for k, c in sorted(watch.snapshot().items()) if k in chosen]
    if args.json:
        print(json.dumps([{**_row(c), "hall": chosen[c.kiosk]} for c in calls],
                         ensure_ascii=False, indent=1))
        return 0
    if not calls:
        print("没有未结的呼叫 / no open calls")
    for c in calls:
        answered = f"  已应答/acknowledged by {c.by}" if c.state == ACKNOWLEDGED else ""
        print(f"{c.id}  {c.kiosk}  {chosen[c.kiosk]}  step={c.step}  since {c.at}{answered}")
    return 0


def _ack(args: argparse.Namespace) -> int:
    call_id, by = check_call_id(args.call_id), check_staff_name(args.by)
    root = topic_root(Tree.load(args.tree).inventory.fleet.name)
    with CallWatch(args.broker, root, args.wait) as watch:
        call = next((c for c in watch.snapshot().values() if c.id == call_id), None)
        if call is None:
            raise FleetError(f"没有编号为 {call_id} 的未结呼叫（已取消、已结束或编号有误）",
                             f"no open call {call_id} (cancelled, ended, or mistyped)",
                             code="unknown_call")
        if call.state == ACKNOWLEDGED:
            raise FleetError(f"呼叫 {call_id} 已由 {call.by} 应答",
                             f"call {call_id} was already acknowledged by {call.by}",
                             code="already_acknowledged")
        watch.publish(ack_topic(root, call.kiosk), ack_document(call_id, by, datetime.now(UTC)))
        if not watch.until(lambda calls: _answered(calls.get(call.kiosk), call_id)):
            raise FleetError(f"终端 {call.kiosk} 未确认收到应答（离线或呼叫已取消），请直接前往",
                             f"kiosk {call.kiosk} did not confirm the acknowledgement in "
                             f"{args.wait:g} s (offline, or the call was closed): go there",
                             code="no_ack")
    print(f"OK: {call_id} @ {call.kiosk}: 终端已显示“工作人员正在赶来” / the kiosk shows "
          f"\"staff on the way\"")
    return 0


def _answered(call: HallCall | None, call_id: str) -> bool:
    return call is not None and call.id == call_id and call.state == ACKNOWLEDGED


def _row(call: HallCall) -> dict[str, Any]:
    return {"id": call.id, "kiosk": call.kiosk, "step": call.step, "state": call.state,
            "at": call.at, "by": call.by or None, "acked_at": call.acked_at or None}


# --- the broker ----------------------------------------------------------------------------
class CallWatch:
    """The fleet's retained calls, kept up to date while open (kiosk id → call)."""

    def __init__(self, broker: str, root: str, wait_s: float) -> None:
        self._root, self._wait = root, wait_s
        self._calls: dict[str, HallCall] = {}
        self._cond = threading.Condition()
        self._synced = False
        self._probe = f"{root}/console/{uuid.uuid4().hex}"
        self._client = connect(broker, self._on_message)
        self._client.on_subscribe = self._on_subscribe
        self._client.subscribe([(calls_filter(root), 1), (self._probe, 1)])

    def __enter__(self) -> CallWatch:
        if not self.until(lambda _calls: self._synced):
            self.close()
            raise FleetError("消息服务器未应答", f"the broker did not answer in "
                             f"{self._wait:g} s", code="no_answer")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def snapshot(self) -> dict[str, HallCall]:
        with self._cond:
            return dict(self._calls)

    def until(self, done: Callable[[dict[str, HallCall]], bool]) -> bool:
        """Wait (at most the console's --wait) until ``done(calls)``."""
        with self._cond:
            return self._cond.wait_for(lambda: done(self._calls), self._wait)

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(self._wait)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_subscribe(self, client: mqtt.Client, *_args: Any) -> None:
        client.publish(self._probe, b"probe", qos=1)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            if message.topic == self._probe:
                self._synced = True
            else:
                kiosk = message.topic.split("/")[-2]
                call = read_call(bytes(message.payload))
                if call is None or call.kiosk != kiosk:   # cleared, or not a call of its own
                    self._calls.pop(kiosk, None)
                else:
                    self._calls[kiosk] = call
            self._cond.notify_all()
