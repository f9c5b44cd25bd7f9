"""What the kiosk reads out (kiosk/interaction/speech.py): the words carry what the screen
shows, for a citizen who cannot read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.identity import CardType
from kiosk.catalogue import load_catalogue
from kiosk.catalogue.model import DeliveryOption, Matter
from kiosk.checker import CheckResult, Problem, ProblemKind
from kiosk.interaction import speech
from kiosk.interaction.speech import Speech

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "catalogue.yaml"


@pytest.fixture(scope="module")
def matters() -> dict[str, Matter]:
    return {m.code: m for m in load_catalogue(CATALOGUE).matters}


@pytest.mark.parametrize(("code", "zh", "en"), [
    ("510802-0001-261121-0042-6", "5 1 0 8 0 2，0 0 0 1，2 6 1 1 2 1，0 0 4 2，6",
     "5 1 0 8 0 2, 0 0 0 1, 2 6 1 1 2 1, 0 0 4 2, 6"),
    ("XT51-08", "X T 5 1，0 8", "X T 5 1, 0 8"),
    ("bz 12", "B Z，1 2", "B Z, 1 2"),
    ("0839-3266123", "0 8 3 9，3 2 6 6 1 2 3", "0 8 3 9, 3 2 6 6 1 2 3"),
    ("--7--", "7", "7"),
    ("", "", ""),
])
def test_numbers_are_spelled_digit_by_digit(code: str, zh: str, en: str) -> None:
    assert speech.spell(code) == zh
    assert speech.spell(code, "en") == en


def test_sentences_join_with_one_full_stop() -> None:
    joined = Speech("甲", "One") + Speech("乙。", "Two.") + Speech("丙", "Three")
    assert joined == Speech("甲。乙。丙", "One. Two. Three")
    assert Speech("", "") + Speech("甲", "A") == Speech("甲", "A")


def test_the_guide_says_the_key_facts(matters: dict[str, Matter]) -> None:
    matter = matters["GA-HJZM-001"]
    situation = matter.situations[0]
    said = speech.guide(matter, situation)
    assert said.zh.startswith(matter.name)
    # the rule, before anyone is identified: the applicant's own 户籍地 (issue 23)
    assert "由您户籍所在地的公安机关" in said.zh
    assert "your registered residence" in said.en
    days = matter.time_limits.promised_days
    assert (f"{days}个工作日" if days else "当场办结") in said.zh
    assert matter.fees.text in said.zh
    count = len(situation.materials)
    assert f"{count}项材料" in said.zh and f"Prepare {count} material" in said.en
    for requirement in situation.materials:            # and which they are
        assert requirement.label in said.zh


def test_a_matter_taken_elsewhere_says_where(matters: dict[str, Matter]) -> None:
    elsewhere = next(m for m in matters.values() if not m.kiosk_can_take)
    said = speech.guide(elsewhere, None)
    assert elsewhere.elsewhere is not None and elsewhere.elsewhere.where in said.zh
    assert "不能在自助终端办理" in said.zh and "cannot be done at the kiosk" in said.en


def problem(name: str) -> Problem:
    return Problem(ProblemKind.MISSING, name, f"{name}（原件）：未提交", f"{name}: not submitted")


def test_review_names_every_missing_item() -> None:
    result = CheckResult(False, (problem("居民户口簿"), problem("结婚证")), ())
    said = speech.review(result)
    assert "有2项材料需要补正" in said.zh
    assert "第1项，居民户口簿，原件，未提交" in said.zh and "第2项，结婚证" in said.zh
    assert "Item 2: 结婚证: not submitted" in said.en
    assert "请看屏幕" not in said.zh
    assert speech.review(CheckResult(True, (), ())).zh == "材料齐全，请点下一步"


@pytest.mark.parametrize(("delivery", "zh", "en"), [
    (DeliveryOption.PICKUP, "到广元市利州区政务服务中心窗口领取，地址：四川省广元市示例路1号",
     "window of this hall"),
    (DeliveryOption.POST, "邮寄到您填写的地址", "posted to the address"),
    (DeliveryOption.ELECTRONIC, "电子证照", "sent electronically"),
])
def test_the_receipt_says_the_number_and_where_to_collect(delivery: DeliveryOption, zh: str,
                                                          en: str) -> None:
    said = speech.receipt("510802-0001-261121-0042-6", True, delivery,
                          "广元市利州区政务服务中心", "四川省广元市示例路1号")
    assert "受理编号，5 1 0 8 0 2，0 0 0 1，2 6 1 1 2 1，0 0 4 2，6" in speech.speakable(said.zh)
    assert zh in said.zh and en in said.en
    out_of_paper = speech.receipt("1-2", False, delivery, "中心", "")
    assert "打印纸已用完" in out_of_paper.zh and "out of paper" in out_of_paper.en


def test_the_notice_says_its_number_and_each_item() -> None:
    said = speech.notice("510802-0001-261121-0043-1", [problem("居民户口簿")])
    assert "0 0 4 3" in said.zh and "居民户口簿" in said.zh and "居民户口簿" in said.en


def test_the_card_reminder_names_the_document() -> None:
    assert speech.card_reminder(CardType.RESIDENT) == Speech(
        "请取回您的身份证", "Please take your ID card back")
    assert "护照" in speech.card_reminder(CardType.EMRTD).zh
    assert speech.card_reminder(None).en == "Please take your ID card back"


def test_an_unprinted_notice_says_so_and_still_reads_each_item() -> None:
    said = speech.notice("510802-0001-261121-0043-1", [problem("居民户口簿")], printed=False)
    assert "未能打印" in said.zh and "请取走" not in said.zh
    assert "居民户口簿" in said.zh and "not printed" in said.en
