"""Whether the kiosk is alive enough to deserve a watchdog ping.

The ping is sent from the UI thread's clock (screens/supervision.py), so a hung UI thread
sends none by construction. The device workers are checked by their heartbeat: each check
puts a no-op on every worker and the next check looks whether it ran. A worker that has
not run its probe for ``stall_s`` (longer than any device call may legitimately block: a
card read waits for ``session.read_timeout_s``) is stuck in a driver, and the kiosk with it.
Background threads (status poll, uploader) must simply still be running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

DEFAULT_STALL_S = 120.0


@dataclass
class _Probe:
    future: Future[None]
    sent_at: float


@dataclass
class Liveness:
    """``workers``: the device workers now (kind → executor; they are created lazily);
    ``threads``: names of threads that must be alive once they were seen running."""

    workers: Callable[[], Mapping[str, Executor]]
    clock: Callable[[], float]
    threads: Iterable[str] = ()
    stall_s: float = DEFAULT_STALL_S
    _probes: dict[str, _Probe] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)
    _missing: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is dead or stuck (empty: alive). Call it from the pinging thread."""
        return self._stalled_workers() + self._dead_threads()

    def _stalled_workers(self) -> list[str]:
        now, stalled = self.clock(), []
        for kind, worker in self.workers().items():
            probe = self._probes.get(kind)
            if probe is not None and not probe.future.done():
                if now - probe.sent_at >= self.stall_s:
                    stalled.append(f"worker {kind} stalled {now - probe.sent_at:.0f}s")
                continue
            try:
                self._probes[kind] = _Probe(worker.submit(_beat), now)
            except RuntimeError:          # shut down: the kiosk is closing or swapping
                self._probes.pop(kind, None)
        return stalled

    def _dead_threads(self) -> list[str]:
        """Missing at two checks in a row: a configuration swap replaces these threads, and
        for a moment neither the old nor the new one runs."""
        alive = {t.name for t in threading.enumerate() if t.is_alive()}
        self._seen |= alive & set(self.threads)
        for name in self._seen:
            self._missing[name] = 0 if name in alive else self._missing.get(name, 0) + 1
        return [f"thread {name} died" for name in sorted(self._seen)
                if self._missing[name] >= 2]


def _beat() -> None:
    """A worker's heartbeat: it ran."""
