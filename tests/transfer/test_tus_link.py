"""The tus client on a hall's link (issue 25): PATCHes sized by time rather than bytes, a
gateway's body limit, and what a cut or a killed kiosk costs: at most one PATCH sent again.
The clock is injected where sizes are asserted, so nothing here depends on how fast it ran."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kiosk.transfer.tus import TusClient, TusOptions, next_chunk_size
from rigs.chaos import ChaosProxy
from rigs.tus_rig import TusServer, node_available

KiB = 1024
needs_node = pytest.mark.skipif(not node_available(), reason="needs node and "
                                "rigs/tus-server/node_modules (scripts/setup.sh)")
WORKER = Path(__file__).with_name("tus_kill_worker.py")


def _file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "pkg.tbk"
    path.write_bytes(os.urandom(size))
    return path


def _meta() -> dict[str, str]:
    return {"package_id": "0f1e2d3c-aaaa-4bbb-8ccc-000000000025", "receiver": "500103",
            "matter": "GA-HJZM-001", "sender": "11510802MB1234567X"}


def _ticks(step: float):  # type: ignore[no-untyped-def]
    """A clock that moves ``step`` seconds each time it is read: every PATCH 'takes' it."""
    counter = itertools.count()
    return lambda: next(counter) * step


# --- sizing, as arithmetic --------------------------------------------------------------------

def test_the_next_patch_lasts_about_chunk_seconds_at_the_rate_the_last_one_reached() -> None:
    options = TusOptions(chunk_size=256 * KiB, chunk_seconds=2.0)
    one_mb_per_s = next_chunk_size(1000 * KiB, 1000 * KiB, 1.0, options, 64 << 20)
    assert one_mb_per_s == 2000 * KiB


def test_growth_is_at_most_fourfold_and_the_size_stays_within_its_bounds() -> None:
    options = TusOptions(chunk_size=256 * KiB, chunk_seconds=2.0)
    assert next_chunk_size(256 * KiB, 256 * KiB, 0.001, options, 64 << 20) == 1024 * KiB
    assert next_chunk_size(32 << 20, 32 << 20, 0.1, options, 64 << 20) == 64 << 20
    assert next_chunk_size(1 << 20, 1 << 20, 100.0, options, 64 << 20) == 256 * KiB
    assert next_chunk_size(1 << 20, 1 << 20, 0.01, options, 3 << 20) == 3 << 20


def test_without_chunk_seconds_every_patch_is_chunk_size() -> None:
    options = TusOptions(chunk_size=256 * KiB)
    assert next_chunk_size(256 * KiB, 256 * KiB, 0.001, options, 64 << 20) == 256 * KiB


# --- against the reference server -------------------------------------------------------------

@needs_node
def test_patches_grow_with_the_link_and_the_upload_arrives_whole(tmp_path: Path) -> None:
    path = _file(tmp_path, 2 * 1024 * KiB)
    offsets: list[int] = []
    with TusServer(tmp_path / "server") as server:
        client = TusClient(server.url, TusOptions(chunk_size=64 * KiB, chunk_seconds=2.0),
                           clock=_ticks(0.5))
        client.upload(path, _meta(), "", lambda url, offset: offsets.append(offset))
        [finish] = server.finishes()
    # 64 KiB in 0.5 s: 128 KiB/s, so 256 KiB next; then 1 MiB (4x); then what is left
    assert offsets == [0, 64 * KiB, 320 * KiB, 1344 * KiB, 2048 * KiB]
    assert client.stats.bytes_sent == path.stat().st_size
    assert client.stats.largest_chunk == 1024 * KiB
    assert finish["size"] == path.stat().st_size and not finish["duplicate"]


@needs_node
def test_a_reset_mid_upload_sends_at_most_the_patch_it_cut_again(tmp_path: Path) -> None:
    path = _file(tmp_path, 3 * 1024 * KiB)
    with TusServer(tmp_path / "server") as server, \
            ChaosProxy(("127.0.0.1", server.port)) as proxy:
        proxy.reset_after(path.stat().st_size * 6 // 10)
        client = TusClient(proxy.url("/files"), TusOptions(
            chunk_size=128 * KiB, chunk_seconds=2.0, retries=10, backoff_min_s=0.01,
            backoff_max_s=0.1))
        client.upload(path, _meta(), "", lambda url, offset: None)
        [finish] = server.finishes()
    assert proxy.resets == 1 and client.stats.resumed_at
    resent = client.stats.bytes_sent - path.stat().st_size
    assert 0 <= resent <= client.stats.largest_chunk < path.stat().st_size
    assert finish["size"] == path.stat().st_size


def test_a_gateway_body_limit_makes_patches_smaller_not_the_upload_fail(tmp_path: Path) -> None:
    """Mocked: a reverse proxy's body limit (413, as nginx's client_max_body_size) in front
    of the region; the reference server has none."""
    path = _file(tmp_path, 3 * 1024 * KiB)
    limit, stored, bodies = 700 * KiB, bytearray(), []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            if request.method == "OPTIONS":
                return httpx.Response(204, headers={"Tus-Extension": "creation"})
            if request.method == "POST":
                return httpx.Response(201, headers={"Location": "/files/abc"})
            if request.method == "HEAD":
                return httpx.Response(200, headers={"Upload-Offset": str(len(stored))})
            body = request.read()
            bodies.append(len(body))
            if len(body) > limit:
                return httpx.Response(413)
            stored.extend(body)
            return httpx.Response(204, headers={"Upload-Offset": str(len(stored))})

    client = TusClient("http://region.test/files", TusOptions(
        chunk_size=256 * KiB, chunk_seconds=2.0, backoff_min_s=0.0, backoff_max_s=0.0),
        transport=httpx.MockTransport(handler), clock=_ticks(0.5), sleep=lambda s: None)
    client.upload(path, _meta(), "", lambda url, offset: None)
    assert bytes(stored) == path.read_bytes()
    assert bodies[:3] == [256 * KiB, 1024 * KiB, 512 * KiB]   # refused, then half
    assert max(bodies[2:]) <= limit


def test_a_limit_below_the_smallest_patch_is_a_refusal(tmp_path: Path) -> None:
    path = _file(tmp_path, 300 * KiB)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "OPTIONS":
            return httpx.Response(204, headers={"Tus-Extension": "creation"})
        if request.method == "POST":
            return httpx.Response(201, headers={"Location": "/files/abc"})
        return httpx.Response(413)

    client = TusClient("http://region.test/files", TusOptions(chunk_size=256 * KiB),
                       transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(Exception, match="413"):
        client.upload(path, _meta(), "", lambda url, offset: None)


@needs_node
def test_a_kiosk_killed_mid_upload_resumes_where_the_region_is(tmp_path: Path) -> None:
    """A real process, SIGKILLed while its upload crosses a slow link; a new client resumes
    from the URL the first one persisted. Sent again: at most the PATCH the kill cut."""
    path = _file(tmp_path, 1536 * KiB)
    size = path.stat().st_size
    state = tmp_path / "progress.jsonl"
    with TusServer(tmp_path / "server") as server, \
            ChaosProxy(("127.0.0.1", server.port)) as proxy:
        proxy.throttle(8_000_000, burst_bytes=16 * KiB)   # ~1.6 s for the whole file
        worker = subprocess.Popen([sys.executable, str(WORKER), proxy.url("/files"), str(path),
                                   str(state), json.dumps(_meta())])
        try:
            deadline = time.monotonic() + 60
            while proxy.bytes_up < size // 2 and worker.poll() is None:
                assert time.monotonic() < deadline, "the worker's upload never got half way"
                time.sleep(0.01)
            worker.send_signal(signal.SIGKILL)
        finally:
            worker.wait(timeout=10)
        assert worker.returncode == -signal.SIGKILL, "finished before the kill"
        records = [json.loads(line) for line in state.read_text().splitlines()]
        url, acknowledged = records[-1]["url"], records[-1]["offset"]
        proxy.throttle(None)
        second = TusClient(proxy.url("/files"), TusOptions(chunk_size=64 * KiB))
        second.upload(path, _meta(), url, lambda u, offset: None)
        [finish] = server.finishes()
        crossed = proxy.bytes_up          # both processes, request heads included
    [resumed_at] = second.stats.resumed_at
    assert acknowledged <= resumed_at < size
    assert second.stats.bytes_sent == size - resumed_at      # no byte sent twice by it
    # what the kill cost the link: bytes that crossed it twice; at most the PATCH the kill
    # cut (256 KiB), plus the heads of a dozen requests of a few hundred bytes each
    assert size <= crossed <= size + 256 * KiB + 16 * KiB, crossed - size
    assert finish["size"] == size and not finish["duplicate"]
