"""The matter catalogue (事项目录): matters → situations (情形) → material requirements.

Domain values are written in Chinese, as in the service guides the catalogue is copied from;
keys are English. Every model forbids unknown keys so that a typo is an error, not a
silently missing material.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from kiosk.devices.kinds import DeviceKind

CATALOGUE_SCHEMA_VERSION = 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Mode(StrEnum):
    ONLINE = "全程网办"
    PROXY = "异地代收代办"
    JOINT = "多地联办"


class ScopeKind(StrEnum):
    INTER_PROVINCE = "跨省通办"
    PROVINCE = "全省通办"
    CITY = "全市通办"
    REGIONAL = "区域通办"      # a named bilateral/regional list, e.g. 川渝通办


class Necessity(StrEnum):
    REQUIRED = "必要"
    OPTIONAL = "非必要"
    DEFERRABLE = "容缺"        # may be missing if the applicant signs a commitment


class MaterialForm(StrEnum):
    PAPER = "纸质"
    ELECTRONIC = "电子"
    E_LICENCE = "电子证照"


class OriginalOrCopy(StrEnum):
    ORIGINAL = "原件"
    COPY = "复印件"
    BOTH = "原件和复印件"


class CaseType(StrEnum):
    IMMEDIATE = "即办件"
    PROMISED = "承诺件"
    JOINT = "联办件"


class DeliveryOption(StrEnum):
    PICKUP = "窗口自取"
    POST = "邮寄"
    ELECTRONIC = "电子送达"


class LifeEvent(StrEnum):
    """人生事件: the "I am ..." entry points of the matter-choice screen.

    A fixed vocabulary, so the screen can give each one a button and an icon; the order here is
    the order of the buttons. A matter may sit under several (夫妻投靠 is both 户籍迁移 and
    婚姻生育).
    """

    MOVING = "户籍迁移"
    MARRIAGE_BIRTH = "婚姻生育"
    WORK = "社保就业"
    MEDICAL = "医疗就医"
    HOUSING = "住房置业"
    RETIREMENT = "养老退休"
    PAPERS = "证件证明"
    BUSINESS = "开办企业"
    OTHER = "其他"


class PageRange(Strict):
    min: int = Field(1, ge=0)
    max: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> PageRange:
        if self.max < self.min:
            raise ValueError(f"pages.max ({self.max}) is below pages.min ({self.min})")
        return self


class Material(Strict):
    """One acceptable document (材料)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str = ""
    form: MaterialForm = MaterialForm.PAPER
    original: OriginalOrCopy = OriginalOrCopy.ORIGINAL
    count: int = Field(1, ge=1)               # 份数
    pages: PageRange = PageRange()
    check_points: tuple[str, ...] = ()        # 审查要点, shown to the citizen and the guide
    blank_form: str | None = None             # name of the blank form (空表) the hall provides
    note: str = ""


class Rongque(Strict):
    """可容缺 with a window's approval (容缺受理, seed 002 §三(一)4): a window staff member may
    accept the case without this required material, on the applicant's commitment to supply
    it by a deadline. Unlike ``necessity: 容缺`` the applicant cannot defer it alone."""

    supply_within_days: int = Field(ge=1, le=60)   # the 补交 deadline offered (calendar days)
    commitment: str = Field(min_length=4)          # what the applicant promises, in full


class _Requirement(Strict):
    necessity: Necessity = Necessity.REQUIRED
    commitment: str | None = None             # 容缺: what the applicant promises to supply
    rongque: Rongque | None = None            # 可容缺 on a window's approval (staff mode)

    @model_validator(mode="after")
    def _commitment_for_deferrable(self) -> _Requirement:
        if self.necessity is Necessity.DEFERRABLE and not self.commitment:
            raise ValueError("a 容缺 requirement needs a `commitment` text")
        if self.rongque is not None and self.necessity is not Necessity.REQUIRED:
            raise ValueError("`rongque` (容缺 on a window's approval) is for a 必要 requirement "
                             f"only; this one is {self.necessity.value}")
        return self


class SingleRequirement(_Requirement, Material):
    """A requirement met by exactly one kind of document."""

    @property
    def options(self) -> tuple[Material, ...]:
        return (Material(**self.model_dump(exclude={"necessity", "commitment", "rongque"})),)

    @property
    def label(self) -> str:
        return self.name

    @property
    def label_en(self) -> str:
        return self.name_en or self.name


class AlternativeGroup(_Requirement):
    """Either/or: any ONE of ``options`` meets the requirement (身份证 或 社保卡)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str | None = None
    options: tuple[Material, ...] = Field(min_length=2)

    @property
    def label(self) -> str:
        return self.name or " 或 ".join(m.name for m in self.options)

    @property
    def label_en(self) -> str:
        return " or ".join(m.name_en or m.name for m in self.options)


def _requirement_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "group" if "options" in value else "single"
    return "group" if isinstance(value, AlternativeGroup) else "single"


Requirement = Annotated[
    Annotated[SingleRequirement, Tag("single")] | Annotated[AlternativeGroup, Tag("group")],
    Discriminator(_requirement_kind),
]
REQUIREMENT_TAGS = ("single", "group")


class Situation(Strict):
    """A 情形: one path through the matter, with its own materials list."""

    code: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    name_en: str = ""
    description: str = ""
    materials: tuple[Requirement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Situation:
        seen: set[str] = set()
        for req in self.materials:
            for mid in (req.id, *(m.id for m in req.options if isinstance(req, AlternativeGroup))):
                if mid in seen:
                    raise ValueError(f"material id {mid!r} appears twice in situation {self.code}")
                seen.add(mid)
        return self

    def requirement(self, requirement_id: str) -> SingleRequirement | AlternativeGroup:
        for req in self.materials:
            if req.id == requirement_id:
                return req
        raise KeyError(requirement_id)


class Scope(Strict):
    kind: ScopeKind
    list_name: str | None = None              # e.g. 川渝通办, 西南五省通办
    regions: tuple[str, ...] = ()             # participating regions of a named list

    @model_validator(mode="after")
    def _regional_has_name(self) -> Scope:
        if self.kind is ScopeKind.REGIONAL and not self.list_name:
            raise ValueError("a 区域通办 scope needs `list_name`")
        return self

    @property
    def label(self) -> str:
        return self.list_name or self.kind.value


class HandlingRegion(Strict):
    code: str = Field(pattern=r"^\d{6}$")     # GB/T 2260 division code
    name: str
    department: str
    name_en: str = ""                         # "": the screens spell the name in pinyin
    department_en: str = ""
    org_code: str = ""                        # 统一社会信用代码 of the receiving department


class TimeLimits(Strict):
    legal_days: int | None = Field(None, ge=0)    # 法定时限 (working days); None: no statute
    promised_days: int = Field(ge=0)              # 承诺时限 (working days)
    note: str = ""


class FeeItem(Strict):
    name: str
    amount_yuan: float = Field(ge=0)
    basis: str = ""


class Fees(Strict):
    items: tuple[FeeItem, ...] = ()
    note: str = ""

    @property
    def text(self) -> str:
        if not self.items:
            return "不收费"
        return "；".join(f"{i.name} {i.amount_yuan:g}元" for i in self.items)


class ElsewhereInfo(Strict):
    """Where to go when the kiosk cannot take the matter (一次性告知 of place and phone)."""

    where: str
    phone: str = ""
    hours: str = ""
    reason: str = ""


class Matter(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    name_en: str = ""
    department: str
    department_en: str = ""
    matter_type: str = "公共服务"                # 许可/确认/给付/公共服务/其他
    case_type: CaseType = CaseType.PROMISED
    implementing_body: str = ""
    legal_basis: str = ""
    mode: Mode
    scope: Scope
    kiosk_can_take: bool = True
    elsewhere: ElsewhereInfo | None = None
    handling_regions: tuple[HandlingRegion, ...] = Field(min_length=1)
    forward_within_days: int = Field(2, ge=0)   # 2 日内转报 (seed 003 appendix A)
    time_limits: TimeLimits
    fees: Fees = Fees()
    delivery_options: tuple[DeliveryOption, ...] = (DeliveryOption.PICKUP, DeliveryOption.POST)
    consultation_phone: str
    complaint_phone: str = "12345"
    required_devices: tuple[DeviceKind, ...] = (
        DeviceKind.IDENTITY_READER, DeviceKind.DOCUMENT_CAMERA, DeviceKind.RECEIPT_PRINTER)
    keywords: tuple[str, ...] = ()
    life_events: tuple[LifeEvent, ...] = ()
    situations: tuple[Situation, ...] = Field(min_length=1)
    sources: tuple[str, ...] = ()
    illustrative: tuple[str, ...] = ()          # fields whose values are illustrative, not verified

    @model_validator(mode="after")
    def _consistent(self) -> Matter:
        codes = [s.code for s in self.situations]
        if len(set(codes)) != len(codes):
            raise ValueError(f"matter {self.code} has duplicate situation codes")
        if len(set(self.life_events)) != len(self.life_events):
            raise ValueError(f"matter {self.code} lists a life event twice")
        if not self.kiosk_can_take and self.elsewhere is None:
            raise ValueError("a matter the kiosk cannot take needs `elsewhere` (where to go)")
        if self.mode is Mode.JOINT and len(self.handling_regions) < 2:
            raise ValueError("a 多地联办 matter needs at least two handling_regions")
        return self

    def situation(self, code: str | None) -> Situation:
        if code is None:
            return self.situations[0]
        for s in self.situations:
            if s.code == code:
                return s
        raise KeyError(code)


class Catalogue(Strict):
    schema_version: Literal[1]
    matters: tuple[Matter, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Catalogue:
        codes = [m.code for m in self.matters]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate matter codes: {', '.join(dupes)}")
        return self

    def matter(self, code: str) -> Matter:
        for m in self.matters:
            if m.code == code:
                return m
        raise KeyError(code)
