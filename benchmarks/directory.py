"""The signed region directory: reading it and looking regions up, JSON out (issue 23).

    .venv/bin/python benchmarks/directory.py [--lookups 20000] [--suite x25519-chacha20]

The directory is built as a national-scale fleet might publish it from the GB/T 2260 tree
the kiosk ships: an entry for half the provinces, four cities in five and one county in ten,
two keys each (a rotation in progress), a provincial exchange for three provinces and a
national one. Measured in one run:

- read: parse and check the whole document (what a kiosk does per new version and at start);
- lookup: ``RegionDirectory.lookup`` for counties drawn uniformly from all counties (own,
  city, province and exchange answers mixed), per call, as a ratio to a plain dictionary
  lookup of the same codes in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import report, run_timed  # noqa: E402
from kiosk.interaction.divisions import Divisions  # noqa: E402
from kiosk.routing.directory import RegionDirectory  # noqa: E402
from kiosk.routing.directory_format import DIRECTORY_FORMAT, SCHEMA, parse_directory  # noqa: E402
from kiosk.transfer.keys import generate  # noqa: E402
from kiosk.transfer.suites import Role  # noqa: E402

AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
WINDOWS = (("2026-01-01T00:00:00+08:00", "2027-01-31T00:00:00+08:00"),
           ("2026-12-01T00:00:00+08:00", "2028-12-31T00:00:00+08:00"))


def _entry(name: str, suite: str) -> dict[str, object]:
    keys = []
    for not_before, not_after in WINDOWS:
        key = generate("000000", Role.ENCRYPT, suite)
        keys.append({"suite": suite, "key_id": key.key_id, "public": key.public.hex(),
                     "not_before": not_before, "not_after": not_after})
    return {"name": name, "transport": "tus", "endpoint": "https://gw.example.cn/files",
            "phone": "0839-3260000", "departments": {"": f"{name}政务服务中心",
                                                     "hukou": f"{name}公安局户政科"},
            "keys": keys}


def build(divisions: Divisions, suite: str, rng: random.Random) -> tuple[bytes, list[str]]:
    regions, counties = {}, []
    for province in divisions.provinces():
        if rng.random() < 0.5:          # the others are served by an exchange
            regions[province.code] = _entry(province.name, suite)
        for city in divisions.children(province.code):
            below = divisions.children(city.code)
            if below and rng.random() < 0.8:
                regions[city.code] = _entry(city.name, suite)
            for county in below or [city]:
                counties.append(county.code)
                if rng.random() < 0.1:
                    regions[county.code] = _entry(county.name, suite)
    exchanges = {"national": _entry("全国一体化政务服务平台", suite),
                 "west": {**_entry("西部交换平台", suite), "provinces": ["51", "50", "52"]}}
    doc = {"format": DIRECTORY_FORMAT, "schema": SCHEMA, "fleet": "bench", "version": 1,
           "issued": AT.isoformat(), "regions": regions, "exchanges": exchanges,
           "revoked": []}
    return json.dumps(doc, ensure_ascii=False).encode(), counties


def per_call_us(fn: object, codes: list[str]) -> float:
    start = time.perf_counter()
    for code in codes:
        fn(code)  # type: ignore[operator]
    return (time.perf_counter() - start) / len(codes) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lookups", type=int, default=20000)
    parser.add_argument("--suite", default="x25519-chacha20")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rng = random.Random(7)
    raw, counties = build(Divisions(), args.suite, rng)
    reads = []
    for _ in range(3):
        start = time.perf_counter()
        parsed = parse_directory(raw)
        reads.append((time.perf_counter() - start) * 1000)
    directory = RegionDirectory(parsed, args.suite)
    codes = [rng.choice(counties) for _ in range(args.lookups)]
    answers = [directory.lookup(code, "hukou", AT) for code in codes[:2000]]
    served = {f: sum(getattr(a, "fallback", None) == f for a in answers) / len(answers)
              for f in ("own", "city", "province", "exchange")}
    plain = {code: code for code in counties}
    lookup_us = statistics.median(
        per_call_us(lambda c: directory.lookup(c, "hukou", AT), codes) for _ in range(3))
    dict_us = statistics.median(per_call_us(plain.__getitem__, codes) for _ in range(3))
    return report({
        "suite": args.suite, "entries": len(parsed.regions) + len(parsed.exchanges),
        "document_bytes": len(raw), "read_ms_median": round(statistics.median(reads), 1),
        "lookups": args.lookups, "lookup_us": round(lookup_us, 2),
        "dict_lookup_us": round(dict_us, 3), "ratio_to_dict": round(lookup_us / dict_us, 1),
        "answered_by_share": {k: round(v, 3) for k, v in served.items()},
    }, args.out)


if __name__ == "__main__":
    run_timed(main)
