"""The package manifest as one typed model: what a kiosk writes (:meth:`Manifest.to_json`)
and what a handling region reads (:func:`parse_manifest`).

It follows ``schemas/package-manifest.schema.json`` field for field (the tests walk both side
by side): the same required keys, no unknown keys, the same enums and patterns (``[0-9]``, as
the schema's ECMA-262 ``\\d`` means), and strict types — no "1" for 1, no true for 1, no null
anywhere (an optional key is absent). Where the schema says only "uuid" or "date-time" the
model asks for the form the kiosk writes (a canonical lower-case uuid; an ISO time whose
offset kiosks leave out today). jsonschema is a development tool only; this is what the
product checks with.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from kiosk.untrusted import Untrusted, loads

MANIFEST_VERSION: Literal["1.0"] = "1.0"
OriginalOrCopy = Literal["原件", "复印件", "原件和复印件"]
Suite = Literal["x25519-chacha20", "sm2-sm4"]
REGION_CODE = r"^[0-9]{6}$"
KIOSK_ID = r"^[0-9]{6}-[0-9]{4}$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
KEY_ID = r"^[0-9a-f]{16}$"
# RFC 3339, except that the offset may be missing: kiosks write local time without one
# (kiosk/service.py's clock is naive), and a region must still open those packages
_DATE_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
              r"(Z|[+-][0-9]{2}:[0-9]{2})?$")


def _real_time(value: str) -> str:
    datetime.fromisoformat(value)        # a pattern lets 2025-13-45 through; this does not
    return value


RegionCode = Annotated[str, StringConstraints(pattern=REGION_CODE)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DateTime = Annotated[str, StringConstraints(pattern=_DATE_TIME), AfterValidator(_real_time)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_null(cls, data: Any) -> Any:
        """The schema allows null nowhere: an optional key is absent, never null."""
        if isinstance(data, dict) and (nulls := [str(k)[:40] for k, v in data.items()
                                                 if v is None]):
            raise ValueError(f"null is not allowed ({', '.join(nulls[:5])})")
        return data


class Sender(_Strict):
    org_code: str
    department: str
    region_code: RegionCode


class Receiver(_Strict):
    region_code: RegionCode
    region_name: str
    department: str
    org_code: str
    transfer_number: Annotated[str, StringConstraints(pattern=r"^XT[0-9]{28}$")]


class SituationRef(_Strict):
    code: str
    name: str


class MatterRef(_Strict):
    code: str
    name: str
    mode: Literal["全程网办", "异地代收代办", "多地联办"]
    scope: str
    case_type: Literal["即办件", "承诺件", "联办件"]
    situation: SituationRef


class FaceCheck(_Strict):
    """人证核验 at the kiosk (docs/face.md): evidence, not images — no frame, no descriptor.
    ``method``: the matcher (``dlib-resnet-v1``), a vendor module's name, or ``staff`` for a
    guide's check by sight; ``liveness``: ``passed`` or the last try's reason (``timeout``,
    ``wrong_move``, ``still``, ...), ``not_run`` when staff checked; score and threshold are
    absent when no matcher decided."""

    method: str
    outcome: Literal["match", "staff_verified", "no_photo"]
    photo_source: Literal["chip", "card_module", "none"]
    liveness: str
    tries: Annotated[int, Field(ge=0, le=3)]
    score: float | None = None
    threshold: float | None = None
    checked_at: DateTime


class ManifestApplicant(_Strict):
    card_type: Literal["resident", "hmt_residence", "foreigner_2017", "foreigner_2023", "emrtd"]
    name: str
    name_en: str = ""
    id_number: str
    document_number: str = ""
    nationality: str = ""
    phone: str
    address: str = ""
    postcode: str = ""
    email: str = ""
    verified_by: str = ""                   # how identity was checked at the kiosk
    face_check: FaceCheck | None = None     # absent where the matter asks no 人证核验


class DeliveryRef(_Strict):
    method: Literal["窗口自取", "邮寄", "电子送达"]
    address: str = ""


class Commitment(_Strict):
    requirement_id: str
    text: str


class AgentRef(_Strict):
    """代办: the agent's card, read at the kiosk like the applicant's."""

    card_type: Literal["resident", "hmt_residence", "foreigner_2017", "foreigner_2023", "emrtd"]
    name: str
    id_number: str
    verified_by: str = ""


class OriginalCheckRef(_Strict):
    """原件核验: who compared which material's original with its scan, and when."""

    requirement_id: str
    staff_id: str
    staff_name: str
    at: DateTime
    note: str = ""


class RongqueRef(_Strict):
    """容缺受理: who approved it, the 补交 deadline, the attestation and the commitment."""

    requirement_id: str
    staff_id: str
    staff_name: str
    approved_at: DateTime
    deadline: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    attestation: str
    committed_at: DateTime


class Assistance(_Strict):
    """A case a hall staff member assisted (帮办) or an agent applied for (代办)."""

    kind: Literal["帮办", "代办"]
    ref: Annotated[str, StringConstraints(pattern=r"^[a-z]{10}$")]   # as in the audit log
    staff_id: str
    staff_name: str
    started_at: DateTime
    agent: AgentRef | None = None
    original_checks: list[OriginalCheckRef] = []
    rongque: list[RongqueRef] = []


class MaterialEntry(_Strict):
    sequence: Annotated[int, Field(ge=1)]
    requirement_id: str
    material_id: str
    name: str
    category: str
    original_or_copy: OriginalOrCopy
    pages: Annotated[int, Field(ge=0)]
    deferred: bool
    evidence_grade: Literal["A", "B", "C", "D"]
    file: str | None = None                 # absent for a 容缺 item deferred by commitment
    format: Literal["application/pdf"] | None = None
    sha256: Sha256 | None = None


class DocumentEntry(_Strict):
    kind: Literal["receipt", "transfer_slip"]
    region: str | None = None               # a transfer slip's region
    file: str
    sha256: Sha256


class Times(_Strict):
    received_at: DateTime
    transfer_deadline: DateTime


class Seal(_Strict):
    suite: Suite
    kiosk_id: str
    key_id: Annotated[str, StringConstraints(pattern=KEY_ID)]


class Header(_Strict):
    """Who sends what to whom, for whom: the part of the manifest that comes from the
    application; files, hashes, times and the seal are added when the package is written."""

    case_number: Annotated[str, StringConstraints(
        pattern=r"^[0-9]{6}-[0-9]{4}-[0-9]{6}-[0-9]{4}-[0-9]$")]
    kiosk_id: Annotated[str, StringConstraints(pattern=KIOSK_ID)]
    sender: Sender
    receivers: Annotated[list[Receiver], Field(min_length=1)]
    matter: MatterRef
    applicant: ManifestApplicant
    delivery: DeliveryRef
    commitments: list[Commitment] = []
    assistance: Assistance | None = None      # staff mode (issue 21); absent when unassisted
    # 补正 (issue 24): a follow-up package of the same case; all absent in the original
    version: Annotated[int, Field(ge=2)] | None = None
    correction_of: Annotated[str, StringConstraints(pattern=UUID)] | None = None
    notice_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    correction_items: list[Annotated[str, StringConstraints(max_length=200)]] | None = None


class Manifest(Header):
    schema_version: Literal["1.0"]
    package_id: Annotated[str, StringConstraints(pattern=UUID)]
    materials: list[MaterialEntry]
    documents: list[DocumentEntry]
    times: Times
    seal: Seal

    def to_json(self) -> bytes:
        """The bytes in the package: the schema's field order, absent optionals left out."""
        fields = ("schema_version", "package_id", *Header.model_fields, "materials",
                  "documents", "times", "seal")
        data = self.model_dump(mode="json", exclude_none=True)
        return json.dumps({f: data[f] for f in fields if f in data}, ensure_ascii=False,
                          indent=2).encode()


def parse_manifest(raw: bytes) -> tuple[dict[str, Any], Manifest]:
    """The manifest as sent (a dict) and as checked; else Untrusted(invalid_manifest). The
    message names where and what (bounded), never the value (it may be the applicant's)."""
    data = loads(raw, "manifest.json")
    try:
        return data, Manifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                             for e in exc.errors(include_url=False)[:5])[:600]
        raise Untrusted(f"申请包清单不符合格式：{problems}",
                        f"manifest.json breaks the manifest schema: {problems}",
                        code="invalid_manifest") from None
