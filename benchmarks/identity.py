"""Identity-reader benchmarks, JSON out.

    .venv/bin/python benchmarks/identity.py [--reads N]

- ga467_read: one complete read (find, select, text + photo, appended address) of a resident
  card through pyserial on a pty, against the module emulator pacing every frame at 115200
  baud — vs the wire-time bound of the same frames (ten bits a byte). The ratio is what our
  software adds on top of the line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers.identity.emulated import load_identities  # noqa: E402
from drivers.identity.ga467.emulator import Ga467Module, PtyModule  # noqa: E402
from drivers.identity.ga467.reader import Ga467Reader  # noqa: E402

BAUD = 115200
CARDS = load_identities(ROOT / "assets" / "demo" / "identities.toml")


def bench_ga467(reads: int) -> dict[str, float]:
    module = Ga467Module(baudrate=BAUD)
    line = PtyModule(module)
    reader = Ga467Reader(line.port, baudrate=BAUD, poll_s=3600)   # no polling in between
    reader.open()
    times, bounds = [], []
    try:
        for _ in range(reads + 1):
            module.present(CARDS["resident"])
            before = module.bytes_in + module.bytes_out
            start = time.perf_counter()
            reader.read(5.0)
            elapsed = time.perf_counter() - start
            wire_bytes = module.bytes_in + module.bytes_out - before
            times.append(elapsed)
            bounds.append(wire_bytes * 10 / BAUD)
    finally:
        reader.close()
        line.close()
    read_s, bound_s = statistics.median(times[1:]), statistics.median(bounds[1:])
    return {"read_ms": round(read_s * 1000, 1), "wire_bound_ms": round(bound_s * 1000, 1),
            "overhead_ms": round((read_s - bound_s) * 1000, 1),
            "ratio": round(read_s / bound_s, 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps({"ga467_read": bench_ga467(args.reads)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
