"""The code tables an evaluation endpoint speaks. Real 好差评 interfaces disagree: GB/T
39046-2020 codes 满意度 1 = 非常满意 … 5 = 非常不满意 and 办件类型 1 = 即办件, 2 = 承诺件; some
provincial interfaces code the reverse. A value is always mapped through the endpoint's table,
never passed through: a value a table lacks stops that record (``Unmapped``), it is not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.catalogue.model import CaseType
from kiosk.rating import Rating


class Unmapped(Exception):
    def __init__(self, table: str, field: str, value: str) -> None:
        super().__init__(f"{table}: no code for {field}={value}")
        self.table, self.field, self.value = table, field, value


@dataclass(frozen=True)
class CodeTable:
    name: str
    satisfaction: dict[Rating, str]
    case_type: dict[CaseType, str]

    def code_satisfaction(self, level: Rating) -> str:
        if level not in self.satisfaction:
            raise Unmapped(self.name, "satisfaction", level.value)
        return self.satisfaction[level]

    def code_case_type(self, case_type: CaseType) -> str:
        if case_type not in self.case_type:
            raise Unmapped(self.name, "case_type", case_type.value)
        return self.case_type[case_type]


_LEVELS = (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED,
           Rating.DISSATISFIED, Rating.VERY_DISSATISFIED)

TABLES = {
    # GB/T 39046-2020 A.8 满意度 and A.6 办件类型 (a 联办件 has no code there: unmapped)
    "gbt39046": CodeTable("gbt39046",
                          {level: str(n) for n, level in enumerate(_LEVELS, start=1)},
                          {CaseType.IMMEDIATE: "1", CaseType.PROMISED: "2"}),
    # the provincial interfaces that count up from the worst and put 承诺件 first
    "reversed": CodeTable("reversed",
                          {level: str(n) for n, level in enumerate(reversed(_LEVELS), start=1)},
                          {CaseType.PROMISED: "1", CaseType.IMMEDIATE: "2"}),
}
