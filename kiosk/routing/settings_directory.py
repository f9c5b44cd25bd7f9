"""The region directory answered from the kiosk's own settings (``[transfer.routes]``).

Today's configurations keep working, and everything per application runs before the signed
region directory arrives: a region without a route of its own is served by its city's, then
its province's (a province may run one intake for all its counties). The settings carry no
departments or phones, so the catalogue names the department and the matter's consultation
phone stands in for the region's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.routing.fallback import fallback_chain
from kiosk.routing.lookup import Fallback, RegionDirectoryLookup, RegionRoute, RegionUnavailable
from kiosk.settings import Transfer
from kiosk.transfer.routing import Routing
from kiosk.transfer.suites import key_id


class SettingsDirectory:
    """:class:`~kiosk.routing.lookup.RegionDirectoryLookup` over the settings' routes."""

    def __init__(self, routing: Routing, transfer: Transfer) -> None:
        """``routing``: the routes' keys, loaded once (kiosk/transfer/routing.py)."""
        self.routing = routing
        self.routes = transfer.routes

    def lookup(self, region: str, category: str, at: datetime
               ) -> RegionRoute | RegionUnavailable:
        for fallback, code in fallback_chain(region):
            if code in self.routing.regions:
                return self._route(region, code, fallback)
        return RegionUnavailable(region, "no_route", "本机没有通往该地区的材料递送线路",
                                 "this kiosk has no route to the region", "")

    def _route(self, region: str, code: str, fallback: Fallback) -> RegionRoute:
        recipient = self.routing.recipient(code)
        route = self.routes[code]
        return RegionRoute(region=region, served_by=code, fallback=fallback, department="",
                           phone="", transport=route.transport, endpoint=route.endpoint,
                           key_id=key_id(recipient.public_key), recipient=recipient)


class SignedFirst:
    """The fleet's signed directory when the kiosk has one, else the settings' routes.

    Asked at every lookup, not once: a directory arriving from the fleet (or replaced by a
    newer one) answers the next applicant without rebuilding the kiosk. When a signed
    directory is present it is authoritative — its "no route" is final (see
    docs/region-directory.md): a kiosk must not route around what the operator published.
    """

    def __init__(self, signed: Callable[[], RegionDirectoryLookup | None],
                 settings: RegionDirectoryLookup) -> None:
        self.signed, self.settings = signed, settings

    def lookup(self, region: str, category: str, at: datetime
               ) -> RegionRoute | RegionUnavailable:
        return (self.signed() or self.settings).lookup(region, category, at)
