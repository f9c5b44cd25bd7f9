"""Per application: which region handles each party of a matter, and how to reach it.

From the matter's ``handling`` parties, the identity document and the applicant's choices to
resolved parties — region code, department, route, key — asked of a region directory
(:class:`~kiosk.routing.lookup.RegionDirectoryLookup`: the signed one, or the settings'
routes). Two steps, so the screens can ask in between:

- :meth:`HandlingResolver.propose` says what the kiosk would pick for each party and whether
  the applicant must confirm or pick it (an address not resolved to a county, a party they
  choose);
- :meth:`HandlingResolver.resolve` takes the choices, fills the rest from the proposals and
  looks each region up. A region with no route or no valid key raises
  :class:`HandlingUnavailable` — before any document is taken.

The 户籍地 is the card's *address*: the ID number's first six digits are the place of first
registration and are never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from drivers.identity import Identity
from kiosk.catalogue.model import HandlingParty, HandlingRule, Matter
from kiosk.errors import SessionError
from kiosk.interaction.divisions import Divisions, UnknownDivision
from kiosk.interaction.place_names import place_name_en
from kiosk.routing.address import AddressMatch, AddressResolver, AddressUnreadable
from kiosk.routing.directory import route_name
from kiosk.routing.lookup import RegionDirectoryLookup, RegionRoute, RegionUnavailable
from kiosk.transfer.envelope import Recipient

PLACE = "{place}"


@dataclass(frozen=True)
class Proposal:
    """What the kiosk proposes for one party before the applicant confirms it."""

    party: HandlingParty
    region: str | None            # a county code, or None: nothing to propose
    guessed: bool = False         # from an address that did not reach a county on its own
    partial: str | None = None    # how far an unresolved address went (province or city)

    @property
    def needs_choice(self) -> bool:
        """Only the applicant can settle it: no proposal, or a guess (never taken silently)."""
        return self.region is None or self.guessed

    @property
    def asked(self) -> bool:
        """Shown to the applicant to confirm or change (one tap when it is right)."""
        return self.party.rule is not HandlingRule.FIXED


@dataclass(frozen=True)
class ResolvedParty:
    role: str
    label: str
    label_en: str
    rule: HandlingRule
    region: str                   # the applicant's county (or the fixed region)
    region_name: str              # 重庆市渝中区
    region_name_en: str
    department: str
    department_en: str
    route: RegionRoute

    @property
    def key_id(self) -> str:
        return self.route.key_id

    def explain(self) -> dict[str, str]:
        """One party as `kiosk route explain` prints it."""
        return {"role": self.role, "rule": self.rule.value, "region": self.region,
                "region_name": self.region_name, "department": self.department,
                "route": self.route.served_by, "fallback": self.route.fallback,
                "transport": self.route.transport, "key_id": self.key_id}


class BadRegionChoice(SessionError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en, code="bad_region_choice")


class RegionNotChosen(SessionError):
    def __init__(self, party: HandlingParty) -> None:
        super().__init__(f"请确认或选择{party.label}（到区县一级）",
                         f"Please confirm or choose the {party.label_en.lower()} "
                         "(down to the county)", code="region_not_chosen")
        self.role = party.role


class HandlingUnavailable(SessionError):
    """The matter cannot be taken for this applicant: a party's region cannot receive it."""

    def __init__(self, party: HandlingParty, names: tuple[str, str],
                 unavailable: RegionUnavailable, phone: str) -> None:
        region_name, region_name_en = names
        self.role, self.region, self.phone = party.role, unavailable.region, phone
        self.region_name, self.label = region_name, party.label
        self.reason = unavailable.reason
        call = f"，请拨打 {phone} 咨询" if phone else ""
        call_en = f"; please call {phone}" if phone else ""
        super().__init__(
            f"本机暂不能向{party.label}（{region_name}）递送材料：{unavailable.zh}{call}。"
            "请到人工窗口办理，或凭办事指引到办理地办理",
            f"This kiosk cannot send papers to the {party.label_en.lower()} ({region_name_en}) "
            f"now: {unavailable.en}{call_en}. Please go to a service window, or to the "
            "handling region with the guide slip", code="region_unavailable")


def recipients(parties: tuple[ResolvedParty, ...]) -> list[Recipient]:
    """One sealed copy per route (two parties served by one exchange share it), named by the
    route that delivers it: the outbox's region."""
    out: dict[str, Recipient] = {}
    for p in parties:
        name = route_name(p.route.served_by)
        out.setdefault(name, Recipient(name, p.route.recipient.public_key))
    return list(out.values())


class HandlingResolver:
    def __init__(self, directory: RegionDirectoryLookup, home_region: str,
                 divisions: Divisions | None = None) -> None:
        """``home_region``: this hall's county, the default 迁入地 / 受理地."""
        self.directory = directory
        self.home_region = home_region
        self.divisions = divisions or Divisions()
        self.addresses = AddressResolver(self.divisions)

    # --- proposing -----------------------------------------------------------------------
    def propose(self, matter: Matter, identity: Identity | None) -> tuple[Proposal, ...]:
        household = self._household(identity)
        return tuple(self._propose(p, household) for p in matter.handling)

    def _propose(self, party: HandlingParty, household: Proposal) -> Proposal:
        rule = party.rule
        if rule is HandlingRule.FIXED:
            assert party.region is not None
            return Proposal(party, party.region.code)
        if rule is HandlingRule.HOUSEHOLD:
            return Proposal(party, household.region, household.guessed, household.partial)
        if rule is HandlingRule.INSURED and not household.needs_choice:
            return Proposal(party, household.region)       # 参保地 is mostly the 户籍地
        if rule is HandlingRule.DESTINATION and self.is_county(self.home_region):
            return Proposal(party, self.home_region)
        return Proposal(party, None)

    def _household(self, identity: Identity | None) -> Proposal:
        placeholder = HandlingParty(role="household", rule=HandlingRule.HOUSEHOLD,
                                    department=PLACE)
        try:
            match = self.addresses.resolve(identity.address if identity else "")
        except AddressUnreadable:
            match = AddressMatch()
        if match.complete and match.code:
            return Proposal(placeholder, match.code)
        county = match.code if match.code and self.is_county(match.code) else None
        if county is None and len(match.candidates) == 1 and self.is_county(
                match.candidates[0].code):
            county = match.candidates[0].code       # one place fits: proposed, still asked
        return Proposal(placeholder, county, guessed=True, partial=match.code)

    # --- resolving -----------------------------------------------------------------------
    def resolve(self, matter: Matter, identity: Identity | None, choices: Mapping[str, str],
                at: datetime) -> tuple[ResolvedParty, ...]:
        """Every party resolved and routed, or a typed error: a choice that is no county
        (BadRegionChoice), a party still to settle (RegionNotChosen), a region that cannot
        receive it now (HandlingUnavailable)."""
        proposals = self.propose(matter, identity)
        roles = {p.party.role for p in proposals}
        unknown = sorted(set(choices) - roles)
        if unknown:
            listed = sorted(roles)
            raise BadRegionChoice(f"该事项没有办理方 {unknown[0]}（可选：{'、'.join(listed)}）",
                                  f"The matter has no party {unknown[0]} "
                                  f"(one of: {', '.join(listed)})")
        parties = tuple(self._resolve(matter, p, choices.get(p.party.role), at)
                        for p in proposals)
        regions = [p.region for p in parties]
        if len(set(regions)) != len(regions):   # 迁出地 = 迁入地: no cross-region matter
            raise BadRegionChoice("各办理方不能是同一区县，请重新选择",
                                  "The handling parties cannot be the same county: please "
                                  "choose again")
        return parties

    def _resolve(self, matter: Matter, proposal: Proposal, chosen: str | None,
                 at: datetime) -> ResolvedParty:
        party = proposal.party
        if chosen is not None:
            region = self._checked_choice(party, chosen)
        elif proposal.needs_choice:
            raise RegionNotChosen(party)
        else:
            assert proposal.region is not None
            region = proposal.region
        name, name_en = self.names(party, region)
        answer = self.directory.lookup(region, matter.category, at)
        if isinstance(answer, RegionUnavailable):
            raise HandlingUnavailable(party, (name, name_en), answer,
                                      answer.phone or matter.consultation_phone)
        department, department_en = self._department(party, answer, name, name_en)
        return ResolvedParty(party.role, party.label, party.label_en, party.rule, region, name,
                             name_en, department, department_en, answer)

    def _checked_choice(self, party: HandlingParty, chosen: str) -> str:
        if party.rule is HandlingRule.FIXED:
            raise BadRegionChoice(f"{party.label}是固定的，不能选择",
                                  f"The {party.label_en.lower()} is fixed: it cannot be chosen")
        if not self.is_county(chosen):
            shown = chosen[:12] if chosen.isprintable() else "?"
            raise BadRegionChoice(f"“{shown}”不是区县一级的行政区划代码",
                                  f"'{shown}' is not a county-level division code")
        return chosen

    def is_county(self, code: str) -> bool:
        """A known division with nothing below it (a district, county, or a city without
        districts such as 东莞市)."""
        if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
            return False
        try:
            division = self.divisions.get(code)
        except UnknownDivision:
            return False
        return division.level == "district" or not self.divisions.children(code)

    def names(self, party: HandlingParty, region: str) -> tuple[str, str]:
        if party.region is not None and party.region.code == region:
            fixed = party.region
            return fixed.name, fixed.name_en or self._name_en(region, fixed.name)
        return self.divisions.full_name(region), self._name_en(region, region)

    def _name_en(self, region: str, fallback: str) -> str:
        try:
            return place_name_en(self.divisions.path(region))
        except UnknownDivision:          # a code newer than the division data
            return fallback

    @staticmethod
    def _department(party: HandlingParty, route: RegionRoute, name: str,
                    name_en: str) -> tuple[str, str]:
        """A fixed party's named department; else the directory's for the category; else
        the catalogue's pattern with the place filled in."""
        if party.region is not None:
            return party.region.department, party.region.department_en
        if route.department:
            return route.department, ""
        return (party.department.replace(PLACE, name),
                party.department_en.replace(PLACE, name_en))
