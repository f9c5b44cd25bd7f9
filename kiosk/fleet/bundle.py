"""One kiosk's configuration as one immutable file: a zip of the merged layer files and a
manifest (``bundle.json``) naming the fleet, the kiosk, the version and every file's sha256.

TUF already proves a bundle came from the operator unchanged; the manifest lets the kiosk also
refuse a signed bundle that was built for another kiosk or fleet, and lets a person see what a
kiosk runs without the TUF metadata beside it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.fleet.errors import FleetError

BUNDLE_FORMAT = 1
MANIFEST = "bundle.json"
SETTINGS_FILE = "settings.toml"
CATALOGUE_FILE = "catalogue.yaml"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)       # fixed zip timestamps: same files, same bytes


@dataclass(frozen=True)
class Bundle:
    fleet: str
    kiosk: str
    version: int
    created: str
    layers: tuple[str, ...]
    files: dict[str, bytes]

    def manifest(self) -> dict[str, Any]:
        return {"format": BUNDLE_FORMAT, "fleet": self.fleet, "kiosk": self.kiosk,
                "version": self.version, "created": self.created, "layers": list(self.layers),
                "files": {name: _sha256(data) for name, data in sorted(self.files.items())}}

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            entries = {MANIFEST: json.dumps(self.manifest(), ensure_ascii=False, indent=1)
                       .encode(), **self.files}
            for name, data in sorted(entries.items()):
                info = zipfile.ZipInfo(name, _EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        return out.getvalue()

    def write_to(self, folder: Path) -> None:
        """Unpack into ``folder`` (a fresh staging folder)."""
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (folder / MANIFEST).write_text(json.dumps(self.manifest(), ensure_ascii=False,
                                                  indent=1), encoding="utf-8")


def new_bundle(fleet: str, kiosk: str, version: int, layers: list[str],
               files: dict[str, bytes]) -> Bundle:
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return Bundle(fleet, kiosk, version, created, tuple(layers), dict(files))


def read_bundle(data: bytes, *, kiosk: str, fleet: str) -> Bundle:
    """Open a downloaded bundle, or raise FleetError; nothing is written."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise _bad("配置包过大", f"bundle larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if MANIFEST not in names:
                raise _bad("配置包缺少清单", "bundle has no bundle.json")
            manifest = json.loads(zf.read(MANIFEST))
            files = {n: zf.read(n) for n in names if n != MANIFEST}
    except (zipfile.BadZipFile, zlib.error, json.JSONDecodeError, UnicodeDecodeError,
            KeyError) as exc:
        raise _bad("配置包已损坏", f"bundle is not a readable zip: {exc}") from None
    bundle = _from_manifest(manifest, files)
    if bundle.fleet != fleet:
        raise FleetError(f"配置包属于其他终端群（{bundle.fleet}）",
                         f"bundle is for fleet {bundle.fleet!r}, this kiosk is in {fleet!r}",
                         code="wrong_fleet")
    if bundle.kiosk != kiosk:
        raise FleetError(f"配置包属于终端 {bundle.kiosk}，不是本机 {kiosk}",
                         f"bundle is for kiosk {bundle.kiosk}, not {kiosk}", code="wrong_kiosk")
    return bundle


def _from_manifest(manifest: Any, files: dict[str, bytes]) -> Bundle:
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise _bad("配置包格式不受支持", "unsupported bundle format "
                   f"{manifest.get('format') if isinstance(manifest, dict) else '?'}")
    listed = manifest.get("files")
    version = manifest.get("version")
    layers = manifest.get("layers", [])
    if (not isinstance(listed, dict) or not isinstance(version, int) or version < 1
            or not isinstance(layers, list)):
        raise _bad("配置包清单不完整", "bundle.json lacks files or version")
    for name in files:
        _check_name(name)
    if set(listed) != set(files):
        raise _bad("配置包文件与清单不符", "files differ from bundle.json: "
                   f"{sorted(set(listed) ^ set(files))}")
    for name, data in files.items():
        if _sha256(data) != listed[name]:
            raise FleetError("配置包文件校验失败", f"sha256 of {name} differs from bundle.json",
                             code="tampered")
    return Bundle(str(manifest.get("fleet")), str(manifest.get("kiosk")), version,
                  str(manifest.get("created", "")), tuple(str(x) for x in layers), files)


def _check_name(name: str) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or name.endswith("/"):
        raise _bad("配置包含有非法路径", f"unsafe path in bundle: {name!r}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bad(zh: str, en: str) -> FleetError:
    return FleetError(zh, en, code="not_a_bundle")
