"""The decoding cascade against one zxing-cpp pass, per folder of zxing-cpp's samples: the
``cascade`` part of benchmarks/barcodes.py's JSON.

Before = one pass of the zxing backend (``ZxingDecoder.decode_grey``), after = the cascade
with its shipped bounds (``CascadeDecoder()``: 1000 ms, 24 passes, the real clock), both on
the same grey picture (the image decode is left out of both), alternating picture by picture.
Per picture each is timed as the median of ``repeat`` runs; ``time_ratio`` is the median over
pictures of cascade ÷ single, ``mean_time_ratio`` the ratio of the summed times.

Outcomes per case, which sum to ``cases``: ``matched`` (a symbol's text equals the .txt, the
exact rule of barcodes.py), ``charset_only`` (a symbol's raw bytes are the .txt in another
charset: read right, shown wrong by the kiosk's UTF-8-else-GB18030 rule), ``misread`` (symbols
found, none of them the .txt in any charset: a wrong read) and ``not_read``. In a
``falsepositives-*`` folder: ``false_positives``, pictures with any symbol.

``spoiled``: the positive pictures that one pass reads as they are, spoiled each way of
rigs/code_pictures.py (blur, faint, skew, small, noise, shadow); counts only.
"""

from __future__ import annotations

import contextlib
import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.timing import median_ms
from drivers.barcode import Barcode, decode_payload
from drivers.barcode.cascade import CascadeDecoder, Outcome
from drivers.barcode.image import Grey, load_grey
from drivers.barcode.zxing_backend import ZxingDecoder
from rigs.code_pictures import DEGRADATIONS, degrade

SINGLE, CASCADE = ZxingDecoder(), CascadeDecoder()
# The sample's .txt disagrees with the digits printed under the bars, which both decoders
# read and whose check digit holds: counted as the rule says (a misread), and named here.
DISPUTED = {"ean13-2/23.webp": "the .txt says 9780804816632; the digits printed under the "
                               "bars, and both decoders, say 9784872348880"}


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    times_ms: list[float] = field(default_factory=list)
    passes: list[int] = field(default_factory=list)
    stopped: Counter[str] = field(default_factory=Counter)

    def report(self, positive: bool) -> dict[str, Any]:
        if positive:
            out: dict[str, Any] = {k: self.outcomes[k] for k in
                                   ("matched", "charset_only", "misread", "not_read")}
        else:
            out = {"false_positives": self.outcomes["false_positive"]}
        out |= {"median_ms": round(statistics.median(self.times_ms), 2),
                "mean_ms": round(statistics.fmean(self.times_ms), 2)}
        if self.passes:
            out |= {"passes_median": statistics.median(self.passes),
                    "passes_max": max(self.passes), "stopped": dict(sorted(self.stopped.items()))}
        return out


def outcome(expected: str | None, payloads: list[bytes], found: bool) -> str:
    """One case's outcome (see the module's docstring)."""
    if expected is None:
        return "false_positive" if found else "clean"
    if expected in {decode_payload(raw) for raw in payloads}:
        return "matched"
    if not _encodings(expected).isdisjoint(payloads):
        return "charset_only"
    return "misread" if found else "not_read"


def _encodings(text: str) -> set[bytes]:
    out = set()
    for charset in ("utf-8", "gb18030", "shift_jis", "latin-1"):
        with contextlib.suppress(UnicodeEncodeError):     # Chinese has no Latin-1 form
            out.add(text.encode(charset))
    return out


def _payloads(found: list[list[Barcode]]) -> list[bytes]:
    """As barcodes.py: every symbol of one picture; a structured-append set joins the first
    symbol of each part."""
    if len(found) == 1:
        return [code.raw for code in found[0]]
    return [b"".join(codes[0].raw for codes in found)] if all(found) else []


def bench_folder(folder: Path, cases: list[Any], repeat: int) -> dict[str, Any]:
    positive = not folder.name.startswith("falsepositives-")
    single, cascade, ratios, new = Tally(), Tally(), list[float](), list[str]()
    for case in cases:
        greys = [load_grey(p.read_bytes()) for p in case.images]
        one = [SINGLE.decode_grey(g) for g in greys]
        runs: list[Outcome] = [CASCADE.read(g) for g in greys]
        one_ms = sum(median_ms(partial(SINGLE.decode_grey, g), repeat) for g in greys)
        all_ms = sum(median_ms(partial(CASCADE.read, g), repeat) for g in greys)
        before = outcome(case.expected, _payloads(one), any(one))
        after = outcome(case.expected, _payloads([list(r.codes) for r in runs]),
                        any(r.codes for r in runs))
        single.outcomes[before] += 1
        cascade.outcomes[after] += 1
        single.times_ms.append(one_ms)
        cascade.times_ms.append(all_ms)
        cascade.passes += [len(r.passes) for r in runs]
        cascade.stopped.update(r.stopped for r in runs)
        ratios.append(all_ms / one_ms)
        if after in ("matched", "charset_only") and before not in ("matched", "charset_only"):
            new.append(case.name)
    out = {"single": single.report(positive), "cascade": cascade.report(positive),
           "time_ratio": round(statistics.median(ratios), 2),
           "mean_time_ratio": round(sum(cascade.times_ms) / sum(single.times_ms), 2)}
    if new:
        out["read_only_by_cascade"] = new
    disputed = {k: v for k, v in DISPUTED.items() if k.startswith(folder.name + "/")}
    if disputed:
        out["disputed"] = disputed
    out["_tallies"] = (single, cascade)
    return out


def totals(folders: dict[str, dict[str, Any]], names: list[str],
           positive: bool) -> dict[str, Any]:
    single, cascade = Tally(), Tally()
    for name in names:
        one, many = folders[name]["_tallies"]
        for mine, theirs in ((single, one), (cascade, many)):
            mine.outcomes.update(theirs.outcomes)
            mine.times_ms += theirs.times_ms
            mine.passes += theirs.passes
            mine.stopped.update(theirs.stopped)
    ratios = [c / s for s, c in zip(single.times_ms, cascade.times_ms, strict=True)]
    return {"folders": names, "single": single.report(positive),
            "cascade": cascade.report(positive),
            "time_ratio": round(statistics.median(ratios), 2),
            "mean_time_ratio": round(sum(cascade.times_ms) / sum(single.times_ms), 2)}


def bench_spoiled(cases: list[Any]) -> dict[str, Any]:
    """Single pass and cascade on every readable positive picture, spoiled each way."""
    sharp: list[tuple[Grey, str]] = []
    for case in cases:
        if case.expected is None or len(case.images) != 1:
            continue
        grey = load_grey(case.images[0].read_bytes())
        if outcome(case.expected, _payloads([SINGLE.decode_grey(grey)]), True) == "matched":
            sharp.append((grey, case.expected))
    out: dict[str, Any] = {"pictures": len(sharp)}
    for kind in DEGRADATIONS:
        counts: dict[str, Counter[str]] = {"single": Counter(), "cascade": Counter()}
        for grey, expected in sharp:
            spoiled = degrade(grey, kind)
            one = SINGLE.decode_grey(spoiled)
            many = CASCADE.read(spoiled).codes
            counts["single"][outcome(expected, [c.raw for c in one], bool(one))] += 1
            counts["cascade"][outcome(expected, [c.raw for c in many], bool(many))] += 1
        out[kind] = {name: {k: c[k] for k in ("matched", "charset_only", "misread", "not_read")}
                     for name, c in counts.items()}
    return out
