"""A receiving kiosk's side for the status event tests: a real ledger file with cases this
kiosk sent, a real region directory with the regions' status keys (fresh pairs), and a
region that signs events the way the intake does (kiosk.casestatus.event.sign)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.caseno import case_number, transfer_number
from kiosk.casestatus.event import CaseState, StatusEvent, sign
from kiosk.casestatus.keys import DirectoryStatusKeys
from kiosk.casestatus.receiver import Receiver
from kiosk.casestatus.store import StatusStore
from kiosk.documents.model import LedgerRow
from kiosk.ledger import Ledger
from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import DIRECTORY_FORMAT, SCHEMA, parse_directory
from kiosk.transfer.keys import KeyFile, generate
from kiosk.transfer.suites import Role

KIOSK = "371002-0001"            # a kiosk in 威海 sending to 利州区 and 旌阳区…
HOME = "510802"
OTHER = "510824"
SUITE = "x25519-chacha20"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ALWAYS = ("2026-01-01T00:00:00+08:00", "2030-01-01T00:00:00+08:00")


class Alerts:
    def __init__(self) -> None:
        self.raised: list[dict[str, str]] = []

    def alert(self, code: str, detail: dict[str, str]) -> None:
        self.raised.append({"code": code, **detail})

    def reasons(self) -> list[str]:
        return [a["reason"] for a in self.raised]


def _entry(name: str, enc: KeyFile, sig: KeyFile) -> dict[str, Any]:
    def shown(key: KeyFile) -> dict[str, str]:
        return {"suite": key.suite, "key_id": key.key_id, "public": key.public.hex(),
                "not_before": ALWAYS[0], "not_after": ALWAYS[1]}
    return {"name": name, "transport": "directory", "endpoint": "", "phone": "",
            "departments": {"": f"{name}政务服务中心"}, "keys": [shown(enc)],
            "status_keys": [shown(sig)]}


def directory_with(signers: dict[str, KeyFile], revoked: tuple[str, ...] = ()) -> bytes:
    regions = {code: _entry(f"地区{code}", generate(code, Role.ENCRYPT, key.suite), key)
               for code, key in signers.items()}
    return json.dumps({"format": DIRECTORY_FORMAT, "schema": SCHEMA, "fleet": "demo",
                       "version": 1, "issued": "2026-12-01T08:00:00+08:00",
                       "regions": regions, "exchanges": {},
                       "revoked": [{"key_id": k, "since": ALWAYS[0], "reason": "test"}
                                   for k in revoked]}, ensure_ascii=False).encode()


@dataclass
class Rig:
    folder: Path
    suite: str = SUITE
    signers: dict[str, KeyFile] = field(default_factory=dict)
    alerts: Alerts = field(default_factory=Alerts)
    now: datetime = NOW
    cases: list[tuple[str, str]] = field(default_factory=list)   # (case, transfer to HOME)
    revoked: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.signers = {code: generate(code, Role.SIGN, self.suite) for code in (HOME, OTHER)}
        self.ledger_path = self.folder / "ledger.sqlite"
        self.store = StatusStore(self.ledger_path)
        self.receiver = Receiver(self.store, DirectoryStatusKeys(self.directory),
                                 self.alerts, now=lambda: self.now)

    def directory(self) -> RegionDirectory:
        raw = directory_with(self.signers, self.revoked)
        return RegionDirectory(parse_directory(raw), self.suite)

    def send_case(self, seq: int = 1, regions: tuple[str, ...] = (HOME,)) -> str:
        """A case this kiosk sent (its ledger row), returned: the case number."""
        day = date(2026, 12, 1)
        number = case_number(KIOSK, day, seq)
        transfers = [transfer_number(KIOSK, r, day, seq) for r in regions]
        ledger = Ledger(self.ledger_path)
        ledger.record(LedgerRow(
            case_number=number, time=datetime(2026, 12, 1, 9) + timedelta(minutes=seq),
            department="利州区政务服务中心",
            matter_code="M1", matter_name="事项", count=1, case_type="承诺件",
            applicant_masked="张*", phone_masked="138****0000", window=KIOSK, staff="自助终端",
            state="已代收待流转", scope="跨省通办", regions="广元市利州区",
            transfer_numbers=",".join(transfers)))
        ledger.close()
        self.cases.append((number, transfers[0]))
        return number

    def event(self, case: str, seq: int, state: CaseState, *, region: str = HOME,
              transfer: str | None = None, at: datetime | None = None,
              details: dict[str, Any] | None = None, signer: KeyFile | None = None) -> bytes:
        key = signer or self.signers[region]
        number = transfer or dict(self.cases)[case]
        made = StatusEvent(region=region, transfer_number=number, case_number=case, seq=seq,
                           state=state, time=at or self.now - timedelta(hours=1),
                           suite=key.suite, key_id=key.key_id, details=details or {})
        return sign(made, key.private or b"")

    def states(self, case: str) -> list[str]:
        ledger = Ledger(self.ledger_path)
        try:
            return [state for state, _ in ledger.states(case)]
        finally:
            ledger.close()

    def close(self) -> None:
        self.store.close()


STORY = (CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.CORRECTION_REQUIRED,
         CaseState.CORRECTION_RECEIVED, CaseState.DECIDED, CaseState.DISPATCHED,
         CaseState.ARRIVED_AT_WINDOW, CaseState.COLLECTED, CaseState.ARCHIVED)
