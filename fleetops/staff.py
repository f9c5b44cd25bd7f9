"""``kiosk-fleet staff add|change|revoke|list``: the hall's staff roster in the operator's
tree, ``layers/hall/<hall>/staff-roster.json`` (format: kiosk/staff/roster.py). Publish as
usual afterwards (``kiosk-fleet publish --hall <hall>``): the roster rides in the signed
bundle.

The ID-card number and the PIN are read from the terminal without echo (or, piped, one per
line from standard input: number, PIN, PIN again) — never from the command line, where
``ps`` and the shell history would keep them. Only their digests are written.

The hall secret is made on the hall's first ``staff add`` in ``<tree>/.fleet/staff/<hall>.key``
(0600) and must be installed on each kiosk of the hall as ``<data_dir>/staff/hall.key``.
A revoked person stays in the roster, marked revoked: the audit log keeps naming them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date
from pathlib import Path
from typing import Any

from fleetops.layers import Tree
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import write_atomic
from kiosk.staff.errors import StaffError
from kiosk.staff.roles import parse_roles
from kiosk.staff.roster import (
    ROSTER_FILE,
    ROSTER_FORMAT,
    Roster,
    StaffRecord,
    card_digest,
    hash_pin,
    load_roster,
    new_secret,
    read_secret,
)


def add_parser(fleet: Any) -> None:
    staff = fleet.add_parser("staff", help="the hall's staff roster").add_subparsers(
        required=True)

    def command(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = staff.add_parser(name, help=help_text)
        p.add_argument("--tree", type=Path, default=Path("."), help="the operator's tree")
        p.add_argument("--hall", required=True)
        p.set_defaults(func=func)
        return p

    add = command("add", "add a staff member (ID number and PIN asked for)", _add)
    add.add_argument("--id", required=True, dest="staff_id")
    add.add_argument("--name", required=True)
    add.add_argument("--roles", required=True, help="comma-separated: guide,window,"
                     "maintainer,supervisor")
    add.add_argument("--valid-until", required=True, metavar="DATE")
    change = command("change", "change name, roles, validity, card or PIN", _change)
    change.add_argument("--id", required=True, dest="staff_id")
    change.add_argument("--name")
    change.add_argument("--roles")
    change.add_argument("--valid-until", metavar="DATE")
    change.add_argument("--new-card", action="store_true", help="ask for a new ID number")
    change.add_argument("--new-pin", action="store_true", help="ask for a new PIN")
    revoke = command("revoke", "revoke a staff member (kept, marked revoked)", _revoke)
    revoke.add_argument("--id", required=True, dest="staff_id")
    command("list", "list the roster (no digests)", _list)


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    tree = Tree.load(args.tree)
    if not tree.inventory.select(halls=(args.hall,)):
        raise FleetError(f"清单中没有大厅 {args.hall} 的终端",
                         f"no kiosk of hall {args.hall!r} in the inventory", code="empty")
    return (tree.root / "layers" / "hall" / args.hall / ROSTER_FILE,
            tree.root / ".fleet" / "staff" / f"{args.hall}.key")


def _secret(path: Path, *, make: bool) -> bytes:
    secret = read_secret(path)
    if secret is None and make and not path.exists():
        secret = new_secret()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, secret.hex().encode() + b"\n")
        path.chmod(0o600)
        print(f"新大厅密钥 / new hall key: {path} — 安装到本大厅每台终端的 "
              f"<data_dir>/staff/hall.key / install it on every kiosk of the hall as "
              "<data_dir>/staff/hall.key (0600)", file=sys.stderr)
    if secret is None:
        raise FleetError(f"大厅密钥缺失或损坏：{path}", f"hall key missing or damaged: {path}",
                         code="no_key")
    return secret


def _ask(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline(200).rstrip("\r\n")


def _ask_card(secret: bytes) -> str:
    return card_digest(secret, _ask("身份证号码 / ID-card number: "))


def _ask_pin(secret: bytes) -> Any:
    pin = _ask("PIN（6 位数字 / 6 digits）: ")
    if _ask("再输一次 / PIN again: ") != pin:
        raise StaffError("两次输入的 PIN 不一致", "the two PINs differ", code="bad_pin")
    return hash_pin(secret, pin)


def _load(path: Path, hall: str) -> Roster:
    return load_roster(path) or Roster(format=ROSTER_FORMAT, hall=hall, staff=())


def _save(path: Path, roster: Roster) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, Roster.model_validate(roster.model_dump()).to_bytes())


def _valid_until(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise StaffError("--valid-until 的日期无效（应为 YYYY-MM-DD）",
                         "--valid-until: not a date (YYYY-MM-DD)", code="bad_date") from None


def _roles(text: str) -> Any:
    try:
        return tuple(sorted(parse_roles([r.strip() for r in text.split(",") if r.strip()])))
    except ValueError as exc:
        raise StaffError("角色无效", str(exc), code="bad_roles") from None


def _record(**fields: Any) -> StaffRecord:
    try:
        return StaffRecord.model_validate(fields)
    except ValueError as exc:
        raise StaffError("工作人员信息无效", str(exc).splitlines()[0][:200],
                         code="bad_record") from None


def _add(args: argparse.Namespace) -> int:
    path, key = _paths(args)
    roster = _load(path, args.hall)
    if roster.by_id(args.staff_id):
        raise StaffError(f"工号 {args.staff_id} 已存在", f"staff id {args.staff_id} exists "
                         "(use `staff change`)", code="exists")
    roles, until = _roles(args.roles), _valid_until(args.valid_until)
    secret = _secret(key, make=True)
    record = _record(id=args.staff_id, name=args.name, roles=roles, card=_ask_card(secret),
                     pin=_ask_pin(secret), valid_until=until)
    if roster.by_card(record.card):
        raise StaffError("这张证件已在名册中", "this ID card is already on the roster",
                         code="exists")
    _save(path, roster.model_copy(update={"staff": (*roster.staff, record)}))
    print(f"OK: {args.hall}: 已添加 / added {args.staff_id}; 发布后生效 / takes effect when "
          "published")
    return 0


def _change(args: argparse.Namespace) -> int:
    path, key = _paths(args)
    roster, old = _find(path, args)
    update: dict[str, Any] = {}
    if args.name:
        update["name"] = args.name
    if args.roles:
        update["roles"] = _roles(args.roles)
    if args.valid_until:
        update["valid_until"] = _valid_until(args.valid_until)
    if args.new_card or args.new_pin:
        secret = _secret(key, make=False)
        if args.new_card:
            update["card"] = _ask_card(secret)
        if args.new_pin:
            update["pin"] = _ask_pin(secret)
    if not update:
        raise StaffError("没有要修改的内容", "nothing to change", code="nothing")
    _replace(path, roster, _record(**{**old.model_dump(), **update}))
    print(f"OK: {args.hall}: 已修改 / changed {args.staff_id} ({', '.join(sorted(update))})")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    path, _ = _paths(args)
    roster, old = _find(path, args)
    _replace(path, roster, old.model_copy(update={"revoked": True}))
    print(f"OK: {args.hall}: 已撤销 / revoked {args.staff_id}; 发布后生效 / takes effect when "
          "published")
    return 0


def _list(args: argparse.Namespace) -> int:
    path, _ = _paths(args)
    for s in _load(path, args.hall).staff:
        state = "已撤销 / revoked" if s.revoked else f"有效至 / until {s.valid_until}"
        print(f"{s.id:<12} {s.name:<8} {','.join(r.value for r in s.roles):<24} {state}")
    return 0


def _find(path: Path, args: argparse.Namespace) -> tuple[Roster, StaffRecord]:
    roster = _load(path, args.hall)
    record = roster.by_id(args.staff_id)
    if record is None:
        raise StaffError(f"名册中没有工号 {args.staff_id}",
                         f"no staff id {args.staff_id} on the roster", code="unknown")
    return roster, record


def _replace(path: Path, roster: Roster, record: StaffRecord) -> None:
    staff = tuple(record if s.id == record.id else s for s in roster.staff)
    _save(path, roster.model_copy(update={"staff": staff}))
