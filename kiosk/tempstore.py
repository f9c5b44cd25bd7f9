"""Per-session scratch storage for page images, encrypted at rest.

Files are sealed with AES-GCM under a key that exists only in this object's memory; the
wipe deletes the folder and drops the key, so even a copy of the disk taken mid-session
cannot be read back (crypto-shredding: overwriting files is unreliable on flash storage).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SessionStore:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"session-{secrets.token_hex(8)}"
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
