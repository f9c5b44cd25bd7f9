"""A kiosk with two readers behind one identity device: the ID-card module (GA/T 467) for
cards read without a key, and the PC/SC reader for passports, which the citizen opens with
their MRZ key. The session asks the one device and gets the right reader."""

from __future__ import annotations

from drivers.identity import Identity, IdentityReader, MrzKey
from drivers.status import DeviceState, DeviceStatus, EventSink


class CombinedReader:
    """``read`` without a key goes to ``id_card``, with one to ``passport``. Status is the
    ID-card reader's (most citizens' path) unless it is fine and the passport reader is not,
    and then names the passport reader so staff know which to look at."""

    def __init__(self, id_card: IdentityReader, passport: IdentityReader,
                 name: str = "identity") -> None:
        self.name, self.id_card, self.passport = name, id_card, passport

    def open(self, sink: EventSink | None = None) -> None:
        self.id_card.open(sink)
        try:
            self.passport.open(sink)
        except Exception:
            self.id_card.close()
            raise

    def close(self) -> None:
        try:
            self.passport.close()
        finally:
            self.id_card.close()

    def status(self) -> DeviceStatus:
        card, passport = self.id_card.status(), self.passport.status()
        if card.usable and not passport.usable:
            return DeviceStatus(self.name, DeviceState.ONLINE,
                                detail=f"{passport.device}: {passport.state.value}")
        return DeviceStatus(self.name, card.state, card.paper, card.detail)

    def read(self, timeout: float, mrz: MrzKey | None = None) -> Identity:
        if mrz is None:
            return self.id_card.read(timeout)
        return self.passport.read(timeout, mrz)
