"""The demo's printer: a VirtualPrinter on 127.0.0.1 driven by the real NetworkPrinter, so
the demo exercises the same bytes, socket and status queries as a hall's TCP printer.

Scriptable like the emulated printer: ``set_paper``, ``run_out_after`` and ``refill``.
"""

from __future__ import annotations

from pathlib import Path

from drivers.printer import PrintJob
from drivers.printer.network import NetworkPrinter
from drivers.printer.virtual import VirtualPrinter
from drivers.status import DeviceStatus, EventSink, PaperLevel

_PAPER = {PaperLevel.FULL: "ok", PaperLevel.LOW: "near_end", PaperLevel.OUT: "out"}


class LoopbackPrinter:
    def __init__(self, out_dir: Path | None, font_path: Path, dots_per_line: int = 576,
                 name: str = "printer.loopback") -> None:
        self.name, self.dots_per_line = name, dots_per_line
        self.virtual = VirtualPrinter(out_dir=out_dir, font_path=font_path,
                                      dots_per_line=dots_per_line)
        self._network: NetworkPrinter | None = None

    def open(self, sink: EventSink | None = None) -> None:
        self.virtual.start()
        self._network = NetworkPrinter("127.0.0.1", self.virtual.port, timeout=2.0,
                                       dots_per_line=self.dots_per_line, name=self.name)
        self._network.open(sink)

    def close(self) -> None:
        if self._network is not None:
            self._network.close()
        self.virtual.stop()

    def status(self) -> DeviceStatus:
        return self._require().status()

    def print_job(self, job: PrintJob) -> None:
        self._require().print_job(job)

    def set_paper(self, level: PaperLevel) -> None:
        self.virtual.set_state(paper=_PAPER.get(level, "ok"))   # type: ignore[arg-type]

    def run_out_after(self, lines: int) -> None:
        self.virtual.run_out_after(lines)

    def refill(self) -> None:
        self.virtual.set_state(paper="ok")

    def _require(self) -> NetworkPrinter:
        if self._network is None:
            raise RuntimeError("printer not opened")
        return self._network
