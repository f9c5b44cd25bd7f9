"""The region intake's new readers on bad input: the upload store's info files and names,
the database, key and address arguments, a case move's details and the feed's request line.
Each ends in a typed, bilingual refusal (exit ≠ 0) or a plain HTTP status — never a
traceback, a 500 or a crash — and the controls still work."""

from __future__ import annotations

import http.client
import json
import string
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_inputs import GENERIC, Builder, check_refusal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.casework import check_details
from intake.cli import main as region_main
from intake.cli_status import host_port
from intake.db import connect
from intake.feed import FeedServer
from intake.statusout import MoveError
from intake.store import completed
from kiosk.casestatus.event import CaseState
from kiosk.errors import KioskError

_FUZZ = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = region_main(argv)
    out, err = capsys.readouterr()
    check_refusal(code, out, err)


@pytest.mark.parametrize("kind", sorted(GENERIC))
@pytest.mark.parametrize("command", ["case-list", "case-show", "publish", "feed"])
def test_a_bad_database_is_refused(kind: str, command: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = GENERIC[kind](tmp_path)
    argv = {"case-list": ["case", "list"],
            "case-show": ["case", "show", "XT" + "0" * 28],
            "publish": ["publish", "--broker", "127.0.0.1:1", "--fleet", "t", "--once",
                        "--timeout", "1"],
            "feed": ["feed", "--listen", "127.0.0.1:0"]}[command]
    _refused([*argv, "--db", str(bad)], capsys)


@pytest.mark.parametrize("kind", sorted(GENERIC))
@pytest.mark.parametrize("option", ["--key", "--kiosks", "--status-key"])
def test_a_bad_key_for_intake_is_refused(kind: str, option: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad: Builder = GENERIC[kind]
    good = Path(__file__).resolve().parents[2] / "assets" / "demo" / "regions" / \
        "region-110101-x25519-chacha20.key"
    argv = {"--key": str(good), "--kiosks": str(good.with_suffix(".pub")),
            "--status-key": str(good)}
    argv[option] = str(bad(tmp_path))
    (tmp_path / "store").mkdir(exist_ok=True)
    _refused(["intake", "--store", str(tmp_path / "store"), "--db", str(tmp_path / "r.db"),
              *[x for kv in argv.items() for x in kv]], capsys)


@_FUZZ
@given(info=st.binary(max_size=300) | st.builds(
    lambda v: json.dumps({"size": v}).encode(),
    st.none() | st.booleans() | st.integers(-5, 10**20) | st.floats() | st.text(max_size=5)))
def test_any_info_file_is_taken_only_when_it_declares_the_exact_size(
        info: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    store = tmp_path_factory.mktemp("store")
    (store / "abc").write_bytes(b"12345")
    (store / "abc.json").write_bytes(info)
    try:
        size = json.loads(info).get("size")
    except (ValueError, AttributeError):
        size = None
    found = completed(store)
    assert [u.source for u in found] == (["abc"] if type(size) is int and size == 5 else [])


@pytest.mark.parametrize("name", ["..json", "a b.json", ".json", "x" * 129 + ".json",
                                  "link.json", "folder.json"])
def test_odd_names_in_the_store_are_passed_over(name: str, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (tmp_path / "outside").write_bytes(b"12345")
    data = store / name.removesuffix(".json")
    if name == "link.json":
        data.symlink_to(tmp_path / "outside")
    elif name == "folder.json":
        data.mkdir()
    elif data != store and data.parent == store:
        data.write_bytes(b"12345")
    (store / name).write_text('{"size": 5}')
    (store / "delivered").mkdir()
    (store / "delivered" / "no-dot").write_bytes(b"x")
    (store / "delivered" / "a.b").mkdir()
    (store / "delivered" / "c.d").symlink_to(tmp_path / "outside")
    assert completed(store) == []
    (store / "good").write_bytes(b"12345")                    # the control
    (store / "good.json").write_text('{"size": 5}')
    assert [u.source for u in completed(store)] == ["good"]


@_FUZZ
@given(st.text(max_size=80))
def test_any_address_is_a_host_and_port_or_a_bilingual_refusal(text: str) -> None:
    try:
        host, port = host_port(text, "--broker")
    except KioskError as exc:
        assert exc.zh and exc.en
        return
    assert (0 <= port <= 65535 and host and f"{host}:{port}" in text.replace("[", "").replace(
        "]", "")) or text.startswith("[")


@_FUZZ
@given(st.sampled_from(list(CaseState)),
       st.dictionaries(st.sampled_from(["document_number", "promised_by", "items", "deadline",
                                        "reason", "result", "destination", "x", "until"]),
                       st.text(max_size=12), max_size=4))
def test_any_details_are_checked_or_refused_bilingually(state: CaseState,
                                                        details: dict[str, str]) -> None:
    try:
        check_details(state, dict(details))
    except MoveError as exc:
        assert exc.zh and exc.en


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    db = tmp_path_factory.mktemp("feed") / "region.db"
    connect(db).close()
    server = FeedServer(("127.0.0.1", 0), db, frozenset({"510802-0001"}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


_PATH_CHARS = string.ascii_letters + string.digits + "/-_.%?&=~+;:@!$'()*,[]"


@_FUZZ
@given(path=st.text(alphabet=_PATH_CHARS, max_size=300).map(lambda s: "/" + s)
       | st.sampled_from(["/status-feed/510802-0001", "/status-feed/510802-0001?from=0"]))
def test_any_request_path_gets_a_plain_status_never_a_500(path: str, feed: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", feed, timeout=10)
    try:
        conn.request("GET", path)
        reply = conn.getresponse()
        body = reply.read()
    finally:
        conn.close()
    assert reply.status in (200, 400, 404, 414)
    if reply.status != 200:
        assert body == b""


@pytest.mark.parametrize("kind", sorted(GENERIC))
def test_a_bad_certificate_or_key_for_the_feed_is_refused(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "region.db"
    connect(db).close()
    bad = str(GENERIC[kind](tmp_path))
    _refused(["feed", "--db", str(db), "--listen", "127.0.0.1:0", "--cert", bad, "--key", bad,
              "--no-client-auth"], capsys)


def test_a_certificate_without_its_key_is_refused(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "region.db"
    connect(db).close()
    _refused(["feed", "--db", str(db), "--listen", "127.0.0.1:0", "--cert", str(db)], capsys)
