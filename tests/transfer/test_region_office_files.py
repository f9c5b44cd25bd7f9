"""Downloading a case's files from the back office: a link per file on the case page, by the
files table's row id; the file served as an attachment (an ASCII fallback name and the real
one as RFC 5987 ``filename*``, octet-stream, nosniff) to a signed-in staff member only, each
download audited. Names from the package are never paths: a row naming ``../…``, a symlink
out of the package folder, a folder, another case's file or a malformed id are all 404."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from region_rig import Fixture, Region, make_region, region_cli
from test_region_office_http import PIN, Rig

from intake import staff
from intake.db import connect
from intake.office import OfficeServer
from intake.office_files import disposition
from intake.statusout import StatusSigner


@dataclass
class Office:
    rig: Rig
    region: Region
    cookie: str
    transfers: list[str]

    def get(self, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.rig.server.server_address[1],
                                          timeout=20)
        try:
            conn.request("GET", path, headers={"Cookie": self.cookie if cookie is None
                                               else cookie})
            reply = conn.getresponse()
            return reply.status, dict(reply.getheaders()), reply.read()
        finally:
            conn.close()

    def files(self, transfer: str) -> list[tuple[int, str, Path]]:
        """(row id, name, path on disk) of the case's files."""
        rows = self.region.rows(
            "SELECT f.rowid, f.name, p.folder FROM files f JOIN packages p USING (package_id) "
            "JOIN transfers t ON t.case_number = p.case_number WHERE t.transfer_number = ? "
            "ORDER BY f.rowid", transfer)
        return [(i, n, Path(folder) / n) for i, n, folder in rows]

    def folder(self, transfer: str) -> Path:
        [(folder,)] = self.region.rows(
            "SELECT folder FROM packages p JOIN transfers t ON t.case_number = "
            "p.case_number WHERE t.transfer_number = ?", transfer)
        return Path(folder)

    def add_file_row(self, transfer: str, name: str) -> int:
        [(package_id,)] = self.region.rows(
            "SELECT package_id FROM packages p JOIN transfers t ON t.case_number = "
            "p.case_number WHERE t.transfer_number = ?", transfer)
        with closing(connect(self.region.db, create=False)) as conn:
            cursor = conn.execute("INSERT INTO files VALUES (?, ?)", (package_id, name))
            return int(cursor.lastrowid or 0)

    def downloads(self) -> list[tuple[object, ...]]:
        return self.region.rows("SELECT staff_id, transfer_number, details FROM audit "
                                "WHERE action='file_download' ORDER BY id")


@pytest.fixture
def office(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture) -> Iterator[Office]:
    region = make_region(tmp_path, make_keys, make_package, seal_to_file)
    for seed in (1, 2):
        package_id, data, _ = region.sealed(seed)
        region.put(data, f"u{seed}", package_id=package_id)
    assert region_cli(region.intake_argv()).returncode == 0
    with closing(connect(region.db, create=False)) as conn:
        staff.add(conn, "zhang01", "张工", PIN, Rig(None, region.db).now[0],  # type: ignore[arg-type]
                  roles=["window"])
    rig = Rig(None, region.db)  # type: ignore[arg-type]
    rig.server = OfficeServer(("127.0.0.1", 0), region.db, StatusSigner.load(region.status_key),
                              timedelta(minutes=15), lambda: rig.now[0])
    threading.Thread(target=rig.server.serve_forever, daemon=True).start()
    status, line, _ = rig.sign_in()
    assert status == 303
    transfers = [r[0] for r in region.rows("SELECT transfer_number FROM transfers ORDER BY "
                                           "case_number")]
    try:
        yield Office(rig, region, line.split(";")[0], transfers)
    finally:
        rig.server.shutdown()
        rig.server.server_close()


def test_the_case_page_links_each_file_and_the_link_downloads_it(office: Office) -> None:
    transfer = office.transfers[0]
    status, _, page = office.get(f"/cases/{transfer}")
    links = re.findall(rf'href="/cases/{transfer}/files/(\d+)"', page.decode())
    files = office.files(transfer)
    assert [int(i) for i in links] == sorted(i for i, _, _ in files) and len(files) >= 2
    for file_id, name, path in files:
        status, headers, body = office.get(f"/cases/{transfer}/files/{file_id}")
        assert status == 200 and body == path.read_bytes()
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"].startswith("attachment; filename=\"")
        assert unquote(headers["Content-Disposition"].split("filename*=UTF-8''")[1]) == \
            name.rsplit("/", 1)[-1]
        assert "no-store" in headers["Cache-Control"]
    assert [(who, t) for who, t, _ in office.downloads()] == [("zhang01", transfer)] * len(files)


def test_only_a_signed_in_staff_member_may_download(office: Office) -> None:
    transfer = office.transfers[0]
    file_id = office.files(transfer)[0][0]
    for cookie in ("", "office_session=" + "A" * 43):
        status, headers, body = office.get(f"/cases/{transfer}/files/{file_id}", cookie)
        assert status == 303 and headers["Location"] == "/sign-in" and body == b""
    assert office.downloads() == []


def test_a_hostile_name_reaches_the_header_only_encoded(office: Office) -> None:
    transfer = office.transfers[0]
    hostile = 'a";x=1 ;\\户口簿 %0d<b>.pdf'
    (office.folder(transfer) / hostile).write_bytes(b"%PDF-1.4 hostile\n")
    file_id = office.add_file_row(transfer, hostile)
    status, headers, body = office.get(f"/cases/{transfer}/files/{file_id}")
    assert status == 200 and body == b"%PDF-1.4 hostile\n"
    value = headers["Content-Disposition"]
    fallback = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"; '
                            r"filename\*=UTF-8''([A-Za-z0-9%._~-]+)", value)
    assert fallback, value
    assert unquote(fallback[2]) == hostile
    _, _, page = office.get(f"/cases/{transfer}")
    assert "&lt;b&gt;" in page.decode() and "<b>" not in page.decode()


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink-out", "folder", "gone"])
def test_a_row_that_would_leave_the_package_folder_is_404(office: Office, tmp_path: Path,
                                                          kind: str) -> None:
    transfer = office.transfers[0]
    folder = office.folder(transfer)
    secret = tmp_path / "secret.txt"
    secret.write_text("not the case's")
    name = {"dotdot": f"../../{secret.name}", "absolute": str(secret),
            "symlink-out": "link.pdf", "folder": "sub", "gone": "never-written.pdf"}[kind]
    if kind == "symlink-out":
        os.symlink(secret, folder / name)
    if kind == "folder":
        (folder / name).mkdir()
    if kind == "dotdot":          # the name does reach the secret: the escape is real
        assert (folder / name).resolve() == secret.resolve()
    file_id = office.add_file_row(transfer, name)
    status, _, body = office.get(f"/cases/{transfer}/files/{file_id}")
    assert status == 404 and b"not the case's" not in body
    assert office.downloads() == []


def test_another_cases_file_is_404_under_this_case(office: Office) -> None:
    first, second = office.transfers
    theirs = office.files(second)[0][0]
    assert office.get(f"/cases/{first}/files/{theirs}")[0] == 404
    assert office.get(f"/cases/{second}/files/{theirs}")[0] == 200


BAD_IDS = ["0", "-1", "01", "1e3", "%31", "1.0", "1%2f..", "..", "abc", "999999999999",
           "9" * 13, "+1", "%201", "1%20", "%EF%BC%91", "1%00", "1;2", "1?x=1/../2"]


@pytest.mark.parametrize("file_id", BAD_IDS)
def test_a_malformed_file_id_is_404(office: Office, file_id: str) -> None:
    status, _, _ = office.get(f"/cases/{office.transfers[0]}/files/{file_id}")
    assert status in (400, 404)
    assert office.downloads() == []


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=24))
def test_a_random_file_id_reads_only_a_file_of_this_case(office: Office, text: str) -> None:
    transfer = office.transfers[0]
    ours = {str(i) for i, _, _ in office.files(transfer)}
    status = office.get(f"/cases/{transfer}/files/{quote(text, safe='')}")[0]
    assert status == (200 if text in ours else 404) or (status == 400 and text not in ours)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=40))
def test_any_file_name_gives_a_well_formed_disposition(name: str) -> None:
    value = disposition(name)
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]{1,100}"; '
                        r"filename\*=UTF-8''[A-Za-z0-9%._~-]*", value), value
