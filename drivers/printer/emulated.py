"""Emulated receipt printer: records jobs, optionally saves their PNG, and fakes paper trouble.

Jobs are identified by ``job_id`` and printed at most once: a receipt must never come out
twice (the citizen would hold two "originals"), so a resubmitted job that is already held
or already printed is not duplicated. A reprint is a new job with a new id.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Literal

from drivers.errors import DeviceFault
from drivers.faults import Faults, names_of
from drivers.printer import CoverOpen, PaperOut, PrintJob
from drivers.status import DeviceState, DeviceStatus, EventSink, PaperLevel, StatusReporter

PrinterFault = Literal["offline", "cover_open", "paper_out_mid_job"]

_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9_-]+")


class EmulatedPrinter:
    """A ReceiptPrinter that prints into ``printed`` (and PNG files in ``out_dir``).

    The sink is called with the printer's lock held so events arrive in order; a sink must
    only enqueue.
    """

    def __init__(self, out_dir: Path | None = None, dots_per_line: int = 576,
                 name: str = "printer.emulated") -> None:
        self.name = name
        self.dots_per_line = dots_per_line
        self.out_dir = out_dir
        self.printed: list[PrintJob] = []
        self.pending: list[PrintJob] = []   # cut short by paper-out, waiting for refill()
        self._lock = threading.RLock()      # reentrant: a sink may call back in
        self._paper = PaperLevel.FULL
        self._open = False
        self._reporter = StatusReporter(name)
        # no fault events: a printer reports a fault through its status (DLE EOT), as a real one
        self._faults = Faults(name, names_of(PrinterFault))
        self._refresh_status()

    # --- ReceiptPrinter -------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        with self._lock:
            self._reporter.set_sink(sink)
            self._open = True
            self._refresh_status()

    def close(self) -> None:
        with self._lock:
            self._open = False
            self._refresh_status()

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def print_job(self, job: PrintJob) -> None:
        with self._lock:
            if self._already_printed(job.job_id):
                return  # exactly once: the first submission already came out
            self._raise_if_not_ready()
            if self._paper is PaperLevel.OUT:
                self._hold(job)
                raise PaperOut()
            self._print_one(job)

    # --- scripting ------------------------------------------------------------------------
    def set_paper(self, level: PaperLevel) -> None:
        """Set the paper sensor; LOW still prints (staff are warned through the status)."""
        with self._lock:
            self._paper = level
            self._refresh_status()

    def refill(self) -> list[PrintJob]:
        """Load paper and print every held job once, in order; return the jobs printed.

        Raises like print_job if the printer is offline or its cover is open (jobs stay held).
        """
        with self._lock:
            self.set_paper(PaperLevel.FULL)
            self._raise_if_not_ready()
            done: list[PrintJob] = []
            while self.pending:
                self._print_one(self.pending[0])  # may raise again on a paper_out_mid_job fault
                done.append(self.printed[-1])
            return done

    def inject(self, fault: PrinterFault) -> None:
        with self._lock:
            self._faults.inject(fault)
            self._refresh_status()

    def clear_faults(self) -> None:
        """Clear injected faults; the paper level stays as it is (refill() restores it)."""
        with self._lock:
            self._faults.clear()
            self._refresh_status()

    # --- internals (call with the lock held) ----------------------------------------------
    def _already_printed(self, job_id: str) -> bool:
        return any(done.job_id == job_id for done in self.printed)

    def _raise_if_not_ready(self) -> None:
        if not self._open:
            raise DeviceFault("打印机未就绪", "The printer is not open")
        if "offline" in self._faults:
            raise DeviceFault("打印机离线，请联系现场工作人员",
                              "The printer is offline: please call staff")
        if "cover_open" in self._faults:
            raise CoverOpen()

    def _hold(self, job: PrintJob) -> None:
        if all(held.job_id != job.job_id for held in self.pending):
            self.pending.append(job)
            self._reporter.emit("job_held", job_id=job.job_id, job_kind=job.kind)

    def _print_one(self, job: PrintJob) -> None:
        if self._faults.consume("paper_out_mid_job"):
            # Why: the roll runs out half way; the half-printed slip is worthless, so the
            # whole job is held and printed again in full after the refill.
            self._paper = PaperLevel.OUT
            self._hold(job)
            self._refresh_status()
            raise PaperOut()
        self._save_png(job, len(self.printed) + 1)
        self.printed.append(job)
        self.pending = [held for held in self.pending if held.job_id != job.job_id]
        self._reporter.emit("job_printed", job_id=job.job_id, job_kind=job.kind)

    def _save_png(self, job: PrintJob, number: int) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        kind = _UNSAFE_IN_FILENAME.sub("_", job.kind) or "job"
        (self.out_dir / f"job-{number:04d}-{kind}.png").write_bytes(job.raster_png)

    def _refresh_status(self) -> None:
        if not self._open or "offline" in self._faults:
            state, detail = DeviceState.OFFLINE, "closed" if not self._open else "offline"
        elif "cover_open" in self._faults:
            state, detail = DeviceState.USER_ERROR, "cover_open"
        else:
            state, detail = DeviceState.ONLINE, ""
        self._reporter.update(state, self._paper, detail)
