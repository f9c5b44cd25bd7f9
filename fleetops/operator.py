"""The operator's build: compose each selected kiosk's layers, pin its id, add the command
keys, validate it exactly as a kiosk would, and compare it with what is published."""

from __future__ import annotations

import difflib
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from fleetops.layers import KioskEntry, Tree
from fleetops.repo import Repository
from kiosk.errors import ConfigError
from kiosk.fleet.bundle import SETTINGS_FILE, Bundle, new_bundle, read_bundle
from kiosk.fleet.check import effective_settings
from kiosk.fleet.commands import KEYS_FILE, keys_document
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import write_atomic
from kiosk.paths import ASSETS
from kiosk.settings import Settings
from kiosk.validation import load_model

COMMAND_KEYS_COPY = "command-keys.json"     # public: beside metadata/ and targets/


@dataclass(frozen=True)
class Workspace:
    """An operator's tree with its private state in ``<tree>/.fleet`` (keys; the root key
    may live elsewhere) and the repository folder it publishes to."""

    tree: Tree
    repo: Repository

    def command_keys(self) -> list[Ed25519PrivateKey]:
        folder = self.repo.keys.role_dir("command")
        keys = [load_pem_private_key(p.read_bytes(), None) for p in sorted(folder.glob("*.pem"))]
        found = [k for k in keys if isinstance(k, Ed25519PrivateKey)]
        if not found:
            raise FleetError("没有命令私钥", f"no command key in {folder}", code="no_key")
        return found

    def command_keys_document(self) -> bytes:
        """The command keys every bundle carries. The province makes them from its private
        keys and leaves a public copy beside the repository; a delegated city, which has
        no command key, builds with that copy."""
        copy = self.repo.folder / COMMAND_KEYS_COPY
        try:
            document = keys_document([k.public_key() for k in self.command_keys()])
        except FleetError:
            if not copy.is_file():
                raise FleetError("没有命令公钥（省级配置库旁的 command-keys.json）",
                                 f"no command keys: neither a private key nor {copy}",
                                 code="no_key") from None
            return copy.read_bytes()
        if not copy.is_file() or copy.read_bytes() != document:
            write_atomic(copy, document)
        return document

    def build(self, target: KioskEntry, version: int) -> Bundle:
        files = self.tree.compose(target)
        files[SETTINGS_FILE] = _pin_kiosk_id(files.get(SETTINGS_FILE), target.id)
        files[KEYS_FILE] = self.command_keys_document()
        layers = [name for name, _ in self.tree.layer_dirs(target)]
        bundle = new_bundle(self.tree.inventory.fleet.name, target.id, version, layers, files)
        validate(bundle)
        return bundle

    def published(self, kiosk_id: str) -> Bundle | None:
        """The bundle the repository lists for ``kiosk_id`` now."""
        info = self.repo.listing(kiosk_id)
        if info is None:
            return None
        digest = info.hashes["sha256"]
        path = self.repo.targets_dir / "kiosks" / kiosk_id / f"{digest}.bundle.zip"
        return read_bundle(path.read_bytes(), kiosk=kiosk_id,
                           fleet=self.tree.inventory.fleet.name)


def validate(bundle: Bundle) -> Settings:
    """The kiosk's own checks, on the operator's machine, before anything is signed."""
    with tempfile.TemporaryDirectory(prefix="fleet-check-") as tmp:
        folder = Path(tmp) / "bundle"
        folder.mkdir()
        bundle.write_to(folder)
        try:
            own = load_model(folder / SETTINGS_FILE, Settings).resolved(folder)
        except ConfigError as exc:
            raise FleetError(f"终端 {bundle.kiosk} 的配置无效：" + "；".join(exc.problems),
                             f"kiosk {bundle.kiosk}: " + "; ".join(exc.problems),
                             code="invalid") from None
        paths = own.paths.model_copy(update={"data_dir": Path(tmp) / "data",
                                             "assets": ASSETS})
        return effective_settings(folder, own.model_copy(update={"paths": paths}))


def diff(old: Bundle | None, new: Bundle) -> list[str]:
    """Unified diff of every text file that changed; binary files by name."""
    before = old.files if old else {}
    lines: list[str] = []
    for name in sorted(set(before) | set(new.files)):
        a, b = before.get(name), new.files.get(name)
        if a == b:
            continue
        if _text(a) and _text(b):
            changed = list(difflib.unified_diff(
                (a or b"").decode().splitlines(), (b or b"").decode().splitlines(),
                f"v{old.version if old else 0}/{name}", f"v{new.version}/{name}", lineterm=""))
            lines += changed or [f"空白或换行变化 / whitespace or line endings changed "
                                 f"(or empty file {'added' if a is None else 'changed'}): "
                                 f"{name}"]
        else:
            lines.append(f"二进制文件变化 / binary file changed: {name}")
    return lines


def _text(data: bytes | None) -> bool:
    if data is None:
        return True
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _pin_kiosk_id(settings: bytes | None, kiosk_id: str) -> bytes:
    """The inventory names the kiosk: its id goes into [kiosk], and a layer that says
    otherwise is a mistake."""
    if settings is None:
        raise FleetError("层中没有 settings.toml", "no layer has a settings.toml", code="invalid")
    data = tomllib.loads(settings.decode("utf-8"))
    section = data.setdefault("kiosk", {})
    if section.get("id", kiosk_id) != kiosk_id:
        raise FleetError(f"层中的终端编号 {section['id']} 与清单 {kiosk_id} 不符",
                         f"a layer sets kiosk.id {section['id']}, the inventory {kiosk_id}",
                         code="invalid")
    section["id"] = kiosk_id
    return tomli_w.dumps(data).encode()
