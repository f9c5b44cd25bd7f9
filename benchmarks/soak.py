"""Soak: scripted citizens through the real app, headless, and what the process holds after.

    .venv/bin/python benchmarks/soak.py [--sessions 300] [--mode app|service] [--out soak.json]

``--mode app`` (the default): each session is a complete application on the touchscreen
(attract → matter → card → every required page laid on the plate → review → pick-up →
confirm → receipt printed → rating → attract), its package delivered to the demo's region
folder; every tenth session is a missing-materials one ending in a correction notice.
``--mode service``: the same citizen without Kivy, through ``KioskService`` as the headless
demo drives it (kiosk/demo/citizen.py): the core, devices, ledger, outbox and uploader alone,
about ten times faster. Figures, each against the same process
after the warm-up sessions (``--warm-up``, default 150). Why 150: in the app the first sessions
load fonts, textures and catalogue caches, and the software renderer (Mesa llvmpipe, what
this headless machine draws with) fills its caches of compiled shader variants and draw
state, slowly, for about 150 sessions — measured 2026-12-07 over 300 sessions: RSS 970 MB
after session 1, 1,183 after 10, 1,372 at 50, 1,411 at 150, then 1,390-1,405 to 1,392 at 300
(ratio 0.987 to 150; fds 54 throughout; docs/unattended.md); memray put the
growth in C allocations under glDrawElements, while Python's own heap (tracemalloc), its
object count and the service-only soak stayed flat. Every session's breakdown up to the
warm-up is in the output, so the growth before it stays visible:
- rss: resident set after the last session vs after the warm-up (flat ≈ 1.0), and the curve;
- fds: open file descriptors, the same way (sockets, SQLite handles, scratch files).
The virtual printer's record of jobs (a test rig, not the kiosk) is emptied as it goes.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ui import to_capture  # noqa: E402  (the same walk as the UI benchmark)

CHILD = os.environ.get("SOAK_CHILD", "")
WARM_UP = 150         # sessions before the baseline (see above)


def _harness(tmp: Path) -> Any:
    sys.path.insert(0, str(ROOT / "tests" / "ui"))
    import conftest  # noqa: F401  (headless Kivy environment)
    from ui_harness import open_kiosk

    return open_kiosk(tmp, tmp / "shots", idle_timeout_s=600, read_timeout_s=10)


def _lay(h: Any, material_id: str, count: int) -> None:
    from test_journey import lay_pages  # tests/ui, on the path with the harness

    lay_pages(h, material_id, count)
    h.kiosk.camera.remove()


def complete_session(h: Any) -> None:
    to_capture(h)
    from test_journey import required_materials

    for material_id, pages in required_materials(h):
        _lay(h, material_id, pages)
    h.tap("review")
    h.wait_screen("review")
    h.tap("next")
    h.wait_screen("delivery")
    h.tap("delivery_pickup")
    h.type_digits("13800138000")
    h.tap("done_editing")
    h.tap("next")
    h.wait_screen("confirm")
    h.tap("agree")
    h.tap("submit")
    h.wait(lambda: h.has("next") and h.screen == "printing", "the receipt to print")
    h.tap("next")
    h.wait_screen("rating")
    h.tap("rate_very_satisfied")
    h.wait_screen("done")
    h.tap("home")
    h.wait_screen("attract")
    if len(h.ui.service.deliver()) != 1:
        raise RuntimeError("the package was not delivered")


def notice_session(h: Any) -> None:
    from test_journey import required_materials

    to_capture(h)
    material_id, pages = required_materials(h)[0]
    _lay(h, material_id, pages)
    h.tap("review")
    h.wait_screen("review")
    h.tap("notice")
    h.wait(lambda: h.has("next") and h.screen == "printing", "the notice to print")
    h.tap("next")
    h.wait_screen("rating")
    h.tap("back")
    h.wait_screen("done")
    h.tap("home")
    h.wait_screen("attract")


def _measure(process: Any) -> tuple[float, int]:
    gc.collect()
    return round(process.memory_info().rss / 2**20, 1), process.num_fds()


class _MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]


def _breakdown() -> dict[str, float]:
    """Where the resident memory is: why RSS grows in the warm-up, and whether it is live.

    Anonymous vs file-backed pages (/proc), and glibc's own count over all its arenas of what
    is in use and what is freed but kept (fragmentation shows there, not in Python).
    """
    mb = 2**20
    rollup = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        rollup[name] = int(value.split()[0]) * 1024
    mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    mallinfo2.restype = _MallInfo
    info = mallinfo2()
    return {"anon_mb": round(rollup["Anonymous"] / mb, 1),
            "file_mb": round((rollup["Rss"] - rollup["Anonymous"]) / mb, 1),
            "malloc_in_use_mb": round(info.uordblks / mb, 1),
            "malloc_free_kept_mb": round(info.fordblks / mb, 1),
            "malloc_mmapped_mb": round(info.hblkhd / mb, 1),
            "python_objects": len(gc.get_objects())}


def _forget_printed(h: Any) -> None:
    virtual = h.kiosk.printer.virtual
    with virtual._jobs_changed:            # the rig keeps every job it drew
        virtual.jobs.clear()


class ServiceCitizen:
    """The scripted citizen on the core alone (no screen): one kiosk for every session."""

    def __init__(self, tmp: Path) -> None:
        from datetime import datetime

        from kiosk.bootstrap import build_kiosk
        from kiosk.demo.hand import DemoHand
        from kiosk.service import KioskService
        from kiosk.settings import load_settings

        settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp / "data")
        self.kiosk = build_kiosk(settings)
        self.service = KioskService(self.kiosk)
        self.hand = DemoHand.reach(self.kiosk.identity, self.kiosk.camera, self.kiosk.printer)
        self.kiosk.open(datetime.now())

    def session(self, complete: bool) -> None:
        from kiosk.catalogue.model import DeliveryOption, Necessity
        from kiosk.session import Contact, Rating

        service, hand = self.service, self.hand
        session = service.start_session()
        service.choose(session, service.matter("GA-HJZM-001"))
        session.start_identify()
        hand.present_card("resident")
        service.identify(session)
        assert session.situation is not None and session.identity is not None
        required = [r for r in session.situation.materials if r.necessity is Necessity.REQUIRED]
        for req in required if complete else required[:1]:
            material = req.options[0]
            for page in range(1, max(1, material.pages.min) + 1):
                hand.place(material.name, page)
                service.capture(session, material.id)
            hand.clear_plate()
        if session.review().accepted:
            session.confirm(DeliveryOption.PICKUP, Contact("13800138000",
                                                           session.identity.address, "100010"))
            service.submit(session)
            if len(service.deliver()) != 1:
                raise RuntimeError("the package was not delivered")
        else:
            service.notify(session)
        session.rate(Rating.VERY_SATISFIED)
        session.finish()
        _forget_printed(self)

    def close(self) -> None:
        self.service.close()
        self.kiosk.close()


def in_process(sessions: int, mode: str, warm_up: int) -> dict[str, Any]:
    import psutil

    process = psutil.Process()
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    h = _harness(tmp) if mode == "app" else ServiceCitizen(tmp)
    opened = _measure(process)
    details = {0: _breakdown()}
    curve: dict[int, tuple[float, int]] = {}
    start = time.perf_counter()
    for number in range(1, sessions + 1):
        if mode == "app":
            (notice_session if number % 10 == 0 else complete_session)(h)
            _forget_printed(h)
        else:
            h.session(complete=number % 10 != 0)
        if number <= warm_up or number == sessions or number % 25 == 0:
            curve[number] = _measure(process)
            details[number] = _breakdown()
            print(f"soak {number}: {curve[number]} {details[number]}", file=sys.stderr,
                  flush=True)
    elapsed = time.perf_counter() - start
    (rss0, fds0), (rss1, fds1) = curve[warm_up], curve[sessions]
    h.close()
    return {"mode": mode, "sessions": sessions, "seconds": round(elapsed, 1),
            "at_open": {"rss_mb": opened[0], "fds": opened[1]},
            "rss": {"after_warm_up_mb": rss0, "at_end_mb": rss1, "ratio": round(rss1 / rss0, 3),
                    "end_vs_open_ratio": round(rss1 / opened[0], 3)},
            "fds": {"after_warm_up": fds0, "at_end": fds1, "ratio": round(fds1 / fds0, 3),
                    "end_vs_open_ratio": round(fds1 / opened[1], 3)},
            "curve": {str(n): {"rss_mb": r, "fds": f, **details[n]}
                      for n, (r, f) in curve.items()},
            "at_open_breakdown": details[0]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--mode", choices=["app", "service"], default="app")
    parser.add_argument("--warm-up", type=int, default=WARM_UP)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not 0 < args.warm_up < args.sessions:
        parser.error("--warm-up must be at least 1 and fewer than --sessions")
    env = {**os.environ, "SOAK_CHILD": "1", "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
           "KIVY_LOG_MODE": "PYTHON", "KIVY_HOME": tempfile.mkdtemp(), "UI_WINDOW": "1080x1920"}
    proc = subprocess.run([sys.executable, __file__, "--sessions", str(args.sessions),
                           "--mode", args.mode, "--warm-up", str(args.warm_up)],
                          env=env, stdout=subprocess.PIPE, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    if CHILD:
        opts = argparse.ArgumentParser()
        opts.add_argument("--sessions", type=int)
        opts.add_argument("--mode")
        opts.add_argument("--warm-up", type=int)
        parsed = opts.parse_args()
        try:
            print(json.dumps(in_process(parsed.sessions, parsed.mode, parsed.warm_up)),
                  flush=True)
        except BaseException:
            traceback.print_exc()
            os._exit(1)                 # the devices' threads would keep a failed run alive
        os._exit(0)
    sys.exit(main())
