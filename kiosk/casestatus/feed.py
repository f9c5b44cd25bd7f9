"""Status events pulled over HTTPS, for halls without a broker (shape: kiosk/casestatus/wire.py).

``GET <base>/status-feed/<kiosk>?from=N`` with ``If-None-Match`` the last ETag: 304 when
nothing is new; else at most ``MAX_FEED_LINES`` wire events as JSON Lines and
``X-Feed-Next`` = N + lines. The reply is read bounded (lines × the event's own cap), each
line goes to the receiver, and the position is then stored durably: a kill in between pulls
the same lines again, which apply as duplicates. A feed that lies about its position is
refused and the position stays.

A region that issued this kiosk a feed token (``[casestatus] feed_tokens``) gets it as
``Authorization: Bearer``; the token file is read at each pull (bounded, strictly 64 hex
digits), so a replaced token needs no restart, and a missing or broken one is a FeedError
like any other. A 401 or 403 says which of the two is wrong, never the token. The token is
never sent over plain http except to this machine's loopback address.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from drivers.fileio import FileRefused, read_bounded
from kiosk.casestatus.event import MAX_EVENT_BYTES
from kiosk.casestatus.receiver import Receiver
from kiosk.casestatus.store import StatusStore
from kiosk.casestatus.wire import FEED_NEXT_HEADER, MAX_FEED_LINES, feed_path
from kiosk.errors import KioskError

log = logging.getLogger(__name__)
MAX_REPLY_BYTES = MAX_FEED_LINES * (MAX_EVENT_BYTES + 1)
MAX_ROUNDS = 50                 # per pull: 25,000 events, a month of a busy hall
_TOKEN = re.compile(rb"[0-9a-f]{64}")
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_REFUSED = {401: ("订阅源不认可本机的令牌（未配置、已更换或无效，HTTP 401）",
                  "the feed did not accept this kiosk's token (none, replaced or invalid: "
                  "HTTP 401)"),
            403: ("令牌不属于本机（HTTP 403）", "the token is not this kiosk's (HTTP 403)")}


class FeedError(KioskError):
    code = "status_feed"


def _bad(zh: str, en: str) -> FeedError:
    return FeedError(f"办件状态订阅源出错：{zh}", f"Case status feed: {en}")


class FeedClient:
    def __init__(self, base: str, kiosk_id: str, receiver: Receiver, store: StatusStore,
                 timeout_s: float, transport: httpx.BaseTransport | None = None,
                 token_file: Path | None = None) -> None:
        self.url = base.rstrip("/") + feed_path(kiosk_id)
        self.token_file = token_file
        self.name = f"feed:{self.url}"
        self.receiver, self.store = receiver, store
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s), transport=transport,
                                    follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def pull(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Pull until the feed has nothing new (bounded) or ``stopping()``; the lines taken
        in."""
        total = 0
        for _ in range(MAX_ROUNDS):
            if stopping():
                break
            taken = self.pull_once(stopping)
            total += taken
            if taken < MAX_FEED_LINES:
                break
        return total

    def pull_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        start, etag = self.store.feed_position(self.name)
        headers = {"If-None-Match": etag} if etag else {}
        if self.token_file is not None:
            if _in_clear(self.url):
                raise _bad("令牌只经 https 发送（本机回环地址除外）", "the token is only sent over "
                           "https (or to this machine's loopback address)")
            headers["Authorization"] = f"Bearer {_read_token(self.token_file)}"
        try:
            with self._client.stream("GET", self.url, params={"from": start},
                                     headers=headers) as reply:
                if reply.status_code == 304:
                    return 0
                if reply.status_code in _REFUSED:
                    raise _bad(*_REFUSED[reply.status_code])
                if reply.status_code != 200:
                    raise _bad(f"HTTP {reply.status_code}", f"HTTP {reply.status_code}")
                body = _bounded(reply)
                following = _next(reply.headers.get(FEED_NEXT_HEADER))
                new_etag = reply.headers.get("ETag", "")[:200]
        except httpx.HTTPError as exc:
            raise _bad("无法连接", f"unreachable ({type(exc).__name__})") from None
        lines = [line for line in body.split(b"\n") if line.strip()]
        if len(lines) > MAX_FEED_LINES or following != start + len(lines):
            raise _bad("位置与内容不符", f"X-Feed-Next {following} does not follow from "
                       f"{start} and {len(lines)} lines")
        taken = 0
        for line in lines:
            if stopping():        # the kiosk is closing: keep what was applied, no ETag
                self.store.set_feed_position(self.name, start + taken, "")
                return taken
            self.receiver.apply(line)
            taken += 1
        self.store.set_feed_position(self.name, following, new_etag)
        return taken


def _in_clear(url: str) -> bool:
    """Plain http to another machine: anyone on the way would read the token."""
    parsed = httpx.URL(url)
    return parsed.scheme != "https" and parsed.host not in _LOOPBACK


def _read_token(path: Path) -> str:
    try:
        token = read_bounded(path, 200).strip()
    except FileRefused as exc:
        raise _bad(f"无法读取令牌文件：{exc.zh}", f"cannot read the token file: {exc.en}") from None
    if not _TOKEN.fullmatch(token):
        raise _bad("令牌文件格式不对", "the token file does not hold one token (64 hex digits)")
    return token.decode("ascii")


def _bounded(reply: httpx.Response) -> bytes:
    body = bytearray()
    for chunk in reply.iter_bytes():
        body += chunk
        if len(body) > MAX_REPLY_BYTES:
            raise _bad("回复过大", f"reply larger than {MAX_REPLY_BYTES} bytes")
    return bytes(body)


def _next(value: str | None) -> int:
    if value is None or not value.isdigit() or len(value) > 12:
        raise _bad(f"缺少 {FEED_NEXT_HEADER}", f"no valid {FEED_NEXT_HEADER}")
    return int(value)
