"""The kiosk program's entry (the ``kiosk`` console script): its command line, and the
touchscreen app, whose window is configured BEFORE Kivy creates it.

Kivy reads its window settings when ``kivy.core.window`` is first imported, so nothing here
imports the app until the configuration is set.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk import cli
from kiosk.bootstrap import build_kiosk
from kiosk.fleet.node import FleetNode
from kiosk.ops.unattended import start_unattended
from kiosk.settings import Settings
from kiosk.staff.demo import local_authority

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


def configure(settings: Settings, locked: bool = False) -> None:
    """``locked``: ``kiosk run``, nothing leaves or inspects the app (screens/lockdown.py)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")          # our CLI owns the arguments
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")    # keep the kiosk's own log handlers
    from kivy.config import Config

    width, height = SIZES[settings.ui.orientation]
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    full = settings.ui.fullscreen
    Config.set("graphics", "fullscreen", "auto" if full else "0")
    Config.set("graphics", "borderless", "1" if full else "0")
    Config.set("graphics", "show_cursor", "0" if full else "1")
    Config.set("kivy", "exit_on_escape", "0")   # no way out but staff mode (a later issue)
    Config.set("input", "mouse", "mouse,multitouch_on_demand")   # no red multitouch dots
    if locked:
        from screens.lockdown import configure_lockdown

        configure_lockdown()


def main(argv: list[str] | None = None) -> int:
    """The ``kiosk`` program: its command line, with the touchscreen app for ``kiosk demo``
    and ``kiosk run``. The composition root of the whole kiosk."""
    ran: list[bool] = []

    def app(settings: Settings, demo: bool) -> int | None:
        code = launch_app(settings, demo)
        ran.append(code is not None)
        return code
    code = cli.main(argv, app=app)
    if argv is None and any(ran):      # the process's own entry, and the window was open
        end_process(code)
    return code


def end_process(code: int) -> None:
    """End the process once the app has closed the kiosk (devices, ledger, threads). Not the
    interpreter's own teardown: freeing half a million objects and Kivy's GL and SDL state
    took 1.5–2 s after SIGTERM, and nothing of the kiosk is left for it to do."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def launch_app(settings: Settings, demo: bool) -> int | None:
    """The app on this machine's display; None when there is none."""
    return run(settings, demo) if has_display() else None


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("SDL_VIDEODRIVER"))


def run(settings: Settings, demo: bool) -> int:
    if not demo:                          # `kiosk run`: the kiosk PC, under systemd
        configure(settings, locked=True)
        from screens.production import run_production

        return run_production(settings)
    if settings.fleet.repository:
        return run_fleet(settings, demo)
    configure(settings)
    from screens.app import KioskApp

    kiosk = build_kiosk(settings)
    kiosk.open(datetime.now())
    kiosk.start_polling()
    kiosk.start_uploader()
    # no fleet, so no roster: the demo's fictional staff member (kiosk/staff/demo.py)
    app = KioskApp(kiosk, demo=demo,
                   staff=local_authority(settings, lambda: kiosk.lifecycle, demo=demo))
    unattended = start_unattended(settings, lambda: kiosk.lifecycle, _stopper(app))
    try:
        app.run()
    finally:
        kiosk.close()
    # a UPS shut-down: poweroff requested, exit status 76; staff's exit to the desktop: 77
    return unattended.finish() or (app.exit_status or 0)


def run_fleet(local: Settings, demo: bool) -> int:
    """A fleet-managed kiosk: the configuration agent swaps kiosks; the screens follow."""
    node = FleetNode.build(local)
    try:
        configure(node.host.kiosk.settings)   # the window of the version it starts on
        from screens.app import KioskApp

        node.start()
        app = KioskApp(node.host.kiosk, demo=demo, host=node.host, staff=node.staff)
        unattended = start_unattended(local, lambda: node.host.kiosk.lifecycle, _stopper(app))
        app.run()
    finally:
        node.close()
    return unattended.finish() or (app.exit_status or 0)


def _stopper(app: Any) -> Callable[[], None]:
    """Ends the app's main loop from another thread (the UPS watch's)."""
    from kivy.clock import Clock

    return lambda: Clock.schedule_once(lambda _dt: app.stop())
