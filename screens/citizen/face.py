"""人证核验: right after the card read, the live face against the card's photo.

The live preview (mirrored, as a mirror shows a face) with a large oval to put the face in;
the prompt of the moment in words and speech, Chinese first (请正对摄像头, then each move the
challenge draws); the result of each try. After the last try, with a document that has no
photo, or without a usable camera: 请联系工作人员核验 — the hall is called (呼叫工作人员) and
the session waits; a member of staff signs in and verifies by sight, or ends the session
(screens/staff/face.py). The policy and the evidence are kiosk/face_step.py's; the try runs
on the face camera's worker through the service, and no frame leaves memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.face_step import (
    FACE_THE_CAMERA,
    MOVE_PROMPTS,
    PROMPT_TOPIC,
    TO_STAFF,
    FaceCheck,
    FaceResult,
    result_text,
)
from kiosk.interaction.speech import Speech
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.labels import N_
from screens.widgets import Picture, Text

PREVIEW_FPS = 10
CHECKING, RETRY, TO_STAFF_STATE, CLEARED = "checking", "retry", "staff", "cleared"


class FacePreview(Picture):
    """The live picture with the oval guide over it (drawn even before the first frame)."""

    def __init__(self, theme: Any, **kwargs: Any) -> None:
        self._oval: Line | None = None
        super().__init__(**kwargs)
        with self.canvas.after:
            Color(*theme.palette.primary)
            self._oval = Line(width=theme.mm(1.2))

    def _redraw(self, *_: Any) -> None:
        """The oval inside the picture once there is one (a face fills most of its height),
        else inside the widget: where the face should be."""
        super()._redraw()
        if self._oval is None:
            return
        x, y, w, h = self.image_box()
        if not w:
            x, y, w, h = self.x, self.y, self.width, self.height * 0.8
            y += self.height * 0.1
        oval_h = h * 0.9
        oval_w = min(oval_h * 0.72, w * 0.9)
        self._oval.ellipse = (x + (w - oval_w) / 2, y + (h - oval_h) / 2, oval_w, oval_h)


def after_card(nav: Any) -> str:
    """Where the journey goes once the card is read and the person checked."""
    return "region" if nav.screen("region").needed() else "capture"


class FaceScreen(CitizenScreen):
    screen_name = "face"
    step = 3                      # still 读取证件: the card and its holder
    title_id = N_("人证核验")
    spoken_id = N_("请正对摄像头，按提示转头或眨眼")

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.wipe_state()
        ui.bridge.subscribe(PROMPT_TOPIC, self._prompted)

    def wipe_state(self) -> None:
        if getattr(self, "_ticker", None) is not None:
            self._ticker.cancel()             # a session ended mid-try: the preview stops
        self.running = False
        self.prompt: tuple[str, str] = FACE_THE_CAMERA
        self.error: tuple[str, str] | None = None
        self.called_for: str | None = None      # the session staff were called for
        self.token = 0                          # a late try of a session gone is ignored
        self._ticker: Any = None
        self._texture: Texture | None = None
        self.preview: FacePreview | None = None

    def needed(self) -> bool:
        """Asked by the identify screen: does this kiosk check the face ([face] enabled)?"""
        return bool(self.ui.service.face.enabled)

    # --- state, from the session ---------------------------------------------------------
    @property
    def check(self) -> FaceCheck | None:
        session = self.journey.session
        return session.face if session is not None else None

    def state(self) -> str:
        session = self.journey.session
        if self.running:
            return CHECKING
        if session is None:
            return RETRY
        if self.check is not None and self.check.cleared:
            return CLEARED
        return TO_STAFF_STATE if self.ui.service.face.needs_staff(session) else RETRY

    # --- life cycle ----------------------------------------------------------------------
    def on_enter(self, *_: Any) -> None:
        session = self.journey.session
        if session is None:
            return
        if self.state() == RETRY and self.check is None and self.error is None:
            begun = self._begin()
            if begun:
                self.attempt()
                return
        self.render()
        self.speak()
        self._call_staff_if_needed()

    def on_leave(self, *_: Any) -> None:
        super().on_leave()
        self._stop_preview()

    def _begin(self) -> bool:
        """True when a try is to run now (else no photo, or already decided)."""
        session = self.journey.session
        if session is None:
            return False
        try:
            return self.ui.service.face.begin(session) is None
        except Exception as exc:          # a typed refusal, shown; never a silent pass
            self.error = error_text(exc)
            return False

    def attempt(self) -> None:
        session = self.journey.session
        if session is None or self.running:
            return
        self.running, self.error, self.prompt = True, None, FACE_THE_CAMERA
        self.token += 1
        token = self.token
        self.render()
        self.speak()
        self._start_preview()
        service = self.ui.service
        self.ui.bridge.run(lambda: service.face.attempt(session),
                           lambda check: self._done(token, check),
                           lambda error: self._failed(token, error))

    def _done(self, token: int, check: FaceCheck) -> None:
        if token != self.token or self.journey.session is None:
            return
        self.running = False
        self._stop_preview()
        self.render()
        self.speak()
        self._call_staff_if_needed()

    def _failed(self, token: int, error: BaseException) -> None:
        if token != self.token or self.journey.session is None:
            return
        self.running, self.error = False, error_text(error)
        self._stop_preview()
        self.render()
        self.ui.say_pair(*self.error)

    def _call_staff_if_needed(self) -> None:
        session = self.journey.session
        if self.state() != TO_STAFF_STATE or session is None or self.called_for == session.id:
            return
        self.called_for = session.id          # once per session: the dialog follows the call
        self.journey.call_staff()

    def _prompted(self, _topic: str, payload: Any) -> None:
        if not self.running:
            return
        move = payload.get("move", "") if isinstance(payload, dict) else ""
        self.prompt = MOVE_PROMPTS.get(move, FACE_THE_CAMERA)
        if self.journey.session is not None:
            self.journey.session.touch()      # following the prompts is not being idle
        if hasattr(self, "prompt_text"):
            self.prompt_text.text = self.ui.pair(*self.prompt)
        self.ui.say_pair(*self.prompt)

    # --- preview -------------------------------------------------------------------------
    def _start_preview(self) -> None:
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self._update, 1 / PREVIEW_FPS)

    def _stop_preview(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._texture = None                  # the last face goes with the try

    def _update(self, _dt: float) -> None:
        image = self.ui.service.face.latest_frame()
        if image is None or self.preview is None:
            return
        height, width = image.shape[:2]
        if self._texture is None or self._texture.size != (width, height):
            self._texture = Texture.create(size=(width, height), colorfmt="rgb")
        # rows bottom-up for GL, and mirrored left-right: the person sees a mirror
        shown = np.ascontiguousarray(image[::-1, ::-1])
        self._texture.blit_buffer(shown.reshape(-1), colorfmt="rgb", bufferfmt="ubyte")
        self.preview.show(self._texture)

    # --- layout --------------------------------------------------------------------------
    def body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        state = self.state()
        line, colour = self._line(state)
        self.prompt_text = Text(theme, ui.pair(*line), size=theme.title * 0.9, bold=True,
                                colour=colour, halign="center")
        self.prompt_text.name = "face_prompt"
        box.add_widget(self.prompt_text)
        self.preview = FacePreview(theme)
        self.preview.name = "face_preview"
        if self._texture is not None:
            self.preview.show(self._texture)
        box.add_widget(self.preview)
        result = self._result_line(state)
        if result:
            text = Text(theme, result, halign="center", colour=theme.palette.muted,
                        size=theme.small * 1.1)
            text.name = "face_result"
            box.add_widget(text)
        return box

    def _line(self, state: str) -> tuple[tuple[str, str], Any]:
        pal = self.ui.theme.palette
        check = self.check
        if state == CHECKING:
            return self.prompt, pal.text
        if self.error is not None:
            return self.error, pal.problem
        if state == CLEARED and check is not None:
            return ("✓ " + result_text(check)[0], "✓ " + result_text(check)[1]), pal.ok
        if state == TO_STAFF_STATE:
            return TO_STAFF, pal.warning
        if check is not None:
            return ("× " + result_text(check)[0], "× " + result_text(check)[1]), pal.problem
        return FACE_THE_CAMERA, pal.text

    def _result_line(self, state: str) -> str:
        """Under the preview: why staff are needed, or the tries left."""
        check, ui = self.check, self.ui
        if check is None or state in (CHECKING, CLEARED):
            return ""
        if state == TO_STAFF_STATE:
            why = result_text(check)
            if check.result in (FaceResult.MISMATCH, FaceResult.SPOOF):
                why = (f"已尝试 {check.tries} 次，未能通过核验",
                       f"{check.tries} tries did not verify you")
            return ui.pair(f"{why[0]}。已为您呼叫工作人员，请在本机旁稍候。",
                           f"{why[1]}. Staff have been called: please wait here.")
        left = ui.service.face.tries - check.tries
        return ui.pair(f"还可以再试 {left} 次", f"{left} more tries")

    def footer(self) -> list[Widget]:
        state = self.state()
        if state == CLEARED:
            return [self.next_button(self._next)]
        if state == RETRY:
            return [self.next_button(self.attempt, N_("再试一次"), name="face_retry")]
        return []

    def speech(self) -> Speech | None:
        state = self.state()
        if state == CHECKING:
            return Speech(*self.prompt)
        line, _colour = self._line(state)
        if state in (TO_STAFF_STATE, CLEARED, RETRY) and (self.check or self.error):
            return Speech(*line)
        return super().speech()

    def _next(self) -> None:
        self._stop_preview()
        self.nav.go(after_card(self.nav))
