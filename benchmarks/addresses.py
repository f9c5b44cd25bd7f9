"""Identity-card addresses to county codes, JSON out (issue 23).

    .venv/bin/python benchmarks/addresses.py [--count 10000] [--seed 7]

Addresses are made from the whole GB/T 2260 tree the kiosk ships (every province, each
county equally likely within its province, each province equally likely), in the ways real
card addresses and what people type differ: full official names (most cards), the province
left out, shortened names (四川广元利州区, 凉山州), the city left out, stray spaces and
full-width digits, and a street part full of words that look like places (朝阳门, 城关镇,
鼓楼街道, 县前街). Each address knows its county, so the result is counted as

- right: resolved to its county and said to be complete (no question asked);
- right_asked: the county is the suggestion, and the applicant is asked to confirm it;
- asked: not resolved to a county — the applicant picks (the safe failure);
- wrong_silent: resolved, said complete, and wrong. This must be 0: the package would go to
  the wrong region without anyone being asked.

Time per address is the resolver's, as a ratio to a plain dictionary lookup of the county's
full name in the same run. Not covered (the generator cannot make them): renamed and merged
divisions on old cards (the tests have examples), and misspellings.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.interaction.divisions import Division, Divisions  # noqa: E402
from kiosk.routing.address import AddressResolver, short_names  # noqa: E402

STREETS = ("人民路", "解放大道", "朝阳门内大街", "城关镇", "新华街道", "东风村", "和平里",
           "长安街", "建设路", "中山路", "鼓楼街道", "县前街", "市府路", "西城街", "南山村")
STYLES = (("full", 55), ("no_province", 10), ("short", 10), ("skip_city", 5),
          ("noisy", 15), ("no_place", 5))


def counties(divisions: Divisions) -> dict[str, list[list[Division]]]:
    """Per province, the path down to each place that has no level below it."""
    out: dict[str, list[list[Division]]] = {}
    for province in divisions.provinces():
        leaves = []
        for child in divisions.children(province.code) or [province]:
            below = divisions.children(child.code) if child is not province else []
            leaves += [divisions.path(d.code) for d in below] or [divisions.path(child.code)]
        out[province.code] = leaves
    return out


def street(rng: random.Random) -> str:
    flat = f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2804)}室"
    tail = rng.choice(("", flat, f"{rng.randint(1, 12)}组"))
    return f"{rng.choice(STREETS)}{rng.randint(1, 999)}号{tail}"


def make(path: list[Division], style: str, rng: random.Random) -> str:
    names = [d.name for d in path]
    if style == "no_province" and len(path) > 1:
        names = names[1:]
    elif style == "short":
        names = [rng.choice(short_names(d)) if short_names(d) else d.name for d in path]
    elif style == "skip_city" and len(path) == 3:
        names = [names[0], names[2]]
    elif style == "no_place":
        names = []
    text = "".join(names) + street(rng)
    if style == "noisy":
        text = " ".join(names) + " " + street(rng).translate(str.maketrans("0123456789",
                                                                       "０１２３４５６７８９"))
    return text


def sample(count: int, seed: int, divisions: Divisions) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    by_province = counties(divisions)
    provinces = sorted(by_province)
    styles, weights = zip(*STYLES, strict=True)
    out = []
    for _ in range(count):
        path = rng.choice(by_province[rng.choice(provinces)])
        style = rng.choices(styles, weights)[0]
        out.append((make(path, style, rng), path[-1].code, style))
    return out


def judge(resolver: AddressResolver, cases: list[tuple[str, str, str]]) -> dict[str, object]:
    outcome: Counter[str] = Counter()
    by_style: dict[str, Counter[str]] = {}
    for text, code, style in cases:
        match = resolver.resolve(text)
        expected = None if style == "no_place" else code
        if match.complete:
            verdict = "right" if match.code == expected else "wrong_silent"
        elif expected is not None and match.code == expected:
            verdict = "right_asked"
        else:
            verdict = "asked"
        outcome[verdict] += 1
        by_style.setdefault(style, Counter())[verdict] += 1
    placed = sum(1 for _, _, style in cases if style != "no_place")
    return {"outcomes": dict(outcome), "by_style": {k: dict(v) for k, v in by_style.items()},
            "share_right_county": round((outcome["right"] + outcome["right_asked"]) / placed, 4),
            "share_right_without_asking": round(outcome["right"] / placed, 4),
            "wrong_silent": outcome["wrong_silent"]}


def per_address_us(fn: object, texts: list[str], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            fn(text)  # type: ignore[operator]
        times.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    divisions = Divisions()
    resolver = AddressResolver(divisions)
    cases = sample(args.count, args.seed, divisions)
    result = judge(resolver, cases)
    table = {d.name: d.code for leaves in counties(divisions).values()
             for path in leaves for d in path}
    texts = [text for text, _, _ in cases]
    names = [divisions.get(code).name for _, code, _ in cases]
    resolve_us = per_address_us(resolver.resolve, texts)
    lookup_us = per_address_us(table.get, names)
    result.update(count=len(cases), seed=args.seed, resolve_us=round(resolve_us, 2),
                  dict_lookup_us=round(lookup_us, 3),
                  ratio_to_dict_lookup=round(resolve_us / lookup_us, 1))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
