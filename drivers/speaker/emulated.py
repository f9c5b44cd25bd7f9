"""Emulated speaker for the demo, UI tests and CI: records what it was asked to say.

Speaking takes no time here, so a prompt is "spoken" as soon as ``say`` returns; tests read
``spoken`` and ``chimes`` or wait for a count with ``wait_for``. Faults: "unplugged"
(NO_DEVICE; prompts are silently dropped, as the real backend does when eSpeak NG is missing).
"""

from __future__ import annotations

import threading

from drivers.speaker import check_lang
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

FAULTS = ("unplugged",)


class EmulatedSpeaker:
    """Speaker backend with no sound. Thread-safe: one lock guards all state."""

    def __init__(self, name: str = "speaker.emulated") -> None:
        self.name = name
        self.spoken: list[tuple[str, str]] = []    # (text, lang), oldest first
        self.stops = 0                             # how often stop() silenced it
        self.chimes = 0                            # attention chimes played
        # Reentrant: the sink runs under the lock and may call say() back.
        self._cond = threading.Condition(threading.RLock())
        self._reporter = StatusReporter(name)
        self._opened = False
        self._faults: set[str] = set()

    def open(self, sink: EventSink | None = None) -> None:
        with self._cond:
            self._reporter.set_sink(sink)
            self._opened = True
            self._refresh_status()

    def close(self) -> None:
        with self._cond:
            self._opened = False
            self._refresh_status()

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def say(self, text: str, lang: str = "zh") -> None:
        check_lang(lang)
        with self._cond:
            if not self._opened or self._faults or not text.strip():
                return
            self.spoken.append((text, lang))
            self._reporter.emit("spoken", seq=len(self.spoken), text=text, lang=lang)
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stops += 1

    def chime(self, then: str = "", lang: str = "zh") -> None:
        check_lang(lang)
        with self._cond:
            if not self._opened or self._faults:
                return
            self.chimes += 1
            self._reporter.emit("chimed", count=self.chimes)
        self.say(then, lang)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` prompts were spoken; False when ``timeout`` passed."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.spoken) >= count, timeout)

    @property
    def last(self) -> tuple[str, str] | None:
        with self._cond:
            return self.spoken[-1] if self.spoken else None

    def inject(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        with self._cond:
            self._faults.add(fault)
            self._refresh_status()

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._refresh_status()

    def _refresh_status(self) -> None:
        if not self._opened:
            self._reporter.update(DeviceState.OFFLINE)
        elif "unplugged" in self._faults:
            self._reporter.update(DeviceState.NO_DEVICE, detail="unplugged")
        else:
            self._reporter.update(DeviceState.ONLINE)
