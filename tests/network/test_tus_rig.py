"""The reference tus server as the rig runs it: the tus 1.0 core and extensions it advertises,
and the server-side dedup that makes a package's delivery exactly once."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rigs.chaos import ChaosProxy
from rigs.tus_rig import SERVER_DIR, TusServer, node_available

pytestmark = pytest.mark.integration

TUS = {"Tus-Resumable": "1.0.0"}
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}
PACKAGE = "0f1e2d3c-aaaa-4bbb-8ccc-000000000001"


def _require_node() -> None:
    if not node_available():
        pytest.skip(f"needs node on PATH and {SERVER_DIR / 'node_modules'} (scripts/setup.sh)")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TusServer]:
    _require_node()
    with TusServer(tmp_path / "tus") as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                    for key, value in values.items())


def _create(http: httpx.Client, base: str, size: int, package_id: str = PACKAGE,
            **extra: str) -> str:
    meta = {"package_id": package_id, "receiver": "500103", "matter": "GA-HJZM-001",
            "sender": "11510802MB1234567X", "filename": "pkg.tbk", **extra}
    reply = http.post(base, headers={**TUS, "Upload-Length": str(size),
                                     "Upload-Metadata": _metadata(**meta)})
    assert reply.status_code == 201, reply.text
    return reply.headers["Location"]


def _upload(http: httpx.Client, base: str, body: bytes, package_id: str = PACKAGE) -> str:
    url = _create(http, base, len(body), package_id)
    half = len(body) // 2
    for offset, part in ((0, body[:half]), (half, body[half:])):
        reply = http.patch(url, content=part, headers={**PATCH, "Upload-Offset": str(offset)})
        assert reply.status_code == 204
        assert reply.headers["Upload-Offset"] == str(offset + len(part))
    return url


def test_options_advertises_the_extensions(server: TusServer, http: httpx.Client) -> None:
    reply = http.options(server.url)
    assert reply.status_code == 204 and reply.headers["Tus-Version"] == "1.0.0"
    extensions = reply.headers["Tus-Extension"].split(",")
    assert {"creation", "termination"} <= set(extensions)
    assert "checksum" not in extensions               # @tus/file-store does not do it


def test_creation_patch_head_and_one_delivery(server: TusServer, http: httpx.Client) -> None:
    body = bytes(range(256)) * 1000
    url = _create(http, server.url, len(body))
    assert url.startswith(server.url + "/")
    assert http.head(url, headers=TUS).headers["Upload-Offset"] == "0"
    reply = http.patch(url, content=body[:100_000], headers={**PATCH, "Upload-Offset": "0"})
    assert reply.status_code == 204 and reply.headers["Upload-Offset"] == "100000"
    head = http.head(url, headers=TUS)
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("100000", "256000")
    assert head.headers["Cache-Control"] == "no-store" and server.finishes() == []
    reply = http.patch(url, content=body[100_000:], headers={**PATCH, "Upload-Offset": "100000"})
    assert reply.status_code == 204 and reply.headers["Upload-Offset"] == "256000"
    [finish] = server.finishes()
    assert finish == {"upload_id": url.rsplit("/", 1)[1], "package_id": PACKAGE,
                      "receiver": "500103", "sha256": hashlib.sha256(body).hexdigest(),
                      "size": len(body), "duplicate": False}
    assert {key: path.read_bytes() for key, path in server.delivered().items()} == {
        f"{PACKAGE}.500103": body}
    # The finished file moved to delivered/: the upload itself is gone.
    assert http.head(url, headers=TUS).status_code == 410


def test_the_same_package_again_is_a_duplicate(server: TusServer, http: httpx.Client) -> None:
    first, second = b"first copy" * 500, b"second copy" * 500
    _upload(http, server.url, first)
    _upload(http, server.url, second)                 # still acknowledged with 204
    assert [(f["duplicate"], f["sha256"]) for f in server.finishes()] == [
        (False, hashlib.sha256(first).hexdigest()), (True, hashlib.sha256(second).hexdigest())]
    [(key, path)] = server.delivered().items()
    assert key == f"{PACKAGE}.500103" and path.read_bytes() == first
    assert sorted(p.name for p in (server.root / "uploads").iterdir()) == [
        f"{server.finishes()[0]['upload_id']}.json"]  # the duplicate left nothing behind


def test_another_region_is_another_delivery(server: TusServer, http: httpx.Client) -> None:
    _upload(http, server.url, b"a" * 10)
    url = _create(http, server.url, 10, receiver="310115")
    http.patch(url, content=b"b" * 10, headers={**PATCH, "Upload-Offset": "0"})
    assert sorted(server.delivered()) == [f"{PACKAGE}.310115", f"{PACKAGE}.500103"]
    assert [f["duplicate"] for f in server.finishes()] == [False, False]


@pytest.mark.parametrize("metadata", [
    None, _metadata(receiver="500103"), _metadata(package_id=PACKAGE),
    _metadata(package_id="../../etc", receiver="500103"),
    _metadata(package_id=PACKAGE, receiver="500103/x")])
def test_creation_without_safe_keys_is_refused(server: TusServer, http: httpx.Client,
                                               metadata: str | None) -> None:
    headers = {**TUS, "Upload-Length": "10"}
    if metadata is not None:
        headers["Upload-Metadata"] = metadata
    reply = http.post(server.url, headers=headers)
    assert reply.status_code == 400, reply.text
    assert server.finishes() == [] and list((server.root / "uploads").iterdir()) == []


def test_termination_removes_the_upload(server: TusServer, http: httpx.Client) -> None:
    url = _create(http, server.url, 100)
    http.patch(url, content=b"x" * 40, headers={**PATCH, "Upload-Offset": "0"})
    assert http.delete(url, headers=TUS).status_code == 204
    assert http.head(url, headers=TUS).status_code == 404
    assert server.finishes() == [] and server.delivered() == {}


def test_max_size_is_enforced(tmp_path: Path, http: httpx.Client) -> None:
    _require_node()
    with TusServer(tmp_path / "small", max_size=1000) as small:
        assert http.options(small.url).headers["Tus-Max-Size"] == "1000"
        reply = http.post(small.url, headers={**TUS, "Upload-Length": "1001",
                                              "Upload-Metadata": _metadata(
                                                  package_id=PACKAGE, receiver="500103")})
        assert reply.status_code == 413


def test_a_reset_mid_patch_resumes_from_the_servers_offset(server: TusServer,
                                                            http: httpx.Client) -> None:
    body = bytes(range(256)) * 2000                   # 512 kB
    with ChaosProxy(("127.0.0.1", server.port)) as proxy:
        url = _create(http, proxy.url("/files"), len(body))
        assert url.startswith(proxy.url("/files/"))   # Location follows the Host we used
        proxy.reset_after(200_000)
        with pytest.raises(httpx.TransportError):
            http.patch(url, content=body, headers={**PATCH, "Upload-Offset": "0"})
        assert proxy.resets == 1
        offset = int(http.head(url, headers=TUS).headers["Upload-Offset"])
        assert 0 < offset <= 200_000                  # what arrived is kept, nothing more
        reply = http.patch(url, content=body[offset:],
                           headers={**PATCH, "Upload-Offset": str(offset)})
        assert reply.status_code == 204
    [finish] = server.finishes()
    assert finish["sha256"] == hashlib.sha256(body).hexdigest() and not finish["duplicate"]


def test_stop_ends_the_process(tmp_path: Path) -> None:
    _require_node()
    server = TusServer(tmp_path / "tus").start()
    process = server.process
    assert process is not None and server.port > 0
    server.stop()
    assert process.returncode == 0                    # SIGTERM handled: a clean exit
    server.stop()                                     # and a second stop is harmless


def test_a_server_that_cannot_start_says_why(tmp_path: Path, server: TusServer) -> None:
    with pytest.raises(RuntimeError, match="EADDRINUSE"):   # node's own error, from stderr
        TusServer(tmp_path / "second", port=server.port).start()
