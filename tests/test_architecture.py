"""What import-linter cannot see: a module loaded by name. The kiosk's runtime names no
module of the screens, the operator's or the region's tools or the test rigs, not even in a
string (DESIGN §2; the static imports are import-linter's contracts in pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = {"kiosk": ("screens", "fleetops", "intake", "rigs"),
           "drivers": ("kiosk", "screens", "fleetops", "intake", "rigs")}


def _named_modules(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                head = node.value.split(":")[0].split(".")[0]
                if head in OUTSIDE[package] and "." in node.value.split(":")[0]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("package", sorted(OUTSIDE))
def test_no_module_outside_the_layer_is_named(package: str) -> None:
    assert _named_modules(package) == []


def test_the_check_finds_a_module_named_in_a_string(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kiosk").mkdir()
    (tmp_path / "kiosk" / "x.py").write_text('import importlib\n'
                                             'importlib.import_module("screens.launch")\n')
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert _named_modules("kiosk") == ["kiosk/x.py:2: 'screens.launch'"]
