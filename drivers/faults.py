"""Faults a scriptable emulator shows on demand (a card pulled mid-read, paper out, a camera
unplugged): one helper for every emulator instead of a set and a check in each.

``inject`` refuses a fault the device does not know; each change is reported as a ``fault``
event (``fault``, ``active``) through the device's StatusReporter, when it has one; a one-shot
fault (a single garbled frame) is taken with ``consume``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, get_args

from drivers.status import StatusReporter


def names_of(literal: Any) -> tuple[str, ...]:
    """The fault names of a ``Literal[...]`` type."""
    return tuple(get_args(literal))


class Faults:
    def __init__(self, device: str, known: Iterable[str],
                 reporter: StatusReporter | None = None) -> None:
        self.device = device
        self.known = tuple(known)
        self._reporter = reporter
        self._lock = threading.Lock()
        self._active: set[str] = set()

    def inject(self, fault: str) -> None:
        if fault not in self.known:
            raise ValueError(f"unknown {self.device} fault {fault!r}; "
                             f"expected one of {', '.join(self.known)}")
        with self._lock:
            new = fault not in self._active
            self._active.add(fault)
        if new:
            self._emit(fault, True)

    def clear(self) -> None:
        with self._lock:
            cleared, self._active = sorted(self._active), set()
        for fault in cleared:
            self._emit(fault, False)

    def consume(self, fault: str) -> bool:
        """True once for an injected fault, which is then gone (one garbled frame)."""
        with self._lock:
            present = fault in self._active
            self._active.discard(fault)
        if present:
            self._emit(fault, False)
        return present

    @property
    def active(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._active)

    def __contains__(self, fault: object) -> bool:
        with self._lock:
            return fault in self._active

    def _emit(self, fault: str, active: bool) -> None:
        if self._reporter is not None:
            self._reporter.emit("fault", fault=fault, active=active)
