"""Chips that do not do what ours does: READ BINARY by short EF identifier refused (6986),
extended-length APDUs refused by the chip (6700) or by the reader (a failed transmission).
Each through the real stack (pyscard → pcscd → vsmartcard-vpcd → the emulator) and against
the emulator called directly, where the APDUs can be counted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from drivers.identity import CardRemoved, MrzKey
from drivers.identity.emrtd import apdu
from drivers.identity.emrtd.emulator import EmrtdCard, VpcdCard, files_for
from drivers.identity.emrtd.errors import CardStatus
from drivers.identity.emrtd.reader import PcscReader
from drivers.identity.emrtd.reading import ChipSession, ReadPath
from drivers.identity.emulated import load_identities

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
KEY = MrzKey("EJ0000001", "880923", "330410")
TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def passport():
    return load_identities(ASSETS / "identities.toml")["passport"]


def card_with(passport, *faults: str) -> EmrtdCard:
    card = EmrtdCard(files_for(passport, (ASSETS / "face.jpg").read_bytes()))
    for fault in faults:
        card.inject(fault)
    return card


def test_the_emulator_refuses_short_ef_identifiers_with_6986(passport):
    card = card_with(passport, "refuse_sfi")
    assert card.process(bytes.fromhex("00B0810000")) == b"\x69\x86"        # EF.ATR/INFO
    assert card.process(bytes.fromhex("00A4020C022F01")) == b"\x90\x00"
    assert card.process(bytes.fromhex("00B0000004"))[:2] == b"\x7f\x66"


def test_a_chip_refusing_short_ef_identifiers_is_read_by_select(passport):
    card = card_with(passport, "refuse_sfi")
    session = ChipSession(card.process, card.atr)
    identity = session.read_identity(KEY, TODAY)
    assert identity.document_number == "EJ0000001"
    assert not session.by_sfi and session.max_response == 65535
    # EF.ATR/INFO refused, selected, read; SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE;
    # EF.COM refused by SFI, then SELECT + READ BINARY for each of the four files
    assert session.counters.apdus == 3 + 3 + 1 + 4 * 2


def test_a_chip_refusing_them_in_plain_is_authenticated_again_and_read_by_select(passport):
    """Some chips answer the refusal unprotected, which ends secure messaging."""
    card = card_with(passport)

    def chip(raw: bytes) -> bytes:
        if raw[0] & 0x0C and raw[1] == 0xB0 and raw[2] & 0x80:    # protected, by SFI
            card.process(bytes.fromhex("00B0000001"))              # a plain APDU ends SM
            return b"\x69\x86"
        return card.process(raw)

    session = ChipSession(chip, card.atr)
    assert session.read_identity(KEY, TODAY).document_number == "EJ0000001"
    assert not session.by_sfi
    # one refused read, then the applet and BAC again (3), then SELECT + READ for four files
    assert session.counters.apdus == 4 + 1 + 3 + 4 * 2


def test_a_chip_refusing_extended_apdus_is_read_in_short_ones(passport):
    card = card_with(passport, "refuse_extended")
    session = ChipSession(card.process, card.atr)
    identity = session.read_identity(KEY, TODAY)
    assert identity.photo == (ASSETS / "face.jpg").read_bytes()
    assert session.max_response == apdu.SHORT_MAX and not session.extended_proven
    short = ChipSession(card.process, card.atr, reader_extended=False)
    short.read_identity(KEY, TODAY)
    # one refused APDU and a second BAC (SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE) more
    # than a reader that never asked; EF.ATR/INFO is not read by that one
    assert session.counters.apdus == short.counters.apdus + 1 + 1 + 3


def test_both_refusals_at_once(passport):
    card = card_with(passport, "refuse_sfi", "refuse_extended")
    session = ChipSession(card.process, card.atr)
    assert session.read_identity(KEY, TODAY).document_number == "EJ0000001"
    assert (session.by_sfi, session.max_response) == (False, apdu.SHORT_MAX)


def test_a_reader_refusing_extended_apdus_is_read_in_short_ones(passport):
    """A CCID reader without extended APDUs fails the transmission (pcscd answers
    SCARD_E_NOT_TRANSACTED, which the PC/SC backend reports as the card gone)."""
    card = card_with(passport)
    refused: list[bytes] = []

    def reader(raw: bytes) -> bytes:
        if apdu.is_extended(raw):
            refused.append(raw)
            raise CardRemoved()
        return card.process(raw)

    session = ChipSession(reader, card.atr)
    assert session.read_identity(KEY, TODAY).document_number == "EJ0000001"
    assert len(refused) == 1 and session.max_response == apdu.SHORT_MAX


def test_a_card_gone_at_its_first_extended_apdu_is_still_gone(passport):
    card = card_with(passport)
    gone = False

    def reader(raw: bytes) -> bytes:
        nonlocal gone
        gone = gone or apdu.is_extended(raw)
        if gone:
            raise CardRemoved()
        return card.process(raw)

    with pytest.raises(CardRemoved):
        ChipSession(reader, card.atr).read_identity(KEY, TODAY)


def test_once_extended_apdus_went_through_a_refusal_is_an_error(passport):
    """The fallback is for the first extended APDU only: later, a 6700 is the chip's
    answer to something else and is reported, not papered over with another BAC."""
    card = card_with(passport)
    count = 0

    def chip(raw: bytes) -> bytes:
        nonlocal count
        if apdu.is_extended(raw):
            count += 1
            if count == 3:                   # DG2's read, after EF.COM and DG1 went through
                return b"\x67\x00"
        return card.process(raw)

    with pytest.raises(CardStatus) as err:
        ChipSession(chip, card.atr).read_identity(KEY, TODAY)
    assert err.value.sw == apdu.SW_WRONG_LENGTH


def test_a_refusal_other_than_the_identifier_is_not_a_fallback(passport):
    card = card_with(passport)

    def chip(raw: bytes) -> bytes:
        if raw[1] == 0xB0 and raw[0] & 0x0C:         # every protected READ BINARY
            return b"\x69\x82"                       # security status not satisfied
        return card.process(raw)

    session = ChipSession(chip, card.atr)
    with pytest.raises(CardStatus) as err:
        session.read_identity(KEY, TODAY)
    assert err.value.sw == 0x6982 and session.by_sfi


# --- through pcscd -------------------------------------------------------------------------
@pytest.mark.parametrize(("faults", "by_sfi", "max_response"), [
    (("refuse_sfi",), False, 65535),
    (("refuse_extended",), True, 256),
    (("refuse_sfi", "refuse_extended"), False, 256)])
def test_each_refusal_reads_through_pcscd(pcsc_rig, passport, faults, by_sfi, max_response):
    card = card_with(passport, *faults)
    link = VpcdCard(card, port=pcsc_rig.port)
    reader = PcscReader(reader=pcsc_rig.reader_names[0], poll_s=0.2, today=lambda: TODAY)
    reader.open()
    link.present()
    try:
        identity = reader.read(10, KEY)
    finally:
        reader.close()
        link.remove()
        pcsc_rig.wait_for_card(present=False)
    assert identity.document_number == "EJ0000001"
    assert identity.photo == (ASSETS / "face.jpg").read_bytes()
    assert reader.last_path == ReadPath(by_sfi, max_response)
