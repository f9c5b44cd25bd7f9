"""``kiosk`` command line: the demo, catalogue and configuration checks, printing, devices,
the scanner pipeline, the outbox and keys. (The touchscreen app joins it in the ``kiosk``
console script, screens/launch.py; ``python -m kiosk`` is this alone.)"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from kiosk.catalogue import load_catalogue
from kiosk.cli import case, devices, doctor, face, maintenance, outbox, printing, route, scan, staff
from kiosk.entry import run_program
from kiosk.errors import KioskError
from kiosk.paths import DEFAULT_CATALOGUE, DEMO_SETTINGS, REPO
from kiosk.settings import Settings, load_settings
from kiosk.transfer.routing import Routing

# The touchscreen app, for `kiosk demo` without --headless: handed in by the program that
# has a screen (screens/launch.py, the `kiosk` console script). None back: no display here.
AppLauncher = Callable[[Settings, bool], "int | None"]


def main(argv: list[str] | None = None, app: AppLauncher | None = None) -> int:
    return run_program(_parser(app), argv)


def _parser(app: AppLauncher | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="tongban-kiosk 跨域通办自助终端")
    sub = p.add_subparsers(required=True)

    demo = sub.add_parser("demo", help="run the kiosk on emulated devices")
    demo.add_argument("--settings", type=Path, default=DEMO_SETTINGS)
    demo.add_argument("--headless", action="store_true", help="scripted session, no screen")
    demo.add_argument("--matter", help="matter code (see `kiosk catalogue list`)")
    demo.add_argument("--situation", help="situation code (default: the first)")
    demo.add_argument("--scenario", default="complete",
                      choices=["complete", "missing", "expired-id", "paper-out", "assisted",
                               "tracked"])
    demo.add_argument("--out", type=Path, default=REPO / "var" / "demo-run")
    demo.add_argument("--correction-case", action="store_true",
                      help="first leave a case waiting for a 补正 in the data folder (the "
                           "demo resident's), for 进度查询 → 提交补正材料")
    demo.add_argument("--identity", type=Path,
                      help="the applicant's card: one identity, as in assets/demo/identities.toml")
    route.add_choose(demo)
    demo.set_defaults(func=_demo, app=app)

    run = sub.add_parser("run", help="the kiosk app on this PC's devices (systemd runs it)")
    run.add_argument("--settings", type=Path, required=True)
    run.set_defaults(func=_run, app=app)
    maintenance.add_parser(sub)

    cat = sub.add_parser("catalogue", help="matter catalogue").add_subparsers(required=True)
    val = cat.add_parser("validate", help="check a catalogue file")
    val.add_argument("path", type=Path, nargs="?", default=DEFAULT_CATALOGUE)
    val.set_defaults(func=_catalogue_validate)
    lst = cat.add_parser("list", help="list matters")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--path", type=Path, default=DEFAULT_CATALOGUE)
    lst.set_defaults(func=_catalogue_list)

    printing.add_parser(sub)
    devices.add_parser(sub)
    scan.add_parser(sub)
    face.add_parser(sub)
    outbox.add_parsers(sub)
    staff.add_parsers(sub)         # kiosk audit verify, kiosk ledger export|show
    case.add_status(sub)           # kiosk status --case N
    doctor.add_parser(sub)
    route.add_parser(sub)          # kiosk route explain

    conf = sub.add_parser("config", help="settings").add_subparsers(required=True)
    cval = conf.add_parser("validate", help="check a settings file")
    cval.add_argument("path", type=Path, nargs="?", default=DEMO_SETTINGS)
    cval.set_defaults(func=_config_validate)
    return p


def _demo(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    if args.correction_case:
        from kiosk.demo import correction_case
        print(correction_case.told(correction_case.seed_demo(settings, args.out)))
    if not args.headless:
        code: int | None = args.app(settings, True) if args.app else None
        if code is not None:
            return code
        print("没有图形显示，改为运行无界面演示流程。/ No display: running the headless journey "
              "(set DISPLAY, or SDL_VIDEODRIVER=offscreen, and start `kiosk` to open the app).",
              file=sys.stderr)
    from kiosk.demo.citizen import Applicant, Scenario, run

    if args.scenario == "tracked":              # the case after the receipt (issue 24)
        from kiosk.demo import tracked
        return tracked.demo(settings, args.matter or _first_takeable(settings), args.out)
    if args.scenario == Scenario.ASSISTED:    # a guide signs in mid-session (issue 21)
        from kiosk.demo import assisted
        outcome = assisted.run(settings, args.matter, args.situation, args.out)
    else:
        applicant = Applicant(route.one_identity(args.identity) if args.identity
                              else "resident", route.choices(args.choose))
        matter = args.matter or _first_takeable(settings)
        outcome = run(settings, matter, args.situation, Scenario(args.scenario), args.out,
                      applicant)
    print(outcome.to_json())
    ok = outcome.outcome in ("accepted", "correction_notice", "not_at_kiosk",
                             "region_unavailable")   # refused with the guide slip printed
    expected_refusal = args.scenario in ("expired-id", "paper-out")
    return 0 if ok or expected_refusal else 1


def _run(args: argparse.Namespace) -> int:
    """The production app: the settings are checked whole before any window opens."""
    settings = load_settings(args.settings)
    code: int | None = args.app(settings, False) if args.app else None
    if code is None:
        raise KioskError("没有图形显示，无法启动自助终端界面（请在终端的图形会话中运行）",
                         "No display: the kiosk app needs the kiosk's graphical session "
                         "(DISPLAY or WAYLAND_DISPLAY)", code="no_display")
    return code


def _first_takeable(settings: Settings) -> str:
    catalogue = load_catalogue(settings.paths.catalogue)
    return next(m.code for m in catalogue.matters if m.kiosk_can_take)


def _catalogue_validate(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.path)
    situations = sum(len(m.situations) for m in catalogue.matters)
    print(f"OK: {args.path}: {len(catalogue.matters)} 个事项 / matters, "
          f"{situations} 个情形 / situations")
    return 0


def _catalogue_list(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.path)
    rows = [{"code": m.code, "name": m.name, "name_en": m.name_en, "mode": m.mode.value,
             "scope": m.scope.label, "scope_kind": m.scope.kind.value,
             "department": m.department, "kiosk_can_take": m.kiosk_can_take,
             "category": m.category,
             "handling": [{"role": p.role, "rule": p.rule.value} for p in m.handling],
             "situations": [s.code for s in m.situations]} for m in catalogue.matters]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            mark = "✓" if r["kiosk_can_take"] else "✗"
            print(f"{mark} {r['code']:<16} {r['mode']:<7} {r['scope']:<6} {r['name']}")
    return 0


def _config_validate(args: argparse.Namespace) -> int:
    settings = load_settings(args.path)
    Routing(settings.transfer, settings.paths.data_dir, str(args.path))   # the route keys
    print(f"OK: {args.path}: kiosk {settings.kiosk.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
