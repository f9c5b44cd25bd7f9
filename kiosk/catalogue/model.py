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

CATALOGUE_SCHEMA_VERSION = 2      # 2: `handling` parties and `category` (issue 23)


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


class HandlingRule(StrEnum):
    """How a party's region is found for one application (issue 23)."""

    FIXED = "fixed"                # a named department and region, the same for everyone
    HOUSEHOLD = "household"        # 户籍地: from the address on the identity document
    INSURED = "insured"            # 参保地 / 缴存地: chosen, defaulting to the household region
    PROPERTY = "property"          # 不动产所在地: chosen
    DESTINATION = "destination"    # 迁入地 / 受理地: chosen, defaulting to this hall's region


CHOSEN_RULES = frozenset({HandlingRule.INSURED, HandlingRule.PROPERTY, HandlingRule.DESTINATION})


class HandlingParty(Strict):
    """One handling party of a matter: which region decides, and how it is found.

    ``department`` names the department where the directory gives none; ``{place}`` in it is
    the resolved region's full name (``{place}公安机关`` → 重庆市渝中区公安机关)."""

    role: str = Field(pattern=r"^[a-z][a-z_]*$")      # e.g. handling, move_out, move_in
    rule: HandlingRule
    label: str = "办理地"                              # what the screens call it: 迁出地
    label_en: str = "Handling region"
    region: HandlingRegion | None = None               # fixed: the named region
    department: str = ""
    department_en: str = ""

    @model_validator(mode="after")
    def _region_iff_fixed(self) -> HandlingParty:
        fixed = self.rule is HandlingRule.FIXED
        if fixed and self.region is None:
            raise ValueError(f"party {self.role}: a fixed party needs `region`")
        if not fixed and self.region is not None:
            raise ValueError(f"party {self.role}: only a fixed party names a `region`")
        if not fixed and not self.department:
            raise ValueError(f"party {self.role}: needs `department` (e.g. {{place}}公安机关)")
        return self


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
    category: str = Field(pattern=r"^[a-z_]+$")     # the directory's department key: hukou
    handling: tuple[HandlingParty, ...] = Field(min_length=1)
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

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: Any) -> Any:
        """A version-1 matter (fixed ``handling_regions``, no category) reads as fixed
        parties: halls' own catalogues and older fleet bundles keep loading."""
        if isinstance(data, dict) and "handling_regions" in data and "handling" not in data:
            return migrate_matter_v1(data)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Matter:
        codes = [s.code for s in self.situations]
        if len(set(codes)) != len(codes):
            raise ValueError(f"matter {self.code} has duplicate situation codes")
        if len(set(self.life_events)) != len(self.life_events):
            raise ValueError(f"matter {self.code} lists a life event twice")
        if not self.kiosk_can_take and self.elsewhere is None:
            raise ValueError("a matter the kiosk cannot take needs `elsewhere` (where to go)")
        if self.mode is Mode.JOINT and len(self.handling) < 2:
            raise ValueError("a 多地联办 matter needs at least two handling parties")
        roles = [p.role for p in self.handling]
        if len(set(roles)) != len(roles):
            raise ValueError(f"matter {self.code} names a handling role twice")
        return self

    @property
    def fixed_parties(self) -> bool:
        """Every party is fixed: the same regions for every applicant."""
        return all(p.rule is HandlingRule.FIXED for p in self.handling)

    def situation(self, code: str | None) -> Situation:
        if code is None:
            return self.situations[0]
        for s in self.situations:
            if s.code == code:
                return s
        raise KeyError(code)


# version 1 named no category: the nearest key for its department
V1_CATEGORIES = {"公安": "public_security", "民政": "civil_affairs", "人社": "social_insurance",
                 "医保": "medical_insurance", "住房公积金": "housing_fund",
                 "市场监管": "market_regulation", "司法（公证）": "notary",
                 "自然资源（不动产登记）": "real_estate", "残联": "disability"}


def migrate_matter_v1(data: dict[str, Any]) -> dict[str, Any]:
    """``handling_regions: [{code, name, department}]`` → ``handling: [{role, rule: fixed,
    region}]``; the first party is ``handling``, the others ``handling_2`` …"""
    out = {k: v for k, v in data.items() if k != "handling_regions"}
    regions = data["handling_regions"]
    if isinstance(regions, list | tuple):
        out["handling"] = [{"role": "handling" if i == 0 else f"handling_{i + 1}",
                            "rule": "fixed", "region": r} for i, r in enumerate(regions)]
    out.setdefault("category", V1_CATEGORIES.get(str(data.get("department")), "general"))
    return out


def migrate_catalogue_v1(data: dict[str, Any]) -> dict[str, Any]:
    """The version 1 → 2 step for a whole file (kiosk/fleet/check.py's migrations)."""
    matters = data.get("matters")
    if not isinstance(matters, list):
        return data
    return {**data, "matters": [migrate_matter_v1(m) if isinstance(m, dict)
                                and "handling_regions" in m and "handling" not in m else m
                                for m in matters]}


class Catalogue(Strict):
    schema_version: Literal[1, 2]
    matters: tuple[Matter, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _no_old_keys_in_new(cls, data: Any) -> Any:
        """Version 2 says `handling`: a `handling_regions` there is a half-migrated file."""
        if isinstance(data, dict) and data.get("schema_version") == CATALOGUE_SCHEMA_VERSION:
            for matter in data.get("matters") or ():
                if isinstance(matter, dict) and "handling_regions" in matter:
                    raise ValueError(f"matter {matter.get('code')}: schema_version 2 uses "
                                     "`handling`, not `handling_regions`")
        return data

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
