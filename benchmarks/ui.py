"""Touchscreen benchmarks, headless (SDL2 offscreen on Mesa llvmpipe), JSON out.

    .venv/bin/python benchmarks/ui.py [--sessions 200] [--before ../other-checkout]

Each number has a baseline measured in the same run:
- cold_start: process start → first frame of the attract screen, vs a bare Kivy app that
  draws one Label (the floor any Kivy kiosk pays: interpreter, SDL, GL, font).
- touch_to_screen: a tap on "start" → the frame that shows the matter list, vs a bare
  ScreenManager switching between two one-Label screens.
- preview: frames shown per second on the capture screen while page detection runs on every
  1920×1080 preview frame, vs the frames the camera produced (ratio 1.0 = nothing dropped)
  and vs the frames the window drew (shown_vs_window 1.0 = every redraw shows a new frame;
  headless, the window is drawn in software by Mesa llvmpipe, which caps it).
- memory: resident set after 200 scripted sessions vs after 10 (flat growth ≈ 1.0), with the
  curve every 20 sessions.
- settle (长辈版): a tap on a matter → the guide laid out and still (no widget moved for three
  frames), and guide → identify, each vs the bare switch above; keyboard_open: 搜索 → the
  pinyin keyboard still, vs the same.
- exit: the ``kiosk demo`` program's SIGTERM → process gone, vs a bare Kivy app's; rss: its
  resident set once drawn, vs the bare app's.

``--before DIR``: the same figures for another checkout too (PYTHONPATH=DIR), each part run
for both in turn, so "before" and "after" share the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = os.environ.get("UI_BENCH_CHILD", "")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
            "KIVY_LOG_MODE": "PYTHON", "KIVY_HOME": tempfile.mkdtemp(), **extra}


def _first_frame_s(mode: str, env: dict[str, str]) -> float:
    """Wall time from spawning the child to its READY line (printed on its first frame)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__], env={**_env(UI_BENCH_CHILD=mode), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("READY"):
            elapsed = time.perf_counter() - start
            proc.wait(timeout=60)
            return elapsed
    raise RuntimeError(f"{mode} child ended without drawing")


def bench_cold_start(repeat: int, env: dict[str, str]) -> dict[str, float]:
    app = statistics.median(_first_frame_s("kiosk", env) for _ in range(repeat))
    bare = statistics.median(_first_frame_s("bare", env) for _ in range(repeat))
    return {"kiosk_s": round(app, 3), "bare_kivy_s": round(bare, 3),
            "ratio": round(app / bare, 2)}


def _child_first_frame(mode: str) -> None:
    """Runs in the child: draw the first screen, print READY, quit."""
    from kivy.app import App
    from kivy.clock import Clock

    if mode == "bare":
        from kivy.uix.label import Label

        class Bare(App):
            def build(self) -> Label:
                font = str(ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf")
                return Label(text="跨域通办 自助服务", font_name=font, font_size=60)
        app: App = Bare()
    else:
        from kiosk.bootstrap import build_kiosk
        from kiosk.settings import load_settings
        from screens.launch import configure

        settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(
            Path(tempfile.mkdtemp()))
        configure(settings)
        from screens.app import KioskApp

        kiosk = build_kiosk(settings)
        kiosk.open(__import__("datetime").datetime.now())
        app = KioskApp(kiosk)

    def ready(_dt: float) -> None:
        print("READY", flush=True)
        app.stop()
    Clock.schedule_once(ready, 0)     # runs after the first frame is drawn
    app.run()
    os._exit(0)    # skip interpreter teardown: not part of what is measured


def _settings_file(data_dir: Path) -> Path:
    """demo.toml with absolute paths and its own data folder (nothing written into ROOT)."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "../var/demo"', f'data_dir = "{data_dir}"')
    text = text.replace('out = "../paper"', f'out = "{data_dir.parent / "paper"}"')
    text = text.replace('"../', f'"{ROOT}/').replace('catalogue = "catalogue.yaml"',
                                                     f'catalogue = "{ROOT}/config/catalogue.yaml"')
    path = data_dir.parent / "bench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _exit_after_sigterm(mode: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds from SIGTERM to the process gone, resident MB once drawn) of a child."""
    import psutil

    proc = subprocess.Popen([sys.executable, __file__], env={**_env(UI_BENCH_CHILD=mode), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("READY"):
            break
    else:
        raise RuntimeError(f"{mode} child ended without drawing")
    time.sleep(2.0)                       # let start-up work finish (threads, first polls)
    rss = psutil.Process(proc.pid).memory_info().rss / 2**20
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return time.perf_counter() - start, rss


def bench_exit(repeat: int, env: dict[str, str]) -> dict[str, dict[str, float]]:
    ours = [_exit_after_sigterm("term_kiosk", env) for _ in range(repeat)]
    bare = [_exit_after_sigterm("term_bare", env) for _ in range(repeat)]
    exit_s, bare_s = (statistics.median(t for t, _ in runs) for runs in (ours, bare))
    rss, bare_rss = (statistics.median(r for _, r in runs) for runs in (ours, bare))
    return {"sigterm_to_exit": {"kiosk_s": round(exit_s, 3), "bare_kivy_s": round(bare_s, 3),
                                "ratio": round(exit_s / bare_s, 2)},
            "rss": {"kiosk_mb": round(rss, 1), "bare_kivy_mb": round(bare_rss, 1),
                    "ratio": round(rss / bare_rss, 2)}}


def _child_until_sigterm(mode: str) -> None:
    """Runs in the child: the ``kiosk demo`` program (or a bare Kivy app) as it really runs,
    READY on its first frame, then whatever the program does on SIGTERM."""
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: print("READY", flush=True), 0)
    if mode == "term_bare":
        from kivy.app import App
        from kivy.uix.label import Label

        class Bare(App):
            def build(self) -> Label:
                font = str(ROOT / "assets" / "fonts" / "NotoSansSC-Regular.otf")
                return Label(text="跨域通办 自助服务", font_name=font, font_size=60)
        Bare().run()
        sys.exit(0)
    from screens.launch import main as kiosk_main

    data = Path(tempfile.mkdtemp()) / "data"
    sys.argv = ["kiosk", "demo", "--settings", str(_settings_file(data))]
    sys.exit(kiosk_main())


def _harness(tmp: Path, **session: float):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "tests" / "ui"))
    import conftest  # noqa: F401  (headless Kivy environment)
    from ui_harness import open_kiosk

    # 1080p preview at 30 fps: what a document camera's preview stream delivers
    camera = {"preview_size": [1920, 1080], "preview_fps": 30}
    return open_kiosk(tmp, tmp / "shots", camera=camera, **session)


def tap_and_draw(x: float, y: float, switched) -> float:  # type: ignore[no-untyped-def]
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    start = time.perf_counter()
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
    while not switched():
        EventLoop.idle()
    EventLoop.idle()          # the frame that shows the new screen
    return time.perf_counter() - start


def _shape(h) -> tuple[tuple[int, float, float, float, float], ...]:  # type: ignore[no-untyped-def]
    """Where every widget of the current screen (and dialog) is: it moves while laying out."""
    roots = [h.nav.current] + ([h.nav.dialog] if h.nav.dialog is not None else [])
    return tuple((id(w), *w.pos, *w.size) for root in roots for w in root.walk(restrict=True))


def tap_and_settle(h, name: str, still_frames: int = 3) -> float:  # type: ignore[no-untyped-def]
    """A tap on ``name`` → the last frame in which anything on the screen still moved."""
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    h.pump(3)
    widget = h.find(name)
    x, y = widget.to_window(*widget.center)
    h.clock.advance(1)
    start = time.perf_counter()
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
    shape, still, settled = None, 0, 0.0
    while still < still_frames:
        EventLoop.idle()
        now = _shape(h)
        if now != shape:
            shape, still, settled = now, 0, time.perf_counter() - start
        else:
            still += 1
    return settled


def bench_settle(h, repeat: int, bare_s: float) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """长辈版: matter → guide, guide → identify, and 搜索 → keyboard, each settled."""
    from screens.app import relayout

    runs: dict[str, list[float]] = {"elder_matter_to_guide": [], "elder_guide_to_identify": [],
                                    "keyboard_open": []}
    for _ in range(repeat):
        h.wait_screen("attract")
        if not h.ui.theme.elder:          # a session may end in the standard mode
            relayout(h.app, elder=True)
        h.tap("start")
        h.wait_screen("matters")
        runs["keyboard_open"].append(tap_and_settle(h, "search"))
        h.tap("search")                   # closed again
        runs["elder_matter_to_guide"].append(tap_and_settle(h, "matter_GA-HJZM-001"))
        runs["elder_guide_to_identify"].append(tap_and_settle(h, "next"))
        h.journey.cancel()
        h.pump(3)
    out = {}
    for figure, times in runs.items():
        med = statistics.median(times)
        out[figure] = {"kiosk_ms": round(med * 1000, 1), "bare_switch_ms": round(bare_s * 1000, 1),
                       "ratio": round(med / bare_s, 2)}
    return out


def bench_touch(h, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from kivy.core.window import Window
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    ours = []
    for _ in range(repeat):
        h.wait_screen("attract")
        button = h.find("start")
        x, y = button.to_window(*button.center)
        h.clock.advance(1)
        ours.append(tap_and_draw(x, y, lambda: h.screen == "matters"))
        h.journey.cancel()
        h.pump(3)
    # baseline: the same window, a bare manager whose button press switches screens
    for child in list(Window.children):
        Window.remove_widget(child)
    manager = ScreenManager(transition=NoTransition())
    for name in ("a", "b"):
        screen = Screen(name=name)
        label = Label(text=name)
        screen.add_widget(label)
        manager.add_widget(screen)
    Window.add_widget(manager)

    def switch(_w, touch):  # type: ignore[no-untyped-def]
        manager.current = "b" if manager.current == "a" else "a"
    manager.bind(on_touch_up=switch)
    bare = []
    for _ in range(repeat):
        target = "b" if manager.current == "a" else "a"
        bare.append(tap_and_draw(Window.width / 2, Window.height / 2,
                                 lambda t=target: manager.current == t))
    Window.remove_widget(manager)
    med, base = statistics.median(ours), statistics.median(bare)
    return {"kiosk_ms": round(med * 1000, 1), "bare_switch_ms": round(base * 1000, 1),
            "ratio": round(med / base, 2)}


def to_capture(h) -> None:  # type: ignore[no-untyped-def]
    h.tap("start")
    h.pump(10)
    if h.screen != "matters":     # seen once in a long run: the first tap after start-up lost
        h.tap("start")
    h.wait_screen("matters")
    h.tap("matter_GA-HJZM-001")
    h.wait_screen("guide")
    h.tap("next")
    h.wait_screen("identify")
    h.kiosk.identity.present("resident")
    h.wait(lambda: h.has("next"), "card read")
    h.tap("next")
    h.wait_screen("capture")


def bench_preview(h, seconds: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    to_capture(h)
    screen = h.nav.current
    h.wait(lambda: getattr(screen.feed, "plate_clear", True), "the plate seen empty")
    h.kiosk.camera.place("居民身份证", 1)
    feed = screen.feed
    shown0, seen0 = screen.frames_shown, feed.counts.frames_seen
    det0, start, drawn = feed.counts.detections, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        h.pump()                        # one window frame drawn (llvmpipe: in software)
        drawn += 1
    elapsed = time.perf_counter() - start
    counts = feed.counts
    produced = counts.frames_seen - seen0
    shown = screen.frames_shown - shown0
    h.journey.cancel()
    h.kiosk.camera.remove()             # a page left on the plate is never the next one's
    return {"camera_fps": round(produced / elapsed, 1),
            "detections_per_s": round((counts.detections - det0) / elapsed, 1),
            "window_fps": round(drawn / elapsed, 1), "shown_fps": round(shown / elapsed, 1),
            # 1.0: every frame the window draws shows a newer camera frame (no backlog)
            "shown_vs_window": round(shown / max(drawn, 1), 2),
            "ratio": round(shown / max(produced, 1), 2)}


def one_session(h) -> None:  # type: ignore[no-untyped-def]
    to_capture(h)
    h.wait(lambda: getattr(h.nav.current.feed, "plate_clear", True),
           "the plate seen empty")
    h.kiosk.camera.place("居民身份证", 1)
    session = h.journey.session
    h.tap("shoot")
    h.wait(lambda: session.pages and not h.nav.current.shooting, "the manual shot")
    h.tap("cancel")
    h.tap("confirm")
    h.wait_screen("attract")
    h.kiosk.camera.remove()


def bench_memory(h, sessions: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import gc

    import psutil

    process = psutil.Process()
    curve = {}
    for number in range(1, sessions + 1):
        one_session(h)
        if number == 10 or number % 20 == 0:
            gc.collect()
            curve[number] = round(process.memory_info().rss / 2**20, 1)
    return {"rss_mb_by_session": curve,
            "ratio_200_vs_10": round(curve[max(curve)] / curve[10], 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another checkout, measured alongside")
    args = parser.parse_args()
    trees = {"after": os.environ.get("PYTHONPATH", "")}
    if args.before is not None:
        trees = {"before": str(args.before.resolve()), **trees}
    envs = {label: {"PYTHONPATH": tree} if tree else {} for label, tree in trees.items()}
    results: dict[str, dict[str, object]] = {label: {} for label in trees}
    for label, env in envs.items():       # each part for every tree in turn: the same load
        results[label]["cold_start"] = bench_cold_start(3, env)
    for label, env in envs.items():
        results[label].update(bench_exit(3, env))
    for label, env in envs.items():
        proc = subprocess.run([sys.executable, __file__, "--sessions", str(args.sessions),
                               "--repeat", str(args.repeat)],
                              env={**_env(UI_BENCH_CHILD="inprocess", UI_WINDOW="1080x1920"),
                                   **env}, capture_output=True, text=True, check=True)
        results[label].update(json.loads(proc.stdout.strip().splitlines()[-1]))
    result = results["after"] if args.before is None else results
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def in_process(sessions: int, repeat: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    h = _harness(tmp, idle_timeout_s=600, read_timeout_s=10)
    touch = bench_touch(h, repeat)
    out: dict[str, object] = {"touch_to_screen": touch}
    h.close()
    h = _harness(Path(tempfile.mkdtemp()), idle_timeout_s=600, read_timeout_s=10)
    out.update(bench_settle(h, repeat, touch["bare_switch_ms"] / 1000))
    h.close()
    h = _harness(Path(tempfile.mkdtemp()), idle_timeout_s=600, read_timeout_s=10)
    out["preview"] = bench_preview(h, 10.0)
    out["memory"] = bench_memory(h, sessions)
    h.close()
    print(json.dumps(out))
    os._exit(0)


if __name__ == "__main__":
    if CHILD == "inprocess":
        opts = argparse.ArgumentParser()
        opts.add_argument("--sessions", type=int)
        opts.add_argument("--repeat", type=int)
        parsed = opts.parse_args()
        try:
            in_process(parsed.sessions, parsed.repeat)
        except BaseException:
            traceback.print_exc()
            os._exit(1)                 # the devices' threads would keep a failed run alive
    elif CHILD.startswith("term_"):
        _child_until_sigterm(CHILD)
    elif CHILD:
        _child_first_frame(CHILD)
    sys.exit(main())
