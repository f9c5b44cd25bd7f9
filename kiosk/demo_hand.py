"""The demo's citizen hand: lays cards and pages on the EMULATED devices.

Used by the demo panel on screen (``kiosk demo``) so a visitor can walk through the journey
with no hardware. It only scripts emulators (their ``present``/``place``/``set_paper``
methods); with real devices it does nothing.
"""

from __future__ import annotations

from typing import Any


class DemoHand:
    def __init__(self, identity: Any, camera: Any, printer: Any) -> None:
        self._identity, self._camera, self._printer = identity, camera, printer
        self._pages: dict[str, int] = {}

    @property
    def available(self) -> bool:
        return hasattr(self._identity, "present") and hasattr(self._camera, "place")

    def present_card(self, key: str = "resident") -> None:
        if hasattr(self._identity, "present"):
            self._identity.present(key)

    def remove_card(self) -> None:
        if hasattr(self._identity, "remove"):
            self._identity.remove()

    def place_page(self, label: str) -> int:
        """Lay the next page of ``label`` on the camera plate; returns its page number."""
        if not hasattr(self._camera, "place"):
            return 0
        number = self._pages.get(label, 0) + 1
        self._pages[label] = number
        self._camera.place(label, number)
        return number

    def clear_plate(self) -> None:
        if hasattr(self._camera, "remove"):
            self._camera.remove()

    def forget(self) -> None:
        """A new citizen: page numbers start again at 1."""
        self._pages.clear()
