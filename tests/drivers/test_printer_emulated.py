"""The emulated receipt printer: jobs, PNG output, paper and faults."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from drivers.errors import DeviceFault
from drivers.printer import CoverOpen, PaperOut, PrintJob, ReceiptPrinter
from drivers.printer.emulated import EmulatedPrinter
from drivers.status import DeviceEvent, DeviceState, PaperLevel


def _png(width: int = 576, height: int = 40) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG")
    return out.getvalue()


def _job(job_id: str, kind: str = "receipt") -> PrintJob:
    return PrintJob(job_id=job_id, kind=kind, raster_png=_png())


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def printer(events: list[DeviceEvent]) -> Iterator[EmulatedPrinter]:
    emulated = EmulatedPrinter()
    emulated.open(events.append)
    yield emulated
    emulated.close()


def _ids(jobs: list[PrintJob]) -> list[str]:
    return [job.job_id for job in jobs]


def test_emulator_fulfils_the_protocol(printer: EmulatedPrinter) -> None:
    fulfils: ReceiptPrinter = printer
    assert fulfils.dots_per_line == 576
    status = fulfils.status()
    assert (status.state, status.paper, status.usable) == (DeviceState.ONLINE, PaperLevel.FULL,
                                                           True)


def test_jobs_are_recorded_in_order(printer: EmulatedPrinter) -> None:
    printer.print_job(_job("A"))
    printer.print_job(_job("B", "notice"))
    assert _ids(printer.printed) == ["A", "B"]
    assert printer.pending == []


def test_png_files_appear_in_out_dir(tmp_path: Path) -> None:
    out_dir = tmp_path / "prints"  # created on the first job
    printer = EmulatedPrinter(out_dir=out_dir, dots_per_line=384)
    printer.open()
    printer.print_job(PrintJob("r1", "receipt", _png(384)))
    printer.print_job(PrintJob("t1", "test", _png(384)))
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["job-0001-receipt.png", "job-0002-test.png"]
    with Image.open(out_dir / "job-0001-receipt.png") as image:
        assert image.width == 384
    assert (out_dir / "job-0002-test.png").read_bytes() == printer.printed[1].raster_png


def test_paper_out_keeps_the_job_and_refill_prints_it_once(printer: EmulatedPrinter) -> None:
    printer.set_paper(PaperLevel.OUT)
    assert not printer.status().usable
    job = _job("case-1")
    for _ in range(3):  # the kiosk retries; the job must be held only once
        with pytest.raises(PaperOut):
            printer.print_job(job)
    assert printer.printed == [] and _ids(printer.pending) == ["case-1"]

    assert _ids(printer.refill()) == ["case-1"]
    assert _ids(printer.printed) == ["case-1"] and printer.pending == []
    assert printer.printed[0].raster_png == job.raster_png  # the whole page, not half
    assert printer.status().paper is PaperLevel.FULL

    printer.print_job(job)  # resubmitted after the refill printed it: no second receipt
    assert _ids(printer.printed) == ["case-1"]
    assert printer.refill() == []


def test_paper_out_mid_job_holds_every_job_until_refill(printer: EmulatedPrinter) -> None:
    printer.inject("paper_out_mid_job")
    with pytest.raises(PaperOut):
        printer.print_job(_job("A"))
    assert printer.status().paper is PaperLevel.OUT
    with pytest.raises(PaperOut):
        printer.print_job(_job("B"))
    assert printer.printed == [] and _ids(printer.pending) == ["A", "B"]
    assert _ids(printer.refill()) == ["A", "B"]
    assert _ids(printer.printed) == ["A", "B"] and printer.pending == []


def test_resubmitting_a_held_job_after_paper_is_back_prints_it(printer: EmulatedPrinter) -> None:
    printer.set_paper(PaperLevel.OUT)
    with pytest.raises(PaperOut):
        printer.print_job(_job("A"))
    printer.set_paper(PaperLevel.FULL)
    printer.print_job(_job("A"))
    assert _ids(printer.printed) == ["A"] and printer.pending == []
    assert printer.refill() == []


def test_low_paper_still_prints(printer: EmulatedPrinter) -> None:
    printer.set_paper(PaperLevel.LOW)
    status = printer.status()
    assert status.paper is PaperLevel.LOW and status.usable
    printer.print_job(_job("A"))
    assert _ids(printer.printed) == ["A"]


def test_offline_raises_a_device_fault_and_recovers(printer: EmulatedPrinter) -> None:
    printer.inject("offline")
    assert printer.status().state is DeviceState.OFFLINE
    with pytest.raises(DeviceFault):
        printer.print_job(_job("A"))
    assert printer.printed == [] and printer.pending == []
    printer.clear_faults()
    printer.print_job(_job("A"))
    assert _ids(printer.printed) == ["A"]


def test_cover_open_is_a_user_error_and_recovers(printer: EmulatedPrinter) -> None:
    printer.inject("cover_open")
    assert printer.status().state is DeviceState.USER_ERROR
    assert not printer.status().usable
    with pytest.raises(CoverOpen):
        printer.print_job(_job("A"))
    printer.clear_faults()
    assert printer.status().state is DeviceState.ONLINE
    printer.print_job(_job("A"))
    assert _ids(printer.printed) == ["A"]


def test_refill_while_offline_keeps_the_jobs(printer: EmulatedPrinter) -> None:
    printer.set_paper(PaperLevel.OUT)
    with pytest.raises(PaperOut):
        printer.print_job(_job("A"))
    printer.inject("offline")
    with pytest.raises(DeviceFault):
        printer.refill()
    assert _ids(printer.pending) == ["A"]
    printer.clear_faults()
    assert _ids(printer.refill()) == ["A"]


def test_closed_printer_refuses_jobs(printer: EmulatedPrinter) -> None:
    printer.close()
    assert printer.status().state is DeviceState.OFFLINE
    with pytest.raises(DeviceFault):
        printer.print_job(_job("A"))


def test_unknown_fault_is_refused(printer: EmulatedPrinter) -> None:
    with pytest.raises(ValueError):
        printer.inject("on_fire")  # type: ignore[arg-type]


def test_events_reach_the_sink(printer: EmulatedPrinter, events: list[DeviceEvent]) -> None:
    printer.print_job(_job("A"))
    printer.inject("paper_out_mid_job")
    with pytest.raises(PaperOut):
        printer.print_job(_job("B"))
    printer.refill()
    kinds = [(event.kind, event.data.get("job_id") or event.data.get("paper")) for event in events]
    assert kinds == [
        ("status", "full"),        # opened
        ("job_printed", "A"),
        ("job_held", "B"),
        ("status", "out"),
        ("status", "full"),        # refilled
        ("job_printed", "B"),
    ]
    assert all(event.device == "printer.emulated" for event in events)


def test_print_job_repr_is_short() -> None:
    assert repr(_job("A")) == "PrintJob(A, receipt)"
