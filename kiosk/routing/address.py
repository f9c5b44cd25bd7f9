"""From the address printed on an identity document to a GB/T 2260 county code.

The 户籍地 decides where a 户籍类 matter is handled (issue 23). The card's 住址 is written
from the household register as 省 → 市 → 县 → the rest, in full official names, so the
parse walks that tree from the start of the text and matches only names that belong under
what it has already found: a street called 朝阳门 never reads as 朝阳区, and a 鼓楼区 is the
one of the city before it. Shortened names (凉山 for 凉山彝族自治州, 内蒙古) count only when
the next level confirms them.

What it does not do: guess. A card printed before a division was renamed or merged (襄樊市,
宣武区, 广元市市中区) resolves only as far as the names still exist, and ``complete`` stays
False — the applicant confirms or picks the rest. The ID number's first six digits are the
place of first registration, not the current 户籍, and are never used here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kiosk.errors import KioskError
from kiosk.interaction.divisions import Division, Divisions

MAX_ADDRESS_CHARS = 200        # a card holds 70; anything longer is not an address
_ETHNIC_AUTONOMY = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,4}族)*自治(?:州|县|旗|区)$")
_CITY_LIKE = re.compile(r"[\u4e00-\u9fff]{2,7}?(?:市|地区|州|盟)")
_SUFFIXES = ("特别行政区", "自治区", "地区", "省", "市", "盟")


class AddressUnreadable(KioskError):
    code = "address_unreadable"

    def __init__(self) -> None:
        super().__init__("证件上的住址无法识别", "The address on the document cannot be read")


@dataclass(frozen=True)
class AddressMatch:
    """How far the address text went down the division tree."""

    path: tuple[Division, ...] = ()             # province → city → county, as far as found
    complete: bool = False                      # down to county level (or nothing below it)
    candidates: tuple[Division, ...] = ()       # several places fit a text that skips levels

    @property
    def code(self) -> str | None:
        return self.path[-1].code if self.path else None


@dataclass
class _Names:
    """A parent's children by every name the parse accepts for them, by first character:
    a walk looks only at the names that can start where it stands."""

    by_first: dict[str, list[tuple[str, Division, bool]]] = field(default_factory=dict)

    def add(self, name: str, division: Division, full: bool) -> None:
        self.by_first.setdefault(name[0], []).append((name, division, full))

    def starting(self, text: str, at: int) -> list[tuple[str, Division, bool]]:
        """(name, division, full) for every name at ``at``; short names need the next
        level to agree."""
        if at >= len(text):
            return []
        return [n for n in self.by_first.get(text[at], ()) if text.startswith(n[0], at)]


class AddressResolver:
    """Resolves addresses against one division tree; indexes are built on first use."""

    def __init__(self, divisions: Divisions) -> None:
        self.divisions = divisions
        self._under: dict[str, _Names] = {}
        self._anywhere = _Names()                         # full city and county names
        self._counties: dict[str, _Names] = {}            # a province's, under its cities

    def resolve(self, text: str) -> AddressMatch:
        if not isinstance(text, str) or len(text) > MAX_ADDRESS_CHARS:
            raise AddressUnreadable()
        address = "".join(unicodedata.normalize("NFKC", text).split())
        self._index()
        path = self._walk(address, 0, "")
        if path:
            return AddressMatch(tuple(path), self._complete(path) and spelled_out(path, address))
        return self._without_province(address)

    # --- the walk ------------------------------------------------------------------------
    def _walk(self, text: str, at: int, parent: str) -> list[Division]:
        """The longest chain of names from ``at`` down, each a child of the one before."""
        names = self._under.get(parent)
        if names is None:
            return []
        best: list[Division] = []
        for name, division, confirmed in names.starting(text, at):
            below = self._walk(text, at + len(name), division.code)
            if not confirmed and not below and self.divisions.children(division.code):
                continue                                   # a short name nobody confirmed
            chain = [division, *below]
            if len(chain) > len(best):
                best = chain
        return best or self._skipping_a_level(text, at, parent)

    def _skipping_a_level(self, text: str, at: int, parent: str) -> list[Division]:
        """四川省利州区… or 湖北省襄樊市樊城区 (a city since renamed): the county straight
        after the province, or after a city name the tree no longer has — when only one of
        the province's counties fits. A guess: the city is not spelt out, so it is asked."""
        if not parent or self.divisions.get(parent).level != "province":
            return []
        old_city = _CITY_LIKE.match(text, at)
        for start in (at, old_city.end() if old_city else None):
            if start is None:
                continue
            found = [d for _, d, full in self._counties[parent].starting(text, start) if full]
            if len(found) == 1:
                return [self.divisions.path(found[0].code)[1], found[0]]
        return []

    def _without_province(self, text: str) -> AddressMatch:
        """广元市利州区…: a text that starts below the province, placed when it is unique."""
        chains = [self.divisions.path(d.code) + self._walk(text, len(name), d.code)
                  for name, d, _ in self._anywhere.starting(text, 0)]
        if len(chains) == 1:
            return AddressMatch(tuple(chains[0]), self._complete(chains[0]))
        return AddressMatch(candidates=tuple(c[-1] for c in chains))

    def _complete(self, path: list[Division]) -> bool:
        return path[-1].level == "district" or not self.divisions.children(path[-1].code)

    # --- indexes -------------------------------------------------------------------------
    def _index(self) -> None:
        if self._under:
            return
        self._add_children("", self.divisions.provinces())
        for province in self.divisions.provinces():
            cities = self.divisions.children(province.code)
            self._add_children(province.code, cities)
            counties = self._counties.setdefault(province.code, _Names())
            for city in cities:
                self._add_children(city.code, self.divisions.children(city.code))
                self._anywhere.add(city.name, city, True)
                for county in self.divisions.children(city.code):
                    self._anywhere.add(county.name, county, True)
                    counties.add(county.name, county, True)

    def _add_children(self, parent: str, children: list[Division]) -> None:
        names = self._under.setdefault(parent, _Names())
        full = {child.name for child in children}
        for child in children:
            names.add(child.name, child, True)
            for short in short_names(child):
                if short not in full:
                    names.add(short, child, False)


def spelled_out(path: list[Division], text: str) -> bool:
    """Each level named in the text, in order: nothing in the path was inferred."""
    at = 0
    for division in path:
        names = [division.name, *short_names(division)]
        hit = next((text.find(n, at) for n in names if text.find(n, at) >= 0), -1)
        if hit < 0:
            return False
        at = hit + 1
    return True


def short_names(division: Division) -> tuple[str, ...]:
    """凉山彝族自治州 → 凉山, 凉山州; 内蒙古自治区 → 内蒙古; 广元市 → 广元; none when too
    short to trust. Counties keep their full names: 朝阳 alone is a gate, a street and two
    districts."""
    if division.level == "district":
        return ()
    name = division.name
    autonomy = _ETHNIC_AUTONOMY.match(name)
    if autonomy:
        name = autonomy.group(1)
    else:
        name = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s)), name)
    name = re.sub(r"(壮族|回族|维吾尔)$", "", name)
    if len(name) < 2 or name == division.name:
        return ()
    return (name, name + "州") if division.name.endswith("自治州") else (name,)
