"""python-tuf's downloads over httpx, with conditional requests.

A kiosk polls every few minutes and almost always finds nothing new. TUF re-reads
timestamp.json on every refresh, so this fetcher remembers each URL's ETag and Last-Modified
and asks with If-None-Match / If-Modified-Since; a 304 hands TUF the bytes it verified last
time (it finds the same version and stops there). Snapshot, targets and bundles are named by
version or hash, so TUF's own cache already avoids fetching them twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import FetcherInterface

CACHED_NAMES = ("timestamp.json",)      # the only names TUF fetches again unchanged


@dataclass
class Traffic:
    """What the fetcher moved: for the heartbeat's last-check note and the benchmark."""

    requests: int = 0
    not_modified: int = 0
    bytes_in: int = 0            # response bodies
    header_bytes_in: int = 0     # status line and headers, as received

    def reset(self) -> None:
        self.requests = self.not_modified = self.bytes_in = self.header_bytes_in = 0


@dataclass
class _Cached:
    etag: str | None
    modified: str | None
    body: bytes


@dataclass
class ConditionalFetcher(FetcherInterface):
    timeout_s: float = 10.0
    traffic: Traffic = field(default_factory=Traffic)
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s, follow_redirects=True,
                                        headers={"User-Agent": "tongban-kiosk"})
        return self._client

    def _fetch(self, url: str) -> Iterator[bytes]:
        cached = self._cache.get(url) if url.endswith(CACHED_NAMES) else None
        headers = {}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.modified:
            headers["If-Modified-Since"] = cached.modified
        response = self._http().get(url, headers=headers)
        with self._lock:
            self.traffic.requests += 1
            self.traffic.bytes_in += len(response.content)
            self.traffic.header_bytes_in += _header_size(response)
        if response.status_code == 304 and cached is not None:
            with self._lock:
                self.traffic.not_modified += 1
            return iter((cached.body,))
        if response.status_code != 200:
            raise DownloadHTTPError(f"GET {url}: HTTP {response.status_code}",
                                    response.status_code)
        if url.endswith(CACHED_NAMES):
            self._cache[url] = _Cached(response.headers.get("ETag"),
                                       response.headers.get("Last-Modified"), response.content)
        return iter((response.content,))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _header_size(response: httpx.Response) -> int:
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    return sum(len(line) + 2 for line in lines) + 2
