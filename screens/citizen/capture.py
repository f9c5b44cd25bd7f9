"""Capture: live preview with the detected page outlined, spoken and written hints, auto
capture after a visible countdown, a manual button, and a checklist of every material with
its page count, thumbnails and retake.

The preview shows only the newest frame (``CameraFeed.latest``); detection runs on the
feed's own thread, so drawing never waits for it, and the auto-capture's SHOOT starts the
still from that thread (``on_shoot``) rather than waiting for a redraw.

Only this citizen's pages are filed, for the material they meant: a page already on the plate
when the step opens is never taken (auto or button) until the plate has been seen empty — it
may be the last citizen's — and a page taken in this session is not taken again as another
material unless the citizen says so (the button asks first). Each page's look (the preview's
perceptual hash) is kept per session for that, and given up when the page is retaken.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import AlternativeGroup, Material, Necessity
from kiosk.interaction.autocapture import CaptureState
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.citizen.page_viewer import PageImages, ShowsPages
from screens.dialogs import Dialog
from screens.labels import N_
from screens.widgets import KioskButton, Picture, Text, escape, fit_row

PREVIEW_FPS = 30          # the document camera's rate: every frame it makes is shown
HINTS = {
    "no_page": N_("请把材料平放在拍摄区内"),
    "outside": N_("请把材料移到拍摄区中间"),
    "too_small": N_("请把材料放在拍摄区正下方"),
    "glare": N_("反光太强，请调整材料角度"),
    "moving": N_("请保持材料不动"),
    "duplicate": N_("这一页已经拍过了，请换下一页"),
    "stale": N_("请先取走拍摄区上的材料"),
    "checking": N_("正在查看拍摄区，请稍候"),
    "countdown": N_("请保持不动，{s} 秒后自动拍照"),
    "shooting": N_("正在拍照……"),
}

log = logging.getLogger(__name__)
HANDLING = (CaptureState.HOLD_STILL, CaptureState.ADJUST, CaptureState.COUNTDOWN)


class CaptureScreen(ShowsPages, CitizenScreen):
    screen_name = "capture"
    step: int | None = 4
    title_id = "拍摄材料"
    spoken_id = "请把材料平放在拍摄区内，保持不动，机器会自动拍照"
    cancellable = True

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.feed: Any = None
        self._ticker: Any = None
        self._shot_lock = threading.Lock()     # the feed's SHOOT and the button: one shot
        self.wipe_state()

    def wipe_state(self) -> None:
        self.current = ""                    # material id being captured
        self.shooting = False
        self.last_seq = -1
        self.hint_id = "no_page"
        self.messages: dict[str, tuple[str, str]] = {}
        self.frames_shown = 0
        self._texture: Texture | None = None
        self._textures: list[Texture] = []     # the preview's two, in turn (_draw_frame)
        self._spoken = ""
        self.looks: dict[str, int] = {}          # page ref → its look, for this session only
        self.retake: tuple[str, int] | None = None   # (material, page number) to replace
        self.images: PageImages | None = None
        self.checklist: Any = None      # a 补正's items (screens/citizen/correction.py)
        self.step = type(self).step

    def use_checklist(self, checklist: Any) -> None:
        """Capture for a 补正: the checklist gives the materials (exactly the requested
        items), keeps the pages and takes the shots; the application's steps do not apply."""
        self.wipe_state()
        self.checklist, self.step = checklist, None

    def page_source(self) -> Any:
        """Whose materials and pages: a 补正's checklist, else the application's session
        (both have ``situation.materials``, ``pages``, ``remove_page`` and ``page_image``)."""
        return self.checklist if self.checklist is not None else self.journey.session

    def wipe(self) -> None:
        self._stop_feed()
        super().wipe()

    # --- life cycle ----------------------------------------------------------------------
    def on_pre_enter(self, *_: Any) -> None:
        if not self.current:
            self.current = self._first_open_material()
        super().on_pre_enter()

    def on_enter(self, *_: Any) -> None:
        super().on_enter()
        if self.feed is None:
            self.feed = self.ui.service.camera_feed()
            self.feed.on_shoot = self._auto_shoot
            self.feed.remember(self._kept_looks())
            self.feed.start()
        self._ticker = Clock.schedule_interval(self._update, 1 / PREVIEW_FPS)

    def on_leave(self, *_: Any) -> None:
        super().on_leave()
        self._stop_feed()

    def _stop_feed(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.feed is not None:
            self.feed.stop()
            self.feed = None

    # --- materials -----------------------------------------------------------------------
    def rows(self) -> list[tuple[Material, Any]]:
        """Every material the citizen may lay down, with the requirement it belongs to."""
        session = self.page_source()
        if session is None or session.situation is None:
            return []
        return [(material, req) for req in session.situation.materials
                for material in req.options]

    def material(self, material_id: str) -> Material:
        return next(m for m, _ in self.rows() if m.id == material_id)

    def pages(self, material_id: str) -> list[Any]:
        session = self.page_source()
        return list(session.pages.get(material_id, [])) if session else []

    def _first_open_material(self) -> str:
        rows = self.rows()
        for material, req in rows:
            group_done = any(self.pages(m.id) for m in req.options)
            if req.necessity is Necessity.REQUIRED and not group_done:
                return material.id
        return rows[0][0].id if rows else ""

    # --- layout --------------------------------------------------------------------------
    def body(self) -> Widget:
        theme = self.ui.theme
        live = BoxLayout(orientation="vertical", spacing=theme.gap)
        self._title = self._current_title()
        live.add_widget(self._title)
        self.preview = Picture()
        if self._texture is not None:       # the last frame until the next: no blank flash
            self.preview.show(self._texture)
        with self.preview.canvas.after:
            self._outline_colour = Color(*theme.palette.warning)
            self._outline = Line(width=theme.mm(0.8), close=True)
        live.add_widget(self.preview)
        # The hint changes every few frames: its box only ever grows (to the tallest hint
        # seen), so the buttons under it do not jump up and down with the wording.
        self.hint = Text(theme, self.ui.bi(HINTS[self.hint_id]), size=theme.title * 0.8,
                         bold=True, halign="center", grow=False,
                         height=theme.title * 0.8 * (1.6 if theme.elder else 2.6))
        self.hint.bind(texture_size=self._hint_fits)
        live.add_widget(self.hint)
        live.add_widget(self._capture_buttons())
        checklist = self._checklist()
        if theme.landscape:
            box = BoxLayout(spacing=theme.gap * 2)
            live.size_hint_x = 0.58
            box.add_widget(live)
            box.add_widget(checklist)
            return box
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        live.size_hint_y = 0.62
        box.add_widget(live)
        checklist.size_hint_y = 0.38
        box.add_widget(checklist)
        return box

    def _hint_fits(self, hint: Text, texture_size: tuple[int, int]) -> None:
        hint.height = max(hint.height, texture_size[1] + self.ui.theme.gap)

    def _current_title(self) -> Text:
        return Text(self.ui.theme, self._title_text(), size=self.ui.theme.body * 1.1)

    def _title_text(self) -> str:
        ui = self.ui
        if not self.current:
            return ""
        material = self.material(self.current)
        count = len(self.pages(self.current))
        name = ui.tr.pick(material.name, material.name_en)[0]
        punct = ui.tr.punct
        state = ui.t("已拍 {n} 页", n=count)
        if self.retake is not None and self.retake[0] == self.current:
            state = "[color=#B3261E]" + ui.t("重拍第 {n} 页：请放上这一页", n=self.retake[1]) + \
                "[/color]"
        return (f"[b]{escape(name)}[/b]" + punct("（") + ui.t(material.original.value)
                + punct("）") + punct("　") + state)

    def _capture_buttons(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        row = BoxLayout(size_hint_y=None, height=theme.target * 1.2, spacing=theme.gap * 2)
        row.add_widget(KioskButton(theme, ui.bi("立即拍照"), self.capture_now, name="shoot",
                                    kind="primary", height=theme.target * 1.2))
        self._retake_button: KioskButton | None = None
        if self.retake is not None:
            row.add_widget(KioskButton(theme, ui.bi("取消重拍"), self._cancel_retake,
                                        name="cancel_retake", height=theme.target * 1.2))
            return fit_row(row)
        pages = self.pages(self.current)
        self._retake_button = KioskButton(
            theme, ui.bi("删除上一页重拍"), self._retake, name="retake", enabled=bool(pages),
            height=theme.target * 1.2)
        row.add_widget(self._retake_button)
        return fit_row(row)

    def _checklist(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        box.add_widget(Text(theme, ui.bi("材料清单（点选要拍的材料）"), bold=True))
        self._rows: dict[str, KioskButton] = {}
        self._checklist_box, self._thumbs = box, None
        for material, req in self.rows():
            self._rows[material.id] = self._row(material, req)
            box.add_widget(self._rows[material.id])
            if material.id == self.current and self.pages(material.id):
                self._thumbs = self._thumbnails(material.id)
                box.add_widget(self._thumbs)       # under its own row, in view
        return self.scroll(box)

    def _show_shot(self, material_id: str, chosen: str) -> None:
        """After a shot (or another material chosen), only what changed: the title, the
        material's row and the one chosen before, the thumbnails and 删除上一页重拍 — not
        the whole screen (each render laid out and drew every text again)."""
        texts = {m.id: (self._row_text(m, req), m.id == self.current) for m, req in self.rows()}
        for material_id_shown in {material_id, chosen, self.current}:
            button = self._rows.get(material_id_shown)
            if button is not None:
                button.text, selected = texts[material_id_shown]
                button.set_selected(selected)
        self._title.text = self._title_text()
        if self._retake_button is not None:
            self._retake_button.set_enabled(bool(self.pages(self.current)))
        box = self._checklist_box
        if self._thumbs is not None:
            box.remove_widget(self._thumbs)
            self._thumbs = None
        if self.pages(self.current):
            self._thumbs = self._thumbnails(self.current)
            row = self._rows[self.current]
            box.add_widget(self._thumbs, index=box.children.index(row))   # under its row

    def _row(self, material: Material, req: Any) -> KioskButton:
        theme = self.ui.theme
        selected = material.id == self.current
        button = KioskButton(theme, self._row_text(material, req),
                              lambda: self.select(material.id), kind="choice",
                              selected=selected, name=f"material_{material.id}",
                              font=theme.button * 0.85)
        button.halign = "left"
        return button

    def _row_text(self, material: Material, req: Any) -> str:
        ui = self.ui
        pages = self.pages(material.id)
        bad = [n for n, p in enumerate(pages, 1) if not p.quality.ok]
        rng = material.pages
        if bad:
            mark, state = "×", ui.t("第 {n} 页需重拍", n=bad[0])
        elif len(pages) >= rng.min and pages:
            mark, state = "✓", ui.t("已拍 {n} 页", n=len(pages))
        else:
            need = str(rng.min) if rng.min == rng.max else f"{rng.min}–{rng.max}"
            mark, state = "○", ui.t("未拍完（需 {need} 页）", need=need)
        name = ui.tr.pick(material.name, material.name_en)[0]
        either = ui.t("（任选其一）") if isinstance(req, AlternativeGroup) else ""
        optional = ("" if req.necessity is Necessity.REQUIRED else
                    ui.tr.punct("（") + ui.t(req.necessity.value) + ui.tr.punct("）"))
        return f"{mark} {escape(name)}{either}{optional}{ui.colon}{state}"

    def _thumbnails(self, material_id: str) -> Widget:
        return self.page_row([p for p in self.viewed_pages() if p.material_id == material_id])

    def retake_page(self, material_id: str, number: int) -> None:
        self.start_retake(material_id, number)

    def footer(self) -> list[Widget]:
        return [self.next_button(self._review, "拍完了，检查材料", name="review")]

    # --- live preview --------------------------------------------------------------------
    def _update(self, _dt: float) -> None:
        view = self.feed.latest() if self.feed is not None else None
        if view is None or view.frame.seq == self.last_seq:
            return
        self.last_seq = view.frame.seq
        self._draw_frame(view.display)
        self._draw_outline(view.display_quad(), view.detection.hint == "ok"
                           and view.advice.state is not CaptureState.STALE)
        self._advise(view.advice)
        session = self.journey.session
        if view.advice.state in HANDLING and session is not None:
            session.touch()        # laying and straightening a page is not being idle

    def _draw_frame(self, image: Any) -> None:
        height, width = image.shape[:2]
        # Two textures in turn: an upload into the texture the last frame drew from waits
        # until that frame is rasterised (Mesa llvmpipe; many GL drivers do the same).
        if not self._textures or self._textures[0].size != (width, height):
            self._textures = [self._preview_texture(width, height) for _ in range(2)]
        texture = self._textures[self.frames_shown % 2]
        texture.blit_buffer(image.reshape(-1), colorfmt="rgba", bufferfmt="ubyte")   # no copy
        self._texture = texture
        self.preview.show(texture)
        self.frames_shown += 1

    @staticmethod
    def _preview_texture(width: int, height: int) -> Texture:
        texture = Texture.create(size=(width, height), colorfmt="rgba")
        texture.flip_vertical()           # frames are top row first, GL bottom first
        return texture

    def _draw_outline(self, quad: Any, ok: bool) -> None:
        if quad is None or self._texture is None:
            self._outline.points = []
            return
        x, y, w, h = self.preview.image_box()
        tw, th = self._texture.size
        points: list[float] = []
        for px, py in quad:
            points += [x + float(px) * w / tw, y + h - float(py) * h / th]
        self._outline.points = points
        pal = self.ui.theme.palette
        self._outline_colour.rgba = pal.ok if ok else pal.warning

    def _advise(self, advice: Any) -> None:
        state = advice.state
        if self.shooting or state is CaptureState.SHOOT:
            self._set_hint("shooting")
        elif state is CaptureState.COUNTDOWN:
            self._set_hint("countdown", s=int((advice.seconds_left or 0) + 0.999))
        elif state is CaptureState.DUPLICATE:
            self._set_hint("duplicate")
        elif state is CaptureState.STALE:
            self._set_hint("stale")
        elif state is CaptureState.HOLD_STILL:
            self._set_hint("moving")
        else:
            self._set_hint(advice.hint if advice.hint in HINTS else "no_page")

    def _set_hint(self, hint_id: str, **values: Any) -> None:
        if hint_id == self.hint_id and not values:
            return                              # same words: no new text texture to draw
        self.hint_id = hint_id
        self.hint.text = self.ui.bi(HINTS[hint_id], **values)
        if hint_id != self._spoken and hint_id not in ("countdown", "shooting"):
            self._spoken = hint_id              # speak a hint once, not on every frame
            self.ui.say(HINTS[hint_id])

    # --- actions -------------------------------------------------------------------------
    def select(self, material_id: str) -> None:
        """Another material: its countdown starts afresh, but a page already taken (still on
        the plate, or laid again) is not taken again for it."""
        retaking, chosen = self.retake is not None, self.current
        self._cancel_retake(render=False)
        self.current = material_id
        if self.feed is not None:
            self.feed.reset()
        if retaking or not getattr(self, "_rows", None):
            self.render()              # 取消重拍 goes: the buttons change too
        else:
            self._show_shot(material_id, chosen)

    def capture_now(self) -> None:
        """The 立即拍照 button: not a page from before this step; a page already taken only
        after the citizen says it should be taken again."""
        feed = self.feed
        if self.shooting or feed is None:
            return
        view = feed.latest()
        if not feed.plate_clear:
            seen = view is not None and view.detection.quad is not None
            self._set_hint("stale" if seen else "checking")
            self.ui.say(HINTS[self.hint_id])      # said again: the button was pressed
            return
        if view is not None and view.advice.state is CaptureState.DUPLICATE:
            self._ask_reuse()
            return
        self._shoot()

    def _ask_reuse(self) -> None:
        ui = self.ui
        material = self.material(self.current)
        name = ui.tr.pick(material.name, material.name_en)[0]
        self.nav.show(Dialog(ui.theme, "reuse", ui.bi(
            "这一页已经拍过了。确定要再拍一次，作为“{name}”吗？", name=name), [
            (ui.bi("不拍了"), "reuse_cancel", None, "secondary"),
            (ui.bi("再拍一次"), "reuse_confirm", self._shoot, "primary")]))
        ui.say("这一页已经拍过了，请换下一页")

    def _auto_shoot(self, _view: Any) -> None:
        """The feed's SHOOT, on the feed's thread: the still is taken now, while the page is
        at rest (not a UI frame later: 0.2 s on a software renderer); the screen shows
        "shooting" on its next frame (``_advise``)."""
        try:
            self._start_shot()
        except RuntimeError:            # the app is closing: its workers are gone
            log.info("auto-capture dropped: the screens are closing")

    def _shoot(self) -> None:
        """One still of the page for the current material (or the page being retaken)."""
        if self._start_shot():
            self._set_hint("shooting")

    def _start_shot(self) -> bool:
        """Start the still on a worker (UI or feed thread: the lock makes it one shot)."""
        ui = self.ui
        session, material_id, retake = self.journey.session, self.current, self.retake
        if session is None or not material_id:
            return False
        with self._shot_lock:
            if self.shooting:
                return False
            self.shooting = True
        replace = retake[1] if retake and retake[0] == material_id else None

        def done(number: int) -> None:
            if self.journey.session is session:      # not a session ended meanwhile
                self._captured(material_id, number, replace)

        def failed(error: BaseException) -> None:
            if self.journey.session is session:
                self._failed(error)
        checklist = self.checklist
        take = ((lambda: checklist.capture(material_id, replace)) if checklist is not None
                else (lambda: ui.service.capture(session, material_id, replace)))
        ui.bridge.run(take, done, failed)
        return True

    def _captured(self, material_id: str, number: int, replaced: int | None = None) -> None:
        self.shooting = False
        look = self.feed.captured() if self.feed is not None else None
        page = self.pages(material_id)[number - 1]
        if look is not None:
            self.looks[page.ref] = look   # not this page again; a duplicate if it returns
        chosen = self.current
        if replaced is not None:
            self.retake = None
        elif number >= self.material(material_id).pages.max:   # complete: on to the next
            self.current = self._first_open_material()
        self.ui.say("已拍第 {n} 页", n=number)
        if self.manager is not None and self.manager.current == self.name:
            if replaced is None and getattr(self, "_rows", None):
                self._show_shot(material_id, chosen)
            else:
                self.render()          # a retake done: its buttons change too

    def _failed(self, error: BaseException) -> None:
        self.shooting = False
        zh, en = error_text(error)
        self.nav.show_error(zh, en)

    def start_retake(self, material_id: str, number: int) -> None:
        """Replace page ``number`` of the material with the next shot (from the viewer, here
        or on the review screen); the same sheet may be shot again for it."""
        self.current, self.retake = material_id, (material_id, number)
        if self.feed is not None:
            self.feed.forget(self._look(material_id, number))
        self.ui.say("重拍第 {n} 页：请放上这一页", n=number)
        if self.manager is not None and self.manager.current == self.name:
            self.render()

    def _cancel_retake(self, render: bool = True) -> None:
        retake, self.retake = self.retake, None
        if retake is not None and self.feed is not None:
            look = self._look(*retake)
            self.feed.remember([look] if look is not None else [])
        if render:
            self.render()

    def _look(self, material_id: str, number: int) -> int | None:
        pages = self.pages(material_id)
        return self.looks.get(pages[number - 1].ref) if 0 < number <= len(pages) else None

    def _kept_looks(self) -> list[int]:
        """The looks of the pages the session holds (not the one being retaken)."""
        skip = self._look(*self.retake) if self.retake else None
        kept = [look for m, _ in self.rows() for p in self.pages(m.id)
                if (look := self.looks.get(p.ref)) is not None]
        return [look for look in kept if look != skip]

    def _retake(self) -> None:
        session = self.page_source()
        pages = self.pages(self.current)
        if session is not None and pages:
            if self.feed is not None:
                self.feed.forget(self.looks.pop(pages[-1].ref, None))
            session.remove_page(self.current, len(pages))
            self.render()

    def _review(self) -> None:
        session = self.journey.session
        assert session is not None
        self._cancel_retake(render=False)
        if self.checklist is not None:
            self.checklist.done()
            return
        session.review()
        self.nav.go("review")
