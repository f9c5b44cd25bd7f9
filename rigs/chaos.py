"""A TCP proxy between the kiosk and its uplink that misbehaves on request, the way a hall's
network does: a slow link, latency, a connection reset mid-upload, a stretch of silence, an
HTTP error in place of the reply to a request the server did carry out.

A hall's link is ``throttle`` (a token bucket per direction, shared by all connections) plus
``delay`` (one-way latency per direction): each direction is a delay line that keeps reading
while bytes are in flight, as a real link carries a window of data during a round trip, so
latency costs a protocol its round trips and not its streaming rate.

One selector thread runs every connection, so a reset can close both sockets with a true RST
(SO_LINGER 0) without racing a thread blocked in recv/send. Faults may be changed from any
thread at any time; byte triggers count client→server bytes actually forwarded."""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field

_CHUNK = 65536
_RST = struct.pack("ii", 1, 0)          # SO_LINGER on, 0 s: close() sends RST, not FIN


def token_bucket(tokens: float, elapsed: float, rate: float, burst: float,
                 size: int) -> tuple[float, float]:
    """Refill ``tokens`` (bytes) for ``elapsed`` seconds at ``rate`` bytes/s up to ``burst``,
    then spend ``size``. The balance may go negative (a debt): the caller waits the returned
    seconds, the time the debt takes to refill, before sending. Returns (balance, wait)."""
    balance = min(burst, tokens + elapsed * rate) - size
    return balance, (-balance / rate if balance < 0 else 0.0)


def bucket_burst(rate: float) -> float:
    """Bucket depth for ``rate`` bytes/s: a tenth of a second, at least one small segment."""
    return max(1024.0, rate / 10)


def in_flight_limit(rate: float | None, delay: float, burst: float) -> int:
    """Bytes one direction may hold: one read without shaping (the proxy as a plain relay);
    on a shaped link what the link carries during the delay, its bucket and one read more."""
    if rate is None:
        return _CHUNK * (1 + (8 if delay > 0 else 0))
    return int(_CHUNK + burst + rate * delay)


@dataclass
class DelayLine:
    """Data of one direction in flight: each piece leaves at its own time, in order."""

    pieces: deque[tuple[float, bytes]] = field(default_factory=deque)
    size: int = 0

    def push(self, data: bytes, leaves_at: float) -> None:
        # never before the piece ahead of it: a link does not reorder
        if self.pieces:
            leaves_at = max(leaves_at, self.pieces[-1][0])
        self.pieces.append((leaves_at, data))
        self.size += len(data)

    def due(self, now: float) -> bytes:
        """The first piece, if it may leave by ``now`` (else b"")."""
        return self.pieces[0][1] if self.pieces and self.pieces[0][0] <= now else b""

    def next_at(self) -> float | None:
        return self.pieces[0][0] if self.pieces else None

    def sent(self, count: int) -> None:
        """``count`` bytes of the first piece left."""
        leaves_at, data = self.pieces[0]
        if count >= len(data):
            self.pieces.popleft()
        else:
            self.pieces[0] = (leaves_at, data[count:])
        self.size -= min(count, len(data))


@dataclass(eq=False)
class _Flow:
    src: socket.socket
    dst: socket.socket
    up: bool                            # client → server
    line: DelayLine = field(default_factory=DelayLine)
    eof: bool = False
    shut: bool = False
    replace_reply: bytes = b""          # sent instead of the next data from src, then EOF


class ChaosProxy:
    """Listens on 127.0.0.1:<port>, forwards each accepted connection to upstream (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.resets = 0
        self.replies_replaced = 0
        self._lock = threading.Lock()
        self._rate: float | None = None             # bytes/s
        self._burst = 0.0                           # bucket depth, bytes
        self._buckets = {True: [0.0, 0.0], False: [0.0, 0.0]}   # per direction: tokens, stamp
        self._delay = 0.0
        self._reset_at: int | None = None           # bytes_up at which to reset
        self._silence_at: int | None = None         # bytes_up at which silence begins
        self._silence_for = 0.0
        self._fail_reply_at: int | None = None      # bytes_up at which to mark the connection
        self._fail_reply = b""
        self._silent_until = 0.0
        self._conns: list[tuple[_Flow, _Flow]] = []    # (client → server, server → client)
        self._interest: dict[socket.socket, int] = {}
        self._closing = False
        self._thread: threading.Thread | None = None
        self._sel = selectors.DefaultSelector()
        self._listener = socket.socket()
        self._waker_r, self._waker_w = socket.socketpair()

    @property
    def in_flight_up(self) -> int:
        """Client→server bytes the proxy holds (read, not yet forwarded)."""
        with self._lock:
            return sum(conn[0].line.size for conn in self._conns)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # -- faults ----------------------------------------------------------------------------
    def throttle(self, bits_per_second: float | None, burst_bytes: float | None = None) -> None:
        """Each direction at most this fast, shared by all connections like one link.
        ``burst_bytes``: the bucket's depth, what may leave at once after a pause (default
        ``bucket_burst``: a tenth of a second). A line, not a policer, lets hardly any idle
        time be made up afterwards: give it a few KiB to model one."""
        with self._lock:
            self._rate = None if bits_per_second is None else bits_per_second / 8
            if self._rate is not None:
                self._burst = bucket_burst(self._rate) if burst_bytes is None \
                    else max(1024.0, burst_bytes)
                now = time.monotonic()
                self._buckets = {up: [self._burst, now] for up in (True, False)}
        self._wake()

    def delay(self, seconds: float) -> None:
        """One-way latency, each direction (a round trip is twice this). Data keeps flowing
        while earlier data is in flight, up to ``in_flight_limit``."""
        with self._lock:
            self._delay = max(0.0, seconds)
        self._wake()

    def reset_after(self, upstream_bytes: int) -> None:
        """One-shot: the connection that forwards the byte that many from now is reset, both
        ways, right after that byte. ``resets`` counts these, not resets the peers send."""
        with self._lock:
            self._reset_at = self.bytes_up + upstream_bytes
        self._wake()

    def silence(self, seconds: float, after_upstream_bytes: int = 0) -> None:
        """Forward nothing either way for ``seconds`` (connections stay open, new ones are
        accepted into the same silence), starting now or right after that many more bytes."""
        with self._lock:
            self._silence_for = seconds
            if after_upstream_bytes <= 0:
                self._silence_at, self._silent_until = None, time.monotonic() + seconds
            else:
                self._silence_at = self.bytes_up + after_upstream_bytes
        self._wake()

    def fail_reply_after(self, upstream_bytes: int, status: int = 500) -> None:
        """One-shot: the connection that forwards the byte that many from now gets an empty
        ``status`` reply (Connection: close) instead of the server's reply to that request,
        which the server did receive and carry out: a gateway failing after its upstream
        answered. ``replies_replaced`` counts these."""
        reply = (f"HTTP/1.1 {status} Chaos\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n").encode()
        with self._lock:
            self._fail_reply_at, self._fail_reply = self.bytes_up + upstream_bytes, reply
        self._wake()

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> ChaosProxy:
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        for waker in (self._waker_r, self._waker_w):    # a full waker must not block anyone
            waker.setblocking(False)
        self._sel.register(self._listener, selectors.EVENT_READ)
        self._sel.register(self._waker_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="chaos-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._closing = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        else:               # never started: the loop is not there to close its sockets
            for sock in (self._listener, self._waker_r, self._waker_w):
                sock.close()

    def __enter__(self) -> ChaosProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop --------------------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._waker_w.send(b"\0")

    def _run(self) -> None:
        timeout: float | None = None
        try:
            while True:
                for key, _ in self._sel.select(timeout):
                    if key.fileobj is self._waker_r:
                        with contextlib.suppress(OSError):
                            self._waker_r.recv(4096)
                with self._lock:
                    if self._closing:
                        return
                    now = time.monotonic()
                    self._accept()
                    for conn in list(self._conns):
                        for flow in conn:
                            self._pump(conn, flow, now)
                        if conn in self._conns and conn[0].shut and conn[1].shut:
                            self._close(conn, reset=False)
                    timeout = self._arm(now, now < self._silent_until)
        finally:
            for conn in list(self._conns):
                self._close(conn, reset=False)
            self._sel.close()
            for sock in (self._listener, self._waker_r, self._waker_w):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            self.connections += 1
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
                client.close()
                continue
            for sock in (client, upstream):
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns.append((_Flow(client, upstream, True), _Flow(upstream, client, False)))

    def _pump(self, conn: tuple[_Flow, _Flow], flow: _Flow, now: float) -> None:
        if conn not in self._conns or now < self._silent_until:
            return
        try:
            if not flow.eof and flow.line.size < self._in_flight_limit():
                data = flow.src.recv(_CHUNK if self._rate is None
                                     else int(min(_CHUNK, self._burst)))
                flow.eof = not data
                if data and flow.replace_reply:   # the server's reply, swallowed
                    data, flow.replace_reply, flow.eof = flow.replace_reply, b"", True
                if data:
                    wait = self._throttle_wait(flow.up, len(data), now)
                    flow.line.push(data, now + self._delay + wait)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._close(conn, reset=True)
            return
        while data := flow.line.due(now):
            limit = len(data)
            if flow.up:     # never forward past a trigger: the fault hits at that exact byte
                for at in (self._reset_at, self._silence_at, self._fail_reply_at):
                    if at is not None:
                        limit = min(limit, max(0, at - self.bytes_up))
            # Counted before the send, the unsent rest taken back after: whoever sees the
            # bytes arrive (a test, a benchmark) then never reads a counter that lags them.
            self._count(flow.up, limit)
            try:
                sent = flow.dst.send(data[:limit]) if limit else 0
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._count(flow.up, -limit)
                self._close(conn, reset=True)
                return
            self._count(flow.up, sent - limit)
            flow.line.sent(sent)
            if flow.up and self._trigger(conn, now):
                return
            if sent < len(data):
                break       # the socket is full, or a trigger holds the rest
        if flow.eof and not flow.line.pieces and not flow.shut:
            flow.shut = True
            with contextlib.suppress(OSError):
                flow.dst.shutdown(socket.SHUT_WR)

    def _trigger(self, conn: tuple[_Flow, _Flow], now: float) -> bool:
        """Fire the faults whose byte was just forwarded; True if the flow must stop here."""
        if self._reset_at is not None and self.bytes_up >= self._reset_at:
            self._reset_at = None
            self.resets += 1
            self._close(conn, reset=True)
            return True
        if self._fail_reply_at is not None and self.bytes_up >= self._fail_reply_at:
            self._fail_reply_at, conn[1].replace_reply = None, self._fail_reply
            self.replies_replaced += 1
        if self._silence_at is not None and self.bytes_up >= self._silence_at:
            self._silence_at, self._silent_until = None, now + self._silence_for
            return True
        return False

    def _count(self, up: bool, size: int) -> None:
        if up:
            self.bytes_up += size
        else:
            self.bytes_down += size

    def _in_flight_limit(self) -> int:
        return in_flight_limit(self._rate, self._delay, self._burst)

    def _throttle_wait(self, up: bool, size: int, now: float) -> float:
        if self._rate is None:
            return 0.0
        bucket = self._buckets[up]
        bucket[0], wait = token_bucket(bucket[0], now - bucket[1], self._rate,
                                       self._burst, size)
        bucket[1] = now
        return wait

    def _arm(self, now: float, silent: bool) -> float | None:
        """Register what each socket waits for; return how long until a timed event."""
        wanted: dict[socket.socket, int] = {}
        deadlines = [self._silent_until] if silent else []
        for conn in self._conns:
            for flow in conn:
                wanted.setdefault(flow.src, 0)
                wanted.setdefault(flow.dst, 0)
                if silent:
                    continue
                if not flow.eof and flow.line.size < self._in_flight_limit():
                    wanted[flow.src] |= selectors.EVENT_READ
                leaves_at = flow.line.next_at()
                if leaves_at is not None and leaves_at > now:
                    deadlines.append(leaves_at)
                elif leaves_at is not None:
                    wanted[flow.dst] |= selectors.EVENT_WRITE
        for sock, events in wanted.items():
            old = self._interest.get(sock, 0)
            if events and not old:
                self._sel.register(sock, events)
            elif events and events != old:
                self._sel.modify(sock, events)
            elif not events and old:
                self._sel.unregister(sock)
            if events:
                self._interest[sock] = events
            else:
                self._interest.pop(sock, None)
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _close(self, conn: tuple[_Flow, _Flow], *, reset: bool) -> None:
        self._conns.remove(conn)
        for sock in (conn[0].src, conn[0].dst):
            if self._interest.pop(sock, 0):
                self._sel.unregister(sock)
            with contextlib.suppress(OSError):
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
                sock.close()
