"""The nightly window (``[hours] nightly``): the app restarts once between sessions in it
(a fresh process every day: no leak or stuck state lives longer), and the nightly job
(``kiosk maintenance nightly``, run by the installed timer) does the housekeeping."""

from __future__ import annotations

from datetime import datetime, time

from kiosk.hours import in_window

RESTART_EXIT = 75       # EX_TEMPFAIL: the unit restarts on it (RestartForceExitStatus=75)


def restart_due(window: str, started_at: datetime, now: datetime) -> bool:
    """Whether a process started at ``started_at`` should restart now: ``now`` is in
    today's window and the process is older than the window's start today."""
    if not window or not in_window(window, now.time()):
        return False
    start = datetime.combine(now.date(), time.fromisoformat(window.split("-")[0]),
                             now.tzinfo)
    return started_at < start
