"""Only a kiosk reads its own pull feed: ``kiosk-region feed-token`` issues each kiosk a
bearer token (the region keeps its SHA-256), ``feed --tokens`` checks it. Real HTTP on
loopback: none or a wrong token is 401 before the path is looked at, another kiosk's token
403, the right one the lines; a re-issued token retires the old one; bad Authorization
headers (listed and random) never get a line. The kiosk's FeedClient sends its token from
``[casestatus] feed_tokens`` and says which refusal it got."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from region_rig import ROOT, Fixture, Region, make_region, region_cli

from intake.feed import FeedServer
from intake.feedauth import FeedTokens, TokenFile
from kiosk.casestatus.feed import FeedClient, FeedError
from kiosk.casestatus.store import StatusStore
from kiosk.casestatus.wire import FEED_NEXT_HEADER, feed_path

KIOSK, OTHER = "510802-0001", "510802-0002"


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture,
           make_package: Fixture, seal_to_file: Fixture) -> Region:
    region = make_region(tmp_path, make_keys, make_package,
                         seal_to_file)
    for seed in (1, 2):
        package_id, data, _ = region.sealed(seed)
        region.put(data, f"u{seed}", package_id=package_id)
    assert region_cli(region.intake_argv()).returncode == 0
    return region


def _issue(region: Region, kiosk: str) -> str:
    out = region.root / f"{kiosk}.token"
    done = region_cli(["feed-token", "--tokens", str(region.root / "feed-tokens"),
                       "--kiosk", kiosk, "--out", str(out)])
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o077 == 0
    return out.read_text().strip()


@pytest.fixture
def tokens(region: Region) -> dict[str, str]:
    return {kiosk: _issue(region, kiosk) for kiosk in (KIOSK, OTHER)}


@pytest.fixture
def base(region: Region, tokens: dict[str, str]) -> Iterator[str]:
    server = FeedServer(("127.0.0.1", 0), region.db, frozenset({KIOSK, OTHER}),
                        TokenFile(region.root / "feed-tokens"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(base: str, kiosk: str = KIOSK, **headers: str) -> httpx.Response:
    return httpx.get(base + feed_path(kiosk), headers=headers, timeout=10)


def test_the_kiosks_own_token_reads_its_feed(base: str, tokens: dict[str, str]) -> None:
    reply = _get(base, Authorization=f"Bearer {tokens[KIOSK]}")
    assert reply.status_code == 200
    assert reply.headers[FEED_NEXT_HEADER] == "2" and len(reply.content.splitlines()) == 2


def test_no_token_is_401_with_a_bearer_challenge_and_no_body(base: str) -> None:
    reply = _get(base)
    assert reply.status_code == 401 and reply.content == b""
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="status-feed"'


def test_a_token_never_issued_is_401_invalid_token(base: str) -> None:
    reply = _get(base, Authorization="Bearer " + "ab" * 32)
    assert reply.status_code == 401 and "invalid_token" in reply.headers["WWW-Authenticate"]


def test_another_kiosks_token_is_403(base: str, tokens: dict[str, str]) -> None:
    reply = _get(base, Authorization=f"Bearer {tokens[OTHER]}")
    assert reply.status_code == 403 and reply.content == b""
    assert _get(base, OTHER, Authorization=f"Bearer {tokens[OTHER]}").status_code == 200


def test_without_a_token_even_a_wrong_path_says_only_401(base: str) -> None:
    assert httpx.get(base + "/anything", timeout=10).status_code == 401
    assert _get(base, "999999-9999").status_code == 401


def test_two_authorization_headers_are_refused(base: str, tokens: dict[str, str]) -> None:
    reply = _raw(base, [f"Authorization: Bearer {tokens[KIOSK]}",
                        f"Authorization: Bearer {tokens[KIOSK]}"])
    assert reply.startswith(b"HTTP/1.0 401") or reply.startswith(b"HTTP/1.1 401")


# (" Bearer {t}" is not here: HTTP drops the space before a field value, so it is the token)
BAD_HEADERS = ["", "Bearer", "Bearer ", "bearer {t}", "BEARER {t}", "Basic {t}", "Bearer  {t}",
               "Bearer {t} ", "Bearer {t}x", "Bearer {T}", "Bearer {t}\t",
               "Bearer {h}", "Bearer " + "0" * 64, "Bearer " + "g" * 64, "Bearer {t}{t}",
               "Bearer " + "a" * 10_000, "Token {t}", "Bearer {t},Bearer {t}"]


@pytest.mark.parametrize("header", BAD_HEADERS)
def test_malformed_authorization_headers_are_401(base: str, tokens: dict[str, str],
                                                 header: str) -> None:
    token = tokens[KIOSK]
    value = header.format(t=token, T=token.upper(), h=token[:32])
    reply = _raw(base, [f"Authorization: {value}"])
    assert reply.split(b" ", 2)[1] in (b"401", b"431"), reply[:80]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff), max_size=300))
def test_random_authorization_headers_never_read_a_feed(base: str, value: str) -> None:
    reply = _raw(base, [f"Authorization: {value}"])
    assert reply.split(b" ", 2)[1] in (b"400", b"401"), reply[:80]


def _raw(base: str, headers: list[str]) -> bytes:
    port = int(base.rsplit(":", 1)[1])
    request = (f"GET {feed_path(KIOSK)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               + "".join(h + "\r\n" for h in headers) + "\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return reply


def test_a_reissued_token_retires_the_old_one(region: Region, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        assert region_cli(["feed-token", "--tokens", str(tokens), "--kiosk", KIOSK,
                           "--out", str(out)]).returncode == 0
    table = FeedTokens.load(tokens)
    assert len(table.by_kiosk) == 1
    assert table.check(f"Bearer {second.read_text().strip()}", KIOSK).value == 200
    assert table.check(f"Bearer {first.read_text().strip()}", KIOSK).value == 401


def test_a_token_reissued_while_the_feed_runs_counts_at_once(
        region: Region, base: str, tokens: dict[str, str]) -> None:
    old = tokens[KIOSK]
    new = _issue(region, KIOSK)
    assert _get(base, Authorization=f"Bearer {old}").status_code == 401
    assert _get(base, Authorization=f"Bearer {new}").status_code == 200
    assert _get(base, OTHER, Authorization=f"Bearer {tokens[OTHER]}").status_code == 200


def test_a_tokens_file_gone_bad_refuses_everyone_until_mended(
        region: Region, base: str, tokens: dict[str, str]) -> None:
    path = region.root / "feed-tokens"
    good = path.read_bytes()
    path.write_bytes(good + b"garbage line\n")
    assert _get(base, Authorization=f"Bearer {tokens[KIOSK]}").status_code == 503
    path.unlink()
    assert _get(base, Authorization=f"Bearer {tokens[KIOSK]}").status_code == 503
    path.write_bytes(good)
    assert _get(base, Authorization=f"Bearer {tokens[KIOSK]}").status_code == 200


@pytest.mark.parametrize("argv", [[], ["--tokens", "/dev/zero"], ["--tokens", "{bad}"],
                                  ["--tokens", "{missing}"]])
def test_the_feed_will_not_start_without_a_usable_tokens_file(region: Region, tmp_path: Path,
                                                              argv: list[str]) -> None:
    bad = tmp_path / "bad"
    bad.write_text("510802-0001 not-a-hash\n")
    argv = [a.format(bad=bad, missing=tmp_path / "none") for a in argv]
    done = region_cli(["feed", "--db", str(region.db), "--listen", "127.0.0.1:0", *argv])
    assert done.returncode == 2 and " / " in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("kiosk", ["../x", "510802-001", "510802-0001\n", ""])
def test_a_token_only_for_a_kiosk_id(region: Region, tmp_path: Path, kiosk: str) -> None:
    done = region_cli(["feed-token", "--tokens", str(tmp_path / "t"), "--kiosk", kiosk,
                       "--out", str(tmp_path / "o")])
    assert done.returncode == 2 and " / " in done.stderr
    assert not (tmp_path / "o").exists()


class _Lines:
    """Stands in for the kiosk's receiver: what the client hands on."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def apply(self, line: bytes) -> None:
        self.lines.append(line)


def _client(base: str, tmp_path: Path, token: str | None) -> tuple[FeedClient, _Lines]:
    lines, token_file = _Lines(), None
    if token is not None:
        token_file = tmp_path / "feed.token"
        token_file.write_text(token + "\n")
    client = FeedClient(base, KIOSK, lines, StatusStore(tmp_path / "ledger.sqlite"),  # type: ignore[arg-type]
                        10, token_file=token_file)
    return client, lines


def test_the_kiosk_client_sends_its_token_and_takes_the_lines(
        base: str, tokens: dict[str, str], tmp_path: Path) -> None:
    client, lines = _client(base, tmp_path, tokens[KIOSK])
    try:
        assert client.pull() == 2 and len(lines.lines) == 2
    finally:
        client.close()


@pytest.mark.parametrize(("token", "said"), [(None, "401"), ("other", "not this kiosk's"),
                                             ("cd" * 32, "did not accept"),
                                             ("short", "64 hex")])
def test_the_kiosk_client_says_which_refusal(base: str, tokens: dict[str, str],
                                             tmp_path: Path, token: str | None,
                                             said: str) -> None:
    client, lines = _client(base, tmp_path, tokens[OTHER] if token == "other" else token)
    try:
        with pytest.raises(FeedError) as raised:
            client.pull()
    finally:
        client.close()
    assert said in raised.value.en and not lines.lines
    assert tokens[KIOSK] not in str(raised.value) and tokens[OTHER] not in str(raised.value)


def test_the_kiosk_client_never_sends_its_token_over_plain_http_elsewhere(
        tmp_path: Path, tokens: dict[str, str]) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or  # type: ignore[func-returns-value]
                                    httpx.Response(500))
    token_file = tmp_path / "feed.token"
    token_file.write_text(tokens[KIOSK])
    client = FeedClient("http://gw.example.cn/lizhou", KIOSK, _Lines(),  # type: ignore[arg-type]
                        StatusStore(tmp_path / "ledger.sqlite"), 10, transport,
                        token_file=token_file)
    try:
        with pytest.raises(FeedError, match="https"):
            client.pull()
    finally:
        client.close()
    assert sent == []


def test_the_cli_feed_with_tokens_serves_only_the_owner(region: Region,
                                                        tokens: dict[str, str]) -> None:
    child = subprocess.Popen([sys.executable, "-m", "intake", "feed", "--db", str(region.db),
                              "--listen", "127.0.0.1:0", "--tokens",
                              str(region.root / "feed-tokens")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("listening "), line
        url = f"http://127.0.0.1:{line.split()[1]}"
        assert _get(url).status_code == 401
        assert _get(url, Authorization=f"Bearer {tokens[OTHER]}").status_code == 403
        assert _get(url, Authorization=f"Bearer {tokens[KIOSK]}").status_code == 200
    finally:
        child.terminate()
        child.communicate(timeout=10)


def test_a_token_for_a_feed_not_configured_is_a_settings_error() -> None:
    from pydantic import ValidationError

    from kiosk.settings import CaseStatus
    feed = "https://gw.example.cn/lizhou"
    assert CaseStatus(feeds=[feed], feed_tokens={feed: Path("t")}).feed_tokens == {
        feed: Path("t")}
    with pytest.raises(ValidationError, match="not in feeds"):
        CaseStatus(feeds=[feed], feed_tokens={"https://elsewhere.cn": Path("t")})
