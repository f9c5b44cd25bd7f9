"""The printer links against the virtual printer on real TCP: the shared behaviour runs for
NetworkPrinter (python-escpos Network) and SerialPrinter (real pyserial, ``socket://`` URL);
serial-only cases follow."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.errors import DeviceFault
from drivers.printer import CoverOpen, PaperOut, PrintJob, ReceiptPrinter
from drivers.printer.link import NO_REPLY, StatusPrinter
from drivers.printer.network import NetworkPrinter
from drivers.printer.serial_link import SerialPrinter
from drivers.printer.virtual import VirtualPrinter
from drivers.status import DeviceEvent, DeviceState, PaperLevel

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Regular.otf"
LINES = ["跨域通办受理回执", "受理编号：TB20240003", "申请人：王五", "事项：社保关系转移。"]
JOB = PrintJob("case-TB20240003", "receipt", raster_png=b"",
               escpos=b"\x1b@\x1c&" + b"".join(line.encode("gbk") + b"\n" for line in LINES)
               + b"\x1bd\x02" + b"\x1dVB\x00")
TRANSCRIPT = [*LINES, "[CUT]"]


@pytest.fixture(params=["network", "serial"])
def printer(request: pytest.FixtureRequest, virtual: VirtualPrinter,
            events: list[DeviceEvent]) -> Iterator[StatusPrinter]:
    link: StatusPrinter = (
        NetworkPrinter("127.0.0.1", virtual.port, timeout=3.0) if request.param == "network"
        else SerialPrinter(f"socket://127.0.0.1:{virtual.port}", timeout=3.0))
    link.open(events.append)
    yield link
    link.close()


def test_fulfils_the_protocol(printer: StatusPrinter) -> None:
    fulfils: ReceiptPrinter = printer
    assert fulfils.dots_per_line == 576 and fulfils.name in ("printer.network", "printer.serial")


@pytest.mark.parametrize(("state", "expected"), [
    ({}, (DeviceState.ONLINE, PaperLevel.FULL, True)),
    ({"paper": "near_end"}, (DeviceState.ONLINE, PaperLevel.LOW, True)),
    ({"paper": "out"}, (DeviceState.ONLINE, PaperLevel.OUT, False)),
    ({"cover_open": True}, (DeviceState.USER_ERROR, PaperLevel.FULL, False)),
    ({"offline": True}, (DeviceState.OFFLINE, PaperLevel.FULL, False)),
    ({"silent": True}, (DeviceState.OFFLINE, PaperLevel.UNKNOWN, False)),
])
def test_status_of_every_state(virtual: VirtualPrinter, printer: StatusPrinter,
                               state: dict[str, object],
                               expected: tuple[DeviceState, PaperLevel, bool]) -> None:
    virtual.set_state(**state)  # type: ignore[arg-type]
    status = printer.status()     # a silent printer: returns after the bounded wait
    assert (status.state, status.paper, status.usable) == expected
    assert (status.detail == NO_REPLY) is bool(state.get("silent"))


def test_status_changes_reach_the_sink(virtual: VirtualPrinter, printer: StatusPrinter,
                                       events: list[DeviceEvent]) -> None:
    virtual.set_state(paper="near_end")
    printer.status()
    assert [(e.kind, e.data["state"], e.data["paper"]) for e in events] == [
        ("status", "online", "full"), ("status", "online", "low")]


def test_a_job_prints(virtual: VirtualPrinter, printer: StatusPrinter,
                      events: list[DeviceEvent], tmp_path: Path) -> None:
    printer.print_job(JOB)
    (job,) = virtual.wait_for_jobs(1)
    assert job.complete and job.transcript == TRANSCRIPT
    assert (tmp_path / "prints" / "job-0001.txt").read_text(encoding="utf-8").splitlines() \
        == TRANSCRIPT
    assert events[-1].kind == "job_printed" and events[-1].data["job_id"] == JOB.job_id


def test_a_long_job_at_a_low_baud_rate_is_sent_in_pieces(virtual: VirtualPrinter) -> None:
    # socket:// ignores the baud rate, but the pieces are sized by it: 1200 baud, 1 s → 60 B.
    slow = SerialPrinter(f"socket://127.0.0.1:{virtual.port}", baudrate=1200, timeout=1.0)
    slow.open()
    try:
        slow.print_job(JOB)
    finally:
        slow.close()
    (job,) = virtual.wait_for_jobs(1)
    assert job.complete and job.transcript == TRANSCRIPT


@pytest.mark.parametrize(("state", "error"), [
    ({"paper": "out"}, PaperOut),
    ({"cover_open": True}, CoverOpen),
    ({"offline": True}, DeviceFault),
    ({"silent": True}, DeviceFault),
])
def test_nothing_is_sent_to_a_printer_that_cannot_print(
        virtual: VirtualPrinter, printer: StatusPrinter, state: dict[str, object],
        error: type[Exception]) -> None:
    virtual.set_state(**state)  # type: ignore[arg-type]
    with pytest.raises(error):
        printer.print_job(JOB)
    virtual.set_state()
    printer.print_job(JOB)
    (job,) = virtual.wait_for_jobs(1)   # the refused job never reached the printer
    assert job.number == 1 and job.complete


def test_paper_out_mid_job_then_reprint(virtual: VirtualPrinter, printer: StatusPrinter) -> None:
    virtual.run_out_after(2)
    with pytest.raises(PaperOut):
        printer.print_job(JOB)
    assert printer.status().paper is PaperLevel.OUT
    virtual.set_state(paper="ok")
    printer.print_job(JOB)
    partial, reprint = virtual.wait_for_jobs(2)
    assert (partial.complete, partial.transcript) == (False, LINES[:2])
    assert (reprint.complete, reprint.transcript) == (True, TRANSCRIPT)


def test_an_unreachable_port_is_reported_not_raised() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]   # closed again: nothing listens there
    for url in (f"socket://127.0.0.1:{port}", "/dev/tongban-no-such-tty"):
        serial_printer = SerialPrinter(url, timeout=1.0)
        serial_printer.open()
        status = serial_printer.status()
        assert status.state is DeviceState.NO_DEVICE and url in status.detail
        with pytest.raises(DeviceFault):
            serial_printer.print_job(JOB)
        serial_printer.close()


def test_a_printer_that_goes_away_fails_the_job_and_reconnects(tmp_path: Path) -> None:
    first = VirtualPrinter(out_dir=tmp_path / "a", font_path=FONT).start()
    serial_printer = SerialPrinter(f"socket://127.0.0.1:{first.port}", timeout=3.0)
    serial_printer.open()
    first.stop()
    with pytest.raises(DeviceFault):
        serial_printer.print_job(JOB)
    assert serial_printer.status().state is DeviceState.NO_DEVICE
    with VirtualPrinter(port=first.port, out_dir=tmp_path / "b", font_path=FONT) as second:
        serial_printer.print_job(JOB)                    # the next call opens the port again
        (job,) = second.wait_for_jobs(1)
        assert job.complete
    serial_printer.close()
