"""What the program that runs the kiosk starts beside the app, in one place: the rotating
log file and, with a UPS configured, the power watch.

    unattended = start_unattended(settings, lambda: kiosk.lifecycle, stop_app)
    try:
        app.run()
    finally:
        kiosk.close()
        status = unattended.finish()     # runs the poweroff request after a UPS shut-down
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.lifecycle import Lifecycle
from kiosk.ops.logs import KioskLogFile, install_log_file
from kiosk.ops.power import PowerWatch, power_off
from kiosk.settings import Settings


@dataclass
class Unattended:
    settings: Settings
    log: KioskLogFile
    power: PowerWatch | None

    def finish(self) -> int:
        """After the kiosk is closed: the exit status (and the poweroff request, when the
        UPS's battery ran low)."""
        if self.power is None:
            return 0
        self.power.stop()
        return power_off(self.settings.power) if self.power.shutting_down else 0


def start_unattended(settings: Settings, lifecycle: Callable[[], Lifecycle],
                     stop_app: Callable[[], None]) -> Unattended:
    """``stop_app``: ends the app's main loop (called from the UPS thread)."""
    log = install_log_file(settings)
    power = None
    if settings.power.ups_host:
        power = PowerWatch(settings.power, lifecycle, stop_app)
        power.start()
    return Unattended(settings, log, power)
