"""The back office web page in a real headless browser (Debian's chromium, driven by
Playwright over its DevTools protocol, no browser download): a staff member signs in, finds
the case in the list, opens it, moves it to 受理 and then 补正 through the page's forms, and
signs out — and the database holds the same states, signed events and audit rows the
command line writes. A wrong PIN is shown on the page; a POST without the session's CSRF
token, or a bad form, changes nothing. The server is the real ``kiosk-region office`` child."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from region_rig import ROOT, Fixture, Region, make_region

from intake.cli import main
from kiosk.casestatus.event import parse, verify
from kiosk.transfer.keys import load

CHROMIUM = Path("/usr/bin/chromium")
PIN = "246810"
playwright_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") \
    else __import__("playwright.sync_api").sync_api          # CI must have it: no skip there
pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                                reason="needs Debian's chromium (scripts/setup.sh)")


@dataclass
class Office:
    region: Region
    url: str
    transfer: str


@pytest.fixture
def office(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture, monkeypatch: pytest.MonkeyPatch) -> Iterator[Office]:
    region = make_region(tmp_path, make_keys, make_package, seal_to_file)
    package_id, data, built = region.sealed(1)
    region.put(data, "u1", package_id=package_id)
    assert main(region.intake_argv()) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    assert main(["staff", "add", "--db", str(region.db), "--id", "zhang01", "--name",
                 "张工", "--role", "admin"]) == 0
    child = subprocess.Popen(
        [sys.executable, "-m", "intake", "office", "--db", str(region.db), "--status-key",
         str(region.status_key), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("listening "), child.stderr.read() if child.stderr else line
        yield Office(region, f"http://127.0.0.1:{int(line.split()[1])}",
                     str(built.manifest["receivers"][0]["transfer_number"]))
    finally:
        child.terminate()
        child.communicate(timeout=30)


def _fonts(tmp_path: Path) -> dict[str, str]:
    """The browser's environment with the project's Chinese face (assets/fonts) added to
    fontconfig's, so the page (and its screenshot) shows 汉字 on a machine with no CJK font
    installed — as any back-office PC in a Chinese department has."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                    f'<fontconfig><dir>{ROOT / "assets" / "fonts"}</dir>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f"<cachedir>{tmp_path / 'fontcache'}</cachedir></fontconfig>")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


@pytest.fixture
def page(office: Office, tmp_path: Path) -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         env=_fonts(tmp_path))
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


def _sign_in(page: Any, office: Office, pin: str, staff_id: str = "zhang01") -> Any:
    page.goto(office.url + "/")                      # not signed in: to the sign-in page
    assert page.url == office.url + "/sign-in"
    page.fill("input[name=staff_id]", staff_id)
    page.fill("input[name=pin]", pin)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def test_sign_in_list_open_move_twice_and_sign_out(office: Office, page: Any,
                                                   tmp_path: Path) -> None:
    region = office.region
    _sign_in(page, office, "000000")
    assert "工号或 PIN 不正确" in page.inner_text(".error")
    assert "Wrong staff id or PIN" in page.inner_text(".error")
    _sign_in(page, office, PIN)
    assert page.url == office.url + "/cases"
    page.click(f"a[href='/cases/{office.transfer}']")
    assert page.url == f"{office.url}/cases/{office.transfer}"
    assert "办理地已接收" in page.inner_text("table")
    # exactly the moves NEXT allows from received
    assert sorted(page.eval_on_selector_all("form.move input[name=to]",
                                            "els => els.map(e => e.value)")) == \
        ["accepted", "correction_required", "refused"]
    page.fill("#accepted-document_number", "渝中受字〔2026〕118号")
    page.fill("#accepted-promised_by", "2026-12-21")
    with page.expect_navigation():
        page.click("form.move:has(input[value=accepted]) button")
    assert "已受理" in page.inner_text("table")
    page.fill("#correction_required-items", "户口簿原件扫描件不清晰\n缺少委托书\n")
    page.fill("#correction_required-deadline", "2026-12-14")
    with page.expect_navigation():
        page.click("form.move:has(input[value=correction_required]) button")
    assert "需补正" in page.inner_text("table")
    page.screenshot(path=str(tmp_path / "region-office.png"), full_page=True)
    if os.environ.get("OFFICE_SCREENSHOT"):             # how docs/region-office.png is made
        shutil.copy(tmp_path / "region-office.png", os.environ["OFFICE_SCREENSHOT"])
    with page.expect_navigation():
        page.click("header button")                      # sign out
    assert page.url == office.url + "/sign-in"
    page.goto(f"{office.url}/cases/{office.transfer}")   # the session is gone
    assert page.url == office.url + "/sign-in"

    assert region.rows("SELECT state FROM transfers") == [("correction_required",)]
    rows = region.rows("SELECT seq, state, wire FROM outgoing ORDER BY id")
    assert [(s, st) for s, st, _ in rows] == [(1, "received"), (2, "accepted"),
                                              (3, "correction_required")]
    public = load(region.status_pub).public
    events = [parse(wire) for _, _, wire in rows]
    for event, signature in events:
        verify(event, signature, public)
    assert events[1][0].details == {"document_number": "渝中受字〔2026〕118号",
                                    "promised_by": "2026-12-21"}
    assert events[2][0].details == {"items": ["户口簿原件扫描件不清晰", "缺少委托书"],
                                    "deadline": "2026-12-14"}
    assert region.rows("SELECT staff_id, action, from_state, to_state FROM audit "
                       "ORDER BY id") == [
        ("zhang01", "staff_added", None, None), ("zhang01", "sign_in_failed", None, None),
        ("zhang01", "web_sign_in", None, None),
        ("zhang01", "move", "received", "accepted"),
        ("zhang01", "move", "accepted", "correction_required"),
        ("zhang01", "web_sign_out", None, None)]


def test_file_names_from_the_package_are_shown_as_text(office: Office, page: Any) -> None:
    package = office.region.rows("SELECT package_id FROM packages")[0][0]
    hostile = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>.pdf"
    with closing(sqlite3.connect(office.region.db)) as conn, conn:
        conn.execute("INSERT INTO files VALUES (?, ?)", (package, hostile))
    _sign_in(page, office, PIN)
    page.goto(f"{office.url}/cases/{office.transfer}")
    assert hostile in page.inner_text("body")
    assert page.locator("script").count() == 0 and page.locator("td img").count() == 0
    assert "pwned" not in page.title()


def _csrf(page: Any) -> str:
    return str(page.get_attribute("form.move input[name=csrf]", "value"))


def test_a_post_without_the_csrf_token_or_with_a_bad_form_changes_nothing(
        office: Office, page: Any) -> None:
    _sign_in(page, office, PIN)
    page.goto(f"{office.url}/cases/{office.transfer}")
    target = f"{office.url}/cases/{office.transfer}/move"
    good = {"to": "accepted", "document_number": "x", "promised_by": "2026-12-21"}
    before = office.region.rows("SELECT COUNT(*) FROM outgoing")
    for form, status in [(good, 403), (good | {"csrf": "A" * 43}, 403),
                         ({"to": "accepted", "document_number": "x", "csrf": _csrf(page)},
                          400),
                         (good | {"promised_by": "2026-13-40", "csrf": _csrf(page)}, 400),
                         (good | {"to": "collected", "csrf": _csrf(page)}, 400),
                         (good | {"surprise": "1", "csrf": _csrf(page)}, 400)]:
        reply = page.request.post(target, form=form, max_redirects=0)
        assert reply.status == status, (form, reply.status)
        body = reply.text()
        assert 'class="error"' in body and "Traceback" not in body
    assert office.region.rows("SELECT COUNT(*) FROM outgoing") == before
    assert office.region.rows("SELECT COUNT(*) FROM audit WHERE action='move'") == [(0,)]
    reply = page.request.post(target, form=good | {"csrf": _csrf(page)}, max_redirects=0)
    assert reply.status == 303                           # the control: the same form, with it
    assert office.region.rows("SELECT state FROM transfers") == [("accepted",)]


def test_a_window_clerk_is_offered_no_intake_move_and_a_forged_one_is_403(
        office: Office, page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Roles (intake/roles.py): 窗口人员 may dispatch, mark arrived and collected, nothing a
    received case can take; the form an admin's page would carry, posted by the clerk,
    is refused, audited, and moves nothing."""
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    assert main(["staff", "add", "--db", str(office.region.db), "--id", "wang03", "--name",
                 "王窗口", "--role", "窗口人员"]) == 0
    _sign_in(page, office, PIN, "wang03")
    page.goto(f"{office.url}/cases/{office.transfer}")
    assert "王窗口（窗口人员）" in page.inner_text("header")
    assert page.locator("form.move").count() == 0
    assert "已无可办理的操作" in page.inner_text("body")
    csrf = str(page.get_attribute("header input[name=csrf]", "value"))
    reply = page.request.post(f"{office.url}/cases/{office.transfer}/move", form={
        "to": "accepted", "document_number": "x", "promised_by": "2026-12-21", "csrf": csrf},
        max_redirects=0)
    assert reply.status == 403 and "不能转为" in reply.text()
    assert office.region.rows("SELECT state FROM transfers") == [("received",)]
    assert office.region.rows("SELECT staff_id, action, to_state FROM audit WHERE "
                              "transfer_number IS NOT NULL") == [
        ("wang03", "move_refused", "accepted")]
