"""kiosk/untrusted.py on its own: which names pass, strict JSON, and a fuzz of damaged zips —
whatever the bytes, reading ends in the members or in Untrusted, never in another error."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.untrusted import (
    Limits,
    Untrusted,
    check_distinct,
    check_name,
    copy_member,
    loads,
    open_zip,
)

LIMITS = Limits(files=50, total_bytes=1 << 20, directory_bytes=64 << 10)


@pytest.mark.parametrize("name", ["receipt.pdf", "materials/01-m1.pdf", "材料 1.pdf",
                                  "keys/region-510800-sm2-sm4.pub", "a/b/c/d/e/f/g/h",
                                  "x" * 255, ".hidden", "a..b", "CONSOLE.txt", "com10"])
def test_plain_names_pass(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", [
    "", "/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/", ".", "..", "a\\b", "c:x",
    "x\x00", "x\n", "x\u202e", "x\u200b", "x\u2028", "x.", "x ", " x", "CON", "nul.txt",
    "Com1.log", "lpt9", "x" * 256, "/".join("d" * 9), "a?", "a*", "a|b", "<a>", 'a"b',
    "\ud800", 5, None, b"bytes",
])
def test_unsafe_names_are_refused(name: object) -> None:
    with pytest.raises(Untrusted) as info:
        check_name(name)
    assert info.value.code == "unsafe_name" and "unsafe path" in info.value.en


@pytest.mark.parametrize("names", [["a.pdf", "A.PDF"], ["a", "a/b"], ["x/y", "X/y/z"],
                                   ["caf\u00e9", "cafe\u0301"], ["a", "a"]])
def test_twins_are_refused(names: list[str]) -> None:
    with pytest.raises(Untrusted) as info:
        check_distinct(names)
    assert info.value.code == "duplicate_name"


def test_distinct_names_pass() -> None:
    check_distinct(["a", "b/a", "b/c", "ab"])


@pytest.mark.parametrize("raw", [b'{"a": 1, "a": 2}', b"NaN", b"[Infinity]", b"[" * 10000,
                                 b"\xff", b"{", b""])
def test_loads_is_strict(raw: bytes) -> None:
    with pytest.raises(Untrusted) as info:
        loads(raw, "doc")
    assert info.value.code == "not_json" and "doc" in info.value.en


def _zip(method: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        zf.writestr("manifest.json", b'{"files": ["a.txt", "b/c.bin"]}')
        zf.writestr("a.txt", b"hello " * 200)
        zf.writestr("b/c.bin", bytes(range(256)) * 8)
    return out.getvalue()


def _read_all(data: bytes) -> dict[str, bytes]:
    with open_zip(io.BytesIO(data), LIMITS) as archive:
        found = {}
        for info in archive.infolist():
            chunks = bytearray()
            copy_member(archive, info, chunks.extend)
            found[info.filename] = bytes(chunks)
        return found


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_sound_zip_reads_whole(method: int) -> None:
    assert set(_read_all(_zip(method))) == {"manifest.json", "a.txt", "b/c.bin"}


@settings(max_examples=200, deadline=None)
@given(method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=4),
       cut=st.none() | st.integers(0, 10**6))
def test_fuzz_damaged_zips_end_in_untrusted(method: int, flips: list[tuple[int, int]],
                                            cut: int | None) -> None:
    data = bytearray(_zip(method))
    for at, bits in flips:
        data[at % len(data)] ^= bits
    if cut is not None:
        del data[cut % len(data):]
    try:
        found = _read_all(bytes(data))
    except Untrusted as exc:
        assert exc.zh and exc.en
    else:
        assert sum(map(len, found.values())) <= LIMITS.total_bytes
