"""The process the crash test kills: what the kiosk does around a commit, on the real outbox,
sealing and tus uploader, in a loop. Run as a script (not collected by pytest).

    crash_worker.py ROOT SERVER_URL [--drain]

At start it recovers exactly as the kiosk does (orphans removed, cases cut short marked
受理中断, owed receipts "printed"). Then it takes cases as kiosk/service.py submits them: the
case number with its 受理中 ledger row (ROOT/ledger.sqlite) in one transaction, a pause where
the kiosk renders the receipt and slips, the row 已代收待流转, the package committed to two
regions, and the receipt "printed" — an fsynced line in ROOT/receipts.log, the test's
stand-in for paper — while the uploader runs on its thread.
``--drain`` commits nothing: it recovers, delivers everything, and exits 0 (the test's first
run, which also makes the keys, and its last).
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.documents.model import LedgerRow
from kiosk.ledger import OPEN_STATE, Ledger
from kiosk.recovery import COMMITTED_STATE, close_interrupted_cases
from kiosk.settings import Route, Transfer
from kiosk.transfer.commit import seal_into_outbox
from kiosk.transfer.keys import DeviceKeys, generate, write_private, write_public
from kiosk.transfer.outbox import Outbox, PackageMeta, State
from kiosk.transfer.routing import Routing
from kiosk.transfer.suites import Role
from kiosk.transfer.uploader import Pacing, Sender, Uploader

SUITE = "x25519-chacha20"
REGIONS = ("500103", "510107")
KIOSK = "510802-0001"


def region_keys(root: Path) -> dict[str, Path]:
    """Made by the test's first, unkilled ``--drain`` run (not racing the kills)."""
    keys = {}
    for region in REGIONS:
        pub = root / "regions" / f"{region}.pub"
        if not pub.exists():
            key = generate(region, Role.ENCRYPT, SUITE)
            write_private(pub.with_suffix(".key"), key)
            write_public(pub, key)
        keys[region] = pub
    return keys


def print_receipt(root: Path, package_id: str, reprint: bool = False) -> None:
    fd = os.open(root / "receipts.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{'R ' if reprint else ''}{package_id}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def ledger_row(case: str, transfers: tuple[str, ...], state: str, package_id: str) -> LedgerRow:
    """Shaped as kiosk.submission.ledger_row's, for a fictional applicant."""
    return LedgerRow(case, datetime.now().replace(microsecond=0), "利州区政务服务中心",
                     "GA-HJZM-001", "户籍类证明开具", 2, "承诺件", "柯*澄", "199****0417",
                     KIOSK, "自助终端", state, "跨省通办", "重庆市渝中区、成都市武侯区",
                     ",".join(transfers), package_id)


def main(root: Path, url: str, drain: bool) -> int:
    outbox = Outbox(root / "outbox")
    outbox.recover()
    ledger = Ledger(root / "ledger.sqlite")
    close_interrupted_cases(outbox, ledger, datetime.now())
    for entry in outbox.owed_receipts():          # the kiosk's 补打 at start-up
        print_receipt(root, entry.package_id, reprint=True)
        outbox.receipt_printed(entry.package_id)
    routes = {r: Route(transport="tus", endpoint=url, key=k)
              for r, k in region_keys(root).items()}
    delivery = Transfer(suite=SUITE, routes=routes, chunk_kib=64, connect_timeout_s=2,
                        read_timeout_s=5, retry_min_s=0.05, retry_max_s=0.5)
    routing = Routing(delivery, root)
    signer = DeviceKeys(root / "keys", KIOSK).signer(SUITE)   # before any kill, as above
    uploader = Uploader(outbox, routing, Sender(KIOSK, "11510802MB1234567X"),
                        Pacing(0.05, 0.5, timedelta(days=30)), on_overdue=lambda e: None)
    if drain:
        for _ in range(200):
            uploader.deliver_once()
            counts = outbox.counts()
            if counts[State.QUEUED] + counts[State.UPLOADING] == 0:
                return 0
            time.sleep(0.2)
        return 1
    uploader.run(0.05)
    recipients = [routing.recipient(r) for r in REGIONS]
    rng = random.Random()
    while True:
        package_id = str(uuid.uuid4())
        case, transfers = ledger.open_case(KIOSK, datetime.now().date(), REGIONS, (
            lambda n, t, p=package_id: ledger_row(n, t, OPEN_STATE, p)))
        time.sleep(rng.uniform(0.02, 0.25))       # the receipt and slips render meanwhile
        ledger.record(ledger_row(case, transfers, COMMITTED_STATE, package_id))
        meta = PackageMeta(package_id, case, "GA-HJZM-001", SUITE,
                           datetime.now(UTC) + timedelta(hours=2))
        size = rng.randrange(20_000, 400_000)

        def write(out: object, size: int = size) -> None:
            left = size
            while left:   # in pieces, as zipfile writes: a kill can land mid-package
                piece = os.urandom(min(left, rng.randrange(1, 65_536)))
                out.write(piece)  # type: ignore[attr-defined]
                left -= len(piece)

        seal_into_outbox(outbox, signer, recipients, meta, write)
        print_receipt(root, package_id)
        outbox.receipt_printed(package_id)
        uploader.nudge()
        time.sleep(rng.uniform(0, 0.05))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], "--drain" in sys.argv[3:]))
