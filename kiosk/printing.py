"""Printing on the kiosk's side: render a document for the configured printer, keep a job
that paper-out interrupted and print it once, complete, after a refill; keep the last few
receipts in memory (never on disk: they carry the applicant's name) for a staff member's reprint.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from drivers.printer import PaperOut, PrintJob, ReceiptPrinter
from drivers.printer.escpos_encode import encode
from drivers.printer.escpos_parse import parse
from drivers.printer.escpos_render import ReceiptRenderer
from drivers.printer.program import PrinterProfile, Raster
from kiosk.documents import Renderer
from kiosk.documents.blocks import Block
from kiosk.documents.thermal import to_program

log = logging.getLogger(__name__)
Runner = Callable[[Callable[[], None]], Future[None]]


class PrintService:
    def __init__(self, printer: ReceiptPrinter, run: Runner, profile: PrinterProfile,
                 renderer: Renderer, keep_last: int = 5, logo: bytes | None = None) -> None:
        self.printer, self._run, self.profile, self._renderer = printer, run, profile, renderer
        self.logo = logo                    # PNG printed above every document, if set
        self.pending: list[PrintJob] = []
        self.recent: deque[PrintJob] = deque(maxlen=keep_last)
        self._reprints = 0
        self._paper: ReceiptRenderer | None = None    # made on the first job: it loads fonts

    def job(self, job_id: str, kind: str, blocks: list[Block]) -> PrintJob:
        """The exact bytes for this printer, plus the picture of what those bytes print (the
        same lines, not a second layout: an emulated printer's image is the real paper)."""
        program = to_program(blocks)
        if self.logo:
            program = [Raster(self.logo), *program]
        escpos = encode(program, self.profile, self._font)
        if self._paper is None:
            self._paper = ReceiptRenderer(self._font, self.profile.dots_per_line)
        return PrintJob(job_id, kind, self._paper.render(parse(escpos)), escpos)

    @property
    def _font(self) -> Path:
        return self._renderer.font

    def print(self, job: PrintJob, hold: bool = True) -> bool:
        """True if printed; False if paper ran out (the job is kept for ``retry_pending``,
        unless ``hold`` is False: a paper nobody waits for should not come out later)."""
        if not self._send(job):
            if hold and all(p.job_id != job.job_id for p in self.pending):
                self.pending.append(job)
            log.warning("print job %s %s: paper out", job.job_id, "held" if hold else "dropped")
            return False
        self.recent.append(job)
        return True

    def retry_pending(self) -> list[str]:
        """After a refill: send each held job once more, under the SAME id, in order — a
        printer that kept the job itself (and printed it on refill) then prints nothing."""
        done = []
        while self.pending:
            job = self.pending[0]
            if not self._send(job):
                break
            self.pending.pop(0)
            self.recent.append(job)
            done.append(job.job_id)
        return done

    def reprint_last(self, n: int = 1) -> list[str]:
        """Staff mode: reprint the last ``n`` documents (newest first), as new jobs."""
        done = []
        for job in list(self.recent)[-n:][::-1]:
            self._reprints += 1
            again = PrintJob(f"{job.job_id}-r{self._reprints}", job.kind, job.raster_png,
                             job.escpos)
            if self._send(again):
                done.append(job.job_id)
        return done

    def _send(self, job: PrintJob) -> bool:
        try:
            self._run(lambda: self.printer.print_job(job)).result()
        except PaperOut:
            return False
        return True
