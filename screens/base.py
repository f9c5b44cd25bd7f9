"""The frame every screen shares: progress, title, call-staff and cancel on top; the body;
back and the main action at the bottom, where a thumb finds them. Which steps the progress
counts and what call-staff and cancel do belong to the user's journey (screens/citizen/frame.py).

A screen builds its widgets each time it is entered (``render``) and drops them when the
session ends (``wipe``), so nothing about one citizen is left for the next one to see. Parts
that show nothing of the citizen (the header; the matter list's buttons and keyboard, cleared
of what was typed) are kept from one render to the next (``kept_widgets``): building and
rendering them again was most of a tap's time. A screen whose body and footer depend only on
its look and on what ``body_key`` names keeps them whole too (a few per screen): shown again
they are only ``fill_body``-ed with what changes, and ``wipe_shown`` empties each kept one of
the citizen's data when the session ends.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from kivy.animation import Animation
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.errors import BilingualError
from kiosk.interaction.speech import Speech
from screens.context import Ui
from screens.labels import N_
from screens.navigator import Navigator
from screens.widgets import KioskButton, Text, escape, fit_height, fit_row, two_lines
from screens.wrapping import forget_texts

PROGRESS = N_("第 {n} 步，共 {m} 步：{name}")
KEPT_BODIES = 4          # bodies kept per screen (a guide per matter: bounded, newest kept)


class KioskScreen(Screen):
    screen_name = ""
    steps: tuple[str, ...] = ()  # the journey's steps, for "第 n 步 / 共 m 步"
    step: int | None = None      # 1-based index into steps; None: no progress shown
    title_id = ""                # msgid of the title
    spoken_id = ""               # msgid of the spoken prompt on entering
    cancellable = True
    kept_attributes: tuple[str, ...] = ()   # set by body()/footer(): restored with a kept body

    def __init__(self, ui: Ui, nav: Navigator, **kwargs: Any) -> None:
        super().__init__(name=self.screen_name, **kwargs)
        self.ui, self.nav = ui, nav
        self._header: tuple[Hashable, Widget] | None = None    # (its look, the header)
        # body_key → (body, footer bar or None, the kept_attributes' values), oldest first
        self._bodies: dict[Hashable, tuple[Widget, Widget | None, dict[str, Any]]] = {}

    # --- life cycle ----------------------------------------------------------------------
    def on_pre_enter(self, *_: Any) -> None:
        self.render()

    def on_enter(self, *_: Any) -> None:
        self.speak()

    def speech(self) -> Speech | None:
        """What the screen says on entering and when 朗读 is pressed: by default its spoken
        prompt; screens whose content matters to someone who cannot read it say more."""
        return self.ui.speech(self.spoken_id) if self.spoken_id else None

    def speak(self, asked: bool = False) -> None:
        speech = self.speech()
        if speech is not None:
            self.ui.speak(speech, asked=asked)

    def render(self) -> None:
        self.drop_widgets()
        theme = self.ui.theme
        # at the screen's size from the start: a box at Kivy's default 100 px would lay the
        # kept parts out that narrow first, and their texts would be rendered at that width
        # (at (0, 0): a screen places its children in its own coordinates)
        root = BoxLayout(orientation="vertical", padding=theme.pad, spacing=theme.gap * 2,
                         size_hint=(1, 1), pos=(0, 0), size=self.size)
        # the page's colour is the window's clear colour: a full-screen rectangle cost a
        # blended pass over every pixel of every frame (~38 ms a frame on Mesa llvmpipe)
        Window.clearcolor = theme.palette.background
        root.add_widget(self.header())
        body, bar = self._body_and_footer()
        root.add_widget(body)
        if bar is not None:
            root.add_widget(bar)
        self.add_widget(root)
        self.fill_body()
        self.nav.screen_rendered()

    def _body_and_footer(self) -> tuple[Widget, Widget | None]:
        """The body and the footer's bar: kept ones when ``body_key`` names them, else new."""
        ui = self.ui
        key = self.body_key()
        if key is not None:
            key = (ui.theme, ui.tr.lang, key)
            kept = self._bodies.pop(key, None)
            if kept is not None:
                self._bodies[key] = kept                  # the newest again
                body, bar, attributes = kept
                self.__dict__.update(attributes)
                for widget in (body, bar):
                    if widget is not None and widget.parent is not None:
                        widget.parent.remove_widget(widget)
                for view in body.walk(restrict=True):     # from the top, as a new one
                    if isinstance(view, ScrollView):
                        view.scroll_y = 1
                return body, bar
        body, bar = self.body(), self._footer_bar()
        if key is not None:
            attributes = {name: getattr(self, name) for name in self.kept_attributes}
            self._bodies[key] = (body, bar, attributes)
            while len(self._bodies) > KEPT_BODIES:
                del self._bodies[next(iter(self._bodies))]
        return body, bar

    def _footer_bar(self) -> Widget | None:
        footer = self.footer()
        if not footer:
            return None
        bar = BoxLayout(spacing=self.ui.theme.gap * 2)
        for widget in footer:
            bar.add_widget(widget)
        return fit_row(bar)

    def body_key(self) -> Hashable | None:
        """What the body and footer show besides the look, for a screen that keeps them
        (equal keys: the same widgets, then ``fill_body``-ed); None: built anew each render."""
        return None

    def fill_body(self) -> None:
        """Show the moment's data in the body just placed (kept or new): what its key does
        not name."""

    def wipe_shown(self) -> None:
        """Empty the kept body whose ``kept_attributes`` are current of the citizen's data."""

    def wipe(self) -> None:
        """Forget everything shown: called when a session ends, whatever screen is current."""
        self.drop_widgets()
        self.wipe_state()
        for _body, _bar, attributes in self._bodies.values():
            self.__dict__.update(attributes)
            self.wipe_shown()
        forget_texts()            # the line-break cache holds what was shown (names, phone)

    def drop_widgets(self) -> None:
        """Clear the screen. Running animations are cancelled first: Kivy keeps every running
        Animation, and through it the widget tree it moves (a leak of a screen per render)."""
        self._stop_animations()
        self.clear_widgets()
        wholes = {id(widget) for body, bar, _ in self._bodies.values() for widget in (body, bar)}
        for widget in self.kept_widgets():      # a child's parent link keeps the tree alive
            if widget.parent is not None and (id(widget) in wholes
                                              or not _inside(widget, wholes)):
                widget.parent.remove_widget(widget)

    def kept_widgets(self) -> list[Widget]:
        """Widgets the screen keeps from one render to the next (subclasses add theirs)."""
        kept = [self._header[1]] if self._header is not None else []
        return kept + [widget for body, bar, _ in self._bodies.values() for widget in (body, bar)
                       if widget is not None]

    def on_leave(self, *_: Any) -> None:
        self._stop_animations()                       # nothing moves on a screen not shown

    def _stop_animations(self) -> None:
        for widget in self.walk(restrict=True):
            Animation.cancel_all(widget)

    def wipe_state(self) -> None:
        """Reset what the screen remembers about the citizen (subclasses that keep any)."""

    # --- parts ---------------------------------------------------------------------------
    def header(self) -> Widget:
        """Built once per look (view, language, voice, path, title) and kept: it shows
        nothing of the citizen, and it is a third of a screen's texts to lay out and render."""
        ui = self.ui
        voice = ui.voice is not None and ui.voice.enabled
        key = (ui.theme, ui.tr.lang, voice, self.step, self.skipped_steps(), self.title_id)
        kept = self._header
        if kept is not None and kept[0] == key:
            box = kept[1]
            if box.parent is not None:
                box.parent.remove_widget(box)
            return box
        box = self.build_header()
        self._header = (key, box)
        return box

    def build_header(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=theme.gap)
        fit_height(box)
        row = BoxLayout(spacing=theme.gap * 2)
        progress = self.progress_text() if self.step is not None else ""
        row.add_widget(Text(theme, progress, size=theme.small, colour=theme.palette.muted))
        tools = self.tools()
        if theme.landscape:                 # wide enough: the tools join the top row
            for tool in tools:
                tool.size_hint_x, tool.width = None, theme.mm(40)
                row.add_widget(tool)
        row.add_widget(KioskButton(theme, ui.bi("呼叫工作人员"), self.call_staff,
                                    name="call_staff", size_hint_x=None, width=theme.mm(62),
                                    font=theme.small * 1.1))
        if self.cancellable:
            row.add_widget(KioskButton(theme, ui.bi("取消办理"), self.ask_cancel,
                                        name="cancel", size_hint_x=None, width=theme.mm(48),
                                        font=theme.small * 1.1))
        box.add_widget(fit_row(row))
        if tools and not theme.landscape:
            bar = BoxLayout(spacing=theme.gap * 2)
            for tool in tools:
                bar.add_widget(tool)
            box.add_widget(fit_row(bar))
        if self.step is not None:
            box.add_widget(self.progress_bar())
        if self.title_id:
            box.add_widget(Text(theme, ui.bi(self.title_id), size=theme.title, bold=True))
        return box

    def progress_text(self) -> str:
        """第 n 步，共 m 步：name — the current step's name in each language shown."""
        ui, step = self.ui, self.step or 1
        name = self.steps[step - 1]
        primary, secondary = (ui.tr.lookup(PROGRESS, lang).format(
            n=step, m=len(self.steps), name=ui.tr.lookup(name, lang))
            for lang in (ui.tr.lang, ui.tr.second))
        return two_lines(ui.theme, primary, secondary)

    def skipped_steps(self) -> frozenset[int]:
        """Steps this user's path went past without doing (the journey's screens say which)."""
        return frozenset()

    def progress_bar(self) -> Widget:
        """Done steps filled and ticked, skipped ones marked –, the current one numbered:
        not colour alone. Each step's name is in its cell where names fit (standard Chinese);
        elsewhere only the current step's, in the header's progress text."""
        ui, theme = self.ui, self.ui.theme
        named = not theme.elder and ui.tr.lang == "zh_CN"
        # the name under the number; beside it in landscape (wide cells, little height)
        lines = 2 if named and not theme.landscape else 1
        # small text with its leading (CJK fonts are ~1.45 em tall)
        bar = BoxLayout(size_hint_y=None, height=theme.small * 1.6 * theme.line_height * lines,
                        spacing=theme.mm(1))
        skipped = self.skipped_steps()
        for index in range(1, len(self.steps) + 1):
            done, current = index < (self.step or 0), index == self.step
            skip = done and index in skipped
            mark = "–" if skip else ("✓" if done else str(index))
            if named:
                mark += ("\n" if lines == 2 else " ") + (
                    f"[size={int(theme.small * 0.85)}]{escape(self.steps[index - 1])}[/size]")
            cell = Text(theme, f"[b]{mark}[/b]" if current else mark, size=theme.small,
                        halign="center", size_hint_y=1,
                        colour=theme.palette.on_primary if (done and not skip) or current
                        else theme.palette.muted)
            cell.name = f"step_{index}_{'skipped' if skip else 'done' if done else 'todo'}"
            fill = (theme.palette.secondary if skip else theme.palette.ok if done
                    else theme.palette.primary if current else theme.palette.disabled)
            with cell.canvas.before:
                Color(*fill)
                rect = Rectangle()
            cell.bind(pos=lambda w, p, r=rect: setattr(r, "pos", p),
                      size=lambda w, s, r=rect: setattr(r, "size", s))
            bar.add_widget(cell)
        return bar

    def body(self) -> Widget:
        return Widget()

    def tools(self) -> list[Widget]:
        """A row of small buttons under the header's (language, view, voice)."""
        return []

    def call_staff(self) -> None:
        """The header's 呼叫工作人员 (the journey's screens say whom it calls)."""

    def ask_cancel(self) -> None:
        """The header's 取消办理, shown when ``cancellable``."""

    def footer(self) -> list[Widget]:
        return []

    # --- helpers for subclasses ------------------------------------------------------------
    def scroll(self, content: BoxLayout) -> ScrollView:
        """A vertical list that scrolls when dragged, with a bar beside it that shows where
        in the list the citizen is."""
        fit_height(content)
        theme = self.ui.theme
        # a margin under the last row, so that scrolled to the end it shows whole
        left, top, right, bottom = content.padding
        content.padding = [left, top, right, bottom + theme.gap]
        # the bar in the page's margin beside the list (drawn after the view's clipping),
        # not over the rows' right edge
        view = ScrollView(do_scroll_x=False, bar_width=theme.mm(3),
                          bar_margin=-theme.mm(4.5), scroll_type=["bars", "content"],
                          bar_color=theme.palette.muted,
                          bar_inactive_color=theme.palette.outline)
        view.add_widget(content)
        return view

    def back_button(self, action: Any, msgid: str = N_("上一步")) -> KioskButton:
        return KioskButton(self.ui.theme, self.ui.bi(msgid), action, name="back",
                            size_hint_x=0.4)

    def next_button(self, action: Any, msgid: str = N_("下一步"), enabled: bool = True,
                    name: str = "next") -> KioskButton:
        return KioskButton(self.ui.theme, self.ui.bi(msgid), action, kind="primary",
                            name=name, enabled=enabled)


def _inside(widget: Widget, wholes: set[int]) -> bool:
    """Whether one of the widget's parents is among ``wholes`` (ids of kept bodies)."""
    parent = widget.parent
    while isinstance(parent, Widget):
        if id(parent) in wholes:
            return True
        parent = parent.parent
    return False


def error_text(error: BaseException) -> tuple[str, str]:
    """What to tell the citizen about a failed call: its own words if it has them."""
    if isinstance(error, BilingualError):
        return error.zh, error.en
    return "操作失败，请联系工作人员", "Something went wrong: please call staff"
