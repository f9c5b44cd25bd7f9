"""Per-session scratch storage for page images, encrypted at rest.

Files are sealed with AES-GCM under a key that exists only in this object's memory; the
wipe deletes the folder and drops the key, so even a copy of the disk taken mid-session
cannot be read back (crypto-shredding: overwriting files is unreliable on flash storage).
A kill leaves the folder behind, its key gone with the process: :func:`sweep_interrupted`
removes such folders at start-up.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)
SCRATCH_DIR = "tmp"           # under paths.data_dir: one session-… folder per live session
_FOLDER = re.compile(r"session-[0-9a-f]{16}")


class SessionStore:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"session-{secrets.token_hex(8)}"   # matches _FOLDER
        self.path.mkdir(mode=0o700)
        self._aead: AESGCM | None = AESGCM(AESGCM.generate_key(bit_length=256))
        self._count = 0

    def put(self, data: bytes) -> str:
        """Store ``data`` sealed; return the reference to get it back."""
        aead = self._require()
        self._count += 1
        ref = f"{self._count:04d}.bin"
        nonce = os.urandom(12)
        (self.path / ref).write_bytes(nonce + aead.encrypt(nonce, data, ref.encode()))
        return ref

    def get(self, ref: str) -> bytes:
        blob = (self.path / ref).read_bytes()
        return self._require().decrypt(blob[:12], blob[12:], ref.encode())

    def wipe(self) -> None:
        self._aead = None
        shutil.rmtree(self.path, ignore_errors=True)

    @property
    def wiped(self) -> bool:
        return self._aead is None and not self.path.exists()

    def _require(self) -> AESGCM:
        if self._aead is None:
            raise RuntimeError("session store already wiped")
        return self._aead


def sweep_interrupted(root: Path) -> int:
    """Remove the session folders under ``root`` that a killed process left (call it only
    when no session runs: at start-up). Unreadable without their key, but still the
    citizen's pages, and they pile up. Only folders named as a SessionStore names them go;
    a symlink is not followed. Returns how many were removed."""
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.iterdir():
        if _FOLDER.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, onerror=_log_failure)
            removed += not path.exists()
    if removed:
        log.info("removed %d session folders left by an interrupted run", removed)
    return removed


def _log_failure(function: object, path: str, exc_info: object) -> None:
    log.warning("could not remove %s left by an interrupted session", Path(path).name)
