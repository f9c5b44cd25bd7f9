"""``kiosk-region … --db`` naming something that is not a regular file: a device, a pipe, a
socket or a folder is refused with what it is (it used to say "no such file" for
``/dev/zero``), and where the database may be made (``staff add``) it is refused before
anything opens it: making it 0600 would chmod a device, and opening a pipe to write waits
for ever. Real subprocess CLI."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from region_rig import region_cli


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.db"
    os.mkfifo(path)
    return path


def _socket(folder: Path) -> Path:
    path = folder / "sock.db"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))          # the name stays after the socket is closed
    server.close()
    return path


NOT_REGULAR: dict[str, Callable[[Path], Path]] = {
    "dev-zero": lambda folder: Path("/dev/zero"), "dev-null": lambda folder: Path("/dev/null"),
    "fifo": _fifo, "socket": _socket}


@pytest.mark.parametrize("kind", sorted(NOT_REGULAR))
def test_a_device_pipe_or_socket_is_not_a_regular_file(kind: str, tmp_path: Path) -> None:
    done = region_cli(["case", "list", "--db", str(NOT_REGULAR[kind](tmp_path))], timeout=60)
    assert done.returncode == 2, done.stderr
    assert "不是普通文件" in done.stderr and "not a regular file" in done.stderr
    assert "no such file" not in done.stderr


@pytest.mark.parametrize("kind", ["fifo", "socket"])      # never a real device: see the doc
def test_staff_add_refuses_a_pipe_or_socket_before_opening_it(kind: str,
                                                               tmp_path: Path) -> None:
    path = NOT_REGULAR[kind](tmp_path)
    mode = path.stat().st_mode
    done = region_cli(["staff", "add", "--db", str(path), "--id", "zhang01", "--name", "张工"],
                      stdin="135791\n", timeout=60)
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
    assert path.stat().st_mode == mode


def test_a_folder_says_folder_and_a_missing_file_says_missing(tmp_path: Path) -> None:
    folder = region_cli(["case", "list", "--db", str(tmp_path)])
    missing = region_cli(["case", "list", "--db", str(tmp_path / "none.db")])
    assert folder.returncode == missing.returncode == 2
    assert "a folder" in folder.stderr and "no such file" in missing.stderr
