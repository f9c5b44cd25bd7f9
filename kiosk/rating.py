"""好差评: one rating per transaction (GB/T 39734-2020), and for a bad one, why.

The record is plain data with stable codes, so it can be kept with the case and uploaded to a
好差评 interface later (each endpoint maps the level to its own code table: some count 1 as
非常满意, some as 非常不满意). The reason codes follow the national offline-channel indicators
(服务效率, 服务水平, 服务态度) and the online ones a self-service terminal shares (办事指南精确度,
办事便捷度, 平台操作性); the screen shows their words, in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

COMMENT_MAX = 200        # characters of the citizen's own words kept with a rating


class Rating(StrEnum):   # 好差评, GB/T 39734-2020: five levels, one rating per transaction
    VERY_SATISFIED = "非常满意"
    SATISFIED = "满意"
    BASICALLY_SATISFIED = "基本满意"
    DISSATISFIED = "不满意"
    VERY_DISSATISFIED = "非常不满意"

    @property
    def is_bad(self) -> bool:
        """不满意 and 非常不满意: the ones 好差评 follows up (reason, call back)."""
        return self in (Rating.DISSATISFIED, Rating.VERY_DISSATISFIED)


class RatingReason(StrEnum):
    """Why a citizen was not satisfied (any number of them)."""

    GUIDE_UNCLEAR = "guide_unclear"            # 办事指南精确度
    TOO_MANY_MATERIALS = "too_many_materials"  # 办事便捷度: materials asked for, again
    HARD_TO_USE = "hard_to_use"                # 平台操作性
    DEVICE_FAULT = "device_fault"              # reader, camera or printer did not work
    TOO_SLOW = "too_slow"                      # 服务效率
    NO_HELP = "no_help"                        # 服务态度 / 服务水平: help asked for, none came


@dataclass(frozen=True)
class RatingRecord:
    """A citizen's rating of one transaction. ``staff_may_contact`` is None until asked."""

    level: Rating
    reasons: tuple[RatingReason, ...] = ()
    comment: str = ""
    staff_may_contact: bool | None = None

    def explained(self, reasons: tuple[RatingReason, ...], comment: str,
                  staff_may_contact: bool | None) -> RatingRecord:
        """The same rating with its reasons, in the order given, each once; the comment
        trimmed and bounded."""
        ordered = tuple(dict.fromkeys(reasons))
        return RatingRecord(self.level, ordered, comment.strip()[:COMMENT_MAX],
                            staff_may_contact)
