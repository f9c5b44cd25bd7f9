"""Screen text through gettext catalogs: Simplified Chinese first, English beside it.

The message ids are the Chinese source strings (the kiosk is written Chinese-first); each
language has a complete ``.po`` catalog under ``assets/locale/<lang>/LC_MESSAGES/``. The
catalogs are read directly with Babel, so there is no compiled ``.mo`` that could go stale.
"""

from __future__ import annotations

import logging
import string
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from kiosk.errors import ConfigError

log = logging.getLogger(__name__)
LANGUAGES = ("zh_CN", "en")
DOMAIN = "tongban"


def catalog_path(locale_dir: Path, lang: str) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path) -> dict[str, str]:
    """msgid → msgstr for every translated entry (fuzzy and empty entries are left out)."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog
            if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


class Translator:
    """``tr(msgid)`` in the chosen language; ``other(msgid)`` in the second language shown
    beside it (English under Chinese, Chinese under English)."""

    def __init__(self, locale_dir: Path, lang: str = "zh_CN") -> None:
        self._catalogs: dict[str, dict[str, str]] = {}
        for code in LANGUAGES:
            path = catalog_path(locale_dir, code)
            if not path.exists():
                raise ConfigError(str(path), [f"缺少语言目录 / missing catalog for {code}"])
            self._catalogs[code] = read_catalog(path)
        self._missing: set[tuple[str, str]] = set()
        self.lang = "zh_CN"
        self.set_language(lang)

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ConfigError("ui.language", [f"`{lang}`: 可选 / one of {', '.join(LANGUAGES)}"])
        self.lang = lang

    @property
    def second(self) -> str:
        return "en" if self.lang == "zh_CN" else "zh_CN"

    def tr(self, msgid: str) -> str:
        return self.lookup(msgid, self.lang)

    def other(self, msgid: str) -> str:
        return self.lookup(msgid, self.second)

    def lookup(self, msgid: str, lang: str) -> str:
        text = self._catalogs[lang].get(msgid)
        if text is None:
            if (lang, msgid) not in self._missing:   # once: a missing string is a bug, not noise
                self._missing.add((lang, msgid))
                log.warning("no %s translation for %r", lang, msgid)
            return msgid
        return text

    def pick(self, zh: str, en: str) -> tuple[str, str]:
        """(primary, secondary) of a text that arrives already in both languages
        (catalogue names, device errors)."""
        return (zh, en) if self.lang == "zh_CN" else (en or zh, zh)

    def punct(self, mark: str, lang: str | None = None) -> str:
        """A Chinese punctuation mark as the language writes it: '、' is ', ' in English."""
        return mark if (lang or self.lang) == "zh_CN" else ASCII_PUNCTUATION.get(mark, mark)


# Full-width marks the screens put between translated pieces, as English writes them.
ASCII_PUNCTUATION = {"，": ", ", "、": ", ", "；": "; ", "：": ": ", "（": " (", "）": ")",
                     "。": ". ", "　": "  "}


class _PluralFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return one if str(value) == "1" else many     # "1–2" pages is plural
        return super().format_field(value, format_spec)


_FORMATTER = _PluralFormatter()


def fill(text: str, **values: Any) -> str:
    """``str.format`` with English plurals: "{n} {n:copy|copies}" → "1 copy", "2 copies".
    (The catalogs' Chinese needs no plural; gettext's ngettext would add a call per count.)"""
    return _FORMATTER.format(text, **values)


# --- catalog upkeep (scripts/i18n_catalog.py and the completeness test) ---------------------
MARKERS = frozenset({"t", "bi", "say", "speech", "N_", "next_button", "back_button"})


def extract_msgids(sources: list[Path]) -> dict[str, str]:
    """Every literal message id passed to a marker call in ``sources`` → 'path:line'."""
    import ast

    found: dict[str, str] = {}
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            for text in _marked(node):
                found.setdefault(text, f"{path}:{getattr(node, 'lineno', 0)}")
    return found


def _marked(node: object) -> list[str]:
    """Texts in a marker call's arguments (also both arms of ``a if c else b``), and in the
    screen attributes ``title_id`` / ``spoken_id``."""
    import ast

    values: list[ast.expr] = []
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in MARKERS:
            values = list(node.args)
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
            isinstance(t, ast.Name) and t.id in ("title_id", "spoken_id") for t in node.targets):
        values = [node.value]
    texts = []
    for value in values:
        arms = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        texts += [arm.value for arm in arms if isinstance(arm, ast.Constant)
                  and isinstance(arm.value, str) and _is_text(arm.value)]
    return texts


def _is_text(value: str) -> bool:
    """Message ids are Chinese sentences; identifiers such as widget names are not."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in value)
