"""What can go wrong reading an eMRTD, as typed errors in Chinese and English.

Everything a parser raises on malformed card data is a :class:`BadCardReply`, so a garbled
or hostile reply can never surface as an IndexError in the session.
"""

from __future__ import annotations

from drivers.errors import DeviceError, DeviceFault
from drivers.identity import CardReadFailed, ChipEvidence


class BadCardReply(CardReadFailed):
    """The chip answered something that does not parse (TLV, APDU, MAC, MRZ)."""

    code = "emrtd_bad_reply"

    def __init__(self, detail: str) -> None:
        super().__init__(f"({detail})")
        self.zh = "证件芯片返回的数据无法识别，请重新放置证件"
        self.detail = detail


class CardStatus(CardReadFailed):
    """The chip answered a command with a status word we did not expect."""

    code = "emrtd_status"

    def __init__(self, what: str, sw: int) -> None:
        super().__init__(f"({what}: status {sw:04X})")
        self.sw = sw


class MrzRequired(DeviceError):
    code = "emrtd_mrz_required"

    def __init__(self) -> None:
        super().__init__("读取护照需先输入资料页底部机读码（MRZ）中的证件号码、出生日期和有效期",
                         "A passport can only be read with the document number, birth date "
                         "and expiry date from its MRZ")


class BadMrzKey(DeviceError):
    """The typed key cannot be an MRZ's (checked before any APDU is sent)."""

    code = "emrtd_bad_key"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"机读码信息有误：{zh}", f"The MRZ details are wrong: {en}")


class AccessDenied(DeviceError):
    """Basic Access Control failed: the typed MRZ key is not this document's."""

    code = "emrtd_access_denied"

    def __init__(self) -> None:
        super().__init__("机读码信息与证件不符，请核对证件号码、出生日期和有效期后重新输入",
                         "The MRZ details do not match this document: check the document "
                         "number, birth date and expiry date and type them again")


class NotAnEmrtd(DeviceError):
    code = "emrtd_not_icao"

    def __init__(self) -> None:
        super().__init__("无法识别此证件的芯片，请使用身份证或护照，或联系工作人员",
                         "This card's chip is not an ICAO travel document: use an ID card or "
                         "passport, or call staff")


class DocumentTampered(DeviceError):
    """A data group's hash differs from the one the issuer signed into EF.SOD."""

    code = "emrtd_tampered"

    def __init__(self, what: str) -> None:
        super().__init__("证件芯片数据校验未通过，请联系现场工作人员",
                         f"The chip's data fails the issuer's hash check ({what}): "
                         "please call staff")
        self.what = what


class PassiveAuthFailed(DeviceError):
    """EF.SOD's signature, its document signer's certificate or the CSCA's signature on it
    does not verify: the chip's data is not the issuer's as signed. ``evidence`` says what
    was checked (its result FAILED)."""

    code = "emrtd_passive_auth_failed"

    def __init__(self, reason: str, evidence: ChipEvidence | None = None) -> None:
        super().__init__("证件芯片的签发机构签名校验未通过，请联系现场工作人员",
                         f"The chip's issuer signature does not verify ({reason}): "
                         "please call staff")
        self.reason = reason
        self.evidence = evidence


class MasterListInvalid(DeviceFault):
    """The configured CSCA master list cannot be used (the operator's to fix)."""

    code = "emrtd_master_list_invalid"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"签发机构证书列表（CSCA 主列表）无法使用：{path}",
                         f"The CSCA master list {path} cannot be used: {reason}")
        self.reason = reason
