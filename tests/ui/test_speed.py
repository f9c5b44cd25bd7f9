"""Speed a citizen feels (issue 20), asserted by what the app does, never by how long it took:
start-up objects kept out of the cycle collector, a finished session's screens collected on
the way home (not during the next citizen's taps), and the program ending as soon as the app
has closed the kiosk (SIGTERM), not after the interpreter's teardown.
The figures themselves are benchmarks/ui.py's."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kivy.core.text.markup import MarkupLabel
from kivy.core.window import Window
from kivy.graphics import Rectangle
from ui_harness import ROOT, Harness

# the kiosk program, stopped a moment after its first frame (as SIGTERM stops it: App.stop)
STOPPED_PROGRAM = """
import atexit, sys
atexit.register(lambda: print("interpreter teardown", flush=True))
from kivy.app import App
from kivy.clock import Clock
Clock.schedule_once(lambda _dt: App.get_running_app().stop(), 1)
sys.argv = ["kiosk", "demo", "--settings", sys.argv[1]]
from screens.launch import main
sys.exit(main())
"""


def test_start_up_objects_are_kept_out_of_the_cycle_collector(harness: Harness) -> None:
    # a full collection walked the ~400,000 objects of Kivy, pypinyin and the IME every time
    assert gc.get_freeze_count() > 100_000


def test_a_finished_sessions_screens_are_collected_on_the_way_home(harness: Harness) -> None:
    harness.tap("start")
    harness.wait_screen("matters")
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(info["collected"])
    gc.disable()                      # no automatic collection: only the app's own
    gc.callbacks.append(seen)
    try:
        harness.journey.cancel()
        harness.pump(2)
    finally:
        gc.callbacks.remove(seen)
        gc.enable()
    assert harness.screen == "attract"
    assert full and full[0] > 0       # the session's screens, collected at home


def _full_collections(h: Harness, steps: list[str]) -> int:
    """Full (generation 2) collections the allocator started while tapping ``steps`` in
    turn. An explicit ``gc.collect()`` is not counted: the navigator's own runs on the way
    home, and in the whole suite's one long process a collection another test scheduled on
    Kivy's shared clock can land here; what must not happen is the threshold's."""
    full: list[int] = []
    explicit = [False]
    collect = gc.collect

    def counted_out(generation: int = 2) -> int:
        explicit[0] = True
        try:
            return collect(generation)
        finally:
            explicit[0] = False

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2 and not explicit[0]:
            full.append(1)
    gc.callbacks.append(seen)
    gc.collect = counted_out
    try:
        for name in steps:
            h.tap(name)
            h.pump(3)
    finally:
        gc.collect = collect
        gc.callbacks.remove(seen)
    return len(full)


@pytest.mark.kiosk(elder=True)
def test_no_full_collection_pauses_a_citizens_taps(harness: Harness) -> None:
    # a full collection walks every live widget: it waits for the way home
    h = harness
    # as each trip home leaves it (navigator.home collects in full): in a long test process
    # the earlier tests' survivors would otherwise be pending here, which a kiosk never has
    gc.collect()
    h.tap("start")
    h.wait_screen("matters")
    assert _full_collections(h, ["search", "search", "matter_GA-HJZM-001", "back",
                                 "matter_GA-HJZM-001", "next"]) == 0
    assert h.screen == "identify"


RENDERED_TEXTS: list[str] = []


def _renders(h: Harness, name: str, screen: str) -> dict[int, int]:
    """How often each text was rendered (FreeType, per core label) while ``name`` was tapped
    and ``screen`` drawn."""
    counts: dict[int, int] = {}
    texts: dict[int, str] = {}
    refresh = MarkupLabel.refresh

    def counted(label: MarkupLabel) -> None:
        counts[id(label)] = counts.get(id(label), 0) + 1
        texts[id(label)] = str(label.text)[:40]
        refresh(label)
    MarkupLabel.refresh = counted          # type: ignore[method-assign]
    try:
        h.tap(name)
        h.wait_screen(screen)
        h.pump(3)
    finally:
        MarkupLabel.refresh = refresh      # type: ignore[method-assign]
    RENDERED_TEXTS[:] = texts.values()     # said when a test fails: which texts they were
    return counts


@pytest.mark.kiosk(elder=True)
def test_a_screens_texts_are_each_rendered_once_as_it_opens(harness: Harness) -> None:
    # not first at the default width, then at widths of boxes still being laid out
    h = harness
    h.tap("start")
    h.wait_screen("matters")
    h.pump(3)
    for name, screen in (("matter_GA-HJZM-001", "guide"), ("next", "identify")):
        counts = _renders(h, name, screen)
        assert counts and max(counts.values()) == 1, (screen, sorted(counts.values()))


def test_the_filters_are_built_once_and_show_the_choice_of_the_moment(harness: Harness) -> None:
    # rebuilding every filter button on each entry was ~40 % of a tap on 开始办理
    h = harness
    primary = tuple(h.ui.theme.palette.primary)

    def chosen(name: str) -> bool:
        return tuple(h.find(name)._fill.rgba) == primary

    h.tap("start")
    h.wait_screen("matters")
    first = {name: h.find(name) for name in ("scope_all", "scope_inter_province",
                                             "browse_department")}
    assert chosen("scope_all") and not chosen("scope_inter_province")
    h.tap("scope_inter_province")
    h.pump(2)
    assert chosen("scope_inter_province") and not chosen("scope_all")
    h.journey.cancel()                # the next citizen starts from 全部 again
    h.wait_screen("attract")
    h.tap("start")
    h.wait_screen("matters")
    assert all(h.find(name) is widget for name, widget in first.items())
    assert chosen("scope_all") and not chosen("scope_inter_province")


@pytest.mark.kiosk(elder=True)
def test_the_page_colour_is_the_windows_clear_colour(harness: Harness) -> None:
    # no rectangle over the whole window: a blended pass over every pixel of every frame
    h = harness
    for screen in ("attract", "matters"):
        if screen != "attract":
            h.tap("start")
            h.wait_screen(screen)
        h.pump(2)
        assert tuple(Window.clearcolor) == h.ui.theme.palette.background
        full = [w for w in h.nav.current.walk(restrict=True)
                for canvas in (w.canvas.before, w.canvas) if canvas is not None
                for i in canvas.children if isinstance(i, Rectangle)
                and tuple(i.size) == tuple(Window.size)]
        assert not full, screen


def _demo_settings(tmp: Path) -> Path:
    """demo.toml where its relative paths lead to the project's assets and a data folder
    of this test's own."""
    config = tmp / "config"
    config.mkdir()
    (tmp / "assets").symlink_to(ROOT / "assets")
    (config / "catalogue.yaml").symlink_to(ROOT / "config" / "catalogue.yaml")
    settings = config / "demo.toml"
    settings.write_bytes((ROOT / "config" / "demo.toml").read_bytes())
    return settings


def test_the_program_ends_when_the_app_has_closed_the_kiosk(tmp_path: Path) -> None:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
           "KIVY_HOME": str(tmp_path / "kivy"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", STOPPED_PROGRAM, str(_demo_settings(tmp_path))],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "interpreter teardown" not in done.stdout
    assert (tmp_path / "var" / "demo").is_dir()      # it ran on this test's data folder


def test_screens_entered_again_render_no_text(harness: Harness) -> None:
    # the next citizen's taps show the kept bodies refilled: no text laid out anew (in the
    # standard view: each session ends in it)
    h = harness
    steps = [("start", "matters"), ("search", "matters"), ("search", "matters"),
             ("matter_GA-HJZM-001", "guide"), ("next", "identify")]
    for citizen in range(2):
        h.wait_screen("attract")
        for name, screen in steps:
            counts = _renders(h, name, screen)
            if citizen:
                assert not counts, (name, len(counts), RENDERED_TEXTS)
        h.journey.cancel()
        h.pump(3)


def test_the_kept_matter_list_is_filled_once_on_entry(harness: Harness) -> None:
    # a kept list whose height is known is filled as it is placed; the fill the next frame
    # used to repeat it (the same page, at the same height) doubled a tap on 开始办理
    h = harness
    screen = h.nav.screen("matters")
    fills: list[int] = []
    fill = type(screen)._fill_results

    def counted(self: Any) -> None:
        fills.append(1)
        fill(self)
    for citizen in range(2):
        h.wait_screen("attract")
        fills.clear()
        type(screen)._fill_results = counted          # type: ignore[method-assign]
        try:
            h.tap("start")
            h.wait_screen("matters")
            h.pump(5)
        finally:
            type(screen)._fill_results = fill          # type: ignore[method-assign]
        if citizen:
            assert len(fills) == 1, len(fills)
        assert h.has("matter_GA-HJZM-001")             # the page is there
        h.journey.cancel()
        h.pump(3)


def test_closing_the_app_stops_the_done_screens_countdown(harness: Harness) -> None:
    # an app closed on the done screen (the end of a test, a fleet swap) left its countdown
    # ticking: it re-rendered its text in the next app's taps, and at 0 finished a journey on
    # a closed kiosk (found when this file ran after test_session_care.py)
    h = harness
    h.nav.go("done")
    h.wait_screen("done")
    screen = h.nav.screen("done")
    assert screen._timer.is_triggered
    h.nav.close()
    assert not screen._timer.is_triggered
