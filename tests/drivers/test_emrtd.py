"""eMRTD reading without PC/SC: ICAO 9303's own worked examples for BAC and secure
messaging, MRZ formats, APDU encoding, and whole reads against the chip emulator called
directly (the PC/SC path is in test_identity_pcsc.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from drivers.identity import CardType, MrzKey
from drivers.identity.emrtd import apdu, atr, bac, crypto, lds, mrz, sm
from drivers.identity.emrtd.apdu import Command
from drivers.identity.emrtd.emulator import EmrtdCard, files_for
from drivers.identity.emrtd.errors import (
    AccessDenied,
    BadCardReply,
    DocumentTampered,
    NotAnEmrtd,
)
from drivers.identity.emrtd.reading import NAIVE_CHUNK, ChipSession
from drivers.identity.emulated import load_identities

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
KEY = MrzKey("EJ0000001", "880923", "330410")
TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def passport():
    return load_identities(ASSETS / "identities.toml")["passport"]


def chip(passport, face="face.jpg", fmt="jpeg", max_response=65536):
    return files_for(passport, (ASSETS / face).read_bytes(), fmt, max_response)


# --- ICAO 9303 part 11, appendix D worked example ------------------------------------------
SPECIMEN = MrzKey("L898902C", "690806", "940623")


def test_key_derivation_matches_the_icao_worked_example():
    seed = mrz.key_seed(SPECIMEN)
    assert seed.hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAE"
    assert crypto.derive_key(seed, crypto.ENC).hex().upper() == "AB94FDECF2674FDFB9B391F85D7F76F2"
    assert crypto.derive_key(seed, crypto.MAC).hex().upper() == "7962D9ECE03D1ACD4C76089DCE131543"


def test_bac_cryptogram_and_retail_mac_match_the_icao_worked_example():
    seed = mrz.key_seed(SPECIMEN)
    s = bytes.fromhex("781723860C06C226" "4608F91988702212" "0B795240CB7049B01C19B33E32804F0B")
    e_ifd = crypto.encrypt(crypto.derive_key(seed, crypto.ENC), s)
    assert e_ifd.hex().upper() == ("72C29C2371CC9BDB65B779B8E8D37B29"
                                   "ECC154AA56A8799FAE2F498F76ED92F2")
    assert crypto.mac(crypto.derive_key(seed, crypto.MAC), e_ifd).hex().upper() == \
        "5F1448EEA8AD90A7"


def test_secure_messaging_matches_the_icao_worked_example_and_counts_each_step():
    keys = bac.SessionKeys(bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5"),
                           bytes.fromhex("F1CB1F1FB5ADF208806B89DC579DC1F8"), 0x887022120C06C226)
    channel = sm.SecureChannel(keys)
    select = channel.protect(Command(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("011E")))
    assert select.hex().upper() == "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
    assert channel.unprotect(bytes.fromhex("990290008E08FA855A5D4C50A8ED"), 0x9000) == \
        (b"", 0x9000)
    read = channel.protect(Command(0x00, 0xB0, 0x00, 0x00, le=4))
    assert read.hex().upper() == "0CB000000D9701048E08ED6705417E96BA5500"
    data, sw = channel.unprotect(
        bytes.fromhex("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED"), 0x9000)
    assert (data.hex().upper(), sw) == ("60145F01", 0x9000)
    # a replayed response fails: the counter has moved on
    with pytest.raises(BadCardReply, match="MAC"):
        channel.unprotect(bytes.fromhex("990290008E08FA855A5D4C50A8ED"), 0x9000)


# --- MRZ -----------------------------------------------------------------------------------
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<" "7408122F1204159UTO<<<<<<<<<<<6"
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<" "D231458907UTO7408122F1204159<<<<<<<6"


@pytest.mark.parametrize(("text", "code", "number"), [(TD3, "P", "L898902C3"),
                                                       (TD1, "I", "D23145890"),
                                                       (TD2, "I", "D23145890")])
def test_the_three_mrz_formats_parse_with_their_check_digits(text, code, number):
    zone = mrz.parse(text)
    assert (zone.document_code, zone.issuer, zone.document_number) == (code, "UTO", number)
    assert (zone.surname, zone.given_names, zone.sex) == ("ERIKSSON", "ANNA MARIA", "F")
    assert zone.birth_date(TODAY) == date(1974, 8, 12)
    assert zone.expiry_date() == date(2012, 4, 15)


@pytest.mark.parametrize("position", [9, 19, 27, 43])
def test_a_wrong_check_digit_is_refused(position):
    line2 = TD3[44:]
    digit = str((int(line2[position]) + 1) % 10)
    with pytest.raises(BadCardReply, match="check digit"):
        mrz.parse(TD3[:44] + line2[:position] + digit + line2[position + 1:])


def test_built_td3_round_trips(passport):
    zone = mrz.parse(chip(passport).mrz)
    assert (zone.document_number, zone.birth, zone.expiry) == ("EJ0000001", "880923", "330410")
    assert zone.name == "LIU, YANG"


def test_typed_keys_are_checked_before_any_apdu():
    assert mrz.key_problem(KEY) is None
    assert mrz.key_problem(MrzKey("EJ0000001", "881323", "330410")) is not None
    assert mrz.key_problem(MrzKey("EJ-00001", "880923", "330410")) is not None


# --- APDUs and lengths ---------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    Command(0x00, 0xA4, 0x04, 0x0C, bytes(7)),
    Command(0x00, 0x84, 0x00, 0x00, le=8),
    Command(0x00, 0x82, 0x00, 0x00, bytes(40), le=40),
    Command(0x00, 0xB0, 0x00, 0x00, le=256),
    Command(0x0C, 0xB0, 0x00, 0x00, bytes(300), le=1000),
    Command(0x00, 0xB0, 0x81, 0x00, le=65536),
])
def test_commands_round_trip_short_and_extended(command):
    assert apdu.parse_command(command.to_bytes()) == command


def test_the_largest_protected_read_fits_the_response_exactly():
    assert sm.largest_read(256) == 231                  # 0xDF is what readers usually use
    for limit in (256, 1000, 4096, 65535):
        n = sm.largest_read(limit)
        assert n + sm.wrap_overhead(n) <= limit < n + 1 + sm.wrap_overhead(n + 1)


def test_atr_historical_bytes_state_extended_length():
    assert atr.capabilities(atr.build(atr.EXTENDED_LENGTH)) == atr.EXTENDED_LENGTH
    assert atr.capabilities(bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")) == 0


# --- whole reads against the emulator ------------------------------------------------------
def test_a_read_with_extended_length_takes_eight_apdus(passport):
    card = EmrtdCard(chip(passport))
    session = ChipSession(card.process, card.atr)
    identity = session.read_identity(KEY, TODAY)
    assert identity.card_type is CardType.EMRTD
    assert (identity.name, identity.document_number, identity.nationality) == \
        ("LIU, YANG", "EJ0000001", "CHN")
    assert (identity.birth_date, identity.valid_to, identity.sex) == \
        (date(1988, 9, 23), date(2033, 4, 10), "女")
    # the chip's JPEG as it is (it decodes; no re-encoding on the citizen's time)
    assert identity.photo == (ASSETS / "face.jpg").read_bytes()
    assert identity.photo_format == "jpeg"
    # EF.ATR/INFO, SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, one read per file
    assert session.max_response == 65535
    assert session.counters.apdus == card.apdus == 8


def test_a_short_length_chip_and_the_naive_read_take_more_apdus(passport):
    short = EmrtdCard(chip(passport, max_response=256))
    ours = ChipSession(short.process, short.atr)
    ours.read_identity(KEY, TODAY)
    naive_card = EmrtdCard(chip(passport))
    naive = ChipSession(naive_card.process, naive_card.atr, chunk=NAIVE_CHUNK)
    naive.read_identity(KEY, TODAY)
    assert ours.max_response == 256
    assert 8 < ours.counters.apdus < naive.counters.apdus


def test_a_jpeg2000_face_is_decoded(passport):
    card = EmrtdCard(chip(passport, "face.jp2", "jp2"))
    identity = ChipSession(card.process, card.atr).read_identity(KEY, TODAY)
    assert identity.photo is not None and identity.photo.startswith(b"\x89PNG")
    assert identity.photo_format == "png"
    face = lds.parse_dg2(card.chip.files[lds.Ef.DG2])
    assert (face.format, face.width, face.height) == ("jp2", 480, 600)


def test_a_wrong_key_is_refused_with_6300(passport):
    card = EmrtdCard(chip(passport))
    with pytest.raises(AccessDenied):
        ChipSession(card.process, card.atr).read_identity(
            MrzKey("EJ0000002", "880923", "330410"), TODAY)


def test_files_are_closed_before_bac(passport):
    card = EmrtdCard(chip(passport))
    assert card.process(bytes.fromhex("00A4040C07A0000002471001")) == b"\x90\x00"
    assert card.process(bytes.fromhex("00B0810000")) == b"\x69\x82"       # DG1 by SFI
    assert card.process(bytes.fromhex("00A4020C020101")) == b"\x69\x82"   # SELECT DG1


def test_a_tampered_data_group_is_caught_by_the_sod(passport):
    card = EmrtdCard(chip(passport))
    card.inject("tamper_dg2")
    with pytest.raises(DocumentTampered) as err:
        ChipSession(card.process, card.atr).read_identity(KEY, TODAY)
    assert err.value.what == "DG2"


def test_a_response_with_a_bad_mac_is_refused(passport):
    card = EmrtdCard(chip(passport))
    card.inject("bad_mac")
    with pytest.raises(BadCardReply, match="MAC"):
        ChipSession(card.process, card.atr).read_identity(KEY, TODAY)


def test_a_card_without_the_applet_is_not_an_emrtd(passport):
    card = EmrtdCard(chip(passport))
    card.inject("not_icao")
    with pytest.raises(NotAnEmrtd):
        ChipSession(card.process, card.atr).read_identity(KEY, TODAY)


def test_sod_lists_the_groups_it_hashes(passport):
    files = chip(passport).files
    sod = lds.parse_sod(files[lds.Ef.SOD])
    assert sod.algorithm == "sha256" and set(sod.hashes) == {1, 2}
    assert lds.check_hash(sod, 1, files[lds.Ef.DG1])
    assert not lds.check_hash(sod, 1, files[lds.Ef.DG2])


def test_an_icao_card_with_a_td1_mrz(passport):
    files = files_for(passport, (ASSETS / "face.jpg").read_bytes(), card_code="I")
    assert len(files.mrz) == 90
    card = EmrtdCard(files)
    identity = ChipSession(card.process, card.atr).read_identity(KEY, TODAY)
    assert (identity.document_number, identity.name, identity.valid_to) == \
        ("EJ0000001", "LIU, YANG", date(2033, 4, 10))
