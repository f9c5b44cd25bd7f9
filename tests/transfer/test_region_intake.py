"""``kiosk-region intake``: completed uploads in the tus file store become cases in the
region's database, each with its signed ``received`` event; copies, unfinished uploads and
packages that fail any check do not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from region_rig import Fixture, Region, make_region, region_cli

from kiosk.casestatus.event import CaseState, parse, verify
from kiosk.transfer.keys import load
from kiosk.transfer.tus import TusClient, TusOptions
from rigs.tus_rig import TusServer, node_available


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture) -> Region:
    return make_region(tmp_path, make_keys, make_package, seal_to_file)


def _intake(region: Region) -> dict[str, int]:
    done = region_cli(region.intake_argv())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])["pass"]  # type: ignore[no-any-return]


def test_completed_uploads_become_cases_with_a_signed_received_event(region: Region) -> None:
    ids = []
    for seed in (1, 2, 3):
        package_id, data, _ = region.sealed(seed)
        layout = "delivered" if seed == 3 else "file-store"
        region.put(data, f"u{seed}", layout=layout, package_id=package_id)
        ids.append(package_id)
    assert _intake(region) == {"cases": 3, "follow_ups": 0, "duplicates": 0, "refused": 0}
    assert sorted(r[0] for r in region.rows("SELECT package_id FROM packages")) == sorted(ids)
    for package_id in ids:
        assert (region.cases / package_id / "manifest.json").is_file()
    status = load(region.status_pub)
    wires = region.rows("SELECT transfer_number, seq, state, wire, kiosk_id, feed_index "
                        "FROM outgoing ORDER BY id")
    assert [(seq, state) for _, seq, state, *_ in wires] == [(1, "received")] * 3
    assert [w[5] for w in wires] == [0, 1, 2]              # the kiosk's feed lines
    for transfer, _, _, wire, kiosk_id, _ in wires:
        event, signature = parse(wire)
        verify(event, signature, status.public)
        assert (event.transfer_number, event.state, event.seq) == (transfer,
                                                                   CaseState.RECEIVED, 1)
        assert kiosk_id == region.keys.kiosk.owner
    # a second pass finds nothing new
    assert _intake(region) == {"cases": 0, "follow_ups": 0, "duplicates": 0, "refused": 0}
    assert len(region.rows("SELECT * FROM outgoing")) == 3


def test_a_second_copy_of_a_package_is_a_duplicate_not_a_case(region: Region) -> None:
    package_id, data, _ = region.sealed(4)
    region.put(data, "first", package_id=package_id)
    region.put(data, "", layout="delivered", package_id=package_id)
    region.put(data, "again", package_id=package_id)
    assert _intake(region) == {"cases": 1, "follow_ups": 0, "duplicates": 2, "refused": 0}
    assert len(region.rows("SELECT * FROM cases")) == 1
    assert len(region.rows("SELECT * FROM outgoing")) == 1


def test_an_unfinished_upload_waits_until_it_is_complete(region: Region) -> None:
    package_id, data, _ = region.sealed(5)
    region.put(data[:1000], "part", package_id=package_id, size=len(data))
    assert _intake(region)["cases"] == 0
    assert region.rows("SELECT * FROM uploads") == []
    region.put(data, "part", package_id=package_id)
    assert _intake(region)["cases"] == 1


def test_a_new_version_of_a_case_is_recorded_under_it(region: Region) -> None:
    first, data, built = region.sealed(6)
    region.put(data, "v1", package_id=first)
    second, data2, _ = region.sealed(6, package_id="0f1e2d3c-aaaa-4bbb-8ccc-000000000006")
    assert second != first
    region.put(data2, "v2", package_id=second)
    assert _intake(region) == {"cases": 1, "follow_ups": 1, "duplicates": 0, "refused": 0}
    assert region.rows("SELECT version FROM packages ORDER BY version") == [(1,), (2,)]
    number = built.manifest["case_number"]
    assert region.rows("SELECT case_number FROM cases") == [(number,)]
    # not waiting on a 补正, so only recorded: still one event, "received"
    assert region.rows("SELECT state FROM outgoing") == [("received",)]


def test_packages_that_fail_a_check_are_refused_and_recorded(region: Region,
                                                             make_keys: Fixture) -> None:
    region.put(b"not a package at all", "garbage")
    stranger = make_keys("x25519-chacha20", kiosk_id="510802-0099")
    built = region.make_package(1, 7, signer=stranger.signer)
    sealed = region.seal_to_file(built.data, stranger.signer, region.keys.recipient,
                                 built.package_id, region.root / "stranger.tbk")
    region.put(sealed.read_bytes(), "stranger", package_id=built.package_id)
    package_id, data, _ = region.sealed(8)
    flipped = bytearray(data)
    flipped[-40] ^= 1
    region.put(bytes(flipped), "flipped", package_id=package_id)
    assert _intake(region) == {"cases": 0, "follow_ups": 0, "duplicates": 0, "refused": 3}
    assert sorted(region.rows("SELECT source, code FROM uploads")) == [
        ("uploads/flipped", "tampered"), ("uploads/garbage", "not_a_package"),
        ("uploads/stranger", "unknown_kiosk")]
    assert [p.name for p in region.cases.iterdir()] == []       # nothing unpacked
    assert _intake(region)["refused"] == 0                       # not tried again


def test_a_package_with_no_transfer_for_this_region_is_refused(region: Region) -> None:
    package_id, data, _ = region.sealed(9, regions=("110101",))
    region.put(data, "elsewhere", package_id=package_id)
    assert _intake(region)["refused"] == 1
    assert region.rows("SELECT code FROM uploads") == [("not_for_region",)]
    assert region.rows("SELECT * FROM cases") == []
    assert list(region.cases.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"SQLite format 3\0" + bytes(200), b"\xff" * 5000])
def test_a_database_that_is_not_the_regions_is_refused(region: Region, content: bytes) -> None:
    region.db.write_bytes(content) if content else region.db.mkdir()
    done = region_cli(region.intake_argv())
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "办理地数据库" in done.stderr and "database" in done.stderr


def test_another_programs_sqlite_database_is_refused(region: Region) -> None:
    import sqlite3
    with sqlite3.connect(region.db) as conn:
        conn.execute("CREATE TABLE ledger (case_number TEXT)")
    conn.close()
    done = region_cli(region.intake_argv())
    assert done.returncode == 2 and "not a region database" in done.stderr


@pytest.mark.skipif(not node_available(), reason="needs node and rigs/tus-server/node_modules")
def test_an_upload_through_the_real_tus_server_becomes_a_case(region: Region) -> None:
    package_id, data, _ = region.sealed(10, pages=3)
    sealed = region.root / "up.tbk"
    sealed.write_bytes(data)
    region.store.mkdir()
    with TusServer(region.store) as server:
        client = TusClient(server.url, TusOptions(chunk_size=64 * 1024))
        meta = {"package_id": package_id, "receiver": region.keys.region.owner}
        client.upload(sealed, meta, "", lambda url, offset: None)
        client.upload(sealed, meta, "", lambda url, offset: None)     # a retry: a copy
    assert _intake(region)["cases"] == 1
    assert region.rows("SELECT source FROM packages") == [
        (f"delivered/{package_id}.{region.keys.region.owner}",)]


def test_watch_takes_each_upload_once_as_it_completes(region: Region) -> None:
    import queue
    import subprocess
    import sys

    from region_rig import ROOT

    from rigs.pipes import drain

    (region.store / "uploads").mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-m", "intake", *region.intake_argv(),
                              "--watch", "0.2"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    lines: queue.Queue[str | None] = queue.Queue()
    drain(child.stdout, lines.put, lambda: lines.put(None), name="intake-watch")
    try:
        assert "pass" in json.loads(lines.get(timeout=60) or "{}")      # the first pass
        package_id, data, _ = region.sealed(11)
        region.put(data[:500], "late", package_id=package_id, size=len(data))
        assert "pass" in json.loads(lines.get(timeout=60) or "{}")      # not yet complete
        region.put(data, "late", package_id=package_id)
        while (line := lines.get(timeout=60)) is not None:
            if json.loads(line).get("outcome") == "cases":
                break
        assert line is not None and json.loads(line)["package_id"] == package_id
        assert json.loads(lines.get(timeout=60) or "{}")["pass"]["cases"] == 1
        for _ in range(3):                                               # and only once
            assert json.loads(lines.get(timeout=60) or "{}")["pass"]["cases"] == 0
    finally:
        child.terminate()
        child.wait(timeout=10)         # stdout is the drain thread's to close
    assert region.rows("SELECT COUNT(*) FROM packages") == [(1,)]


def test_retry_refused_takes_a_package_once_its_kiosk_is_registered(
        region: Region, make_keys: Fixture) -> None:
    import shutil

    late = make_keys("x25519-chacha20", kiosk_id="510802-0007")
    built = region.make_package(1, 12, signer=late.signer)
    sealed = region.seal_to_file(built.data, late.signer, region.keys.recipient,
                                 built.package_id, region.root / "late.tbk")
    region.put(sealed.read_bytes(), "late", package_id=built.package_id)
    assert _intake(region)["refused"] == 1
    registered = region.root / "registered"
    registered.mkdir()
    shutil.copy(region.keys.kiosk_pub, registered / "a.pub")
    shutil.copy(late.kiosk_pub, registered / "b.pub")
    argv = region.intake_argv()
    argv[argv.index("--kiosks") + 1] = str(registered)
    done = region_cli(argv)                          # registered, but not asked to retry
    assert json.loads(done.stdout.splitlines()[-1])["pass"]["cases"] == 0
    done = region_cli([*argv, "--retry-refused"])
    assert json.loads(done.stdout.splitlines()[-1])["pass"]["cases"] == 1, done.stderr
    assert region.rows("SELECT outcome, code FROM uploads") == [("case", None)]
    assert region.rows("SELECT kiosk_id FROM outgoing") == [("510802-0007",)]


def test_no_personal_data_in_what_intake_prints_or_keeps_in_its_database(
        region: Region, applicant: dict[str, str]) -> None:
    package_id, data, _ = region.sealed(13)
    region.put(data, "pd", package_id=package_id)
    done = region_cli(region.intake_argv())
    assert done.returncode == 0
    shown = region_cli(["case", "show", "--db", str(region.db),
                        region.rows("SELECT transfer_number FROM transfers")[0][0]])
    database = b"".join(p.read_bytes() for p in region.root.glob("region.db*"))
    for value in applicant.values():
        for text in (done.stdout, done.stderr, shown.stdout, shown.stderr):
            assert value not in text
        assert value.encode() not in database
    # the control: the applicant is in the unpacked manifest, where the department reads it
    manifest = (region.cases / package_id / "manifest.json").read_text(encoding="utf-8")
    assert applicant["name"] in manifest
