"""Receipt printer on the network (raw TCP, usually port 9100) through python-escpos.

python-escpos's ``Network`` owns the socket and ``_raw()`` sends the job's ESC/POS bytes as they
are (the encoder wrote them; python-escpos's own text encoding mangles Chinese). Status queries,
their bounded wait and the readiness checks are :class:`~drivers.printer.link.StatusPrinter`'s;
this module only moves bytes over TCP.
"""

from __future__ import annotations

import socket
from typing import Any

from escpos.printer import Network

from drivers.printer.link import NO_REPLY, STATUS_QUERY, StatusPrinter, decode_status

__all__ = ["NO_REPLY", "STATUS_QUERY", "NetworkPrinter", "decode_status"]


class NetworkPrinter(StatusPrinter):
    """A ReceiptPrinter for an ESC/POS printer on ``host:port``.

    Calls block (up to ``timeout`` to connect or send, about a second for status); run them on
    the printer's worker thread. A lost connection is re-opened by the next call.
    """

    def __init__(self, host: str, port: int = 9100, timeout: float = 3.0,
                 dots_per_line: int = 576, name: str = "printer.network") -> None:
        super().__init__(name, timeout, dots_per_line)
        self.host = host
        self.port = port
        self._conn: Any = None               # escpos.printer.Network while connected

    # --- the link (called with the lock held) ---------------------------------------------
    def _connect(self) -> bool:
        if self._conn is not None:
            return True
        conn = Network(self.host, self.port, timeout=self.timeout)
        try:
            # Why not conn.open(): python-escpos 3.1 leaves the socket of a failed connect
            # unclosed, once per retry while a printer is off. Its _raw/_read/close are used.
            conn.device = socket.create_connection((self.host, self.port), self.timeout)
        except OSError as err:
            self._unreachable(f"cannot connect to {self.host}:{self.port}: {err}")
            return False
        self._conn = conn
        return True

    def _write(self, data: bytes) -> None:
        self._conn._raw(data)

    def _read(self, max_wait: float) -> bytes:
        sock: socket.socket = self._conn.device
        sock.settimeout(max_wait)
        try:
            chunk: bytes = self._conn._read()
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(self.timeout)
        if not chunk:
            raise ConnectionResetError("the printer closed the connection")
        return chunk

    def _discard_stale(self) -> None:
        sock: socket.socket = self._conn.device
        sock.setblocking(False)
        try:
            while sock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            sock.settimeout(self.timeout)

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
