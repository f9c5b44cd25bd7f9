"""``kiosk-region feed``: each kiosk's status events as a pull feed over real HTTP on loopback
(TLS with a certificate made here, and plain HTTP in process): JSON Lines from ``?from=N``,
X-Feed-Next, ETag and 304, pages of MAX_FEED_LINES, and refusals for anything but a kiosk id
of the strict pattern."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from region_rig import ROOT, Fixture, Region, make_region, region_cli

from intake.db import connect, transaction
from intake.feed import FeedServer
from kiosk.casestatus.event import parse, verify
from kiosk.casestatus.wire import FEED_NEXT_HEADER, MAX_FEED_LINES, feed_etag, feed_path
from kiosk.transfer.keys import load

KIOSK = "510802-0001"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "region feed test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "feed.crt", folder / "feed.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture) -> Region:
    region = make_region(tmp_path, make_keys, make_package, seal_to_file)
    for seed in (1, 2, 3):
        package_id, data, _ = region.sealed(seed)
        region.put(data, f"u{seed}", package_id=package_id)
    assert region_cli(region.intake_argv()).returncode == 0
    return region


@pytest.fixture
def tls_feed(region: Region, tmp_path: Path) -> Iterator[tuple[str, httpx.Client]]:
    cert, key = _self_signed(tmp_path)
    child = subprocess.Popen([sys.executable, "-m", "intake", "feed", "--db", str(region.db),
                              "--listen", "127.0.0.1:0", "--cert", str(cert), "--key", str(key),
                              "--kiosks", str(region.keys.kiosk_pub), "--no-client-auth"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("listening "), child.stderr.read() if child.stderr else line
    context = ssl.create_default_context(cafile=str(cert))
    try:
        with httpx.Client(verify=context, timeout=10) as client:
            yield f"https://127.0.0.1:{line.split()[1]}", client
    finally:
        child.terminate()
        child.communicate(timeout=10)


def test_the_feed_over_tls_serves_signed_lines_with_next_and_etag(
        region: Region, tls_feed: tuple[str, httpx.Client]) -> None:
    base, client = tls_feed
    reply = client.get(base + feed_path(KIOSK))
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/x-ndjson"
    assert reply.headers[FEED_NEXT_HEADER] == "3"
    assert reply.headers["etag"] == feed_etag(KIOSK, 3)
    public = load(region.status_pub).public
    lines = reply.content.splitlines()
    assert len(lines) == 3
    for line in lines:
        event, signature = parse(line)
        verify(event, signature, public)
    assert client.get(base + feed_path(KIOSK) + "?from=1").content.splitlines() == lines[1:]
    caught_up = client.get(base + feed_path(KIOSK) + "?from=3")
    assert caught_up.content == b"" and caught_up.headers[FEED_NEXT_HEADER] == "3"
    same = client.get(base + feed_path(KIOSK) + "?from=3",
                      headers={"If-None-Match": caught_up.headers["etag"]})
    assert same.status_code == 304 and same.content == b""
    # a fourth event: the same If-None-Match now gets it
    package_id, data, _ = region.sealed(4)
    region.put(data, "u4", package_id=package_id)
    assert region_cli(region.intake_argv()).returncode == 0
    newer = client.get(base + feed_path(KIOSK) + "?from=3",
                       headers={"If-None-Match": caught_up.headers["etag"]})
    assert newer.status_code == 200 and len(newer.content.splitlines()) == 1
    assert newer.headers[FEED_NEXT_HEADER] == "4"


@pytest.mark.parametrize("path", [
    feed_path("510802-0002"),                        # registered nowhere, no events
    "/status-feed/../../etc/passwd", "/status-feed/510802-0001/../x",
    "/status-feed/%2e%2e%2fregion.db", "/status-feed/510802-00011", "/status-feed/",
    "/region.db", "/status-feed/510802-0001/", "/status-feed/510802-0001%00"])
def test_anything_but_a_known_kiosk_is_404_with_an_empty_body(
        path: str, tls_feed: tuple[str, httpx.Client]) -> None:
    base, client = tls_feed
    reply = client.get(base + path)
    assert (reply.status_code, reply.content) == (404, b"")


@pytest.mark.parametrize("query", ["from=-1", "from=abc", "from=1&from=2", "from=9999999999",
                                   "since=1", "from="])
def test_a_bad_from_is_400(query: str, tls_feed: tuple[str, httpx.Client]) -> None:
    base, client = tls_feed
    reply = client.get(f"{base}{feed_path(KIOSK)}?{query}")
    assert (reply.status_code, reply.content) == (400, b"")


def test_a_registered_kiosk_without_events_gets_an_empty_feed(tmp_path: Path) -> None:
    db = tmp_path / "region.db"
    connect(db).close()
    server = FeedServer(("127.0.0.1", 0), db, frozenset({"510802-0002"}))
    with _serving(server) as base:
        reply = httpx.get(base + feed_path("510802-0002"))
        assert (reply.status_code, reply.content) == (200, b"")
        assert reply.headers[FEED_NEXT_HEADER] == "0"
        assert httpx.get(base + feed_path("510802-0003")).status_code == 404


def test_a_kiosk_a_week_behind_pulls_in_pages_in_order(tmp_path: Path) -> None:
    """Plain HTTP, in process: 1,200 events in pages of MAX_FEED_LINES, none twice."""
    db = tmp_path / "region.db"
    conn = connect(db)
    total = 2 * MAX_FEED_LINES + 200
    with transaction(conn):
        conn.executemany("INSERT INTO outgoing (kiosk_id, transfer_number, seq, state, "
                         "feed_index, wire, created_at) VALUES (?, ?, 1, 'received', ?, ?, "
                         "'2026-12-07T10:00:00+08:00')",
                         [(KIOSK, f"XT{i:028d}", i, b'{"n":%d}' % i) for i in range(total)])
    conn.close()
    with _serving(FeedServer(("127.0.0.1", 0), db)) as base:
        got: list[bytes] = []
        start, pulls = 0, 0
        while True:
            reply = httpx.get(f"{base}{feed_path(KIOSK)}?from={start}")
            pulls += 1
            got += reply.content.splitlines()
            if int(reply.headers[FEED_NEXT_HEADER]) == start:
                break
            start = int(reply.headers[FEED_NEXT_HEADER])
    assert got == [b'{"n":%d}' % i for i in range(total)] and pulls == 4


class _serving:
    def __init__(self, server: FeedServer) -> None:
        self.server = server

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
