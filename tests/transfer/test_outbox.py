"""The outbox: a sealed package is durable, one file per region, before the receipt prints;
a failed or crashed commit leaves nothing; rows move queued → uploading → delivered → purged
and hold no personal data; the uploader delivers once, backs off, and alerts once."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from intake.opening import open_package
from kiosk.package import write_package
from kiosk.settings import Route, Transfer
from kiosk.transfer.commit import seal_into_outbox
from kiosk.transfer.envelope import Recipient
from kiosk.transfer.outbox import Outbox, OutboxEntry, PackageMeta, State
from kiosk.transfer.routing import Routing
from kiosk.transfer.uploader import Pacing, Sender, Uploader

SUITE = "x25519-chacha20"
NOW = datetime.now(UTC).replace(microsecond=0)


def _meta(built: Any, deadline: datetime | None = None) -> PackageMeta:
    return PackageMeta(built.package_id, built.manifest["case_number"],
                       built.manifest["matter"]["code"], SUITE,
                       deadline or NOW + timedelta(hours=2))


def _commit(outbox: Outbox, keys: Any, built: Any, recipients: list[Recipient],
            deadline: datetime | None = None) -> dict[str, Any]:
    """Seal ``built`` into the outbox the way the kiosk does: streamed by write_package."""
    def write(out: IO[bytes]) -> dict[str, Any]:
        return write_package(out, **built.kwargs).model_dump(mode="json", exclude_none=True)
    return seal_into_outbox(outbox, keys.signer, recipients, _meta(built, deadline), write)


def _entry(outbox: Outbox, package_id: str, region: str = "500103") -> OutboxEntry:
    return next(e for e in outbox.entries() if (e.package_id, e.region) == (package_id,
                                                                           region))


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox")
    yield box
    box.close()


@pytest.fixture
def keys(make_keys: Any) -> Any:
    return make_keys(SUITE)


def test_committed_package_is_spooled_per_region_and_owes_a_receipt(
        outbox: Outbox, keys: Any, make_keys: Any, make_package: Any, tmp_path: Path) -> None:
    second = make_keys(SUITE, region="110101")
    regions = ("500103", "110101")
    built = make_package(3, 1, signer=keys.signer, regions=regions)
    manifest = _commit(outbox, keys, built, [keys.recipient, second.recipient])
    assert manifest == built.manifest                      # write's result is passed back
    files = sorted(p.name for p in outbox.spool.iterdir())
    assert files == sorted(f"{built.package_id}.{r}.tbk" for r in regions)
    entries = outbox.entries()
    assert sorted(e.region for e in entries) == sorted(regions)
    for entry in entries:
        blob = outbox.path(entry).read_bytes()
        assert entry.state is State.QUEUED and entry.receipt_owed and entry.attempts == 0
        assert entry.size == len(blob) and entry.sha256 == hashlib.sha256(blob).hexdigest()
        assert (entry.case_number, entry.matter_code, entry.suite) == (
            built.manifest["case_number"], "GA-HJZM-001", SUITE)
    assert outbox.path(entries[0]).read_bytes() != outbox.path(entries[1]).read_bytes()
    for region_keys in (keys, second):                     # each region opens its own copy
        entry = _entry(outbox, built.package_id, region_keys.region.owner)
        opened = open_package(outbox.path(entry), region_keys.region_key, keys.registry,
                              tmp_path / "opened" / region_keys.region.owner)
        assert opened.manifest == built.manifest

    other = make_package(1, 2, signer=keys.signer)
    _commit(outbox, keys, other, [keys.recipient])
    assert sorted(e.package_id for e in outbox.owed_receipts()) == sorted(
        [built.package_id, other.package_id])              # one per package, not per region
    outbox.receipt_printed(built.package_id)
    assert [e.package_id for e in outbox.owed_receipts()] == [other.package_id]
    assert not any(e.receipt_owed for e in outbox.entries() if e.package_id == built.package_id)
    assert outbox.counts()["queued"] == 3


def test_failure_while_writing_leaves_nothing(outbox: Outbox, keys: Any,
                                              make_package: Any) -> None:
    built = make_package(3, 3, signer=keys.signer)

    def write(out: IO[bytes]) -> None:
        out.write(built.data[:200_000])                    # several records already sealed
        raise RuntimeError("scanner unplugged")

    with pytest.raises(RuntimeError, match="scanner unplugged"):
        seal_into_outbox(outbox, keys.signer, [keys.recipient], _meta(built), write)
    assert outbox.entries() == [] and outbox.owed_receipts() == []
    assert list(outbox.spool.iterdir()) == []
    _commit(outbox, keys, built, [keys.recipient])         # and the same package can go again
    assert [e.package_id for e in outbox.entries()] == [built.package_id]


def test_recover_removes_only_what_a_crash_half_wrote(outbox: Outbox, keys: Any,
                                                      make_package: Any) -> None:
    built = make_package(1, 4, signer=keys.signer)
    _commit(outbox, keys, built, [keys.recipient])
    committed = outbox.path(outbox.entries()[0])
    kept = committed.read_bytes()
    part = outbox.spool / ".0f0f0f0f-0000-4000-8000-000000000000.500103.part"
    orphan = outbox.spool / "0f0f0f0f-0000-4000-8000-000000000000.500103.tbk"
    part.write_bytes(b"half a package")
    orphan.write_bytes(kept)                               # renamed, but no row: no receipt
    assert sorted(outbox.recover()) == sorted([part.name, orphan.name])
    assert not part.exists() and not orphan.exists()
    assert committed.read_bytes() == kept and len(outbox.entries()) == 1
    assert outbox.recover() == []


def test_states_progress_delivered_failed_and_due(outbox: Outbox, keys: Any,
                                                  make_package: Any) -> None:
    built = make_package(1, 5, signer=keys.signer)
    _commit(outbox, keys, built, [keys.recipient])
    entry = outbox.entries()[0]
    assert [e.package_id for e in outbox.due(outbox.now())] == [built.package_id]

    outbox.progress(entry, "https://gateway.example/files/abc", 65_536)
    entry = outbox.entries()[0]
    assert (entry.state, entry.upload_url, entry.offset) == (
        State.UPLOADING, "https://gateway.example/files/abc", 65_536)
    assert outbox.due(outbox.now()) == [entry]             # an upload under way is resumed

    retry_at = outbox.now().replace(microsecond=0) + timedelta(minutes=10)
    outbox.failed(entry, "ConnectError", retry_at)
    entry = outbox.entries()[0]
    assert (entry.attempts, entry.last_error, entry.next_attempt_at) == (
        1, "ConnectError", retry_at)
    assert outbox.due(outbox.now()) == []
    assert outbox.due(retry_at - timedelta(seconds=1)) == []
    assert outbox.due(retry_at) == [entry]

    outbox.delivered(entry)
    entry = outbox.entries()[0]
    assert entry.state is State.DELIVERED and entry.offset == entry.size
    assert entry.delivered_at is not None and entry.attempts == 2 and entry.last_error == ""
    assert outbox.due(retry_at + timedelta(days=365)) == []
    assert outbox.counts() == {"queued": 0, "uploading": 0, "delivered": 1, "purged": 0}


def test_overdue_is_reported_once_and_never_when_delivered(outbox: Outbox, keys: Any,
                                                           make_package: Any) -> None:
    late = make_package(1, 6, signer=keys.signer)
    done = make_package(1, 7, signer=keys.signer)
    early = make_package(1, 8, signer=keys.signer)
    _commit(outbox, keys, late, [keys.recipient], NOW - timedelta(hours=1))
    _commit(outbox, keys, done, [keys.recipient], NOW - timedelta(hours=1))
    _commit(outbox, keys, early, [keys.recipient], NOW + timedelta(hours=2))
    outbox.delivered(_entry(outbox, done.package_id))
    overdue = outbox.overdue(outbox.now())
    assert [e.package_id for e in overdue] == [late.package_id]
    assert _entry(outbox, late.package_id).alerted
    assert outbox.overdue(outbox.now()) == []
    later = outbox.overdue(outbox.now() + timedelta(hours=3))
    assert [e.package_id for e in later] == [early.package_id]
    assert outbox.overdue(outbox.now() + timedelta(days=30)) == []


def test_purge_removes_ciphertext_after_retention_and_keeps_the_row(
        outbox: Outbox, keys: Any, make_package: Any) -> None:
    sent = make_package(1, 9, signer=keys.signer)
    waiting = make_package(1, 10, signer=keys.signer)
    _commit(outbox, keys, sent, [keys.recipient])
    _commit(outbox, keys, waiting, [keys.recipient])
    entry = _entry(outbox, sent.package_id)
    outbox.delivered(entry)
    retention = timedelta(days=30)
    assert outbox.purge(outbox.now(), retention) == []
    assert outbox.path(entry).exists()
    purged = outbox.purge(outbox.now() + timedelta(days=31), retention)
    assert [e.package_id for e in purged] == [sent.package_id]
    assert not outbox.path(entry).exists()
    row = _entry(outbox, sent.package_id)
    assert row.state is State.PURGED and (row.size, row.sha256) == (entry.size, entry.sha256)
    assert outbox.path(_entry(outbox, waiting.package_id)).exists()   # never delivered: kept
    assert outbox.purge(outbox.now() + timedelta(days=400), retention) == []


def test_database_is_durable_and_sound(outbox: Outbox, keys: Any, make_package: Any) -> None:
    _commit(outbox, keys, make_package(1, 11, signer=keys.signer), [keys.recipient])
    assert outbox.integrity() == "ok"
    with sqlite3.connect(outbox.root / "outbox.sqlite") as fresh:
        assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox._conn.execute("PRAGMA synchronous").fetchone()[0] == 2      # FULL


def test_no_personal_data_in_any_outbox_file(outbox: Outbox, keys: Any, make_package: Any,
                                             applicant: dict[str, str]) -> None:
    built = make_package(2, 12, signer=keys.signer)
    needles = {applicant[k].encode(codec) for k in ("name", "id_number", "phone")
               for codec in ("utf-8", "gbk", "utf-16-le")}
    assert any(n in built.data for n in needles)           # the control: the plaintext has them
    _commit(outbox, keys, built, [keys.recipient])

    def files() -> list[Path]:
        return [p for p in outbox.root.rglob("*") if p.is_file()]

    def scan() -> None:
        seen = files()
        assert any(p.suffix == ".tbk" for p in seen)
        blob = b"".join(p.read_bytes() for p in seen)
        assert built.manifest["case_number"].encode() in blob    # the rows were scanned
        for path in seen:
            data = path.read_bytes()
            assert not any(n in data for n in needles), path

    scan()                                                  # WAL not checkpointed yet
    outbox.close()
    scan()


# --- the uploader ---------------------------------------------------------------------------


class _Run:
    def __init__(self, data: Path, keys: Any, regions: tuple[str, ...] = ("500103",)) -> None:
        delivery = Transfer(suite=SUITE, retry_min_s=60, retry_max_s=600, routes={
            r: Route(transport="directory", key=keys.region_pub) for r in regions})
        self.outbox = Outbox(data / "outbox")
        self.routing = Routing(delivery, data)
        self.overdue: list[OutboxEntry] = []
        self.uploader = Uploader(self.outbox, self.routing, Sender("510802-0001", "11510802X"),
                                 Pacing(60, 600, timedelta(days=30)), self.overdue.append)

    def close(self) -> None:
        self.routing.close()
        self.outbox.close()


def test_uploader_delivers_to_the_gateway_folder_once(tmp_path: Path, keys: Any,
                                                      make_package: Any) -> None:
    run = _Run(tmp_path / "data", keys)
    try:
        built = make_package(2, 13, signer=keys.signer)
        _commit(run.outbox, keys, built, [run.routing.recipient("500103")],
                NOW - timedelta(minutes=1))                # late, but delivered at once
        delivered = run.uploader.deliver_once()
        assert [e.package_id for e in delivered] == [built.package_id]
        target = tmp_path / "data" / "region" / "500103" / f"{built.package_id}.tbk"
        spooled = run.outbox.path(delivered[0]).read_bytes()
        assert target.read_bytes() == spooled
        assert _entry(run.outbox, built.package_id).state is State.DELIVERED
        assert run.uploader.deliver_once() == []
        assert target.read_bytes() == spooled
        assert [p.name for p in target.parent.iterdir()] == [target.name]
        assert run.overdue == []
    finally:
        run.close()


def test_unreachable_gateway_backs_off_and_alerts_once(tmp_path: Path, keys: Any,
                                                       make_package: Any) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "region").write_text("a file where the gateway folder should be")
    run = _Run(data, keys)
    try:
        built = make_package(1, 14, signer=keys.signer)
        _commit(run.outbox, keys, built, [run.routing.recipient("500103")],
                NOW - timedelta(minutes=1))
        before = run.outbox.now()
        assert run.uploader.deliver_once() == []
        entry = _entry(run.outbox, built.package_id)
        assert entry.state is State.QUEUED and entry.attempts == 1 and entry.last_error
        assert entry.next_attempt_at >= before + timedelta(seconds=60) - timedelta(
            milliseconds=1)                                # retry_min_s, never sooner
        assert run.outbox.due(run.outbox.now()) == []
        assert [e.package_id for e in run.overdue] == [built.package_id]
        assert run.uploader.deliver_once() == []           # not due: no second attempt
        assert _entry(run.outbox, built.package_id).attempts == 1
        assert len(run.overdue) == 1                       # alerted once
        assert run.outbox.spool.joinpath(entry.file_name).exists()
    finally:
        run.close()


def test_queued_package_for_a_region_no_longer_routed_waits(
        tmp_path: Path, keys: Any, make_keys: Any, make_package: Any) -> None:
    run = _Run(tmp_path / "data", keys)
    try:
        gone = make_keys(SUITE, region="110101")
        built = make_package(1, 15, signer=keys.signer, regions=("110101",))
        _commit(run.outbox, keys, built, [gone.recipient])
        assert run.uploader.deliver_once() == []
        entry = _entry(run.outbox, built.package_id, "110101")
        assert (entry.state, entry.last_error, entry.attempts) == (State.QUEUED, "no_route", 1)
    finally:
        run.close()
