"""The package manifest as a typed model: what a kiosk writes and what a handling region
reads, field for field as ``schemas/package-manifest.schema.json`` (version 1.0) says — the
tests check the two against each other. Unknown keys are refused."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_VERSION = "1.0"
CASE_NUMBER = r"^\d{6}-\d{4}-\d{6}-\d{4}-\d$"
TRANSFER_NUMBER = r"^XT\d{28}$"
REGION_CODE = r"^\d{6}$"
SHA256 = r"^[0-9a-f]{64}$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(_Part):
    org_code: str
    department: str
    region_code: str = Field(pattern=REGION_CODE)


class Receiver(_Part):
    region_code: str = Field(pattern=REGION_CODE)
    region_name: str
    department: str
    org_code: str
    transfer_number: str = Field(pattern=TRANSFER_NUMBER)


class SituationRef(_Part):
    code: str
    name: str


class MatterRef(_Part):
    code: str
    name: str
    mode: Literal["全程网办", "异地代收代办", "多地联办"]
    scope: str
    case_type: Literal["即办件", "承诺件", "联办件"]
    situation: SituationRef


class ManifestApplicant(_Part):
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
    verified_by: str = "id_card_read"       # how identity was checked at the kiosk


class DeliveryRef(_Part):
    method: Literal["窗口自取", "邮寄", "电子送达"]
    address: str = ""


class Commitment(_Part):
    requirement_id: str
    text: str


class Header(_Part):
    """Who sends what to whom, for whom: the part of the manifest that comes from the
    application; files, hashes, times and the seal are added when the package is written."""

    case_number: str = Field(pattern=CASE_NUMBER)
    kiosk_id: str = Field(pattern=r"^\d{6}-\d{4}$")
    sender: Sender
    receivers: tuple[Receiver, ...] = Field(min_length=1)
    matter: MatterRef
    applicant: ManifestApplicant
    delivery: DeliveryRef
    commitments: tuple[Commitment, ...] = ()


class MaterialEntry(_Part):
    sequence: int = Field(ge=1)
    requirement_id: str
    material_id: str
    name: str
    category: str
    original_or_copy: Literal["原件", "复印件", "原件和复印件"]
    pages: int = Field(ge=0)
    deferred: bool
    evidence_grade: Literal["A", "B", "C", "D"]
    file: str | None = None                 # none for a 容缺 item deferred by commitment
    format: Literal["application/pdf"] | None = None
    sha256: str | None = Field(None, pattern=SHA256)


class DocumentEntry(_Part):
    kind: Literal["receipt", "transfer_slip"]
    region: str | None = None
    file: str
    sha256: str = Field(pattern=SHA256)


class Times(_Part):
    received_at: str                        # ISO 8601 with offset, to the second
    transfer_deadline: str


class Seal(_Part):
    suite: Literal["x25519-chacha20", "sm2-sm4"]
    kiosk_id: str
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")


class Manifest(Header):
    schema_version: Literal["1.0"] = "1.0"
    package_id: str = Field(pattern=UUID)
    materials: tuple[MaterialEntry, ...]
    documents: tuple[DocumentEntry, ...]
    times: Times
    seal: Seal

    def to_json(self) -> bytes:
        """The bytes in the package: the schema's field order, absent optionals left out."""
        fields = ("schema_version", "package_id", *Header.model_fields, "materials",
                  "documents", "times", "seal")
        data = self.model_dump(mode="json", exclude_none=True)
        return json.dumps({f: data[f] for f in fields}, ensure_ascii=False,
                          indent=2).encode()
