"""The PC/SC backend through the real stack: pyscard → pcscd → vsmartcard-vpcd → our chip
emulator over TCP (the `pcsc_rig` fixture). Nothing here is mocked."""

from __future__ import annotations

import logging
import queue
from datetime import date
from pathlib import Path

import pytest

from drivers.identity import CardNotFound, CardRemoved, CardType, MrzKey
from drivers.identity.emrtd.emulator import EmrtdCard, VpcdCard, files_for
from drivers.identity.emrtd.errors import (
    AccessDenied,
    BadCardReply,
    BadMrzKey,
    DocumentTampered,
    MrzRequired,
    NotAnEmrtd,
)
from drivers.identity.emrtd.reader import PcscReader
from drivers.identity.emulated import load_identities
from drivers.status import DeviceEvent, DeviceState

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
KEY = MrzKey("EJ0000001", "880923", "330410")


@pytest.fixture(scope="module")
def passport():
    return load_identities(ASSETS / "identities.toml")["passport"]


@pytest.fixture
def rig_card(pcsc_rig, passport):
    """A chip in slot 0 of the rig's virtual reader, taken out afterwards."""
    card = EmrtdCard(files_for(passport, (ASSETS / "face.jpg").read_bytes()))
    link = VpcdCard(card, port=pcsc_rig.port)
    yield card, link
    link.remove()
    pcsc_rig.wait_for_card(present=False)    # the next test starts from an empty reader


@pytest.fixture
def reader(pcsc_rig):
    events: queue.Queue[DeviceEvent] = queue.Queue()
    pcsc = PcscReader(reader=pcsc_rig.reader_names[0], poll_s=0.2,
                      today=lambda: date(2026, 11, 22))
    pcsc.open(events.put)
    pcsc.events = events          # type: ignore[attr-defined]
    yield pcsc
    pcsc.close()


def next_kind(events: queue.Queue[DeviceEvent], kind: str) -> DeviceEvent:
    while True:
        event = events.get(timeout=10)
        if event.kind == kind:
            return event


def test_a_passport_is_read_through_pcscd(reader, rig_card):
    _, link = rig_card
    link.present()
    identity = reader.read(10, KEY)
    assert identity.card_type is CardType.EMRTD
    assert (identity.name, identity.document_number, identity.valid_to) == \
        ("LIU, YANG", "EJ0000001", date(2033, 4, 10))
    assert identity.photo == (ASSETS / "face.jpg").read_bytes()
    assert reader.last_counters.apdus == 8          # extended length through pcscd and vpcd
    assert reader.status().state is DeviceState.ONLINE


def test_insert_and_remove_are_reported(reader, rig_card):
    _, link = rig_card
    link.present()
    next_kind(reader.events, "card_inserted")
    link.remove()
    next_kind(reader.events, "card_removed")


def test_no_card_is_card_not_found(reader):
    with pytest.raises(CardNotFound):
        reader.read(0.3, KEY)


def test_without_or_with_a_malformed_key_nothing_is_sent(reader, rig_card):
    card, link = rig_card
    link.present()
    with pytest.raises(MrzRequired):
        reader.read(5)
    with pytest.raises(BadMrzKey):
        reader.read(5, MrzKey("EJ0000001", "88-09-23", "330410"))
    assert card.apdus == 0


def test_a_wrong_key_then_the_right_one(reader, rig_card):
    _, link = rig_card
    link.present()
    with pytest.raises(AccessDenied):
        reader.read(10, MrzKey("EJ0000001", "880924", "330410"))
    assert reader.read(10, KEY).document_number == "EJ0000001"


def test_pulled_mid_read_then_placed_again(reader, rig_card):
    card, link = rig_card
    card.inject("pulled_mid_read")
    link.present()
    with pytest.raises(CardRemoved):
        reader.read(10, KEY)
    next_kind(reader.events, "card_removed")
    link.present()
    assert reader.read(10, KEY).document_number == "EJ0000001"


@pytest.mark.parametrize(("fault", "error"), [
    ("tamper_dg2", DocumentTampered), ("bad_mac", BadCardReply), ("not_icao", NotAnEmrtd),
    ("pulled_mid_read", CardRemoved)])
def test_each_fault_gives_its_error_and_the_next_read_succeeds(reader, rig_card, fault, error):
    card, link = rig_card
    card.inject(fault)
    link.present()
    with pytest.raises(error):
        reader.read(10, KEY)
    card.clear_faults()
    link.present()                                  # back on the reader if it was pulled
    assert reader.read(10, KEY).document_number == "EJ0000001"


@pytest.mark.parametrize("card_code", ["", "I"])   # a passport (TD3), an ICAO card (TD1)
def test_every_emrtd_identity_reads(pcsc_rig, reader, card_code):
    cards = load_identities(ASSETS / "identities.toml")
    for key, identity in cards.items():
        if identity.card_type is not CardType.EMRTD:
            continue
        chip = files_for(identity, (ASSETS / "face.jpg").read_bytes(), card_code=card_code)
        link = VpcdCard(EmrtdCard(chip), port=pcsc_rig.port)
        link.present()
        try:
            key_of = MrzKey(identity.document_number, identity.birth_date.strftime("%y%m%d"),
                            identity.valid_to.strftime("%y%m%d"))
            read = reader.read(10, key_of)
        finally:
            link.remove()
            pcsc_rig.wait_for_card(present=False)
        assert (read.name, read.document_number, read.birth_date, read.valid_to, read.sex,
                read.nationality) == (identity.name, identity.document_number,
                                      identity.birth_date, identity.valid_to, identity.sex,
                                      identity.nationality), key


def test_a_reader_without_extended_apdus_reads_in_short_ones(pcsc_rig, rig_card):
    _, link = rig_card
    link.present()
    short = PcscReader(reader=pcsc_rig.reader_names[0], extended=False, poll_s=0.2)
    short.open()
    try:
        assert short.read(10, KEY).document_number == "EJ0000001"
    finally:
        short.close()
    assert short.last_counters.apdus > 20


def test_nothing_personal_reaches_the_log(reader, rig_card, caplog):
    card, link = rig_card
    caplog.set_level(logging.DEBUG)
    link.present()
    identity = reader.read(10, KEY)
    card.inject("tamper_dg2")
    with pytest.raises(DocumentTampered):
        reader.read(10, KEY)
    logged = caplog.text + repr(identity) + repr(KEY)
    for secret in ("EJ0000001", "LIU", "880923", "1988", "330410"):
        assert secret not in logged
