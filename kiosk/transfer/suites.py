"""Crypto suites behind one interface: wrap a fresh data key to the handling region's public
key, seal records with an AEAD, hash, and sign with the kiosk's device key.

Two suites (the setting ``transfer.suite``):

- ``x25519-chacha20`` — X25519 + HKDF-SHA256 → ChaCha20-Poly1305, Ed25519 signatures, SHA-256.
- ``sm2-sm4`` — the national suite a 密评 assessment asks for: SM2 key wrap and SM2 signatures
  (SM3 with the standard user id), SM4-GCM, SM3. SM4 and SM3 come from ``cryptography``
  (OpenSSL); SM2 from gmssl, pure Python and slow, so it only touches 16-byte keys and
  64-byte digests, never the package itself.

Every key is raw bytes: Ed25519/X25519 private and public 32 bytes; SM2 private 32 bytes and
public 64 bytes (x ‖ y, no 04 prefix).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from enum import StrEnum
from typing import Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from gmssl import sm2, sm3

NONCE_SIZE = 12
TAG_SIZE = 16
SIGNATURE_SIZE = 64                      # Ed25519, and SM2's r ‖ s: both fixed
_HKDF_INFO = b"tongban-kiosk package key v1"


class Role(StrEnum):
    SIGN = "sign"                        # the kiosk's device key
    ENCRYPT = "encrypt"                  # a handling region's key


class CryptoError(Exception):
    """A key, wrap, record or signature did not check out (the caller says what it means)."""


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated: bytes) -> bytes: ...
    def decrypt(self, nonce: bytes, data: bytes, associated: bytes) -> bytes: ...


class Suite(Protocol):
    name: str
    hash_name: str

    def new_keypair(self, role: Role) -> tuple[bytes, bytes]: ...
    def public_of(self, private: bytes, role: Role) -> bytes: ...
    def check_public(self, public: bytes, role: Role) -> None:
        """Raise CryptoError unless ``public`` is a usable key of this suite and role."""
        ...
    def wrap(self, recipient: bytes) -> tuple[bytes, bytes]:
        """A fresh data key and the bytes that carry it to ``recipient``'s private key."""
        ...
    def unwrap(self, private: bytes, wrapped: bytes) -> bytes: ...
    def aead(self, key: bytes) -> Aead: ...
    def hasher(self) -> Hasher: ...
    def sign(self, private: bytes, message: bytes) -> bytes: ...
    def verify(self, public: bytes, message: bytes, signature: bytes) -> None: ...


def key_id(public: bytes) -> str:
    """A short, stable name for a public key: what registrations and headers quote."""
    return hashlib.sha256(public).hexdigest()[:16]


class ModernSuite:
    name = "x25519-chacha20"
    hash_name = "sha256"

    def new_keypair(self, role: Role) -> tuple[bytes, bytes]:
        private = os.urandom(32)
        return private, self.public_of(private, role)

    def public_of(self, private: bytes, role: Role) -> bytes:
        key = (Ed25519PrivateKey.from_private_bytes(private) if role is Role.SIGN
               else X25519PrivateKey.from_private_bytes(private))
        return key.public_key().public_bytes_raw()

    def check_public(self, public: bytes, role: Role) -> None:
        try:
            if role is Role.SIGN:
                Ed25519PublicKey.from_public_bytes(public)
            else:
                X25519PublicKey.from_public_bytes(public)
        except ValueError as exc:
            raise CryptoError(f"not a {role.value} public key: {exc}") from None

    def wrap(self, recipient: bytes) -> tuple[bytes, bytes]:
        ephemeral = X25519PrivateKey.generate()
        wrapped = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
        return _hkdf(shared, wrapped + recipient), wrapped

    def unwrap(self, private: bytes, wrapped: bytes) -> bytes:
        key = X25519PrivateKey.from_private_bytes(private)
        try:
            shared = key.exchange(X25519PublicKey.from_public_bytes(wrapped))
        except ValueError as exc:
            raise CryptoError("bad ephemeral key") from exc
        return _hkdf(shared, wrapped + key.public_key().public_bytes_raw())

    def aead(self, key: bytes) -> Aead:
        return _Aead(ChaCha20Poly1305(key))

    def hasher(self) -> Hasher:
        return hashlib.sha256()

    def sign(self, private: bytes, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(private).sign(message)

    def verify(self, public: bytes, message: bytes, signature: bytes) -> None:
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except (InvalidSignature, ValueError) as exc:
            raise CryptoError("signature does not verify") from exc


def _hkdf(shared: bytes, salt: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, _HKDF_INFO).derive(shared)


class _Aead:
    """cryptography's AEAD classes, with its InvalidTag turned into our error."""

    def __init__(self, inner: ChaCha20Poly1305) -> None:
        self._inner = inner

    def encrypt(self, nonce: bytes, data: bytes, associated: bytes) -> bytes:
        return self._inner.encrypt(nonce, data, associated)

    def decrypt(self, nonce: bytes, data: bytes, associated: bytes) -> bytes:
        try:
            return self._inner.decrypt(nonce, data, associated)
        except InvalidTag as exc:
            raise CryptoError("record does not authenticate") from exc


# --- the national suite ---------------------------------------------------------------------

_CURVE = sm2.default_ecc_table
_N = int(_CURVE["n"], 16)
_P = int(_CURVE["p"], 16)
_A = int(_CURVE["a"], 16)
_B = int(_CURVE["b"], 16)


class NationalSuite:
    """SM2 / SM3 / SM4. gmssl's own encrypt draws its ephemeral scalar from ``random`` (a
    Mersenne Twister: predictable) and its decrypt never checks C3, so the key wrap below is
    GM/T 0003.4 written out on gmssl's point arithmetic, with the scalar from ``secrets`` and
    C3 checked. Signatures use gmssl's SM3-with-Z signing, again with our own scalar."""

    name = "sm2-sm4"
    hash_name = "sm3"

    def new_keypair(self, role: Role) -> tuple[bytes, bytes]:
        private = _scalar().to_bytes(32, "big")
        return private, self.public_of(private, role)

    def public_of(self, private: bytes, role: Role) -> bytes:
        return bytes.fromhex(_point(private.hex(), _CURVE["g"]))

    def check_public(self, public: bytes, role: Role) -> None:
        _check_on_curve(public)

    def wrap(self, recipient: bytes) -> tuple[bytes, bytes]:
        _check_on_curve(recipient)
        key = os.urandom(16)
        k = f"{_scalar():064x}"
        c1 = _point(k, _CURVE["g"])
        shared = bytes.fromhex(_point(k, recipient.hex()))
        c2 = _xor(key, _kdf(shared, len(key)))
        c3 = _sm3(shared[:32] + key + shared[32:])
        return key, bytes.fromhex(c1) + c3 + c2          # C1 ‖ C3 ‖ C2 (GM/T 0003.4 order)

    def unwrap(self, private: bytes, wrapped: bytes) -> bytes:
        if len(wrapped) <= 96:
            raise CryptoError("wrapped key too short")
        c1, c3, c2 = wrapped[:64], wrapped[64:96], wrapped[96:]
        _check_on_curve(c1)
        shared = bytes.fromhex(_point(private.hex(), c1.hex()))
        key = _xor(c2, _kdf(shared, len(c2)))
        if not hmac.compare_digest(_sm3(shared[:32] + key + shared[32:]), c3):
            raise CryptoError("wrapped key does not check (C3)")
        return key

    def aead(self, key: bytes) -> Aead:
        return _Sm4Gcm(key)

    def hasher(self) -> Hasher:
        return _Sm3Hasher()

    def sign(self, private: bytes, message: bytes) -> bytes:
        signer = sm2.CryptSM2(private.hex(), self.public_of(private, Role.SIGN).hex())
        while True:   # gmssl returns None for the rare scalar that gives r = 0 or r + k = n
            signature = signer.sign_with_sm3(message, f"{_scalar():064x}")
            if signature:
                return bytes.fromhex(signature)

    def verify(self, public: bytes, message: bytes, signature: bytes) -> None:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        # GM/T 0003.2 B1-B2: r and s in [1, n-1]; gmssl does not check, and a forged s = 0
        # crashes its point arithmetic instead of failing
        if len(signature) != SIGNATURE_SIZE or not (0 < r < _N and 0 < s < _N):
            raise CryptoError("signature does not verify")
        _check_on_curve(public)
        verifier = sm2.CryptSM2("00", public.hex())
        if not verifier.verify_with_sm3(signature.hex(), message):
            raise CryptoError("signature does not verify")


def _scalar() -> int:
    return secrets.randbelow(_N - 2) + 1


def _point(scalar_hex: str, point_hex: str) -> str:
    # _kg is gmssl's scalar multiplication (hex in, x ‖ y hex out); the class holds no key
    result: str = sm2.CryptSM2("00", "00")._kg(int(scalar_hex, 16), point_hex)
    return result


def _check_on_curve(point: bytes) -> None:
    """A point not on SM2's curve would leak the private key bit by bit (invalid-curve
    attack), so every public key and C1 is checked before use."""
    if len(point) != 64:
        raise CryptoError("SM2 point must be 64 bytes")
    x, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
    if not (x < _P and y < _P and (y * y - x * x * x - _A * x - _B) % _P == 0):
        raise CryptoError("SM2 point is not on the curve")


def _kdf(shared: bytes, length: int) -> bytes:
    return bytes.fromhex(sm3.sm3_kdf(shared.hex().encode(), length))


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


class _Sm4Gcm:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, associated: bytes) -> bytes:
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(associated)
        return enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, associated: bytes) -> bytes:
        if len(data) < TAG_SIZE:
            raise CryptoError("record does not authenticate")
        dec = Cipher(algorithms.SM4(self._key),
                     modes.GCM(nonce, data[-TAG_SIZE:])).decryptor()
        dec.authenticate_additional_data(associated)
        try:
            return dec.update(data[:-TAG_SIZE]) + dec.finalize()
        except InvalidTag as exc:
            raise CryptoError("record does not authenticate") from exc


class _Sm3Hasher:
    def __init__(self) -> None:
        self._hash = hashes.Hash(hashes.SM3())

    def update(self, data: bytes, /) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.copy().finalize()


_SUITES: dict[str, Suite] = {s.name: s for s in (ModernSuite(), NationalSuite())}
SUITE_NAMES = tuple(_SUITES)


def suite(name: str) -> Suite:
    try:
        return _SUITES[name]
    except KeyError:
        raise CryptoError(f"unknown crypto suite {name!r} (one of {', '.join(_SUITES)})") from None
