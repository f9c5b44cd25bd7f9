"""One intake pass: every completed upload not looked at before — from whichever
:class:`~intake.source.UploadSource` (the tus file store, object storage) — is verified,
decrypted, checked and unpacked (:mod:`.opening`), then recorded — case, package, files,
transfers, the ``received`` status event and the upload itself — in one transaction.

Crash safety (kill -9 anywhere): the unpacked folder appears in one rename before the
transaction, the transaction is all or nothing, and an upload counts as done only through
its ``uploads`` row, written in that same transaction. A kill before the commit leaves the
upload unrecorded: the next pass opens it again and replaces the folder whole. A kill after
it leaves it recorded: the next pass passes it over. A second copy of a package (the kiosk
retried, or both store layouts hold it) is a duplicate by its signed package id, recorded
without a second case. One intake at a time (a lock file beside the database). An upload
over the package size limit, like a hostile name in the store, is passed over and said,
and nothing of it is read or recorded."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.fileio import shown
from intake.db import transaction
from intake.opening import Opened, RegionError, open_package
from intake.source import MAX_PACKAGE_BYTES, Upload, UploadSource, too_big
from intake.statusout import StatusSigner, advance, current_state
from kiosk.casestatus.event import CaseState
from kiosk.errors import BilingualError
from kiosk.transfer.envelope import read_header
from kiosk.transfer.keys import Registry

# refusals that are the package's fault: recorded, and the upload not tried again
_OUR_SIDE = {"bad_out", "io_error", "no_package"}


@dataclass(frozen=True)
class Intake:
    conn: sqlite3.Connection
    source: UploadSource
    region_key: Path
    registry: Registry
    signer: StatusSigner
    cases: Path                        # where packages are unpacked, one folder each
    retry_refused: bool = False        # e.g. a kiosk registered after its first upload
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    max_package_bytes: int = MAX_PACKAGE_BYTES


@dataclass
class PassResult:
    cases: int = 0
    follow_ups: int = 0
    duplicates: int = 0
    refused: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def run_pass(intake: Intake, report: Callable[[dict[str, Any]], None] = lambda _: None
             ) -> PassResult:
    """Look at every completed upload once; ``report`` is told each outcome (no personal
    data: ids, numbers and codes)."""
    result = PassResult()
    _sweep_staging(intake.cases)
    skip = "WHERE outcome != 'refused'" if intake.retry_refused else ""
    done = {r[0] for r in intake.conn.execute(f"SELECT source FROM uploads {skip}")}

    def passed_over(source: str, why: BilingualError) -> None:
        report({"source": source, "outcome": "passed_over", **why.as_dict()})

    for upload in intake.source.completed(done, passed_over):
        if upload.size > intake.max_package_bytes:
            passed_over(upload.source, too_big(upload, intake.max_package_bytes))
            continue
        with intake.source.fetched(upload, intake.cases) as path:
            line = None if path is None else _take(intake, upload, path)
        if line is not None:
            result.add(line["outcome"])
            report(line)
    return result


def _take(intake: Intake, upload: Upload, path: Path) -> dict[str, Any] | None:
    peeked = _peek_package_id(path)
    if peeked is not None and _known(intake.conn, peeked):
        _record_upload(intake, upload, "duplicate", peeked, None)
        return {"source": upload.source, "outcome": "duplicates", "package_id": peeked}
    try:
        opened = open_package(path, intake.region_key, intake.registry, intake.cases)
    except BilingualError as exc:
        if exc.code in _OUR_SIDE:
            if exc.code == "no_package":       # gone since it was listed: next pass
                return None
            raise
        _record_upload(intake, upload, "refused", peeked, exc.code)
        return {"source": upload.source, "outcome": "refused", "code": exc.code}
    outcome = _record_case(intake, upload, opened)
    return {"source": upload.source, "outcome": outcome, "package_id": opened.package_id,
            "case_number": opened.manifest["case_number"]}


def _peek_package_id(path: Path) -> str | None:
    """The package id its header claims (unverified: used only to skip a copy of a package
    already recorded, never to record one)."""
    try:
        with open(path, "rb") as src:
            return read_header(src)[0].package_id
    except (OSError, BilingualError):
        return None


def _known(conn: sqlite3.Connection, package_id: str) -> bool:
    return conn.execute("SELECT 1 FROM packages WHERE package_id=?",
                        (package_id,)).fetchone() is not None


def _record_upload(intake: Intake, upload: Upload, outcome: str, package_id: str | None,
                   code: str | None) -> None:
    now = intake.clock().isoformat()
    with transaction(intake.conn):
        _upload_row(intake.conn, upload, outcome, package_id, code, now)
        _event(intake.conn, now, outcome, upload.source, package_id, None, code or "")


def _record_case(intake: Intake, upload: Upload, opened: Opened) -> str:
    """The package as a case (or a further version of one) — all in one transaction."""
    conn, manifest, now = intake.conn, opened.manifest, intake.clock()
    at = now.isoformat()
    number = manifest["case_number"]
    ours = [r for r in manifest["receivers"] if r["region_code"] == intake.signer.region]
    if not ours:           # sealed to our key, yet no transfer here: keep nothing of it
        _record_upload(intake, upload, "refused", opened.package_id, "not_for_region")
        shutil.rmtree(opened.folder, ignore_errors=True)
        return "refused"
    with transaction(conn):
        if _known(conn, opened.package_id):       # a copy recorded since the peek
            _upload_row(conn, upload, "duplicate", opened.package_id, None, at)
            return "duplicates"
        conn.execute("INSERT OR IGNORE INTO cases VALUES (?, ?, ?, ?, ?)",
                     (number, opened.kiosk_id, manifest["matter"]["code"],
                      manifest["matter"]["name"], at))
        version = conn.execute("SELECT COUNT(*) + 1 FROM packages WHERE case_number=?",
                               (number,)).fetchone()[0]
        conn.execute("INSERT INTO packages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (opened.package_id, number, opened.kiosk_id, opened.suite, version,
                      str(opened.folder), upload.source, at))
        conn.executemany("INSERT INTO files VALUES (?, ?)",
                         [(opened.package_id, name) for name in opened.files])
        for receiver in ours:
            _transfer(intake, receiver, number, opened.kiosk_id, version, now)
        _upload_row(conn, upload, "case", opened.package_id, None, at)
        _event(conn, at, "case" if version == 1 else "follow_up", upload.source,
               opened.package_id, number, f"version {version}")
    return "cases" if version == 1 else "follow_ups"


def _transfer(intake: Intake, receiver: dict[str, Any], number: str, kiosk_id: str,
              version: int, now: datetime) -> None:
    """A new transfer is ``received``; a 补正 package for one waiting on it is
    ``correction_received`` (a later version in any other state is only recorded)."""
    conn, transfer = intake.conn, receiver["transfer_number"]
    row = conn.execute("SELECT case_number FROM transfers WHERE transfer_number=?",
                       (transfer,)).fetchone()
    if row is None:
        conn.execute("INSERT INTO transfers VALUES (?, ?, ?, ?, NULL, ?)",
                     (transfer, number, kiosk_id, receiver["department"], now.isoformat()))
        advance(conn, intake.signer, transfer, CaseState.RECEIVED, {}, now)
    elif row[0] == number and current_state(conn, transfer) is \
            CaseState.CORRECTION_REQUIRED:
        advance(conn, intake.signer, transfer, CaseState.CORRECTION_RECEIVED,
                {"version": str(version)}, now)


def _upload_row(conn: sqlite3.Connection, upload: Upload, outcome: str,
                package_id: str | None, code: str | None, at: str) -> None:
    # REPLACE: only a refused upload tried again (--retry-refused) has a row already
    conn.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?)",
                 (upload.source, outcome, package_id, code, at))


def _event(conn: sqlite3.Connection, at: str, kind: str, source: str | None,
           package_id: str | None, case_number: str | None, detail: str) -> None:
    conn.execute("INSERT INTO events (at, kind, source, package_id, case_number, detail) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (at, kind, source, package_id, case_number,
                                               detail))


def _sweep_staging(cases: Path) -> None:
    """Half-opened packages a killed intake left (open_package's hidden staging folders) and
    half-fetched objects (a source's ``.fetching-*`` scratch files); safe because the lock
    says no other intake is opening one now."""
    if cases.is_dir():
        for path in cases.glob(".opening-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in cases.glob(".fetching-*"):
            path.unlink(missing_ok=True)


@contextmanager
def intake_lock(db: Path) -> Iterator[None]:
    """One intake per database; the kernel drops the lock when the holder dies (kill -9)."""
    lock = db.with_name(db.name + ".intake-lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise RegionError(f"无法创建锁文件 {shown(lock)}：{exc.strerror or exc}",
                          f"Cannot create the lock file {shown(lock)}: {exc.strerror or exc}",
                          code="bad_out") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RegionError("另一个接收程序正在使用这个数据库",
                              "Another intake is running on this database",
                              code="intake_busy") from None
        yield
    finally:
        os.close(fd)


def report_line(line: dict[str, Any]) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)
