"""``kiosk route explain --matter CODE --identity FILE [--choose ROLE=CODE ...] [--json]``:
where one applicant's application would go — each handling party's region, department,
route and key — as the kiosk resolves it (kiosk/routing/resolve.py). FILE holds one identity
in the format of assets/demo/identities.toml. Exit 0: every party routed; 1: the matter is
unavailable for this applicant (no route, no valid key); 2: a bad file or argument."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drivers.identity import Identity
from drivers.identity.emulated import load_identities
from kiosk.catalogue import load_catalogue
from kiosk.errors import KioskError
from kiosk.paths import DEMO_SETTINGS
from kiosk.routing.resolve import HandlingResolver, HandlingUnavailable, RegionNotChosen
from kiosk.routing.settings_directory import SettingsDirectory
from kiosk.settings import load_settings
from kiosk.transfer.routing import Routing

MAX_CHOICES = 8          # more parties than any matter has: the rest is a mistake
_CHOICE = re.compile(r"^([a-z][a-z_]{0,31})=([0-9]{6})$")


class RouteArgumentError(KioskError):
    code = "bad_route_argument"


def add_parser(sub: Any) -> None:
    route = sub.add_parser("route", help="handling regions and routes").add_subparsers(
        required=True)
    explain = route.add_parser("explain", help="where one applicant's application goes")
    explain.add_argument("--matter", required=True, help="matter code")
    explain.add_argument("--identity", type=Path, required=True,
                         help="one identity, as in assets/demo/identities.toml")
    add_choose(explain)
    explain.add_argument("--settings", type=Path, default=DEMO_SETTINGS)
    explain.add_argument("--json", action="store_true")
    explain.set_defaults(func=_explain)


def add_choose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--choose", action="append", default=[], metavar="ROLE=CODE",
                        help="the applicant's choice for a party, e.g. handling=510824")


def choices(items: list[str]) -> dict[str, str]:
    """``["move_in=510802"]`` → ``{"move_in": "510802"}``; a malformed or repeated one is a
    typed error."""
    if len(items) > MAX_CHOICES:
        raise RouteArgumentError(f"--choose 最多 {MAX_CHOICES} 个",
                                 f"at most {MAX_CHOICES} --choose")
    out: dict[str, str] = {}
    for item in items:
        match = _CHOICE.match(item)
        shown = item[:40] if item.isprintable() else "?"
        if match is None:
            raise RouteArgumentError(f"--choose “{shown}” 应为 角色=六位区县代码",
                                     f"--choose '{shown}' must be ROLE=six-digit-code")
        role, code = match.groups()
        if role in out:
            raise RouteArgumentError(f"--choose 重复指定了 {role}", f"--choose names {role} twice")
        out[role] = code
    return out


def one_identity(path: Path) -> Identity:
    """The single card in ``path`` (bounded, validated like the emulated reader's file)."""
    cards = load_identities(path)
    if len(cards) != 1:
        raise RouteArgumentError(f"身份文件应只含一张证件，实有 {len(cards)} 张",
                                 f"the identity file must hold one card, it holds {len(cards)}")
    return next(iter(cards.values()))


def _explain(args: argparse.Namespace) -> int:
    chosen = choices(args.choose)
    identity = one_identity(args.identity)
    settings = load_settings(args.settings)
    catalogue = load_catalogue(settings.paths.catalogue)
    try:
        matter = catalogue.matter(args.matter)
    except KeyError:
        shown = args.matter[:40] if args.matter.isprintable() else "?"
        raise RouteArgumentError(f"没有编码为 {shown} 的事项", f"No matter with code {shown}",
                                 code="unknown_matter") from None
    routing = Routing(settings.transfer, settings.paths.data_dir, str(args.settings))
    resolver = HandlingResolver(SettingsDirectory(routing, settings.transfer),
                                settings.kiosk.region_code)
    try:
        parties = resolver.resolve(matter, identity, chosen, datetime.now(UTC))
    except RegionNotChosen as exc:
        raise RouteArgumentError(f"{exc.zh}：--choose {exc.role}=区县代码",
                                 f"{exc.en}: --choose {exc.role}=CODE",
                                 code=exc.code) from None
    except HandlingUnavailable as exc:
        _print(args.json, {"matter": matter.code, "parties": [], "unavailable": {
            "role": exc.role, "region": exc.region, "reason": exc.reason, "phone": exc.phone,
            "zh": exc.zh, "en": exc.en}}, f"✗ {exc.zh} / {exc.en}")
        return 1
    lines = "\n".join(f"{p.label}（{p.role}）: {p.region} {p.region_name} → {p.department}; "
                      f"route {p.route.served_by} ({p.route.fallback}), key {p.key_id}"
                      for p in parties)
    _print(args.json, {"matter": matter.code, "parties": [p.explain() for p in parties]}, lines)
    return 0


def _print(as_json: bool, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1) if as_json else text)
