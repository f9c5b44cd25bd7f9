"""The materials check (形式审查): accepted, or the complete list of problems at once."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.camera import PageQuality
from kiosk.catalogue.model import Situation
from kiosk.checker import ProblemKind, check

OK = PageQuality()
BLURRED = PageQuality(sharpness=0.2, reasons=("blurred",))
GLARE = PageQuality(glare=0.4, reasons=("glare",))
NO_PAGE = PageQuality(page_found=False)

SITUATION = Situation.model_validate({
    "code": "test",
    "name": "测试情形",
    "materials": [
        {"id": "application_form", "name": "申请表", "name_en": "Application form",
         "form": "电子", "pages": {"min": 1, "max": 1}},
        {"id": "household_register", "name": "居民户口簿", "name_en": "Household register",
         "pages": {"min": 2, "max": 4}},
        {"id": "identity_document", "options": [
            {"id": "id_card", "name": "居民身份证", "pages": {"min": 1, "max": 2}},
            {"id": "social_security_card", "name": "社会保障卡", "pages": {"min": 1, "max": 2}},
        ]},
        {"id": "residence_permit", "name": "居住证", "necessity": "容缺",
         "commitment": "承诺30日内补交居住证"},
        {"id": "power_of_attorney", "name": "授权委托书", "necessity": "非必要"},
    ],
})

COMPLETE: dict[str, list[PageQuality]] = {
    "application_form": [OK],
    "household_register": [OK, OK],
    "id_card": [OK, OK],
    "residence_permit": [OK],
}


def captured(**changes: Sequence[PageQuality] | None) -> dict[str, list[PageQuality]]:
    """The complete set with some materials replaced (a value of None drops the material)."""
    out = {k: list(v) for k, v in COMPLETE.items()}
    for key, pages in changes.items():
        if pages is None:
            out.pop(key, None)
        else:
            out[key] = list(pages)
    return out


def test_complete_set_is_accepted() -> None:
    result = check(SITUATION, COMPLETE)
    assert result.accepted
    assert result.problems == ()
    assert [i.requirement_id for i in result.items] == [
        "application_form", "household_register", "identity_document", "residence_permit"]
    assert [i.pages for i in result.items] == [1, 2, 2, 1]
    assert result.deferred == ()


def test_every_missing_item_is_listed_at_once_in_catalogue_order() -> None:
    result = check(SITUATION, {"residence_permit": [OK]})
    assert not result.accepted
    assert [p.kind for p in result.problems] == [ProblemKind.MISSING] * 3
    assert [p.requirement_id for p in result.problems] == [
        "application_form", "household_register", "identity_document"]
    group = result.problems[2]
    assert "居民身份证 或 社会保障卡" in group.zh
    assert "未提交" in group.zh
    assert "居民身份证 or 社会保障卡" in group.en
    assert result.problems[0].zh.startswith("申请表")
    assert result.problems[1].en.startswith("Household register")


def test_named_group_still_names_every_option() -> None:
    situation = Situation.model_validate({
        "code": "named", "name": "有名称的组",
        "materials": [{"id": "identity_document", "name": "有效身份证件", "options": [
            {"id": "id_card", "name": "居民身份证"},
            {"id": "social_security_card", "name": "社会保障卡"},
            {"id": "passport", "name": "护照"},
        ]}],
    })
    (problem,) = check(situation, {}).problems
    assert problem.kind is ProblemKind.MISSING
    assert "有效身份证件" in problem.zh
    assert "居民身份证 或 社会保障卡 或 护照" in problem.zh


def test_either_option_meets_an_either_or_requirement() -> None:
    for option in ("id_card", "social_security_card"):
        result = check(SITUATION, captured(**{"id_card": None, option: [OK]}))
        assert result.accepted, option
        (item,) = [i for i in result.items if i.requirement_id == "identity_document"]
        assert item.material.id == option


def test_good_option_wins_over_a_bad_one_in_either_order() -> None:
    for bad, good in (("id_card", "social_security_card"), ("social_security_card", "id_card")):
        result = check(SITUATION, captured(**{bad: [BLURRED], good: [OK]}))
        assert result.accepted, (bad, good)
        (item,) = [i for i in result.items if i.requirement_id == "identity_document"]
        assert item.material.id == good


def test_both_options_bad_is_a_problem() -> None:
    result = check(SITUATION, captured(id_card=[BLURRED], social_security_card=[GLARE]))
    assert not result.accepted
    assert [p.requirement_id for p in result.problems] == ["identity_document"]
    assert result.problems[0].kind is ProblemKind.UNUSABLE_PAGES


def test_deferrable_missing_without_commitment_is_a_problem() -> None:
    result = check(SITUATION, captured(residence_permit=None))
    assert not result.accepted
    (problem,) = result.problems
    assert problem.kind is ProblemKind.MISSING
    assert problem.requirement_id == "residence_permit"
    assert "容缺承诺" in problem.zh
    assert "commitment" in problem.en


def test_deferrable_missing_with_commitment_is_accepted_and_deferred() -> None:
    result = check(SITUATION, captured(residence_permit=None), {"residence_permit"})
    assert result.accepted
    (deferred,) = result.deferred
    assert deferred.requirement_id == "residence_permit"
    assert deferred.material.id == "residence_permit"
    assert deferred.pages == 0


def test_commitment_for_a_required_material_does_not_excuse_it() -> None:
    result = check(SITUATION, captured(application_form=None), {"application_form"})
    assert not result.accepted
    assert [p.requirement_id for p in result.problems] == ["application_form"]


def test_deferrable_captured_is_not_deferred() -> None:
    result = check(SITUATION, COMPLETE, {"residence_permit"})
    assert result.accepted
    assert result.deferred == ()


def test_optional_missing_is_fine_and_optional_present_is_checked() -> None:
    assert check(SITUATION, captured(power_of_attorney=None)).accepted
    with_it = check(SITUATION, captured(power_of_attorney=[OK]))
    assert with_it.accepted
    assert "power_of_attorney" in [i.requirement_id for i in with_it.items]
    bad = check(SITUATION, captured(power_of_attorney=[GLARE]))
    assert not bad.accepted
    assert [p.requirement_id for p in bad.problems] == ["power_of_attorney"]


def test_too_few_pages() -> None:
    result = check(SITUATION, captured(household_register=[OK]))
    assert not result.accepted
    (problem,) = result.problems
    assert problem.kind is ProblemKind.TOO_FEW_PAGES
    assert problem.requirement_id == "household_register"
    assert "2" in problem.zh and "1" in problem.zh


def test_too_many_pages() -> None:
    result = check(SITUATION, captured(household_register=[OK] * 5))
    (problem,) = result.problems
    assert problem.kind is ProblemKind.TOO_MANY_PAGES
    assert "4" in problem.zh and "5" in problem.zh


def test_page_count_at_both_ends_of_the_range_is_fine() -> None:
    assert check(SITUATION, captured(household_register=[OK] * 2)).accepted
    assert check(SITUATION, captured(household_register=[OK] * 4)).accepted


def test_unusable_pages_are_named_by_number_and_reason() -> None:
    result = check(SITUATION, captured(household_register=[OK, BLURRED, NO_PAGE, GLARE]))
    assert not result.accepted
    (problem,) = result.problems
    assert problem.kind is ProblemKind.UNUSABLE_PAGES
    assert "第2页模糊" in problem.zh
    assert "第3页未找到页面" in problem.zh
    assert "第4页反光" in problem.zh
    assert "第1页" not in problem.zh
    assert "page 2 blurred" in problem.en
    assert "page 3 no page" in problem.en
    assert "page 4 glare" in problem.en


def test_unusable_and_wrong_count_are_both_reported() -> None:
    result = check(SITUATION, captured(household_register=[BLURRED]))
    assert [p.kind for p in result.problems] == [ProblemKind.UNUSABLE_PAGES,
                                                 ProblemKind.TOO_FEW_PAGES]


def test_unknown_material_is_reported() -> None:
    result = check(SITUATION, captured(marriage_certificate=[OK]))
    assert not result.accepted
    (problem,) = result.problems
    assert problem.kind is ProblemKind.UNKNOWN_MATERIAL
    assert problem.requirement_id == "marriage_certificate"
    assert "marriage_certificate" in problem.zh


def test_problems_of_every_kind_are_listed_together() -> None:
    result = check(SITUATION, {"household_register": [OK] * 5, "social_security_card": [NO_PAGE],
                               "passport": [OK]})
    assert [(p.kind, p.requirement_id) for p in result.problems] == [
        (ProblemKind.MISSING, "application_form"),
        (ProblemKind.TOO_MANY_PAGES, "household_register"),
        (ProblemKind.UNUSABLE_PAGES, "identity_document"),
        (ProblemKind.MISSING, "residence_permit"),
        (ProblemKind.UNKNOWN_MATERIAL, "passport"),
    ]


def test_check_is_pure() -> None:
    pages = captured(household_register=[OK, BLURRED], passport=[OK], id_card=None)
    commitments = {"residence_permit"}
    pages_before, commitments_before = copy.deepcopy(pages), set(commitments)
    situation_before = SITUATION.model_dump()
    first = check(SITUATION, pages, commitments)
    second = check(SITUATION, pages, commitments)
    assert first == second
    assert pages == pages_before
    assert commitments == commitments_before
    assert SITUATION.model_dump() == situation_before


# --- property: accepted iff every required requirement has a good captured option ----------

QUALITIES = st.sampled_from([OK, OK, OK, OK, BLURRED, GLARE, NO_PAGE])


@st.composite
def situation_and_capture(draw: Any) -> tuple[Situation, dict[str, list[PageQuality]]]:
    counter = iter(range(1000))

    def material() -> dict[str, Any]:
        n = next(counter)
        low = draw(st.integers(0, 3))
        high = draw(st.integers(max(low, 1), 4))
        return {"id": f"m{n}", "name": f"材料{n}", "pages": {"min": low, "max": high}}

    requirements: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            requirements.append(material())
        else:
            options = [material() for _ in range(draw(st.integers(2, 3)))]
            requirements.append({"id": f"g{i}", "options": options})
    situation = Situation.model_validate(
        {"code": "generated", "name": "生成的情形", "materials": requirements})
    ids = [m.id for req in situation.materials for m in req.options]
    capture = {mid: draw(st.lists(QUALITIES, min_size=1, max_size=5))
               for mid in ids if draw(st.booleans())}
    return situation, capture


@settings(deadline=None, max_examples=200)
@given(situation_and_capture())
def test_accepted_iff_every_required_requirement_has_a_good_option(
        case: tuple[Situation, dict[str, list[PageQuality]]]) -> None:
    situation, capture = case

    def good(material_id: str, low: int, high: int) -> bool:
        pages = capture.get(material_id, [])
        return bool(pages) and low <= len(pages) <= high and all(q.ok for q in pages)

    expected = all(any(good(m.id, m.pages.min, m.pages.max) for m in req.options)
                   for req in situation.materials)
    result = check(situation, capture)
    assert result.accepted is expected
    assert (result.problems == ()) is expected
    if expected:
        assert len(result.items) == len(situation.materials)
