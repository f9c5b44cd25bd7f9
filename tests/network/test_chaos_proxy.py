"""The chaos proxy on real loopback TCP. No assertion depends on how fast anything ran: the
throttle's arithmetic is checked as a pure function, and the live tests check what arrives,
what is counted and how connections end."""

from __future__ import annotations

import queue
import socket
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from rigs.chaos import ChaosProxy, DelayLine, bucket_burst, in_flight_limit, token_bucket

ENDED = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except OSError:
            pass


class _Sink(socketserver.BaseRequestHandler):
    """Reads until the end and reports how many bytes came and how the connection ended."""

    endings: queue.Queue[tuple[int, str]]

    def handle(self) -> None:
        got, how = 0, "eof"
        try:
            while data := self.request.recv(65536):
                got += len(data)
        except ConnectionResetError:
            how = "reset"
        self.endings.put((got, how))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _connect(proxy: ChaosProxy, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


# --- the token bucket, as arithmetic ---------------------------------------------------------

def test_a_full_bucket_sends_a_burst_without_waiting() -> None:
    rate = 25_000.0                                   # 200 kbit/s
    balance, wait = token_bucket(bucket_burst(rate), 0.0, rate, bucket_burst(rate), 2500)
    assert wait == 0.0 and balance == bucket_burst(rate) - 2500


def test_fifty_kilobytes_at_200_kbit_s_take_what_the_bucket_allows() -> None:
    """Replays the proxy's use: each chunk waits what the bucket says, and the next refill
    sees exactly that wait as elapsed time."""
    rate, burst, total = 25_000.0, bucket_burst(25_000.0), 50_000
    chunk = int(burst)
    tokens, elapsed, spent, sent = burst, 0.0, 0.0, 0
    while sent < total:
        size = min(chunk, total - sent)
        tokens, wait = token_bucket(tokens, elapsed, rate, burst, size)
        spent += wait
        elapsed = wait
        sent += size
    assert spent >= (total - burst) / rate - 1e-9     # at most one burst beyond the rate
    assert spent <= total / rate + 1e-9               # and no slower than the rate itself


def test_an_idle_link_banks_no_more_than_one_burst() -> None:
    rate = 1000.0
    burst = bucket_burst(rate)
    balance, wait = token_bucket(0.0, 3600.0, rate, burst, int(burst) + 500)
    assert balance == -500 and wait == pytest.approx(0.5)


def test_the_bucket_holds_at_least_a_segment_at_very_low_rates() -> None:
    assert bucket_burst(100.0) == 1024.0 and bucket_burst(1e6) == 1e5


# --- the delay line, as arithmetic -----------------------------------------------------------

def test_pieces_leave_at_their_own_time_in_order() -> None:
    line = DelayLine()
    line.push(b"first", 1.0)
    line.push(b"second", 0.5)             # due earlier, but a link does not reorder
    assert line.due(0.9) == b"" and line.next_at() == 1.0
    assert line.due(1.0) == b"first"
    line.sent(5)
    assert line.due(1.0) == b"second" and line.size == 6


def test_a_piece_sent_in_part_keeps_the_rest_first() -> None:
    line = DelayLine()
    line.push(b"abcdef", 0.0)
    line.push(b"gh", 0.0)
    line.sent(4)
    assert line.due(0.0) == b"ef" and line.size == 4
    line.sent(2)
    assert line.due(0.0) == b"gh"


def test_a_delayed_link_holds_a_round_trip_of_data_in_flight() -> None:
    rate, delay, burst = 1_250_000.0, 0.015, 16_384.0       # 10 Mbit/s, 30 ms round trip
    assert in_flight_limit(rate, delay, burst) >= rate * delay + burst
    assert in_flight_limit(None, 0.0, 0.0) == 65536          # a plain relay: one read
    assert in_flight_limit(None, 0.1, 0.0) > 65536


# --- live -----------------------------------------------------------------------------------

def test_bytes_round_trip_and_are_counted(echo: _Server) -> None:
    payload = bytes(range(256)) * 800                 # 200 kB
    with ChaosProxy(("127.0.0.1", echo.server_address[1])) as proxy, _connect(proxy) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        assert _read(sock, len(payload)) == payload
        sender.join()
        assert (proxy.bytes_up, proxy.bytes_down, proxy.connections) == (len(payload),) * 2 + (1,)


def test_a_throttled_and_delayed_link_still_delivers_every_byte(echo: _Server) -> None:
    payload = b"tongban" * 3000
    with ChaosProxy(("127.0.0.1", echo.server_address[1])) as proxy:
        proxy.throttle(8_000_000)
        proxy.delay(0.001)
        with _connect(proxy) as sock:
            sock.sendall(payload)
            assert _read(sock, len(payload)) == payload
        proxy.throttle(None)
        proxy.delay(0)
        with _connect(proxy) as sock:
            sock.sendall(b"again")
            assert _read(sock, 5) == b"again"


def test_delay_keeps_reading_while_data_is_in_flight(echo: _Server) -> None:
    """Latency is not stop-and-wait: pieces sent one after another are all taken in while
    the first is still on its way (a real link carries a window of data in a round trip)."""
    with ChaosProxy(("127.0.0.1", echo.server_address[1])) as proxy, _connect(proxy) as sock:
        proxy.delay(5.0)
        for _ in range(3):
            sock.sendall(b"w" * 60_000)
        deadline = threading.Event()
        for _ in range(500):                          # up to 5 s: all three are in flight
            if proxy.in_flight_up >= 180_000:
                break
            deadline.wait(0.01)
        assert proxy.in_flight_up == 180_000 and proxy.bytes_up == 0


def test_http_through_the_proxy() -> None:
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"hello {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with ChaosProxy(("127.0.0.1", server.server_address[1])) as proxy:
            assert proxy.url("/x") == f"http://127.0.0.1:{proxy.port}/x"
            assert httpx.get(proxy.url("/files/1"), timeout=10).text == "hello /files/1"
    finally:
        server.shutdown()
        server.server_close()


def test_reset_after_cuts_both_sides_at_the_exact_byte() -> None:
    endings: queue.Queue[tuple[int, str]] = queue.Queue()
    handler = type("Sink", (_Sink,), {"endings": endings})
    sink = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        with ChaosProxy(("127.0.0.1", sink.server_address[1])) as proxy:
            with _connect(proxy) as warmup:           # counting starts at reset_after()
                warmup.sendall(b"x" * 500)
                warmup.shutdown(socket.SHUT_WR)
                assert warmup.recv(1) == b""
            proxy.reset_after(10_000)
            with _connect(proxy) as sock, pytest.raises(ENDED):
                sock.sendall(b"y" * 300_000)
                sock.recv(1)                          # the RST shows here if sendall fit
            assert proxy.resets == 1 and proxy.bytes_up == 10_500
            with _connect(proxy) as after:            # one-shot: the next connection is fine
                after.sendall(b"z" * 20_000)
                after.shutdown(socket.SHUT_WR)
                assert after.recv(1) == b""
            assert proxy.resets == 1 and proxy.bytes_up == 30_500
        seen = sorted(endings.get(timeout=10) for _ in range(3))
        assert seen == [(500, "eof"), (10_000, "reset"), (20_000, "eof")]
    finally:
        sink.shutdown()
        sink.server_close()


def test_silence_black_holes_then_resumes(echo: _Server) -> None:
    with ChaosProxy(("127.0.0.1", echo.server_address[1])) as proxy, _connect(proxy) as sock:
        proxy.silence(1.0)
        sock.sendall(b"ping")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):             # nothing can come back inside 1 s
            sock.recv(4)
        sock.settimeout(10)
        assert _read(sock, 4) == b"ping"              # and it all flows once it is over
        assert proxy.resets == 0


def test_silence_can_fall_after_some_bytes(echo: _Server) -> None:
    with ChaosProxy(("127.0.0.1", echo.server_address[1])) as proxy, _connect(proxy) as sock:
        proxy.silence(1.0, after_upstream_bytes=4)
        sock.sendall(b"abcdefgh")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):             # "abcd" passed, then the silence fell
            sock.recv(8)
        assert proxy.bytes_up == 4 and proxy.bytes_down == 0
        sock.settimeout(10)
        assert _read(sock, 8) == b"abcdefgh"
        assert proxy.bytes_up == proxy.bytes_down == 8


def test_a_connection_opened_during_silence_is_accepted_but_black_holed(echo: _Server) -> None:
    with ChaosProxy(("127.0.0.1", echo.server_address[1])) as proxy:
        proxy.silence(1.0)
        with _connect(proxy) as late:
            late.sendall(b"late")
            late.settimeout(0.5)
            with pytest.raises(TimeoutError):
                late.recv(4)
            late.settimeout(10)
            assert _read(late, 4) == b"late"
        assert proxy.connections == 1


def test_stop_ends_open_connections_and_the_listener(echo: _Server) -> None:
    proxy = ChaosProxy(("127.0.0.1", echo.server_address[1])).start()
    port = proxy.port
    with _connect(proxy) as sock:
        sock.sendall(b"hi")
        assert _read(sock, 2) == b"hi"
        proxy.stop()
        assert sock.recv(1) == b""                    # closed, not left hanging
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10)


def test_an_upstream_that_is_not_there_ends_the_client_connection() -> None:
    with socket.socket() as probe:                    # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        dead = int(probe.getsockname()[1])
    with ChaosProxy(("127.0.0.1", dead)) as proxy:
        # Reset as if the server had refused it; so quickly that connect() itself may see it.
        with pytest.raises(ConnectionResetError), _connect(proxy) as sock:
            sock.recv(1)
        assert proxy.connections == 1 and proxy.bytes_up == 0
