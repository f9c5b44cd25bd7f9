"""The gettext catalogs are complete: every screen text has a Chinese and an English entry
with the same placeholders, and every catalogue value a screen shows is translatable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.catalogue.model import (
    CaseType,
    DeliveryOption,
    LifeEvent,
    Mode,
    Necessity,
    OriginalOrCopy,
    ScopeKind,
)
from kiosk.errors import ConfigError
from kiosk.interaction.i18n import LANGUAGES, Translator, catalog_path, extract_msgids, read_catalog
from kiosk.session import Rating

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "assets" / "locale"
SOURCES = sorted((ROOT / "screens").rglob("*.py"))
PLACEHOLDER = re.compile(r"\{(\w*)\}")


@pytest.fixture(scope="module")
def msgids() -> dict[str, str]:
    found = extract_msgids(SOURCES)
    assert len(found) > 100, "the extractor found the screens' texts"
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_text_is_translated(lang: str, msgids: dict[str, str]) -> None:
    catalog = read_catalog(catalog_path(LOCALE, lang))
    missing = {m: where for m, where in msgids.items() if not catalog.get(m)}
    assert not missing, f"{lang} lacks: {missing}"
    stale = set(catalog) - set(msgids)
    assert not stale, f"{lang} has entries no screen uses (run scripts/i18n_catalog.py): {stale}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_survive_translation(lang: str) -> None:
    for msgid, text in read_catalog(catalog_path(LOCALE, lang)).items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(text)), msgid


def test_catalogue_values_shown_on_screen_are_translatable(msgids: dict[str, str]) -> None:
    for enum in (ScopeKind, Mode, Necessity, OriginalOrCopy, CaseType, DeliveryOption, Rating,
                 LifeEvent):
        for member in enum:
            assert member.value in msgids, f"{enum.__name__}.{member.name} is not marked"


def test_translator_gives_english_beside_chinese() -> None:
    tr = Translator(LOCALE, "zh_CN")
    assert tr.tr("开始办理") == "开始办理" and tr.other("开始办理") == "Start"
    tr.set_language("en")
    assert tr.tr("开始办理") == "Start" and tr.other("开始办理") == "开始办理"
    assert tr.tr("没有这句话") == "没有这句话"      # a missing text shows its source
    with pytest.raises(ConfigError):
        tr.set_language("fr")


def test_extractor_reads_marker_calls_and_screen_attributes(tmp_path: Path) -> None:
    source = tmp_path / "screen.py"
    source.write_text('class S:\n    title_id = "标题"\n'
                      'x = ui.t("甲" if a else "乙")\ny = ui.bi("丙", n=1)\nz = f("丁")\n'
                      'w = ui.t("name_only")\n', encoding="utf-8")
    assert set(extract_msgids([source])) == {"标题", "甲", "乙", "丙"}
