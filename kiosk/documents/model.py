"""Device-independent document models: what a receipt, a correction notice, a transfer
slip and a ledger row SAY. How they look is decided by ``forms`` and the renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class MaterialLine:
    name: str
    copies: int                 # 份数
    pages: int                  # 页数 captured (0 when deferred)
    original_or_copy: str       # 原件 / 复印件 / 原件和复印件
    note: str = ""


@dataclass(frozen=True)
class Applicant:
    name: str
    phone: str
    address: str = ""
    postcode: str = ""
    email: str = ""


@dataclass(frozen=True)
class Office:
    """The receiving side: the hall's department, its phone, and who took the case."""

    department: str
    phone: str
    staff: str
    kiosk_id: str
    address: str = ""


@dataclass(frozen=True)
class Receipt:
    """申请材料接收通知书 / 受理(代收)通知书 (seed 003 appendix A, seed 004 attachment 1)."""

    case_number: str
    transfer_numbers: tuple[str, ...]
    received_at: datetime
    matter_name: str
    situation_name: str
    scope_label: str               # 跨省通办 / 全省通办 / 川渝通办 ...
    handling: tuple[str, ...]      # "重庆市渝中区 重庆市渝中区人力资源和社会保障局", ...
    forward_within_days: int
    applicant: Applicant
    office: Office
    materials: tuple[MaterialLine, ...]
    legal_days: int | None
    promised_days: int
    fees: str
    consultation_phone: str
    complaint_phone: str
    delivery: str                  # 窗口自取 / 邮寄 / 电子送达
    delivery_address: str
    deferred: tuple[str, ...] = () # 容缺 items the applicant committed to supply
    tracking_url: str = ""
    remarks: tuple[str, ...] = ()  # more 备注 sentences (代办, originals still to be checked)

    @property
    def total_copies(self) -> int:
        return sum(m.copies for m in self.materials)


@dataclass(frozen=True)
class CorrectionNotice:
    """补正通知书 / 一次性告知 (seed 004 attachment 2): EVERY missing or wrong item at once."""

    number: str
    received_on: date
    matter_name: str
    applicant_name: str
    submitted: tuple[str, ...]     # what the applicant did bring
    items: tuple[str, ...]         # what is missing or wrong, one line each
    office: Office
    issued_on: date
    # the handling region's notice relayed at the status screen (kiosk/region_notice.py):
    # its deadline, and the case it belongs to (the kiosk's own notice opens no case)
    deadline: str = ""
    case_number: str = ""


@dataclass(frozen=True)
class TransferSlip:
    """申请材料转办单 (seed 003 appendix B) with the cross-region exchange fields."""

    transfer_number: str
    case_number: str
    matter_name: str
    handling_department: str
    sender_org_code: str
    receiver_region: str
    materials: tuple[MaterialLine, ...]
    applicant: Applicant
    confirmed_at: datetime         # when the applicant confirmed the commitment at the kiosk
    office: Office
    sent_at: datetime
    agent: str = ""                # 代办: the agent who confirmed for the applicant


@dataclass(frozen=True)
class LedgerRow:
    """事项办理台账 / 工作登记台账 (seed 003 appendix C, seed 004 attachment 3).

    The applicant and phone are stored masked: the ledger is read on the hall's screens.
    """

    case_number: str
    time: datetime
    department: str
    matter_code: str
    matter_name: str
    count: int
    case_type: str                 # 即办件 / 承诺件 / 联办件
    applicant_masked: str
    phone_masked: str
    window: str                    # the kiosk id
    staff: str
    state: str                     # 已代收待流转 / 一次性告知补正 / ...
    scope: str                     # 通办类型
    regions: str                   # 通办具体地区
    transfer_numbers: str = ""
    package_id: str = ""
    note: str = ""


@dataclass(frozen=True)
class RequiredMaterial:
    """One material of a service guide's list, as the citizen must bring it."""

    name: str
    original_or_copy: str          # 原件 / 复印件 / 原件和复印件
    copies: int                    # 份数
    pages: str                     # "2", "1–4"
    necessity: str = "必要"         # 必要 / 非必要 / 容缺
    note: str = ""
    either_of: tuple[RequiredMaterial, ...] = ()   # an either/or group: any ONE of these


@dataclass(frozen=True)
class GuideSituation:
    """A 情形 and its own materials list."""

    name: str
    materials: tuple[RequiredMaterial, ...]


@dataclass(frozen=True)
class ReferralSlip:
    """一次性告知 of place and phone for a matter this kiosk cannot take (DOMAIN §2.1), with
    everything to bring there: every situation's full materials list."""

    matter_name: str
    reason: str
    where: str
    phone: str
    hours: str
    consultation_phone: str
    office: Office
    issued_on: date
    situations: tuple[GuideSituation, ...] = ()
    at_this_kiosk: bool = False     # a matter this kiosk takes, printed to come back with
    reopens: str = ""               # at_this_kiosk, printed while closed: when it opens
