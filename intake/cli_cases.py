"""``kiosk-region staff add`` and ``kiosk-region case list|show|move``: the back office's
actions on the command line (the web page, ``office``, calls the same functions). A PIN is
read from the terminal, or one line of standard input — never from the command line, where
``ps`` and the shell's history would keep it."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from intake import casework, staff
from intake.db import connect
from intake.roles import parse_role
from intake.statusout import StatusSigner
from kiosk.casestatus.event import DESTINATIONS, DETAILS, LIST_DETAILS, CaseState
from kiosk.entry import BilingualArgumentParser
from kiosk.errors import KioskError

_DETAIL_NAMES = sorted(set().union(*DETAILS.values()) - LIST_DETAILS)


def add_parsers(reg: argparse._SubParsersAction[BilingualArgumentParser]) -> None:
    people = reg.add_parser("staff", help="the department's staff who move cases on")
    people_sub = people.add_subparsers(required=True)
    add = people_sub.add_parser("add", help="add a staff member (PIN from stdin or prompt)")
    add.add_argument("--db", type=Path, required=True)
    add.add_argument("--id", dest="staff_id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", action="append", dest="roles", default=[],
                     help="intake 受理人员 | approver 审批人员 | window 窗口人员 | admin 管理员 "
                     "(repeat for several; required for a new staff member)")
    add.add_argument("--reset", action="store_true",
                     help="set a new PIN for an existing id (and its roles, when given)")
    add.set_defaults(func=_staff_add)
    case = reg.add_parser("case", help="list, show and move on the region's cases")
    sub = case.add_subparsers(required=True)
    listing = sub.add_parser("list")
    listing.add_argument("--db", type=Path, required=True)
    listing.add_argument("--state", choices=[s.value for s in CaseState])
    listing.set_defaults(func=_case_list)
    shown = sub.add_parser("show")
    shown.add_argument("ref", help="transfer number (XT…) or case number")
    shown.add_argument("--db", type=Path, required=True)
    shown.set_defaults(func=_case_show)
    _move_parser(sub)


def _move_parser(sub: argparse._SubParsersAction[BilingualArgumentParser]) -> None:
    moving = sub.add_parser("move", help="move a case on (signed in: --staff, PIN on stdin)")
    moving.add_argument("ref", help="transfer number (XT…) or case number")
    moving.add_argument("--to", required=True, choices=[s.value for s in CaseState])
    moving.add_argument("--db", type=Path, required=True)
    moving.add_argument("--status-key", type=Path, required=True)
    moving.add_argument("--staff", required=True, help="the staff member's id")
    moving.add_argument("--item", action="append", dest="items",
                        help="a 补正 item (repeat for each)")
    for name in _DETAIL_NAMES:
        choices = sorted(DESTINATIONS) if name == "destination" else None
        moving.add_argument(f"--{name.replace('_', '-')}", dest=name, choices=choices)
    moving.set_defaults(func=_case_move)


def read_pin(prompt: str = "PIN: ") -> str:
    """From the terminal without echo, else one line of stdin (bounded)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline(64).strip()


def _now() -> datetime:
    return datetime.now().astimezone()


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _staff_add(args: argparse.Namespace) -> int:
    pin = read_pin()
    if sys.stdin.isatty() and read_pin("PIN again: ") != pin:
        raise KioskError("两次输入的 PIN 不一致", "The PINs do not match", code="bad_pin")
    roles = [parse_role(text) for text in args.roles]     # before the PIN is worth hashing
    staff.add(connect(args.db), args.staff_id, args.name, pin, _now(), roles=roles,
              reset=args.reset)
    print(f"staff {args.staff_id} {'PIN reset' if args.reset else 'added'}")
    return 0


def _case_list(args: argparse.Namespace) -> int:
    state = CaseState(args.state) if args.state else None
    _print(casework.list_cases(connect(args.db, create=False), state))
    return 0


def _case_show(args: argparse.Namespace) -> int:
    _print(casework.show(connect(args.db, create=False), args.ref))
    return 0


def _case_move(args: argparse.Namespace) -> int:
    state = CaseState(args.to)
    details: dict[str, Any] = {n: getattr(args, n) for n in _DETAIL_NAMES
                               if getattr(args, n) is not None}
    if args.items:
        details["items"] = args.items
    signer = StatusSigner.load(args.status_key)
    pin = read_pin()
    conn = connect(args.db, create=False)
    _print(casework.move(conn, signer, args.staff, pin, args.ref, state, details, _now()))
    return 0
