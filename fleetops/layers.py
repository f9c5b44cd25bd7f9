"""The operator's tree: an inventory of kiosks and five layers of configuration.

```
fleet.toml                     [fleet] name, province; [[kiosks]] id, hall, city, tags
layers/defaults/               what every kiosk gets
layers/province/
layers/city/<city code>/
layers/hall/<hall id>/
layers/kiosk/<kiosk id>/
```
Each layer is a folder of the files a kiosk reads (settings.toml, catalogue.yaml, region
keys, a logo). A later layer wins: TOML and YAML files merge key by key (tables and mappings
recursively; a list of mappings that all carry ``code`` merges item by item, and
``_remove: true`` drops an item; a table naming another ``backend`` than the one below it —
a device section — replaces that one whole, because each backend has its own options); any
other file is replaced whole.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
import yaml
from pydantic import BaseModel, ConfigDict, Field

from kiosk.errors import ConfigError
from kiosk.validation import load_model

MERGED_SUFFIXES = (".toml", ".yaml", ".yml")
REMOVE = "_remove"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FleetInfo(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")   # also the MQTT topic root
    province: str = Field(pattern=r"^\d{6}$")


class KioskEntry(_Strict):
    id: str = Field(pattern=r"^\d{6}-\d{4}$")
    hall: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    city: str = Field(pattern=r"^\d{6}$")
    tags: tuple[str, ...] = ()


class Inventory(_Strict):
    fleet: FleetInfo
    kiosks: tuple[KioskEntry, ...]

    def kiosk(self, kiosk_id: str) -> KioskEntry:
        for entry in self.kiosks:
            if entry.id == kiosk_id:
                return entry
        raise ConfigError("fleet.toml", [f"没有这台终端 / no kiosk `{kiosk_id}` in the inventory"])

    def select(self, *, kiosks: tuple[str, ...] = (), halls: tuple[str, ...] = (),
               cities: tuple[str, ...] = (), tags: tuple[str, ...] = ()) -> list[KioskEntry]:
        """Kiosks matching every given filter (none given: all)."""
        for wanted in kiosks:
            self.kiosk(wanted)   # a typo in an id is an error, not an empty selection
        return [k for k in self.kiosks
                if (not kiosks or k.id in kiosks) and (not halls or k.hall in halls)
                and (not cities or k.city in cities) and (not tags or set(tags) <= set(k.tags))]


@dataclass(frozen=True)
class Tree:
    root: Path
    inventory: Inventory

    @classmethod
    def load(cls, root: Path) -> Tree:
        if not (root / "fleet.toml").is_file():
            raise ConfigError(str(root / "fleet.toml"), [
                f"{root / 'fleet.toml'}: 不是终端群目录（缺少 fleet.toml）/ not a fleet tree "
                "(no fleet.toml); see docs/fleet.md"])
        inventory = load_model(root / "fleet.toml", Inventory)
        ids = [k.id for k in inventory.kiosks]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(str(root / "fleet.toml"),
                              [f"终端编号重复 / duplicate kiosk ids: {', '.join(duplicates)}"])
        return cls(root, inventory)

    def layer_dirs(self, target: KioskEntry) -> list[tuple[str, Path]]:
        """The layers of ``target`` that exist, lowest first."""
        base = self.root / "layers"
        candidates = [("defaults", base / "defaults"), ("province", base / "province"),
                      (f"city/{target.city}", base / "city" / target.city),
                      (f"hall/{target.hall}", base / "hall" / target.hall),
                      (f"kiosk/{target.id}", base / "kiosk" / target.id)]
        return [(name, path) for name, path in candidates if path.is_dir()]

    def compose(self, target: KioskEntry) -> dict[str, bytes]:
        """The merged files of one kiosk: relative path → content."""
        merged: dict[str, Any] = {}
        raw: dict[str, bytes] = {}
        for _name, folder in self.layer_dirs(target):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                rel = path.relative_to(folder).as_posix()
                if path.suffix in MERGED_SUFFIXES:
                    merged[rel] = merge(merged.get(rel, {}), _parse(path))
                else:
                    raw[rel] = path.read_bytes()
        out = dict(raw)
        for rel, data in merged.items():
            out[rel] = _dump(rel, _strip_removed(data))
        return dict(sorted(out.items()))


def merge(lower: Any, upper: Any) -> Any:
    """``upper`` over ``lower`` (see the module docstring)."""
    if isinstance(lower, dict) and isinstance(upper, dict):
        if "backend" in lower and upper.get("backend", lower["backend"]) != lower["backend"]:
            return upper          # another backend: the lower one's options mean nothing to it
        out = dict(lower)
        for key, value in upper.items():
            out[key] = merge(lower[key], value) if key in lower else value
        return out
    if _coded(lower) and _coded(upper):
        by_code = {item["code"]: item for item in lower}
        for item in upper:
            code = item["code"]
            by_code[code] = merge(by_code[code], item) if code in by_code else item
        return list(by_code.values())
    return upper


def _coded(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(i, dict) and "code" in i for i in value))


def _strip_removed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_removed(v) for k, v in value.items() if k != REMOVE}
    if isinstance(value, list):
        return [_strip_removed(i) for i in value
                if not (isinstance(i, dict) and i.get(REMOVE) is True)]
    return value


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        return yaml.safe_load(text) or {}
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), [f"语法错误 / syntax error: {exc}"]) from None


def _dump(rel: str, data: Any) -> bytes:
    if rel.endswith(".toml"):
        return tomli_w.dumps(data).encode()
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return text.encode()

