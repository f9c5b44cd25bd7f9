"""Completed uploads in object storage (``--s3 URL --bucket B``): the bucket of the tus
server's S3 store (@tus/s3-store), on AWS S3 or anything that speaks its API (MinIO, Aliyun
OSS, Tencent COS, Ceph RGW). Like the file store it is read from outside: no hook in the
upload server, and the intake keeps working while the tus servers are down.

What @tus/s3-store leaves in the bucket (its dist/index.js): ``<id>.info`` (the upload's JSON,
``size`` among it) from the upload's creation; the bytes as an S3 multipart upload under the
key ``<id>`` while PATCHes come in — invisible to a listing of objects — with a trailing piece
under a part's size as ``<id>.part``; and once the last byte is in, the multipart upload is
completed into the object ``<id>``. So an upload is complete when the object ``<id>`` exists
and its size is the ``size`` of ``<id>.info``. The reference server (rigs/tus-server) adds
``delivered/<package_id>.<receiver>`` claims, and removes a second copy of a package.

Keys come from whoever can write the bucket: only the shapes above are looked at; any other
key is passed over and said (``bad_object_key``), never used as a path — a fetched object
goes to a random scratch name. The info object is read bounded, a fetch reads exactly the
listed size of the listed version (ETag), and nothing of the upload's metadata is trusted.
boto3 is imported only here and only when a bucket is used (the ``region-s3`` extra).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from drivers.fileio import FileRefused, read_bounded, shown
from intake.source import PassedOver, StoreError, Upload

MAX_INFO_BYTES = 64 << 10             # an info object is a few hundred bytes
MAX_CREDENTIALS_BYTES = 64 << 10
_CHUNK = 1 << 20                      # fetched in 1 MiB reads: memory stays flat
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_KNOWN = re.compile(r"[A-Za-z0-9_-]{1,128}\.(?:info|part)"
                    r"|delivered/[A-Za-z0-9-]{1,100}\.[A-Za-z0-9-]{1,100}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")     # S3's bucket naming rules
_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "PreconditionFailed", "412"}


@dataclass(frozen=True)
class S3Target:
    endpoint: str                    # "https://oss-cn-chengdu.aliyuncs.com", "http://127.0.0.1:9000"
    bucket: str
    region: str = "us-east-1"
    path_style: bool = True          # MinIO and most local stores; OSS wants virtual-hosted
    credentials: Path | None = None  # an AWS-style credentials file; else the AWS env / chain
    profile: str = "default"


@dataclass
class S3Source:
    """A bucket as an :class:`intake.source.UploadSource`; ``source`` is ``s3:<bucket>/<id>``."""

    target: S3Target
    _client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not _BUCKET.fullmatch(self.target.bucket):
            raise StoreError(f"存储桶名称不合规：{self.target.bucket!r}",
                             f"Not a valid bucket name: {self.target.bucket!r}",
                             code="bad_bucket")

    def completed(self, done: Collection[str], passed_over: PassedOver) -> Iterator[Upload]:
        # Page by page as the bucket lists them (in key order): memory stays one page.
        for key, size, etag in self._objects():
            source = f"s3:{self.target.bucket}/{key}"
            if _KNOWN.fullmatch(key) or source in done:
                continue
            if not _UPLOAD_ID.fullmatch(key):
                passed_over(_shown_key(key), _bad_key(key))
            elif self._declared_size(key) == size:
                yield Upload(source, size, key=key, etag=etag)

    @contextmanager
    def fetched(self, upload: Upload, scratch: Path) -> Iterator[Path | None]:
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".fetching-", dir=scratch)  # 0600, random name
        except OSError as exc:
            raise _scratch_error(scratch, exc) from None
        path = Path(name)
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    whole = self._fetch(upload, out)
            except OSError as exc:
                raise _scratch_error(scratch, exc) from None
            yield path if whole else None
        finally:
            path.unlink(missing_ok=True)

    def _fetch(self, upload: Upload, out: BinaryIO) -> bool:
        """The listed version of the object into ``out``; False if it is gone or changed."""
        version = {"IfMatch": upload.etag} if upload.etag else {}
        reply = self._call(lambda c: c.get_object(Bucket=self.target.bucket, Key=upload.key,
                                                  **version), missing=True)
        if reply is None or reply.get("ContentLength") != upload.size:
            return False
        body = reply["Body"]
        try:
            return bool(self._call(lambda _: _copy(body, out, upload.size)))
        finally:
            body.close()

    def _objects(self) -> Iterator[tuple[str, int, str]]:
        """(key, size, ETag) of every object in the bucket, a page of 1,000 at a time."""
        pages = iter(self._call(lambda c: c.get_paginator("list_objects_v2").paginate(
            Bucket=self.target.bucket, PaginationConfig={"PageSize": 1000})))
        while (page := self._call(lambda _: next(pages, None))) is not None:
            for item in page.get("Contents", []):
                yield str(item["Key"]), int(item["Size"]), str(item.get("ETag", ""))

    def _declared_size(self, upload_id: str) -> int | None:
        """``size`` in the upload's info object, or None (deferred length, damaged, huge)."""
        reply = self._call(lambda c: c.get_object(Bucket=self.target.bucket,
                                                  Key=f"{upload_id}.info"), missing=True)
        if reply is None:
            return None
        body = reply["Body"]
        try:
            raw = self._call(lambda _: body.read(MAX_INFO_BYTES + 1))
        finally:
            body.close()
        try:
            data = json.loads(raw) if len(raw) <= MAX_INFO_BYTES else None
        except (ValueError, RecursionError):
            return None
        size = data.get("size") if isinstance(data, dict) else None
        return size if type(size) is int and size >= 0 else None

    def _call(self, action: Any, *, missing: bool = False) -> Any:
        """``action(client)``, with the library's errors said as one :class:`StoreError`
        (``missing``: a missing or changed object is None instead)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action(self._connect())
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if missing and code in _NOT_FOUND:
                return None
            raise self._unusable(code or "ClientError") from None
        except BotoCoreError as exc:
            raise self._unusable(type(exc).__name__) from None

    def _unusable(self, why: str) -> StoreError:
        where = f"{self.target.endpoint} {self.target.bucket}"
        return StoreError(f"无法读取对象存储 {where}（{why}），本轮未接收任何申请包，下次再取",
                          f"Cannot read the object store {where} ({why}); nothing was taken "
                          "this pass, the next one takes it", code="store_unreachable")

    def _connect(self) -> Any:
        if self._client is None:
            self._client = connect(self.target)
        return self._client


def connect(target: S3Target) -> Any:
    """A boto3 S3 client for ``target``: bounded timeouts and a few retries, so an unreachable
    store ends the pass with an error rather than hanging it."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise StoreError("读取对象存储需要安装 tongban-kiosk[region-s3]（boto3）",
                         "Reading object storage needs tongban-kiosk[region-s3] (boto3)",
                         code="no_s3_library") from None
    config = Config(connect_timeout=10, read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": "path" if target.path_style else "virtual"})
    keys = _credentials(target.credentials, target.profile) if target.credentials else {}
    return boto3.session.Session(**keys).client(
        "s3", endpoint_url=target.endpoint, region_name=target.region, config=config)


def _credentials(path: Path, profile: str) -> dict[str, str]:
    """The keys in an AWS-style credentials file (``[profile]`` with aws_access_key_id,
    aws_secret_access_key, optional aws_session_token), read bounded."""
    def refused(why: str) -> StoreError:
        return StoreError(f"对象存储凭据文件不可用：{shown(path)}（{why}）",
                          f"The object store credentials file cannot be used: {shown(path)} "
                          f"({why})", code="bad_credentials")

    try:
        text = read_bounded(path, MAX_CREDENTIALS_BYTES).decode("utf-8")
        if os.stat(path).st_mode & 0o077:      # as ssh does with a private key
            raise refused("其他用户可读写，请设为 0600 / readable or writable by others: "
                          "chmod 600 it")
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        section = parser[profile]
        keys = {"aws_access_key_id": section["aws_access_key_id"],
                "aws_secret_access_key": section["aws_secret_access_key"]}
    except FileRefused as exc:
        raise refused(exc.en) from None
    except OSError as exc:
        raise refused(exc.strerror or str(exc)) from None
    except (UnicodeDecodeError, configparser.Error):
        raise refused("不是凭据文件格式 / not a credentials file") from None
    except KeyError as exc:
        raise refused(f"缺少 / missing {exc.args[0]}") from None
    if "aws_session_token" in section:
        keys["aws_session_token"] = section["aws_session_token"]
    return keys


def _copy(body: Any, out: BinaryIO, size: int) -> bool:
    """``size`` bytes of ``body`` into ``out``, a MiB at a time; False if it ends early."""
    left = size
    while left > 0:
        chunk = body.read(min(_CHUNK, left))
        if not chunk:
            return False
        out.write(chunk)
        left -= len(chunk)
    return True


def _scratch_error(scratch: Path, exc: OSError) -> StoreError:
    return StoreError(f"无法在 {shown(scratch)} 写入取回的申请包：{exc.strerror or exc}",
                      f"Cannot write the fetched package under {shown(scratch)}: "
                      f"{exc.strerror or exc}", code="io_error")


def _shown_key(key: str) -> str:
    """An object key from outside, printable and short (its own ``source`` in a report)."""
    return ascii(key[:200])[1:-1]


def _bad_key(key: str) -> StoreError:
    shown_key = _shown_key(key)[:80]
    return StoreError(f"存储桶中有不认识的对象名，已跳过：{shown_key}",
                      f"An object with an unexpected key in the bucket was passed over: "
                      f"{shown_key}", code="bad_object_key")
