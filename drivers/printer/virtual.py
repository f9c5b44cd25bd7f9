"""A virtual ESC/POS network printer on a TCP port, for the real NetworkPrinter to talk to.

It parses what it receives, answers DLE EOT status queries at once from a settable state (bit
layouts of common 80 mm printers), and "prints" each job to ``job-NNNN.png`` and
``job-NNNN.txt``. Like a real printer, status answers do not wait for printing: jobs are drawn
on a worker thread, so use :meth:`VirtualPrinter.wait_for_jobs` before looking at them.

Paper trouble: ``set_state(paper="out")`` stops printing; ``run_out_after(lines)`` lets that
many more lines print and then runs out mid-job. What printed before is kept as a job with
``complete=False`` (files ``job-NNNN-incomplete.*``); what came after is lost, as on paper.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, cast

from drivers.printer.escpos_parse import (
    Cut,
    Element,
    EscPosError,
    Feed,
    StatusRequest,
    StreamParser,
    transcript,
)
from drivers.printer.escpos_render import ReceiptRenderer

log = logging.getLogger(__name__)

Paper = Literal["ok", "near_end", "out"]

_STATUS_BASE = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}    # fixed bits of each DLE EOT n reply
_OFFLINE = 0x08            # n=1 bit 3
_COVER_OPEN = 0x04         # n=2 bit 2
_PAPER_STOP = 0x20         # n=2 bit 5: printing stopped because the paper ended
_PAPER_SENSOR = {"ok": 0x00, "near_end": 0x0C, "out": 0x60}   # n=4 bits 2+3, bits 5+6


@dataclass
class VirtualJob:
    number: int
    elements: list[Element]
    transcript: list[str]
    complete: bool
    png: bytes = b""


@dataclass(frozen=True)
class _State:
    paper: Paper = "ok"
    cover_open: bool = False
    offline: bool = False
    silent: bool = False


@dataclass
class _JobInProgress:
    elements: list[Element] = field(default_factory=list)
    lost: bool = False         # something was not printed (paper out, cover open, offline)

    @property
    def started(self) -> bool:
        return bool(self.elements) or self.lost


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False     # server_close() joins the connection threads
    block_on_close = True

    def __init__(self, address: tuple[str, int], printer: VirtualPrinter) -> None:
        self.printer = printer
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        cast(_Server, self.server).printer._serve(cast(socket.socket, self.request))


class VirtualPrinter:
    """A thermal printer on ``host:port`` (port 0 picks a free one; see :attr:`port`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, out_dir: Path | None = None,
                 font_path: Path, dots_per_line: int = 576) -> None:
        self.host = host
        self.out_dir = out_dir
        self.dots_per_line = dots_per_line
        self.jobs: list[VirtualJob] = []          # drawn jobs, in order
        self.errors: list[EscPosError] = []       # a connection with bad bytes is dropped
        self._port = port
        self._renderer = ReceiptRenderer(font_path, dots_per_line)
        self._lock = threading.Lock()
        self._jobs_changed = threading.Condition()
        self._state = _State()
        self._lines_left: int | None = None
        self._job_count = 0
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._to_draw: queue.Queue[VirtualJob | None] = queue.Queue()

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port listened on (after start; it stays known after stop, for a restart)."""
        return self._port

    def start(self) -> VirtualPrinter:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name="virtual-printer-accept", daemon=True),
            threading.Thread(target=self._draw_jobs, name="virtual-printer-draw", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop open connections (their pending jobs end), draw what is left."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        self._to_draw.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- scripting ------------------------------------------------------------------------
    def set_state(self, paper: Paper = "ok", cover_open: bool = False, offline: bool = False,
                  silent: bool = False) -> None:
        """Set the whole state; ``silent`` makes it ignore status queries (but still print)."""
        if paper not in _PAPER_SENSOR:
            raise ValueError(f"unknown paper state {paper!r}")
        with self._lock:
            self._state = _State(paper, cover_open, offline, silent)
            self._lines_left = None

    def run_out_after(self, lines: int) -> None:
        """Paper for ``lines`` more lines (a feed of n counts n, a picture 1), then none."""
        with self._lock:
            self._lines_left = max(0, lines)

    def status_byte(self, n: int) -> int:
        """The reply to DLE EOT n (1 printer, 2 offline cause, 3 error cause, 4 paper)."""
        with self._lock:
            state = self._state
        paper_out = state.paper == "out"
        reply = _STATUS_BASE[n]
        if n == 1 and (state.offline or state.cover_open or paper_out):
            reply |= _OFFLINE      # a real printer also goes offline for cover and paper end
        if n == 2:
            reply |= (_COVER_OPEN if state.cover_open else 0) | (_PAPER_STOP if paper_out else 0)
        if n == 4:
            reply |= _PAPER_SENSOR[state.paper]
        return reply

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[VirtualJob]:
        """Wait until ``count`` jobs are drawn (and written); return all jobs so far."""
        with self._jobs_changed:
            if not self._jobs_changed.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise TimeoutError(f"{len(self.jobs)} of {count} print jobs after {timeout} s")
            return list(self.jobs)

    # --- one connection -------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
        parser, job = StreamParser(), _JobInProgress()
        try:
            while chunk := conn.recv(4096):
                elements: list[Element] = []
                try:
                    parser.feed(chunk, elements)
                finally:           # what came before bad bytes still prints
                    for element in elements:
                        job = self._on_element(element, conn, job)
            for element in parser.close():
                job = self._on_element(element, conn, job)
        except EscPosError as err:
            log.warning("virtual printer: %s", err)
            self.errors.append(err)
        except OSError:
            pass                   # the client went away or stop() shut the socket
        finally:
            self._end_job(job)
            with self._lock:
                self._connections.discard(conn)

    def _on_element(self, element: Element, conn: socket.socket,
                    job: _JobInProgress) -> _JobInProgress:
        if isinstance(element, StatusRequest):
            self._answer(element.n, conn)
        elif isinstance(element, Cut):
            if not job.started:
                return job         # a cut with nothing before it ends no job
            if self._consume(element):
                job.elements.append(element)
            else:
                job.lost = True
            self._end_job(job)
            return _JobInProgress()
        elif self._consume(element):
            job.elements.append(element)
        else:
            job.lost = True
        return job

    def _answer(self, n: int, conn: socket.socket) -> None:
        with self._lock:
            silent = self._state.silent
        if not silent:
            conn.sendall(bytes([self.status_byte(n)]))

    def _consume(self, element: Element) -> bool:
        """Whether the element prints; uses up paper when ``run_out_after`` is counting."""
        with self._lock:
            state = self._state
            if state.paper == "out" or state.cover_open or state.offline:
                return False
            if self._lines_left is None or isinstance(element, Cut):
                return True
            if self._lines_left <= 0:
                self._state = _State("out", state.cover_open, state.offline, state.silent)
                self._lines_left = None
                return False
            self._lines_left -= element.n if isinstance(element, Feed) else 1
            return True

    def _end_job(self, job: _JobInProgress) -> None:
        if not job.started:
            return
        with self._lock:
            self._job_count += 1
            number = self._job_count
        self._to_draw.put(VirtualJob(number, job.elements, transcript(job.elements),
                                     complete=not job.lost))

    # --- drawing --------------------------------------------------------------------------
    def _draw_jobs(self) -> None:
        while (job := self._to_draw.get()) is not None:
            try:
                job.png = self._renderer.render(job.elements)
                self._write_files(job)
            except Exception:      # keep the printer alive; the job is still recorded
                log.exception("virtual printer: cannot draw job %d", job.number)
            with self._jobs_changed:
                self.jobs.append(job)
                self._jobs_changed.notify_all()

    def _write_files(self, job: VirtualJob) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"job-{job.number:04d}" + ("" if job.complete else "-incomplete")
        (self.out_dir / f"{stem}.png").write_bytes(job.png)
        text = "".join(f"{line}\n" for line in job.transcript)
        (self.out_dir / f"{stem}.txt").write_text(text, encoding="utf-8")

