"""A static web server on loopback: stands in for the web server, CDN or object store that
serves a fleet's published TUF repository (tests, benchmarks, the demo).

Like nginx it answers conditional requests: an ETag from the file's size and mtime, and
If-None-Match → 304 (Python's own handler only knows If-Modified-Since, whose one-second
resolution would hide a timestamp re-signed within the same second). It counts requests and
the bytes it sent, so a test can prove a no-change poll is cheap.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class SiteLog:
    requests: int = 0
    not_modified: int = 0
    bytes_sent: int = 0
    paths: list[str] | None = None

    def reset(self) -> None:
        self.requests = self.not_modified = self.bytes_sent = 0
        self.paths = []


class _Handler(SimpleHTTPRequestHandler):
    site_log: SiteLog
    lock: threading.Lock

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_file():
            st = path.stat()
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
            if etag in self.headers.get("If-None-Match", ""):
                self._count(0, not_modified=True)
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self._etag = etag
        return super().send_head()

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def copyfile(self, source: Any, outputfile: Any) -> None:
        start = source.tell()
        super().copyfile(source, outputfile)
        self._count(source.tell() - start)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        self._count(0)
        super().send_error(code, message, explain)

    def _count(self, sent: int, *, not_modified: bool = False) -> None:
        with self.lock:
            self.site_log.requests += 1
            self.site_log.bytes_sent += sent
            self.site_log.not_modified += int(not_modified)
            if self.site_log.paths is not None:
                self.site_log.paths.append(self.path)

    def log_message(self, format: str, *args: Any) -> None:   # quiet: tests read SiteLog
        pass


class StaticSite:
    """Serves ``root`` at ``http://127.0.0.1:<port>/``."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = Path(root)
        self.log = SiteLog(paths=[])
        handler = type("Handler", (_Handler,), {"site_log": self.log,
                                                "lock": threading.Lock()})
        self._server = ThreadingHTTPServer(("127.0.0.1", port),
                                           partial(handler, directory=os.fspath(self.root)))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> StaticSite:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="static-site")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StaticSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
