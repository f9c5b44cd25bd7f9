"""``kiosk-region intake``'s choice of upload source: ``--store DIR`` (the tus file store) or
``--s3 URL --bucket B`` (the tus S3 store's bucket), and the package size limit both share.
Object-store credentials come from ``--s3-credentials FILE`` (AWS credentials file format) or
the standard AWS environment and files (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, …) — never
from an argument, where ``ps`` and shell history would keep them."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from intake.objstore import S3Source, S3Target
from intake.source import MAX_PACKAGE_BYTES, StoreError, UploadSource
from intake.store import FileStore


def add_source_arguments(take: argparse.ArgumentParser) -> None:
    where = take.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", type=Path,
                       help="the tus server's file store (or its root with uploads/)")
    where.add_argument("--s3", metavar="URL",
                       help="object storage endpoint of the tus S3 store (S3, MinIO, OSS …)")
    s3 = take.add_argument_group("object storage (with --s3)")
    s3.add_argument("--bucket", help="the bucket the tus servers write to")
    s3.add_argument("--s3-region", default="us-east-1")
    s3.add_argument("--s3-addressing", choices=("path", "virtual"), default="path",
                    help="path-style (MinIO, most local stores) or virtual-hosted (OSS, COS)")
    s3.add_argument("--s3-credentials", type=Path, metavar="FILE",
                    help="AWS-style credentials file (default: the AWS environment)")
    s3.add_argument("--s3-profile", default="default", help="its section")
    take.add_argument("--max-package-bytes", type=_package_limit, default=MAX_PACKAGE_BYTES,
                      help=f"pass over larger uploads (at most, and by default, "
                           f"{MAX_PACKAGE_BYTES})")


def source_from_args(args: argparse.Namespace) -> UploadSource:
    if args.store is not None:
        return FileStore(args.store)
    if not args.bucket:
        raise StoreError("使用 --s3 时须用 --bucket 指定存储桶",
                         "--s3 needs --bucket (the bucket to read)", code="bad_store")
    if urlsplit(args.s3).scheme not in ("http", "https") or not urlsplit(args.s3).hostname:
        raise StoreError(f"对象存储地址应为 http(s)://主机[:端口]：{args.s3!r}",
                         f"The object store endpoint is not http(s)://host[:port]: {args.s3!r}",
                         code="bad_store")
    return S3Source(S3Target(args.s3, args.bucket, args.s3_region,
                             args.s3_addressing == "path", args.s3_credentials,
                             args.s3_profile))


def _package_limit(text: str) -> int:
    """A positive byte count no larger than what could ever open."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not 0 < value <= MAX_PACKAGE_BYTES:
        raise argparse.ArgumentTypeError(f"1 … {MAX_PACKAGE_BYTES}")
    return value
