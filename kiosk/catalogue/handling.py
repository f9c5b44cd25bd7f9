"""How a matter's handling parties are said before the applicant is known: the guide and its
speech say "由您户籍所在地的公安机关办理", not a district picked for somebody else."""

from __future__ import annotations

from kiosk.catalogue.model import HandlingParty, HandlingRule, Matter

PLACE = "{place}"


def party_phrase(party: HandlingParty) -> tuple[str, str]:
    """(zh, en): 您户籍所在地的公安机关 / Public security of your registered residence; a fixed
    party by its name: 北京市东城区北京市长安公证处."""
    if party.region is not None:
        region = party.region
        zh = (region.department if region.department.startswith(region.name[:2])
              else f"{region.name}{region.department}")
        return zh, region.department_en or zh
    label = party.label.split("（")[0]
    own = ("您户籍所在地的" if party.rule is HandlingRule.HOUSEHOLD and label == "户籍地"
           else f"您{label}的")
    zh = party.department.replace(PLACE, own)
    en = party.department_en.replace(PLACE, f"your {party.label_en.split(' (')[0].lower()}")
    return zh, en or zh


def handled_by(matter: Matter) -> tuple[str, str]:
    """The guide's 办理地 line for every party: 由您户籍所在地的…办理 / Handled by …"""
    phrases = [party_phrase(p) for p in matter.handling]
    return ("由" + "、".join(zh for zh, _ in phrases) + "办理",
            "Handled by " + "; ".join(en for _, en in phrases))
