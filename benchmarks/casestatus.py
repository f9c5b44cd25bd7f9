"""Case status events at one kiosk: how many signed events per second it applies (parse,
key lookup, verify, checks, the event row and the ledger's 办理状态 in one durable
transaction), per suite, against bare SQLite inserts into the same kind of file (WAL, full
fsync, one commit per row) in the same run. JSON out.

    .venv/bin/python benchmarks/casestatus.py [--cases 100] [--json-out FILE.json]

Each case runs the whole story (9 events: received … archived), cases interleaved the way a
region sends them. Also reported: parse alone and verify alone per event, to show where the
time goes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import report, run_timed  # noqa: E402
from kiosk.caseno import case_number, transfer_number  # noqa: E402
from kiosk.casestatus.event import CaseState, StatusEvent, parse, sign, verify  # noqa: E402
from kiosk.casestatus.keys import DirectoryStatusKeys  # noqa: E402
from kiosk.casestatus.receiver import Outcome, Receiver  # noqa: E402
from kiosk.casestatus.store import StatusStore  # noqa: E402
from kiosk.documents.model import LedgerRow  # noqa: E402
from kiosk.ledger import Ledger, connect  # noqa: E402
from kiosk.routing.directory import RegionDirectory  # noqa: E402
from kiosk.routing.directory_format import DIRECTORY_FORMAT, SCHEMA, parse_directory  # noqa: E402
from kiosk.transfer.keys import KeyFile, generate  # noqa: E402
from kiosk.transfer.suites import SUITE_NAMES, Role  # noqa: E402

KIOSK, REGION = "371002-0001", "510802"
NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
STORY = (CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.CORRECTION_REQUIRED,
         CaseState.CORRECTION_RECEIVED, CaseState.DECIDED, CaseState.DISPATCHED,
         CaseState.ARRIVED_AT_WINDOW, CaseState.COLLECTED, CaseState.ARCHIVED)


class _Quiet:
    def alert(self, code: str, detail: dict[str, str]) -> None:
        raise AssertionError(f"unexpected alert {code}: {detail}")


def _directory(signer: KeyFile) -> RegionDirectory:
    def shown(key: KeyFile) -> dict[str, str]:
        return {"suite": key.suite, "key_id": key.key_id, "public": key.public.hex(),
                "not_before": "2026-01-01T00:00:00+08:00",
                "not_after": "2030-01-01T00:00:00+08:00"}
    entry = {"name": "广元市利州区", "transport": "directory", "endpoint": "", "phone": "",
             "departments": {"": "利州区政务服务中心"},
             "keys": [shown(generate(REGION, Role.ENCRYPT, signer.suite))],
             "status_keys": [shown(signer)]}
    raw = json.dumps({"format": DIRECTORY_FORMAT, "schema": SCHEMA, "fleet": "bench",
                      "version": 1, "issued": "2026-12-01T00:00:00+08:00",
                      "regions": {REGION: entry}, "exchanges": {}, "revoked": []}).encode()
    return RegionDirectory(parse_directory(raw), signer.suite)


def _cases(ledger_path: Path, n: int) -> list[tuple[str, str]]:
    ledger, day, out = Ledger(ledger_path), date(2026, 12, 1), []
    for seq in range(1, n + 1):
        number, transfer = case_number(KIOSK, day, seq), transfer_number(KIOSK, REGION, day, seq)
        ledger.record(LedgerRow(
            case_number=number, time=datetime(2026, 12, 1, 9) + timedelta(seconds=seq),
            department="利州区政务服务中心", matter_code="M1", matter_name="事项", count=1,
            case_type="承诺件", applicant_masked="张*", phone_masked="138****0000",
            window=KIOSK, staff="自助终端", state="已代收待流转", scope="跨省通办",
            regions="广元市利州区", transfer_numbers=transfer))
        out.append((number, transfer))
    ledger.close()
    return out


def _events(signer: KeyFile, cases: list[tuple[str, str]]) -> list[bytes]:
    return [sign(StatusEvent(region=REGION, transfer_number=transfer, case_number=case,
                             seq=step, state=state, time=NOW - timedelta(days=6, hours=-step),
                             suite=signer.suite, key_id=signer.key_id), signer.private or b"")
            for step, state in enumerate(STORY, start=1) for case, transfer in cases]


def _per_s(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def bench_suite(suite: str, n_cases: int, folder: Path) -> dict[str, Any]:
    signer = generate(REGION, Role.SIGN, suite)
    directory = _directory(signer)
    cases = _cases(folder / f"{suite}-ledger.sqlite", n_cases)
    events = _events(signer, cases)

    started = time.perf_counter()
    parsed = [parse(raw) for raw in events]
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    for event, signature in parsed:
        verify(event, signature, signer.public)
    verify_s = time.perf_counter() - started

    ledger_path = folder / f"{suite}-ledger.sqlite"
    before_s = _bare_inserts(ledger_path, len(events), "before")
    store = StatusStore(ledger_path)
    receiver = Receiver(store, DirectoryStatusKeys(lambda: directory), _Quiet(),
                        now=lambda: NOW)
    started = time.perf_counter()
    outcomes = [receiver.apply(raw).outcome for raw in events]
    apply_s = time.perf_counter() - started
    store.close()
    assert all(o is Outcome.APPLIED for o in outcomes), "every event applies"

    # into the same file, before and after the apply run (the disk's fsync cost drifts)
    inserts_s = (before_s + _bare_inserts(ledger_path, len(events), "after")) / 2
    return {"events": len(events), "event_bytes": len(events[0]),
            "parse_per_s": _per_s(len(events), parse_s),
            "verify_per_s": _per_s(len(events), verify_s),
            "apply_per_s": _per_s(len(events), apply_s),
            "apply_ms_per_event": round(apply_s / len(events) * 1000, 3),
            "bare_inserts_per_s": _per_s(len(events), inserts_s),
            "ratio_apply_to_bare_insert": round((len(events) / apply_s)
                                                / (len(events) / inserts_s), 3)}


def _bare_inserts(path: Path, count: int, table: str) -> float:
    """The same number of rows into the ledger's file (WAL, full fsync), a table of their
    own, one committed transaction per row: what durability alone costs on this disk."""
    conn = connect(path)
    conn.execute(f"CREATE TABLE bare_{table} (k TEXT, seq INTEGER, body TEXT, "
                 "PRIMARY KEY (k, seq))")
    started = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"INSERT INTO bare_{table} VALUES (?, ?, ?)",
                     (f"XT{i:024d}", i, "x" * 200))
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=100, help="cases per suite (9 events each)")
    p.add_argument("--json-out", "--out", dest="out", type=Path)
    args = p.parse_args()
    if args.cases < 1:
        p.error("--cases must be positive")
    with tempfile.TemporaryDirectory(prefix="casestatus-bench-") as folder:
        results: dict[str, Any] = {
            "machine_note": "2 shared cores; the data folder on the machine's temp disk; the "
                            "ratio to bare inserts in the same run is what carries over",
            "cases": args.cases,
            **{suite: bench_suite(suite, args.cases, Path(folder)) for suite in SUITE_NAMES}}
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)
