"""The back office web page's request parsing on any input: random paths, query strings,
cookies, headers and form bodies (with and without a live session and its CSRF token) get
a plain 2xx/3xx/4xx answer — never a 500, a traceback or a dropped connection — and no
random form moves a case; the controls (a real sign-in and a real move) still work."""

from __future__ import annotations

import http.client
import re
import string
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import staff
from intake.db import connect, transaction
from intake.office import OfficeServer
from intake.statusout import StatusSigner
from kiosk.transfer.keys import generate, write_private
from kiosk.transfer.suites import Role

_FUZZ = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
PIN = "135790"
TRANSFER = "XT" + "5" * 28
_PATH_CHARS = string.ascii_letters + string.digits + "/-_.%?&=~+;:@!$'()*,[]"
_FIELDS = ["to", "csrf", "staff_id", "pin", "items", "deadline", "document_number",
           "promised_by", "reason", "destination", "state", "page", "x"]


@dataclass
class Office:
    port: int
    db: Path
    cookie: str = ""
    csrf: str = ""


def _now() -> datetime:
    return datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def _request(office: Office, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", office.port, timeout=20)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if method == "POST":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        reply = conn.getresponse()
        headers: dict[str, str] = {}
        for name, value in reply.getheaders():          # Set-Cookie may come twice
            headers[name] = headers[name] + "\n" + value if name in headers else value
        return reply.status, headers, reply.read().decode()
    finally:
        conn.close()


def _form_headers(office: Office) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"office_session={office.cookie}"}


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    root = tmp_path_factory.mktemp("office")
    key = root / "status.key"
    write_private(key, generate("500103", Role.SIGN, "x25519-chacha20"))
    db = root / "region.db"
    conn = connect(db)
    staff.add(conn, "zhang01", "张工", PIN, _now(), roles=["admin"])
    with transaction(conn):          # one received case to move (no package: not needed)
        conn.execute("INSERT INTO cases VALUES ('510802-0001-250304-9141-7', '510802-0001', "
                     "'m', '事项', 'now')")
        conn.execute("INSERT INTO transfers VALUES (?, '510802-0001-250304-9141-7', "
                     "'510802-0001', '部门', 'received', 'now')", (TRANSFER,))
    conn.close()
    server = OfficeServer(("127.0.0.1", 0), db, StatusSigner.load(key),
                          timedelta(minutes=15), _now)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    found = Office(server.server_address[1], db)
    status, headers, _ = _request(found, "GET", "/sign-in")
    pre = re.search(r"office_sign_in=([\w-]+)", headers["Set-Cookie"])
    assert status == 200 and pre
    status, headers, _ = _request(found, "POST", "/sign-in", urlencode(
        {"csrf": pre[1], "staff_id": "zhang01", "pin": PIN}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded",
         "Cookie": f"office_sign_in={pre[1]}"})
    session = re.search(r"office_session=([\w-]+)", headers["Set-Cookie"])
    assert status == 303 and session, "the control: a real sign-in"
    found.cookie = session[1]
    _, _, page = _request(found, "GET", f"/cases/{TRANSFER}", headers=_form_headers(found))
    csrf = re.search(r'name="csrf" value="([\w-]+)"', page)
    assert csrf
    found.csrf = csrf[1]
    yield found
    server.shutdown()
    server.server_close()


def _moves(office: Office) -> int:
    conn = connect(office.db, create=False)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM outgoing").fetchone()[0])
    finally:
        conn.close()


@_FUZZ
@given(path=st.text(alphabet=_PATH_CHARS, max_size=1200).map(lambda s: "/" + s)
       | st.sampled_from(["/", "/cases", "/cases?state=x", "/cases?page=0", f"/cases/{TRANSFER}",
                          f"/cases/{TRANSFER}/move", "/sign-in", "/sign-out",
                          "/cases?page=99999999999999999999", "/cases?state=accepted&page=2"]),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
       signed_in=st.booleans())
def test_any_path_gets_a_plain_answer(path: str, method: str, signed_in: bool,
                                      office: Office) -> None:
    headers = _form_headers(office) if signed_in else {}
    status, _, body = _request(office, method, path, headers=headers)
    assert 200 <= status < 500
    assert "Traceback" not in body


@_FUZZ
@given(cookie=st.text(max_size=300).map(lambda s: s.encode("utf-8", "replace")
                                        .decode("latin-1")),
       path=st.sampled_from(["/cases", f"/cases/{TRANSFER}", "/sign-in"]))
def test_any_cookie_gets_a_plain_answer(cookie: str, path: str, office: Office) -> None:
    cookie = "".join(c for c in cookie if c not in "\r\n")
    status, _, body = _request(office, "GET", path, headers={"Cookie": cookie})
    assert status in (200, 303, 400) and "Traceback" not in body


@_FUZZ
@given(form=st.dictionaries(st.sampled_from(_FIELDS), st.text(max_size=40), max_size=6)
       | st.binary(max_size=400),
       with_csrf=st.booleans(), target=st.sampled_from(
           [f"/cases/{TRANSFER}/move", "/sign-in"]),
       kind=st.sampled_from(["application/x-www-form-urlencoded", "text/plain", "",
                             "application/x-www-form-urlencoded; charset=utf-8"]))
def test_any_form_gets_a_plain_answer_and_moves_nothing(
        form: dict[str, str] | bytes, with_csrf: bool, target: str, kind: str,
        office: Office) -> None:
    if isinstance(form, dict):
        if with_csrf:
            form["csrf"] = office.csrf
        body = urlencode(form).encode()
    else:
        body = form
    headers = _form_headers(office) | ({"Content-Type": kind} if kind else {})
    if not kind:
        headers.pop("Content-Type")
    before = _moves(office)
    status, _, text = _request(office, "POST", target, body, headers)
    assert 200 <= status < 500 and "Traceback" not in text
    assert _moves(office) == before or (status == 303 and target.endswith("/move"))


@pytest.mark.parametrize("headers", [
    {"Content-Length": "99999999"}, {"Content-Length": "-1"}, {"Content-Length": "x"},
    {"X-Many": "1"}])
def test_oversized_or_malformed_requests_are_refused(headers: dict[str, str],
                                                     office: Office) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", office.port, timeout=20)
    try:
        conn.putrequest("POST", f"/cases/{TRANSFER}/move")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Cookie", f"office_session={office.cookie}")
        if "X-Many" in headers:
            for n in range(60):
                conn.putheader(f"X-H{n}", "1")
            conn.putheader("Content-Length", "0")
        else:
            conn.putheader("Content-Length", headers["Content-Length"])
        conn.endheaders()
        reply = conn.getresponse()
        assert reply.status in (411, 413, 431)
        assert "Traceback" not in reply.read().decode()
    finally:
        conn.close()


def test_a_real_move_still_works_after_the_fuzzing(office: Office) -> None:
    before = _moves(office)
    body = urlencode({"csrf": office.csrf, "to": "refused", "reason": "不属于本部门"}).encode()
    status, headers, _ = _request(office, "POST", f"/cases/{TRANSFER}/move", body,
                                  _form_headers(office))
    assert status == 303 and headers["Location"] == f"/cases/{TRANSFER}"
    assert _moves(office) == before + 1

