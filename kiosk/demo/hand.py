"""The demo's citizen hand: lays cards and pages on the EMULATED devices.

Used by the demo panel on screen (``kiosk demo``) and by the scripted citizen
(:mod:`kiosk.demo.citizen`). It reaches a device only through the protocol an emulator offers
for it (CardSlot, DocumentPlate, PaperTray, FaceStage); with real devices it has no hand to
lend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.camera import DocumentPlate
from drivers.face.camera import FaceStage
from drivers.identity import CardSlot, Identity
from drivers.printer import PaperTray
from drivers.status import PaperLevel
from kiosk.bus import EventBus
from kiosk.face_step import PROMPT_TOPIC


class DemoHand:
    def __init__(self, slot: CardSlot | None, plate: DocumentPlate | None,
                 tray: PaperTray | None, stage: FaceStage | None = None) -> None:
        self._slot, self._plate, self._tray, self._stage = slot, plate, tray, stage
        self._pages: dict[str, int] = {}

    @classmethod
    def reach(cls, identity: Any, camera: Any, printer: Any,
              face_camera: Any = None) -> DemoHand:
        """The hand over these devices: whichever of them are emulators."""
        return cls(identity if isinstance(identity, CardSlot) else None,
                   camera if isinstance(camera, DocumentPlate) else None,
                   printer if isinstance(printer, PaperTray) else None,
                   face_camera if isinstance(face_camera, FaceStage) else None)

    @property
    def available(self) -> bool:
        return self._slot is not None and self._plate is not None

    def present_card(self, key: str | Identity = "resident") -> None:
        if self._slot is not None:
            self._slot.present(key)

    def remove_card(self) -> None:
        if self._slot is not None:
            self._slot.remove()

    def place_page(self, label: str) -> int:
        """Lay the next page of ``label`` on the camera plate; returns its page number."""
        number = self._pages.get(label, 0) + 1
        self.place(label, number)
        return number if self._plate is not None else 0

    def place(self, label: str, page: int) -> None:
        """Lay page ``page`` of ``label`` on the plate (the next one after it is page + 1)."""
        if self._plate is not None:
            self._pages[label] = page
            self._plate.place(label, page)

    def clear_plate(self) -> None:
        if self._plate is not None:
            self._plate.remove()

    def present_face(self, scene: str = "right") -> None:
        """Who stands at the face camera: "right" (the card's holder), "other", "photo" (a
        photo of the holder held up) or "nobody"."""
        if self._stage is not None:
            self._stage.present(scene)

    def act(self, move: str) -> None:
        """The person at the face camera does ``move`` (a photo does nothing)."""
        if self._stage is not None:
            self._stage.act(move)

    def follow_prompts(self, bus: EventBus) -> Callable[[], None]:
        """A cooperative person: each move the face step asks for (``face.prompt``) is acted
        out at the face camera — by whoever stands there (a photo does nothing). Returns the
        unsubscribe."""
        def act(_topic: str, payload: Any) -> None:
            move = payload.get("move", "") if isinstance(payload, dict) else ""
            if move:
                self.act(move)
        return bus.subscribe(PROMPT_TOPIC, act)

    @property
    def face_scene(self) -> str:
        """Who stands at the face camera now ("" without an emulated one)."""
        return str(getattr(self._stage, "scene", ""))

    def set_paper(self, level: PaperLevel) -> None:
        if self._tray is not None:
            self._tray.set_paper(level)

    def forget(self) -> None:
        """A new citizen: page numbers start again at 1."""
        self._pages.clear()
