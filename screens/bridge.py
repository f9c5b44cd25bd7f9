"""The one way device events and background work reach the screens: onto the Kivy clock.

Bus handlers run on device threads; Kivy widgets may only be touched on the main thread. So
every subscription and every background call here re-posts its result with
``Clock.schedule_once``. Screens never call a driver: they call ``KioskService`` methods
through ``run`` (off the UI thread) and get the outcome back on the UI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from kivy.clock import Clock

from kiosk.bus import EventBus

log = logging.getLogger(__name__)
T = TypeVar("T")


class UiBridge:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._unsubscribe: list[Callable[[], None]] = []
        # A few workers: a card read may wait 30 s for a card and must not hold up a print.
        # Each device still runs one call at a time on its own thread (Kiosk.run).
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ui-job")
        self.pending = 0
        self._count = threading.Lock()     # run() is called from the camera feed's thread too

    def subscribe(self, topic: str, handler: Callable[[str, Any], None]) -> None:
        def hop(topic: str, payload: Any) -> None:
            Clock.schedule_once(lambda _dt: handler(topic, payload))
        self._unsubscribe.append(self._bus.subscribe(topic, hop))

    def run(self, call: Callable[[], T], done: Callable[[T], None],
            failed: Callable[[BaseException], None]) -> Future[T]:
        """Run ``call`` off the UI thread; ``done(result)`` or ``failed(error)`` on it."""
        future = self._pool.submit(call)
        with self._count:
            self.pending += 1

        def finish(f: Future[T]) -> None:
            def on_ui(_dt: float) -> None:
                with self._count:
                    self.pending -= 1
                error = f.exception()
                if error is not None:
                    failed(error)
                else:
                    done(f.result())
            Clock.schedule_once(on_ui)

        future.add_done_callback(finish)
        return future

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
