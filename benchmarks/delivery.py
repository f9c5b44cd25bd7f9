"""Delivery on a hall's link: the kiosk's tus upload vs one plain HTTP PUT of the same bytes,
both through the chaos proxy shaped as the link (default 10 Mbit/s each way, 30 ms round
trip), in the same run. JSON out.

    .venv/bin/python benchmarks/delivery.py [--mb 30] [--mbit 10] [--rtt-ms 30]
                                            [--fixed-kib 1024,4096] [--repeat 1]

- link: tus throughput ÷ PUT throughput with the kiosk's tus options (config/default.toml:
  chunk_kib, chunk_seconds), and with fixed chunk sizes given by --fixed-kib (1024 was the
  kiosk's fixed size before issue 25). The floor is one PUT: one request, the bytes
  streamed, no protocol; tus adds OPTIONS, POST and one round trip per PATCH.
- resume: a smaller upload with the kiosk's options whose connection is reset at 60 % (then
  resumed with HEAD): bytes sent again, against the largest PATCH (the bound promised).
About a minute with the defaults: each 30 MB transfer takes ~25 s at 10 Mbit/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import report, run_timed, timed_ms  # noqa: E402
from benchmarks.transfer import _meta, _Put  # noqa: E402
from kiosk.settings import Transfer  # noqa: E402
from kiosk.transfer.tus import TusClient, TusOptions  # noqa: E402
from rigs.chaos import ChaosProxy  # noqa: E402
from rigs.tus_rig import TusServer  # noqa: E402

_DEFAULTS = Transfer()
KIOSK = TusOptions(chunk_size=_DEFAULTS.chunk_kib * 1024, chunk_seconds=_DEFAULTS.chunk_seconds)
# A line's bucket: idle time during a round trip is not made up afterwards (the proxy's
# default, a tenth of a second of burst, would hide three round trips per pause).
LINE_BURST = 16 * 1024


def _upload(proxy: ChaosProxy, tus: TusServer, blob: Path, options: TusOptions,
            n: int) -> TusClient:
    proxy.upstream = ("127.0.0.1", tus.port)
    client = TusClient(proxy.url("/files"), replace(options, backoff_min_s=0.01,
                                                    backoff_max_s=0.05))
    try:
        client.upload(blob, _meta(n), "", lambda url, offset: None)
    finally:
        client.close()
    return client


def link(folder: Path, proxy: ChaosProxy, tus: TusServer, args: argparse.Namespace,
         variants: dict[str, TusOptions]) -> dict[str, object]:
    blob = folder / "package.tbk"
    blob.write_bytes(os.urandom(args.mb * 1_000_000))
    _Put.folder = folder
    put_server = ThreadingHTTPServer(("127.0.0.1", 0), _Put)
    threading.Thread(target=put_server.serve_forever, daemon=True).start()
    counter = iter(range(10_000))

    def put() -> None:
        proxy.upstream = ("127.0.0.1", put_server.server_address[1])
        with httpx.Client(timeout=120) as http, open(blob, "rb") as body:
            http.put(proxy.url("/put"), content=body).raise_for_status()

    times: dict[str, list[float]] = {"put": [], **{name: [] for name in variants}}
    for _ in range(args.repeat):                     # in turns: drift hits all alike
        times["put"] += timed_ms(put, 1)
        for name, options in variants.items():
            times[name] += timed_ms(
                lambda o=options: _upload(proxy, tus, blob, o, next(counter)), 1)
    put_server.shutdown()
    put_server.server_close()
    mbit = {name: round(blob.stat().st_size * 8 / statistics.median(ms) / 1000, 2)
            for name, ms in times.items()}
    return {"bytes": blob.stat().st_size, "put_Mbit_per_s": mbit["put"],
            "tus_Mbit_per_s": {name: v for name, v in mbit.items() if name != "put"},
            "ratio_tus_vs_put": {name: round(v / mbit["put"], 3)
                                 for name, v in mbit.items() if name != "put"}}


def resume(folder: Path, proxy: ChaosProxy, tus: TusServer, mb: int) -> dict[str, object]:
    blob = folder / "resume.tbk"
    blob.write_bytes(os.urandom(mb * 1_000_000))
    size = blob.stat().st_size
    proxy.reset_after(size * 6 // 10)
    client = _upload(proxy, tus, blob, KIOSK, 99_999)
    return {"bytes": size, "reset_at_bytes": size * 6 // 10, "resets": proxy.resets,
            "resumed_at": client.stats.resumed_at,
            "bytes_sent_again": client.stats.bytes_sent - size,
            "largest_chunk_bytes": client.stats.largest_chunk}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mb", type=int, default=30)
    p.add_argument("--mbit", type=float, default=10.0)
    p.add_argument("--rtt-ms", type=float, default=30.0)
    p.add_argument("--fixed-kib", default="",
                   help="comma-separated fixed tus chunk sizes to compare (e.g. 1024,4096)")
    p.add_argument("--resume-mb", type=int, default=8)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    variants = {"kiosk": KIOSK, **{f"fixed_{kib}KiB": TusOptions(chunk_size=int(kib) * 1024)
                                   for kib in args.fixed_kib.split(",") if kib}}
    with tempfile.TemporaryDirectory() as tmp, TusServer(Path(tmp) / "tus") as tus, \
            ChaosProxy(("127.0.0.1", tus.port)) as proxy:
        proxy.throttle(args.mbit * 1_000_000, burst_bytes=LINE_BURST)
        proxy.delay(args.rtt_ms / 2000)
        results = {
            "shaping": {"Mbit_per_s_each_way": args.mbit, "rtt_ms": args.rtt_ms,
                        "burst_bytes": LINE_BURST},
            "kiosk_tus": {"chunk_KiB": KIOSK.chunk_size // 1024,
                          "chunk_seconds": KIOSK.chunk_seconds,
                          "max_chunk_MiB": KIOSK.max_chunk_size >> 20},
            "link": link(Path(tmp), proxy, tus, args, variants),
            "resume": resume(Path(tmp), proxy, tus, args.resume_mb),
        }
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)
