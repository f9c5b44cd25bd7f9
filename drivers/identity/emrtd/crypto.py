"""The ICAO 9303 part 11 primitives under BAC and secure messaging: the SHA-1 key derivation,
two-key 3DES in CBC with a zero IV, ISO/IEC 9797-1 padding method 2 and MAC algorithm 3
(the "retail MAC"). Written on `cryptography`; no eMRTD library is on PyPI."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from drivers.identity.emrtd.errors import BadCardReply

BLOCK = 8
ENC, MAC = 1, 2                   # the KDF's counter for the encryption and the MAC key
_ZERO_IV = bytes(BLOCK)


def derive_key(seed: bytes, counter: int) -> bytes:
    """A 16-byte two-key 3DES key: SHA-1(seed || counter)[:16], DES parity adjusted."""
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()
    return bytes(_odd_parity(b) for b in digest[:16])


def _odd_parity(byte: int) -> int:
    high = byte & 0xFE
    return high | (bin(high).count("1") % 2 == 0)


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 method 2: 0x80, then zeros to the block size."""
    return data + b"\x80" + bytes(-(len(data) + 1) % BLOCK)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80") or len(data) - len(stripped) >= BLOCK:
        raise BadCardReply("bad padding in a decrypted block")
    return stripped[:-1]


def _des3(key: bytes) -> TripleDES:
    """A three-key TripleDES of a one- or two-key DES key (K1 K1 K1 is single DES; K1 K2 K1
    is the two-key 3DES BAC uses): `cryptography` deprecates the short forms."""
    return TripleDES(key * 3 if len(key) == 8 else key + key[:8])


def encrypt(key: bytes, data: bytes) -> bytes:
    enc = Cipher(_des3(key), modes.CBC(_ZERO_IV)).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    if len(data) % BLOCK:
        raise BadCardReply("ciphertext is not a whole number of blocks")
    dec = Cipher(_des3(key), modes.CBC(_ZERO_IV)).decryptor()
    return dec.update(data) + dec.finalize()


def mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 over padded ``data``: single-DES CBC with the key's
    first half, then the last block through full 3DES."""
    ka, kb = key[:8], key[8:16]
    chained = encrypt(ka, pad(data))[-BLOCK:]
    step = Cipher(_des3(kb), modes.ECB()).decryptor().update(chained)
    return Cipher(_des3(ka), modes.ECB()).encryptor().update(step)
