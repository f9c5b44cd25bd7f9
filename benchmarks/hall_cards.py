"""Hall case cards (kiosk/hall): what one card costs. Kiosk A has N cases that ran the whole
story (9 region events each, applied by its Receiver); its cards are built and signed; kiosk
B checks each (the kiosk signature and the 9 region events inside, with its own region
directory) and keeps it in its index. Reported: card bytes, cards built per second, cards
checked and kept per second — against bare SQLite inserts into the same kind of file (WAL,
full fsync, one commit per row) in the same run. JSON out.

    .venv/bin/python benchmarks/hall_cards.py [--cases 100] [--suite x25519-chacha20]
        [--json-out FILE.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.casestatus import (  # noqa: E402
    KIOSK,
    NOW,
    REGION,
    _bare_inserts,
    _cases,
    _directory,
    _events,
    _per_s,
    _Quiet,
)
from benchmarks.timing import report, run_timed  # noqa: E402
from kiosk.casestatus.keys import DirectoryStatusKeys  # noqa: E402
from kiosk.casestatus.receiver import Receiver  # noqa: E402
from kiosk.casestatus.store import StatusStore  # noqa: E402
from kiosk.hall.card import topic_names  # noqa: E402
from kiosk.hall.index import HallIndex  # noqa: E402
from kiosk.hall.source import CardSource  # noqa: E402
from kiosk.hall.verify import Expect, check_card  # noqa: E402
from kiosk.transfer.keys import DeviceKeys, KeyFile, Registry, generate  # noqa: E402
from kiosk.transfer.suites import SUITE_NAMES, Role  # noqa: E402

HALL, FLEET, PEER = "bench-hall", "bench", "371002-0002"


def bench(suite: str, n_cases: int, folder: Path) -> dict[str, Any]:
    region = generate(REGION, Role.SIGN, suite)
    directory = _directory(region)
    ledger_path = folder / f"{suite}-a-ledger.sqlite"
    cases = _cases(ledger_path, n_cases)
    store = StatusStore(ledger_path)
    receiver = Receiver(store, DirectoryStatusKeys(lambda: directory), _Quiet(),
                        now=lambda: NOW)
    source = CardSource(ledger_path, FLEET, HALL, KIOSK,
                        DeviceKeys(folder / f"{suite}-keys", KIOSK).signer(suite), 90)
    for raw in _events(region, cases)[:-len(cases)]:     # all but 已归档: the cards stay
        receiver.apply(raw)
    store.close()

    started = time.perf_counter()
    cards = source.pending(NOW, limit=n_cases)
    build_s = time.perf_counter() - started
    source.close()
    sizes = [len(c.payload) for c in cards]

    key = DeviceKeys(folder / f"{suite}-keys", KIOSK).key(suite)
    kiosks = Registry([KeyFile(key.owner, key.role, key.suite, key.public)])
    index = HallIndex(folder / f"{suite}-b-index.sqlite", n_cases)
    before_s = _bare_inserts(index.path, len(cards), "before")
    started = time.perf_counter()
    for card in cards:
        expect = Expect(FLEET, HALL, PEER, KIOSK, card.case_number)
        assert index.put(check_card(card.payload, expect, kiosks,
                                    DirectoryStatusKeys(lambda: directory), NOW))
    take_s = time.perf_counter() - started
    inserts_s = (before_s + _bare_inserts(index.path, len(cards), "after")) / 2
    assert index.size() == len(cards) and topic_names("x", FLEET, HALL) is None
    index.close()
    return {"cards": len(cards), "region_events_per_card": 8,
            "card_bytes_median": int(statistics.median(sizes)), "card_bytes_max": max(sizes),
            "build_per_s": _per_s(len(cards), build_s),
            "check_and_keep_per_s": _per_s(len(cards), take_s),
            "check_and_keep_ms_per_card": round(take_s / len(cards) * 1000, 3),
            "bare_inserts_per_s": _per_s(len(cards), inserts_s),
            "ratio_keep_to_bare_insert": round(inserts_s / take_s, 3)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=100)
    p.add_argument("--suite", choices=SUITE_NAMES, action="append",
                   help="default: x25519-chacha20 (sm2-sm4's pure-Python SM2 is slow)")
    p.add_argument("--json-out", "--out", dest="out", type=Path)
    args = p.parse_args()
    if args.cases < 1:
        p.error("--cases must be positive")
    with tempfile.TemporaryDirectory(prefix="hall-cards-bench-") as folder:
        results: dict[str, Any] = {
            "machine_note": "2 shared cores; temp disk; the ratio to bare inserts in the "
                            "same run is what carries over",
            "cases": args.cases,
            **{s: bench(s, args.cases, Path(folder))
               for s in (args.suite or ["x25519-chacha20"])}}
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)
