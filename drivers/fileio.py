"""Files named from outside (a command-line argument, a settings entry), read and written
within bounds.

A name from outside may point anywhere: at a folder, at a device that never ends
(``/dev/zero``), at a pipe that never answers, at a sparse file of terabytes. So reading takes
regular files only, checks the size before reading and reads at most ``limit`` bytes; writing
never opens a device or a pipe and never makes folders. Every refusal is a typed, bilingual
:class:`FileRefused` that names the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from drivers.errors import BilingualError


class FileRefused(BilingualError):
    """A file named from outside cannot be read or written as asked."""

    code = "file_refused"


def shown(path: Path | str) -> str:
    """``path`` printable whatever its bytes (a name in another encoding cannot crash a print)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, or FileRefused."""
    _check_regular(path, must_exist=True)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            _check_mode(path, os.fstat(fd).st_mode)   # the name may have changed meanwhile
            _check_size(path, os.fstat(fd).st_size, limit)
            data = handle.read(limit + 1)
    except OSError as exc:
        raise _refused(path, exc) from None
    _check_size(path, len(data), limit)               # it grew while we read
    return data


def check_writable(path: Path) -> None:
    """Refuse before any work if ``path`` cannot become a regular file: its folder is missing,
    or it is a folder, a device or a pipe."""
    parent = path.parent
    try:
        folder = stat.S_ISDIR(os.stat(parent).st_mode)
    except OSError:
        folder = False
    if not folder:
        raise FileRefused(f"输出文件夹不存在：{shown(parent)}",
                          f"Output folder does not exist: {shown(parent)}", code="no_folder")
    _check_regular(path, must_exist=False)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to the regular file ``path`` (made or replaced), or FileRefused."""
    check_writable(path)
    try:
        # O_NONBLOCK: a pipe put there meanwhile fails at once instead of waiting for a reader
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC,
                     0o644)
        with os.fdopen(fd, "wb") as handle:
            _check_mode(path, os.fstat(fd).st_mode)
            handle.write(data)
    except OSError as exc:
        raise _refused(path, exc) from None


def _check_regular(path: Path, *, must_exist: bool) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if must_exist:
            raise _refused(path, FileNotFoundError(errno.ENOENT, "")) from None
        return
    except OSError as exc:
        raise _refused(path, exc) from None
    _check_mode(path, mode)


def _check_mode(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise _refused(path, IsADirectoryError(errno.EISDIR, ""))
    if not stat.S_ISREG(mode):
        raise FileRefused(f"不是普通文件（设备、管道或套接字）：{shown(path)}",
                          f"Not a regular file (a device, pipe or socket): {shown(path)}",
                          code="not_regular")


def _check_size(path: Path, size: int, limit: int) -> None:
    if size > limit:
        raise FileRefused(f"文件过大：{shown(path)}（超过 {limit} 字节）",
                          f"File too large: {shown(path)} (over {limit} bytes)",
                          code="too_large")


_REASONS = {
    errno.ENOENT: ("找不到文件", "No such file", "not_found"),
    errno.EISDIR: ("这是文件夹，不是文件", "Is a folder, not a file", "is_folder"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "A part of the path is not a folder", "not_found"),
    errno.EACCES: ("没有权限", "Permission denied", "no_permission"),
    errno.EPERM: ("没有权限", "Permission denied", "no_permission"),
    errno.ENOSPC: ("磁盘已满", "No space left on the disk", "disk_full"),
    errno.ENAMETOOLONG: ("文件名过长", "File name too long", "bad_name"),
    errno.ELOOP: ("符号链接循环", "Too many symbolic links", "bad_name"),
}


def _refused(path: Path, exc: OSError) -> FileRefused:
    zh, en, code = _REASONS.get(exc.errno or 0, ("无法访问文件", "Cannot access the file",
                                                 "unreadable"))
    detail = "" if exc.errno in _REASONS else f" ({exc.strerror or type(exc).__name__})"
    return FileRefused(f"{zh}：{shown(path)}{detail}", f"{en}: {shown(path)}{detail}", code=code)
