"""The device registry: kind → backend → (typed options model, factory).

Adding a device is one :class:`Kind` (if the kind is new) and one :class:`Backend`: settings
validation, the kiosk's composition, the CLI tools, the fleet's pre-apply check and the
heartbeat all read this table. Factories import their driver lazily (a kiosk without a PC/SC
stack never loads pyscard) and receive only typed options and a :class:`DeviceContext`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk.devices.options import Options
from kiosk.errors import ConfigError

# A problem in pydantic's error shape (type, loc, msg, input; ``known``: valid keys at loc),
# so kiosk.validation can name file, line and key for it like any schema error.
Problem = dict[str, Any]


@dataclass(frozen=True)
class DeviceContext:
    """What a factory may know of the kiosk: where its inputs and outputs live."""

    assets: Path
    data_dir: Path


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str                       # named to citizens and staff when it is down
    en: str
    default_backend: str          # used when settings leave the kind out
    managed: bool = True          # opened, polled and closed (False: a pure function)


@dataclass(frozen=True)
class Backend:
    kind: str
    name: str
    options: type[Options]
    factory: Callable[[Any, DeviceContext], Any]   # (options of `options`' type, context)


@dataclass(frozen=True)
class DeviceSpec:
    """One configured device: its kind, backend and validated options."""

    kind: Kind
    backend: Backend
    options: Options


class Registry:
    """Immutable: :meth:`extended` returns a new registry (tests add fake devices that way;
    nothing global changes)."""

    def __init__(self, kinds: Iterable[Kind], backends: Iterable[Backend]) -> None:
        self._kinds = {k.name: k for k in kinds}
        self._backends: dict[tuple[str, str], Backend] = {}
        for b in backends:
            if b.kind not in self._kinds:
                raise ValueError(f"backend {b.name} of unknown kind {b.kind}")
            self._backends[(b.kind, b.name)] = b

    def extended(self, kinds: Iterable[Kind] = (), backends: Iterable[Backend] = ()) -> Registry:
        return Registry([*self._kinds.values(), *kinds], [*self._backends.values(), *backends])

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return tuple(self._kinds.values())

    def kind(self, name: str) -> Kind:
        return self._kinds[name]

    def backends(self, kind: str) -> list[str]:
        return sorted(b for k, b in self._backends if k == kind)

    def spec(self, kind: str, backend: str, options: Mapping[str, Any]) -> DeviceSpec:
        """Validated spec, or ConfigError naming the key (settings-style lines)."""
        problems = self.problems(kind, backend, options)
        if problems:
            raise ConfigError("settings", [_plain(p) for p in problems])
        b = self._backends[(kind, backend)]
        return DeviceSpec(self._kinds[kind], b, b.options.model_validate(dict(options)))

    def build(self, spec: DeviceSpec, context: DeviceContext) -> Any:
        return spec.backend.factory(spec.options, context)

    def make(self, kind: str, backend: str, options: Mapping[str, Any],
             context: DeviceContext) -> Any:
        """One device from untyped options (the CLI tools): validated, then built."""
        return self.build(self.spec(kind, backend, options), context)

    def problems(self, kind: str, backend: str, options: Mapping[str, Any]) -> list[Problem]:
        """Everything wrong with one device's settings, located under ``devices.<kind>``."""
        if kind not in self._kinds:
            return [{"type": "extra_forbidden", "loc": ("devices", kind), "input": kind,
                     "msg": "unknown device kind", "known": sorted(self._kinds)}]
        b = self._backends.get((kind, backend))
        if b is None:
            one_of = ", ".join(self.backends(kind))
            return [{"type": "unknown_backend", "loc": ("devices", kind, "backend"),
                     "input": backend, "known": self.backends(kind),
                     "msg": f"未知的后端 / unknown backend `{backend}`; 可选 / one of: {one_of}"}]
        try:
            b.options.model_validate(dict(options))
        except ValidationError as exc:
            return [_located(err, kind, b.options) for err in exc.errors()]
        return []


def _located(err: Any, kind: str, model: type[BaseModel]) -> Problem:
    located: Problem = {**err, "loc": ("devices", kind, "options", *err["loc"])}
    if err["type"] == "extra_forbidden":
        located["known"] = sorted(model.model_fields)
    return located


def _plain(problem: Problem) -> str:
    loc = ".".join(str(p) for p in problem["loc"])
    if problem["type"] == "extra_forbidden":
        return f"{loc}: 未知的键 / unknown key `{problem['loc'][-1]}`"
    return f"{loc}: {problem['msg']}"


def load_named(spec: str) -> Any:
    """``"package.module:name"``, imported on first use: the core names device backends
    without importing their libraries (the layers contract), and unused ones cost nothing."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)
