"""Case numbers (受理编号) and transfer numbers (业务协同编号): check digit, shape, uniqueness."""

from __future__ import annotations

import itertools
import multiprocessing
import re
import threading
from datetime import date
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from kiosk.caseno import case_number, damm, is_valid_case_number, transfer_number
from kiosk.ledger import Ledger

KIOSK = "510802-0001"
DAY = date(2026, 11, 21)
CASE_SHAPE = re.compile(r"^\d{6}-\d{4}-\d{6}-\d{4}-\d$")
TRANSFER_SHAPE = re.compile(r"^XT\d{28}$")


def test_damm_known_values() -> None:
    assert damm("572") == 4
    assert damm("5724") == 0
    assert damm("") == 0


def test_damm_appended_check_digit_validates() -> None:
    for body in ("0", "1", "42", "510802000126112100042", "9" * 20):
        assert damm(body + str(damm(body))) == 0


def test_case_number_format() -> None:
    number = case_number(KIOSK, DAY, 42)
    assert CASE_SHAPE.fullmatch(number)
    assert number.startswith("510802-0001-261121-0042-")
    assert number == "510802-0001-261121-0042-6"
    assert is_valid_case_number(number)
    assert damm(number.replace("-", "")) == 0


def test_case_number_sequence_is_zero_padded_and_capped() -> None:
    assert case_number(KIOSK, DAY, 1).split("-")[3] == "0001"
    assert case_number(KIOSK, DAY, 9999).split("-")[3] == "9999"
    with pytest.raises(ValueError):
        case_number(KIOSK, DAY, 10000)


@pytest.mark.parametrize("text", [
    "", "510802-0001-261121-0042", "510802-0001-261121-0042-66", "51080a-0001-261121-0042-6",
    "XT5108025001032026112100010042",
])
def test_malformed_case_numbers_are_invalid(text: str) -> None:
    assert not is_valid_case_number(text)


def digit_positions(number: str) -> list[int]:
    return [i for i, c in enumerate(number) if c.isdigit()]


@pytest.mark.parametrize("sequence", [1, 42, 907, 9999])
def test_every_single_digit_error_is_detected(sequence: int) -> None:
    number = case_number(KIOSK, DAY, sequence)
    tried = 0
    for i in digit_positions(number):
        for d in "0123456789":
            if d == number[i]:
                continue
            wrong = number[:i] + d + number[i + 1:]
            assert not is_valid_case_number(wrong), wrong
            tried += 1
    assert tried == 21 * 9


@pytest.mark.parametrize("sequence", [1, 42, 907, 9999])
def test_every_adjacent_swap_is_detected(sequence: int) -> None:
    number = case_number(KIOSK, DAY, sequence)
    positions = digit_positions(number)
    swaps = 0
    for a, b in itertools.pairwise(positions):   # neighbours across a dash too
        if number[a] == number[b]:
            continue
        chars = list(number)
        chars[a], chars[b] = chars[b], chars[a]
        swapped = "".join(chars)
        assert not is_valid_case_number(swapped), swapped
        swaps += 1
    assert swaps > 0


def test_transfer_number_shape_differs_from_case_number() -> None:
    transfer = transfer_number(KIOSK, "500103", DAY, 42)
    assert transfer == "XT5108025001032026112100010042"
    assert TRANSFER_SHAPE.fullmatch(transfer)
    assert not CASE_SHAPE.fullmatch(transfer)
    assert not is_valid_case_number(transfer)
    assert transfer != case_number(KIOSK, DAY, 42)
    assert not TRANSFER_SHAPE.fullmatch(case_number(KIOSK, DAY, 42))


def test_transfer_numbers_differ_per_receiving_region() -> None:
    regions = ("500103", "110101", "440304")
    numbers = {transfer_number(KIOSK, r, DAY, 7) for r in regions}
    assert len(numbers) == len(regions)


def test_different_kiosks_never_collide() -> None:
    kiosks = ("510802-0001", "510802-0002", "510802-0010", "510812-0001", "110101-0001")
    days = (DAY, date(2026, 11, 22))
    cases: set[str] = set()
    transfers: set[str] = set()
    count = 0
    for kiosk in kiosks:
        for day in days:
            for seq in range(1, 301):
                cases.add(case_number(kiosk, day, seq))
                transfers.add(transfer_number(kiosk, "500103", day, seq))
                count += 1
    assert len(cases) == count
    assert len(transfers) == count
    assert cases.isdisjoint(transfers)


# --- uniqueness under concurrency, through the ledger's SQLite counter --------------------

PER_WORKER = 50
THREADS = 8
PROCESSES = 4
HANG_GUARD_S = 300.0   # only so a dead worker fails the test instead of hanging it; never asserted
Allocation = tuple[str, tuple[str, ...]]


def allocate_many(path: Path, start: Barrier) -> list[Allocation]:
    """PER_WORKER allocations through a ledger of its own, once every worker is ready."""
    ledger = Ledger(path)
    try:
        start.wait(HANG_GUARD_S)
        return [ledger.allocate(KIOSK, DAY, ("500103", "110101")) for _ in range(PER_WORKER)]
    finally:
        ledger.close()


def process_worker(path: Path, start: Barrier, out: Queue) -> None:
    """Runs in a spawned process (module level so it can be pickled by reference)."""
    try:
        out.put(allocate_many(path, start))
    except BaseException as exc:
        out.put(exc)
        raise


def test_numbers_are_unique_across_threads_and_processes(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    Ledger(db).close()     # create the file and tables before the race
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(THREADS + PROCESSES)   # threads and processes all begin together
    out = ctx.Queue()
    results: list[list[Allocation]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def thread_worker() -> None:
        try:
            got = allocate_many(db, start)
            with lock:
                results.append(got)
        except BaseException as exc:   # reported below: a thread's exception is otherwise lost
            with lock:
                errors.append(exc)

    processes = [ctx.Process(target=process_worker, args=(db, start, out))
                 for _ in range(PROCESSES)]
    for p in processes:
        p.start()
    threads = [threading.Thread(target=thread_worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(PROCESSES):
        got = out.get(timeout=HANG_GUARD_S)
        if isinstance(got, BaseException):
            errors.append(got)
        else:
            results.append(got)
    for p in processes:
        p.join()

    assert errors == []
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    allocated = [item for batch in results for item in batch]
    total = (THREADS + PROCESSES) * PER_WORKER
    assert len(allocated) == total == 600
    cases = [c for c, _ in allocated]
    assert len(set(cases)) == total
    assert all(is_valid_case_number(c) for c in cases)
    assert sorted(int(c.split("-")[3]) for c in cases) == list(range(1, total + 1))
    transfers = [t for _, ts in allocated for t in ts]
    assert len(set(transfers)) == 2 * total
    for number, (first, second) in allocated:
        seq = number.split("-")[3]
        assert first.endswith(seq) and second.endswith(seq)
        assert first != second
    # every worker's own numbers come out in increasing order
    for batch in results:
        seqs = [int(c.split("-")[3]) for c, _ in batch]
        assert seqs == sorted(seqs)


def test_counter_restarts_each_day_and_survives_reopening(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    ledger = Ledger(db)
    first, _ = ledger.allocate(KIOSK, DAY, ())
    ledger.close()
    ledger = Ledger(db)
    try:
        second, _ = ledger.allocate(KIOSK, DAY, ())
        other_day, _ = ledger.allocate(KIOSK, date(2026, 11, 22), ())
    finally:
        ledger.close()
    assert first == case_number(KIOSK, DAY, 1)
    assert second == case_number(KIOSK, DAY, 2)
    assert other_day == case_number(KIOSK, date(2026, 11, 22), 1)
