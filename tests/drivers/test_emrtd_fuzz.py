"""Random and mutated APDU responses, TLV, LDS files and MRZs: the eMRTD parsers raise only
their documented error (BadCardReply, or a status / access error from the session), never an
IndexError or a crypto library's exception."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.identity import CardDataInvalid, MrzKey
from drivers.identity.emrtd import apdu, lds, mrz, tlv
from drivers.identity.emrtd.bac import SessionKeys
from drivers.identity.emrtd.emulator import EmrtdCard, files_for
from drivers.identity.emrtd.errors import (
    AccessDenied,
    BadCardReply,
    CardStatus,
    DocumentTampered,
    NotAnEmrtd,
)
from drivers.identity.emrtd.lds import Ef
from drivers.identity.emrtd.reading import ChipSession
from drivers.identity.emrtd.sm import SecureChannel
from drivers.identity.emulated import load_identities

ROOT = Path(__file__).resolve().parents[2]
PASSPORT = load_identities(ROOT / "assets" / "demo" / "identities.toml")["passport"]
CHIP = files_for(PASSPORT, (ROOT / "assets" / "demo" / "face.jpg").read_bytes())
KEY = MrzKey("EJ0000001", "880923", "330410")
SESSION_ERRORS = (BadCardReply, CardStatus, AccessDenied, NotAnEmrtd, DocumentTampered,
                  CardDataInvalid)


def mutated(good: bytes) -> st.SearchStrategy[bytes]:
    """``good`` with a few bytes changed, cut short, or grown."""
    return st.one_of(
        st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)).map(
            lambda p: good[:p[0]] + bytes([p[1]]) + good[p[0] + 1:]),
        st.integers(0, len(good)).map(lambda n: good[:n]),
        st.binary(max_size=8).map(lambda extra: good + extra),
    )


@given(st.binary(max_size=64))
def test_tlv_on_random_bytes(data: bytes) -> None:
    try:
        list(tlv.items(data))
        tlv.header_size(data)
    except BadCardReply:
        pass


@given(st.one_of(st.binary(max_size=300), mutated(CHIP.files[Ef.SOD])))
def test_sod_parser(data: bytes) -> None:
    with contextlib.suppress(BadCardReply):
        lds.parse_sod(data)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), mutated(CHIP.files[Ef.DG2][:400])))
def test_dg2_parser(data: bytes) -> None:
    with contextlib.suppress(BadCardReply):
        lds.face_image(lds.parse_dg2(data))


@given(st.one_of(st.binary(max_size=120), mutated(CHIP.files[Ef.DG1]),
                 mutated(CHIP.files[Ef.COM])))
def test_dg1_and_com_parsers(data: bytes) -> None:
    with contextlib.suppress(BadCardReply):
        mrz.parse(lds.parse_dg1(data))
    with contextlib.suppress(BadCardReply):
        lds.parse_com(data)


@given(st.binary(max_size=300))
def test_command_and_response_apdus(data: bytes) -> None:
    with contextlib.suppress(BadCardReply):
        apdu.parse_command(data)
    with contextlib.suppress(BadCardReply):
        apdu.split_response(data)


@given(st.binary(max_size=80), st.integers(0, 0xFFFF))
def test_protected_responses(data: bytes, sw: int) -> None:
    channel = SecureChannel(SessionKeys(bytes(range(16)), bytes(range(16, 32)), 7))
    with contextlib.suppress(BadCardReply):
        channel.unprotect(data, sw)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(0, 5), st.binary(min_size=1, max_size=6))
def test_a_chip_whose_nth_reply_is_garbled(n: int, start: int, noise: bytes) -> None:
    """A whole session where one reply is corrupted in flight ends in a documented error."""
    card = EmrtdCard(CHIP)
    count = 0

    def transmit(raw: bytes) -> bytes:
        nonlocal count
        reply = card.process(raw)
        count += 1
        if count == n:
            pos = min(start, len(reply))
            reply = reply[:pos] + noise + reply[pos + len(noise):]
        return reply

    with contextlib.suppress(SESSION_ERRORS):
        ChipSession(transmit, card.atr).read_identity(KEY, date(2026, 11, 22))
