"""``kiosk demo --headless …`` that kills itself (SIGKILL) while the receipt's PDF renders:
after the case number is taken, before the package is committed — the ~1.5 s in which a
power cut or a crash once left a number with no trace. Run as a script by
tests/transfer/test_after_a_kill.py (not collected by pytest).

    kill_in_render.py demo --headless --matter GA-HJZM-001 --out DIR
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from kiosk.cli import main
from kiosk.documents import Renderer

_render_pdf = Renderer.pdf


def _pdf_or_die(self: Renderer, blocks: Any, title: str = "", *args: Any) -> bytes:
    if title.startswith("受理(代收)通知书"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _render_pdf(self, blocks, title, *args)


if __name__ == "__main__":
    Renderer.pdf = _pdf_or_die  # type: ignore[method-assign]
    sys.exit(main())   # argv from sys.argv: the process starts as a kiosk starts
