"""``kiosk-region publish`` (status events to the kiosks' MQTT topics, marked sent on
PUBACK) and ``kiosk-region feed`` (the same events as an HTTP(S) pull feed)."""

from __future__ import annotations

import argparse
import re
import threading
from datetime import datetime
from pathlib import Path

from intake.brokerauth import BrokerAuth, broker_address
from intake.db import connect
from intake.feed import FeedServer, serve_until_signalled
from intake.feedauth import TokenFile, issue
from intake.publisher import Publisher
from kiosk.casestatus.wire import status_root
from kiosk.entry import BilingualArgumentParser
from kiosk.errors import KioskError
from kiosk.transfer.keys import load
from kiosk.transfer.suites import Role

_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.:-]{1,253}|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})")
_FLEET = re.compile(r"[A-Za-z0-9_-]{1,32}")     # one topic level: no '/', '+' or '#'


def add_parsers(reg: argparse._SubParsersAction[BilingualArgumentParser]) -> None:
    pub = reg.add_parser("publish", help="send unsent status events over MQTT 5 (QoS 1)")
    pub.add_argument("--db", type=Path, required=True)
    pub.add_argument("--broker", required=True, metavar="[mqtt(s)://]HOST:PORT",
                     help="mqtts:// for TLS (the broker checked against --ca-file)")
    pub.add_argument("--username", default="", help="the region's broker user name")
    pub.add_argument("--password-file", type=Path,
                     help="a file holding its password (never on the command line)")
    pub.add_argument("--ca-file", type=Path, help="mqtts: the broker's CA (PEM; default: "
                     "the system's)")
    pub.add_argument("--cert-file", type=Path, help="mqtts: client certificate (mutual TLS)")
    pub.add_argument("--key-file", type=Path, help="mqtts: its private key")
    pub.add_argument("--fleet", required=True,
                     help="the receiving kiosks' fleet name: events go to its case-status topics")
    pub.add_argument("--client-id", help="MQTT client id (default: region-publisher-<pid>)")
    pub.add_argument("--once", action="store_true",
                     help="send what is unsent, wait for every PUBACK, and stop")
    pub.add_argument("--timeout", type=float, default=60.0,
                     help="with --once: give up after this many seconds (exit 2)")
    pub.set_defaults(func=_publish)
    feed = reg.add_parser("feed", help="serve each kiosk's status events as a pull feed")
    feed.add_argument("--db", type=Path, required=True)
    feed.add_argument("--listen", required=True, metavar="HOST:PORT")
    feed.add_argument("--cert", type=Path, help="TLS certificate chain (PEM)")
    feed.add_argument("--key", type=Path, help="its private key (PEM)")
    feed.add_argument("--kiosks", type=Path,
                      help="registered kiosk keys: these kiosks get an empty feed, not 404")
    who = feed.add_mutually_exclusive_group()
    who.add_argument("--tokens", type=Path, help="the kiosks' feed tokens (feed-token): each "
                     "kiosk reads only its own feed")
    who.add_argument("--no-client-auth", action="store_true",
                     help="anyone who reaches the port reads every feed (loopback, demo)")
    feed.set_defaults(func=_feed)
    token = reg.add_parser("feed-token", help="issue a kiosk's token for the pull feed")
    token.add_argument("--tokens", type=Path, required=True,
                       help="the tokens file the feed reads (made if absent)")
    token.add_argument("--kiosk", required=True, help="the kiosk's id (NNNNNN-NNNN)")
    token.add_argument("--out", type=Path, required=True,
                       help="where the token is written (0600), for the kiosk's "
                       "[casestatus] feed_tokens")
    token.set_defaults(func=_feed_token)


def host_port(text: str, what: str) -> tuple[str, int]:
    match = _HOST_PORT.fullmatch(text)
    port = int(match["port"]) if match else -1
    if match is None or not 0 <= port <= 65535:
        raise KioskError(f"{what} 应为 主机:端口：{text[:60]!r}",
                         f"{what} must be HOST:PORT: {text[:60]!r}", code="bad_address")
    return match["host"].strip("[]"), port


def _publish(args: argparse.Namespace) -> int:
    host, port, tls = broker_address(args.broker)
    auth = BrokerAuth(args.username, args.password_file, tls, args.ca_file, args.cert_file,
                      args.key_file)
    if not _FLEET.fullmatch(args.fleet):
        raise KioskError(f"车队名应为 1–32 个字母、数字、- 或 _：{args.fleet[:60]!r}",
                         f"--fleet must be 1-32 letters, digits, - or _: {args.fleet[:60]!r}",
                         code="bad_fleet")
    conn = connect(args.db, create=False)
    client_id = args.client_id or f"region-publisher-{threading.get_native_id()}"
    publisher = Publisher(conn, host, port, status_root(args.fleet), client_id,
                          lambda: datetime.now().astimezone(), auth)
    sent = publisher.run(once=args.once, timeout=args.timeout)
    print(f"sent {sent}")
    return 0


def _known_kiosks(path: Path) -> frozenset[str]:
    files = sorted(path.glob("*.pub")) + sorted(path.glob("*.json")) if path.is_dir() \
        else [path]
    return frozenset(k.owner for k in map(load, files) if k.role is Role.SIGN)


def _feed(args: argparse.Namespace) -> int:
    host, port = host_port(args.listen, "--listen")
    if (args.cert is None) != (args.key is None):
        raise KioskError("--cert 与 --key 须同时给出", "--cert and --key go together",
                         code="bad_tls")
    connect(args.db, create=False).close()          # ours, at our schema
    known = _known_kiosks(args.kiosks) if args.kiosks else None
    if not (args.tokens or args.no_client_auth):
        raise KioskError("请用 --tokens 指定终端订阅令牌（每台终端只能读取本机的订阅），"
                         "或明确写出 --no-client-auth",
                         "Give --tokens (each kiosk reads only its own feed) or say "
                         "--no-client-auth", code="feed_auth_unset")
    tokens = TokenFile(args.tokens) if args.tokens else None
    try:
        server = FeedServer((host, port), args.db, known, tokens)
        if args.cert:
            server.use_tls(args.cert, args.key)
    except OSError as exc:      # port taken, unreadable or mismatched cert and key
        raise KioskError(f"无法在 {args.listen} 提供状态订阅：{exc}",
                         f"Cannot serve the feed on {args.listen}: {exc}",
                         code="feed_failed") from None
    serve_until_signalled(server)
    return 0


def _feed_token(args: argparse.Namespace) -> int:
    issue(args.tokens, args.kiosk, args.out)
    print(f"{args.out}: the token for {args.kiosk}; give it to that kiosk only "
          "(its previous token no longer reads the feed)")
    return 0
