"""What the citizen confirmed, frozen: the session yields an :class:`Application` when the
citizen confirms (or a :class:`Correction` when the notice is issued), and everything after
it — numbers aside — is a function of that value: receipt, transfer slips, manifest, ledger
row. Nothing downstream reads the mutable session again."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.barcode import Barcode
from drivers.camera import PageQuality
from drivers.identity import Identity
from kiosk.assist import AssistRecord
from kiosk.catalogue.model import DeliveryOption, Matter, Situation
from kiosk.checker import AcceptedItem, Problem
from kiosk.documents.model import Applicant
from kiosk.face_step import FaceCheck
from kiosk.routing.resolve import ResolvedParty


@dataclass(frozen=True)
class StoredPage:
    """A captured page: its image sealed in the session's encrypted store under ``ref``."""

    ref: str
    width: int
    height: int
    dpi: int
    quality: PageQuality
    barcodes: tuple[Barcode, ...]


@dataclass(frozen=True)
class Contact:
    phone: str
    address: str = ""
    postcode: str = ""
    email: str = ""


@dataclass(frozen=True)
class CapturedMaterial:
    """One accepted requirement with the pages captured for it (none if deferred)."""

    sequence: int
    item: AcceptedItem
    pages: tuple[StoredPage, ...]


@dataclass(frozen=True)
class Application:
    matter: Matter
    situation: Situation
    identity: Identity
    contact: Contact
    delivery: DeliveryOption
    materials: tuple[CapturedMaterial, ...]
    commitments: tuple[str, ...]            # 容缺 requirement ids the applicant signed for
    assist: AssistRecord | None = None      # staff mode: who assisted, originals, 容缺
    mandate: tuple[StoredPage, ...] = ()    # 代办: the 委托书's pages
    parties: tuple[ResolvedParty, ...] = ()  # the handling regions, resolved for this applicant
    face: FaceCheck | None = None           # 人证核验 (kiosk/face_step.py); None: not asked

    def __repr__(self) -> str:  # why: holds the applicant's identity; never in a log line
        return f"Application(matter={self.matter.code}, <redacted>)"

    @property
    def applicant(self) -> Applicant:
        c = self.contact
        return Applicant(self.identity.name, c.phone, c.address or self.identity.address,
                         c.postcode, c.email)

    @property
    def items(self) -> tuple[AcceptedItem, ...]:
        return tuple(m.item for m in self.materials)

    @property
    def copies(self) -> int:
        return sum(i.material.count for i in self.items)

    @property
    def regions(self) -> tuple[str, ...]:
        """Each party's region (the applicant's county, or the fixed one): one transfer
        number and one transfer slip each."""
        return tuple(p.region for p in self.parties)


@dataclass(frozen=True)
class Correction:
    """An application that cannot be taken yet: what the correction notice is made of."""

    matter: Matter
    identity: Identity
    contact: Contact | None
    items: tuple[AcceptedItem, ...]         # what was handed in and accepted
    problems: tuple[Problem, ...]           # every item missing or wrong, all at once
    assist: AssistRecord | None = None      # the staff member names the notice's 经办人
    parties: tuple[ResolvedParty, ...] = ()  # where it would have gone (the ledger names it)

    def __repr__(self) -> str:
        return f"Correction(matter={self.matter.code}, <redacted>)"

    @property
    def copies(self) -> int:
        return sum(i.material.count for i in self.items)
