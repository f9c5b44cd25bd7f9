"""What the region directory answers for one handling region, and the interface it answers by.

Resolution (kiosk/routing, per application) finds *which* region handles a party — the
applicant's 户籍地 county, their 参保地, the property's place. The directory (signed, from the
fleet; or the routes in the kiosk's own settings) says *how to reach it*: the department for
the matter's category, the endpoint and transport, the public key valid now, the phone for
一次性告知. A region without an entry of its own is served by its city, its province, or an
exchange route, and the answer says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from kiosk.transfer.envelope import Recipient

Fallback = Literal["own", "city", "province", "exchange"]
Transport = Literal["tus", "directory"]


@dataclass(frozen=True)
class RegionRoute:
    """How to reach the region that handles one party of an application."""

    region: str            # the 6-digit code asked for (e.g. the applicant's county)
    served_by: str         # the entry that answered: a 6-digit code, or "exchange:<name>"
    fallback: Fallback     # "own" when the region has an entry of its own
    department: str        # the handling department for the matter's category
    phone: str             # the contact phone for 一次性告知 ("" when the entry gives none)
    transport: Transport
    endpoint: str          # tus: the upload URL; directory transport: ""
    key_id: str            # which of the entry's keys seals the package
    recipient: Recipient   # that key, for the kiosk's crypto suite


@dataclass(frozen=True)
class RegionUnavailable:
    """The region cannot receive a package now: the matter is unavailable for this applicant."""

    region: str
    reason: Literal["no_route", "no_valid_key", "revoked"]
    zh: str
    en: str
    phone: str             # the region's phone when the directory knows it, else ""


class RegionDirectoryLookup(Protocol):
    """Anything that answers for a region: the signed directory, or the settings' routes."""

    def lookup(self, region: str, category: str, at: datetime
               ) -> RegionRoute | RegionUnavailable:
        """``category``: the matter's category key (``[a-z_]+``, e.g. ``hukou``)."""
        ...
