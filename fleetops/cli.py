"""``kiosk fleet …``: the operator's commands (init, build, diff, publish, delegate,
timestamp, rotate-key, status, command); a city's own ``init --city`` and
``publish --as-city`` (fleetops/delegation.py); the hall console's ``calls list`` and
``calls ack`` (fleetops/calls.py); the hall's staff roster (fleetops/staff.py); the signed
region directory (fleetops/directory.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fleetops import calls, directory, staff
from fleetops.delegation import (
    delegate,
    new_city_key,
    read_public_key,
    revoke,
    role_name,
)
from fleetops.layers import KioskEntry, Tree
from fleetops.operator import Workspace, diff
from fleetops.repo import KeyStore, Repository
from kiosk.entry import BilingualArgumentParser, run_program
from kiosk.fleet.errors import FleetError


def main(argv: list[str] | None = None) -> int:
    # the published repository is for a web server to read: files keep the caller's umask
    return run_program(_parser(), argv, owner_only_files=False)


def _parser() -> argparse.ArgumentParser:
    parser = BilingualArgumentParser(
        prog="kiosk-fleet", description="tongban-kiosk 终端群配置 / the fleet operator's tools")
    fleet = parser.add_subparsers(required=True)

    def command(name: str, help_text: str, func: Any, *, select: bool = False) -> Any:
        p = fleet.add_parser(name, help=help_text)
        p.add_argument("--tree", type=Path, default=Path("."), help="the operator's tree")
        p.add_argument("--repo", type=Path, help="repository folder (default: <tree>/public)")
        p.add_argument("--root-keys", type=Path, help="the offline root key folder")
        p.add_argument("--uploads", type=Path, help="delegated cities' upload folders "
                       "(default: <tree>/uploads)")
        if select:
            for flag in ("kiosk", "hall", "city", "tag"):
                p.add_argument(f"--{flag}", action="append", default=[])
        p.set_defaults(func=func)
        return p

    init = command("init", "keys and root metadata (--city: a delegated city's key)", _init)
    init.add_argument("--city", metavar="CODE", dest="own_city",
                      help="make this city's signing key instead of a repository")
    command("build", "compose and validate bundles (dry run: nothing signed)", _build,
            select=True)
    command("diff", "what would change, per kiosk", _diff, select=True)
    pub = command("publish", "sign and publish bundles", _publish, select=True)
    pub.add_argument("--broker", help="also announce on MQTT (mqtt://host:port)")
    pub.add_argument("--as-city", metavar="CODE",
                     help="sign as this delegated city (its kiosks only)")
    dlg = command("delegate", "let a city sign its own kiosks (or --revoke)", _delegate)
    dlg.add_argument("delegated_city", metavar="CODE")
    how = dlg.add_mutually_exclusive_group(required=True)
    how.add_argument("--key", type=Path, help="the city's city-CODE.pub.json")
    how.add_argument("--revoke", action="store_true")
    command("timestamp", "re-sign timestamp (the timer job)", _timestamp)
    rot = command("rotate-key", "replace a role's key", _rotate)
    rot.add_argument("role", choices=["root", "targets", "snapshot", "timestamp", "command"])
    st = command("status", "kiosks' retained status from the broker", _status)
    st.add_argument("--broker", required=True)
    st.add_argument("--json", action="store_true")
    st.add_argument("--wait", type=float, default=2.0)
    cmd = command("command", "send a signed command and wait for the ack", _command)
    cmd.add_argument("--broker", required=True)
    cmd.add_argument("--to", required=True, metavar="KIOSK")
    cmd.add_argument("name", choices=["refresh_config", "maintenance_on", "maintenance_off",
                                      "upload_diagnostics", "staff_open"])
    cmd.add_argument("--staff", metavar="ID", help="staff_open: whose emergency opening")
    cmd.add_argument("--wait", type=float, default=10.0)
    calls.add_parser(fleet)
    staff.add_parser(fleet)                 # kiosk-fleet staff add|change|revoke|list
    directory.add_parser(fleet)             # kiosk-fleet directory build|publish|revoke
    return parser


def workspace(args: argparse.Namespace) -> Workspace:
    tree = Tree.load(args.tree)
    repo_dir = args.repo or args.tree / "public"
    keys = KeyStore(args.tree / ".fleet" / "keys", args.root_keys)
    return Workspace(tree, Repository(repo_dir, keys, args.uploads or args.tree / "uploads"))


def _selected(ws: Workspace, args: argparse.Namespace) -> list[KioskEntry]:
    chosen = ws.tree.inventory.select(kiosks=tuple(args.kiosk), halls=tuple(args.hall),
                                      cities=tuple(args.city), tags=tuple(args.tag))
    if not chosen:
        raise FleetError("没有符合条件的终端", "no kiosk matches the selection", code="empty")
    return chosen


def _init(args: argparse.Namespace) -> int:
    ws = workspace(args)
    if args.own_city:
        _city_kiosks(ws, args.own_city)
        public = new_city_key(ws.repo.keys, args.own_city)
        print(f"OK: {role_name(args.own_city)} 签名密钥 / signing key made; "
              f"把 {public} 交给省级 / give {public} to the province "
              f"(kiosk fleet delegate {args.own_city} --key …)")
        return 0
    root = ws.repo.init()
    print(f"OK: {ws.repo.folder}: 根元数据 / root metadata {root}\n"
          f"把它复制到每台终端的 fleet.root / copy it to each kiosk as fleet.root; "
          f"move {ws.repo.keys.role_dir('root')} offline.")
    return 0


def _build(args: argparse.Namespace) -> int:
    ws = workspace(args)
    version = ws.repo.bundle_version() + 1
    for target in _selected(ws, args):
        bundle = ws.build(target, version)
        print(f"OK: {target.id} v{version}: {', '.join(bundle.layers)}; "
              f"{len(bundle.files)} files, {len(bundle.to_bytes())} bytes")
    return 0


def _diff(args: argparse.Namespace) -> int:
    ws = workspace(args)
    version = ws.repo.bundle_version() + 1
    for target in _selected(ws, args):
        old, new = ws.published(target.id), ws.build(target, version)
        lines = diff(old, new)
        print(f"== {target.id} ({target.hall}): "
              f"{'无变化 / unchanged' if not lines else f'{len(lines)} lines'}")
        for line in lines:
            print(line)
    return 0


def _publish(args: argparse.Namespace) -> int:
    ws = workspace(args)
    version = ws.repo.bundle_version() + 1
    everything = not (args.kiosk or args.hall or args.city or args.tag)
    chosen = (_city_kiosks(ws, args.as_city) if args.as_city and everything
              else _selected(ws, args))
    if args.as_city:
        outside = [t.id for t in chosen if t.city != args.as_city]
        if outside:
            raise FleetError(f"不属于 {args.as_city} 的终端：{', '.join(outside)}",
                             f"not kiosks of {args.as_city}: {', '.join(outside)}",
                             code="not_delegated")
        role = role_name(args.as_city)
        serial = ws.repo.publish_delegated(role, [ws.build(t, version) for t in chosen],
                                           version=version)
        print(f"OK: v{version} signed as {role} into {ws.repo.uploads / role} "
              f"({serial}.{role}.json, {len(chosen)} kiosks); copy that folder to the "
              f"province's upload area: live after its next `kiosk fleet timestamp`")
        return 0
    delegated = ws.repo.delegated([t.id for t in chosen])
    own = [t for t in chosen if t.id not in delegated]
    for kiosk_id, role in delegated.items():
        print(f"跳过 / skipped {kiosk_id}: {role} signs it")
    if not own:
        raise FleetError("所选终端都由市级签名", "every selected kiosk is delegated to its "
                         "city", code="delegated")
    ws.repo.publish([ws.build(t, version) for t in own], version=version)
    print(f"OK: v{version} published for {len(own)} kiosks to {ws.repo.folder}")
    if args.broker:
        from fleetops.console import announce
        announce(args.broker, ws.tree.inventory.fleet.name, version)
        print(f"OK: announced v{version} on {args.broker}")
    return 0


def _delegate(args: argparse.Namespace) -> int:
    ws = workspace(args)
    city = args.delegated_city
    kiosks = _city_kiosks(ws, city)
    if args.revoke:
        version = ws.repo.bundle_version() + 1
        revoke(ws.repo, city, [ws.build(t, version) for t in kiosks])
        print(f"OK: {role_name(city)} revoked; v{version} signed by the province for "
              f"{len(kiosks)} kiosks")
        return 0
    delegate(ws.repo, city, read_public_key(args.key), [t.id for t in kiosks])
    print(f"OK: {len(kiosks)} kiosks of {city} delegated to {role_name(city)}")
    return 0


def _city_kiosks(ws: Workspace, city: str) -> list[KioskEntry]:
    kiosks = ws.tree.inventory.select(cities=(city,))
    if not kiosks:
        raise FleetError(f"清单中没有 {city} 的终端", f"no kiosk of {city} in the inventory",
                         code="empty")
    return kiosks


def _timestamp(args: argparse.Namespace) -> int:
    ws = workspace(args)
    print(f"OK: timestamp v{ws.repo.refresh_timestamp()}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    ws = workspace(args)
    keyid = ws.repo.rotate_key(args.role)
    note = (" — rebuild and publish the bundles: they carry the command keys"
            if args.role == "command" else "")
    print(f"OK: {args.role} key is now {keyid[:16]}…{note}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from fleetops.console import collect_status

    ws = workspace(args)
    rows = collect_status(args.broker, ws.tree.inventory.fleet.name, args.wait)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for kiosk_id in sorted(rows):
        s = rows[kiosk_id]
        if not s.get("online"):
            print(f"{kiosk_id}  离线 / offline")
            continue
        paper = s.get("devices", {}).get("receipt_printer", {}).get("consumables", {})
        print(f"{kiosk_id}  v{s['config'].get('version')}  {s['state']}"
              f"{'(' + s['reason'] + ')' if s.get('reason') else ''}  "
              f"paper={paper.get('paper', '-')}  outbox={s['outbox']['depth']}  "
              f"disk={s['disk_free_mb']}MB{_call_column(s.get('call'))}")
    return 0


def _call_column(call: Any) -> str:
    """The open staff call, if any: ``呼叫/call=ID:STATE@STEP`` (see ``kiosk-fleet calls``)."""
    if not isinstance(call, dict):
        return ""
    return f"  呼叫/call={call.get('id')}:{call.get('state')}@{call.get('step')}"


def _command(args: argparse.Namespace) -> int:
    from fleetops.console import send_command

    ws = workspace(args)
    ack = send_command(args.broker, ws.tree.inventory.fleet.name, args.to, args.name,
                       ws.command_keys()[0], args.wait, staff=args.staff)
    print(json.dumps(ack, ensure_ascii=False))
    return 0 if ack.get("ok") else 1

