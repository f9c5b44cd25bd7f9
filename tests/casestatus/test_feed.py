"""The pull feed against a small HTTP server on loopback serving the shape of
kiosk/casestatus/wire.py: catches up over several replies, remembers its position durably,
asks with If-None-Match, and refuses a feed that lies about its position or sends too much."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from status_rig import KIOSK, STORY, Rig

from kiosk.casestatus.event import ZH
from kiosk.casestatus.feed import MAX_REPLY_BYTES, FeedClient, FeedError
from kiosk.casestatus.store import StatusStore
from kiosk.casestatus.wire import (
    FEED_MEDIA_TYPE,
    FEED_NEXT_HEADER,
    MAX_FEED_LINES,
    feed_etag,
    feed_path,
)


@dataclass
class Feed:
    lines: list[bytes] = field(default_factory=list)
    asked: list[tuple[int, str]] = field(default_factory=list)    # (from, If-None-Match)
    lie: int = 0                     # added to X-Feed-Next
    junk: int = 0                    # bytes of padding sent instead of the lines


def _handler(feed: Feed) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/region" + feed_path(KIOSK):
                self.send_error(404)
                return
            start = int(parse_qs(url.query).get("from", ["0"])[0])
            feed.asked.append((start, self.headers.get("If-None-Match", "")))
            served = feed.lines[start:start + MAX_FEED_LINES]
            following = start + len(served)
            etag = feed_etag(KIOSK, following)
            if self.headers.get("If-None-Match") == etag and not served:
                self.send_response(304)
                self.end_headers()
                return
            body = b"x" * feed.junk if feed.junk else b"".join(s + b"\n" for s in served)
            self.send_response(200)
            self.send_header("Content-Type", FEED_MEDIA_TYPE)
            self.send_header(FEED_NEXT_HEADER, str(following + feed.lie))
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass
    return Handler


@pytest.fixture
def served() -> Iterator[tuple[Feed, str]]:
    feed = Feed()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(feed))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield feed, f"http://127.0.0.1:{server.server_address[1]}/region"
    server.shutdown()
    server.server_close()


def _client(rig: Rig, base: str, store: StatusStore | None = None) -> FeedClient:
    return FeedClient(base, KIOSK, rig.receiver, store or rig.store, timeout_s=10)


def test_the_feed_catches_up_over_several_replies(rig: Rig, served: tuple[Feed, str]) -> None:
    feed, base = served
    cases = [rig.send_case(seq=n) for n in range(1, 61)]     # 540 events: two replies
    feed.lines = [rig.event(c, step, s) for step, s in enumerate(STORY, start=1) for c in cases]
    client = _client(rig, base)
    assert client.pull() == len(feed.lines)
    client.close()
    assert [a for a, _ in feed.asked] == [0, MAX_FEED_LINES]
    assert all(rig.states(c) == ["已代收待流转", *(ZH[s] for s in STORY)] for c in cases)


def test_the_position_is_kept_and_nothing_new_is_a_304(rig: Rig,
                                                      served: tuple[Feed, str]) -> None:
    feed, base = served
    case = rig.send_case()
    feed.lines = [rig.event(case, 1, STORY[0]), rig.event(case, 2, STORY[1])]
    first = _client(rig, base)
    assert first.pull() == 2
    first.close()
    reopened = StatusStore(rig.ledger_path)          # as after a restart
    again = _client(rig, base, reopened)
    assert again.pull() == 0
    assert feed.asked[-1] == (2, feed_etag(KIOSK, 2))
    feed.lines.append(rig.event(case, 3, STORY[2]))
    assert again.pull() == 1
    again.close()
    reopened.close()
    assert rig.states(case)[-1] == ZH[STORY[2]]
    assert rig.store.counts()["applied"] == 3


def test_a_feed_that_lies_about_its_position_is_refused(rig: Rig,
                                                       served: tuple[Feed, str]) -> None:
    feed, base = served
    case = rig.send_case()
    feed.lines, feed.lie = [rig.event(case, 1, STORY[0])], 5
    client = _client(rig, base)
    with pytest.raises(FeedError) as caught:
        client.pull()
    client.close()
    assert "X-Feed-Next" in caught.value.en
    assert rig.store.feed_position(client.name) == (0, "")
    assert rig.states(case) == ["已代收待流转"]


def test_a_reply_too_large_is_refused(rig: Rig, served: tuple[Feed, str]) -> None:
    feed, base = served
    feed.lines, feed.junk = [b"{}"], MAX_REPLY_BYTES + 1
    client = _client(rig, base)
    with pytest.raises(FeedError) as caught:
        client.pull()
    client.close()
    assert "larger" in caught.value.en


def test_an_unreachable_feed_is_a_typed_error(rig: Rig) -> None:
    client = _client(rig, "http://127.0.0.1:9/region")
    with pytest.raises(FeedError) as caught:
        client.pull()
    client.close()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.zh)


def test_a_stop_mid_reply_keeps_what_was_applied(rig: Rig, served: tuple[Feed, str]) -> None:
    feed, base = served
    case = rig.send_case()
    feed.lines = [rig.event(case, step, s) for step, s in enumerate(STORY, start=1)]
    client = _client(rig, base)
    seen = []

    def stopping() -> bool:        # asked before each line: stop after three
        seen.append(1)
        return len(seen) > 4       # once before the reply, then once per line
    assert client.pull(stopping) == 3
    assert rig.store.feed_position(client.name) == (3, "")
    assert client.pull() == len(STORY) - 3
    client.close()
    assert rig.states(case) == ["已代收待流转", *(ZH[s] for s in STORY)]
    assert rig.store.counts().get("duplicate", 0) == 0
