"""Passive authentication (ICAO 9303 part 11 §5.1): EF.SOD is signed by a document signer
whose certificate it carries, and that certificate by the issuing state's CSCA. The session
has already matched every data group read against the SOD's hashes; this checks the rest:

1. the SOD's one signer: content type and message digest in the signed attributes, and the
   signature over them by the document signer's key — always, master list or not;
2. the document signer's certificate against the CSCAs of the configured master list that
   could have issued it: one verifies → VERIFIED; none listed → UNKNOWN_CSCA; listed but
   none verifies → FAILED; no master list → NO_MASTER_LIST, said in the evidence.

A failure raises :class:`PassiveAuthFailed`. Validity dates outside today are noted, not
failed: a passport stays valid after its document signer's key stops signing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import NoReturn

from cryptography import x509

from drivers.identity import ChipCheck, ChipEvidence
from drivers.identity.emrtd import lds, signatures
from drivers.identity.emrtd.errors import PassiveAuthFailed
from drivers.identity.emrtd.masterlist import MasterList


def authenticate(sod: lds.SecurityObject, groups: tuple[int, ...], trust: MasterList | None,
                 today: date) -> ChipEvidence:
    """The evidence for a chip whose ``groups`` matched ``sod``'s hashes."""
    base = ChipEvidence(ChipCheck.FAILED, hash_algorithm=sod.algorithm, groups=groups,
                        master_list=trust.source if trust else "")
    signed = sod.signed
    if len(signed.signers) != 1:
        _fail(base, f"EF.SOD has {len(signed.signers)} signers, not one")
    signer = signed.signers[0]
    try:
        ds = signatures.signer_certificate(signed, signer)
    except signatures.SignatureInvalid as err:
        _fail(base, f"EF.SOD: {err}")
    if ds is None:
        _fail(base, "EF.SOD carries no document signer certificate")
    evidence = ChipEvidence(
        ChipCheck.FAILED, sod.algorithm, groups, ds.subject.rfc4514_string(),
        (ds.not_valid_before_utc.date(), ds.not_valid_after_utc.date()),
        master_list=base.master_list, notes=_dates("document signer", ds, today))
    try:
        signatures.check_signer(signed, signer, ds)
    except signatures.SignatureInvalid as err:
        _fail(evidence, f"EF.SOD signature: {err}")
    if trust is None:
        return _with(evidence, ChipCheck.NO_MASTER_LIST,
                     note="no CSCA master list configured: the document signer is not checked")
    candidates = trust.issuers_of(ds)
    if not candidates:
        return _with(evidence, ChipCheck.UNKNOWN_CSCA,
                     note=f"no CSCA named {ds.issuer.rfc4514_string()} in the master list")
    for csca in candidates:
        if signatures.issued_by(ds, csca):
            key_id = signatures.key_id(csca)
            return ChipEvidence(
                ChipCheck.VERIFIED, sod.algorithm, groups, evidence.document_signer,
                evidence.signer_valid, csca.subject.rfc4514_string(),
                key_id.hex() if key_id else "", trust.source,
                evidence.notes + _dates("CSCA", csca, today))
    _fail(evidence, "the document signer certificate does not verify under the CSCA it names")


def _fail(evidence: ChipEvidence, reason: str) -> NoReturn:
    raise PassiveAuthFailed(reason, replace(evidence, notes=(*evidence.notes, reason)))


def _with(evidence: ChipEvidence, result: ChipCheck, note: str) -> ChipEvidence:
    return replace(evidence, result=result, notes=(*evidence.notes, note))


def _dates(what: str, cert: x509.Certificate, today: date) -> tuple[str, ...]:
    start, end = cert.not_valid_before_utc.date(), cert.not_valid_after_utc.date()
    if today < start:
        return (f"{what} certificate not valid before {start.isoformat()}",)
    if today > end:
        return (f"{what} certificate expired on {end.isoformat()}",)
    return ()
