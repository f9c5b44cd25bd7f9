"""The hall case index of one running kiosk, composed from its settings: the cards out and
in over the fleet broker (kiosk/hall/mirror.py) and what 进度查询 asks of it
(kiosk/progress.py ``HallCases``): a case of another kiosk of the hall by its number, a
person's cases there by the keyed hash of their card under the hall secret.

Off (``build`` gives None) without ``[hall] id``, ``[hall] kiosk_keys`` or ``[fleet] broker``:
the kiosk then finds its own cases only, and says so for another kiosk's receipt."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from drivers.identity import Identity
from kiosk.applicant_key import applicant_key
from kiosk.bootstrap import Kiosk
from kiosk.case_timeline import MEANING, PICKUP, Step, detail_line, pickup
from kiosk.casestatus.keys import DirectoryStatusKeys
from kiosk.correction import WAITING_STATE
from kiosk.errors import KioskError
from kiosk.hall.index import HallCase, HallIndex
from kiosk.hall.mirror import HallMirror
from kiosk.hall.source import CardSource
from kiosk.progress import CaseLine, CaseView
from kiosk.staff.roster import read_secret
from kiosk.transfer.keys import Registry

log = logging.getLogger(__name__)
INDEX_FILE = "hall-index.sqlite"


class HallCases:
    def __init__(self, kiosk: Kiosk, mirror: HallMirror, secret: bytes | None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.k, self.mirror, self.secret, self.now = kiosk, mirror, secret, now
        self.index = mirror.index

    @classmethod
    def build(cls, kiosk: Kiosk) -> HallCases | None:
        settings = kiosk.settings
        hall, fleet = settings.hall, settings.fleet
        if not (hall.id and hall.kiosk_keys and fleet.broker and fleet.name):
            return None
        try:
            kiosks = Registry.from_path(hall.kiosk_keys)
        except KioskError as exc:
            log.warning("hall kiosk keys unusable, hall index off: %s", exc.en)
            kiosk.lifecycle.alert("hall_keys_unusable", {"zh": exc.zh, "en": exc.en})
            return None
        secret = cls._secret(kiosk)
        source = CardSource(kiosk.ledger.path, fleet.name, hall.id, settings.kiosk.id,
                            kiosk.courier.signer(), hall.card_days)
        index = HallIndex(settings.paths.data_dir / INDEX_FILE, hall.index_max_cards)
        mirror = HallMirror(fleet, hall.id, settings.kiosk.id, source, index, kiosks,
                            DirectoryStatusKeys(lambda: kiosk.region_directory()),
                            kiosk.lifecycle, hall.card_days)
        return cls(kiosk, mirror, secret)

    @staticmethod
    def _secret(kiosk: Kiosk) -> bytes | None:
        path = kiosk.settings.hall.applicant_key_file
        if path is None:
            return None
        secret = read_secret(path)
        if secret is None:
            log.warning("hall applicant key missing or not 64 hex digits: card lookups stay "
                        "on this kiosk")
            kiosk.lifecycle.alert("hall_secret_unusable", {
                "zh": "大厅申请人查询密钥缺失或损坏，刷证查询只查本机",
                "en": "the hall applicant key is missing or damaged: card lookups stay local"})
        return secret

    def start(self) -> None:
        self.mirror.start()

    def close(self) -> None:
        self.mirror.stop()
        self.mirror.source.close()
        self.index.close()

    # --- what 进度查询 asks --------------------------------------------------------------
    def remember(self, case_number: str, identity: Identity) -> None:
        """At submission: the applicant's keyed hash under the hall secret, for the card."""
        if self.secret is None:
            return
        try:
            self.mirror.source.remember_key(case_number, applicant_key(self.secret, identity))
        except sqlite3.Error:       # the case is committed: lookups by card must not fail it
            log.exception("hall applicant key of case %s not kept", case_number)

    def view(self, number: str) -> CaseView | None:
        found = self.index.find(number, self.now())
        return None if found is None else self._view(found)

    def lines(self, identity: Identity) -> list[CaseLine]:
        if self.secret is None:
            return []
        key = applicant_key(self.secret, identity)
        return [CaseLine(c.number, c.matter_name, self._name_en(c), c.received_at, c.state,
                         kiosk=c.kiosk) for c in self.index.cases_of(key, self.now())]

    def _view(self, case: HallCase) -> CaseView:
        steps = tuple(sorted((Step(at, state, *MEANING.get(state, (state, state)),
                                   *detail_line(state, case.details.get(state, {})))
                              for state, at in case.states), key=lambda s: s.time))
        waiting = pickup(case.details.get(PICKUP, {})) if case.state == PICKUP else None
        # the second rating is kept by the receiving kiosk's evaluation store, and a 补正 is
        # sealed into the receiving kiosk's case: neither is offered here
        closed = ((f"该办件由本大厅 {case.kiosk} 号终端受理，请到该终端或人工窗口提交补正材料",
                   f"This case was received at kiosk {case.kiosk} of this hall: hand in the "
                   "requested materials there or at a window")
                  if case.state == WAITING_STATE else None)
        return CaseView(case.number, case.matter_name, self._name_en(case),
                        case.applicant_masked, case.received_at, case.state, steps, waiting,
                        None, False, correction_closed=closed, kiosk=case.kiosk,
                        details=case.details)

    def _name_en(self, case: HallCase) -> str:
        try:
            return self.k.catalogue.matter(case.matter_code).name_en or case.matter_name
        except KeyError:
            return case.matter_name
