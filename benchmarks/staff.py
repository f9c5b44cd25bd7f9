"""Staff sign-in speed, headless (SDL2 offscreen on Mesa llvmpipe), JSON out.

    PYTHONPATH=. .venv/bin/python benchmarks/staff.py [--repeat 10] [--out FILE]

- signin_to_menu: the tap on 登录 (card read, 6 digits typed) → the frame that shows the
  staff menu: the PIN check (scrypt n=2^14 over the hall-keyed PIN), the audit entry
  (fsync'd), the hold, the menu drawn;
- start_to_matters: the citizen's tap on 开始办理 → the matter list, the same app;
- both vs a bare ScreenManager switching between two one-Label screens in the same window
  and run (benchmarks/ui.py's baseline), and pin_check_ms: StaffAuthority.sign_in alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("UI_WINDOW", "1080x1920")
sys.path.insert(0, str(ROOT / "tests" / "ui"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import conftest  # noqa: E402,F401  (headless Kivy environment)
from staff_rig import PEOPLE, PIN, StaffRig  # noqa: E402
from timing import report, run_timed  # noqa: E402
from ui import bench_touch, tap_and_draw  # noqa: E402
from ui_harness import open_kiosk  # noqa: E402

from kiosk.staff.session import Mode  # noqa: E402


def signin_once(h, rig: StaffRig) -> float:  # type: ignore[no-untyped-def]
    h.ui.service.request_staff_mode()
    rig.to_pin(h, "guide")
    h.type_digits(PIN)
    h.pump(3)
    button = h.find("staff_pin_ok")
    x, y = button.to_window(*button.center)
    h.clock.advance(1)
    took = tap_and_draw(x, y, lambda: h.screen == "staff_menu")
    h.tap("menu_sign_out")
    h.wait_screen("attract")
    return took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rig = StaffRig(tmp)
    pin_check = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        rig.authority.sign_in(PEOPLE["guide"][1], PIN, Mode.SERVICE)
        pin_check.append(time.perf_counter() - start)
    h = open_kiosk(tmp, tmp / "shots", staff=rig.authority)
    try:
        signin = [signin_once(h, rig) for _ in range(args.repeat)]
        touch = bench_touch(h, args.repeat)       # ends with the bare switch (removes the app)
    finally:
        h.close()
    bare_s = touch["bare_switch_ms"] / 1000
    med = statistics.median(signin)
    return report({
        "signin_to_menu": {"kiosk_ms": round(med * 1000, 1),
                           "bare_switch_ms": touch["bare_switch_ms"],
                           "ratio": round(med / bare_s, 2)},
        "start_to_matters": touch,
        "pin_check_ms": round(statistics.median(pin_check) * 1000, 1),
        "repeat": args.repeat}, args.out)


if __name__ == "__main__":
    run_timed(main)
