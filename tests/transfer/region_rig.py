"""A handling region on disk for the intake tests: its keys (decryption, status signing), the
registered kiosk's public key, an upload store in either layout — or, with ``bucket``, the
tus S3 store's bucket (rigs/s3_rig.py) — and the CLI run as a child (``python -m intake``,
as a region runs it)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.transfer.keys import generate, write_private, write_public
from kiosk.transfer.suites import Role

ROOT = Path(__file__).resolve().parents[2]
Fixture = Callable[..., Any]


@dataclass
class Region:
    root: Path
    keys: Any                       # conftest.KeySet
    status_key: Path
    status_pub: Path
    make_package: Fixture
    seal_to_file: Fixture
    bucket: Any = None              # rigs.s3_rig.Bucket: uploads in object storage

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def db(self) -> Path:
        return self.root / "region.db"

    @property
    def cases(self) -> Path:
        return self.root / "cases"

    def intake_argv(self, *, credentials_file: bool = True) -> list[str]:
        """The intake's arguments; from a bucket, its keys in a credentials file (or, without
        ``credentials_file``, from the AWS environment the caller gives the child)."""
        return ["intake", *self._source_argv(credentials_file), "--db", str(self.db),
                "--key", str(self.keys.region_key), "--kiosks", str(self.keys.kiosk_pub),
                "--status-key", str(self.status_key), "--cases", str(self.cases)]

    def _source_argv(self, credentials_file: bool) -> list[str]:
        if self.bucket is None:
            return ["--store", str(self.store)]
        argv = ["--s3", self.bucket.endpoint, "--bucket", self.bucket.name]
        if credentials_file:
            keys = self.root / "s3-credentials"
            keys.write_text(f"[default]\naws_access_key_id = {self.bucket.access_key}\n"
                            f"aws_secret_access_key = {self.bucket.secret_key}\n")
            keys.chmod(0o600)
            argv += ["--s3-credentials", str(keys)]
        return argv

    def sealed(self, seed: int, pages: int = 1, **kwargs: Any) -> tuple[str, bytes, Any]:
        """A sealed package: its id, its bytes, and what built it."""
        built = self.make_package(pages, seed, signer=self.keys.signer, **kwargs)
        path = self.seal_to_file(built.data, self.keys.signer, self.keys.recipient,
                                 built.package_id, self.root / f"sealed-{seed}.tbk")
        return built.package_id, path.read_bytes(), built

    def put(self, data: bytes, upload_id: str, *, layout: str = "file-store",
            package_id: str = "", size: int | None = None) -> Path:
        """``data`` as the tus server leaves a finished (or, with ``size``, unfinished) upload;
        in the bucket, if the region has one, as @tus/s3-store leaves it."""
        info = {"id": upload_id, "size": len(data) if size is None else size,
                "metadata": {"package_id": package_id, "receiver": "500103"},
                "creation_date": "2026-12-07T10:00:00.000Z"}
        if self.bucket is not None:
            client = self.bucket.client()
            client.put_object(Bucket=self.bucket.name, Key=upload_id, Body=data)
            client.put_object(Bucket=self.bucket.name, Key=f"{upload_id}.info",
                              Body=json.dumps(info).encode())
            return Path(upload_id)
        if layout == "delivered":
            path = self.store / "delivered" / f"{package_id}.{self.keys.region.owner}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return path
        folder = self.store / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / upload_id).write_bytes(data)
        (folder / f"{upload_id}.json").write_text(json.dumps(info))
        return folder / upload_id

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db)) as conn:
            return conn.execute(sql, params).fetchall()


def make_region(root: Path, make_keys: Fixture, make_package: Fixture,
                seal_to_file: Fixture, suite: str = "x25519-chacha20",
                bucket: Any = None) -> Region:
    keys = make_keys(suite)
    status = generate(keys.region.owner, Role.SIGN, suite)
    key, pub = root / "status.key", root / "status.pub"
    write_private(key, status)
    write_public(pub, status)
    return Region(root, keys, key, pub, make_package, seal_to_file, bucket)


def region_cli(argv: list[str], *, stdin: str = "", timeout: float = 120
               ) -> subprocess.CompletedProcess[str]:
    """``kiosk-region ARGV`` in a child process."""
    return subprocess.run([sys.executable, "-m", "intake", *argv], capture_output=True,
                          text=True, input=stdin, timeout=timeout, cwd=ROOT)
