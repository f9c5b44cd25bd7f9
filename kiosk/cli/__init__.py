"""The kiosk's command line (``python -m kiosk``; with the touchscreen app, the ``kiosk``
console script): :mod:`.main` (demo, catalogue, config) and one module per group of commands
— :mod:`.printing`, :mod:`.devices`, :mod:`.scan`, :mod:`.outbox` (outbox and keys)."""

from kiosk.cli.main import main

__all__ = ["main"]
