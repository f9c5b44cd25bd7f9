"""UsbPrinter without a USB printer: none is attached to this machine (or to CI's).

The first tests use the real python-escpos, pyusb and (when installed) libusb: an absent
device must be a ``no_device`` status. The rest are MOCKED because no USB printer can run here:
a stand-in replaces python-escpos's ``Usb`` connection object only (everything above it, the
status query, bounded reads, decoding and readiness checks, is the real code); its answers to
DLE EOT come from the virtual printer's status bytes, and its timeouts raise pyusb's own
``USBTimeoutError``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
import usb.core

from drivers.errors import DeviceFault
from drivers.printer import CoverOpen, PaperOut, PrintJob, ReceiptPrinter, usb_link
from drivers.printer.link import NO_REPLY
from drivers.printer.usb_link import UsbPrinter
from drivers.printer.virtual import VirtualPrinter
from drivers.status import DeviceState, PaperLevel

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Regular.otf"
ABSENT = (0xF1D0, 0x0BAD)            # no such vendor:product on any machine we run on
JOB = PrintJob("case-TB20240004", "receipt", raster_png=b"",
               escpos=b"\x1b@\x1c&" + "受理回执\n".encode("gbk") * 3000 + b"\x1dVB\x00")


# --- real python-escpos / pyusb, no device -----------------------------------------------
def test_an_absent_device_is_no_device_not_an_exception() -> None:
    printer = UsbPrinter(*ABSENT, timeout=1.0)
    fulfils: ReceiptPrinter = printer
    assert fulfils.name == "printer.usb" and fulfils.dots_per_line == 576
    printer.open()                                       # must not raise
    status = printer.status()
    assert status.state is DeviceState.NO_DEVICE and not status.usable
    assert "f1d0:0bad" in status.detail
    with pytest.raises(DeviceFault):
        printer.print_job(JOB)
    printer.close()
    assert printer.status().state is DeviceState.OFFLINE


def test_without_libusb_it_is_still_no_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: this machine has libusb, so pyusb's backend lookups are made to find none
    (pyusb then raises its NoBackendError inside python-escpos's open)."""
    import usb.backend.libusb0
    import usb.backend.libusb1
    import usb.backend.openusb

    for backend in (usb.backend.libusb1, usb.backend.libusb0, usb.backend.openusb):
        monkeypatch.setattr(backend, "get_backend", lambda *args, **kwargs: None)
    printer = UsbPrinter(*ABSENT, timeout=1.0)
    printer.open()
    status = printer.status()
    assert status.state is DeviceState.NO_DEVICE and "backend" in status.detail.lower()
    with pytest.raises(DeviceFault):
        printer.print_job(JOB)


# --- MOCKED: a stand-in for escpos.printer.Usb (no USB printer can run here) --------------
@dataclass
class _Device:
    """The ``device`` of the stand-in: what pyusb's ``usb.core.Device.read`` is called with."""

    replies: bytearray = field(default_factory=bytearray)
    reads: list[tuple[int, int, int]] = field(default_factory=list)
    packet: int = 64                 # bytes handed out per read (1 splits a reply)

    def read(self, endpoint: int, size: int, timeout: int) -> bytes:
        self.reads.append((endpoint, size, timeout))
        if not self.replies:
            time.sleep(timeout / 1000)                   # as libusb waits before giving up
            raise usb.core.USBTimeoutError("Operation timed out", errno=110)
        count = min(size, self.packet)
        data, self.replies[:count] = bytes(self.replies[:count]), b""
        return data


class _FakeUsb:
    """Stands in for ``escpos.printer.Usb``: records its arguments, answers DLE EOT n."""

    made: ClassVar[list[_FakeUsb]] = []
    virtual: VirtualPrinter
    silent = False
    fail_writes = False

    def __init__(self, idVendor: int, idProduct: int, timeout: int, in_ep: int,
                 out_ep: int) -> None:
        self.args = {"idVendor": idVendor, "idProduct": idProduct, "timeout": timeout,
                     "in_ep": in_ep, "out_ep": out_ep}
        self.device = _Device()
        self.written = bytearray()
        self.opened = self.closed = False
        _FakeUsb.made.append(self)

    def open(self, raise_not_found: bool = True) -> None:
        assert raise_not_found
        self.opened = True

    def close(self) -> None:
        self.closed = True

    def _raw(self, msg: bytes) -> None:
        if _FakeUsb.fail_writes:
            raise usb.core.USBError("No such device", errno=19)
        self.written += msg
        if _FakeUsb.silent:
            return
        for n in (1, 2, 3, 4):
            for _ in range(msg.count(bytes([0x10, 0x04, n]))):
                self.device.replies.append(self.virtual.status_byte(n))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakeUsb]]:
    _FakeUsb.made, _FakeUsb.silent, _FakeUsb.fail_writes = [], False, False
    _FakeUsb.virtual = VirtualPrinter(font_path=FONT)   # never started: status bytes only
    monkeypatch.setattr(usb_link, "Usb", _FakeUsb)
    yield _FakeUsb


def test_the_connection_gets_the_ids_endpoints_and_timeout(fake: type[_FakeUsb]) -> None:
    printer = UsbPrinter(0x0416, 0x5011, in_ep=0x81, out_ep=0x02, timeout=2.5)
    printer.open()
    (conn,) = fake.made
    assert conn.args == {"idVendor": 0x0416, "idProduct": 0x5011, "timeout": 2500,
                         "in_ep": 0x81, "out_ep": 0x02}
    assert conn.opened and conn.written.endswith(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")
    assert conn.device.reads and all(ep == 0x81 and 1 <= ms <= 2500
                                     for ep, _, ms in conn.device.reads)
    printer.close()
    assert conn.closed


@pytest.mark.parametrize(("state", "expected"), [
    ({}, (DeviceState.ONLINE, PaperLevel.FULL, "")),
    ({"paper": "near_end"}, (DeviceState.ONLINE, PaperLevel.LOW, "")),
    ({"paper": "out"}, (DeviceState.ONLINE, PaperLevel.OUT, "paper_out")),
    ({"cover_open": True}, (DeviceState.USER_ERROR, PaperLevel.FULL, "cover_open")),
    ({"offline": True}, (DeviceState.OFFLINE, PaperLevel.FULL, "offline")),
    ({"silent": True}, (DeviceState.OFFLINE, PaperLevel.UNKNOWN, NO_REPLY)),
])
@pytest.mark.parametrize("packet", [64, 1])
def test_replies_map_to_states(fake: type[_FakeUsb], state: dict[str, Any],
                               expected: tuple[DeviceState, PaperLevel, str],
                               packet: int) -> None:
    fake.virtual.set_state(**state)
    fake.silent = bool(state.get("silent"))              # the stand-in stays quiet
    printer = UsbPrinter(0x0416, 0x5011, timeout=0.3)    # short: the silent case waits it out
    printer.open()
    fake.made[0].device.packet = packet
    status = printer.status()
    assert (status.state, status.paper, status.detail) == expected
    printer.close()


def test_a_job_is_written_in_pieces_and_checked_after(fake: type[_FakeUsb]) -> None:
    printer = UsbPrinter(0x0416, 0x5011)
    printer.open()
    conn = fake.made[0]
    conn.written.clear()
    printer.print_job(JOB)
    assert JOB.escpos is not None and len(JOB.escpos) > 4096
    assert conn.written.count(JOB.escpos) == 1 and conn.written.endswith(
        b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")          # status asked again after the job


@pytest.mark.parametrize(("state", "error"), [
    ({"paper": "out"}, PaperOut), ({"cover_open": True}, CoverOpen),
    ({"offline": True}, DeviceFault)])
def test_nothing_is_sent_to_a_printer_that_cannot_print(fake: type[_FakeUsb],
                                                        state: dict[str, Any],
                                                        error: type[Exception]) -> None:
    fake.virtual.set_state(**state)
    printer = UsbPrinter(0x0416, 0x5011)
    printer.open()
    with pytest.raises(error):
        printer.print_job(JOB)
    assert JOB.escpos not in fake.made[0].written


def test_a_unplugged_printer_fails_the_job_and_reconnects(fake: type[_FakeUsb]) -> None:
    printer = UsbPrinter(0x0416, 0x5011)
    printer.open()
    fake.fail_writes = True
    with pytest.raises(DeviceFault):
        printer.print_job(JOB)
    assert printer.status().state is DeviceState.NO_DEVICE and fake.made[0].closed
    fake.fail_writes = False
    printer.print_job(JOB)                               # the next call opens it again
    assert JOB.escpos in fake.made[-1].written and len(fake.made) >= 2
