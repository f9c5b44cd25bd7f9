"""Timing for the benchmarks: wall-clock milliseconds per call, one call at a time."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn


def timed_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed_ms(fn, repeat))


def report(results: dict[str, Any], out: Path | None) -> int:
    """A benchmark's last step: its results as JSON on stdout, and in ``out`` if given."""
    text = json.dumps(results, ensure_ascii=False, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def run_timed(main: Callable[[], int]) -> NoReturn:
    """Run a benchmark's ``main``, say on stderr how long it took, exit with its status."""
    started = time.perf_counter()
    code = main()
    print(f"# {time.perf_counter() - started:.0f} s", file=sys.stderr)
    sys.exit(code)
