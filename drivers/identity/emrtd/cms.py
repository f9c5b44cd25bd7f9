"""CMS SignedData (RFC 5652) as ICAO 9303 uses it: EF.SOD (the LDS security object, signed
by a document signer) and CSCA master lists (signed by a master list signer). Parsed into
what verifying needs — the signed content, the certificates, each signer's signed attributes
as the bytes that were signed. Parsing raises only :class:`BadCardReply`."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.identity.emrtd import der
from drivers.identity.emrtd.errors import BadCardReply

SIGNED_DATA = "1.2.840.113549.1.7.2"
LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
CSCA_MASTER_LIST = "2.23.136.1.1.2"
ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME = "1.2.840.113549.1.9.5"
MAX_SIGNERS = 4


@dataclass(frozen=True)
class Signer:
    """One SignerInfo. ``signed_attributes``: their DER as signed (re-tagged as a SET), or
    None when the signature covers the content itself."""

    issuer: bytes | None             # DER Name of the signer certificate's issuer …
    serial: int | None               # … and its serial number, or
    key_id: bytes | None             # its subject key identifier
    digest_algorithm: str
    signature_algorithm: str
    signature_parameters: bytes      # DER, empty when absent (RSASSA-PSS has some)
    signature: bytes
    signed_attributes: bytes | None
    attributes: dict[str, list[bytes]] = field(default_factory=dict)  # OID → values' DER


@dataclass(frozen=True)
class SignedData:
    content_type: str
    content: bytes
    certificates: tuple[bytes, ...]  # DER
    signers: tuple[Signer, ...]


def parse(data: bytes) -> SignedData:
    """A ContentInfo holding SignedData."""
    outer = der.elements(der.expect(data, der.SEQUENCE, "ContentInfo"))
    if len(outer) != 2 or outer[0][0] != der.OID or der.oid(outer[0][1]) != SIGNED_DATA \
            or outer[1][0] != 0xA0:
        raise BadCardReply("not CMS SignedData")
    parts = der.elements(der.expect(outer[1][1], der.SEQUENCE, "SignedData"))
    if len(parts) < 4 or parts[0][0] != der.INTEGER or parts[1][0] != der.SET:
        raise BadCardReply("SignedData is incomplete")
    content_type, content = _encapsulated(parts[2])
    certificates: tuple[bytes, ...] = ()
    signer_infos = parts[-1]
    for tag, value, _ in parts[3:-1]:
        if tag == 0xA0:
            certificates = tuple(raw for t, _, raw in der.elements(value) if t == der.SEQUENCE)
    if signer_infos[0] != der.SET:
        raise BadCardReply("SignedData has no signerInfos")
    signers = der.elements(signer_infos[1])
    if len(signers) > MAX_SIGNERS:
        raise BadCardReply("SignedData has too many signers")
    return SignedData(content_type, content, certificates,
                      tuple(_signer(tag, value) for tag, value, _ in signers))


def _encapsulated(part: tuple[int, bytes, bytes]) -> tuple[str, bytes]:
    tag, value, _ = part
    items = der.elements(value) if tag == der.SEQUENCE else []
    if len(items) != 2 or items[0][0] != der.OID or items[1][0] != 0xA0:
        raise BadCardReply("SignedData carries no content")
    return der.oid(items[0][1]), der.expect(items[1][1], der.OCTET_STRING, "eContent")


def _signer(tag: int, value: bytes) -> Signer:
    items = der.elements(value) if tag == der.SEQUENCE else []
    if len(items) < 5:
        raise BadCardReply("SignerInfo is incomplete")
    issuer, serial, key_id = _signer_id(items[1])
    digest = _algorithm(items[2])[0]
    signed_raw, attributes, rest = None, {}, items[3:]
    if rest[0][0] == 0xA0:                    # [0] IMPLICIT SET OF Attribute
        signed_raw = b"\x31" + rest[0][2][1:]
        attributes = _attributes(rest[0][1])
        rest = rest[1:]
    if len(rest) < 2 or rest[1][0] != der.OCTET_STRING:
        raise BadCardReply("SignerInfo has no signature")
    algorithm, parameters = _algorithm(rest[0])
    return Signer(issuer, serial, key_id, digest, algorithm, parameters, rest[1][1],
                  signed_raw, attributes)


def _signer_id(part: tuple[int, bytes, bytes]) -> tuple[bytes | None, int | None, bytes | None]:
    tag, value, _ = part
    if tag == 0x80:                            # [0] SubjectKeyIdentifier
        return None, None, value
    items = der.elements(value) if tag == der.SEQUENCE else []
    if len(items) != 2 or items[0][0] != der.SEQUENCE or items[1][0] != der.INTEGER:
        raise BadCardReply("SignerInfo names no certificate")
    return items[0][2], der.integer_value(items[1][1]), None


def _algorithm(part: tuple[int, bytes, bytes]) -> tuple[str, bytes]:
    """An AlgorithmIdentifier: (OID, parameters' DER or b"")."""
    tag, value, _ = part
    items = der.elements(value) if tag == der.SEQUENCE else []
    if not items or items[0][0] != der.OID:
        raise BadCardReply("AlgorithmIdentifier malformed")
    parameters = b"".join(raw for t, _, raw in items[1:] if t != der.NULL)
    return der.oid(items[0][1]), parameters


def _attributes(value: bytes) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for tag, body, _ in der.elements(value):
        items = der.elements(body) if tag == der.SEQUENCE else []
        if len(items) != 2 or items[0][0] != der.OID or items[1][0] != der.SET:
            raise BadCardReply("signed attribute malformed")
        name = der.oid(items[0][1])
        if name in out:
            raise BadCardReply("signed attribute repeated")
        out[name] = [raw for _, _, raw in der.elements(items[1][1])]
    return out


def single_attribute(signer: Signer, name: str, tag: int) -> bytes:
    """The one value of attribute ``name``, untagged; BadCardReply when not exactly one."""
    values = signer.attributes.get(name, [])
    if len(values) != 1:
        raise BadCardReply(f"signed attribute {name} missing or repeated")
    return der.expect(values[0], tag, f"attribute {name}")
