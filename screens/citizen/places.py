"""Handling regions and departments as the citizen reads them: in English, the catalogue's
English name, or the division spelt in pinyin (kiosk/interaction/place_names.py)."""

from __future__ import annotations

from kiosk.catalogue.model import HandlingRegion
from kiosk.interaction.divisions import Divisions, UnknownDivision
from kiosk.interaction.place_names import place_name_en
from screens.context import Ui


def region_name(ui: Ui, region: HandlingRegion, divisions: Divisions) -> str:
    if ui.tr.lang == "zh_CN":
        return region.name
    if region.name_en:
        return region.name_en
    try:
        return place_name_en(divisions.path(region.code))
    except UnknownDivision:         # a code newer than the division data: say it as written
        return region.name


def region_with_department(ui: Ui, region: HandlingRegion, divisions: Divisions) -> str:
    """重庆市渝中区（重庆市公安局渝中区分局） / Yuzhong District, Chongqing (Chongqing …)."""
    department = ui.tr.pick(region.department, region.department_en)[0]
    return (region_name(ui, region, divisions) + ui.tr.punct("（") + department
            + ui.tr.punct("）"))
