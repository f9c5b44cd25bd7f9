"""The region's intake from object storage vs from the tus file store: the same sealed
packages taken in (list, fetch, verify, decrypt, unpack, record) in one pass from each
source, in the same run. JSON out.

    .venv/bin/python benchmarks/intake_store.py [--packages 20] [--repeat 3] [--out FILE.json]

- file_store: the packages as @tus/file-store leaves them (``uploads/<id>`` + ``<id>.json``),
  ``run_pass`` over :class:`intake.store.FileStore`.
- s3: the same bytes as @tus/s3-store leaves them (objects ``<id>`` + ``<id>.info``) in a
  bucket of moto's S3 server on loopback (rigs/s3_rig.py), ``run_pass`` over
  :class:`intake.objstore.S3Source` (each object fetched into a scratch file first).
Ratio = s3 time ÷ file-store time (median of ``repeat`` passes each, alternated, each into a
fresh database and cases folder). moto answers from a thread of this very process, so its
work shares the interpreter with the intake's: a real object store would cost the intake
less CPU and more network latency.

The packages are the delivery tests' realistic ones (tests/transfer/conftest.py: scanned-
looking JPEG pages in PDFs, a schema-shaped manifest), sealed with x25519-chacha20.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "transfer"))     # the tests' package builder

from benchmarks.timing import report, run_timed  # noqa: E402
from intake.db import connect  # noqa: E402
from intake.objstore import S3Source, S3Target  # noqa: E402
from intake.receive import Intake, PassResult, run_pass  # noqa: E402
from intake.source import UploadSource  # noqa: E402
from intake.statusout import StatusSigner  # noqa: E402
from intake.store import FileStore  # noqa: E402
from kiosk.transfer.envelope import Recipient, Signer  # noqa: E402
from kiosk.transfer.keys import Registry, generate, write_private, write_public  # noqa: E402
from kiosk.transfer.suites import Role, suite  # noqa: E402
from rigs.s3_rig import Bucket, S3Server  # noqa: E402

SUITE, KIOSK, REGION = "x25519-chacha20", "510802-0001", "500103"


def _keys(folder: Path) -> tuple[Signer, Recipient, Path, Path, Path]:
    kiosk = generate(KIOSK, Role.SIGN, SUITE)
    region = generate(REGION, Role.ENCRYPT, SUITE)
    status = generate(REGION, Role.SIGN, SUITE)
    kiosk_pub, region_key, status_key = (folder / "kiosk.pub", folder / "region.key",
                                         folder / "status.key")
    write_public(kiosk_pub, kiosk)
    write_private(region_key, region)
    write_private(status_key, status)
    assert kiosk.private is not None
    signer = Signer(KIOSK, suite(SUITE), kiosk.private, kiosk.public)
    return signer, Recipient(REGION, region.public), kiosk_pub, region_key, status_key


def _packages(count: int, signer: Signer, recipient: Recipient, folder: Path
              ) -> list[tuple[str, bytes]]:
    from conftest import _build, _seal_to_file

    sealed = []
    for seed in range(count):
        built = _build(2 + seed % 3, 500 + seed, signer)
        path = _seal_to_file(built.data, signer, recipient, built.package_id,
                             folder / f"{seed}.tbk")
        sealed.append((f"u{seed:03d}", path.read_bytes()))
    return sealed


def _info(upload_id: str, data: bytes) -> bytes:
    return json.dumps({"id": upload_id, "size": len(data), "metadata": {},
                       "creation_date": "2026-12-07T10:00:00.000Z"}).encode()


def _file_store(folder: Path, packages: list[tuple[str, bytes]]) -> FileStore:
    uploads = folder / "uploads"
    uploads.mkdir(parents=True)
    for upload_id, data in packages:
        (uploads / upload_id).write_bytes(data)
        (uploads / f"{upload_id}.json").write_bytes(_info(upload_id, data))
    return FileStore(folder)


def _bucket(server: S3Server, packages: list[tuple[str, bytes]]) -> Bucket:
    bucket = server.bucket()
    client = bucket.client()
    for upload_id, data in packages:
        client.put_object(Bucket=bucket.name, Key=upload_id, Body=data)
        client.put_object(Bucket=bucket.name, Key=f"{upload_id}.info",
                          Body=_info(upload_id, data))
    return bucket


def _one_pass(source: UploadSource, keys: tuple[Path, Path, Path], folder: Path
              ) -> tuple[float, PassResult]:
    kiosk_pub, region_key, status_key = keys
    folder.mkdir()
    conn = connect(folder / "region.db")
    intake = Intake(conn, source, region_key, Registry.from_path(kiosk_pub),
                    StatusSigner.load(status_key, REGION), folder / "cases")
    started = time.perf_counter()
    result = run_pass(intake)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, result


def bench(count: int, repeat: int, folder: Path) -> dict[str, Any]:
    signer, recipient, *keys = _keys(folder)
    key_paths = (keys[0], keys[1], keys[2])
    packages = _packages(count, signer, recipient, folder)
    store = _file_store(folder / "store", packages)
    times: dict[str, list[float]] = {"file_store": [], "s3": []}
    with S3Server() as server:
        bucket = _bucket(server, packages)
        os.environ.update(bucket.env())
        sources: dict[str, UploadSource] = {
            "file_store": store, "s3": S3Source(S3Target(bucket.endpoint, bucket.name))}
        for run in range(repeat):
            for name, source in sources.items():
                elapsed, result = _one_pass(source, key_paths, folder / f"{name}-{run}")
                assert result.cases == count, (name, result)
                times[name].append(elapsed)
    file_s, s3_s = (statistics.median(times[n]) for n in ("file_store", "s3"))
    return {
        "packages": count, "bytes": sum(len(d) for _, d in packages), "repeat": repeat,
        "file_store_s": round(file_s, 3), "s3_s": round(s3_s, 3),
        "file_store_packages_per_s": round(count / file_s, 1),
        "s3_packages_per_s": round(count / s3_s, 1),
        "ratio_s3_to_file_store": round(s3_s / file_s, 2),
        "all_s": {name: [round(t, 3) for t in ts] for name, ts in times.items()}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--packages", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json-out", "--out", dest="out", type=Path)
    args = p.parse_args()
    if args.packages < 1 or args.repeat < 1:
        p.error("--packages and --repeat must be positive")
    with tempfile.TemporaryDirectory(prefix="intake-store-bench-") as folder:
        results: dict[str, Any] = {
            "machine_note": "2 shared cores; moto's S3 in this process; the ratio of the two "
                            "sources in the same run is what carries over",
            **bench(args.packages, args.repeat, Path(folder))}
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)
