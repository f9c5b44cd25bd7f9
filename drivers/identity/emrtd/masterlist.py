"""The CSCA certificates an operator trusts, from one file distributed through the fleet
channel: a PEM bundle, one DER certificate, or an ICAO CSCA master list (.ml, 9303-12 §9:
CMS SignedData of a SET OF Certificate, signed by a master list signer whom one of the
listed CSCAs issued — checked before any certificate in it is trusted)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.identity.emrtd import cms, der, signatures
from drivers.identity.emrtd.errors import BadCardReply, MasterListInvalid

MAX_BYTES = 32 << 20              # Germany's master list, the largest public one, is ~1 MB
MAX_CERTIFICATES = 20_000


@dataclass(frozen=True)
class MasterList:
    certificates: tuple[x509.Certificate, ...]
    source: str                   # "<file name> (<format>, <n> CSCAs)", for the evidence
    skipped: int = 0              # listed certificates `cryptography` cannot read

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """The CSCAs that could have issued ``cert``: its issuer's name, and the key
        identifier it names where both sides state one (a state's CSCAs share a name
        across key changes)."""
        wanted = signatures.authority_key_id(cert)
        out = []
        for csca in self.certificates:
            if csca.subject != cert.issuer:
                continue
            have = signatures.key_id(csca)
            if wanted is None or have is None or have == wanted:
                out.append(csca)
        return out


def load(path: Path) -> MasterList:
    """The master list in ``path``; MasterListInvalid says why not."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as err:
        raise MasterListInvalid(str(path), f"cannot read it ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise MasterListInvalid(str(path), f"larger than {MAX_BYTES >> 20} MiB")
    try:
        if b"-----BEGIN" in data:
            listed = [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(data)]
            kind = "PEM"
        elif _is_cms(data):
            listed, kind = _from_icao(data, str(path)), "ICAO master list"
        else:
            listed, kind = [data], "DER"
    except (ValueError, x509.InvalidVersion) as err:
        raise MasterListInvalid(str(path), f"not certificates: {err}") from None
    if len(listed) > MAX_CERTIFICATES:
        raise MasterListInvalid(str(path), f"more than {MAX_CERTIFICATES} certificates")
    certs = [c for c in map(signatures.load_certificate, listed) if c is not None]
    skipped = len(listed) - len(certs)
    if kind == "ICAO master list":
        _check_list_signature(cms.parse(data), certs, str(path))
    if not certs:
        raise MasterListInvalid(str(path), "it holds no certificate")
    unreadable = f", {skipped} unreadable" if skipped else ""   # e.g. explicit EC parameters
    return MasterList(tuple(certs), f"{path.name} ({kind}, {len(certs)} CSCAs{unreadable})",
                      skipped)


def _is_cms(data: bytes) -> bool:
    try:
        cms.parse(data)
    except BadCardReply:
        return False
    return True


def _from_icao(data: bytes, where: str) -> list[bytes]:
    """The certificates' DER in a CscaMasterList (its signature is checked by the caller,
    once they are loaded)."""
    try:
        signed = cms.parse(data)
        if signed.content_type != cms.CSCA_MASTER_LIST:
            raise MasterListInvalid(where, "CMS, but not a CSCA master list")
        fields = der.elements(der.expect(signed.content, der.SEQUENCE, "CscaMasterList"))
        if len(fields) != 2 or fields[1][0] != der.SET:
            raise MasterListInvalid(where, "the master list is incomplete")
        return [raw for _, _, raw in der.elements(fields[1][1])]
    except BadCardReply as err:
        raise MasterListInvalid(where, err.detail) from None


def _check_list_signature(signed: cms.SignedData, certs: list[x509.Certificate],
                          where: str) -> None:
    """The list is signed by a master list signer, whom a CSCA in the list issued."""
    if len(signed.signers) != 1:
        raise MasterListInvalid(where, "the master list is not signed by exactly one signer")
    signer = signed.signers[0]
    try:
        cert = signatures.signer_certificate(signed, signer)
    except signatures.SignatureInvalid as err:
        raise MasterListInvalid(where, f"the master list signer: {err}") from None
    if cert is None:
        raise MasterListInvalid(where, "the master list signer's certificate is missing")
    try:
        signatures.check_signer(signed, signer, cert)
    except signatures.SignatureInvalid as err:
        raise MasterListInvalid(where, f"the master list's signature: {err}") from None
    issuers = MasterList(tuple(certs), where).issuers_of(cert)
    if not any(signatures.issued_by(cert, csca) for csca in issuers):
        raise MasterListInvalid(where, "no CSCA in the list issued its signer's certificate")
