"""The sealed package on disk and on the wire: signed by the kiosk, encrypted to one handling
region, written and read in records so memory never grows with the package.

Layout::

    b"TBKSEAL1" ‖ u32 header length ‖ header (canonical JSON)
    record*  : u32 length ‖ AEAD(key, prefix ‖ u32 counter ‖ u8 final, chunk, header)

The last record (final = 1) holds only the signature over H(header ‖ plaintext), so a cut,
reordered or spliced file fails to open; the header is every record's associated data and is
inside the signature, so its package id, kiosk and recipient cannot be swapped either.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import asdict, dataclass
from typing import BinaryIO

from kiosk.errors import KioskError
from kiosk.transfer.suites import (
    SIGNATURE_SIZE,
    SUITE_NAMES,
    TAG_SIZE,
    CryptoError,
    Hasher,
    Suite,
    key_id,
    suite,
)
from kiosk.untrusted import Untrusted, loads

MAGIC = b"TBKSEAL1"
RECORD_SIZE = 64 * 1024
_MAX_HEADER = 16 * 1024
MAX_PLAINTEXT_BYTES = (1 << 30) + (64 << 20)     # a region's unpack limit and zip overhead
_SIGNED = b"tongban-kiosk package signature v1\x00"
_LEN = struct.Struct(">I")


class SealError(KioskError):
    """A sealed package that cannot be opened; ``code`` says why (see the constructors)."""

    code = "seal_error"


def _not_a_package(why: str) -> SealError:
    return SealError("这不是一个有效的申请包", f"Not a valid application package ({why})",
                     code="not_a_package")


def tampered(why: str) -> SealError:
    return SealError("申请包已损坏或被篡改，不能打开",
                     f"The package is damaged or has been tampered with ({why})",
                     code="tampered")


@dataclass(frozen=True)
class Header:
    suite: str
    package_id: str
    kiosk_id: str
    key_id: str                # the kiosk's signing key
    recipient: str             # handling region code
    recipient_key_id: str
    wrapped: str               # hex: the data key, wrapped to the recipient
    nonce_prefix: str          # hex, 7 bytes

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Header:
        """The header a package carries, every field checked before anything uses it: a
        stolen kiosk's key signs any header, and the package id becomes a folder name."""
        try:
            data = loads(raw, "header")
            problem = header_problem(data)
        except Untrusted as exc:
            problem = exc.en
        if problem:
            raise _not_a_package(f"header: {problem}")
        return cls(**data)


_HEX_KEY_ID = re.compile(r"[0-9a-f]{16}")
# every field: a string of exactly this form (ASCII only: \d would take any script's digits)
HEADER_FIELDS = {
    "suite": re.compile("|".join(map(re.escape, SUITE_NAMES))),
    "package_id": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "kiosk_id": re.compile(r"[0-9]{6}-[0-9]{4}"),
    "key_id": _HEX_KEY_ID,
    # a region's code, or an exchange route (kiosk/routing/directory.py route_name): the
    # exchange opens the package and passes it on to the manifest's receivers
    "recipient": re.compile(r"[0-9]{6}|exchange-[a-z0-9-]{1,32}"),
    "recipient_key_id": _HEX_KEY_ID,
    "wrapped": re.compile(r"(?:[0-9a-f]{2}){16,512}"),
    "nonce_prefix": re.compile(r"[0-9a-f]{14}"),
}


def header_problem(data: object) -> str:
    """What is wrong with a decoded header, or "" (the names of fields only: the values
    are hostile and may be long)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.keys() != HEADER_FIELDS.keys():
        odd = sorted(map(str, data.keys() ^ HEADER_FIELDS.keys()))
        return "fields missing or unknown: " + ", ".join(f"{n[:40]!r}" for n in odd[:5])
    for name, form in HEADER_FIELDS.items():
        if not isinstance(data[name], str) or not form.fullmatch(data[name]):
            return f"{name} is not valid"
    return ""


@dataclass(frozen=True)
class Recipient:
    region: str
    public_key: bytes


@dataclass(frozen=True)
class Signer:
    kiosk_id: str
    suite: Suite
    private_key: bytes
    public_key: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)


def _nonce(prefix: bytes, counter: int, final: bool) -> bytes:
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class SealWriter:
    """A write-only stream that seals what it is given into ``out``. Not seekable:
    zipfile then writes data descriptors, which is what lets a package stream through."""

    def __init__(self, out: BinaryIO, signer: Signer, recipient: Recipient,
                 package_id: str) -> None:
        s = signer.suite
        data_key, wrapped = s.wrap(recipient.public_key)
        self.header = Header(s.name, package_id, signer.kiosk_id, signer.key_id,
                             recipient.region, key_id(recipient.public_key), wrapped.hex(),
                             os.urandom(7).hex())
        self._raw = self.header.encode()
        self._out, self._signer = out, signer
        self._aead = s.aead(data_key)
        self._prefix = bytes.fromhex(self.header.nonce_prefix)
        self._hash: Hasher = s.hasher()
        self._hash.update(self._raw)
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        out.write(MAGIC + _LEN.pack(len(self._raw)) + self._raw)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._hash.update(bytes(data))
        self._buffer += data
        while len(self._buffer) >= RECORD_SIZE:
            self._record(bytes(self._buffer[:RECORD_SIZE]), final=False)
            del self._buffer[:RECORD_SIZE]
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        """Seal the rest and the signature. The caller fsyncs and closes ``out``."""
        if self.closed:
            return
        if self._buffer:
            self._record(bytes(self._buffer), final=False)
            self._buffer.clear()
        signature = self._signer.suite.sign(self._signer.private_key,
                                            _SIGNED + self._hash.digest())
        self._record(signature, final=True)
        self._out.flush()
        self.closed = True

    def _record(self, chunk: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, final), chunk, self._raw)
        self._out.write(_LEN.pack(len(sealed)) + sealed)
        self._counter += 1

    def __enter__(self) -> SealWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()


def read_header(src: BinaryIO) -> tuple[Header, bytes]:
    """The header, and its raw bytes (every record's associated data)."""
    if src.read(len(MAGIC)) != MAGIC:
        raise _not_a_package("no TBKSEAL1 magic")
    length = _read_len(src)
    if length > _MAX_HEADER:
        raise _not_a_package("header too long")
    raw = src.read(length)
    if len(raw) != length:
        raise _not_a_package("header cut short")
    return Header.decode(raw), raw


def open_sealed(src: BinaryIO, out: BinaryIO, header: Header, raw: bytes, private_key: bytes,
                kiosk_public_key: bytes, *, limit: int = MAX_PLAINTEXT_BYTES) -> None:
    """Decrypt the records after the header into ``out`` and check the kiosk's signature.
    ``out`` is a scratch file the caller discards when this raises: until the signature
    checks, nothing in it may be trusted — nor may its size, so it stops at ``limit``."""
    s = suite(header.suite)
    try:
        data_key = s.unwrap(private_key, bytes.fromhex(header.wrapped))
        aead = s.aead(data_key)
    except (CryptoError, ValueError) as exc:
        raise tampered(f"key wrap: {exc}") from None
    hasher = s.hasher()
    hasher.update(raw)
    prefix, counter, written = bytes.fromhex(header.nonce_prefix), 0, 0
    record = _read_record(src)
    while record is not None:
        following = _read_record(src)
        final = following is None
        try:
            plain = aead.decrypt(_nonce(prefix, counter, final), record, raw)
        except CryptoError:
            raise tampered(f"record {counter}") from None
        if final:
            _check_signature(s, kiosk_public_key, hasher, plain)
            return
        hasher.update(plain)
        written += len(plain)
        if written > limit:
            raise SealError(f"申请包解密后超过 {limit} 字节，不能打开",
                            f"The package is larger than {limit} bytes decrypted",
                            code="too_large")
        out.write(plain)
        record, counter = following, counter + 1
    raise tampered("no records")


def _check_signature(s: Suite, public: bytes, hasher: Hasher, signature: bytes) -> None:
    if len(signature) != SIGNATURE_SIZE:
        raise tampered("signature record")
    try:
        s.verify(public, _SIGNED + hasher.digest(), signature)
    except CryptoError:
        raise SealError("申请包的签名与登记的自助终端密钥不符",
                        "The package's signature does not match the registered kiosk key",
                        code="bad_signature") from None


def _read_len(src: BinaryIO) -> int:
    raw = src.read(_LEN.size)
    if len(raw) != _LEN.size:
        raise tampered("cut short")
    value: int = _LEN.unpack(raw)[0]
    return value


def _read_record(src: BinaryIO) -> bytes | None:
    raw = src.read(_LEN.size)
    if not raw:
        return None
    if len(raw) != _LEN.size:
        raise tampered("cut short")
    length = _LEN.unpack(raw)[0]
    if length > RECORD_SIZE + TAG_SIZE or length < TAG_SIZE:
        raise tampered("record length")
    body = src.read(length)
    if len(body) != length:
        raise tampered("cut short")
    return body
