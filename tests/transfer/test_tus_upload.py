"""The tus client against the reference server (@tus/server + @tus/file-store) on loopback,
straight and through the chaos proxy: resets, silence, a slow link. Nothing is mocked but
the checksum extension, which the reference server does not offer (see the last test)."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.settings import Route, Transfer
from kiosk.transfer.outbox import Outbox, PackageMeta, State
from kiosk.transfer.routing import Routing
from kiosk.transfer.tus import TusClient, TusError, TusOptions
from kiosk.transfer.uploader import Pacing, Sender, Uploader
from rigs.chaos import ChaosProxy
from rigs.tus_rig import TusServer, node_available

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not node_available(), reason="needs node and "
                                 "rigs/tus-server/node_modules (scripts/setup.sh)")]

CHUNK = 256 * 1024


def _file(tmp_path: Path, size: int, name: str = "pkg.tbk") -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def _meta(package_id: str = "0f1e2d3c-aaaa-4bbb-8ccc-000000000001") -> dict[str, str]:
    return {"package_id": package_id, "receiver": "500103", "matter": "GA-HJZM-001",
            "sender": "11510802MB1234567X", "filename": f"{package_id}.500103.tbk"}


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, url: str, offset: int) -> None:
        self.calls.append((url, offset))


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with TusServer(tmp_path / "server") as running:
        yield running


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_upload_arrives_whole_with_its_metadata(server: TusServer, tmp_path: Path) -> None:
    path = _file(tmp_path, 3 * CHUNK + 1234)
    progress = Progress()
    client = TusClient(server.url, TusOptions(chunk_size=CHUNK))
    url = client.upload(path, _meta(), "", progress)
    assert [offset for _, offset in progress.calls] == [0, CHUNK, 2 * CHUNK, 3 * CHUNK,
                                                        3 * CHUNK + 1234]
    assert {u for u, _ in progress.calls} == {url}
    [finish] = server.finishes()
    assert finish["sha256"] == _sha(path) and not finish["duplicate"]
    assert finish["package_id"] == _meta()["package_id"] and finish["receiver"] == "500103"
    assert client.stats.bytes_sent == path.stat().st_size   # nothing sent twice
    assert _sha(server.delivered()[f"{_meta()['package_id']}.500103"]) == _sha(path)


def test_a_restart_resumes_at_the_servers_offset(server: TusServer, tmp_path: Path) -> None:
    """The kiosk died after two chunks: the new process HEADs the persisted URL."""
    path = _file(tmp_path, 4 * CHUNK)
    progress = Progress()

    def die_after_two(url: str, offset: int) -> None:
        progress(url, offset)
        if offset >= 2 * CHUNK:
            raise SystemExit("killed")

    first = TusClient(server.url, TusOptions(chunk_size=CHUNK))
    with pytest.raises(SystemExit):
        first.upload(path, _meta(), "", die_after_two)
    url, offset = progress.calls[-1]
    assert offset == 2 * CHUNK and server.finishes() == []
    second = TusClient(server.url, TusOptions(chunk_size=CHUNK))
    assert second.upload(path, _meta(), url, Progress()) == url
    assert second.stats.resumed_at == [2 * CHUNK]
    assert second.stats.bytes_sent == 2 * CHUNK
    [finish] = server.finishes()
    assert finish["sha256"] == _sha(path)


def test_the_same_package_twice_is_one_delivery(server: TusServer, tmp_path: Path) -> None:
    """A crash between the server's 201 and our saving the URL makes a second upload of the
    same package id: the server keeps the first and acknowledges both."""
    path = _file(tmp_path, CHUNK + 7)
    TusClient(server.url, TusOptions(chunk_size=CHUNK)).upload(path, _meta(), "", Progress())
    TusClient(server.url, TusOptions(chunk_size=CHUNK)).upload(path, _meta(), "", Progress())
    finishes = server.finishes()
    assert [f["duplicate"] for f in finishes] == [False, True]
    assert len(server.delivered()) == 1


def test_an_upload_the_server_forgot_starts_again(server: TusServer, tmp_path: Path) -> None:
    path = _file(tmp_path, 2 * CHUNK)
    client = TusClient(server.url, TusOptions(chunk_size=CHUNK))
    progress = Progress()
    url = client.upload(path, _meta("0f1e2d3c-aaaa-4bbb-8ccc-000000000002"), "", progress)
    client.terminate(url)                           # termination: the server drops it
    assert client._request("HEAD", url).status_code in (404, 410)
    again = Progress()
    new_url = client.upload(path, _meta("0f1e2d3c-aaaa-4bbb-8ccc-000000000003"), url, again)
    assert new_url != url and again.calls[0] == (new_url, 0)


def test_the_region_says_whether_it_has_a_package(server: TusServer, tmp_path: Path) -> None:
    """HEAD <endpoint>/delivered/<package_id>.<receiver>: the question asked before an upload
    starts again; only a whole, byte-identical copy counts, other bytes are a conflict."""
    path = _file(tmp_path, CHUNK + 99)
    client = TusClient(server.url, TusOptions(chunk_size=CHUNK))
    assert not client.region_has(path, _meta())
    client.upload(path, _meta(), "", Progress())
    assert client.region_has(path, _meta())
    assert not client.region_has(path, {**_meta(), "receiver": "510107"})
    assert not client.region_has(path, {**_meta(), "package_id": "../../uploads"})
    other = _file(tmp_path, CHUNK + 99, "other.tbk")
    with pytest.raises(TusError) as info:
        client.region_has(other, _meta())
    assert info.value.code == "tus_conflict" and "不同" in info.value.zh


def test_refusal_is_a_typed_bilingual_error(server: TusServer, tmp_path: Path) -> None:
    path = _file(tmp_path, 100)
    with pytest.raises(TusError) as info:    # the server requires package_id and receiver
        TusClient(server.url).upload(path, {"matter": "x"}, "", Progress())
    assert info.value.code == "tus_refused" and "拒绝" in info.value.zh and "400" in info.value.en


# --- through the chaos proxy ---------------------------------------------------------------

@pytest.fixture
def proxy(server: TusServer):  # type: ignore[no-untyped-def]
    with ChaosProxy(("127.0.0.1", server.port)) as running:
        yield running


def _through(proxy: ChaosProxy, read_timeout_s: float = 3) -> TusClient:
    opts = TusOptions(chunk_size=CHUNK, connect_timeout_s=2, read_timeout_s=read_timeout_s,
                      retries=30, backoff_min_s=0.05, backoff_max_s=1.0)
    return TusClient(proxy.url("/files"), opts)


def test_reset_at_half_way_resumes_from_the_servers_offset(
        server: TusServer, proxy: ChaosProxy, tmp_path: Path) -> None:
    path = _file(tmp_path, 8 * CHUNK)
    proxy.reset_after(4 * CHUNK + CHUNK // 3)        # mid-chunk, at about 50 %
    client = _through(proxy)
    client.upload(path, _meta(), "", Progress())
    assert proxy.resets == 1
    assert client.stats.resumed_at and 0 < client.stats.resumed_at[0] <= 4 * CHUNK + CHUNK // 3
    resent = client.stats.bytes_sent - path.stat().st_size
    assert 0 <= resent <= CHUNK, resent               # at most the chunk the reset cut
    [finish] = server.finishes()
    assert finish["sha256"] == _sha(path)


def test_a_500_after_the_upload_finished_sends_nothing_again(
        server: TusServer, proxy: ChaosProxy, tmp_path: Path) -> None:
    """The last PATCH reached the server and finished the upload; the gateway answered 500.
    The upload URL is gone (410), and the client asks the region before it starts again:
    the region has it, so nothing is sent twice and there is no duplicate to drop."""
    path = _file(tmp_path, 4 * CHUNK)
    # the request headers before it (under 2 KB) put this byte inside the last PATCH's body
    proxy.fail_reply_after(path.stat().st_size)
    client = _through(proxy)
    client.upload(path, _meta(), "", Progress())
    assert proxy.replies_replaced == 1 and client.stats.retries == 1
    [finish] = server.finishes()
    assert finish["sha256"] == _sha(path) and not finish["duplicate"]
    assert client.stats.bytes_sent == path.stat().st_size
    assert client.stats.already_there == 1


def test_the_uploader_asks_the_region_before_starting_a_refused_upload_again(
        server: TusServer, proxy: ChaosProxy, tmp_path: Path, make_keys: Any) -> None:
    """A gateway answers 404 twice: to a PATCH half-way (the upload URL is kept), then to
    the last PATCH, which did finish the upload. Refused with a URL, the outbox forgets it
    (restart_upload); the third attempt has no URL to HEAD, only its attempt count: it asks
    the region, which has the package, and nothing is uploaded a second time."""
    keys = make_keys("x25519-chacha20")
    route = Route(transport="tus", endpoint=proxy.url("/files"), key=keys.region_pub)
    outbox = Outbox(tmp_path / "outbox")
    routing = Routing(Transfer(routes={"500103": route}, chunk_kib=256, chunk_seconds=0),
                      tmp_path)                    # fixed PATCHes: the faults fall on their bytes
    uploader = Uploader(outbox, routing, Sender("510802-0001", "11510802X"),
                        Pacing(0.001, 0.002, timedelta(days=1)), on_overdue=lambda e: None)
    meta = PackageMeta(_meta()["package_id"], "510802-0001-261121-0001-5", "GA-HJZM-001",
                       "x25519-chacha20", datetime.now(UTC) + timedelta(hours=2))

    def attempt() -> Any:
        while not outbox.due(outbox.now()):   # the backoff: a few milliseconds
            time.sleep(0.005)
        delivered = uploader.deliver_once()
        [entry] = outbox.entries()
        return delivered, entry

    try:
        with outbox.spooling(meta, ("500103",)) as files:
            files["500103"].write(os.urandom(4 * CHUNK))
        proxy.fail_reply_after(2 * CHUNK, status=404)             # the second PATCH's body
        delivered, entry = attempt()
        assert not delivered and entry.upload_url and entry.last_error == "tus_refused"
        proxy.fail_reply_after(2 * CHUNK, status=404)             # the last PATCH's body
        delivered, entry = attempt()
        assert not delivered and (entry.attempts, entry.upload_url) == (2, "")
        assert len(server.finishes()) == 1          # it did arrive, unseen
        delivered, entry = attempt()
        assert delivered and entry.state is State.DELIVERED
        [finish] = server.finishes()                # no second copy was sent
        assert finish["sha256"] == entry.sha256 and not finish["duplicate"]
    finally:
        routing.close()
        outbox.close()


@pytest.mark.slow
def test_thirty_seconds_of_silence_times_out_and_resumes(
        server: TusServer, proxy: ChaosProxy, tmp_path: Path) -> None:
    path = _file(tmp_path, 6 * CHUNK)
    proxy.silence(30, after_upstream_bytes=3 * CHUNK + 1000)
    client = _through(proxy)
    client.upload(path, _meta(), "", Progress())
    assert client.stats.retries >= 1                  # the read timeout fired, no hang
    assert client.stats.bytes_sent - path.stat().st_size <= CHUNK
    [finish] = server.finishes()
    assert finish["sha256"] == _sha(path)


@pytest.mark.slow
def test_a_one_megabit_link_with_a_reset_still_delivers(
        server: TusServer, proxy: ChaosProxy, tmp_path: Path) -> None:
    path = _file(tmp_path, 4 * CHUNK)                 # 1 MiB: about 8 s at 1 Mbit/s
    proxy.throttle(1_000_000)
    proxy.reset_after(2 * CHUNK + 5000)
    client = _through(proxy, read_timeout_s=10)
    client.upload(path, _meta(), "", Progress())
    assert client.stats.bytes_sent - path.stat().st_size <= CHUNK
    [finish] = server.finishes()
    assert finish["sha256"] == _sha(path)


def test_checksum_is_sent_when_the_server_offers_it(tmp_path: Path) -> None:
    """Mocked: the reference server has no checksum extension, and no tus server that has
    one runs here. httpx's MockTransport plays a minimal server that checks each chunk."""
    path = _file(tmp_path, CHUNK + 10)
    stored = bytearray()
    seen: list[str] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            if request.method == "OPTIONS":
                return httpx.Response(204, headers={
                    "Tus-Extension": "creation,termination,checksum",
                    "Tus-Checksum-Algorithm": "md5,sha1"})
            if request.method == "POST":
                return httpx.Response(201, headers={"Location": "/files/abc"})
            body = request.read()
            algorithm, digest = request.headers["Upload-Checksum"].split()
            seen.append(algorithm)
            if base64.b64decode(digest) != hashlib.new(algorithm, body).digest():
                return httpx.Response(460)
            stored.extend(body)
            return httpx.Response(204, headers={"Upload-Offset": str(len(stored))})

    client = TusClient("http://region.test/files", TusOptions(chunk_size=CHUNK),
                       transport=httpx.MockTransport(handler))
    client.upload(path, _meta(), "", Progress())
    assert seen == ["sha1", "sha1"] and bytes(stored) == path.read_bytes()
