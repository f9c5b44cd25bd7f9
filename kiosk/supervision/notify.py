"""systemd's service notification protocol (sd_notify(3)): one datagram of ``KEY=VALUE``
lines to the AF_UNIX socket named by ``$NOTIFY_SOCKET``.

Our own client, not a library: the protocol is one ``sendto`` and systemd documents it as a
stable interface meant to be reimplemented (sd_notify(3), NOTES). The maintained bindings
bring far more into the process that holds citizens' data (cysystemd: libsystemd, libgcrypt,
lz4, lzma and zstd, 2.4 MB of native code; systemd-python: built against libsystemd-dev, no
wheels), and the pure-Python ``sdnotify`` has had no release since 2017 (see pyproject.toml).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)
MAX_DATAGRAM = 4096            # our messages are a few dozen bytes; a bound all the same


class Notifier:
    """Sends states to systemd; does nothing when the process is not a notify service (no
    ``$NOTIFY_SOCKET``: a developer's shell, the UI tests). Never raises: a lost datagram
    is systemd's to judge (a missing WATCHDOG=1 restarts us), not a reason to stop serving."""

    def __init__(self, address: str | None = None) -> None:
        address = os.environ.get("NOTIFY_SOCKET") if address is None else address
        self.address = _socket_address(address) if address else None
        self.sent: list[str] = []      # what was sent (diagnostics, tests)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *states: str) -> bool:
        """Send ``states`` (``READY=1``, ``WATCHDOG=1``, ...) as one datagram."""
        if self.address is None:
            return False
        message = "\n".join(states).encode()[:MAX_DATAGRAM]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                # never wait: the sender is the UI thread, and a datagram socket whose reader
                # lags (queue of net.unix.max_dgram_qlen, 10 by default) blocks a sender
                s.sendto(message, socket.MSG_DONTWAIT, self.address)
        except OSError as exc:
            log.warning("sd_notify %s not sent: %s", states[0].split("=")[0],
                        exc.strerror or type(exc).__name__)
            return False
        self.sent.extend(states)
        return True


def _socket_address(address: str) -> str:
    """A path, or ``@name`` for a socket in the abstract namespace (a leading NUL)."""
    return "\0" + address[1:] if address.startswith("@") else address


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Half the watchdog timeout systemd set for this process (``WatchdogSec=``), the
    ping interval sd_watchdog_enabled(3) recommends; None when there is no watchdog, or it
    is meant for another process (``$WATCHDOG_PID``)."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
