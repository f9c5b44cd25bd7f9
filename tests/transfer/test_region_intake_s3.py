"""``kiosk-region intake --s3 URL --bucket B``: the tus server's S3 store as the upload source,
on loopback with the real parts — an S3 API server (moto's, rigs/s3_rig.py), the reference
tus server with @tus/s3-store (rigs/tus-server) and the kiosk's outbox, uploader and tus
client — then the intake as a child process, as a region runs it. The same verify /
decrypt / dedupe / record path as the file store (tests/transfer/test_region_intake.py);
what is particular to a bucket is tested here: only complete uploads, hostile keys,
oversize objects, an unreachable store."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from region_rig import Fixture, Region, make_region, region_cli

from kiosk.settings import Route, Transfer
from kiosk.transfer.outbox import Outbox, PackageMeta, State
from kiosk.transfer.routing import Routing
from kiosk.transfer.tus import TusClient, TusOptions
from kiosk.transfer.uploader import Pacing, Sender, Uploader
from rigs.tus_rig import TusServer, node_available

needs_node = pytest.mark.skipif(not node_available(),
                                reason="needs node and rigs/tus-server/node_modules")
EMPTY = {"cases": 0, "follow_ups": 0, "duplicates": 0, "refused": 0}


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture, s3_server: Any) -> Region:
    return make_region(tmp_path, make_keys, make_package, seal_to_file,
                       bucket=s3_server.bucket())


def _intake(region: Region, *extra: str, env: bool = False) -> tuple[dict[str, int],
                                                                     list[dict[str, Any]]]:
    """One pass: its counts and the lines it reported. ``env``: credentials from the AWS
    environment instead of a credentials file."""
    argv = [*region.intake_argv(credentials_file=not env), *extra]
    if env:
        saved = dict(os.environ)
        os.environ.update(region.bucket.env())
        try:
            done = region_cli(argv)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    else:
        done = region_cli(argv)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return lines[-1]["pass"], lines[:-1]


def _upload(server: TusServer, path: Path, package_id: str, receiver: str, *,
            stop_after: int | None = None, url: str = "", chunk: int = 64 * 1024) -> str:
    """``path`` through the kiosk's tus client; with ``stop_after``, the upload is left
    unfinished once that many bytes are in (the kiosk lost power). Returns its URL."""
    client = TusClient(server.url, TusOptions(chunk_size=chunk, max_chunk_size=chunk))
    seen = {"url": url}

    def progress(at: str, offset: int) -> None:
        seen["url"] = at
        if stop_after is not None and offset >= stop_after:
            raise _Stopped

    try:
        client.upload(path, {"package_id": package_id, "receiver": receiver}, url, progress)
    except _Stopped:
        pass
    finally:
        client.close()
    return seen["url"]


class _Stopped(Exception):
    pass


def _keys(region: Region) -> list[str]:
    listed = region.bucket.client().list_objects_v2(Bucket=region.bucket.name)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _nothing_recorded(region: Region) -> None:
    for table in ("uploads", "cases", "packages", "outgoing"):
        assert region.rows(f"SELECT * FROM {table}") == [], table
    assert not region.cases.is_dir() or list(region.cases.iterdir()) == []


def _deliver_from_the_kiosk(region: Region, endpoint: str, packages: list[tuple[str, bytes,
                                                                               Any]],
                            folder: Path) -> None:
    """``packages`` as the kiosk sends them: spooled into its outbox, then taken to the
    region by its uploader (tus, 64 KiB PATCHes)."""
    receiver = region.keys.region.owner
    route = Route(transport="tus", endpoint=endpoint, key=region.keys.region_pub)
    outbox = Outbox(folder / "outbox")
    routing = Routing(Transfer(routes={receiver: route}, chunk_kib=64, chunk_seconds=0),
                      folder)
    uploader = Uploader(outbox, routing, Sender(region.keys.kiosk.owner, "11510802X"),
                        Pacing(), on_overdue=lambda e: None)
    try:
        for package_id, data, built in packages:
            meta = PackageMeta(package_id, built.manifest["case_number"], "GA-HJZM-001",
                               region.keys.suite, datetime.now(UTC) + timedelta(hours=2))
            with outbox.spooling(meta, (receiver,)) as files:
                files[receiver].write(data)
        assert len(uploader.deliver_once()) == len(packages)
        assert {e.state for e in outbox.entries()} == {State.DELIVERED}
    finally:
        routing.close()
        outbox.close()


@needs_node
def test_uploads_through_the_tus_s3_store_become_cases_once(region: Region,
                                                             tmp_path: Path) -> None:
    receiver = region.keys.region.owner
    packages = [region.sealed(seed, pages=2) for seed in (1, 2, 3)]
    ids = [package_id for package_id, _, _ in packages]
    with TusServer(tmp_path / "tus", s3=region.bucket) as server:
        _deliver_from_the_kiosk(region, server.url, packages, tmp_path)
        again = tmp_path / "again.tbk"
        again.write_bytes(packages[0][1])
        _upload(server, again, ids[0], receiver)                 # a retry: a second copy
        client = TusClient(server.url)
        meta = {"package_id": ids[0], "receiver": receiver}
        assert client.region_has(again, meta)                   # the claim in the bucket
        assert not client.region_has(again, {**meta, "receiver": "110101"})
        client.close()
        finishes = server.finishes()
    assert [f["duplicate"] for f in finishes] == [False, False, False, True]
    uploads = {f["upload_id"] for f in finishes if not f["duplicate"]}
    assert _keys(region) == sorted([*uploads, *(f"{u}.info" for u in uploads),
                                    *(f"delivered/{i}.{receiver}" for i in ids)])
    counts, lines = _intake(region, env=True)            # credentials from the environment
    assert counts == {**EMPTY, "cases": 3}
    assert sorted(line["package_id"] for line in lines) == sorted(ids)
    assert sorted(r[0] for r in region.rows("SELECT source FROM packages")) == sorted(
        f"s3:{region.bucket.name}/{u}" for u in uploads)
    for package_id in ids:
        assert (region.cases / package_id / "manifest.json").is_file()
    assert [p.name for p in region.cases.iterdir() if p.name.startswith(".")] == []
    # a second run (credentials from a file now) takes nothing again
    assert _intake(region) == (EMPTY, [])
    assert region.rows("SELECT COUNT(*), COUNT(DISTINCT package_id) FROM packages") == [(3, 3)]
    assert region.rows("SELECT COUNT(*), MAX(seq) FROM outgoing") == [(3, 1)]


@needs_node
def test_an_unfinished_multipart_upload_is_not_taken_until_it_completes(
        region: Region, tmp_path: Path) -> None:
    """Past one 5 MiB part (S3's smallest), with a trailing piece as ``<id>.part``: the bytes
    are in an S3 multipart upload, not an object, and the intake takes nothing."""
    blob = tmp_path / "big.bin"
    blob.write_bytes(os.urandom((5 << 20) + (600 << 10)))
    package_id, receiver = "0f1e2d3c-aaaa-4bbb-8ccc-00000000beef", region.keys.region.owner
    with TusServer(tmp_path / "tus", s3=region.bucket, s3_part_size=5 << 20) as server:
        url = _upload(server, blob, package_id, receiver, stop_after=(5 << 20) + (256 << 10),
                      chunk=(5 << 20) + (256 << 10))
        upload_id = url.rsplit("/", 1)[1]
        client = region.bucket.client()
        pending = client.list_multipart_uploads(Bucket=region.bucket.name)["Uploads"]
        assert [u["Key"] for u in pending] == [upload_id]
        parts = client.list_parts(Bucket=region.bucket.name, Key=upload_id,
                                  UploadId=pending[0]["UploadId"])["Parts"]
        assert [p["Size"] for p in parts] == [5 << 20]
        assert _keys(region) == [f"{upload_id}.info", f"{upload_id}.part"]
        assert _intake(region) == (EMPTY, [])
        _nothing_recorded(region)
        _upload(server, blob, package_id, receiver, url=url, chunk=1 << 20)   # resumed
    assert upload_id in _keys(region)
    # complete now, so taken: these bytes are no package, so refused (and recorded)
    counts, lines = _intake(region)
    assert counts == {**EMPTY, "refused": 1}
    assert lines == [{"source": f"s3:{region.bucket.name}/{upload_id}", "outcome": "refused",
                      "code": "not_a_package"}]


HOSTILE = ["../../escaped", "a/b", "/abs", "x y", "a/../../b", "./x", "中文", "x" * 129,
           "..", "ok.json", "%2e%2e%2fup"]


def test_hostile_object_keys_are_passed_over_said_and_nothing_recorded(
        region: Region) -> None:
    package_id, data, _ = region.sealed(7)
    for key in HOSTILE:                   # each with an info object as S3Store would write
        region.put(data, key, package_id=package_id)
    counts, lines = _intake(region)
    assert counts == EMPTY
    passed = [line for line in lines if line["outcome"] == "passed_over"]
    assert {line["code"] for line in passed} == {"bad_object_key"}
    assert len(passed) == 2 * len(HOSTILE)         # the key, and its .info beside it
    for line in passed:
        assert "对象名" in line["zh"] and "unexpected key" in line["en"]
        assert line["source"].isascii() and "\n" not in line["source"]
    assert lines == passed
    _nothing_recorded(region)
    assert not (region.root.parent / "escaped").exists()
    assert not (region.root / "escaped").exists()
    region.put(data, "goodkey", package_id=package_id)                  # the control
    assert _intake(region)[0] == {**EMPTY, "cases": 1}


def test_an_oversize_object_is_passed_over_before_it_is_fetched(region: Region) -> None:
    package_id, data, _ = region.sealed(8)
    region.put(data, "big", package_id=package_id)
    counts, lines = _intake(region, "--max-package-bytes", str(len(data) - 1))
    assert counts == EMPTY
    assert lines == [{"source": f"s3:{region.bucket.name}/big", "outcome": "passed_over",
                      "code": "too_big",
                      "zh": f"上传的申请包过大（{len(data)} 字节，上限 {len(data) - 1}），不予接收",
                      "en": f"The upload is too large ({len(data)} bytes, the limit is "
                            f"{len(data) - 1}): not taken"}]
    _nothing_recorded(region)
    assert _intake(region, "--max-package-bytes", str(len(data)))[0] == {**EMPTY, "cases": 1}


def test_the_file_store_passes_over_an_oversize_upload_the_same_way(
        tmp_path: Path, make_keys: Fixture, make_package: Fixture,
        seal_to_file: Fixture) -> None:
    region = make_region(tmp_path, make_keys, make_package, seal_to_file)
    package_id, data, _ = region.sealed(9)
    region.put(data, "big", package_id=package_id)
    counts, lines = _intake(region, "--max-package-bytes", str(len(data) - 1))
    assert counts == EMPTY
    assert [(line["source"], line["code"]) for line in lines] == [("uploads/big", "too_big")]
    _nothing_recorded(region)


def test_an_upload_whose_info_does_not_match_its_object_is_not_taken(region: Region) -> None:
    package_id, data, _ = region.sealed(10)
    region.put(data, "short", package_id=package_id, size=len(data) + 1)
    client = region.bucket.client()
    client.put_object(Bucket=region.bucket.name, Key="noinfo", Body=data)
    client.put_object(Bucket=region.bucket.name, Key="junkinfo", Body=data)
    client.put_object(Bucket=region.bucket.name, Key="junkinfo.info", Body=b"\xff{")
    assert _intake(region) == (EMPTY, [])
    _nothing_recorded(region)


def test_a_store_that_is_down_is_a_typed_error_and_loses_nothing(
        region: Region, s3_server: Any, tmp_path: Path) -> None:
    from rigs.s3_rig import S3Server

    own = S3Server().start()                       # an endpoint this test can take down
    try:
        bucket = own.bucket()
        region.bucket = bucket
        package_id, data, _ = region.sealed(11)
        region.put(data, "waiting", package_id=package_id)
    finally:
        own.stop()
    done = region_cli(region.intake_argv())
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert "无法读取对象存储" in done.stderr and "Cannot read the object store" in done.stderr
    assert done.stdout == ""
    _nothing_recorded(region)
    back = S3Server(port=own.port).start()         # up again, on the same address
    try:
        assert _intake(region)[0] == {**EMPTY, "cases": 1}
    finally:
        back.stop()


@pytest.mark.parametrize(("argv", "words"), [
    (["--s3", "http://127.0.0.1:9"], "--bucket"),
    (["--s3", "ftp://127.0.0.1:9", "--bucket", "abc"], "http(s)"),
    (["--s3", "http://127.0.0.1:9", "--bucket", "../up"], "bucket name"),
    (["--s3", "http://127.0.0.1:9", "--bucket", "abc", "--store", "x"], "not allowed"),
    (["--s3", "http://127.0.0.1:9", "--bucket", "abc", "--max-package-bytes", "0"], "1 …"),
])
def test_bad_source_arguments_are_refused_bilingually(region: Region, argv: list[str],
                                                      words: str) -> None:
    base = region.intake_argv()
    at = base.index("--db")
    done = region_cli(["intake", *argv, *base[at:]])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert words in done.stderr
    assert not region.db.exists()


@pytest.mark.parametrize("content", [b"", b"[default]\naws_access_key_id = a\n",
                                     b"\xff\xfe", b"not an ini", "readable"])
def test_a_bad_credentials_file_is_refused(region: Region, content: bytes | str) -> None:
    argv = region.intake_argv()
    keys = Path(argv[argv.index("--s3-credentials") + 1])
    if content == "readable":                 # good keys, but any user may read them
        keys.chmod(0o644)
    else:
        assert isinstance(content, bytes)
        keys.write_bytes(content)
    done = region_cli(argv)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "凭据文件" in done.stderr and "credentials file" in done.stderr
    assert "aws_access_key_id = a" not in done.stderr


def test_a_second_intake_on_the_same_database_is_refused_while_one_runs(
        region: Region) -> None:
    """Several tus servers may share the bucket, but the region's database has one writer:
    a second intake (say, a second --watch started by mistake) is refused, not run beside
    the first, and takes the package once the first is gone."""
    from intake.receive import intake_lock

    package_id, data, _ = region.sealed(12)
    region.put(data, "once", package_id=package_id)
    with intake_lock(region.db):                   # the running intake holds the lock
        done = region_cli(region.intake_argv())
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "另一个接收程序" in done.stderr and "Another intake" in done.stderr
    assert region.rows("SELECT * FROM uploads") == []
    assert _intake(region)[0] == {**EMPTY, "cases": 1}


# moto's HTTP layer cannot carry CR, LF or other control characters in a key (real S3 can:
# the shape check below does not depend on which characters arrive)
_KEY_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(_KEY_CHARS, min_size=1, max_size=150).filter(
    lambda k: len(k.encode()) <= 1000 and k not in (".", "..")))
def test_any_object_key_is_either_an_upload_id_or_passed_over_and_said(
        s3_server: Any, tmp_path_factory: pytest.TempPathFactory, key: str) -> None:
    """Straight through the source (no child): every listed key is an upload of the
    expected shape, a known companion (.info, .part, a delivered claim), or passed over
    with ``bad_object_key`` — and a passed-over key is shown in ASCII without a line break."""
    import re

    from intake.objstore import S3Source, S3Target

    bucket = _fuzz_bucket(s3_server)
    client = bucket.client()
    client.put_object(Bucket=bucket.name, Key=key, Body=b"12345")
    client.put_object(Bucket=bucket.name, Key=f"{key}.info", Body=b'{"size": 5}')
    said: list[tuple[str, str]] = []
    os.environ.update(bucket.env())
    source = S3Source(S3Target(bucket.endpoint, bucket.name))
    try:
        found = list(source.completed(set(), lambda shown, why: said.append((shown,
                                                                             why.code))))
        if re.fullmatch(r"[A-Za-z0-9_-]{1,128}", key):
            assert [u.key for u in found] == [key] and said == []
            scratch = tmp_path_factory.mktemp("scratch")
            with source.fetched(found[0], scratch) as path:
                assert path is not None and path.read_bytes() == b"12345"
                assert path.parent == scratch and path.name.startswith(".fetching-")
            assert list(scratch.iterdir()) == []
            return
        assert found == []
        assert {code for _, code in said} <= {"bad_object_key"}
        for shown, _ in said:
            assert shown.isascii() and "\n" not in shown and len(shown) <= 1000
    finally:
        client.delete_objects(Bucket=bucket.name, Delete={"Objects": [
            {"Key": key}, {"Key": f"{key}.info"}]})

_BUCKETS: dict[int, Any] = {}


def _fuzz_bucket(s3_server: Any) -> Any:
    """One bucket for all the examples (made once: a bucket per example would pile up)."""
    if id(s3_server) not in _BUCKETS:
        _BUCKETS[id(s3_server)] = s3_server.bucket()
    return _BUCKETS[id(s3_server)]


@needs_node
def test_tus_servers_sharing_the_bucket_take_over_each_others_uploads(
        region: Region, tmp_path: Path) -> None:
    """Scaling out: two tus servers on one bucket, as behind a load balancer. An upload begun
    on one is finished on the other (it knows the upload from the bucket alone), a copy of
    the same package finished on the other server is told a duplicate by the claim in the
    bucket, and the intake makes one case of it."""
    receiver = region.keys.region.owner
    package_id, data, _ = region.sealed(13, pages=3)
    sealed = tmp_path / "up.tbk"
    sealed.write_bytes(data)
    with TusServer(tmp_path / "a", s3=region.bucket) as one, \
            TusServer(tmp_path / "b", s3=region.bucket) as other:
        url = _upload(one, sealed, package_id, receiver, stop_after=len(data) // 2)
        upload_id = url.rsplit("/", 1)[1]
        assert upload_id not in _keys(region)                      # not complete yet
        _upload(other, sealed, package_id, receiver, url=f"{other.url}/{upload_id}")
        _upload(one, sealed, package_id, receiver)                 # a second copy, on one
        finished = one.finishes() + other.finishes()
    assert sorted((f["upload_id"] == upload_id, f["duplicate"]) for f in finished) == [
        (False, True), (True, False)]
    assert [k for k in _keys(region) if not k.startswith("delivered/")] == [
        upload_id, f"{upload_id}.info"]
    counts, _ = _intake(region)
    assert counts == {**EMPTY, "cases": 1}
    assert region.rows("SELECT source FROM packages") == [
        (f"s3:{region.bucket.name}/{upload_id}",)]
