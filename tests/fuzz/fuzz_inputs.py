"""Bad inputs for the fuzz/regression suite, and the one check every refusal must pass.

Every command that reads a file named from outside gets the same kinds of wrong file (empty,
binary garbage, a folder, a missing name, a name through ``..``, a name in another encoding,
the wrong kind of file, and — in a memory-limited child process only — ``/dev/zero``, a pipe,
a 10 GiB sparse file) plus the ones of its own format (a truncated file, a header claiming a
huge picture, "billion laughs" YAML, deep nesting, duplicate keys, ...). Each must end in a
typed, bilingual message and an exit status other than 0: never a traceback, a hang, or an
exit 0 on wrong input.
"""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.toml"
CATALOGUE = ROOT / "config" / "catalogue.yaml"
REGIONS = ROOT / "assets" / "demo" / "regions"
FRAME = ROOT / "benchmarks" / "data" / "smartdoc15_ch1_sample" / \
    "background01_datasheet001_frame_0118.jpeg"

MEMORY_LIMIT = 2 << 30          # address space of a child: the OOM cases must stay under it
TIMEOUT_S = 60                  # a child still running then has hung
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{3,}")

Builder = Callable[[Path], Path]


def check_refusal(code: int | str | None, out: str, err: str) -> None:
    """Exit status ≠ 0, no traceback, and a message in Chinese and in English."""
    text = out + err
    assert code not in (0, None), f"exit {code} on bad input:\n{text}"
    assert "Traceback" not in text, text
    assert CJK.search(text) and WORD.search(text), f"not bilingual:\n{text}"


# `python -m kiosk ARGV`, after the child limits its own address space (preexec_fn would do
# it too, but is unsafe in a process with threads, and the tests run children from a pool)
_LIMITED = ("import resource, runpy, sys; "
            f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); "
            "sys.argv[0] = 'kiosk'; runpy.run_module('kiosk', run_name='__main__')")


def run_limited(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``python -m kiosk ARGV`` in a child with MEMORY_LIMIT of address space and TIMEOUT_S."""
    return subprocess.run([sys.executable, "-c", _LIMITED, *argv], capture_output=True,
                          text=True, errors="backslashreplace", timeout=TIMEOUT_S, cwd=ROOT,
                          stdin=subprocess.DEVNULL)


# --- the kinds of wrong file every reader gets ----------------------------------------------

def empty(tmp: Path) -> Path:
    return _write(tmp / "empty.bin", b"")


def garbage(tmp: Path) -> Path:
    return _write(tmp / "garbage.bin", bytes(range(256)) * 64)


def folder(tmp: Path) -> Path:
    (tmp / "a-folder").mkdir(exist_ok=True)
    return tmp / "a-folder"


def missing(tmp: Path) -> Path:
    return tmp / "does-not-exist.bin"


def through_dotdot(tmp: Path) -> Path:
    return tmp / "no-such" / ".." / ".." / "no-such-either" / "x.bin"


def other_encoding_name(tmp: Path) -> Path:
    """A file whose name is not UTF-8 (GBK bytes), holding garbage."""
    return _write(tmp / os.fsdecode("材料".encode("gbk") + b".bin"), bytes(range(256)))


def wrong_kind(tmp: Path) -> Path:
    """A picture where text is expected (and for image readers: see image_as_text)."""
    return _write(tmp / "picture.png", png(80, 80))


GENERIC: dict[str, Builder] = {
    "empty": empty, "garbage": garbage, "folder": folder, "missing": missing,
    "dotdot": through_dotdot, "gbk-name": other_encoding_name, "wrong-kind": wrong_kind,
}


# --- only in a memory-limited child: these hung or exhausted memory -------------------------

def dev_zero(tmp: Path) -> Path:
    return Path("/dev/zero")


def fifo(tmp: Path) -> Path:
    path = tmp / "a-pipe"
    if not path.exists():
        os.mkfifo(path)
    return path


def sparse(tmp: Path) -> Path:
    """10 GiB that takes no disk."""
    path = tmp / "sparse.bin"
    with open(path, "wb") as handle:
        handle.truncate(10 << 30)
    return path


UNBOUNDED: dict[str, Builder] = {"dev-zero": dev_zero, "fifo": fifo, "sparse": sparse}


# --- pictures --------------------------------------------------------------------------------

def png(width: int, height: int, value: int = 128) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (value, value, value)).save(out, "PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A valid PNG start whose header claims width×height: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


def bomb(tmp: Path) -> Path:
    return _write(tmp / "bomb.png", png_header(65000, 65000))


def one_pixel(tmp: Path) -> Path:
    return _write(tmp / "one.png", png(1, 1))


def truncated_photo(tmp: Path) -> Path:
    data = FRAME.read_bytes()
    return _write(tmp / "cut.jpeg", data[: len(data) // 3])


def text_as_image(tmp: Path) -> Path:
    return _write(tmp / "catalogue.jpg", CATALOGUE.read_bytes()[:4096])


# --- text formats ----------------------------------------------------------------------------

def billion_laughs() -> str:
    lines = ["schema_version: 1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join([*lines, "matters: *a9"]) + "\n"


def settings_text(data_dir: Path) -> str:
    """The demo settings with absolute paths, so a copy works from any folder."""
    text = DEMO.read_text(encoding="utf-8")
    for old, new in {'"../assets': f'"{ROOT / "assets"}',
                     'data_dir = "../var/demo"': f'data_dir = "{data_dir}"',
                     'catalogue = "catalogue.yaml"': f'catalogue = "{CATALOGUE}"'}.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def settings_with_route_key(tmp: Path, key: Path) -> Path:
    """Demo settings whose route to 110101 takes ``key``."""
    text = settings_text(tmp / "data")
    old = str(REGIONS / "region-110101-x25519-chacha20.pub")
    assert old in text
    return _write(tmp / "route-key.toml", text.replace(old, str(key)).encode())


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return _write(path, text.encode(encoding))
