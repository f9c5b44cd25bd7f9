"""The issuing state's side of passive authentication, for the chip emulator and the tests:
a test CSCA, document signers it issues, EF.SOD signed as CMS SignedData, and CSCA master
lists signed the ICAO way. Test material only: nothing here is a real issuer's.

Keys are ECDSA P-256 by default (fast to make at test time); RSA with PKCS #1 v1.5 or PSS
signs as some states do. ``demo()`` loads the pair kept in assets/demo/emrtd (so a kiosk and
an emulator in another process agree on the CSCA); ``ephemeral()`` makes one per process.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from drivers.identity.emrtd import cms, der, lds, tlv

Scheme = Literal["ecdsa", "rsa", "rsa-pss"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
DEMO_DIR = Path(__file__).resolve().parents[3] / "assets" / "demo" / "emrtd"
_HASH_OIDS = {name: oid for oid, name in lds.HASHES.items()}
_SIG_OIDS = {("ecdsa", "sha256"): "1.2.840.10045.4.3.2", ("rsa", "sha256"): "1.2.840.113549.1.1.11",
             ("rsa-pss", "sha256"): "1.2.840.113549.1.1.10"}


@dataclass(frozen=True)
class Signer:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def scheme(self) -> Scheme:
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return "ecdsa"
        return "rsa-pss" if self.cert.signature_algorithm_oid.dotted_string == \
            _SIG_OIDS[("rsa-pss", "sha256")] else "rsa"


@dataclass(frozen=True)
class TestPki:
    csca: Signer
    document_signer: Signer


def new_key(scheme: Scheme = "ecdsa") -> PrivateKey:
    if scheme == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(65537, 2048)


def make_csca(common_name: str = "Tongban TEST CSCA", country: str = "UT",
              scheme: Scheme = "ecdsa", valid_from: datetime | None = None,
              valid_to: datetime | None = None, key: PrivateKey | None = None) -> Signer:
    """A self-signed country signing CA."""
    key = key or new_key(scheme)
    name = _name(common_name, country)
    cert = _builder(name, name, key.public_key(), valid_from, valid_to) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True) \
        .add_extension(_usage(sign_certs=True), critical=True)
    return Signer(_sign_cert(cert, key, scheme), key)


def make_document_signer(csca: Signer, common_name: str = "Tongban TEST Document Signer",
                         scheme: Scheme | None = None, valid_from: datetime | None = None,
                         valid_to: datetime | None = None,
                         issuing_key: PrivateKey | None = None) -> Signer:
    """A document signer issued by ``csca``; ``issuing_key`` signs in the CSCA's name with
    another key (a forgery)."""
    scheme = scheme or csca.scheme
    key = new_key("ecdsa" if scheme == "ecdsa" else "rsa")
    country = csca.cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    cert = _builder(_name(common_name, str(country)), csca.cert.subject, key.public_key(),
                    valid_from, valid_to) \
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            csca.key.public_key()), critical=False) \
        .add_extension(_usage(sign_certs=False), critical=True)
    return Signer(_sign_cert(cert, issuing_key or csca.key, csca.scheme), key)


def forge_document_signer(genuine: Signer) -> Signer:
    """A document signer certificate that copies ``genuine``'s issuer name and authority key
    identifier, signed by a key the CSCA never held."""
    key = new_key("ecdsa")
    aki = genuine.cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    cert = _builder(genuine.cert.subject, genuine.cert.issuer, key.public_key(), None, None) \
        .add_extension(aki.value, critical=False) \
        .add_extension(_usage(sign_certs=False), critical=True)
    return Signer(_sign_cert(cert, new_key("ecdsa"), "ecdsa"), key)


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tongban kiosk tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, public: PublicKey,
             valid_from: datetime | None, valid_to: datetime | None) -> x509.CertificateBuilder:
    start = valid_from or datetime(2020, 1, 1, tzinfo=UTC)
    end = valid_to or datetime(2050, 1, 1, tzinfo=UTC)
    return x509.CertificateBuilder().subject_name(subject).issuer_name(issuer) \
        .public_key(public).serial_number(x509.random_serial_number()) \
        .not_valid_before(start).not_valid_after(end) \
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)


def _usage(sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign_certs, crl_sign=sign_certs, encipher_only=False,
                         decipher_only=False)


def _sign_cert(builder: x509.CertificateBuilder, key: PrivateKey, scheme: Scheme
               ) -> x509.Certificate:
    if scheme == "rsa-pss":
        return builder.sign(key, hashes.SHA256(), rsa_padding=_pss())
    return builder.sign(key, hashes.SHA256())


def _pss() -> padding.PSS:
    return padding.PSS(padding.MGF1(hashes.SHA256()), 32)


# --- CMS ----------------------------------------------------------------------------------
def sign_sod(security_object: bytes, signer: Signer, corrupt: bool = False) -> bytes:
    """EF.SOD: tag 77 around a SignedData of the LDS security object, with the document
    signer's certificate. ``corrupt`` flips a bit of the signature."""
    return tlv.encode(lds.TAG_SOD, signed_data(cms.LDS_SECURITY_OBJECT, security_object,
                                               signer, corrupt=corrupt))


def sign_master_list(cscas: list[x509.Certificate], signer: Signer) -> bytes:
    """A CSCA master list (ICAO 9303-12 §9): SEQUENCE { version 0, SET OF Certificate }."""
    certs = [c.public_bytes(serialization.Encoding.DER) for c in cscas]
    body = der.sequence(der.integer(0), der.set_of(*certs))
    return signed_data(cms.CSCA_MASTER_LIST, body, signer)


def signed_data(content_type: str, content: bytes, signer: Signer, digest: str = "sha256",
                corrupt: bool = False) -> bytes:
    """A ContentInfo with SignedData: signed attributes (content type, message digest),
    the signer's certificate, one SignerInfo identified by issuer and serial number."""
    digest_alg = der.sequence(der.encode_oid(_HASH_OIDS[digest]))
    attributes = der.set_of(
        der.sequence(der.encode_oid(cms.ATTR_CONTENT_TYPE),
                     der.set_of(der.encode_oid(content_type))),
        der.sequence(der.encode_oid(cms.ATTR_MESSAGE_DIGEST),
                     der.set_of(der.octets(hashlib.new(digest, content).digest()))))
    signature = _sign(signer, attributes)
    if corrupt:
        signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
    cert = signer.cert.public_bytes(serialization.Encoding.DER)
    sid = der.sequence(signer.cert.issuer.public_bytes(), der.integer(signer.cert.serial_number))
    info = der.sequence(der.integer(1), sid, digest_alg, b"\xa0" + attributes[1:],
                        _signature_algorithm(signer.scheme), der.octets(signature))
    encapsulated = der.sequence(der.encode_oid(content_type), der.tagged(0, der.octets(content)))
    body = der.sequence(der.integer(3), der.set_of(digest_alg), encapsulated,
                        der.tagged(0, cert), der.set_of(info))
    return der.sequence(der.encode_oid(cms.SIGNED_DATA), der.tagged(0, body))


def _sign(signer: Signer, data: bytes) -> bytes:
    if isinstance(signer.key, ec.EllipticCurvePrivateKey):
        return signer.key.sign(data, ec.ECDSA(hashes.SHA256()))
    pad = _pss() if signer.scheme == "rsa-pss" else padding.PKCS1v15()
    return signer.key.sign(data, pad, hashes.SHA256())


def _signature_algorithm(scheme: Scheme) -> bytes:
    oid = der.encode_oid(_SIG_OIDS[(scheme, "sha256")])
    if scheme != "rsa-pss":
        return der.sequence(oid)
    sha256 = der.sequence(der.encode_oid(_HASH_OIDS["sha256"]))
    mgf1 = der.sequence(der.encode_oid("1.2.840.113549.1.1.8"), sha256)
    return der.sequence(oid, der.sequence(der.tagged(0, sha256), der.tagged(1, mgf1),
                                          der.tagged(2, der.integer(32))))


# --- the test PKIs ------------------------------------------------------------------------
@functools.cache
def ephemeral() -> TestPki:
    """A CSCA and document signer made once per process."""
    csca = make_csca()
    return TestPki(csca, make_document_signer(csca))


@functools.cache
def demo(directory: Path = DEMO_DIR) -> TestPki:
    """The test CSCA and document signer kept in ``directory`` (see its README)."""
    def load(stem: str) -> Signer:
        cert = x509.load_pem_x509_certificate((directory / f"{stem}.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / f"{stem}.key").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{stem}.key is neither an EC nor an RSA key")
        return Signer(cert, key)
    return TestPki(load("test-csca"), load("test-ds"))


def write_demo(directory: Path = DEMO_DIR) -> None:
    """Make the demo pair afresh (valid 2025–2045), with the CSCA as a one-certificate master
    list in PEM and in the ICAO format (signed by the document signer's CSCA itself)."""
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC)
    csca = make_csca(valid_from=start, valid_to=end)
    pki = TestPki(csca, make_document_signer(csca, valid_from=start, valid_to=end))
    directory.mkdir(parents=True, exist_ok=True)
    for stem, signer in (("test-csca", pki.csca), ("test-ds", pki.document_signer)):
        pem = signer.cert.public_bytes(serialization.Encoding.PEM)
        (directory / f"{stem}.pem").write_bytes(pem)
        (directory / f"{stem}.key").write_bytes(signer.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    ml_signer = make_document_signer(csca, "Tongban TEST Master List Signer", valid_from=start,
                                     valid_to=end)
    (directory / "test-masterlist.ml").write_bytes(sign_master_list([csca.cert], ml_signer))
