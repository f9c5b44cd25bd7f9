"""The Logical Data Structure files (ICAO 9303 part 10) the kiosk reads: EF.COM, DG1 (the
MRZ), DG2 (the face, ISO/IEC 19794-5 inside a biometric template) and EF.SOD (the issuer's
hash of every data group, signed: see :mod:`passive`). Parsers raise only
:class:`BadCardReply`; the ``build_*`` functions make the same files for the card emulator."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from enum import IntEnum

from PIL import Image, UnidentifiedImageError

from drivers.identity.emrtd import cms, der, tlv
from drivers.identity.emrtd.errors import BadCardReply

AID = bytes.fromhex("A0000002471001")     # the eMRTD application
EF_ATR_INFO = 0x2F01                       # in the MF: extended-length limits, among others


class Ef(IntEnum):
    """File identifiers; the low byte is each file's short EF identifier."""

    COM = 0x011E
    DG1 = 0x0101
    DG2 = 0x0102
    SOD = 0x011D

    @property
    def sfi(self) -> int:
        return self & 0x1F


TAG_COM, TAG_DG1, TAG_DG2, TAG_SOD = 0x60, 0x61, 0x75, 0x77
DG_TAGS = {1: TAG_DG1, 2: TAG_DG2}

# OID (dotted) → hashlib name, for the SOD's hash algorithm.
HASHES = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224",
          "2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
          "2.16.840.1.101.3.4.2.3": "sha512"}
_JPEG, _JPEG2000 = 0, 1


def parse_com(data: bytes) -> list[int]:
    """The data-group tags EF.COM lists (tag 5C)."""
    return list(tlv.find(data, TAG_COM, 0x5C))


def parse_dg1(data: bytes) -> str:
    try:
        return tlv.find(data, TAG_DG1, 0x5F1F).decode("ascii")
    except UnicodeDecodeError:
        raise BadCardReply("DG1 MRZ is not ASCII") from None


@dataclass(frozen=True)
class Face:
    image: bytes            # as stored on the chip
    format: str             # "jpeg" or "jp2"
    width: int
    height: int


def parse_dg2(data: bytes) -> Face:
    """The first face image in DG2."""
    group = tlv.find(data, TAG_DG2, 0x7F61)
    for tag, value in tlv.items(group):
        if tag == 0x7F60:
            for inner, block in tlv.items(value):
                if inner in (0x5F2E, 0x7F2E):
                    return _parse_facial_record(block)
    raise BadCardReply("DG2 holds no biometric data block")


def _parse_facial_record(block: bytes) -> Face:
    """ISO/IEC 19794-5: a 14-byte header, then per face 20 bytes, 8 per feature point, 12 of
    image information, and the image."""
    if len(block) < 46 or block[:4] != b"FAC\x00":
        raise BadCardReply("DG2 face record has no FAC header")
    record_len = int.from_bytes(block[14:18], "big")
    points = int.from_bytes(block[18:20], "big")
    info = 14 + 20 + 8 * points
    start = info + 12
    end = 14 + record_len
    if record_len < 32 + 8 * points or end > len(block) or start >= end:
        raise BadCardReply("DG2 face record lengths do not add up")
    data_type = block[info + 1]
    image = block[start:end]
    fmt = {_JPEG: "jpeg", _JPEG2000: "jp2"}.get(data_type)
    if fmt is None:
        raise BadCardReply(f"DG2 image data type {data_type} is neither JPEG nor JPEG 2000")
    width = int.from_bytes(block[info + 2:info + 4], "big")
    height = int.from_bytes(block[info + 4:info + 6], "big")
    return Face(image, fmt, width, height)


def face_image(face: Face) -> tuple[bytes, str]:
    """The face as (bytes, format) a screen can show: a JPEG as the chip stores it (once it
    is known to decode), a JPEG 2000 decoded and re-encoded as PNG."""
    try:
        with Image.open(io.BytesIO(face.image)) as img:
            img.load()
            if face.format == "jpeg" and img.format == "JPEG":
                return face.image, "jpeg"
            out = io.BytesIO()
            img.convert("RGB").save(out, "PNG")
            return out.getvalue(), "png"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise BadCardReply(f"DG2 face image does not decode: {err}") from None


@dataclass(frozen=True)
class SecurityObject:
    algorithm: str                      # hashlib name
    hashes: dict[int, bytes]            # data-group number → hash
    signed: cms.SignedData              # the CMS around it: signer, certificate, signature


def parse_sod(data: bytes) -> SecurityObject:
    """The LDSSecurityObject inside EF.SOD's CMS SignedData."""
    signed = cms.parse(tlv.find(data, TAG_SOD))
    if signed.content_type != cms.LDS_SECURITY_OBJECT:
        raise BadCardReply("EF.SOD does not carry an LDS security object")
    fields = [v for t, v in tlv.items(tlv.find(signed.content, 0x30)) if t == 0x30]
    if len(fields) < 2:
        raise BadCardReply("LDS security object is incomplete")
    algorithm = HASHES.get(der.oid(tlv.find(fields[0], 0x06)))
    if algorithm is None:
        raise BadCardReply("EF.SOD hash algorithm unknown")
    hashes: dict[int, bytes] = {}
    for tag, entry in tlv.items(fields[1]):
        if tag != 0x30:
            raise BadCardReply("EF.SOD hash list malformed")
        number = int.from_bytes(tlv.find(entry, 0x02), "big")
        hashes[number] = tlv.find(entry, 0x04)
    return SecurityObject(algorithm, hashes, signed)


def check_hash(sod: SecurityObject, group: int, content: bytes) -> bool:
    expected = sod.hashes.get(group)
    return expected is not None and hashlib.new(sod.algorithm, content).digest() == expected


# --- building the files (the card emulator) -----------------------------------------------
def build_com(groups: list[int]) -> bytes:
    return tlv.encode(TAG_COM, tlv.encode(0x5F01, b"0107") + tlv.encode(0x5F36, b"040000")
                      + tlv.encode(0x5C, bytes(DG_TAGS[g] for g in groups)))


def build_dg1(mrz: str) -> bytes:
    return tlv.encode(TAG_DG1, tlv.encode(0x5F1F, mrz.encode("ascii")))


def build_dg2(image: bytes, fmt: str, width: int, height: int) -> bytes:
    image_info = (bytes([1, _JPEG2000 if fmt == "jp2" else _JPEG]) + width.to_bytes(2, "big")
                  + height.to_bytes(2, "big") + bytes([1, 2]) + bytes(4))
    record = (bytes(2) + bytes([0, 0, 0]) + bytes(3) + bytes(2) + bytes(3) + bytes(3)
              + image_info + image)
    record = (len(record) + 4).to_bytes(4, "big") + record
    header = b"FAC\x00010\x00" + (14 + len(record)).to_bytes(4, "big") + b"\x00\x01"
    bht = tlv.encode(0xA1, tlv.encode(0x80, b"\x01\x01") + tlv.encode(0x87, b"\x01\x01")
                     + tlv.encode(0x88, b"\x00\x08"))
    template = tlv.encode(0x7F60, bht + tlv.encode(0x5F2E, header + record))
    return tlv.encode(TAG_DG2, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + template))


def build_security_object(files: dict[int, bytes], algorithm: str = "sha256") -> bytes:
    """The LDSSecurityObject listing the hash of each data group in ``files`` (the
    emulator's issuer signs it into EF.SOD)."""
    oid = next(o for o, name in HASHES.items() if name == algorithm)
    entries = b"".join(der.sequence(der.integer(n), der.octets(
        hashlib.new(algorithm, content).digest())) for n, content in sorted(files.items()))
    return der.sequence(der.integer(0), der.sequence(der.encode_oid(oid)),
                        der.sequence(entries))
