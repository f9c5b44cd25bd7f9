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
timestamp last, each by an atomic rename.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from kiosk.fleet.bundle import Bundle
from kiosk.fleet.client import target_path
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import write_atomic

ROLES = ("root", "targets", "snapshot", "timestamp")
EXPIRY = {"root": timedelta(days=365), "targets": timedelta(days=90),
          "snapshot": timedelta(days=7), "timestamp": timedelta(days=1)}
_JSON = JSONSerializer(compact=False)


def _expires(role: str, now: datetime | None = None) -> datetime:
    return ((now or datetime.now(UTC)) + EXPIRY[role]).replace(microsecond=0)


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
    def __init__(self, folder: Path, keys: KeyStore) -> None:
        self.folder = folder
        self.keys = keys
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
    def publish(self, bundles: list[Bundle], *, version: int, resign: bool = False) -> int:
        """Add or replace the listed kiosks' bundles; returns the new targets version."""
        fresh = not self._has("targets")
        targets = Targets() if fresh else self.load("targets").signed
        for bundle in bundles:
            data = bundle.to_bytes()
            path = target_path(bundle.kiosk)
            info = TargetFile.from_data(path, data, ["sha256"])
            info.unrecognized_fields["custom"] = {"version": bundle.version}
            digest = hashlib.sha256(data).hexdigest()
            name = self.targets_dir / Path(path).parent / f"{digest}.{Path(path).name}"
            name.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(name, data)
            targets.targets[path] = info
        if not bundles and not resign and not fresh:
            return targets.version
        targets.version += 0 if fresh else 1
        targets.expires = _expires("targets")
        targets.unrecognized_fields["custom"] = {"bundle_version": version}
        self._write(Metadata(targets), self.keys.signers("targets"),
                    f"{targets.version}.targets.json")
        self._snapshot_and_timestamp(targets.version)
        return targets.version

    def refresh_timestamp(self, now: datetime | None = None) -> int:
        """Re-sign timestamp (and snapshot when it expires within two days): the timer job.
        Returns the new timestamp version."""
        now = now or datetime.now(UTC)
        snapshot = self.load("snapshot").signed
        if snapshot.expires - now < timedelta(days=2):
            self._snapshot_and_timestamp(self.load("targets").signed.version)
        else:
            self._timestamp(snapshot.version)
        version: int = self.load("timestamp").signed.version
        return version

    def _snapshot_and_timestamp(self, targets_version: int) -> None:
        fresh = not self._has("snapshot")
        snapshot = Snapshot() if fresh else self.load("snapshot").signed
        snapshot.meta["targets.json"] = MetaFile(version=targets_version)
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
        versions = sorted(int(p.name.split(".")[0])
                          for p in self.metadata_dir.glob(f"*.{role}.json"))
        if not versions:
            raise FleetError(f"配置库中没有 {role} 元数据", f"no {role} metadata in "
                             f"{self.metadata_dir}", code="no_repository")
        return Metadata.from_file(str(self.metadata_dir / f"{versions[-1]}.{role}.json"))

    def _has(self, role: str) -> bool:
        name = "timestamp.json" if role == "timestamp" else f"*.{role}.json"
        return any(self.metadata_dir.glob(name))

    def bundle_version(self) -> int:
        """The last published configuration version (0: none yet)."""
        if not self._has("targets"):
            return 0
        custom = self.load("targets").signed.unrecognized_fields.get("custom", {})
        return int(str(custom.get("bundle_version", 0)))

    def listed(self) -> dict[str, int]:
        """kiosk id → the bundle version the repository lists for it."""
        targets = self.load("targets").signed
        return {path.split("/")[1]: int(info.custom.get("version", 0))
                for path, info in targets.targets.items()}

    def _write(self, md: Metadata, signers: list[CryptoSigner], name: str) -> None:  # type: ignore[type-arg]
        for signer in signers:
            md.sign(signer, append=True)
        self.metadata_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.metadata_dir / name, md.to_bytes(_JSON))
