"""A tus 1.0 client (core + creation + termination, checksum where the server offers it) over
httpx, for one sealed file at a time.

The caller persists the upload URL and offset (``progress``) after every chunk, so after a
restart the upload resumes with HEAD where the server says it is — never from zero, never as
a second upload; and before an upload starts again, the region is asked whether it already
has the package (a lost reply may hide a finished upload). Timeouts are bounded on every
phase: a link that goes silent mid-PATCH ends in a timeout and a retry, not a hang.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kiosk.errors import KioskError
from kiosk.fsutil import sha256_file

TUS_VERSION = "1.0.0"
_BLOCK = 64 * 1024
_DELIVERED_KEY = re.compile(r"[A-Za-z0-9-]+\.[A-Za-z0-9-]+")   # <package_id>.<receiver>


class TusError(KioskError):
    """The server refused the upload or answered outside the protocol (not a network fault)."""

    code = "tus_error"


@dataclass(frozen=True)
class TusOptions:
    chunk_size: int = 1 << 20             # the first PATCH; with chunk_seconds, the smallest
    # > 0: each later PATCH is sized to last about this long at the rate the one before it
    # reached, so a round trip per PATCH costs a fixed share of any link (30 ms of 2 s) and
    # a cut costs at most this much link time sent again (a fixed size is one or the other:
    # 1 MiB is 0.8 s at 10 Mbit/s but 0.08 s at 100 Mbit/s)
    chunk_seconds: float = 0.0
    max_chunk_size: int = 64 << 20
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0          # also bounds each write: a silent link times out
    retries: int = 8                      # consecutive failures inside one attempt
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0


@dataclass
class ServerInfo:
    extensions: frozenset[str] = frozenset()
    checksum_algorithms: frozenset[str] = frozenset()
    max_size: int | None = None


@dataclass
class Stats:
    bytes_sent: int = 0                   # body bytes handed to the socket, re-sends included
    requests: int = 0
    retries: int = 0
    resumed_at: list[int] = field(default_factory=list)
    already_there: int = 0                # uploads not started again: the region had them
    largest_chunk: int = 0                # the longest PATCH body so far: what a cut may cost


def next_chunk_size(current: int, sent: int, seconds: float, options: TusOptions,
                    ceiling: int) -> int:
    """The next PATCH's size after one of ``sent`` bytes took ``seconds``: about
    ``chunk_seconds`` of link time, at most four times the last (one fast reply is not a
    fast link) and never outside [``chunk_size``, ``ceiling``]."""
    if options.chunk_seconds <= 0 or seconds <= 0:
        return min(current, ceiling)
    wanted = int(sent / seconds * options.chunk_seconds)
    return max(options.chunk_size, min(wanted, current * 4, ceiling))


def backoff(attempt: int, low: float, high: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter (AWS's scheme): a fleet of kiosks that lost the
    same gateway does not come back at the same second."""
    ceiling = min(high, low * 2 ** attempt)
    return (rng or random).uniform(low, ceiling)


class TusClient:
    def __init__(self, endpoint: str, options: TusOptions = TusOptions(), *,
                 headers: dict[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = endpoint
        self.options = options
        self.stats = Stats()
        self._sleep = sleep
        self._clock = clock
        self._chunk = options.chunk_size
        # lowered when a gateway refuses a PATCH as too large (413): many limit bodies
        # (nginx's client_max_body_size is 1 MiB unless set)
        self._ceiling = max(options.chunk_size, options.max_chunk_size)
        timeout = httpx.Timeout(connect=options.connect_timeout_s, read=options.read_timeout_s,
                                write=options.read_timeout_s, pool=options.connect_timeout_s)
        self._http = httpx.Client(timeout=timeout, transport=transport,
                                  headers={"Tus-Resumable": TUS_VERSION, **(headers or {})})
        self._info: ServerInfo | None = None

    def close(self) -> None:
        self._http.close()

    def upload(self, path: Path, metadata: dict[str, str], upload_url: str,
               progress: Callable[[str, int], None], *, again: bool = False) -> str:
        """Send ``path`` whole; resume ``upload_url`` if given. Returns the upload URL (as
        given, when the region turns out to have the package already).
        Network faults are retried here with backoff; after ``retries`` in a row the last
        one is raised (httpx.TransportError) for the caller to schedule a later attempt.
        ``again``: an earlier attempt may have finished unseen (a 500 or a kill hid the
        reply). Then, as after any failure here or an upload URL the server no longer
        knows, the region is asked (:meth:`region_has`) before a new upload is started."""
        size = path.stat().st_size
        failures = 0
        url = upload_url
        while True:
            try:
                ask = again or bool(upload_url) or failures > 0
                url, offset = self._locate(url, path, metadata, progress, ask)
                while offset < size:
                    offset = self._send_chunk(url, path, offset, size)
                    progress(url, offset)
                return url
            except _TooLarge as exc:
                if exc.length <= self.options.chunk_size:
                    raise _refused("PATCH", exc.response) from None
                self._ceiling = max(self.options.chunk_size, exc.length // 2)
                self._chunk = min(self._chunk, self._ceiling)
            except (httpx.TransportError, _Retry) as exc:
                failures += 1
                self.stats.retries += 1
                if failures > self.options.retries:
                    if isinstance(exc, _Retry):
                        raise httpx.TransportError(str(exc)) from None
                    raise
                self._sleep(backoff(failures, self.options.backoff_min_s,
                                    self.options.backoff_max_s))

    def terminate(self, upload_url: str) -> None:
        if "termination" not in self.server_info().extensions:
            raise TusError("服务器不支持终止上传", "The server does not offer termination",
                           code="tus_no_termination")
        response = self._request("DELETE", upload_url)
        if response.status_code not in (204, 404, 410):
            raise _refused("DELETE", response)

    def server_info(self) -> ServerInfo:
        if self._info is None:
            response = self._request("OPTIONS", self.endpoint)
            if response.status_code not in (200, 204):
                raise _refused("OPTIONS", response)
            h = response.headers
            self._info = ServerInfo(
                extensions=_csv(h.get("Tus-Extension", "")),
                checksum_algorithms=_csv(h.get("Tus-Checksum-Algorithm", "")),
                max_size=int(h["Tus-Max-Size"]) if h.get("Tus-Max-Size", "").isdigit()
                else None)
        return self._info

    def region_has(self, path: Path, metadata: dict[str, str]) -> bool:
        """Whether the region already holds this package for this receiver, whole and
        byte-identical: ``HEAD <endpoint>/delivered/<package_id>.<receiver>`` (the reference
        server's lookup over its dedup, docs/transfer.md). A server without the lookup
        answers 404, as for any unknown upload: False, and the upload starts as before."""
        key = f"{metadata.get('package_id', '')}.{metadata.get('receiver', '')}"
        if not _DELIVERED_KEY.fullmatch(key):
            return False
        response = self._request("HEAD", f"{self.endpoint.rstrip('/')}/delivered/{key}")
        if response.status_code not in (200, 204):
            _maybe_retry(response)
            return False
        held = response.headers.get("Package-Sha256", "")
        size = str(path.stat().st_size)
        if not held or {response.headers.get("Upload-Length"),
                        response.headers.get("Upload-Offset")} != {size}:
            return False   # not an answer of the lookup: upload (the server dedups)
        if held != sha256_file(path):
            raise TusError("办理地已收到内容不同的同一申请包", f"The handling region holds "
                           f"other bytes for package {key}", code="tus_conflict")
        return True

    def _locate(self, url: str, path: Path, metadata: dict[str, str],
                progress: Callable[[str, int], None], ask: bool) -> tuple[str, int]:
        """Where to continue: the server's offset for a known upload; the end if the region
        already has the package (asked only when ``ask``); else a new upload."""
        size = path.stat().st_size
        if url:
            response = self._request("HEAD", url)
            if response.status_code in (200, 204):
                offset = _offset(response)
                self.stats.resumed_at.append(offset)
                return url, offset
            if response.status_code not in (404, 410):
                _maybe_retry(response)
                raise _refused("HEAD", response)
        if ask and self.region_has(path, metadata):
            self.stats.already_there += 1
            return url, size
        url = self._create(size, metadata)
        progress(url, 0)
        return url, 0

    def _create(self, size: int, metadata: dict[str, str]) -> str:
        info = self.server_info()
        if "creation" not in info.extensions:
            raise TusError("服务器不支持创建上传", "The server does not offer creation",
                           code="tus_no_creation")
        if info.max_size is not None and size > info.max_size:
            raise TusError("申请包超过服务器允许的大小", f"Package of {size} B exceeds the "
                           f"server's Tus-Max-Size {info.max_size}", code="tus_too_large")
        response = self._request("POST", self.endpoint, headers={
            "Upload-Length": str(size), "Upload-Metadata": encode_metadata(metadata)})
        if response.status_code != 201 or "Location" not in response.headers:
            _maybe_retry(response)
            raise _refused("POST", response)
        return str(response.url.join(response.headers["Location"]))

    def _send_chunk(self, url: str, path: Path, offset: int, size: int) -> int:
        """One PATCH from ``offset``; the next one sized by how fast this one went."""
        length = min(self._chunk, size - offset)
        self.stats.largest_chunk = max(self.stats.largest_chunk, length)
        started = self._clock()
        reached = self._patch(url, path, offset, length)
        if reached - offset == length == self._chunk:   # a short last chunk says little
            self._chunk = next_chunk_size(self._chunk, length, self._clock() - started,
                                          self.options, self._ceiling)
        return reached

    def _patch(self, url: str, path: Path, offset: int, length: int) -> int:
        headers = {"Upload-Offset": str(offset), "Content-Length": str(length),
                   "Content-Type": "application/offset+octet-stream"}
        algorithm = self._checksum_algorithm()
        if algorithm:
            headers["Upload-Checksum"] = f"{algorithm} {_digest(path, offset, length, algorithm)}"
        response = self._request("PATCH", url, headers=headers,
                                 content=self._body(path, offset, length))
        if response.status_code == 204:
            return _offset(response)
        if response.status_code == 409:   # our offset was stale: HEAD and go on from there
            raise _Retry("offset conflict")
        if response.status_code == 460:   # checksum mismatch: the chunk is sent again
            raise _Retry("checksum mismatch")
        if response.status_code == 413:   # a gateway's body limit: smaller PATCHes
            raise _TooLarge(length, response)
        _maybe_retry(response)
        raise _refused("PATCH", response)

    def _checksum_algorithm(self) -> str:
        info = self.server_info()
        if "checksum" not in info.extensions:
            return ""
        for algorithm in ("sha256", "sha1", "md5"):
            if algorithm in info.checksum_algorithms:
                return algorithm
        return ""

    def _body(self, path: Path, offset: int, length: int) -> Iterator[bytes]:
        for block in _blocks(path, offset, length):
            self.stats.bytes_sent += len(block)
            yield block

    def _request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        self.stats.requests += 1
        return self._http.request(method, url, **kwargs)  # type: ignore[arg-type]


class _Retry(Exception):
    """A fault the protocol recovers from by asking the server where it is."""


class _TooLarge(Exception):
    """The PATCH body was over a limit on the way (413): try again with smaller ones."""

    def __init__(self, length: int, response: httpx.Response) -> None:
        super().__init__(f"PATCH of {length} B refused as too large")
        self.length, self.response = length, response


def _maybe_retry(response: httpx.Response) -> None:
    # a gateway restarting or overloaded is a network fault, not a refusal
    if response.status_code in (423, 429, 500, 502, 503, 504):
        raise _Retry(f"HTTP {response.status_code}")


def _refused(method: str, response: httpx.Response) -> TusError:
    return TusError(f"办理地服务器拒绝了上传（{method} {response.status_code}）",
                    f"The handling region's server refused the upload ({method} "
                    f"{response.status_code})", code="tus_refused")


def _offset(response: httpx.Response) -> int:
    value = response.headers.get("Upload-Offset", "")
    if not value.isdigit():
        raise TusError("服务器的回复缺少上传偏移量", "The server's reply has no Upload-Offset",
                       code="tus_protocol")
    return int(value)


def _csv(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.split(",") if v.strip())


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in sorted(metadata.items()))


def _digest(path: Path, offset: int, length: int, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    for block in _blocks(path, offset, length):
        digest.update(block)
    return base64.b64encode(digest.digest()).decode()


def _blocks(path: Path, offset: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``offset``, in blocks (a chunk is never held whole)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        left = length
        while left:
            block = handle.read(min(_BLOCK, left))
            if not block:
                raise OSError(f"{path.name} shrank while uploading")
            left -= len(block)
            yield block
