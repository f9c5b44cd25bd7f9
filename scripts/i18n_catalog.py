"""Keep the gettext catalogs in step with the screens.

    .venv/bin/python scripts/i18n_catalog.py          # add new message ids, drop stale ones
    .venv/bin/python scripts/i18n_catalog.py --check  # exit 1 if a catalog is incomplete

zh_CN gets the source text as its translation (edit it there to reword without touching
code); en entries start empty and must be translated by hand before --check passes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.interaction.i18n import LANGUAGES, catalog_path, extract_msgids  # noqa: E402

LOCALE = ROOT / "assets" / "locale"


def sources() -> list[Path]:
    return sorted((ROOT / "screens").rglob("*.py"))


def read(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def check() -> int:
    """Read-only: every message id of the screens present and translated in every language.
    Order and source locations may lag behind the code; only missing text fails."""
    msgids = extract_msgids(sources())
    faults = 0
    for lang in LANGUAGES:
        path = catalog_path(LOCALE, lang)
        have = read(path)
        for msgid in sorted(msgids):
            if not have.get(msgid):
                fault = "missing" if msgid not in have else "untranslated"
                print(f"{path.relative_to(ROOT)}: {fault}: {msgid}  ({msgids[msgid]})")
                faults += 1
    return 1 if faults else 0


def sync() -> None:
    msgids = extract_msgids(sources())
    for lang in LANGUAGES:
        path = catalog_path(LOCALE, lang)
        old = read(path)
        catalog = Catalog(locale=lang, project="tongban-kiosk", domain="tongban")
        for msgid, where in sorted(msgids.items(), key=lambda kv: kv[1]):
            string = old.get(msgid) or (msgid if lang == "zh_CN" else "")
            file, line = where.rsplit(":", 1)
            location = Path(file).relative_to(ROOT).as_posix()
            catalog.add(msgid, string, locations=[(location, int(line))])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False)
        print(f"{path.relative_to(ROOT)}: {len(msgids)} messages")


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    if sys.argv[1:]:
        sys.exit("usage: i18n_catalog.py [--check]")
    sync()
