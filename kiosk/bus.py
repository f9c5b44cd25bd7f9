"""A small thread-safe publish/subscribe bus. One instance per kiosk, passed explicitly.

Handlers run on the publisher's thread (a device worker, usually); screens/ hops onto the
Kivy clock itself. A failing handler is logged and does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
Handler = Callable[[str, Any], None]
ALL = "*"


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler(topic, payload)`` for each event on ``topic`` (or ``*``)."""
        with self._lock:
            self._handlers[topic].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers[topic]:
                    self._handlers[topic].remove(handler)

        return unsubscribe

    def publish(self, topic: str, payload: Any = None) -> None:
        with self._lock:
            handlers = [*self._handlers.get(topic, ()), *self._handlers.get(ALL, ())]
        for handler in handlers:
            try:
                handler(topic, payload)
            except Exception:  # why: one broken subscriber must not stop a device thread
                log.exception("event handler failed for topic %s", topic)
