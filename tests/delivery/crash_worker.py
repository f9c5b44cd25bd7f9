"""The process the crash test kills: what the kiosk does around a commit, on the real outbox,
sealing and tus uploader, in a loop. Run as a script (not collected by pytest).

    crash_worker.py ROOT SERVER_URL [--drain]

At start it recovers exactly as the kiosk does (orphans removed, owed receipts "printed").
Then it commits packages to two regions and "prints" each receipt — an fsynced line in
ROOT/receipts.log, the test's stand-in for paper — while the uploader runs on its thread.
``--drain`` commits nothing: it recovers, delivers everything, and exits 0.
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.delivery.commit import seal_into_outbox
from kiosk.delivery.keys import DeviceKeys, generate, write_private, write_public
from kiosk.delivery.outbox import Outbox, PackageMeta, State
from kiosk.delivery.routing import Routing
from kiosk.delivery.suites import Role
from kiosk.delivery.uploader import Pacing, Sender, Uploader
from kiosk.settings import Delivery, Route

SUITE = "x25519-chacha20"
REGIONS = ("500103", "510107")
KIOSK = "510802-0001"


def region_keys(root: Path) -> dict[str, Path]:
    """Made once by the test before the first worker (not racing the kills)."""
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


def main(root: Path, url: str, drain: bool) -> int:
    outbox = Outbox(root / "outbox")
    outbox.recover()
    for entry in outbox.owed_receipts():          # the kiosk's 补打 at start-up
        print_receipt(root, entry.package_id, reprint=True)
        outbox.receipt_printed(entry.package_id)
    routes = {r: Route(transport="tus", endpoint=url, key=k)
              for r, k in region_keys(root).items()}
    delivery = Delivery(suite=SUITE, routes=routes, chunk_kib=64, connect_timeout_s=2,
                        read_timeout_s=5, retry_min_s=0.05, retry_max_s=0.5)
    routing = Routing(delivery, root)
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
    signer = DeviceKeys(root / "keys", KIOSK).signer(SUITE)
    recipients = [routing.recipient(r) for r in REGIONS]
    rng = random.Random()
    while True:
        package_id = str(uuid.uuid4())
        meta = PackageMeta(package_id, f"case-{package_id[:8]}", "GA-HJZM-001", SUITE,
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
