"""The demo's hand reaches emulators through their protocols, and nothing else."""

from __future__ import annotations

from pathlib import Path

from drivers.identity.emulated import EmulatedIdentityReader, load_identities
from drivers.printer.emulated import EmulatedPrinter
from drivers.status import PaperLevel
from kiosk.demo.hand import DemoHand

ASSETS = Path(__file__).resolve().parents[1] / "assets"


class Plate:
    def __init__(self) -> None:
        self.placed: list[tuple[str, int]] = []

    def place(self, label: str, page: int = 1) -> None:
        self.placed.append((label, page))

    def remove(self) -> None:
        self.placed.append(("", 0))


class RealReader:
    """A device with no hand-facing side (a real reader): the hand leaves it alone."""


def test_the_hand_lays_cards_pages_and_paper() -> None:
    reader = EmulatedIdentityReader(load_identities(ASSETS / "demo" / "identities.toml"))
    plate, printer = Plate(), EmulatedPrinter()
    hand = DemoHand.reach(reader, plate, printer)
    assert hand.available
    reader.open()
    hand.present_card("resident")
    assert reader.read(1).card_type.value == "resident"
    assert [hand.place_page("户口簿"), hand.place_page("户口簿"), hand.place_page("证明")] \
        == [1, 2, 1]
    hand.forget()
    assert hand.place_page("户口簿") == 1
    hand.clear_plate()
    assert plate.placed == [("户口簿", 1), ("户口簿", 2), ("证明", 1), ("户口簿", 1), ("", 0)]
    printer.open()
    hand.set_paper(PaperLevel.OUT)
    assert printer.status().paper is PaperLevel.OUT


def test_no_hand_for_real_devices() -> None:
    hand = DemoHand.reach(RealReader(), RealReader(), RealReader())
    assert not hand.available
    hand.present_card()
    assert hand.place_page("户口簿") == 0
    hand.set_paper(PaperLevel.OUT)
