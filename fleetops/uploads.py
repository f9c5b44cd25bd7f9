"""A delegated city's upload folder, checked before anything in it reaches the repository.

A city never writes into the province's repository. It writes ``metadata/N.<role>.json`` and
its bundles into its own upload folder (``<uploads>/<role>/``, the same layout), and the
province's timer job takes a file from there only if it passes every check below. A file
that fails is logged and skipped; it can neither stop the timer nor reach a kiosk.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import DelegatedRole, Metadata, Targets

from kiosk.fleet.errors import FleetError

log = logging.getLogger(__name__)
NAME = re.compile(r"^([1-9]\d{0,8})\.([a-z0-9-]{1,40})\.json$")
MAX_METADATA_BYTES = 4 << 20     # a city of 1,000 kiosks lists ~300 KB
MAX_BUNDLE_BYTES = 64 << 20


@dataclass(frozen=True)
class Upload:
    version: int
    raw: bytes
    signed: Targets
    bundles: dict[str, bytes]     # path under targets/ → content, delegated paths only


def newest(folder: Path, role: str, targets: Targets, after: int) -> tuple[Upload | None, int]:
    """The newest upload of ``role`` numbered above ``after`` that passes every check, and
    how many newer ones were refused."""
    found = []
    for path in (folder / "metadata").glob(f"*.{role}.json"):
        match = NAME.match(path.name)
        if match and match[2] == role and int(match[1]) > after:
            found.append((int(match[1]), path))
    refused = 0
    for version, path in sorted(found, reverse=True):
        try:
            return check(folder, role, version, path, targets), refused
        except FleetError as exc:
            log.warning("upload %s refused: %s (%s)", path.name, exc.code, exc.en)
            refused += 1
    return None, refused


def check(folder: Path, role: str, version: int, path: Path, targets: Targets) -> Upload:
    """One upload: small enough, well-formed targets metadata of that version, signed by
    the delegated key, not expired, and every bundle it lists for its delegated paths
    present with the signed length and hash."""
    delegation = _role(targets, role)
    raw = _read(path, MAX_METADATA_BYTES)
    try:
        md = Metadata[Targets].from_bytes(raw)
    except Exception as exc:   # why: any parse failure of an upload is one refusal
        raise FleetError("上传的元数据无法解析", f"unreadable metadata: {exc}",
                         code="invalid") from None
    signed = md.signed
    if not isinstance(signed, Targets) or signed.version != version:
        raise FleetError("上传的元数据类型或版本不符", f"not targets metadata version {version}",
                         code="invalid")
    try:
        targets.verify_delegate(role, md.signed_bytes, md.signatures)
    except UnsignedMetadataError:
        raise FleetError("上传的元数据不是用授权密钥签名的", f"not signed by {role}'s "
                         "delegated key", code="untrusted") from None
    if signed.is_expired(datetime.now(UTC)):
        raise FleetError("上传的元数据已过期", "expired", code="expired")
    bundles: dict[str, bytes] = {}
    for target, info in signed.targets.items():
        if not delegation.is_delegated_path(target):
            continue          # not ours to list: no kiosk would look here for it anyway
        if not isinstance(info.custom.get("version"), int):
            raise FleetError("配置包缺少版本", f"{target}: no custom.version", code="invalid")
        parent, name = target.rsplit("/", 1)
        rel = f"{parent}/{info.hashes['sha256']}.{name}"
        data = _read(folder / "targets" / rel, MAX_BUNDLE_BYTES)
        try:
            info.verify_length_and_hashes(data)
        except Exception:   # why: LengthOrHashMismatchError, or a hash we don't compute
            raise FleetError("上传的配置包与签名不符", f"{rel} does not match its entry",
                             code="tampered") from None
        bundles[rel] = data
    return Upload(version, raw, signed, bundles)


def _role(targets: Targets, role: str) -> DelegatedRole:
    roles = targets.delegations.roles if targets.delegations else None
    if not roles or role not in roles:
        raise FleetError(f"{role} 未获授权", f"{role} is not delegated", code="not_delegated")
    return roles[role]


def _read(path: Path, limit: int) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise FleetError("上传文件过大", f"{path.name} is over {limit} bytes", code="invalid")
        return path.read_bytes()
    except OSError as exc:
        raise FleetError("上传文件缺失或不可读", f"{path.name}: {exc.strerror}",
                         code="invalid") from None
