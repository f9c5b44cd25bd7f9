"""The materials check (形式审查): a pure function from a situation and what was captured
to "accepted" or the COMPLETE list of what is missing or wrong (一次性告知)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from enum import StrEnum

from drivers.camera import PageQuality
from kiosk.catalogue.model import (
    AlternativeGroup,
    Material,
    Necessity,
    SingleRequirement,
    Situation,
)

Requirement = SingleRequirement | AlternativeGroup

REASON_ZH = {"blurred": "模糊", "glare": "反光", "no_page": "未找到页面", "outside": "未拍全",
             "too_dark": "过暗", "too_small": "过小", "skewed": "倾斜过大"}


class ProblemKind(StrEnum):
    MISSING = "missing"
    TOO_FEW_PAGES = "too_few_pages"
    TOO_MANY_PAGES = "too_many_pages"
    UNUSABLE_PAGES = "unusable_pages"
    UNKNOWN_MATERIAL = "unknown_material"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    requirement_id: str
    zh: str
    en: str


@dataclass(frozen=True)
class AcceptedItem:
    requirement_id: str
    material: Material
    pages: int
    deferred: bool = False          # 容缺: accepted on the applicant's commitment


@dataclass(frozen=True)
class CheckResult:
    accepted: bool
    problems: tuple[Problem, ...]
    items: tuple[AcceptedItem, ...]

    @property
    def deferred(self) -> tuple[AcceptedItem, ...]:
        return tuple(i for i in self.items if i.deferred)


def check(situation: Situation, captured: Mapping[str, Sequence[PageQuality]],
          commitments: Set[str] = frozenset(), approved: Set[str] = frozenset()) -> CheckResult:
    """``captured`` maps a material id to its pages' quality; ``commitments`` holds the ids
    of 容缺 requirements the applicant has signed a commitment for; ``approved`` the ids of
    可容缺 (``rongque``) requirements a window staff member approved (both are needed)."""
    problems: list[Problem] = []
    items: list[AcceptedItem] = []
    for req in situation.materials:
        deferrable = req.necessity is Necessity.DEFERRABLE or (
            req.rongque is not None and req.id in approved)
        outcome = _check_requirement(req, captured, commitments if deferrable else frozenset())
        if isinstance(outcome, AcceptedItem):
            items.append(outcome)
        elif outcome is not None:
            problems.extend(outcome)
    problems.extend(_unknown(situation, captured))
    return CheckResult(not problems, tuple(problems), tuple(items))


def _check_requirement(req: Requirement, captured: Mapping[str, Sequence[PageQuality]],
                       commitments: Set[str]) -> AcceptedItem | list[Problem] | None:
    present = [m for m in req.options if captured.get(m.id)]
    if not present:
        if req.necessity is Necessity.OPTIONAL:
            return None
        if req.id in commitments:     # only a deferrable requirement's id reaches here
            return AcceptedItem(req.id, req.options[0], 0, deferred=True)
        return [_missing(req)]
    first_problems: list[Problem] | None = None
    for material in present:   # any one good option meets an either/or requirement
        pages = captured[material.id]
        found = _page_problems(req.id, material, pages)
        if not found:
            return AcceptedItem(req.id, material, len(pages))
        first_problems = first_problems or found
    return first_problems


def _missing(req: Requirement) -> Problem:
    detail = _form_zh(req)
    if isinstance(req, AlternativeGroup) and req.name:   # say which documents would do
        detail = f"{' 或 '.join(m.name for m in req.options)}；{detail}"
    what = f"{req.label}（{detail}）"
    zh, en = f"{what}：未提交", f"{req.label_en}: not submitted"
    if req.necessity is Necessity.DEFERRABLE:
        zh += "（可签署容缺承诺后先行受理）"
        en += " (may be deferred by signing a commitment)"
    elif req.rongque is not None:
        zh += "（可请窗口工作人员审批容缺受理）"
        en += " (a window staff member may accept it as 容缺)"
    return Problem(ProblemKind.MISSING, req.id, zh, en)


def _form_zh(req: Requirement) -> str:
    kinds = {m.original.value for m in req.options}
    return "、".join(sorted(kinds))


def _page_problems(req_id: str, material: Material,
                   pages: Sequence[PageQuality]) -> list[Problem]:
    out: list[Problem] = []
    bad = [(n, q) for n, q in enumerate(pages, start=1) if not q.ok]
    if bad:
        listed = "，".join(f"第{n}页{_reasons_zh(q)}" for n, q in bad)
        listed_en = ", ".join(f"page {n} {'/'.join(q.reasons) or 'no page'}" for n, q in bad)
        out.append(Problem(ProblemKind.UNUSABLE_PAGES, req_id,
                           f"{material.name}：{listed}，请重新拍摄",
                           f"{material.name_en or material.name}: {listed_en}; retake"))
    rng = material.pages
    if len(pages) < rng.min:
        out.append(Problem(ProblemKind.TOO_FEW_PAGES, req_id,
                           f"{material.name}：应至少 {rng.min} 页，已拍 {len(pages)} 页",
                           f"{material.name_en or material.name}: needs at least {rng.min} "
                           f"pages, {len(pages)} captured"))
    elif len(pages) > rng.max:
        out.append(Problem(ProblemKind.TOO_MANY_PAGES, req_id,
                           f"{material.name}：最多 {rng.max} 页，已拍 {len(pages)} 页",
                           f"{material.name_en or material.name}: at most {rng.max} pages, "
                           f"{len(pages)} captured"))
    return out


def _reasons_zh(quality: PageQuality) -> str:
    if not quality.page_found:
        return REASON_ZH["no_page"]
    return "、".join(REASON_ZH.get(r, r) for r in quality.reasons)


def _unknown(situation: Situation,
             captured: Mapping[str, Sequence[PageQuality]]) -> list[Problem]:
    known = {m.id for req in situation.materials for m in req.options}
    return [Problem(ProblemKind.UNKNOWN_MATERIAL, mid, f"材料 {mid} 不属于本事项情形",
                    f"material {mid} does not belong to this situation")
            for mid in captured if mid not in known and captured[mid]]
