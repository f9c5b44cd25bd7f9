"""Keeping a rig subprocess's output pipes drained (a full pipe would block the server)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO


def drain(stream: IO[str] | None, sink: Callable[[str], None],
          at_eof: Callable[[], None] | None = None, *, name: str = "rig-pipe"
          ) -> threading.Thread:
    """Feed each line of ``stream`` to ``sink`` on a daemon thread; ``at_eof`` once it ends."""

    def run() -> None:
        if stream is not None:
            with stream:
                for line in stream:
                    sink(line)
        if at_eof is not None:
            at_eof()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
