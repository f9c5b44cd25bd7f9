"""Validate and migrate a staged bundle with the schemas a kiosk applies to its own files,
and derive the settings it would run.

A bundle never moves what is local: ``[fleet]`` (its trust and broker credentials),
``paths.data_dir`` and ``paths.assets`` come from the kiosk's own settings file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
import yaml

from kiosk.catalogue import load_catalogue
from kiosk.catalogue.model import CATALOGUE_SCHEMA_VERSION, Catalogue, migrate_catalogue_v1
from kiosk.errors import ConfigError
from kiosk.fleet.bundle import CATALOGUE_FILE, MANIFEST, SETTINGS_FILE
from kiosk.fleet.errors import FleetError
from kiosk.settings import SETTINGS_SCHEMA_VERSION, Settings, device_problems, migrate_v1
from kiosk.staff.errors import StaffError
from kiosk.staff.roster import ROSTER_FILE, load_roster
from kiosk.transfer.routing import Routing
from kiosk.validation import load_model

Migration = Callable[[dict[str, Any]], dict[str, Any]]
# from-version → step to the next version. When a schema changes, its step goes here, so a
# bundle built by an older operator tool still applies on a newer kiosk.
SETTINGS_MIGRATIONS: dict[int, Migration] = {1: migrate_v1}
CATALOGUE_MIGRATIONS: dict[int, Migration] = {1: migrate_catalogue_v1}   # handling parties


def effective_settings(folder: Path, local: Settings) -> Settings:
    """The settings a kiosk runs from the bundle unpacked in ``folder``, checked whole:
    settings and catalogue schemas, device backends and their options, every route's key present and
    usable. Raises FleetError (code ``invalid`` or ``newer_schema``)."""
    migrate(folder / SETTINGS_FILE, SETTINGS_SCHEMA_VERSION, SETTINGS_MIGRATIONS)
    migrate(folder / CATALOGUE_FILE, CATALOGUE_SCHEMA_VERSION, CATALOGUE_MIGRATIONS)
    try:
        bundled = load_model(folder / SETTINGS_FILE, Settings,
                             check=device_problems).resolved(folder)
        paths = bundled.paths.model_copy(update={"data_dir": local.paths.data_dir,
                                                 "assets": local.paths.assets})
        settings = _with_hall(bundled.model_copy(update={"paths": paths, "fleet": local.fleet}),
                              folder)
        if settings.kiosk.id != local.kiosk.id:
            raise FleetError(f"配置包中的终端编号 {settings.kiosk.id} 不是本机",
                             f"bundle settings name kiosk {settings.kiosk.id}, not "
                             f"{local.kiosk.id}", code="wrong_kiosk")
        check_catalogue(settings)
        _check_roster(folder)
        Routing(settings.transfer, settings.paths.data_dir, str(folder / SETTINGS_FILE))
    except ConfigError as exc:
        raise FleetError("配置包未通过校验：" + "；".join(exc.problems),
                         "bundle failed validation: " + "; ".join(exc.problems),
                         code="invalid") from None
    return settings


def _with_hall(settings: Settings, folder: Path) -> Settings:
    """``[hall] id`` from the bundle's ``hall/<id>`` layer (the operator's inventory, signed)
    when the settings leave it empty; a different one stated in the settings is refused: the
    hall's cards and topics would go to another hall (kiosk/hall, docs/hall-cards.md)."""
    try:
        layers = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("layers", [])
    except (OSError, ValueError, AttributeError):
        return settings                 # unpacked by write_to: absent only in hand-made folders
    halls = [str(layer)[5:] for layer in layers if str(layer).startswith("hall/")]
    if not halls:
        return settings
    if settings.hall.id and settings.hall.id != halls[0]:
        raise ConfigError(SETTINGS_FILE, [
            f"[hall] id = {settings.hall.id!r} 与配置包的大厅层 {halls[0]!r} 不符 / "
            f"[hall] id {settings.hall.id!r} differs from the bundle's hall layer {halls[0]!r}"])
    return settings.model_copy(update={"hall": settings.hall.model_copy(
        update={"id": halls[0]})})


def check_catalogue(settings: Settings) -> Catalogue:
    return load_catalogue(settings.paths.catalogue)


def migrate(path: Path, current: int, steps: dict[int, Migration]) -> None:
    """Bring ``path`` to schema ``current`` in place, or refuse a newer one."""
    if not path.exists():
        raise FleetError(f"配置包缺少 {path.name}", f"bundle lacks {path.name}", code="invalid")
    data = _load(path)
    version = data.get("schema_version") if isinstance(data, dict) else None
    if not isinstance(version, int):
        raise FleetError(f"{path.name} 没有 schema_version", f"{path.name}: no schema_version",
                         code="invalid")
    if version > current:
        raise FleetError(f"{path.name} 的版本 {version} 需要更新的终端软件",
                         f"{path.name} schema {version} needs a newer kiosk (this one reads "
                         f"up to {current})", code="newer_schema")
    if version == current:
        return
    while version < current:
        step = steps.get(version)
        if step is None:
            raise FleetError(f"{path.name} 的版本 {version} 无法升级",
                             f"{path.name}: no migration from schema {version}", code="invalid")
        data = step(data)
        version += 1
        data["schema_version"] = version
    _save(path, data)


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise FleetError(f"{path.name} 语法错误", f"{path.name}: syntax error: {exc}",
                         code="invalid") from None


def _save(path: Path, data: dict[str, Any]) -> None:
    if path.suffix == ".toml":
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")


def _check_roster(folder: Path) -> None:
    """A hall layer's staff roster must read (kiosk/staff/roster.py) before it is applied."""
    try:
        load_roster(folder / ROSTER_FILE)
    except StaffError as exc:
        raise ConfigError(ROSTER_FILE, [f"{exc.zh} / {exc.en}"]) from None
