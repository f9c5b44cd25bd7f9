"""Checking a CMS signer's signature with `cryptography`: the signed attributes (content
type, message digest of the content) under RSA PKCS #1 v1.5, RSASSA-PSS, ECDSA, or the
plain ECDSA of BSI TR-03111 that some states' document signers use."""

from __future__ import annotations

import hashlib
import hmac

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from drivers.identity.emrtd import cms, der, lds
from drivers.identity.emrtd.errors import BadCardReply

_HASH_CLASSES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_RSA = "1.2.840.113549.1.1.1"
_RSA_PSS = "1.2.840.113549.1.1.10"
_MGF1 = "1.2.840.113549.1.1.8"
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
# signature OID → (family, hash; None: the SignerInfo's digest algorithm)
_ALGORITHMS: dict[str, tuple[str, str | None]] = {
    _RSA: ("rsa", None), "1.2.840.113549.1.1.5": ("rsa", "sha1"),
    "1.2.840.113549.1.1.14": ("rsa", "sha224"), "1.2.840.113549.1.1.11": ("rsa", "sha256"),
    "1.2.840.113549.1.1.12": ("rsa", "sha384"), "1.2.840.113549.1.1.13": ("rsa", "sha512"),
    _RSA_PSS: ("pss", None), _EC_PUBLIC_KEY: ("ecdsa", None),
    "1.2.840.10045.4.1": ("ecdsa", "sha1"), "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"), "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    # BSI TR-03111 ecdsa-plain-SHA*: r || s, not a DER SEQUENCE
    "0.4.0.127.0.7.1.1.4.1.1": ("plain", "sha1"), "0.4.0.127.0.7.1.1.4.1.2": ("plain", "sha224"),
    "0.4.0.127.0.7.1.1.4.1.3": ("plain", "sha256"), "0.4.0.127.0.7.1.1.4.1.4": ("plain", "sha384"),
    "0.4.0.127.0.7.1.1.4.1.5": ("plain", "sha512")}


class SignatureInvalid(Exception):
    """What the signature check found wrong (English, for the evidence and the error)."""


def hash_name(oid: str) -> str:
    name = lds.HASHES.get(oid)
    if name is None:
        raise SignatureInvalid(f"digest algorithm {oid} unknown")
    return name


def check_signer(signed: cms.SignedData, signer: cms.Signer, cert: x509.Certificate) -> None:
    """The signer's signature over ``signed``'s content, by ``cert``'s key; raises
    SignatureInvalid."""
    digest = hash_name(signer.digest_algorithm)
    if signer.signed_attributes is None:
        message = signed.content
    else:
        try:
            kind = der.oid(cms.single_attribute(signer, cms.ATTR_CONTENT_TYPE, der.OID))
            expected = cms.single_attribute(signer, cms.ATTR_MESSAGE_DIGEST, der.OCTET_STRING)
        except BadCardReply as err:
            raise SignatureInvalid(err.detail) from None
        if kind != signed.content_type:
            raise SignatureInvalid("signed content type differs from the content's")
        if not hmac.compare_digest(hashlib.new(digest, signed.content).digest(), expected):
            raise SignatureInvalid("message digest differs from the content's hash")
        message = signer.signed_attributes
    verify(cert, signer.signature_algorithm, signer.signature_parameters, digest,
           signer.signature, message)


def verify(cert: x509.Certificate, algorithm: str, parameters: bytes, digest: str,
           signature: bytes, message: bytes) -> None:
    family, named_hash = _ALGORITHMS.get(algorithm, ("", None))
    if not family:
        raise SignatureInvalid(f"signature algorithm {algorithm} unsupported")
    chosen = _HASH_CLASSES[named_hash or digest]()
    try:
        key = cert.public_key()
        if family in ("rsa", "pss") and isinstance(key, rsa.RSAPublicKey):
            pad = _pss(parameters) if family == "pss" else padding.PKCS1v15()
            key.verify(signature, message, pad, _pss_hash(parameters) if family == "pss"
                       else chosen)
        elif family in ("ecdsa", "plain") and isinstance(key, ec.EllipticCurvePublicKey):
            if family == "plain":
                signature = _plain_to_der(signature)
            key.verify(signature, message, ec.ECDSA(chosen))
        else:
            raise SignatureInvalid(f"signature algorithm {algorithm} does not fit the key")
    except InvalidSignature:
        raise SignatureInvalid("signature does not verify") from None
    except (UnsupportedAlgorithm, ValueError) as err:
        raise SignatureInvalid(f"key or signature unusable: {err}") from None


def _plain_to_der(signature: bytes) -> bytes:
    half = len(signature) // 2
    if not signature or len(signature) % 2:
        raise SignatureInvalid("plain ECDSA signature of odd length")
    return encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                int.from_bytes(signature[half:], "big"))


def _pss_fields(parameters: bytes) -> tuple[str, str, int]:
    """RSASSA-PSS-params: (hash, MGF1 hash, salt length), with RFC 4055's defaults."""
    digest, mgf_digest, salt = "sha1", "sha1", 20
    if not parameters:
        return digest, mgf_digest, salt
    try:
        for tag, value, _ in der.elements(der.expect(parameters, der.SEQUENCE, "PSS")):
            inner = der.elements(value)
            if tag == 0xA0:
                digest = hash_name(der.oid(der.elements(inner[0][1])[0][1]))
            elif tag == 0xA1:
                mgf = der.elements(inner[0][1])
                if der.oid(mgf[0][1]) != _MGF1:
                    raise SignatureInvalid("PSS mask generation is not MGF1")
                mgf_digest = hash_name(der.oid(der.elements(mgf[1][1])[0][1]))
            elif tag == 0xA2:
                salt = der.integer_value(inner[0][1])
    except (BadCardReply, IndexError):
        raise SignatureInvalid("RSASSA-PSS parameters malformed") from None
    if salt < 0:
        raise SignatureInvalid("RSASSA-PSS salt length negative")
    return digest, mgf_digest, salt


def _pss(parameters: bytes) -> padding.PSS:
    _, mgf_digest, salt = _pss_fields(parameters)
    return padding.PSS(padding.MGF1(_HASH_CLASSES[mgf_digest]()), salt)


def _pss_hash(parameters: bytes) -> hashes.HashAlgorithm:
    return _HASH_CLASSES[_pss_fields(parameters)[0]]()


def signer_certificate(signed: cms.SignedData, signer: cms.Signer) -> x509.Certificate | None:
    """The certificate in ``signed`` that ``signer`` names (issuer and serial, or key id);
    SignatureInvalid when a certificate there does not parse."""
    for raw in signed.certificates:
        cert = load_certificate(raw)
        if cert is None:
            raise SignatureInvalid("a certificate in the CMS does not parse")
        if signer.key_id is not None:
            if key_id(cert) == signer.key_id:
                return cert
        elif cert.serial_number == signer.serial and cert.issuer.public_bytes() == signer.issuer:
            return cert
    return None


def load_certificate(raw: bytes) -> x509.Certificate | None:
    """A certificate whose fields all parse (`cryptography` parses them when first read, so
    a malformed one would otherwise fail later, anywhere); None when one does not."""
    try:
        cert = x509.load_der_x509_certificate(raw)
        cert.serial_number, cert.issuer, cert.subject, cert.extensions  # noqa: B018
        cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018
    # InvalidVersion is no ValueError; a name attribute of the wrong ASN.1 type for its OID
    # (a BitString under another OID) raises TypeError as the name is read
    except (ValueError, TypeError, x509.InvalidVersion):
        return None
    return cert


def key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        return None


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key signed ``cert`` (and ``cert`` names it as its issuer)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True
