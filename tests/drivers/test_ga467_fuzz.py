"""Random and mutated GA/T 467 frames and text blocks: the parsers raise only their
documented errors (FrameError, FrameTimeout, BadTextBlock), never anything else."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.identity.emulated import load_identities
from drivers.identity.ga467 import frame
from drivers.identity.ga467.frame import FrameError, FrameTimeout
from drivers.identity.ga467.reader import Ga467Reader
from drivers.identity.ga467.text import LAYOUTS, BadTextBlock, build_text, parse_text

ROOT = Path(__file__).resolve().parents[2]
CARDS = [card for card in load_identities(ROOT / "assets" / "demo" / "identities.toml").values()
         if card.card_type in LAYOUTS]
GOOD_TEXTS = [build_text(card) for card in CARDS]
GOOD_READ = frame.encode_response(0x90, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big")
                                  + GOOD_TEXTS[0] + bytes(1024))


def stream(data: bytes):  # type: ignore[no-untyped-def]
    """A read(n) over ``data`` that then times out (returns b"")."""
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        chunk = data[pos:pos + n]
        pos += len(chunk)
        return chunk
    return read


def ticking_clock():  # type: ignore[no-untyped-def]
    now = [0.0]

    def clock() -> float:
        now[0] += 0.01
        return now[0]
    return clock


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


frames = st.one_of(st.binary(max_size=1400), mutated(GOOD_READ),
                   st.binary(max_size=40).map(lambda b: frame.PREAMBLE + b))


@settings(max_examples=400, deadline=None)
@given(frames)
def test_frames_raise_only_frame_errors(data: bytes) -> None:
    with contextlib.suppress(FrameError, FrameTimeout):    # anything else fails the test
        raw = frame.read_frame(stream(data), timeout=5.0, clock=ticking_clock())
        reply = frame.decode_response(raw)
        Ga467Reader._split_read(reply.data, fingerprints=False)


texts = st.one_of(st.binary(min_size=256, max_size=256), st.binary(max_size=300),
                  st.sampled_from(GOOD_TEXTS).flatmap(mutated),
                  st.sampled_from(GOOD_TEXTS).flatmap(
                      lambda t: st.binary(min_size=2, max_size=2).map(
                          lambda b: t[:248] + b + t[250:])))


@settings(max_examples=400, deadline=None)
@given(texts)
def test_text_blocks_raise_only_bad_text_block(block: bytes) -> None:
    with contextlib.suppress(BadTextBlock):     # anything else fails the test
        parse_text(block)


def test_every_demo_card_round_trips_through_its_layout() -> None:
    for card, text in zip(CARDS, GOOD_TEXTS, strict=True):
        read = parse_text(text)
        assert (read.card_type, read.id_number, read.birth_date, read.valid_to) == \
            (card.card_type, card.id_number, card.birth_date, card.valid_to)
