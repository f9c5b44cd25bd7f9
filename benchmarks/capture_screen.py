"""The capture screen as a citizen feels it, headless (SDL2 offscreen on Mesa llvmpipe), JSON
out; every number beside its baseline from the same run:

    .venv/bin/python benchmarks/capture_screen.py [--seconds 8]

- preview: camera frames shown per second vs the frames the camera produced (1.0 = nothing
  dropped), the window paced at Kivy's 60 fps as the app runs;
- cpu: cores the kiosk process used while the preview runs with a page at rest (the emulated
  camera's own rendering included, as in the demo);
- place_to_captured: a page laid on the (empty) plate → the page in the session, vs the hold
  the citizen is told (capture_dwell_s) plus the emulated page's slide into place.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = (("居民身份证", 1), ("户籍类证明申请表", 1), ("居民户口簿", 1), ("居民身份证", 2))
SLIDE_S = 0.6                 # the emulated camera's page slide (drivers/camera/emulated.py)
FRAME_S = 1 / 60              # Kivy's default maxfps


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _frame(h) -> None:  # type: ignore[no-untyped-def]
    due = time.perf_counter() + FRAME_S
    h.pump()
    time.sleep(max(0.0, due - time.perf_counter()))


def _pages(session) -> int:  # type: ignore[no-untyped-def]
    return sum(len(kept) for kept in session.pages.values())


def place_to_captured(h) -> list[float]:  # type: ignore[no-untyped-def]
    screen, camera, session = h.nav.current, h.kiosk.camera, h.journey.session
    h.wait(lambda: getattr(screen.feed, "plate_clear", True), "the plate seen empty")
    out = []
    for label, page in PAGES:
        camera.remove()
        h.wait(lambda: (v := screen.feed.latest()) is not None and v.detection.quad is None,
               "an empty plate")
        before, start = _pages(session), time.perf_counter()
        camera.place(label, page)
        while _pages(session) <= before and time.perf_counter() - start < 30:
            _frame(h)
        out.append(round(time.perf_counter() - start, 2))
        h.wait(lambda: not screen.shooting, "the shot to finish")
    return out


def preview(h, seconds: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    screen = h.nav.current
    feed = screen.feed
    shown0, seen0, cpu0, start = screen.frames_shown, feed.counts.frames_seen, _cpu_s(), \
        time.perf_counter()
    while time.perf_counter() - start < seconds:
        _frame(h)
    elapsed = time.perf_counter() - start
    shown, produced = screen.frames_shown - shown0, feed.counts.frames_seen - seen0
    return {"camera_fps": round(produced / elapsed, 1), "shown_fps": round(shown / elapsed, 1),
            "ratio": round(shown / max(produced, 1), 2),
            "cpu_cores": round((_cpu_s() - cpu0) / elapsed, 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    os.environ.setdefault("UI_WINDOW", "1080x1920")
    sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "ui"), str(ROOT / "benchmarks")]
    import conftest  # noqa: F401  (headless Kivy environment)
    from ui import to_capture
    from ui_harness import open_kiosk

    tmp = Path(tempfile.mkdtemp())
    h = open_kiosk(tmp, tmp / "shots", camera={"preview_size": [1920, 1080], "preview_fps": 30},
                   idle_timeout_s=600, read_timeout_s=10)
    to_capture(h)
    laps = place_to_captured(h)
    hold = h.kiosk.settings.session.capture_dwell_s
    result = {"preview": preview(h, args.seconds),
              "place_to_captured": {"seconds": laps, "hold_plus_slide_s": hold + SLIDE_S,
                                    "ratio": round(min(laps) / (hold + SLIDE_S), 2)}}
    print(json.dumps(result, ensure_ascii=False))
    os._exit(0)         # skip the kiosk's teardown: not part of what is measured


if __name__ == "__main__":
    sys.exit(main())
