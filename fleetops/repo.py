"""The operator's TUF repository: keys, signing and publishing (python-tuf's Metadata API).

Roles and keys (one Ed25519 key each; a threshold of one):
- root: OFFLINE. Signs which keys may sign the other roles. Needed only by ``init`` and
  ``rotate-key``; keep its folder on removable media.
- targets: signs the list of bundles (the operator's build machine).
- snapshot, timestamp: ONLINE. ``kiosk fleet timestamp`` re-signs timestamp (and snapshot
  when due) on a timer; if the timer stops, kiosks refuse the frozen metadata, keep the
  configuration they run and report ``expired``.

The repository folder is what a web server, CDN or object store serves, unchanged:
``metadata/N.root.json``, ``metadata/N.targets.json``, ``metadata/N.snapshot.json``,
``metadata/timestamp.json``, ``targets/kiosks/<id>/<sha256>.bundle.zip`` (consistent
snapshots: a client never sees a half-published state). Files are written bundles first and
timestamp last, each by an atomic rename. Only the province writes here: a city the
province delegates to signs ``N.city-<code>.json`` into its own upload folder
(``<uploads>/city-<code>/``, fleetops/delegation.py), and the timer job copies it in once
it has passed every check (fleetops/uploads.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from fleetops import uploads
from kiosk.fleet.bundle import Bundle
from kiosk.fleet.client import target_path
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import write_atomic

log = logging.getLogger(__name__)
ROLES = ("root", "targets", "snapshot", "timestamp")
EXPIRY = {"root": timedelta(days=365), "targets": timedelta(days=90),  # delegated: as targets
          "snapshot": timedelta(days=7), "timestamp": timedelta(days=1)}
_JSON = JSONSerializer(compact=False)


def _expires(role: str, now: datetime | None = None) -> datetime:
    period = EXPIRY.get(role, EXPIRY["targets"])
    return ((now or datetime.now(UTC)) + period).replace(microsecond=0)


@dataclass(frozen=True)
class KeyStore:
    """Private keys as PEM files, one folder per role, readable by the owner only.
    ``root_dir`` may point elsewhere (the offline medium)."""

    folder: Path
    root_dir: Path | None = None

    def role_dir(self, role: str) -> Path:
        return self.root_dir if role == "root" and self.root_dir else self.folder / role

    def generate(self, role: str) -> CryptoSigner:
        signer = CryptoSigner.generate_ed25519()
        folder = self.role_dir(role)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{signer.public_key.keyid}.pem"
        write_atomic(path, signer.private_bytes)
        path.chmod(0o600)
        return signer

    def signers(self, role: str) -> list[CryptoSigner]:
        folder = self.role_dir(role)
        found = sorted(folder.glob("*.pem")) if folder.is_dir() else []
        if not found:
            raise FleetError(f"没有 {role} 角色的私钥（{folder}）",
                             f"no {role} private key in {folder}", code="no_key")
        return [CryptoSigner(load_pem_private_key(p.read_bytes(), None)) for p in found]

    def retire(self, role: str) -> None:
        """Move a role's old keys aside after a rotation (kept, never deleted silently)."""
        folder = self.role_dir(role)
        retired = folder / "retired"
        retired.mkdir(exist_ok=True, mode=0o700)
        for pem in folder.glob("*.pem"):
            pem.rename(retired / pem.name)


class Repository:
    def __init__(self, folder: Path, keys: KeyStore, uploads: Path | None = None) -> None:
        """``uploads``: where each delegated city's upload folder sits (default: beside
        ``folder``, named ``uploads``)."""
        self.folder = folder
        self.keys = keys
        self.uploads = uploads or folder.parent / "uploads"
        self.metadata_dir = folder / "metadata"
        self.targets_dir = folder / "targets"

    # --- set up and rotate (root key needed) -------------------------------------------
    def init(self) -> Path:
        """New keys for every role and version 1 of every metadata; returns the root file
        kiosks pin."""
        if (self.metadata_dir / "1.root.json").exists():
            raise FleetError("配置库已初始化", f"{self.folder} already holds a repository",
                             code="exists")
        signers = {role: self.keys.generate(role) for role in (*ROLES, "command")}
        root = Root(expires=_expires("root"), consistent_snapshot=True)
        for role in ROLES:
            root.add_key(signers[role].public_key, role)
        self._write(Metadata(root), [signers["root"]], "1.root.json")
        self.publish([], version=0)
        return self.metadata_dir / "1.root.json"

    def rotate_key(self, role: str) -> str:
        """Replace ``role``'s key; the new root is signed by the old and the new root keys,
        so kiosks follow the chain. Returns the new key id."""
        if role == "command":   # not in TUF: its public half travels inside the bundles
            self.keys.signers("command")
            self.keys.retire("command")
            return self.keys.generate("command").public_key.keyid
        if role not in ROLES:
            raise FleetError(f"未知角色 {role}", f"unknown role {role}", code="bad_role")
        root_md = self.load("root")
        old = self.keys.signers("root")
        self.keys.retire(role)
        new = self.keys.generate(role)
        root = root_md.signed
        for keyid in list(root.roles[role].keyids):
            root.revoke_key(keyid, role)
        root.add_key(new.public_key, role)
        root.version += 1
        root.expires = _expires("root")
        signers = [*old, new] if role == "root" else self.keys.signers("root")
        self._write(Metadata(root), signers, f"{root.version}.root.json")
        self.publish([], version=self.bundle_version(), resign=True)
        return new.public_key.keyid

    # --- publish (online keys) ---------------------------------------------------------
    def publish(self, bundles: list[Bundle], *, version: int, resign: bool = False,
                edit: Callable[[Targets], None] | None = None) -> int:
        """Add or replace the listed kiosks' bundles; returns the new targets version.
        ``edit`` changes the targets metadata (its delegations) in the same version."""
        fresh = not self._has("targets")
        targets = Targets() if fresh else self.load("targets").signed
        if edit is not None:
            edit(targets)
        delegated = [b.kiosk for b in bundles if _delegated_to(targets, target_path(b.kiosk))]
        if delegated:
            raise FleetError(f"这些终端由市级签名，省级不能发布：{', '.join(delegated)}",
                             f"delegated to a city, not published here: "
                             f"{', '.join(delegated)}", code="delegated")
        for bundle in bundles:
            targets.targets[target_path(bundle.kiosk)] = self.write_bundle(bundle)
        if not bundles and not resign and not fresh:
            return targets.version
        targets.version += 0 if fresh else 1
        targets.expires = _expires("targets")
        targets.unrecognized_fields["custom"] = {"bundle_version": version}
        self._write(Metadata(targets), self.keys.signers("targets"),
                    f"{targets.version}.targets.json")
        self._intake()             # a new delegation lists the city's upload at once
        self._snapshot_and_timestamp(targets.version)
        return targets.version

    def write_bundle(self, bundle: Bundle) -> TargetFile:
        """The bundle's file under its hash (consistent snapshots); its signed entry."""
        data = bundle.to_bytes()
        path = target_path(bundle.kiosk)
        info = TargetFile.from_data(path, data, ["sha256"])
        info.unrecognized_fields["custom"] = {"version": bundle.version}
        digest = hashlib.sha256(data).hexdigest()
        name = self.targets_dir / Path(path).parent / f"{digest}.{Path(path).name}"
        name.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(name, data)
        return info

    def publish_delegated(self, role: str, bundles: list[Bundle], *, version: int) -> int:
        """A city's publish: its bundles and ``N.<role>.json``, signed with its own key, into
        its upload folder (the repository is only read). Returns N."""
        staged = Repository(self.uploads / role, self.keys, self.uploads)
        base = max((r for r in (self, staged) if r.latest(role)),
                   key=lambda r: r.latest(role) or 0, default=None)
        targets = base.load(role).signed if base else Targets()
        for bundle in bundles:
            targets.targets[target_path(bundle.kiosk)] = staged.write_bundle(bundle)
        targets.version = (base.latest(role) or 0) + 1 if base else 1
        targets.expires = _expires(role)
        targets.unrecognized_fields["custom"] = {"bundle_version": version}
        staged._write(Metadata(targets), self.keys.signers(role),
                      f"{targets.version}.{role}.json")
        return targets.version

    def delegated(self, kiosk_ids: list[str]) -> dict[str, str]:
        """Those of ``kiosk_ids`` a city signs: kiosk id → its role."""
        if not self._has("targets"):
            return {}
        targets = self.load("targets").signed
        found = {k: _delegated_to(targets, target_path(k)) for k in kiosk_ids}
        return {k: role for k, role in found.items() if role}

    def listing(self, kiosk_id: str) -> TargetFile | None:
        """The signed entry a kiosk would find for its bundle now (province's or city's)."""
        path = target_path(kiosk_id)
        role = _delegated_to(self.load("targets").signed, path) or "targets"
        return self.load(role).signed.targets.get(path) if self._versions(role) else None

    def refresh_timestamp(self, now: datetime | None = None) -> int:
        """Take in what delegated cities uploaded, if it passes its checks; re-sign snapshot
        when that changed something or it expires within two days; re-sign timestamp. The
        timer job. Returns the new timestamp version."""
        now = now or datetime.now(UTC)
        snapshot = self.load("snapshot").signed
        if self._intake() or snapshot.expires - now < timedelta(days=2):
            self._snapshot_and_timestamp(self.load("targets").signed.version)
        else:
            self._timestamp(snapshot.version)
        version: int = self.load("timestamp").signed.version
        return version

    def _intake(self) -> list[str]:
        """Copy each delegated city's newest sound upload into the repository; returns the
        roles that changed. A refused upload is logged and leaves the role as it was."""
        targets = self.load("targets").signed
        changed = []
        for role in self.delegated_roles():
            upload, _refused = uploads.newest(self.uploads / role, role, targets,
                                              after=self.latest(role) or 0)
            if upload is None:
                continue
            for rel, data in upload.bundles.items():
                (self.targets_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                write_atomic(self.targets_dir / rel, data)
            self.metadata_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self.metadata_dir / f"{upload.version}.{role}.json", upload.raw)
            log.info("%s v%s taken in from its upload folder", role, upload.version)
            changed.append(role)
        return changed

    def _snapshot_and_timestamp(self, targets_version: int) -> None:
        fresh = not self._has("snapshot")
        snapshot = Snapshot() if fresh else self.load("snapshot").signed
        # TUF forbids a snapshot that drops a file the last one listed: a revoked city's
        # entry stays, frozen, and no kiosk is sent to it any more
        snapshot.meta["targets.json"] = MetaFile(version=targets_version)
        for role in self.delegated_roles():
            version = self.latest(role)
            if version:
                snapshot.meta[f"{role}.json"] = MetaFile(version=version)
        snapshot.version += 0 if fresh else 1
        snapshot.expires = _expires("snapshot")
        self._write(Metadata(snapshot), self.keys.signers("snapshot"),
                    f"{snapshot.version}.snapshot.json")
        self._timestamp(snapshot.version)

    def _timestamp(self, snapshot_version: int) -> None:
        fresh = not self._has("timestamp")
        timestamp = Timestamp() if fresh else self.load("timestamp").signed
        data = (self.metadata_dir / f"{snapshot_version}.snapshot.json").read_bytes()
        timestamp.snapshot_meta = MetaFile(
            version=snapshot_version, length=len(data),
            hashes={"sha256": hashlib.sha256(data).hexdigest()})
        timestamp.version += 0 if fresh else 1
        timestamp.expires = _expires("timestamp")
        self._write(Metadata(timestamp), self.keys.signers("timestamp"), "timestamp.json")

    # --- reading -----------------------------------------------------------------------
    def load(self, role: str) -> Metadata:  # type: ignore[type-arg]
        if role == "timestamp":
            return Metadata.from_file(str(self.metadata_dir / "timestamp.json"))
        versions = self._versions(role)
        if not versions:
            raise FleetError(f"配置库中没有 {role} 元数据", f"no {role} metadata in "
                             f"{self.metadata_dir}", code="no_repository")
        return Metadata.from_file(str(self.metadata_dir / f"{versions[-1]}.{role}.json"))

    def _versions(self, role: str) -> list[int]:
        return sorted(int(p.name.split(".")[0])
                      for p in self.metadata_dir.glob(f"*.{role}.json"))

    def latest(self, role: str) -> int | None:
        """The newest version of ``role``'s metadata in the folder (None: none)."""
        versions = self._versions(role)
        return versions[-1] if versions else None

    def delegated_roles(self) -> dict[str, DelegatedRole]:
        if not self._has("targets"):
            return {}
        delegations = self.load("targets").signed.delegations
        return dict(delegations.roles or {}) if delegations else {}

    def _has(self, role: str) -> bool:
        name = "timestamp.json" if role == "timestamp" else f"*.{role}.json"
        return any(self.metadata_dir.glob(name))

    def bundle_version(self) -> int:
        """The highest configuration version the repository lists or announced (0: none
        yet). Province and cities number from this one counter, so a kiosk handed between
        them never goes back. A city's own claim is not read: only its listed entries."""
        if not self._has("targets"):
            return 0
        top = self.load("targets").signed
        found = [_bundle_version(top)]
        for role in ("targets", *self.delegated_roles()):
            if self._versions(role):
                # bundles only: the region directory's targets count their own versions
                found += [int(i.custom.get("version", 0))
                          for path, i in self.load(role).signed.targets.items()
                          if path.startswith("kiosks/")]
        return max(found)

    def listed(self) -> dict[str, int]:
        """kiosk id → the bundle version listed for it (by the province or its city)."""
        found: dict[str, int] = {}
        delegations = self.delegated_roles()
        for role in ("targets", *delegations):
            if self._versions(role):
                delegated = delegations.get(role)
                for path, info in self.load(role).signed.targets.items():
                    if not path.startswith("kiosks/"):
                        continue                # the region directory's own targets
                    if delegated is None or delegated.is_delegated_path(path):
                        found[path.split("/")[1]] = int(info.custom.get("version", 0))
        return found

    def _write(self, md: Metadata, signers: list[CryptoSigner], name: str) -> None:  # type: ignore[type-arg]
        for signer in signers:
            md.sign(signer, append=True)
        self.metadata_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.metadata_dir / name, md.to_bytes(_JSON))


def _bundle_version(targets: Targets) -> int:
    custom = targets.unrecognized_fields.get("custom", {})
    return int(str(custom.get("bundle_version", 0)))


def _delegated_to(targets: Targets, path: str) -> str | None:
    """The delegated role trusted for ``path``, if the province gave it away."""
    roles = targets.delegations.roles if targets.delegations else None
    return next((name for name, role in (roles or {}).items()
                 if role.is_delegated_path(path)), None)
