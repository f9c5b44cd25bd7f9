"""进度查询 of a case another kiosk of the hall received (kiosk/hall): kiosk A's card, signed
by A and verified here the way the hall mirror does, sits in this kiosk's (B's) hall index; the
receipt's QR then opens A's case here and the screen says which kiosk received it. Without the
index the same receipt gets "该回执由其他终端受理"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from test_journey import shot
from test_progress_lookup import APPLICANT, by_qr, lay_paper, no_personal_data, open_lookup
from ui_harness import Harness

from kiosk.applicant_key import applicant_key
from kiosk.caseno import case_number
from kiosk.documents.forms import reprint_blocks
from kiosk.documents.model import LedgerRow
from kiosk.hall.index import HallIndex
from kiosk.hall.service import HallCases
from kiosk.hall.source import CardSource
from kiosk.hall.verify import Expect, check_card
from kiosk.ledger import Ledger
from kiosk.submission import office
from kiosk.transfer.keys import DeviceKeys, KeyFile, Registry

KIOSK_A = "510802-0002"
HALL = "lizhou-main"


class NoRegionKeys:
    def key(self, region: str, key_id: str, at: datetime) -> None:
        return None


def a_case(folder: Path, suite: str, applicant: str = "") -> tuple[LedgerRow, bytes]:
    """Kiosk A's case in A's own ledger, and A's signed card of it (with the applicant's
    keyed hash under the hall secret, when given)."""
    number = case_number(KIOSK_A, datetime(2026, 12, 7).date(), 3)
    row = LedgerRow(case_number=number, time=datetime(2026, 12, 7, 9, 30),
                    department="利州区政务服务中心", matter_code="GA-HJZM-001",
                    matter_name="户籍类证明开具", count=1, case_type="承诺件",
                    applicant_masked="张*华", phone_masked="138****8000", window=KIOSK_A,
                    staff="自助终端", state="已代收待流转", scope="省内通办",
                    regions="四川省成都市", package_id="pkg-a-3")
    ledger = Ledger(folder / "ledger.sqlite")
    ledger.record(row)
    ledger.set_state(number, "办理地已接收", "", datetime(2026, 12, 7, 10, 0))
    ledger.close()
    source = CardSource(folder / "ledger.sqlite", "demo", HALL, KIOSK_A,
                        DeviceKeys(folder / "keys", KIOSK_A).signer(suite), card_days=90)
    source.remember_key(number, applicant)
    source.backfill(datetime.now(UTC))     # the hall just enabled: A's recent cases
    payload = source.pending(datetime.now(UTC))[0].payload
    source.close()
    return row, payload


def b_index(h: Harness, folder: Path, payload: bytes, number: str,
            secret: bytes | None = None) -> HallCases:
    """B's index with A's card in it, verified as the mirror verifies what it receives."""
    key = DeviceKeys(folder / "keys", KIOSK_A).key(h.kiosk.settings.transfer.suite)
    registry = Registry([KeyFile(key.owner, key.role, key.suite, key.public)])
    verified = check_card(payload, Expect("demo", HALL, h.kiosk.settings.kiosk.id, KIOSK_A,
                                          number), registry, NoRegionKeys(),
                          datetime.now(UTC))
    index = HallIndex(folder.parent / "b-hall-index.sqlite", 100)
    assert index.put(verified)
    return HallCases(h.kiosk, SimpleNamespace(index=index), secret)   # type: ignore[arg-type]


def lay_a_receipt(h: Harness, row: LedgerRow) -> None:
    blocks = reprint_blocks(row, office(h.kiosk.settings), datetime.now())
    lay_paper(h, h.kiosk.printing.job("qr-a", "receipt", blocks).raster_png, "回执A")


def test_kiosk_b_shows_kiosk_as_case_and_says_where_it_was_received(
        harness: Harness, tmp_path: Path) -> None:
    h = harness
    row, payload = a_case(tmp_path / "a", h.kiosk.settings.transfer.suite)
    lay_a_receipt(h, row)
    by_qr(h)                                    # no hall index yet: the old answer
    assert "其他终端受理" in h.find("progress_message").text
    h.tap("home")
    h.wait_screen("attract")

    h.ui.service.progress.hall = b_index(h, tmp_path / "a", payload, row.case_number)
    open_lookup(h)
    assert "本大厅各终端受理的办件均可在此查询" in h.text_on_screen()
    h.tap("by_qr")
    h.wait(lambda: h.has("case_state"), "kiosk A's case")
    shot(h, "progress-other-kiosk")
    assert row.case_number in h.find("case_number").text
    received = h.find("received_by").text
    assert KIOSK_A in received and "终端受理" in received and "Received at kiosk" in received
    assert "办理地已收到您的材料" in h.find("case_state").text
    assert "张*华" in h.text_on_screen()
    no_personal_data(h)
    assert all(p.encode() not in payload for p in APPLICANT)


def test_an_id_card_finds_the_persons_case_at_another_kiosk(harness: Harness,
                                                           tmp_path: Path) -> None:
    h = harness
    h.kiosk.identity.present("resident")                           # type: ignore[attr-defined]
    person = h.kiosk.identity.read(5)
    h.kiosk.identity.remove()                                      # type: ignore[attr-defined]
    secret = bytes(range(32))                                      # the hall secret
    row, payload = a_case(tmp_path / "a", h.kiosk.settings.transfer.suite,
                          applicant_key(secret, person))
    h.ui.service.progress.hall = b_index(h, tmp_path / "a", payload, row.case_number, secret)
    open_lookup(h)
    h.tap("by_card")
    h.wait(lambda: h.has("progress_wait"), "the card prompt")
    h.kiosk.identity.present("resident")                           # type: ignore[attr-defined]
    h.wait(lambda: h.has("case_state"), "the one case, opened directly")
    shot(h, "progress-other-kiosk-by-card")
    assert row.case_number in h.find("case_number").text
    assert KIOSK_A in h.find("received_by").text
    no_personal_data(h)
