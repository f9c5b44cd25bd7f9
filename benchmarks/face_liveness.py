"""Liveness on the emulated face camera (drivers/face/emulated.py), for benchmarks/face.py.

Each trial draws a fresh order of four moves and films one scene at 8 frames a second on the
emulator's own clock, through the real observer and judge:

- ``cooperative``: the applicant acts the drawn order → share passed, and the seconds from the
  first frame to the verdict (the emulator takes one second a move; a person takes longer);
- ``impostor_live``: someone else acts it → passes liveness, and must then fail the match;
- ``photo``: the applicant's photo held up → share stopped;
- ``replay``: a recording of the applicant doing one fixed order, whatever was drawn → share
  stopped (it gets through when the draw happens to be its order: 1 in 24 expected);
- ``still``: the feed frozen on one frame of the applicant → share stopped.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path
from typing import Any

from drivers.face.dlib_matcher import DlibMatcher, similarity
from drivers.face.emulated import EmulatedFaceCamera
from drivers.face.image import load_rgb
from drivers.face.liveness import Challenge, Rules, draw_challenges, judge
from drivers.face.observe import Observer

FACES = Path(__file__).resolve().parent.parent / "assets" / "demo" / "faces"
FPS = 8
RECORDED = (Challenge.TURN_LEFT, Challenge.BLINK, Challenge.TURN_RIGHT, Challenge.BLINK)
SCENES = ("cooperative", "impostor_live", "photo", "replay", "still")


def trial(matcher: DlibMatcher, scene: str, order: tuple[Challenge, ...],
          rules: Rules) -> dict[str, Any]:
    camera = EmulatedFaceCamera(FACES, present={"impostor_live": "other",
                                                "photo": "photo"}.get(scene, "right"))
    for move in RECORDED if scene == "replay" else order:
        camera.act(move)
    observer, seen, frames = Observer(matcher, describe_every=3), [], []
    first = camera.render(0.0)
    for i in range(round((len(order) + 2) * FPS)):
        frame = first.copy() if scene == "still" else camera.render(i / FPS)
        frames.append(frame)
        seen.append(observer.observe(i / FPS, frame))
    verdict = judge(order, seen, similarity, rules)
    matched = None
    if verdict.passed:
        card = load_rgb((FACES / "applicant_card.jpg").read_bytes())
        matched = matcher.compare(card, frames[verdict.capture]).match
    return {"passed": verdict.passed, "reason": verdict.reason, "seconds": verdict.seconds,
            "matched": matched}


def liveness(matcher: DlibMatcher, trials: int, seed: int = 22) -> dict[str, Any]:
    rng, rules = random.Random(seed), Rules(time_limit=7.0)
    out: dict[str, Any] = {"trials_per_scene": trials, "moves": 4, "fps": FPS,
                           "time_limit_s": rules.time_limit}
    for scene in SCENES:
        results = [trial(matcher, scene, draw_challenges(rng), rules) for _ in range(trials)]
        passed = [r for r in results if r["passed"]]
        reasons: dict[str, int] = {}
        for r in results:
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
        entry: dict[str, Any] = {"passed_liveness": len(passed), "reasons": reasons}
        if passed:
            entry["seconds_to_verdict_median"] = statistics.median(r["seconds"] for r in passed)
            entry["matched_the_card"] = sum(bool(r["matched"]) for r in passed)
        out[scene] = entry
    return out
