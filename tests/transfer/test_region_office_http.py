"""The back office's session rules over plain HTTP(S) on loopback, with an injected clock:
the session cookie's flags (Secure only over TLS), the idle expiry, a PIN reset or a
lock-out ending a live session, the lock-out after five wrong PINs on the web page, and the
case list's state filter and pages."""

from __future__ import annotations

import http.client
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest

from intake import staff
from intake.cli import main
from intake.db import connect, transaction
from intake.office import OfficeServer
from intake.office_pages import PAGE_SIZE
from intake.statusout import StatusSigner
from kiosk.transfer.keys import generate, write_private
from kiosk.transfer.suites import Role

PIN = "135790"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Rig:
    server: OfficeServer
    db: Path
    now: list[datetime] = field(default_factory=lambda: [
        datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=8)))])
    tls: ssl.SSLContext | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                cookie: str = "") -> tuple[int, http.client.HTTPMessage, str]:
        port = self.server.server_address[1]
        conn = (http.client.HTTPSConnection("127.0.0.1", port, timeout=20, context=self.tls)
                if self.tls else http.client.HTTPConnection("127.0.0.1", port, timeout=20))
        body = urlencode(form).encode() if form is not None else None
        headers = {"Cookie": cookie} | ({"Content-Type": FORM} if body is not None else {})
        try:
            conn.request(method, path, body, headers)
            reply = conn.getresponse()
            return reply.status, reply.msg, reply.read().decode()
        finally:
            conn.close()

    def sign_in(self, pin: str = PIN) -> tuple[int, str, str]:
        """(status, the session cookie's Set-Cookie line, the page)."""
        _, msg, _ = self.request("GET", "/sign-in")
        token = re.search(r"office_sign_in=([\w-]+)", msg["Set-Cookie"])
        assert token
        status, msg, page = self.request("POST", "/sign-in", {
            "csrf": token[1], "staff_id": "zhang01", "pin": pin},
            f"office_sign_in={token[1]}")
        lines = [c for c in msg.get_all("Set-Cookie") or [] if c.startswith("office_session")]
        return status, lines[0] if lines else "", page


def _start(tmp_path: Path, cases: int = 1) -> Rig:
    key = tmp_path / "status.key"
    write_private(key, generate("500103", Role.SIGN, "x25519-chacha20"))
    db = tmp_path / "region.db"
    conn = connect(db)
    rig_now = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    staff.add(conn, "zhang01", "张工", PIN, rig_now, roles=["admin"])
    with transaction(conn):
        for n in range(cases):
            number = f"510802-0001-2503{n:02d}-9141-7"
            conn.execute("INSERT INTO cases VALUES (?, '510802-0001', 'm', '事项', 'now')",
                         (number,))
            conn.execute("INSERT INTO transfers VALUES (?, ?, '510802-0001', '部门', ?, ?)",
                         (f"XT{n:028d}", number, "received" if n % 2 else "accepted",
                          f"2026-12-07T10:00:00.{n:06d}"))
    conn.close()
    rig = Rig(None, db)  # type: ignore[arg-type]
    rig.server = OfficeServer(("127.0.0.1", 0), db, StatusSigner.load(key),
                              timedelta(minutes=15), lambda: rig.now[0])
    threading.Thread(target=rig.server.serve_forever, daemon=True).start()
    return rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    found = _start(tmp_path)
    yield found
    found.server.shutdown()
    found.server.server_close()


def _cookie(line: str) -> str:
    return line.split(";")[0]


def test_the_session_cookie_is_random_httponly_strict_and_not_secure_without_tls(
        rig: Rig) -> None:
    status, line, _ = rig.sign_in()
    assert status == 303
    parts = [p.strip() for p in line.split(";")]
    assert "HttpOnly" in parts and "SameSite=Strict" in parts and "Secure" not in parts
    assert len(_cookie(line).split("=")[1]) == 43
    assert _cookie(rig.sign_in()[1]) != _cookie(line)             # a new one each time


def test_a_session_ends_after_the_idle_minutes(rig: Rig) -> None:
    cookie = _cookie(rig.sign_in()[1])
    rig.now[0] += timedelta(minutes=14)
    assert rig.request("GET", "/cases", cookie=cookie)[0] == 200     # restarts the clock
    rig.now[0] += timedelta(minutes=14)
    assert rig.request("GET", "/cases", cookie=cookie)[0] == 200
    rig.now[0] += timedelta(minutes=16)
    status, msg, _ = rig.request("GET", "/cases", cookie=cookie)
    assert status == 303 and msg["Location"] == "/sign-in"


def test_a_pin_reset_ends_a_live_session(rig: Rig) -> None:
    cookie = _cookie(rig.sign_in()[1])
    conn = connect(rig.db, create=False)
    staff.add(conn, "zhang01", "张工", "975310", rig.now[0], reset=True)
    conn.close()
    assert rig.request("GET", "/cases", cookie=cookie)[0] == 303


def test_five_wrong_pins_on_the_page_lock_the_id_and_end_its_sessions(rig: Rig) -> None:
    cookie = _cookie(rig.sign_in()[1])
    for _ in range(5):
        status, _, page = rig.sign_in("000000")
        assert status == 403 and "工号或 PIN 不正确" in page
    status, line, page = rig.sign_in()                     # the right PIN, too late
    assert status == 403 and line == "" and "已锁定" in page and "Locked" in page
    assert rig.request("GET", "/cases", cookie=cookie)[0] == 303


def test_the_list_filters_by_state_and_pages(tmp_path: Path) -> None:
    rig = _start(tmp_path, cases=PAGE_SIZE * 2 + 3)
    try:
        cookie = _cookie(rig.sign_in()[1])
        seen = []
        for number in (1, 2, 3):
            status, _, page = rig.request("GET", f"/cases?page={number}", cookie=cookie)
            assert status == 200
            seen += re.findall(r'href="/cases/(XT\d{28})"', page)
            assert ("下一页" in page) == (number < 3)
        assert seen == [f"XT{n:028d}" for n in range(PAGE_SIZE * 2 + 3)]
        _, _, page = rig.request("GET", "/cases?state=received", cookie=cookie)
        assert re.findall(r'href="/cases/XT\d{24}(\d{4})"', page) == [
            f"{n:04d}" for n in range(1, PAGE_SIZE * 2 + 3, 2)][:PAGE_SIZE]
        for bad in ("?state=nope", "?page=0", "?page=x", "?other=1", "?state=a&state=b"):
            status, _, page = rig.request("GET", "/cases" + bad, cookie=cookie)
            assert status == 400 and 'class="error"' in page
    finally:
        rig.server.shutdown()
        rig.server.server_close()


def test_over_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    rig = _start(tmp_path)
    rig.server.use_tls(cert, key)
    rig.tls = ssl.create_default_context(cafile=str(cert))
    rig.tls.check_hostname = False
    try:
        status, line, _ = rig.sign_in()
        assert status == 303 and "Secure" in [p.strip() for p in line.split(";")]
    finally:
        rig.server.shutdown()
        rig.server.server_close()


@pytest.mark.parametrize("extra", [["--listen", "nowhere"], ["--listen", "127.0.0.1:99999"],
                                   ["--listen", "127.0.0.1:0", "--cert", "c.pem"],
                                   ["--listen", "127.0.0.1:0", "--idle-minutes", "0"],
                                   ["--listen", "127.0.0.1:0", "--status-key", "region.db"]])
def test_bad_office_arguments_are_a_bilingual_refusal(
        extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    rig = _start(tmp_path)
    rig.server.server_close()
    monkeypatch.chdir(tmp_path)
    argv = ["office", "--db", str(rig.db), "--status-key", str(tmp_path / "status.key"),
            *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert " / " in err and "Traceback" not in err
