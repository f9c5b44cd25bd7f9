"""The bounded readers and parsers under the commands, in this process: what they refuse, and
— the controls — what they must still take."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fuzz_inputs import DEMO, REGIONS, bomb, png, settings_text, write_text
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.barcode import UnreadableImage
from drivers.camera import NoPageFound
from drivers.camera.files import MIN_SIDE, load_rgb, rectify_file
from drivers.fileio import FileRefused, read_bounded, write_file
from kiosk.errors import ConfigError
from kiosk.fleet.calls import HallCall, ack_document, read_ack, read_call
from kiosk.fleet.commands import CommandVerifier
from kiosk.fleet.errors import FleetError
from kiosk.fleet.heartbeat import _peek_id
from kiosk.safe_yaml import MAX_DEPTH, MAX_NODES, YamlRefused, parse_yaml
from kiosk.settings import load_settings
from kiosk.transfer.keys import KeyFileError, recipient

# --- drivers.fileio ----------------------------------------------------------------------------


def test_read_bounded_takes_up_to_the_limit_and_no_more(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, 100) == b"x" * 100
    with pytest.raises(FileRefused) as info:
        read_bounded(path, 99)
    assert info.value.code == "too_large" and "文件过大" in info.value.zh


@pytest.mark.parametrize("name", ["/dev/zero", "/dev/null", "fifo", "folder"])
def test_read_bounded_takes_regular_files_only(name: str, tmp_path: Path) -> None:
    path = Path(name) if name.startswith("/") else tmp_path / name
    if name == "fifo":
        os.mkfifo(path)
    elif name == "folder":
        path.mkdir()
    with pytest.raises(FileRefused) as info:
        read_bounded(path, 1 << 20)
    assert info.value.code in ("not_regular", "is_folder") and info.value.zh and info.value.en


@pytest.mark.parametrize("name", ["/dev/null", "fifo", "folder", "missing/out.bin"])
def test_write_file_makes_regular_files_only(name: str, tmp_path: Path) -> None:
    path = Path(name) if name.startswith("/") else tmp_path / name
    if name == "fifo":
        os.mkfifo(path)                  # no reader: a plain open would wait for ever
    elif name == "folder":
        path.mkdir()
    with pytest.raises(FileRefused):
        write_file(path, b"data")
    assert not (tmp_path / "missing").exists()


def test_write_file_replaces_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old and longer")
    write_file(path, b"new")
    assert path.read_bytes() == b"new"


# --- images ------------------------------------------------------------------------------------

def test_a_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    with pytest.raises(UnreadableImage) as info:
        load_rgb(bomb(tmp_path))
    assert "图像过大" in info.value.zh and "too large" in info.value.en


@pytest.mark.parametrize("size", [(1, 1), (MIN_SIDE - 1, 500), (500, MIN_SIDE - 1)])
def test_a_picture_too_small_for_a_page_is_refused(size: tuple[int, int],
                                                    tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    path.write_bytes(png(*size))
    with pytest.raises(UnreadableImage) as info:
        load_rgb(path)
    assert "太小" in info.value.zh and "too small" in info.value.en


def test_the_smallest_picture_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    path.write_bytes(png(MIN_SIDE, MIN_SIDE))
    assert load_rgb(path).shape == (MIN_SIDE, MIN_SIDE, 3)


def test_rectify_without_a_page_raises_and_writes_nothing(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    blank.write_bytes(png(800, 600))
    with pytest.raises(NoPageFound):
        rectify_file(blank, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


# --- YAML --------------------------------------------------------------------------------------

def test_ordinary_anchors_and_merge_keys_still_work() -> None:
    text = ("shared: &docs [身份证, 户口簿]\n"
            + "".join(f"m{i}: {{materials: *docs}}\n" for i in range(200))
            + "base: &b {phone: '0839', hours: 9-17}\nhall:\n  <<: *b\n  hours: 8-18\n")
    data, node = parse_yaml(text)
    assert node is not None and data["m199"]["materials"] == ["身份证", "户口簿"]
    assert data["hall"] == {"phone": "0839", "hours": "8-18"}   # an explicit key wins a merge


def test_nesting_up_to_the_limit_is_taken_and_one_more_is_refused() -> None:
    def nested(depth: int) -> str:           # the root mapping is level 1
        return "a: " + "[" * (depth - 2) + "1" + "]" * (depth - 2) + "\n"
    data, _ = parse_yaml(nested(MAX_DEPTH))
    assert data is not None
    with pytest.raises(YamlRefused):
        parse_yaml(nested(MAX_DEPTH + 1))


def test_aliases_expanding_past_the_node_limit_are_refused_quickly() -> None:
    side = 10
    lines = ["a0: &a0 [" + ", ".join(["x"] * side) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * side) + "]" for i in range(1, 5)]
    assert (side + 1) ** 5 > MAX_NODES
    with pytest.raises(YamlRefused) as info:
        parse_yaml("\n".join(lines) + "\n")
    assert "节点" in info.value.zh and info.value.line == 5


# --- settings ----------------------------------------------------------------------------------

def test_settings_cut_anywhere_before_their_last_sections_are_refused(tmp_path: Path) -> None:
    """Before, 4,771 of demo.toml's 8,670 cut points were accepted (the rest defaulted:
    emulated devices, no routes). Now a cut mid-line is refused, and so is one at any line
    end before [paths]."""
    text = settings_text(tmp_path / "data")
    end = text.index("[paths]")
    path = tmp_path / "settings.toml"
    line_ends = [i + 1 for i, c in enumerate(text[:end]) if c == "\n"]
    mid_line = [i for i in range(0, end, 61) if text[i - 1:i] != "\n"]
    for cut in line_ends + mid_line:
        path.write_text(text[:cut], encoding="utf-8")
        with pytest.raises(ConfigError):
            load_settings(path)
    path.write_text(text, encoding="utf-8")
    assert load_settings(path).kiosk.id == "510802-0001"       # the control: whole, it loads
    assert DEMO.read_text(encoding="utf-8").endswith("\n")


# --- route keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("suite", ["x25519-chacha20", "sm2-sm4"])
def test_a_region_private_key_is_no_route_key(suite: str) -> None:
    public = recipient(REGIONS / f"region-110101-{suite}.pub", "110101", suite)
    assert public.region == "110101"
    with pytest.raises(KeyFileError) as info:
        recipient(REGIONS / f"region-110101-{suite}.key", "110101", suite)
    assert "私钥" in info.value.zh and "private key" in info.value.en


def test_key_file_errors_are_bilingual(tmp_path: Path) -> None:
    for text in ("", "{", "[]", '{"format": "tongban-kiosk key v1"}', "\x00" * 10):
        path = write_text(tmp_path / "k.pub", text)
        with pytest.raises(KeyFileError) as info:
            recipient(path, "110101", "x25519-chacha20")
        assert "密钥文件无效" in info.value.zh and "Invalid key file" in info.value.en
        assert info.value.zh.count("（") == 1                  # the reason is in Chinese too


# --- MQTT messages on the fleet's topics (anyone with broker access may write them) ---------

HOSTILE_MESSAGES = [b"", b"[" * 5000, b'{"a":' * 3000, b"\xff\xfe\x00", b"1e999999", b"null",
                    b'{"id": "0123abcd", "id": "0123abcd", "by": "x"}', b'"text"',
                    b'{"schema": 1, "id": {"x": 1}, "kiosk": [], "step": 1, "state": 0, "at": 0}',
                    b" " * 70_000]


@pytest.mark.parametrize("payload", HOSTILE_MESSAGES)
def test_hostile_mqtt_messages_are_ignored_or_refused(payload: bytes) -> None:
    # regression: a 2 KiB nest of brackets raised RecursionError inside paho's network thread
    assert read_call(payload) is None and read_ack(payload) is None
    assert _peek_id(payload) is None or isinstance(_peek_id(payload), str)
    with pytest.raises(FleetError) as info:
        CommandVerifier("510802-0001").verify(payload, None)
    assert info.value.zh and info.value.en


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_on_the_call_topics_never_raise(payload: bytes) -> None:
    read_call(payload)
    read_ack(payload)
    _peek_id(payload)


def test_the_call_readers_still_take_what_the_kiosk_and_console_write() -> None:
    call = HallCall("0123abcd", "510802-0001", "capture", "open", "2026-12-07T02:00:00+00:00")
    assert read_call(call.document()) == call
    assert read_ack(ack_document("0123abcd", "导办台 王芳", datetime.now(UTC))) == (
        "0123abcd", "导办台 王芳")
