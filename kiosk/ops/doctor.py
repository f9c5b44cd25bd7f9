"""``kiosk doctor``: every pre-flight check a technician needs, each with a verdict (ok,
warn, fail) and one plain sentence in Chinese and English.

fail = the kiosk cannot serve citizens as configured (``kiosk doctor`` exits 1); warn =
it can, but something needs a person soon. Checks never raise: a check that breaks is a
fail with its reason. Nothing printed holds personal data, keys or passwords.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drivers.status import DeviceState, PaperLevel
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.manager import DeviceManager
from kiosk.devices.registry import DeviceContext
from kiosk.errors import BilingualError, ConfigError
from kiosk.ops import probes
from kiosk.ops.clock import TIMESTAMP_LIFETIME, signed_timestamp_time
from kiosk.ops.disk import DiskGuard
from kiosk.ops.verdicts import FAIL, OK, WARN, Check, Report
from kiosk.ops_settings import MIB
from kiosk.settings import Settings, load_settings
from kiosk.transfer.routing import Routing

ESSENTIAL = (DeviceKind.IDENTITY_READER, DeviceKind.DOCUMENT_CAMERA, DeviceKind.RECEIPT_PRINTER)


def examine(path: Path, unit: str, timeout_s: float = 2.0) -> Report:
    start = time.perf_counter()
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        failed = Check("settings", FAIL, "配置文件有误：" + "；".join(exc.problems),
                       "invalid settings: " + "; ".join(exc.problems), {"path": exc.path})
        return Report((failed,), time.perf_counter() - start)
    checks = [Check("settings", OK, f"配置文件有效（终端 {settings.kiosk.id}）",
                    f"settings valid (kiosk {settings.kiosk.id})")]
    steps: list[Callable[[], Check | list[Check]]] = [
        lambda: check_transfer_keys(settings, path), lambda: check_devices(settings),
        lambda: check_permissions(settings), lambda: check_disk(settings),
        lambda: check_clock(settings), lambda: check_fleet_trust(settings),
        lambda: probes.check_network(settings, timeout_s), lambda: probes.check_ups(settings),
        lambda: probes.check_service(unit)]
    for step in steps:
        try:
            result = step()
        except Exception as exc:   # why: a broken check is a failed check, never a crash
            result = Check(getattr(step, "__name__", "check"), FAIL, f"检查出错：{exc}",
                           f"the check broke: {type(exc).__name__}: {exc}")
        checks.extend(result if isinstance(result, list) else [result])
    return Report(tuple(checks), time.perf_counter() - start)


def check_transfer_keys(settings: Settings, path: Path) -> Check:
    try:
        Routing(settings.transfer, settings.paths.data_dir, str(path)).close()
    except BilingualError as exc:
        return Check("transfer_keys", FAIL, exc.zh, exc.en)
    return Check("transfer_keys", OK, f"{len(settings.transfer.routes)} 个办理地的公钥齐全",
                 f"public keys present for {len(settings.transfer.routes)} regions")


def check_devices(settings: Settings) -> list[Check]:
    context = DeviceContext(assets=settings.paths.assets, data_dir=settings.paths.data_dir)
    manager = DeviceManager.build(settings.devices.configured, BUILTIN, context,
                                  lambda _t, _p: None)
    try:
        manager.open()
        statuses = manager.statuses()
        backends = {kind: spec.backend.name for kind, spec in manager.specs.items()}
    finally:
        manager.close()
    return [_device_check(kind, backends.get(kind, "?"), s) for kind, s in statuses.items()]


def _device_check(kind: str, backend: str, status: Any) -> Check:
    detail = {"backend": backend, "status": status.state.value,
              "paper": status.paper.value if status.paper is not None else None}
    name = f"device.{kind}"
    if not status.usable:
        verdict = FAIL if kind in ESSENTIAL else WARN
        return Check(name, verdict, f"设备 {kind}（{backend}）不可用：{status.state.value}",
                     f"device {kind} ({backend}) not usable: {status.state.value}", detail)
    if status.paper is PaperLevel.LOW or status.state is DeviceState.BUSY:
        return Check(name, WARN, f"设备 {kind} 可用，纸将用完",
                     f"device {kind} usable, paper low", detail)
    return Check(name, OK, f"设备 {kind}（{backend}）正常", f"device {kind} ({backend}) online",
                 detail)


def check_permissions(settings: Settings) -> list[Check]:
    data = settings.paths.data_dir
    checks = []
    for label, folder in (("data", data), ("keys", data / "keys")):
        if not folder.exists():
            checks.append(Check(f"permissions.{label}", WARN,
                                f"目录不存在：{folder}（首次启动时创建）",
                                f"{folder} does not exist (made at first start)"))
            continue
        st = folder.stat()
        open_to_others = stat.S_IMODE(st.st_mode) & 0o077
        mine = st.st_uid == os.geteuid()
        verdict = OK if mine and not open_to_others else FAIL
        checks.append(Check(
            f"permissions.{label}", verdict,
            f"{folder} 仅属主可访问" if verdict == OK else
            f"{folder} 权限不安全（应为本用户 0700）",
            f"{folder} owner-only" if verdict == OK else
            f"{folder} not owner-only or not ours (want 0700, this user)",
            {"mode": oct(stat.S_IMODE(st.st_mode)), "owner_is_us": mine}))
    checks.extend(probes.check_device_nodes(settings))
    return checks


def check_disk(settings: Settings) -> Check:
    data = settings.paths.data_dir
    probe = data if data.exists() else next(p for p in data.parents if p.exists())
    guard = DiskGuard(probe, settings.resources)
    free, floor = guard.free_bytes(), guard.floor
    detail = {"free_mb": free // MIB, "floor_mb": floor // MIB}
    if free < floor:
        return Check("disk", FAIL, f"存储空间不足：剩余 {free // MIB} MB，低于下限 "
                     f"{floor // MIB} MB", f"disk: {free // MIB} MB free, under the floor "
                     f"of {floor // MIB} MB", detail)
    verdict = WARN if free < 2 * floor else OK
    return Check("disk", verdict, f"存储空间剩余 {free // MIB} MB（下限 {floor // MIB} MB）",
                 f"disk: {free // MIB} MB free (floor {floor // MIB} MB)", detail)


def check_clock(settings: Settings, now: datetime | None = None) -> list[Check]:
    now = now or datetime.now(UTC)
    checks = [probes.check_ntp()]
    signed = signed_timestamp_time(settings.paths.data_dir / "fleet" / "tuf")
    if signed is None:
        checks.append(Check("clock.signed_time", OK, "尚无配置库签名时间可比对（未联网或单机）",
                            "no signed fleet timestamp to compare with yet (standalone or "
                            "not yet synced)", {"skipped": True}))
        return checks
    behind = (signed - now).total_seconds()
    detail = {"signed_at": signed.isoformat(timespec="seconds"),
              "now": now.isoformat(timespec="seconds")}
    if behind > settings.clock.max_skew_s:
        checks.append(Check("clock.signed_time", FAIL,
                            f"系统时间比配置库签名时间慢 {behind:.0f} 秒",
                            f"the clock is {behind:.0f} s behind the fleet's signed timestamp",
                            detail))
    elif now > signed + TIMESTAMP_LIFETIME:
        checks.append(Check("clock.signed_time", WARN, "配置库时间戳已过期（时钟超前或未续签）",
                            "the fleet's timestamp has expired (clock ahead, or not renewed)",
                            detail))
    else:
        checks.append(Check("clock.signed_time", OK, "系统时间与配置库签名时间一致",
                            "the clock agrees with the fleet's signed timestamp", detail))
    return checks


def check_fleet_trust(settings: Settings, now: datetime | None = None) -> Check:
    fleet = settings.fleet
    if not fleet.repository:
        return Check("fleet_trust", OK, "单机运行，不接入配置库", "standalone: no fleet repository",
                     {"skipped": True})
    root = probes.read_root(fleet.root)
    if root is None:
        return Check("fleet_trust", FAIL, f"缺少或无法读取受信根元数据：{fleet.root}",
                     f"root of trust missing or unreadable: {fleet.root}")
    expires = root
    if expires <= (now or datetime.now(UTC)):
        return Check("fleet_trust", FAIL, "受信根元数据已过期", "root of trust expired",
                     {"expires": expires.isoformat()})
    return Check("fleet_trust", OK, "受信根元数据有效", "root of trust present and unexpired",
                 {"expires": expires.isoformat()})
