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
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.fleet.errors import FleetError
from kiosk.untrusted import (
    Limits,
    Untrusted,
    check_distinct,
    check_name,
    loads,
    open_zip,
    read_member,
)

BUNDLE_FORMAT = 1
MANIFEST = "bundle.json"
SETTINGS_FILE = "settings.toml"
CATALOGUE_FILE = "catalogue.yaml"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_MANIFEST_BYTES = 4 << 20
# unpacked: a catalogue, settings, keys and a few images; the bundle is held in memory whole
LIMITS = Limits(files=1000, total_bytes=256 << 20)
_MAX_TEXT, _MAX_LAYERS = 200, 32
_SHA256 = re.compile(r"[0-9a-f]{64}")
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
        """Unpack into ``folder`` (a fresh staging folder). Every name is checked again
        here, whoever made the bundle: a name is never a path outside ``folder``."""
        try:
            check_distinct([MANIFEST, *map(check_name, self.files)])
        except Untrusted as exc:
            raise _bad(f"配置包含有非法路径：{exc.zh}", f"bundle refused: {exc.en}") from None
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
    """Open a downloaded bundle, or raise FleetError; nothing is written. TUF proved who made
    it; its names, count and sizes are still read under :mod:`kiosk.untrusted`'s rules."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise _bad("配置包过大", f"bundle larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        manifest, files = _unzip(data)
    except Untrusted as exc:
        raise _bad(f"配置包已损坏或不合规：{exc.zh}", f"bundle refused: {exc.en}") from None
    bundle = _from_manifest(manifest, files)
    if bundle.fleet != fleet:
        raise FleetError(f"配置包属于其他终端群（{bundle.fleet}）",
                         f"bundle is for fleet {bundle.fleet!r}, this kiosk is in {fleet!r}",
                         code="wrong_fleet")
    if bundle.kiosk != kiosk:
        raise FleetError(f"配置包属于终端 {bundle.kiosk}，不是本机 {kiosk}",
                         f"bundle is for kiosk {bundle.kiosk}, not {kiosk}", code="wrong_kiosk")
    return bundle


def _unzip(data: bytes) -> tuple[Any, dict[str, bytes]]:
    """bundle.json parsed, and every other member, each read in bounded chunks."""
    with open_zip(io.BytesIO(data), LIMITS) as zf:
        members = {info.filename: info for info in zf.infolist()}
        if MANIFEST not in members:
            raise _bad("配置包缺少清单", "bundle has no bundle.json")
        manifest = loads(read_member(zf, members.pop(MANIFEST), MAX_MANIFEST_BYTES), MANIFEST)
        files = {name: read_member(zf, info, LIMITS.total_bytes)
                 for name, info in members.items()}
    return manifest, files


def _from_manifest(manifest: Any, files: dict[str, bytes]) -> Bundle:
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise _bad("配置包格式不受支持", "unsupported bundle format "
                   f"{_short(manifest.get('format')) if isinstance(manifest, dict) else '?'}")
    listed, version = manifest.get("files"), manifest.get("version")
    fleet, kiosk = manifest.get("fleet"), manifest.get("kiosk")
    created, layers = manifest.get("created", ""), manifest.get("layers", [])
    if (not isinstance(listed, dict) or type(version) is not int or version < 1
            or not (_text(fleet) and _text(kiosk) and _text(created, empty=True))
            or not isinstance(layers, list) or len(layers) > _MAX_LAYERS
            or not all(_text(layer, empty=True) for layer in layers)):
        raise _bad("配置包清单不完整", "bundle.json lacks files or version, or a field "
                   "(fleet, kiosk, created, layers) is not text")
    for name, digest in listed.items():
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise _bad("配置包清单的校验值无效", f"bundle.json: sha256 of {_short(name)} "
                       "is not 64 hex digits")
    if set(listed) != set(files):
        odd = sorted(map(str, set(listed) ^ set(files)))[:10]
        raise _bad("配置包文件与清单不符", "files differ from bundle.json: "
                   f"{', '.join(map(_short, odd))}")
    for name, data in files.items():
        if _sha256(data) != listed[name]:
            raise FleetError("配置包文件校验失败", f"sha256 of {name} differs from bundle.json",
                             code="tampered")
    assert isinstance(fleet, str) and isinstance(kiosk, str)
    return Bundle(fleet, kiosk, version, created, tuple(layers), files)


def _text(value: object, *, empty: bool = False) -> bool:
    return isinstance(value, str) and (empty or value != "") and len(value) <= _MAX_TEXT


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bad(zh: str, en: str) -> FleetError:
    return FleetError(zh, en, code="not_a_bundle")
