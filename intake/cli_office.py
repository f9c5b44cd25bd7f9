"""``kiosk-region office``: the back office web page (intake/office.py) on HOST:PORT, over
TLS with ``--cert/--key``. Listens on loopback unless told otherwise; put it behind the
department's network, never on the open internet (it has no rate limit beyond the PIN's
lock-out)."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

from intake.cli_status import host_port
from intake.db import connect
from intake.feed import serve_until_signalled
from intake.office import OfficeServer
from intake.statusout import StatusSigner
from kiosk.entry import BilingualArgumentParser
from kiosk.errors import KioskError


def add_parsers(reg: argparse._SubParsersAction[BilingualArgumentParser]) -> None:
    office = reg.add_parser("office", help="the back office web page (sign in, list, move)")
    office.add_argument("--db", type=Path, required=True)
    office.add_argument("--status-key", type=Path, required=True,
                        help="the region's status signing key (keygen --status)")
    office.add_argument("--listen", required=True, metavar="HOST:PORT")
    office.add_argument("--cert", type=Path, help="TLS certificate chain (PEM)")
    office.add_argument("--key", type=Path, help="its private key (PEM)")
    office.add_argument("--idle-minutes", type=float, default=15.0,
                        help="a session ends after this long without a request (default 15)")
    office.set_defaults(func=_office)


def _office(args: argparse.Namespace) -> int:
    host, port = host_port(args.listen, "--listen")
    if (args.cert is None) != (args.key is None):
        raise KioskError("--cert 与 --key 须同时给出", "--cert and --key go together",
                         code="bad_tls")
    if not 1 <= args.idle_minutes <= 24 * 60:
        raise KioskError("--idle-minutes 应在 1 到 1440 之间",
                         "--idle-minutes must be 1 to 1440", code="bad_idle")
    signer = StatusSigner.load(args.status_key)
    connect(args.db, create=False).close()          # ours, at our schema
    try:
        server = OfficeServer((host, port), args.db, signer,
                              timedelta(minutes=args.idle_minutes),
                              lambda: datetime.now().astimezone())
        if args.cert:
            server.use_tls(args.cert, args.key)
    except OSError as exc:      # port taken, unreadable or mismatched cert and key
        raise KioskError(f"无法在 {args.listen} 提供后台页面：{exc}",
                         f"Cannot serve the back office on {args.listen}: {exc}",
                         code="office_failed") from None
    serve_until_signalled(server)
    return 0
