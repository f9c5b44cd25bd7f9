"""NetworkPrinter specifics against the virtual printer on real TCP (the behaviour every
link shares is in test_printer_links.py)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from drivers.errors import DeviceError, DeviceFault
from drivers.printer import PrintJob
from drivers.printer.network import NO_REPLY, NetworkPrinter
from drivers.printer.virtual import VirtualPrinter
from drivers.status import DeviceEvent, DeviceState, PaperLevel

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Regular.otf"
PAYLOAD = "https://tongban.example.gov.cn/q/TB20240002"
LINES = ["跨域通办受理回执", "受理编号：TB20240002", "申请人：李四", "事项：异地就医备案。"]


def _receipt() -> bytes:
    store = b"1P0" + PAYLOAD.encode()
    text = b"".join(line.encode("gbk") + b"\n" for line in LINES)
    return (b"\x1b@\x1c&" + text + b"\x1ba\x01"
            + b"\x1d(k\x03\x001C\x06" + b"\x1d(k" + len(store).to_bytes(2, "little") + store
            + b"\x1d(k\x03\x001Q0" + b"\x1bd\x02" + b"\x1dVB\x00")


JOB = PrintJob("case-TB20240002", "receipt", raster_png=b"", escpos=_receipt())
TRANSCRIPT = [*LINES, f"[QR] {PAYLOAD}", "[CUT]"]


@pytest.fixture
def printer(virtual: VirtualPrinter, events: list[DeviceEvent]) -> Iterator[NetworkPrinter]:
    network = NetworkPrinter("127.0.0.1", virtual.port, timeout=3.0)
    network.open(events.append)
    yield network
    network.close()


class _GarbledPrinter:
    """A TCP peer that answers every write with bytes that are not DLE EOT replies."""

    def __init__(self, reply: bytes) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            while conn.recv(64):
                conn.sendall(self.reply)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5.0)


@pytest.mark.parametrize("reply", [b"\xff\x00\x80", b"OK\r\n", b"\x16"])
def test_garbled_or_short_reply_is_never_paper_ok(reply: bytes) -> None:
    peer = _GarbledPrinter(reply)
    network = NetworkPrinter("127.0.0.1", peer.port, timeout=3.0)
    try:
        network.open()
        status = network.status()
        assert (status.paper, status.detail, status.usable) == (PaperLevel.UNKNOWN, NO_REPLY,
                                                                False)
        with pytest.raises(DeviceFault):
            network.print_job(JOB)
    finally:
        network.close()
        peer.close()


def test_a_job_comes_out_as_png_and_transcript(virtual: VirtualPrinter, printer: NetworkPrinter,
                                               events: list[DeviceEvent], tmp_path: Path) -> None:
    printer.print_job(JOB)
    (job,) = virtual.wait_for_jobs(1)
    assert job.complete and job.transcript == TRANSCRIPT
    out = tmp_path / "prints"
    assert (out / "job-0001.txt").read_text(encoding="utf-8").splitlines() == TRANSCRIPT
    with Image.open(out / "job-0001.png") as image:
        assert [symbol.data.decode() for symbol in decode(image)] == [PAYLOAD]
    assert events[-1].kind == "job_printed" and events[-1].data["job_id"] == JOB.job_id


def test_a_job_without_escpos_bytes_is_refused(printer: NetworkPrinter) -> None:
    with pytest.raises(DeviceError) as caught:
        printer.print_job(PrintJob("x", "receipt", raster_png=b"png only"))
    assert caught.value.code == "no_escpos"


def test_an_unreachable_printer_is_reported_not_raised() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]   # closed again: nothing listens there
    network = NetworkPrinter("127.0.0.1", port, timeout=1.0)
    network.open()
    assert network.status().state is DeviceState.NO_DEVICE
    with pytest.raises(DeviceFault):
        network.print_job(JOB)
    network.close()


def test_a_printer_that_goes_away_fails_the_job_and_reconnects(tmp_path: Path) -> None:
    first = VirtualPrinter(out_dir=tmp_path / "a", font_path=FONT).start()
    network = NetworkPrinter("127.0.0.1", first.port, timeout=3.0)
    network.open()
    first.stop()
    with pytest.raises(DeviceFault):
        network.print_job(JOB)
    assert network.status().state is DeviceState.NO_DEVICE
    with VirtualPrinter(port=first.port, out_dir=tmp_path / "b", font_path=FONT) as second:
        network.print_job(JOB)                           # the next call connects again
        (job,) = second.wait_for_jobs(1)
        assert job.complete
    network.close()
