"""Matter choice: by scope, by department or life event, or searched by Chinese keyword or
pinyin initials (``hjzm`` → 户籍类证明开具). Paged, not scrolled: each page holds as many
matters as fit the height left under the filters or the keyboard (fewer, larger ones in
长辈版). A matter whose devices are down says why instead of failing midway."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.stacklayout import StackLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import Matter, ScopeKind
from kiosk.errors import BilingualError
from kiosk.interaction.ime import Vocabulary
from kiosk.interaction.search import MatterIndex
from screens.citizen.frame import CitizenScreen
from screens.keyboard import PinyinKeyboard
from screens.labels import N_
from screens.theme import Theme
from screens.widgets import KioskButton, Panel, Text, escape, fit_height, fit_row
from screens.wrapping import text_width

PLACEHOLDER = N_("输入拼音首字母搜索，如 hjzm")


class SearchField(ButtonBehavior, Panel):
    """The search box: it looks like an input, so touching it opens the keyboard."""

    def __init__(self, theme: Theme, on_tap: Any, name: str, **kwargs: Any) -> None:
        super().__init__(theme=theme, **kwargs)          # by keyword, past ButtonBehavior
        self.name, self.min_target = name, theme.target
        self.bind(on_release=lambda *_: on_tap())


def keyboard_labels(ui: Any) -> dict[str, str]:
    return {"clear": ui.bi("清空"), "space": ui.bi("空格"), "delete": ui.bi("删除"),
            "more": ui.bi("更多")}


class MattersScreen(CitizenScreen):
    screen_name = "matters"
    step = 1
    title_id = "请选择要办理的事项"
    spoken_id = "请选择要办理的事项，可以按拼音首字母搜索"

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        # the next frame's fill runs only when what is shown is stale: the list's height
        # changed, or the query did (a kept list filled at its known height on entry is not
        # filled a second time: that doubled the cost of a tap on 开始办理)
        self._refill = Clock.create_trigger(lambda _dt: self._fill_if_stale())
        self._stale, self._filled_size = True, (0.0, 0.0)
        self.index = MatterIndex(ui.service.all_matters())
        self.vocabulary = Vocabulary(self.index.vocabulary())   # offered before the dictionary
        self._kept_keyboard: tuple[Any, PinyinKeyboard] | None = None
        self._buttons: dict[str, KioskButton] = {}     # the matters' buttons, kept
        self._chip_buttons: dict[tuple[str, str], KioskButton] = {}   # the filters', kept
        self.wipe_state()

    def wipe_state(self) -> None:
        self.query, self.browse = "", ""
        self.scope: ScopeKind | None = None
        self.facet: str | None = None
        self.page, self.typing = 0, False
        self.page_starts = [0]              # where each page seen so far starts in matches()
        self.keyboard: PinyinKeyboard | None = None
        if self._kept_keyboard is not None:
            self._kept_keyboard[1].forget()     # what this citizen typed

    # --- layout --------------------------------------------------------------------------
    kept_attributes = ("results", "results_area", "search_text", "search_row", "filters",
                       "search_toggles", "columns", "prev_page", "next_page")

    def body_key(self) -> bool:
        """One body per look, kept: the filters or the keyboard go into it on each render
        (``fill_body``). Landscape lays the keyboard beside the list: a body of its own."""
        return self.typing and self.ui.theme.landscape

    def body(self) -> Widget:
        theme = self.ui.theme
        # landscape is short: tighter rows so three rows of matters fit above the footer
        box = BoxLayout(orientation="vertical",
                        spacing=theme.gap * (1.0 if theme.landscape else 1.5))
        box.add_widget(self._search_row())
        # two columns in landscape: six matters in three rows fit under the filters
        self.columns = 2 if theme.landscape and not self.typing else 1
        self.results = GridLayout(cols=self.columns, spacing=theme.gap, size_hint_y=None)
        self.results.bind(minimum_height=self.results.setter("height"))
        # the height left for the list decides how many matters a page holds
        self.results_area = BoxLayout(orientation="vertical")
        self.results_area.add_widget(self.results)
        self.results_area.add_widget(Widget())
        self.results_area.bind(size=self._area_resized)
        # the filters' chips or the keyboard, put in by fill_body
        self.filters = BoxLayout(orientation="vertical", spacing=box.spacing)
        fit_height(self.filters)
        if self.typing and theme.landscape:   # too little height for both: keyboard beside
            side = BoxLayout(spacing=theme.gap * 2)
            keys = BoxLayout(orientation="vertical", size_hint_x=1.25)   # 55 % of the width
            keys.add_widget(self.filters)
            keys.add_widget(Widget())
            side.add_widget(keys)
            side.add_widget(self.results_area)
            box.add_widget(side)
            return box
        box.add_widget(self.filters)
        box.add_widget(self.results_area)
        return box

    def fill_body(self) -> None:
        """The moment's query, filters or keyboard, and the first page of matters."""
        self._show_query()
        shown, hidden = self.search_toggles[::-1] if self.typing else self.search_toggles
        if hidden.parent is not None:
            self.search_row.remove_widget(hidden)
            self.search_row.add_widget(shown)
        self._put_filters()
        if tuple(self.results_area.size) != (100, 100):     # Kivy's default: never laid out
            self._fill_results()            # a kept list: its height is known already
        else:
            self._stale = True
            self.prev_page.set_enabled(False)
            self.next_page.set_enabled(False)   # until the list knows how many matters fit
        self._refill()                      # again once laid out, if its height changed

    def _put_filters(self) -> None:
        """The filters' chips, showing the moment's choice, or the keyboard."""
        ui, theme = self.ui, self.ui.theme
        self.filters.clear_widgets()
        if self.typing:
            self.keyboard = self._kept(ui, theme)
            self.filters.add_widget(self.keyboard)
            return
        self.keyboard = None
        self.filters.add_widget(self._chips(self._scope_choices(), "scope"))
        self.filters.add_widget(self._chips(self._browse_choices(), "browse"))
        if self.browse:
            self.filters.add_widget(self._chips(self._facet_choices(), "facet"))

    def wipe_shown(self) -> None:
        self.query = ""
        self._show_query()                  # what was typed
        self.results.clear_widgets()        # what it found
        # the choices a new session starts from (wipe_state has reset them), not none: the
        # list keeps the height the next citizen's page is filled at when it is shown
        self._put_filters()

    def _kept(self, ui: Any, theme: Theme) -> PinyinKeyboard:
        """The keyboard, built once per look and kept (some 35 keys to lay out and render
        each time it opened); it starts from the query, as a new one would."""
        look = (theme, ui.tr.lang)
        if self._kept_keyboard is not None and self._kept_keyboard[0] == look:
            keyboard = self._kept_keyboard[1]
            if keyboard.parent is not None:
                keyboard.parent.remove_widget(keyboard)
            keyboard.restart(self.query)
            return keyboard
        keyboard = PinyinKeyboard(theme, ui.ime, self._typed, keyboard_labels(ui),
                                  text=self.query, vocabulary=self.vocabulary)
        self._kept_keyboard = (look, keyboard)
        return keyboard

    def kept_widgets(self) -> list[Widget]:
        kept = [*super().kept_widgets(), *self._buttons.values(), *self._chip_buttons.values()]
        return kept + ([self._kept_keyboard[1]] if self._kept_keyboard is not None else [])

    def footer(self) -> list[Widget]:
        theme = self.ui.theme
        self.prev_page = KioskButton(theme, self.ui.bi("上一页"), self._prev, name="prev_page")
        self.next_page = KioskButton(theme, self.ui.bi("下一页"), self._next, name="next_page")
        return [self.prev_page, self.next_page]

    def _search_row(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        row = BoxLayout(size_hint_y=None, height=theme.target, spacing=theme.gap)
        self.search_text = Text(theme, size_hint_y=1)
        panel = SearchField(theme, self._open_keyboard, name="search_field",
                            padding=(theme.gap, 0))
        panel.add_widget(self.search_text)
        row.add_widget(panel)
        # 搜索 or 收起键盘 (fill_body says which); four large characters on one line in 长辈版
        # (收起键盘 broke after 键)
        width = max(theme.mm(40), theme.button * 4 + theme.gap * 3)
        self.search_toggles = tuple(
            KioskButton(theme, label, self._toggle_keyboard, name="search",
                        size_hint_x=None, width=width, height=theme.target)
            for label in (ui.bi("搜索"), ui.bi("收起键盘")))
        for toggle in self.search_toggles:
            row.add_widget(toggle)
        self.search_row = row
        # as tall as a line of the typed text (CJK fonts are ~1.45 em), not only the button,
        # and as the taller of the two (so the row stays put when the keyboard opens)
        fit_row(row, minimum=theme.body * 1.5 * theme.line_height)
        row.remove_widget(self.search_toggles[1])     # 收起键盘: fill_body shows the one it says
        return row

    def _show_query(self) -> None:
        """What was typed, in the text colour; the hint in grey while nothing is."""
        palette = self.ui.theme.palette
        self.search_text.text = (escape(self.query) if self.query
                                 else self.ui.bi(PLACEHOLDER))
        self.search_text.color = palette.text if self.query else palette.muted

    def _chips(self, choices: list[tuple[str, str, bool, Any]], group: str) -> Widget:
        theme = self.ui.theme
        stack = StackLayout(size_hint_y=None, spacing=theme.gap)
        font = theme.button * 0.9
        for label, name, selected, action in choices:
            stack.add_widget(self._chip(group, name, label, selected, action, font))
        stack.bind(minimum_height=stack.setter("height"))
        return stack

    def _chip(self, group: str, name: str, label: str, selected: bool, action: Any,
              font: float) -> KioskButton:
        """A filter's button, built once per look and label and kept (each render built all
        of them anew: ~40 % of a tap on 开始办理); only whether it is chosen changes."""
        theme = self.ui.theme
        chip = self._chip_buttons.get((group, name))
        if chip is not None and chip.theme == theme and chip.text == label:
            if chip.parent is not None:
                chip.parent.remove_widget(chip)
            chip.set_selected(selected)     # its action: the same label does the same thing
            return chip
        # as wide as the label as drawn (an English word is half a Chinese one per letter)
        width = text_width(label.split("\n")[0], DEFAULT_FONT, font) + theme.gap * 2
        chip = KioskButton(theme, label, action, kind="choice", selected=selected,
                           name=f"{group}_{name}", size_hint_x=None,
                           width=min(max(width + theme.mm(4), theme.target), theme.mm(90)),
                           font=font)
        self._chip_buttons[(group, name)] = chip
        return chip

    def _scope_choices(self) -> list[tuple[str, str, bool, Any]]:
        ui = self.ui
        used = {m.scope.kind for m in ui.service.all_matters()}
        choices = [(ui.t("全部"), "all", self.scope is None, lambda: self._set_scope(None))]
        choices += [(ui.t(kind.value), kind.name.lower(), self.scope is kind,
                     lambda k=kind: self._set_scope(k)) for kind in ScopeKind if kind in used]
        return choices

    def _browse_choices(self) -> list[tuple[str, str, bool, Any]]:
        ui = self.ui
        return [(ui.t("按部门"), "department", self.browse == "department",
                 lambda: self._set_browse("department")),
                (ui.t("按生活事件"), "life_event", self.browse == "life_event",
                 lambda: self._set_browse("life_event"))]

    def _facet_choices(self) -> list[tuple[str, str, bool, Any]]:
        ui = self.ui
        values = (self.index.departments() if self.browse == "department"
                  else self.index.life_events())
        # department names come from the catalogue, with its English names
        english = {m.department: m.department_en for m in ui.service.all_matters()}

        def label(value: str) -> str:
            if self.browse == "life_event":
                return ui.t(value)
            return ui.tr.pick(value, english.get(value, ""))[0]

        return [(label(value), str(i), self.facet == value, lambda v=value: self._set_facet(v))
                for i, value in enumerate(values)]

    # --- results -------------------------------------------------------------------------
    def matches(self) -> list[Matter]:
        department = self.facet if self.browse == "department" else None
        life_event = self.facet if self.browse == "life_event" else None
        return self.index.search(self.query, scope=self.scope, department=department,
                                 life_event=life_event)

    def _area_resized(self, *_: Any) -> None:
        """The page is filled again from its first matter (which stays where it was, back
        from a guide), once, when the layout has settled however often it moved."""
        self._refill()

    def _restart_pages(self) -> None:
        self.page, self.page_starts = 0, [0]

    def _fill_if_stale(self) -> None:
        if self._stale or tuple(self.results_area.size) != self._filled_size:
            self._fill_results()

    def _fill_results(self) -> None:
        """The current page: from where it starts, as many matters as fit the list's height
        (each measured at the width it is shown at, so a wrapped name counts double)."""
        ui, theme = self.ui, self.ui.theme
        self.results.clear_widgets()
        matters = self.matches()
        if not matters:
            self.results.add_widget(Text(theme, ui.bi("没有找到相关事项，请换个词，或呼叫工作人员"),
                                         colour=theme.palette.muted, halign="center"))
        start = self.page_starts[self.page]
        end = start + self._fitting(matters[start:])
        del self.page_starts[self.page + 1:]
        if end < len(matters):
            self.page_starts.append(end)
        self.prev_page.set_enabled(self.page > 0)
        self.next_page.set_enabled(end < len(matters))
        self._stale, self._filled_size = False, tuple(self.results_area.size)

    def _fitting(self, matters: list[Matter]) -> int:
        """Adds rows of buttons while they fit the list area; returns how many were added
        (at least one row: a page is never empty)."""
        gap, columns = self.ui.theme.gap, self.columns
        width = (self.results_area.width - gap * (columns - 1)) / columns
        room, used = self.results_area.height, -gap
        for first in range(0, len(matters), columns):
            row = [self._measured(matter, width) for matter in matters[first:first + columns]]
            height = max(button.natural_height() for button in row)
            if first and used + gap + height > room:
                return first
            used += gap + height
            for button in row:
                self.results.add_widget(button)
        return len(matters)

    def _measured(self, matter: Matter, width: float) -> KioskButton:
        """The matter's button with its text laid out at ``width``. Kept while its look and
        words stay (the catalogue's, nothing of the citizen), so the list drawn again (the
        layout settling, a filter, back from a guide, the next citizen) renders nothing anew."""
        theme, text = self.ui.theme, self._matter_text(matter)
        button = self._buttons.get(matter.code)
        if button is None or button.theme != theme or button.text != text:
            button = self._matter_button(matter, text)
            self._buttons[matter.code] = button
        elif button.parent is not None:
            button.parent.remove_widget(button)
        if button.width != width or not button.texture:
            button.width = width           # its text wraps as it will be shown
            button.texture_update()
            button._trigger_texture.cancel()     # rendered now: not once more next frame
        return button

    def _matter_text(self, matter: Matter) -> str:
        ui, theme = self.ui, self.ui.theme
        availability = ui.service.availability(matter)
        name, _ = ui.tr.pick(matter.name, matter.name_en)
        department = ui.tr.pick(matter.department, matter.department_en)[0]
        details = f"{ui.t(matter.scope.kind.value)} · {department}"
        if not matter.kiosk_can_take:
            details += " · " + ui.t("本机不能办理，可打印办理指引")
        elif not availability.available:
            details += " · ⚠ " + ui.tr.pick(availability.zh, availability.en)[0]
        return f"[b]{escape(name)}[/b]\n[size={int(theme.small)}]{escape(details)}[/size]"

    def _matter_button(self, matter: Matter, text: str) -> KioskButton:
        theme = self.ui.theme
        button = KioskButton(theme, text, lambda: self._open(matter), name=f"matter_{matter.code}",
                              height=theme.target * 1.6, kind="choice")
        button.halign = "left"
        return button

    # --- actions -------------------------------------------------------------------------
    def _open(self, matter: Matter) -> None:
        ui = self.ui
        journey = self.journey
        if not matter.kiosk_can_take or journey.browsing:
            journey.guide_only = matter          # read the guide, print the slip
            self.nav.go("guide")
            return
        try:
            assert journey.session is not None
            ui.service.choose(journey.session, matter)
        except BilingualError as error:
            self.nav.show_error(error.zh, error.en)
            return
        journey.guide_only = None
        self.nav.go("guide")

    def _typed(self, text: str, buffer: str) -> None:
        self.query = text or buffer   # pinyin letters search until Chinese is chosen
        self._show_query()
        self._restart_pages()
        self._stale = True
        self._refill()                # the keyboard calls this while it is being built

    def _toggle_keyboard(self) -> None:
        self.typing = not self.typing
        self._restart_pages()
        self.render()

    def _open_keyboard(self) -> None:
        if not self.typing:
            self._toggle_keyboard()

    def _set_scope(self, scope: ScopeKind | None) -> None:
        self.scope = scope
        self._restart_pages()
        self.render()

    def _set_browse(self, browse: str) -> None:
        self.browse = "" if self.browse == browse else browse
        self.facet = None
        self._restart_pages()
        self.render()

    def _set_facet(self, value: str) -> None:
        self.facet = None if self.facet == value else value
        self._restart_pages()
        self.render()

    def _prev(self) -> None:
        self.page = max(0, self.page - 1)
        self._fill_results()

    def _next(self) -> None:
        self.page = min(self.page + 1, len(self.page_starts) - 1)
        self._fill_results()
