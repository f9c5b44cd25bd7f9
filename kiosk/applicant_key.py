"""A keyed hash of the applicant's document number, so 进度查询 can find a person's cases by
reading their ID card again while the ledger keeps no ID number.

HMAC-SHA256 with a per-kiosk secret (32 random bytes, ``applicant.key`` in the data folder,
owner-only): without the secret the hashes cannot be tried against the (small) space of
Chinese ID numbers, and two kiosks' hashes of the same person differ. The secret never
leaves the kiosk; losing it only makes older cases unfindable by card (the receipt's QR still
works).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from drivers.identity import Identity
from kiosk.errors import KioskError
from kiosk.fsutil import fsync_dir, private_file

SECRET_FILE = "applicant.key"
SECRET_BYTES = 32


def load_secret(data_dir: Path) -> bytes:
    """The kiosk's secret, made once (owner-only) the first time it is asked for. Linked into
    place, never renamed over: two processes starting at once agree on the first one made."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = private_file(data_dir / f".{SECRET_FILE}.{secrets.token_hex(4)}")
        try:
            with open(tmp, "wb") as handle:
                handle.write(secrets.token_bytes(SECRET_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            fsync_dir(data_dir)
        finally:
            tmp.unlink()
    with open(path, "rb") as handle:
        secret = handle.read(SECRET_BYTES + 1)
    if len(secret) != SECRET_BYTES or not path.is_file():
        raise KioskError(f"申请人查询密钥文件损坏：{path}",
                         f"The applicant lookup secret is damaged: {path}",
                         code="bad_applicant_secret")
    return secret


def applicant_key(secret: bytes, identity: Identity) -> str:
    """The same for every read of one person's document; "" when it has no number."""
    number = (identity.id_number or identity.document_number).strip().upper()
    if not number:
        return ""
    text = f"{identity.nationality.strip().upper()}|{number}".encode()
    return hmac.new(secret, text, hashlib.sha256).hexdigest()
