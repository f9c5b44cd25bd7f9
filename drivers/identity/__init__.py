"""Identity readers: the interface every backend (emulated, GA/T 467 serial, PC/SC) fulfils."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from drivers.errors import DeviceError
from drivers.status import DeviceStatus, EventSink

LONG_TERM = "长期"          # what a card says for "valid_to" when it never expires


class CardType(StrEnum):
    RESIDENT = "resident"                    # 居民身份证
    HMT_RESIDENCE = "hmt_residence"          # 港澳台居民居住证 ('J')
    FOREIGNER_2017 = "foreigner_2017"        # 外国人永久居留身份证 2017 ('I')
    FOREIGNER_2023 = "foreigner_2023"        # 外国人永久居留身份证 2023 ('Y')
    EMRTD = "emrtd"                          # ICAO 9303 passport or card


CARD_TYPE_ZH = {
    CardType.RESIDENT: "居民身份证",
    CardType.HMT_RESIDENCE: "港澳台居民居住证",
    CardType.FOREIGNER_2017: "外国人永久居留身份证",
    CardType.FOREIGNER_2023: "外国人永久居留身份证",
    CardType.EMRTD: "护照/旅行证件",
}


class ChipCheck(StrEnum):
    """Passive authentication of an eMRTD chip (ICAO 9303 part 11 §5.1)."""

    VERIFIED = "verified"                  # CSCA in the master list → document signer → SOD
    UNKNOWN_CSCA = "unknown_csca"          # SOD signed by its document signer; no listed CSCA
    NO_MASTER_LIST = "no_master_list"      # SOD signed by its document signer; chain unchecked
    FAILED = "failed"                      # stops the read (PassiveAuthFailed carries it)


_CHECK_TEXT = {
    ChipCheck.VERIFIED: ("芯片数据经签发国签名验证", "chip data verified against the issuing "
                         "state's CSCA"),
    ChipCheck.UNKNOWN_CSCA: ("签发国证书不在主列表中，未能验证签发机构", "the document signer's "
                             "CSCA is not in the master list: issuer not verified"),
    ChipCheck.NO_MASTER_LIST: ("未配置签发国证书主列表，未验证签发机构", "no CSCA master list "
                               "configured: issuer not verified"),
    ChipCheck.FAILED: ("芯片签名校验未通过", "the chip's signatures do not verify"),
}


@dataclass(frozen=True)
class ChipEvidence:
    """What passive authentication checked and found. No personal data: certificates are
    the issuing state's, hashes are of data groups."""

    result: ChipCheck
    hash_algorithm: str = ""
    groups: tuple[int, ...] = ()             # data groups whose hashes matched EF.SOD
    document_signer: str = ""                # its subject (RFC 4514)
    signer_valid: tuple[date, date] | None = None
    csca: str = ""                           # the CSCA that issued it, when one matched
    csca_key_id: str = ""                    # its subject key identifier, hex
    master_list: str = ""                    # where the CSCAs came from
    notes: tuple[str, ...] = ()              # validity dates outside today, and the like

    @property
    def zh(self) -> str:
        return _CHECK_TEXT[self.result][0]

    @property
    def en(self) -> str:
        return _CHECK_TEXT[self.result][1]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["result"] = self.result.value
        out["groups"], out["notes"] = list(self.groups), list(self.notes)
        out["signer_valid"] = [d.isoformat() for d in self.signer_valid or ()]
        out["zh"], out["en"] = self.zh, self.en
        return out


@dataclass(frozen=True, repr=False)
class Identity:
    """What a reader read off a document. Personal data: never log it (repr is redacted)."""

    card_type: CardType
    name: str
    id_number: str
    birth_date: date
    valid_from: date | None
    valid_to: date | None              # None means 长期 (long-term)
    sex: str = ""
    name_en: str = ""
    nation_code: str = ""
    nation: str = ""
    address: str = ""
    issuer: str = ""
    document_number: str = ""
    nationality: str = "CHN"
    photo: bytes | None = None
    photo_format: str | None = None
    raw_wlt: bytes | None = field(default=None)
    chip: ChipEvidence | None = None   # eMRTD: passive authentication's result

    def __repr__(self) -> str:  # why: a stray log line must not leak the applicant
        return f"Identity(card_type={self.card_type.value}, <redacted>)"

    __str__ = __repr__

    def is_expired(self, today: date) -> bool:
        return self.valid_to is not None and today > self.valid_to

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bytes):
                continue
            if isinstance(value, ChipEvidence):
                value = value.to_json()
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        out["card_type"] = self.card_type.value
        return out


class CardNotFound(DeviceError):
    code = "card_not_found"

    def __init__(self) -> None:
        super().__init__("未检测到证件，请将证件平放在读卡区",
                         "No card found: place the card flat on the reader")


class CardRemoved(DeviceError):
    code = "card_removed"

    def __init__(self) -> None:
        super().__init__("证件在读取中被移开，请重新放置",
                         "The card was moved away during reading: place it again")


class CardReadFailed(DeviceError):
    code = "card_read_failed"

    def __init__(self, detail: str = "") -> None:
        super().__init__("证件读取失败，请重新放置证件",
                         f"Could not read the card {detail}".strip())


class CardDataInvalid(DeviceError):
    """The card read cleanly but what it says is inconsistent (number, dates)."""

    code = "card_data_invalid"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"证件信息校验未通过（{zh}），请联系工作人员",
                         f"The card's data does not check out ({en}): please call staff")


@dataclass(frozen=True, repr=False)
class MrzKey:
    """The Basic Access Control key of a passport or ICAO card, as printed in its MRZ:
    document number, birth date and expiry date (YYMMDD). Typed in by the citizen."""

    document_number: str
    birth: str
    expiry: str

    def __repr__(self) -> str:   # personal data: never in a log
        return "MrzKey(<redacted>)"


class IdentityReader(Protocol):
    """Blocking calls; the core runs them on the device's own worker thread."""

    name: str

    def open(self, sink: EventSink | None = None) -> None: ...

    def close(self) -> None: ...

    def status(self) -> DeviceStatus: ...

    def read(self, timeout: float, mrz: MrzKey | None = None) -> Identity:
        """Wait up to ``timeout`` seconds for a card and read it, or raise a DeviceError.
        ``mrz`` is the access key of an eMRTD (passport); ID-card modules ignore it."""
        ...


@runtime_checkable
class CardSlot(Protocol):
    """What a hand does to an emulated reader (the demo, the scripted citizen, tests): lay a
    card on it — a key of its identities file, or an Identity — and take it away."""

    def present(self, card: str | Identity) -> None: ...

    def remove(self) -> None: ...
