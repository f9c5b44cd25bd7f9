"""What the kiosk reads out (朗读), composed from the application's own data, in both
languages: the guide's key facts, each missing item by name, a number digit by digit, where
the result is collected, the reminder to take the ID card back.

Pure functions of their arguments (no devices, no Kivy): the screens decide when to speak,
``Voice`` speaks, and this is what is said — for a citizen who cannot read the screen, the
words must carry everything the screen shows that matters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.identity import CardType
from kiosk.catalogue.handling import handled_by
from kiosk.catalogue.model import DeliveryOption, Matter, Situation
from kiosk.checker import CheckResult, Problem

_PAUSE = {"zh": "，", "en": ", "}


@dataclass(frozen=True)
class Speech:
    zh: str
    en: str

    def __add__(self, other: Speech) -> Speech:
        return Speech(_join(self.zh, other.zh, "。", ""), _join(self.en, other.en, ".", " "))


def _join(a: str, b: str, stop: str, space: str) -> str:
    """Two sentences, with a full stop between them unless the first has its own."""
    if not (a and b):
        return a or b
    return f"{a}{space}{b}" if a[-1] in "。，；：！？.,;:!?" else f"{a}{stop}{space}{b}"


def spell(code: str, lang: str = "zh") -> str:
    """A number or code character by character, a pause for each separator:
    "510802-0001" → "5 1 0 8 0 2，0 0 0 1"; letters spelled out ("XT51" → "X T 5 1")."""
    groups = ["".join(ch for ch in part if ch.isalnum()) for part in _split(code)]
    return _PAUSE["en" if lang == "en" else "zh"].join(
        " ".join(group.upper()) for group in groups if group)


def _split(code: str) -> list[str]:
    part, parts = "", []
    for ch in code:
        if ch.isalnum():
            part += ch
        else:
            parts.append(part)
            part = ""
    return [*parts, part]


def speakable(text: str) -> str:
    """Screen text made for the ear: brackets and colons become pauses."""
    for mark, pause in (("（", "，"), ("）", ""), ("：", "，"), ("(", ", "), (")", "")):
        text = text.replace(mark, pause)
    return text.replace("，，", "，")


def card_reminder(card_type: CardType | None = None) -> Speech:
    """Said (and shown) as soon as the document is read, and again with the receipt."""
    if card_type is CardType.EMRTD:
        return Speech("请取回您的护照或证件", "Please take your passport back")
    return Speech("请取回您的身份证", "Please take your ID card back")


def guide(matter: Matter, situation: Situation | None) -> Speech:
    """The guide's key facts: the matter, where it is handled, time limit, fee, materials."""
    where, where_en = handled_by(matter)
    days = matter.time_limits.promised_days
    limit = (Speech("当场办结", "done on the spot") if days == 0 else
             Speech(f"{days}个工作日", f"{days} working day{'s' if days != 1 else ''}"))
    fee = Speech("不收费", "No fee") if not matter.fees.items else Speech(
        "收费：" + speakable(matter.fees.text),
        "Fee: " + "; ".join(f"{i.amount_yuan:g} yuan" for i in matter.fees.items))
    speech = Speech(f"{matter.name}。{where}。承诺时限：{limit.zh}。{fee.zh}。",
                    f"{matter.name_en or matter.name}. {where_en}. "
                    f"Time limit: {limit.en}. {fee.en}.")
    if not matter.kiosk_can_take and matter.elsewhere is not None:
        info = matter.elsewhere
        phone = f"，电话 {spell(info.phone)}" if info.phone else ""
        speech += Speech(f"本事项不能在自助终端办理，请到{info.where}办理{phone}。",
                         f"This matter cannot be done at the kiosk: please go to {info.where}.")
        return speech
    situation = situation or matter.situations[0]
    names = [(r.label, r.label_en) for r in situation.materials]
    return speech + Speech(
        f"需要准备{len(names)}项材料：{'；'.join(zh for zh, _ in names)}。",
        f"Prepare {len(names)} material{'s' if len(names) != 1 else ''}: "
        f"{'; '.join(en for _, en in names)}.")


def review(result: CheckResult) -> Speech:
    """The check's verdict; when items are missing or wrong, every one of them by name."""
    if result.accepted:
        return Speech("材料齐全，请点下一步", "All materials are here: tap Next")
    return Speech(f"有{len(result.problems)}项材料需要补正。",
                  f"{len(result.problems)} item{'s' if len(result.problems) != 1 else ''} "
                  "need attention.") + problems(result.problems) + Speech(
        "您可以返回补拍，或打印补正通知书。",
        "You can go back and capture them, or print the correction notice.")


def problems(items: Iterable[Problem]) -> Speech:
    zh, en = [], []
    for number, problem in enumerate(items, start=1):
        zh.append(f"第{number}项，{speakable(problem.zh)}。")
        en.append(f"Item {number}: {problem.en}.")
    return Speech("".join(zh), " ".join(en))


def receipt(case_number: str, printed: bool, delivery: DeliveryOption | None,
            department: str, address: str) -> Speech:
    """The case number digit by digit, the receipt, and where the result is collected."""
    speech = Speech(f"您的申请已受理。受理编号：{spell(case_number)}。",
                    f"Your application is accepted. Case number: {spell(case_number, 'en')}.")
    speech += (Speech("请取走打印的回执，妥善保管。", "Please take your printed receipt.")
               if printed else
               Speech("打印纸已用完，请记下受理编号，或呼叫工作人员。",
                      "The printer is out of paper: note the case number or call staff."))
    return speech + collect(delivery, department, address)


def collect(delivery: DeliveryOption | None, department: str, address: str) -> Speech:
    """Where the result of the application will come to the citizen."""
    if delivery is DeliveryOption.POST:
        return Speech("办理结果将邮寄到您填写的地址。",
                      "The result will be posted to the address you gave.")
    if delivery is DeliveryOption.ELECTRONIC:
        return Speech("办理结果将以电子证照或电子文书送达，并短信通知您。",
                      "The result will be sent electronically; you will get a text message.")
    place = f"，地址：{address}" if address else ""
    return Speech(f"办理结果请凭回执到{department}窗口领取{place}。",
                  "Collect the result with your receipt at the window of this hall: "
                  f"{department}.")


def notice(number: str, items: Iterable[Problem], printed: bool = True) -> Speech:
    """The correction notice: its number, and every item to bring next time."""
    opening = (Speech("请取走补正通知书。", "Please take the correction notice.") if printed
               else Speech("打印纸已用完，补正通知书未能打印，"
                           "请记下需要补正的材料，或呼叫工作人员补打。",
                           "The printer is out of paper: the correction notice was not "
                           "printed. Please note the items, or call staff to reprint it."))
    return opening + Speech(f"通知书编号：{spell(number)}。需要补正的材料：",
                            f"Number: {spell(number, 'en')}. "
                            "To bring next time:") + problems(items) + Speech(
        "补齐材料后再来办理。", "Come back when you have them.")
