"""``kiosk doctor``'s looks outside the kiosk's own files: network, device nodes, NTP,
systemd, the UPS, the fleet's root metadata. Short timeouts; bounded reads."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.ops.power import NutClient, UpsError, Verdict, read_ups, verdict
from kiosk.ops.verdicts import Check
from kiosk.settings import Settings

MAX_ROOT = 256 * 1024
DEVICE_OPTIONS = ("port", "url", "path", "device")   # options naming a /dev node


def tcp_reachable(host: str, port: int, timeout_s: float) -> str | None:
    """None when a TCP connection opens; else why not."""
    try:
        with socket.create_connection((host, port), timeout_s):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def _endpoint(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or default_port


def check_network(settings: Settings, timeout_s: float) -> list[Check]:
    checks = []
    directory = sorted(code for code, r in settings.transfer.routes.items()
                       if r.transport != "tus")
    if directory:
        folder = settings.paths.data_dir / settings.transfer.directory
        checks.append(Check("network.directory_routes", "ok",
                            f"{len(directory)} 个办理地经目录递送（{folder}）",
                            f"{len(directory)} regions by the directory transport ({folder})",
                            {"regions": directory}))
    for code, route in sorted(settings.transfer.routes.items()):
        if route.transport != "tus":
            continue
        host, port = _endpoint(route.endpoint, 443 if route.endpoint.startswith("https")
                               else 80)
        why = tcp_reachable(host, port, timeout_s)
        checks.append(Check(
            f"network.route.{code}", "fail" if why else "ok",
            f"办理地 {code} 的接收服务 {host}:{port} " + ("无法连接" if why else "可连接"),
            f"region {code}'s endpoint {host}:{port} " + (f"unreachable ({why})" if why
                                                         else "reachable"),
            {"host": host, "port": port}))
    broker = settings.fleet.broker
    if broker:
        host, port = _endpoint(broker, 8883 if broker.startswith("mqtts") else 1883)
        why = tcp_reachable(host, port, timeout_s)
        checks.append(Check(   # the hall's service does not stop without it: warn
            "network.broker", "warn" if why else "ok",
            f"消息服务器 {host}:{port} " + ("无法连接（心跳与呼叫不可用）" if why else "可连接"),
            f"broker {host}:{port} " + (f"unreachable ({why}): no heartbeat or staff calls"
                                        if why else "reachable"), {"host": host, "port": port}))
    return checks


def check_device_nodes(settings: Settings) -> list[Check]:
    checks = []
    for kind, conf in sorted(settings.devices.configured.items()):
        for key in DEVICE_OPTIONS:
            value = conf.options.get(key)
            if not isinstance(value, str) or not value.startswith("/dev/"):
                continue
            node = Path(value)
            usable = node.exists() and os.access(node, os.R_OK | os.W_OK)
            checks.append(Check(
                f"permissions.device.{kind}", "ok" if usable else "fail",
                f"设备节点 {node} " + ("可读写" if usable else "不存在或本用户无权读写"),
                f"device node {node} " + ("readable and writable" if usable else
                                          "missing or not readable/writable by this user"),
                {"node": str(node)}))
    return checks


def check_ntp() -> Check:
    if shutil.which("timedatectl") is None or not Path("/run/systemd/system").exists():
        return Check("clock.ntp", "ok", "无法查询 NTP 同步状态（无 systemd），已跳过",
                      "NTP state not queried (no systemd here): skipped", {"skipped": True})
    try:
        done = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("clock.ntp", "warn", f"无法查询 NTP 同步状态：{exc}",
                      f"NTP state unknown: {exc}")
    synced = done.stdout.strip() == "yes"
    return Check("clock.ntp", "ok" if synced else "warn",
                  "系统时间已与 NTP 同步" if synced else "系统时间未与 NTP 同步",
                  "clock synchronised by NTP" if synced else "clock not synchronised by NTP",
                  {"NTPSynchronized": done.stdout.strip()[:16]})


def check_service(unit: str) -> Check:
    if not Path("/run/systemd/system").exists() or shutil.which("systemctl") is None:
        return Check("service", "ok", "本机未运行 systemd，服务状态检查已跳过",
                      "systemd is not running here: service state not checked",
                      {"skipped": True, "unit": unit})
    done = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True,
                          timeout=5, check=False)
    state = done.stdout.strip()[:32]
    return Check("service", "ok" if state == "active" else "fail",
                  f"服务 {unit}：{state}", f"service {unit}: {state}", {"unit": unit})


def check_ups(settings: Settings) -> Check:
    power = settings.power
    if not power.ups_host:
        return Check("power", "ok", "未配置不间断电源（UPS）", "no UPS configured",
                      {"skipped": True})
    try:
        reading = read_ups(NutClient(power.ups_host, power.ups_port, power.timeout_s),
                           power.ups_name)
    except UpsError as exc:
        return Check("power", "warn", exc.zh, exc.en)
    state = verdict(reading, power.min_runtime_s)
    text = {Verdict.MAINS: ("UPS：市电供电", "UPS: on line power", "ok"),
            Verdict.ON_BATTERY: ("UPS：停电，使用电池", "UPS: on battery", "warn"),
            Verdict.SHUT_DOWN: ("UPS：电池将耗尽", "UPS: battery nearly empty", "fail"),
            Verdict.UNKNOWN: ("UPS：状态不明", "UPS: status not understood", "warn")}[state]
    return Check("power", text[2], text[0], text[1], reading.as_dict())


def read_root(path: Path) -> datetime | None:
    """The pinned root metadata's expiry; None when missing or not TUF root JSON."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_ROOT + 1)
        if len(raw) > MAX_ROOT:
            return None
        signed = json.loads(raw)["signed"]
        if signed.get("_type") != "root":
            return None
        return datetime.fromisoformat(str(signed["expires"]).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
