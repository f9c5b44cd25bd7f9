"""The HTTPS pull feed, for halls without a broker: ``GET /status-feed/<kiosk_id>?from=N``
answers that kiosk's status events from line N on, as JSON Lines (one signed wire event per
line, at most MAX_FEED_LINES), with ``X-Feed-Next`` (where the next pull starts) and an ETag
(``"<kiosk>-<next>"``) so a pull with ``If-None-Match`` that finds nothing new is a 304.
Shapes from kiosk/casestatus/wire.py.

The request is from outside: the path must be exactly the feed path with a kiosk id of the
strict pattern (it is only ever a database key, never a file name), ``from`` only digits, no
body is read; an unknown kiosk is a 404 with an empty body, which says nothing about which
kiosks exist beyond what a registered one may ask. Each request reads the database through
its own read-only connection, so the intake and the back office keep writing meanwhile.

With a tokens file (intake/feedauth.py) every request needs ``Authorization: Bearer`` with
the asked kiosk's own token: none or an unknown one is a 401 before the path is even looked
at (so it learns nothing, not even which paths exist), another kiosk's a 403."""

from __future__ import annotations

import re
import signal
import sqlite3
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import parse_qs

from intake.feedauth import Access, FeedTokenError, TokenFile
from kiosk.casestatus.wire import (
    FEED_MEDIA_TYPE,
    FEED_NEXT_HEADER,
    MAX_FEED_LINES,
    feed_etag,
    feed_path,
)

KIOSK_ID = re.compile(r"[0-9]{6}-[0-9]{4}")
_FEED = re.compile("^" + re.escape(feed_path("K")).replace("K", "([0-9]{6}-[0-9]{4})") + "$")
_FROM = re.compile(r"[0-9]{1,9}")
MAX_URL = 200


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: Path,
                 known: frozenset[str] | None = None, tokens: TokenFile | None = None
                 ) -> None:
        super().__init__(address, FeedHandler)
        self.db = db
        self.known = known       # registered kiosks, or None: any kiosk with events
        self.tokens = tokens     # None: no client authentication (loopback, the demo)

    def use_tls(self, cert: Path, key: Path) -> None:
        use_tls(self, cert, key)

    def handle_error(self, request: object, client_address: object) -> None:
        pass        # a client that hangs up or fails the TLS handshake is not our error

    def lines(self, kiosk_id: str, start: int) -> tuple[list[bytes], int] | None:
        """Lines ``start``… of the kiosk's feed and the total, or None for an unknown kiosk."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            total = conn.execute("SELECT COUNT(*) FROM outgoing WHERE kiosk_id=?",
                                 (kiosk_id,)).fetchone()[0]
            if total == 0 and (self.known is None or kiosk_id not in self.known):
                return None
            rows = conn.execute("SELECT wire FROM outgoing WHERE kiosk_id=? AND feed_index>=? "
                                "ORDER BY feed_index LIMIT ?",
                                (kiosk_id, start, MAX_FEED_LINES)).fetchall()
        finally:
            conn.close()
        return [bytes(r[0]) for r in rows], int(total)


def use_tls(server: ThreadingHTTPServer, cert: Path, key: Path) -> None:
    """TLS 1.2+ on ``server``'s socket (the back office's server uses it too); the handler's
    ``setup`` runs the handshake (see FeedHandler.setup)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    # the handshake waits for the handler's thread (and its timeout), not accept()'s
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)


class FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer
    server_version = "tongban-region-feed"
    sys_version = ""
    timeout = 15                 # seconds a client may take with its request

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    def do_GET(self) -> None:
        if len(self.path) > MAX_URL:
            return self._empty(414)
        path, _, query_text = self.path.partition("?")    # no URL parsing: exact or nothing
        match = _FEED.match(path)
        try:
            access = self._access(match.group(1) if match else "")
        except FeedTokenError:        # the tokens file went bad: nobody, until it is mended
            return self._empty(503)
        if access is not Access.GRANTED:
            return self._refuse(access)
        if match is None:
            return self._empty(404)
        try:
            query = parse_qs(query_text, keep_blank_values=True, max_num_fields=4,
                             strict_parsing=bool(query_text))
        except ValueError:
            return self._empty(400)
        froms = query.pop("from", ["0"])
        if query or len(froms) != 1 or not _FROM.fullmatch(froms[0]):
            return self._empty(400)
        kiosk_id, start = match.group(1), int(froms[0])
        try:
            found = self.server.lines(kiosk_id, start)
        except sqlite3.Error:
            return self._empty(503)
        if found is None:
            return self._empty(404)
        lines, total = found
        nxt = start + len(lines) if lines else min(start, total)
        etag = feed_etag(kiosk_id, nxt)
        headers = {FEED_NEXT_HEADER: str(nxt), "ETag": etag, "Cache-Control": "no-cache"}
        if self.headers.get("If-None-Match") == etag:
            return self._empty(304, headers)
        body = b"".join(line + b"\n" for line in lines)
        self.send_response(200)
        for name, value in (headers | {"Content-Type": FEED_MEDIA_TYPE}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _access(self, kiosk_id: str) -> Access:
        tokens = self.server.tokens
        if tokens is None:
            return Access.GRANTED
        authorization = self.headers.get_all("Authorization") or []
        if len(authorization) != 1:         # none, or two: which one would count?
            return Access.NO_TOKEN
        return tokens.check(authorization[0], kiosk_id)

    def _refuse(self, access: Access) -> None:
        challenge = 'Bearer realm="status-feed"'
        if access is Access.NO_TOKEN and self.headers.get("Authorization") is not None:
            challenge += ', error="invalid_token"'
        headers = {"WWW-Authenticate": challenge} if access is Access.NO_TOKEN else {}
        return self._empty(access.value, headers)

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass        # the access log would list kiosks and case traffic: nothing is kept


def serve(server: ThreadingHTTPServer, stop: threading.Event | None = None) -> None:
    """Serve until ``stop`` is set (or for ever)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    try:
        (stop or threading.Event()).wait()
    finally:
        server.shutdown()
        server.server_close()


def serve_until_signalled(server: ThreadingHTTPServer) -> None:
    """Serve until SIGTERM or SIGINT, after printing the line a supervisor (or a test) waits
    for: the port, which may have been 0."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"listening {server.server_address[1]}", flush=True)
    serve(server, stop)
