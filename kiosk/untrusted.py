"""Reading what another machine wrote: a name from outside is never a path of ours, JSON is
parsed strictly, and a zip archive is read with its file count, sizes and memory bounded.

One set of rules for every such reader: the region opening a package a kiosk signed (a
stolen kiosk signs anything) and the kiosk reading a fleet bundle. The rules refuse, they
never repair: a repaired name could land on another file.

A zip is checked before ``zipfile`` parses it: its end record must be the file's last 22
bytes (no comment, no zip64, nothing appended or prepended — our writers make exactly that),
so the central directory ``zipfile`` then reads into memory is as small as the limits say.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from kiosk.errors import KioskError

MAX_PART_BYTES = 255            # NAME_MAX of ext4, NTFS and the rest
MAX_NAME_BYTES = 1024
MAX_DEPTH = 8
CHUNK = 1 << 20
_END = struct.Struct("<4s4H2LH")          # end of central directory, no comment
_END_MAGIC, _ZIP64_LOCATOR = b"PK\x05\x06", b"PK\x06\x07"
_FORBIDDEN = frozenset('\\:*?"<>|')       # separators or specials where a region may unpack
_DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# everything zipfile and zlib raise on a damaged archive
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error,
               NotImplementedError, RuntimeError)


class Untrusted(KioskError):
    """What another machine wrote breaks a rule. ``code``: unsafe_name, duplicate_name,
    not_json, not_an_archive, too_many_files, too_large, damaged (callers add their own)."""

    code = "untrusted"


@dataclass(frozen=True)
class Limits:
    """How much of an archive is read at most."""

    files: int
    total_bytes: int                      # all members unpacked, declared and as read
    directory_bytes: int = 1 << 20        # the central directory, parsed in memory


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_name(name: object) -> str:
    """``name`` when it is a safe relative file name ("a/b.pdf": ``/`` between parts, each
    part a plain bounded name), else Untrusted(unsafe_name)."""
    why = _name_problem(name)
    if why is not None:
        raise Untrusted(f"文件名不安全：{_short(name)}（{why[0]}）",
                        f"unsafe path {_short(name)}: {why[1]}", code="unsafe_name")
    assert isinstance(name, str)
    return name


def _name_problem(name: object) -> tuple[str, str] | None:
    if not isinstance(name, str) or not name:
        return "不是非空文本", "not a non-empty string"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "不是有效的 UTF-8", "not valid UTF-8"
    if size > MAX_NAME_BYTES:
        return "过长", f"longer than {MAX_NAME_BYTES} bytes"
    if name.startswith("/"):
        return "是绝对路径", "an absolute path"
    if any(ch in _FORBIDDEN or _invisible(ch) for ch in name):
        return "含有不允许的字符", "a control, separator or reserved character"
    parts = name.split("/")
    if len(parts) > MAX_DEPTH:
        return "层级过深", f"more than {MAX_DEPTH} levels"
    return next(filter(None, map(_part_problem, parts)), None)


def _invisible(ch: str) -> bool:
    """Control, format (bidi overrides, zero-width), unassigned and line-breaking characters:
    a name that reads one way and is another."""
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp")


def _part_problem(part: str) -> tuple[str, str] | None:
    if part in ("", ".", ".."):
        return "含有空的、“.” 或 “..” 路径段", "an empty, '.' or '..' part"
    if len(part.encode("utf-8")) > MAX_PART_BYTES:
        return "路径段过长", f"a part longer than {MAX_PART_BYTES} bytes"
    if part[-1] in ". " or part[0] == " ":
        return "路径段以点或空格结尾", "a part that begins with a space or ends in a dot or space"
    if _DEVICE.fullmatch(part):
        return "是设备名", "a device name (CON, NUL, COM1, ...)"
    return None


def check_distinct(names: Iterable[str]) -> None:
    """No two names that one file system could take for the same file (case, Unicode
    normalisation), and no name that is also another's folder."""
    seen: dict[str, str] = {}
    for name in names:
        key = unicodedata.normalize("NFC", name).casefold()
        if key in seen:
            also = "" if seen[key] == name else f" (also as {_short(seen[key])})"
            raise Untrusted(f"同一文件名出现不止一次：{_short(name)}",
                            f"the name {_short(name)} occurs more than once{also}",
                            code="duplicate_name")
        seen[key] = name
    for key, name in seen.items():
        parts = key.split("/")
        for end in range(1, len(parts)):
            if "/".join(parts[:end]) in seen:
                raise Untrusted(f"文件名同时是文件和文件夹：{_short(name)}",
                                f"{_short(name)} needs a folder that is also a file: "
                                "a duplicate name", code="duplicate_name")


def loads(raw: bytes, what: str) -> Any:
    """JSON with no duplicate keys, no NaN or Infinity, and no nesting deep enough to blow
    the stack; else Untrusted(not_json). ``what`` names the document in the message."""
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:     # UnicodeDecodeError is a ValueError
        detail = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise Untrusted(f"{what} 不是有效的 JSON", f"{what} is not valid JSON ({detail})",
                        code="not_json") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a key occurs more than once")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _not_an_archive(why: str) -> Untrusted:
    return Untrusted("不是有效的压缩包", f"not a valid zip archive ({why})",
                     code="not_an_archive")


def _too_large(limit: int) -> Untrusted:
    return Untrusted(f"内容解压后超过 {limit} 字节", f"unpacks to more than {limit} bytes",
                     code="too_large")


def open_zip(source: IO[bytes], limits: Limits) -> zipfile.ZipFile:
    """A ZipFile over ``source`` (seekable) once its end record, file count, names and
    declared sizes are within ``limits``; else Untrusted. The caller closes it."""
    _check_end_record(source, limits)
    try:
        archive = zipfile.ZipFile(source)
    except _ZIP_ERRORS as exc:
        raise _not_an_archive(str(exc)[:200]) from None
    try:
        check_members(archive.infolist(), limits)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_end_record(source: IO[bytes], limits: Limits) -> None:
    size = source.seek(0, 2)
    if size < _END.size:
        raise _not_an_archive("too short")
    source.seek(size - _END.size)
    magic, disk, cd_disk, here, total, cd_size, cd_offset, comment = _END.unpack(
        source.read(_END.size))
    if magic != _END_MAGIC or comment:
        raise _not_an_archive("no end record at the end of the file")
    if size >= _END.size + 20:
        source.seek(size - _END.size - 20)
        if source.read(4) == _ZIP64_LOCATOR:
            raise _not_an_archive("zip64 is not used here")
    if disk or cd_disk or here != total or cd_offset + cd_size != size - _END.size:
        raise _not_an_archive("the central directory is not where the end record says")
    if total > limits.files:
        raise _too_many(limits.files)
    if cd_size > limits.directory_bytes:
        raise _not_an_archive(f"central directory larger than {limits.directory_bytes} bytes")


def _too_many(limit: int) -> Untrusted:
    return Untrusted(f"文件数超过 {limit} 个", f"more than {limit} files", code="too_many_files")


def check_members(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Count, names (as stored: zipfile cuts a name at NUL), method and declared sizes."""
    if len(infos) > limits.files:
        raise _too_many(limits.files)
    total = 0
    for info in infos:
        check_name(info.orig_filename)
        if info.flag_bits & 0x1 or info.compress_type not in _METHODS:
            raise _not_an_archive(f"{_short(info.filename)}: encrypted or an unknown method")
        total += info.file_size
        if total > limits.total_bytes:
            raise _too_large(limits.total_bytes)
    check_distinct(info.filename for info in infos)


def copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                write: Callable[[bytes], object]) -> int:
    """Stream one member to ``write`` in chunks of at most 1 MiB, never more than it
    declared (zipfile stops there and checks the CRC); else Untrusted(damaged). What
    ``write`` raises (a full disk) passes through as it is."""
    count = 0
    with _damaged_as(info):
        member = archive.open(info)
    with member:
        while True:
            with _damaged_as(info):
                chunk = member.read(CHUNK)
            if not chunk:
                break
            count += len(chunk)
            if count > info.file_size:
                raise _too_large(info.file_size)
            write(chunk)
    if count != info.file_size:
        raise Untrusted(f"压缩包中的文件不完整：{_short(info.filename)}",
                        f"{_short(info.filename)} is damaged: cut short", code="damaged")
    return count


@contextmanager
def _damaged_as(info: zipfile.ZipInfo) -> Iterator[None]:
    try:
        yield
    except _ZIP_ERRORS as exc:
        raise Untrusted(f"压缩包中的文件已损坏：{_short(info.filename)}",
                        f"{_short(info.filename)} is damaged: {str(exc)[:200]}",
                        code="damaged") from None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member whole (a manifest), refused above ``limit`` bytes before reading."""
    if info.file_size > limit:
        raise _too_large(limit)
    data = bytearray()
    copy_member(archive, info, data.extend)
    return bytes(data)
