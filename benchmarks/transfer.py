"""Delivery: sealing and uploading packages, JSON out, each against a baseline in the same run.

    .venv/bin/python benchmarks/transfer.py [--out FILE.json] [--repeat N]

- upload: a 32 MiB sealed file to the reference tus server (@tus/server + file store) on
  loopback with the kiosk's tus client (1 MiB chunks), vs one plain HTTP PUT of the same
  bytes with httpx to a stdlib HTTP server on loopback that writes it to disk (the floor:
  one request, no protocol). Ratio = tus time ÷ PUT time.
- resume: the same upload through the chaos proxy with the connection reset at 50 %, vs
  through the proxy without the reset: time ratio, and the bytes sent again.
- seal_10_pages: build + sign + encrypt a package of 10 pages at 8 MP (3264×2448 JPEGs,
  one material PDF) into the outbox, per suite, vs writing the same package unsealed to a
  plain file (the zip and PDF work alone). Ratio = sealed ÷ unsealed.
- memory_50mb: tracemalloc peak while sealing a 50 MB package vs a 5 MB one (ratio ~1
  means memory does not grow with the package), per suite.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import report, run_timed, timed_ms  # noqa: E402
from kiosk.documents.render import images_to_pdf  # noqa: E402
from kiosk.manifest import Header, Seal  # noqa: E402
from kiosk.package import MaterialFile, write_package  # noqa: E402
from kiosk.transfer.commit import seal_into_outbox  # noqa: E402
from kiosk.transfer.envelope import Recipient, Signer  # noqa: E402
from kiosk.transfer.keys import generate  # noqa: E402
from kiosk.transfer.outbox import Outbox, PackageMeta  # noqa: E402
from kiosk.transfer.suites import SUITE_NAMES, Role, suite  # noqa: E402
from kiosk.transfer.tus import TusClient, TusOptions  # noqa: E402
from rigs.chaos import ChaosProxy  # noqa: E402
from rigs.tus_rig import TusServer  # noqa: E402

MiB = 1 << 20


class _Put(BaseHTTPRequestHandler):
    folder = Path()

    def do_PUT(self) -> None:
        left = int(self.headers["Content-Length"])
        with open(self.folder / "put.bin", "wb") as out:
            while left:
                block = self.rfile.read(min(left, 1 << 16))
                out.write(block)
                left -= len(block)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _meta(n: int) -> dict[str, str]:
    return {"package_id": f"bench-{n:04d}", "receiver": "500103", "matter": "GA-HJZM-001",
            "sender": "11510802MB1234567X"}


def upload(folder: Path, repeat: int) -> dict[str, object]:
    blob = folder / "blob.tbk"
    blob.write_bytes(os.urandom(32 * MiB))
    _Put.folder = folder
    put_server = ThreadingHTTPServer(("127.0.0.1", 0), _Put)
    threading.Thread(target=put_server.serve_forever, daemon=True).start()
    put_url = f"http://127.0.0.1:{put_server.server_address[1]}/put"
    counter = iter(range(10_000))
    with TusServer(folder / "tus") as tus, httpx.Client(timeout=60) as http:
        def tus_once() -> None:
            client = TusClient(tus.url, TusOptions(chunk_size=MiB))
            client.upload(blob, _meta(next(counter)), "", lambda url, offset: None)
            client.close()

        def put_once() -> None:
            with open(blob, "rb") as body:
                http.put(put_url, content=body).raise_for_status()

        tus_ms, put_ms = _alternate(tus_once, put_once, repeat)
        by_chunk = {}
        for kib in (256, 4096, 16384):   # per-request cost: what the chunk size trades
            def sized(kib: int = kib) -> None:
                client = TusClient(tus.url, TusOptions(chunk_size=kib * 1024))
                client.upload(blob, _meta(next(counter)), "", lambda url, offset: None)
                client.close()
            by_chunk[f"{kib}KiB"] = round(_alternate(sized, put_once, repeat)[0] / put_ms, 2)
        resume = _resume(blob, tus, counter, repeat)
    put_server.shutdown()
    size_mb = blob.stat().st_size / MiB
    return {"upload": {"bytes": blob.stat().st_size, "tus_ms": tus_ms, "put_ms": put_ms,
                       "tus_MiB_per_s": round(size_mb / tus_ms * 1000, 1),
                       "put_MiB_per_s": round(size_mb / put_ms * 1000, 1),
                       "ratio_time_tus_vs_put": round(tus_ms / put_ms, 2),
                       "ratio_by_chunk_size": by_chunk},
            "resume": resume}


def _resume(blob: Path, tus: TusServer, counter: object, repeat: int) -> dict[str, object]:
    size = blob.stat().st_size
    with ChaosProxy(("127.0.0.1", tus.port)) as proxy:
        sent: list[int] = []

        def through(cut: bool) -> None:
            if cut:
                proxy.reset_after(size // 2)
            client = TusClient(proxy.url("/files"), TusOptions(
                chunk_size=MiB, backoff_min_s=0.01, backoff_max_s=0.05))
            client.upload(blob, _meta(next(counter)), "",  # type: ignore[call-overload]
                          lambda url, offset: None)
            if cut:
                sent.append(client.stats.bytes_sent - size)
            client.close()

        cut_ms, clean_ms = _alternate(lambda: through(True), lambda: through(False), repeat)
    return {"cut_ms": cut_ms, "clean_ms": clean_ms,
            "ratio_time_cut_vs_clean": round(cut_ms / clean_ms, 3),
            "bytes_resent_max": max(sent), "chunk_bytes": MiB}


def _alternate(a: object, b: object, repeat: int) -> tuple[float, float]:
    """Median ms of ``a`` and ``b``, run in turns so drift hits both alike."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        ta += timed_ms(a, 1)  # type: ignore[arg-type]
        tb += timed_ms(b, 1)  # type: ignore[arg-type]
    return round(statistics.median(ta), 1), round(statistics.median(tb), 1)


def _page(seed: int) -> bytes:
    """An 8 MP page: text-like strokes on paper with sensor noise (JPEG q85)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (3264, 2448), (238, 236, 230))
    draw = ImageDraw.Draw(img)
    for y in range(200, 2300, 48):
        x = 200
        while x < 3000:
            w = int(rng.integers(20, 90))
            draw.rectangle((x, y, x + w, y + 26), fill=(40, 40, 48))
            x += w + int(rng.integers(10, 30))
    noisy = np.asarray(img, dtype=np.int16) + rng.integers(-6, 7, (2448, 3264, 1))
    out = io.BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(out, "JPEG", quality=85)
    return out.getvalue()


def _package_writer(pages: list[bytes], package_id: str, seal: Seal):  # type: ignore[no-untyped-def]
    pdf = images_to_pdf([(p, 3264, 2448, 300) for p in pages], title="材料")
    material = MaterialFile(1, "r1", "m1", "材料", "原件", len(pages), pdf)
    header = Header.model_validate({
        "case_number": "510802-0001-261122-0001-1", "kiosk_id": "510802-0001",
        "sender": {"org_code": "x", "department": "x", "region_code": "510802"},
        "receivers": [{"region_code": "500103", "region_name": "重庆市渝中区",
                       "department": "x", "org_code": "x", "transfer_number": "XT" + "0" * 28}],
        "matter": {"code": "GA-HJZM-001", "name": "户籍类证明开具", "mode": "全程网办",
                   "scope": "跨省通办", "case_type": "承诺件",
                   "situation": {"code": "s", "name": "s"}},
        "applicant": {"card_type": "resident", "name": "x", "id_number": "x", "phone": "x"},
        "delivery": {"method": "窗口自取"}})

    def write(out: object) -> None:
        write_package(out, package_id=package_id, header=header,  # type: ignore[arg-type]
                      materials=[material], receipt_pdf=b"%PDF-1.4", slip_pdfs={},
                      received_at=datetime(2026, 11, 22, 9, 0), deadline_hours=2, seal=seal)
    return write


def _keys(name: str) -> tuple[Signer, Recipient]:
    kiosk = generate("510802-0001", Role.SIGN, name)
    region = generate("500103", Role.ENCRYPT, name)
    assert kiosk.private is not None
    return Signer("510802-0001", suite(name), kiosk.private, kiosk.public), \
        Recipient("500103", region.public)


def seal_pages(folder: Path, repeat: int) -> dict[str, object]:
    pages = [_page(i) for i in range(10)]
    ids = iter(range(100_000))
    results: dict[str, object] = {"page_jpeg_bytes": sum(map(len, pages))}

    def plain() -> None:
        with open(folder / "plain.zip", "wb") as out:
            _package_writer(pages, "plain", {})(out)

    for name in SUITE_NAMES:
        signer, recipient = _keys(name)
        outbox = Outbox(folder / f"outbox-{name}")

        def sealed(name: str = name, signer: Signer = signer, outbox: Outbox = outbox,
                   recipient: Recipient = recipient) -> None:
            pid = str(uuid.UUID(int=next(ids), version=4))
            meta = PackageMeta(pid, "bench", "GA-HJZM-001", name,
                               datetime.now(UTC) + timedelta(hours=2))
            seal = Seal(suite=name, kiosk_id=signer.kiosk_id, key_id=signer.key_id)
            seal_into_outbox(outbox, signer, [recipient], meta,
                             _package_writer(pages, pid, seal))

        sealed_ms, plain_ms = _alternate(sealed, plain, repeat)
        results[name] = {"sealed_ms": sealed_ms, "unsealed_ms": plain_ms,
                         "ratio": round(sealed_ms / plain_ms, 2),
                         "package_bytes": (folder / "plain.zip").stat().st_size}
        outbox.close()
    return results


def memory(folder: Path) -> dict[str, object]:
    results: dict[str, object] = {}
    for name in SUITE_NAMES:
        signer, recipient = _keys(name)
        peaks = {}
        for mb in (5, 50):
            outbox = Outbox(folder / f"mem-{name}-{mb}")
            meta = PackageMeta(f"m{mb}", "bench", "GA-HJZM-001", name,
                               datetime.now(UTC) + timedelta(hours=2))
            block = os.urandom(MiB)

            def write(out: object, mb: int = mb, block: bytes = block) -> None:
                for _ in range(mb):
                    out.write(block)  # type: ignore[attr-defined]

            tracemalloc.start()
            seal_into_outbox(outbox, signer, [recipient], meta, write)
            peaks[mb] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            outbox.close()
        results[name] = {"peak_bytes_5mb": peaks[5], "peak_bytes_50mb": peaks[50],
                         "ratio_50_vs_5": round(peaks[50] / peaks[5], 2)}
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {"machine_note": "2 cores, loopback; ratios are what carries over",
                   **upload(folder, args.repeat),
                   "seal_10_pages_8mp": seal_pages(folder, args.repeat),
                   "memory": memory(folder)}
    return report(results, args.out)


if __name__ == "__main__":
    run_timed(main)
