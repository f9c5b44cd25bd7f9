"""``kiosk-fleet directory …``: build, publish and revoke in the signed region directory.

    kiosk-fleet directory build   --table regions.toml [--out FILE]   dry run: checked, unsigned
    kiosk-fleet directory publish --table regions.toml                the next version, signed
    kiosk-fleet directory revoke  KEY_ID --reason TEXT                the fast path

Both documents are targets of the province's TUF repository (``directory/regions.json``,
``directory/revocations.json``), signed by its targets key beside the kiosks' bundles, so
publishing one re-signs targets, snapshot and timestamp but rebuilds no bundle. A revocation
goes into its own small list: it needs neither the table nor a rebuilt directory, and stays
in force across later directory versions. docs/region-directory.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tuf.api.metadata import TargetFile, Targets

from fleetops.directory_table import build_document
from fleetops.layers import Tree
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.directory import REGIONS_TARGET, REVOCATIONS_TARGET
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import write_atomic
from kiosk.routing.directory_format import (
    KEY_ID,
    MAX_REVOKED,
    REVOCATIONS_FORMAT,
    SCHEMA,
    DirectoryError,
    parse_directory,
    parse_revocations,
)

BEIJING = timezone(timedelta(hours=8))
EXPIRY_WARNING = timedelta(days=30)


def add_parser(fleet: Any) -> None:
    group = fleet.add_parser("directory", help="the signed region directory (build, publish, "
                             "revoke)").add_subparsers(required=True,
                                                       metavar="{build,publish,revoke}")
    build = _common(group.add_parser("build", help="check a region table (nothing signed)"),
                    _build)
    build.add_argument("--table", type=Path, required=True, help="regions .toml or .csv")
    build.add_argument("--out", type=Path, help="write the document here to read it")
    publish = _common(group.add_parser("publish", help="sign and publish the table as the "
                                       "next directory version"), _publish)
    publish.add_argument("--table", type=Path, required=True, help="regions .toml or .csv")
    revoke = _common(group.add_parser("revoke", help="revoke a region key at once"), _revoke)
    revoke.add_argument("key_id", metavar="KEY_ID", type=_key_id,
                        help="16 hex digits, as `directory build` lists them")
    revoke.add_argument("--reason", required=True, help="why (kept in the signed list)")


def _common(p: argparse.ArgumentParser, func: Any) -> argparse.ArgumentParser:
    p.add_argument("--tree", type=Path, default=Path("."), help="the operator's tree")
    p.add_argument("--repo", type=Path, help="repository folder (default: <tree>/public)")
    p.set_defaults(func=func)
    return p


def _key_id(text: str) -> str:
    if not KEY_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: 应为 16 位十六进制 / must be 16 hex "
                                         "digits")
    return text


def _repo(args: argparse.Namespace) -> tuple[str, Repository]:
    tree = Tree.load(args.tree)
    keys = KeyStore(args.tree / ".fleet" / "keys")
    return tree.inventory.fleet.name, Repository(args.repo or args.tree / "public", keys)


def _build(args: argparse.Namespace) -> int:
    fleet, repo = _repo(args)
    raw = build_document(args.table, fleet=fleet, version=published_version(
        repo, REGIONS_TARGET) + 1)
    if args.out:
        write_atomic(args.out, raw)
    for line in [*listing(raw), *warnings(raw)]:
        print(line)
    print(f"OK: {summary(raw)} (dry run: nothing signed)")
    return 0


def _publish(args: argparse.Namespace) -> int:
    fleet, repo = _repo(args)
    version = published_version(repo, REGIONS_TARGET) + 1
    raw = build_document(args.table, fleet=fleet, version=version)
    publish_target(repo, REGIONS_TARGET, raw, version)
    for line in warnings(raw):
        print(line)
    print(f"OK: {summary(raw)}; published to {repo.folder}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    fleet, repo = _repo(args)
    version = revoke_key(repo, fleet, args.key_id, args.reason)
    if not _listed_key(repo, args.key_id):
        print(f"警告 / warning: {args.key_id} 不在已发布的地区目录中（吊销仍然生效）/ is not in "
              "the published directory, or it cannot be read (revoked all the same: check "
              "the id)")
    print(f"OK: {args.key_id} 已吊销 / revoked (revocation list v{version}); kiosks drop it "
          "at their next check")
    return 0


def summary(raw: bytes) -> str:
    directory = parse_directory(raw)
    keys = sum(len(e.keys) for e in (*directory.regions.values(),
                                     *directory.exchanges.values()))
    return (f"region directory v{directory.version}: {len(directory.regions)} regions, "
            f"{len(directory.exchanges)} exchanges, {keys} keys")


def listing(raw: bytes) -> list[str]:
    """One line per entry: code, name, route and its keys (the ids ``revoke`` takes)."""
    directory = parse_directory(raw)
    lines = []
    for entry in (*directory.regions.values(), *directory.exchanges.values()):
        keys = "; ".join(f"{k.key_id} {k.suite} {_beijing(k.not_before)}.."
                         f"{_beijing(k.not_after)}" for k in entry.keys)
        route = entry.endpoint or entry.transport
        lines.append(f"{entry.code}  {entry.name}  {route}  keys: {keys}")
    return lines


def warnings(raw: bytes, now: datetime | None = None) -> list[str]:
    """What will make a region unavailable on the kiosks: no key of a suite valid now, or
    the last one ending within ``EXPIRY_WARNING`` (rotate before then)."""
    now = now or datetime.now(UTC)
    directory = parse_directory(raw)
    lines = []
    for entry in (*directory.regions.values(), *directory.exchanges.values()):
        for suite in sorted({k.suite for k in entry.keys}):
            valid = [k for k in entry.keys if k.suite == suite
                     and k.not_before <= now < k.not_after]
            if not valid:
                lines.append(f"警告 / warning: {entry.code} {suite}: 现在没有有效密钥，"
                             "该地区在终端上不可办理 / no key valid now: the region is "
                             "unavailable on kiosks of this suite")
            elif max(k.not_after for k in valid) - now < EXPIRY_WARNING:
                end = _beijing(max(k.not_after for k in valid))
                lines.append(f"警告 / warning: {entry.code} {suite}: 最后一把有效密钥于 {end} "
                             f"到期，请先轮换 / the last valid key ends {end}: rotate before")
    return lines


def _beijing(moment: datetime) -> str:
    """Validity as an operator in China reads it (the document keeps each time's own zone)."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M+08")


def _listed_key(repo: Repository, key: str) -> bool:
    """Whether the published directory names ``key``; a revocation never waits on it (a
    damaged or missing directory only means the warning)."""
    try:
        raw = published(repo, REGIONS_TARGET)
        directory = parse_directory(raw) if raw is not None else None
    except (OSError, DirectoryError):
        return False
    if directory is None:
        return False
    entries = (*directory.regions.values(), *directory.exchanges.values())
    return any(k.key_id == key for e in entries for k in e.keys)


def published_version(repo: Repository, path: str) -> int:
    """The version of ``path`` the repository lists now (0: none, or no repository yet)."""
    if repo.latest("targets") is None:
        return 0
    info = repo.load("targets").signed.targets.get(path)
    return int(info.custom.get("version", 0)) if info is not None else 0


def published(repo: Repository, path: str) -> bytes | None:
    info = repo.load("targets").signed.targets.get(path)
    if info is None:
        return None
    folder, name = path.rsplit("/", 1)
    return (repo.targets_dir / folder / f"{info.hashes['sha256']}.{name}").read_bytes()


def publish_target(repo: Repository, path: str, data: bytes, version: int) -> int:
    """``data`` as ``path``, version ``version``, in a new targets version (the bundles and
    their counter untouched). Returns the targets version."""
    folder, name = path.rsplit("/", 1)
    digest = hashlib.sha256(data).hexdigest()
    write_atomic(repo.targets_dir / folder / f"{digest}.{name}", data)
    info = TargetFile.from_data(path, data, ["sha256"])
    info.unrecognized_fields["custom"] = {"version": version}

    def edit(targets: Targets) -> None:
        targets.targets[path] = info

    return repo.publish([], version=repo.bundle_version(), resign=True, edit=edit)


def revoke_key(repo: Repository, fleet: str, key: str, reason: str,
               now: datetime | None = None) -> int:
    """Add ``key`` to the revocation list and publish it; returns the list's version."""
    before = published(repo, REVOCATIONS_TARGET)
    try:
        revoked = list(parse_revocations(before).revoked) if before else []
    except DirectoryError as exc:
        raise FleetError(exc.zh, exc.en, code="invalid") from None
    if any(r.key_id == key for r in revoked):
        raise FleetError(f"{key} 已在吊销清单中", f"{key} is revoked already", code="exists")
    if len(revoked) >= MAX_REVOKED:
        raise FleetError("吊销清单已满", f"the list holds {MAX_REVOKED} keys", code="full")
    if not reason.strip() or len(reason) > 200 or re.search(r"[\x00-\x1f\x7f]", reason):
        raise FleetError("吊销原因应为 1–200 字的单行文本", "the reason is one line of 1-200 "
                         "characters", code="bad_reason")
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    version = published_version(repo, REVOCATIONS_TARGET) + 1
    items = [{"key_id": r.key_id, "since": r.since.isoformat(), "reason": r.reason}
             for r in revoked] + [{"key_id": key, "since": at, "reason": reason}]
    raw = json.dumps({"format": REVOCATIONS_FORMAT, "schema": SCHEMA, "fleet": fleet,
                      "version": version, "issued": at, "revoked": items},
                     ensure_ascii=False, indent=1).encode()
    parse_revocations(raw)              # the kiosk's reader, before anything is signed
    publish_target(repo, REVOCATIONS_TARGET, raw, version)
    return version
