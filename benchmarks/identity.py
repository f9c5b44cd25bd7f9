"""Identity-reader benchmarks, JSON out.

    .venv/bin/python benchmarks/identity.py [--reads N]

- ga467_read: one complete read (find, select, text + photo, appended address) of a resident
  card through pyserial on a pty, against the module emulator pacing every frame at 115200
  baud — vs the wire-time bound of the same frames (ten bits a byte). The ratio is what our
  software adds on top of the line.
- emrtd_read: a passport chip (DG2 a 22 KB JPEG) read through pyscard → pcscd →
  vsmartcard-vpcd → the chip emulator (needs root: the rig starts its own pcscd): select,
  BAC, EF.COM, DG1, DG2, EF.SOD with the hash check — our read (short EF identifiers, the
  largest response the chip allows) vs the naive read most readers do (SELECT each file,
  read its 4-byte header, then fixed 0xDF-byte chunks), in the same run on the same card.
  Both APDU count and time. The emulator answers at once, so the time ratio understates
  what fewer APDUs save on a real chip, where each costs milliseconds over the air.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from smartcard import scard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers.identity import MrzKey  # noqa: E402
from drivers.identity.emrtd import reader as pcsc  # noqa: E402
from drivers.identity.emrtd.emulator import EmrtdCard, VpcdCard, files_for  # noqa: E402
from drivers.identity.emrtd.reading import NAIVE_CHUNK, ChipSession  # noqa: E402
from drivers.identity.emrtd.rig import PcscRig  # noqa: E402
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


def bench_emrtd(reads: int) -> dict[str, dict[str, float]]:
    face = (ROOT / "assets" / "demo" / "face.jpg").read_bytes()
    key = MrzKey("EJ0000001", "880923", "330410")
    today = date.today()
    with PcscRig() as rig:
        link = VpcdCard(EmrtdCard(files_for(CARDS["passport"], face)), port=rig.port)
        link.present()
        rig.wait_for_card(present=True)
        ctx = pcsc.establish_context()       # one connection per read, driven by hand
        results: dict[str, dict[str, float]] = {}
        try:
            for label, chunk in (("naive_0xDF", NAIVE_CHUNK), ("ours", None)):
                times, apdus = [], 0
                for _ in range(reads + 1):
                    hr, card, proto = scard.SCardConnect(
                        ctx, rig.reader_names[0], scard.SCARD_SHARE_EXCLUSIVE,
                        scard.SCARD_PROTOCOL_T1)
                    if hr != scard.SCARD_S_SUCCESS:
                        raise SystemExit(f"cannot connect: {scard.SCardGetErrorMessage(hr)}")
                    _, _, _, _, atr = scard.SCardStatus(card)
                    session = ChipSession(pcsc.transmitter(card, proto), bytes(atr),
                                          chunk=chunk)
                    start = time.perf_counter()
                    session.read_identity(key, today)
                    times.append(time.perf_counter() - start)
                    apdus = session.counters.apdus
                    scard.SCardDisconnect(card, scard.SCARD_RESET_CARD)
                results[label] = {"read_ms": round(statistics.median(times[1:]) * 1000, 2),
                                  "apdus": apdus}
        finally:
            scard.SCardReleaseContext(ctx)
            link.remove()
    ours, naive = results["ours"], results["naive_0xDF"]
    results["ratio"] = {"time": round(ours["read_ms"] / naive["read_ms"], 3),
                        "apdus": round(ours["apdus"] / naive["apdus"], 3)}
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps({"ga467_read": bench_ga467(args.reads),
                      "emrtd_read": bench_emrtd(args.reads)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
