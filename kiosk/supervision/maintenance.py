"""``kiosk maintenance nightly``: what the installed timer runs in the nightly window, beside
the app (which restarts itself between sessions in the same window: kiosk.supervision.nightly).

Each step is reported, none stops the others: log rotation (a hook the ops work wires),
purging delivered ciphertext past ``transfer.retention_days``, the device check (devices are
opened here only when the app is not running: it holds them, and its nightly restart reads
them all again), and the diagnostics, written under ``paths.data_dir/diagnostics`` and
published to the fleet's broker when there is one, with the staff audit log's anchor, check
and newest entries (kiosk/staff/audit_upload.py). No personal data in any of it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from kiosk.bootstrap import device_context
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.manager import DeviceManager
from kiosk.fleet.broker import make_client, topic_root
from kiosk.fleet.status import app_version, device_entry, disk_free_mb
from kiosk.fsutil import write_atomic
from kiosk.ops.logs import rotate_logs
from kiosk.settings import Settings
from kiosk.staff.audit_upload import STAFF_DIR, audit_for_diagnostics
from kiosk.supervision.runmarker import RunMarker
from kiosk.transfer.courier import Courier

log = logging.getLogger(__name__)
DIAGNOSTICS_DIR = "diagnostics"      # under paths.data_dir
KEEP_DIAGNOSTICS = 14                # nightly reports kept on the kiosk
PUBLISH_WAIT_S = 10.0


def nightly(settings: Settings, now: datetime | None = None,
            publish: Callable[[Settings, dict[str, Any]], str] | None = None) -> dict[str, Any]:
    """Run every step; return the report (also written as diagnostics)."""
    now = now or datetime.now(UTC)
    report: dict[str, Any] = {"kiosk": settings.kiosk.id, "at": now.isoformat(timespec="seconds"),
                              "app_version": app_version()}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("logs", lambda: rotate_logs(settings).as_dict()),
        ("purge", lambda: purge_delivered(settings, now)),
        ("devices", lambda: check_devices(settings)),
        ("previous_run", lambda: RunMarker(settings.paths.data_dir).previous().as_dict()),
        ("disk_free_mb", lambda: disk_free_mb(settings.paths.data_dir)),
        ("audit", lambda: audit_for_diagnostics(settings.paths.data_dir / STAFF_DIR))]
    for name, step in steps:
        try:
            report[name] = step()
        except Exception as exc:   # why: one broken step must not stop the others
            log.exception("nightly step %s failed", name)
            report[name] = {"error": type(exc).__name__}
    write_diagnostics(settings, report, now)
    report["upload"] = (publish or publish_diagnostics)(settings, report)
    return report


def purge_delivered(settings: Settings, now: datetime) -> dict[str, Any]:
    courier = Courier.build(settings, on_overdue=lambda _entry: None, recover=False)
    try:
        retention = timedelta(days=settings.transfer.retention_days)
        purged = courier.outbox.purge(courier.outbox.now(), retention)
        return {"purged": len(purged), "counts": courier.outbox.counts()}
    finally:
        courier.close()


def app_running(settings: Settings) -> bool:
    """Whether a kiosk app holds the devices now (its run marker names a live process)."""
    pid = RunMarker(settings.paths.data_dir).running_pid()
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_devices(settings: Settings) -> dict[str, Any]:
    if app_running(settings):
        return {"checked_by": "app"}      # its nightly restart reads every device again
    manager = DeviceManager.build(settings.devices.configured, BUILTIN,
                                  device_context(settings), lambda _topic, _event: None)
    manager.open()
    try:
        return {kind: device_entry(status) for kind, status in manager.statuses().items()}
    finally:
        manager.close()


def write_diagnostics(settings: Settings, report: dict[str, Any], now: datetime) -> None:
    folder = settings.paths.data_dir / DIAGNOSTICS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(folder / f"nightly-{now:%Y%m%dT%H%M%S}.json",
                 json.dumps(report, ensure_ascii=False, indent=1).encode())
    for old in sorted(folder.glob("nightly-*.json"))[:-KEEP_DIAGNOSTICS]:
        old.unlink(missing_ok=True)


def publish_diagnostics(settings: Settings, report: dict[str, Any]) -> str:
    """To ``kiosk/<id>/diagnostics`` on the broker, as ``upload_diagnostics`` does (its own
    client id: the app's connection stays up)."""
    fleet = settings.fleet
    if not fleet.broker:
        return "no_broker"
    client = make_client(fleet, f"kiosk-{settings.kiosk.id}-nightly")
    url = urlparse(fleet.broker)
    try:
        client.connect(url.hostname or "localhost",
                       url.port or (8883 if url.scheme == "mqtts" else 1883), keepalive=30)
        client.loop_start()
        topic = f"{topic_root(fleet.name)}/kiosk/{settings.kiosk.id}/diagnostics"
        info = client.publish(topic, json.dumps(report, ensure_ascii=False).encode(), qos=1)
        info.wait_for_publish(PUBLISH_WAIT_S)
        return "sent" if info.is_published() else "not_acknowledged"
    except OSError as exc:
        log.warning("nightly diagnostics not published: %s", exc)
        return "broker_unreachable"
    finally:
        client.disconnect()
        client.loop_stop()
