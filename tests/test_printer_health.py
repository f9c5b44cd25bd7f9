"""The kiosk notices paper-out while idle, refuses receipt-needing matters, and prints the
held receipt once after a refill — through the demo's loopback printer (real TCP)."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.status import PaperLevel
from kiosk.bootstrap import build_kiosk
from kiosk.devices.kinds import DeviceKind
from kiosk.lifecycle import Reason
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def _kiosk(tmp_path: Path) -> Any:
    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path)
    devices = settings.devices.model_copy(update={"status_poll_s": 0.05})
    return build_kiosk(settings.model_copy(update={"devices": devices}))


def _wait_for_paper(kiosk: Any, level: str) -> threading.Event:
    seen = threading.Event()

    def on_event(topic: str, event: Any) -> None:
        if event.kind == "status" and event.data.get("paper") == level:
            seen.set()

    kiosk.bus.subscribe(f"device.{DeviceKind.RECEIPT_PRINTER.value}", on_event)
    return seen


def test_idle_polling_sees_paper_out_and_back(tmp_path: Path) -> None:
    kiosk = _kiosk(tmp_path)
    matter = next(m for m in kiosk.catalogue.matters
                  if DeviceKind.RECEIPT_PRINTER in m.required_devices and m.kiosk_can_take)
    try:
        kiosk.open(datetime.now())
        assert kiosk.lifecycle.matter_availability(matter, datetime.now()).available
        out, full = _wait_for_paper(kiosk, "out"), _wait_for_paper(kiosk, "full")
        kiosk.start_polling()
        kiosk.printer.set_paper(PaperLevel.OUT)
        assert out.wait(10), "the poller never asked the printer"
        verdict = kiosk.lifecycle.matter_availability(matter, datetime.now())
        assert not verdict.available and verdict.reason is Reason.CONSUMABLES
        assert "打印纸" in verdict.zh
        kiosk.printer.refill()
        assert full.wait(10)
        assert kiosk.lifecycle.matter_availability(matter, datetime.now()).available
    finally:
        kiosk.close()


def test_held_receipt_prints_once_when_a_refresh_sees_paper(tmp_path: Path) -> None:
    from kiosk.documents import forms
    from kiosk.documents.samples import sample_receipt

    kiosk = _kiosk(tmp_path)
    try:
        kiosk.open(datetime.now())
        job = kiosk.printing.job("r1", "receipt", forms.receipt_blocks(sample_receipt(2)))
        kiosk.printer.run_out_after(5)
        assert kiosk.printing.print(job) is False
        kiosk.refresh(datetime.now())               # still out: nothing happens
        assert [j.job_id for j in kiosk.printing.pending] == ["r1"]
        kiosk.printer.refill()
        kiosk.refresh(datetime.now())
        assert kiosk.printing.pending == []
        jobs = kiosk.printer.virtual.wait_for_jobs(2)
        assert [j.complete for j in jobs] == [False, True]
    finally:
        kiosk.close()
