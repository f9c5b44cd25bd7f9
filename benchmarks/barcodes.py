"""Barcode backends on zxing-cpp's black-box samples: accuracy and speed, JSON out.

    .venv/bin/python benchmarks/barcodes.py [--out FILE.json] [--repeat N] [--page-repeat N]
                                            [--cascade-repeat N] [--no-spoiled]

The baseline is ZBar (drivers/barcode/pyzbar_backend.py), measured in the same run on the
same images, alternating image by image with zxing-cpp (drivers/barcode/zxing_backend.py);
every ratio is zxing ÷ pyzbar.

Data: benchmarks/data/zxing-cpp-samples/ (see its SOURCE.md). A case is an image
``<stem>.{png,jpg,webp}`` with its expected text in ``<stem>.txt``; in a structured-append
folder (qrcode-7) the images ``<stem>-01..04`` are one case with ``<stem>.txt``. Images in
``falsepositives-*`` hold no barcode. Images with neither are counted as ``no_expected``.

Exact-match rule (``matched``, ``rate``): the .txt is decoded as UTF-8 and compared with
``==``, nothing stripped — zxing-cpp's own test runner compares the same way, and the 12 .txt
files that end in a newline (qrcode-3, -5, -7) belong to symbols that carry it. A case
matches if ANY symbol's ``Barcode.text`` — the backend's raw bytes through decode_payload
(UTF-8, else GB18030), exactly what the kiosk sees — equals it. A structured-append case
joins the raw bytes of the first symbol of each part, in file-name order (= sequence order
here), then applies decode_payload.

Two more counts keep that rule honest. ``bytes_matched``: a symbol's raw bytes equal the
expected text in UTF-8, GB18030, Shift-JIS or ISO-8859-1 — the symbol was read right, and
only the kiosk's charset rule (UTF-8, else GB18030: right for Chinese forms) mis-decodes it,
as it does the Shift-JIS Japanese payloads of qrcode-2. ``strip_extra``: cases that would
match only if both sides were whitespace-stripped (0 means the no-strip rule costs nothing).

Times: ``decoder.decode(file bytes)`` — image decode included — on one thread, the median
of ``--repeat`` runs per image; a folder reports the median and p95 over its images.
``page_8mp``: one QR sample pasted on a white 3264×2448 page saved as a colour JPEG (q 90),
timed from the JPEG bytes (``decode``) and from the already decoded grey array
(``decode_grey``); the difference is the shared JPEG decode, ``load_grey_ms``.

``cascade``: the default decoder, the bounded cascade of drivers/barcode/cascade.py, against
one zxing-cpp pass per folder — matched, misread, not read, time ratio; and on the same
pictures spoiled (see benchmarks/barcodes_cascade.py).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import barcodes_cascade  # noqa: E402
from benchmarks.timing import median_ms  # noqa: E402
from drivers.barcode import Barcode, BarcodeDecoder, decode_payload  # noqa: E402
from drivers.barcode.image import load_grey  # noqa: E402
from drivers.barcode.pyzbar_backend import PyzbarDecoder  # noqa: E402
from drivers.barcode.zxing_backend import ZxingDecoder  # noqa: E402

SAMPLES = ROOT / "benchmarks" / "data" / "zxing-cpp-samples"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".pgm"}
BACKENDS: dict[str, BarcodeDecoder] = {"pyzbar": PyzbarDecoder(), "zxing": ZxingDecoder()}
PAGE_SIZE = (3264, 2448)                  # 8 MP, a typical document-camera still
PAGE_SAMPLE = "qrcode-3/01.webp"        # a printed QR on white: what a form carries
CHARSETS = ("utf-8", "gb18030", "shift_jis", "latin-1")


@dataclass
class Case:
    name: str                    # file name, or the group stem of a structured-append set
    images: list[Path]
    expected: str | None         # None: a false-positive image


@dataclass
class Tally:
    cases: int = 0
    matched: int = 0
    bytes_matched: int = 0
    misread: int = 0             # symbols found, none with the expected text
    false_positive: int = 0      # falsepositives-*: images with any symbol
    strip_extra: int = 0
    times_ms: list[float] = field(default_factory=list)
    misread_files: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("cases", "matched", "bytes_matched", "misread", "false_positive",
                     "strip_extra"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.times_ms += other.times_ms

    def report(self, positive: bool, files: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"cases": self.cases}
        if positive:
            out |= {"matched": self.matched, "rate": _round(self.matched / self.cases, 4),
                    "bytes_matched": self.bytes_matched,
                    "bytes_rate": _round(self.bytes_matched / self.cases, 4),
                    "misread": self.misread, "strip_extra": self.strip_extra}
            if files and self.misread_files:
                out["misread_files"] = self.misread_files
        else:
            out["false_positives"] = self.false_positive
        return out | {"median_ms": _round(_median(self.times_ms), 2),
                      "p95_ms": _round(_p95(self.times_ms), 2)}


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _p95(xs: list[float]) -> float:
    if len(xs) < 2:
        return xs[0] if xs else float("nan")
    return statistics.quantiles(xs, n=20, method="inclusive")[-1]


def _round(x: float, digits: int) -> float | None:
    return None if x != x else round(x, digits)     # NaN → null in the JSON


def _ratio(ours: float | None, base: float | None, digits: int = 3) -> float | None:
    return round(ours / base, digits) if ours is not None and base else None


def cases_of(folder: Path) -> tuple[list[Case], int]:
    """The cases of one sample folder, and how many images have no expected text."""
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if folder.name.startswith("falsepositives-"):
        return [Case(p.name, [p], None) for p in images], 0
    cases, groups, orphans = [], dict[str, list[Path]](), 0
    for image in images:
        if (text := image.with_suffix(".txt")).exists():
            cases.append(Case(image.name, [image], text.read_bytes().decode("utf-8")))
        elif "-" in image.stem and (folder / (image.stem.rsplit("-", 1)[0] + ".txt")).exists():
            groups.setdefault(image.stem.rsplit("-", 1)[0], []).append(image)   # a part
        else:
            orphans += 1
    for stem, parts in sorted(groups.items()):
        cases.append(Case(stem, parts, (folder / f"{stem}.txt").read_bytes().decode("utf-8")))
    return cases, orphans


def _payloads(case: Case, found: list[list[Barcode]]) -> list[bytes]:
    """The raw payloads a case offers for matching (see the exact-match rule above)."""
    if len(case.images) == 1:
        return [code.raw for code in found[0]]
    return [b"".join(codes[0].raw for codes in found)] if all(found) else []


def _encodings(text: str) -> set[bytes]:
    out = set()
    for charset in CHARSETS:
        with contextlib.suppress(UnicodeEncodeError):     # e.g. Chinese has no Latin-1 form
            out.add(text.encode(charset))
    return out


def bench_folder(folder: Path, repeat: int) -> dict[str, Any]:
    cases, orphans = cases_of(folder)
    tallies = {name: Tally() for name in BACKENDS}
    for case in cases:
        blobs = [p.read_bytes() for p in case.images]
        for name, decoder in BACKENDS.items():      # alternating: drift hits both alike
            tally = tallies[name]
            tally.cases += 1
            found = [decoder.decode(blob) for blob in blobs]
            tally.times_ms += [median_ms(partial(decoder.decode, blob), repeat) for blob in blobs]
            if case.expected is None:
                tally.false_positive += bool(found[0])
                continue
            payloads = _payloads(case, found)
            texts = [decode_payload(raw) for raw in payloads]
            tally.bytes_matched += not _encodings(case.expected).isdisjoint(payloads)
            if case.expected in texts:
                tally.matched += 1
                continue
            if any(found):
                tally.misread += 1
                tally.misread_files.append(case.name)
            if case.expected.strip() in {t.strip() for t in texts}:
                tally.strip_extra += 1
    positive = not folder.name.startswith("falsepositives-")
    out: dict[str, Any] = {"images": sum(len(c.images) for c in cases), "cases": len(cases)}
    if orphans:
        out["no_expected"] = orphans
    out |= {name: t.report(positive) for name, t in tallies.items()}
    out["zxing_vs_pyzbar"] = _ratios(out["pyzbar"], out["zxing"], positive)
    out["_tallies"] = tallies
    return out


def _ratios(base: dict[str, Any], ours: dict[str, Any], positive: bool) -> dict[str, Any]:
    out = {"time_ratio": _ratio(ours["median_ms"], base["median_ms"]),
           "p95_ratio": _ratio(ours["p95_ms"], base["p95_ms"])}
    if positive:
        out = {"rate_ratio": _ratio(ours["rate"], base["rate"]),
               "bytes_rate_ratio": _ratio(ours["bytes_rate"], base["bytes_rate"])} | out
    return out


def total(folders: dict[str, dict[str, Any]], names: list[str], positive: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"folders": names}
    for backend in BACKENDS:
        tally = Tally()
        for name in names:
            tally.add(folders[name]["_tallies"][backend])
        out[backend] = tally.report(positive, files=False)
    out["zxing_vs_pyzbar"] = _ratios(out["pyzbar"], out["zxing"], positive)
    return out


def bench_page(repeat: int) -> dict[str, Any]:
    """One QR sample on an 8 MP white page: the size a document camera hands the kiosk."""
    page = Image.new("L", PAGE_SIZE, 255)
    with Image.open(SAMPLES / PAGE_SAMPLE) as sample:
        page.paste(sample.convert("L"), (PAGE_SIZE[0] - sample.width - 300, 250))  # top right
    buf = io.BytesIO()
    page.convert("RGB").save(buf, "JPEG", quality=90)    # a camera still is colour
    jpeg = buf.getvalue()
    grey = load_grey(jpeg)        # the same pixels both ways: grey_ms is the decode alone
    expected = (SAMPLES / PAGE_SAMPLE).with_suffix(".txt").read_bytes().decode("utf-8")
    out: dict[str, Any] = {"sample": PAGE_SAMPLE, "size": list(PAGE_SIZE),
                           "jpeg_bytes": len(jpeg), "repeat": repeat}
    runs: dict[tuple[str, str], Callable[[], object]] = {
        ("load_grey", ""): partial(load_grey, jpeg)}
    for name, decoder in BACKENDS.items():
        found = decoder.decode(jpeg)                 # also the warm-up
        out[name] = {"found": any(c.text == expected for c in found)}
        runs[name, "jpeg_ms"] = partial(decoder.decode, jpeg)
        runs[name, "grey_ms"] = partial(decoder.decode_grey, grey)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    for _ in range(repeat):                          # round-robin: drift hits all alike
        for key, fn in runs.items():
            times[key].append(median_ms(fn, 1))
    for (name, what), samples in times.items():
        if name == "load_grey":
            out["load_grey_ms"] = round(statistics.median(samples), 1)
        else:
            out[name][what] = round(statistics.median(samples), 1)
    out["zxing_vs_pyzbar"] = {
        key: _ratio(out["zxing"][key], out["pyzbar"][key]) for key in ("jpeg_ms", "grey_ms")}
    return out


def bench_cascade(repeat: int, spoiled: bool) -> dict[str, Any]:
    """The cascade (after) against one zxing-cpp pass (before), folder by folder."""
    cases = {d.name: cases_of(d)[0] for d in sorted(SAMPLES.iterdir()) if d.is_dir()}
    folders = {name: barcodes_cascade.bench_folder(SAMPLES / name, c, repeat)
               for name, c in cases.items()}
    fps = [n for n in folders if n.startswith("falsepositives-")]
    positive = [n for n in folders if n not in fps]
    out: dict[str, Any] = {
        "bounds": {"budget_ms": barcodes_cascade.CASCADE.budget_ms,
                   "max_passes": barcodes_cascade.CASCADE.max_passes},
        "folders": {n: {k: v for k, v in f.items() if k != "_tallies"}
                    for n, f in folders.items()},
        "totals": {"all_positive": barcodes_cascade.totals(folders, positive, True),
                   "falsepositives": barcodes_cascade.totals(folders, fps, False)}}
    if spoiled:
        out["spoiled"] = barcodes_cascade.bench_spoiled(
            [c for n in positive for c in cases[n]])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    parser.add_argument("--repeat", type=int, default=3, help="timed decodes per image")
    parser.add_argument("--page-repeat", type=int, default=15, help="timed decodes, 8 MP page")
    parser.add_argument("--cascade-repeat", type=int, default=3,
                        help="timed runs per image, cascade vs one zxing-cpp pass")
    parser.add_argument("--no-spoiled", action="store_true",
                        help="skip the spoiled pictures (the slowest part)")
    args = parser.parse_args()

    warm = (SAMPLES / PAGE_SAMPLE).read_bytes()
    for decoder in BACKENDS.values():
        decoder.decode(warm)                         # load libraries before timing
    folders = {d.name: bench_folder(d, args.repeat)
               for d in sorted(SAMPLES.iterdir()) if d.is_dir()}
    qr = [n for n in folders if n.startswith("qrcode-")]
    fps = [n for n in folders if n.startswith("falsepositives-")]
    positive = [n for n in folders if n not in fps]
    result = {
        "versions": {"zxing-cpp": importlib.metadata.version("zxing-cpp"),
                     "pyzbar": importlib.metadata.version("pyzbar")},
        "rule": "exact: any symbol's text == <stem>.txt decoded as UTF-8, nothing stripped",
        "folders": {n: {k: v for k, v in f.items() if k != "_tallies"}
                    for n, f in folders.items()},
        "totals": {"qrcode": total(folders, qr, True),
                   "all_positive": total(folders, positive, True),
                   "falsepositives": total(folders, fps, False)},
        "page_8mp": bench_page(args.page_repeat),
        "cascade": bench_cascade(args.cascade_repeat, not args.no_spoiled),
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
