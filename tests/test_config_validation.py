"""Settings (TOML) and catalogue (YAML) validation: typed errors naming file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kiosk.catalogue import load_catalogue
from kiosk.catalogue.model import AlternativeGroup, Mode, ScopeKind
from kiosk.cli import main
from kiosk.errors import ConfigError
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "config" / "catalogue.yaml"
DEFAULT = ROOT / "config" / "default.toml"


def _problems(path: Path, loader) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        loader(path)
    assert info.value.zh and info.value.en
    return info.value.problems


def _mutated_catalogue(tmp_path: Path, old: str, new: str) -> Path:
    text = CATALOGUE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalogue.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_shipped_catalogue_covers_the_domain() -> None:
    catalogue = load_catalogue(CATALOGUE)
    assert len(catalogue.matters) >= 15
    assert {m.mode for m in catalogue.matters} == set(Mode)
    assert {ScopeKind.INTER_PROVINCE, ScopeKind.PROVINCE, ScopeKind.CITY} <= {
        m.scope.kind for m in catalogue.matters}
    assert any(len(m.situations) >= 3 for m in catalogue.matters)
    assert any(isinstance(r, AlternativeGroup)
               for m in catalogue.matters for s in m.situations for r in s.materials)
    assert any(not m.kiosk_can_take and m.elsewhere for m in catalogue.matters)


def test_unknown_catalogue_key_names_line_and_suggests(tmp_path: Path) -> None:
    path = _mutated_catalogue(tmp_path, "    consultation_phone:", "    consultation_phon:")
    problems = _problems(path, load_catalogue)
    hit = [p for p in problems if "consultation_phon`" in p]
    assert hit, problems
    assert f"{path}:{_line_of(path, 'consultation_phon:')}:" in hit[0]
    assert "did you mean `consultation_phone`" in hit[0]


def test_unknown_key_inside_a_material_suggests_the_material_field(tmp_path: Path) -> None:
    path = _mutated_catalogue(tmp_path, "check_points:", "check_pionts:")
    problems = _problems(path, load_catalogue)
    assert any("check_pionts" in p and "`check_points`" in p for p in problems), problems
    assert not any(".single." in p or ".group." in p for p in problems)   # tags hidden


def test_bad_type_is_named_with_its_path(tmp_path: Path) -> None:
    path = _mutated_catalogue(tmp_path, "promised_days: ", "promised_days: soon #")
    problems = _problems(path, load_catalogue)
    assert any("time_limits.promised_days" in p and "soon" in p for p in problems), problems


def test_wrong_catalogue_version(tmp_path: Path) -> None:
    path = _mutated_catalogue(tmp_path, "schema_version: 2", "schema_version: 7")
    problems = _problems(path, load_catalogue)
    assert any("schema_version" in p and "7" in p and ":" in p for p in problems), problems


def test_yaml_syntax_error_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("schema_version: 1\nmatters: [\n", encoding="utf-8")
    assert "YAML" in _problems(path, load_catalogue)[0]


def test_deferrable_without_commitment_is_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    material = data["matters"][0]["situations"][0]["materials"][0]
    material["necessity"] = "容缺"
    material.pop("commitment", None)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert any("commitment" in p for p in _problems(path, load_catalogue))


def test_shipped_settings_validate() -> None:
    for name in ("default.toml", "demo.toml"):
        settings = load_settings(ROOT / "config" / name)
        assert settings.kiosk.region_code == "510802"
        assert settings.paths.catalogue.is_absolute()


def _mutated_settings(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    path = tmp_path / "config" / "default.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_unknown_settings_key_names_line_and_suggests(tmp_path: Path) -> None:
    path = _mutated_settings(tmp_path, "idle_timeout_s = 120", "idle_timout_s = 120")
    problems = _problems(path, load_settings)
    assert any(f"{path}:{_line_of(path, 'idle_timout_s')}:" in p
               and "`idle_timeout_s`" in p for p in problems), problems


def test_bad_settings_type(tmp_path: Path) -> None:
    path = _mutated_settings(tmp_path, "idle_warning_s = 30", 'idle_warning_s = "half a minute"')
    problems = _problems(path, load_settings)
    assert any("session.idle_warning_s" in p and f":{_line_of(path, 'idle_warning_s =')}:" in p
               for p in problems), problems


def test_wrong_settings_version(tmp_path: Path) -> None:
    path = _mutated_settings(tmp_path, "schema_version = 2", "schema_version = 3")
    assert any("schema_version" in p for p in _problems(path, load_settings))


def test_bad_kiosk_id_and_cross_field_rule(tmp_path: Path) -> None:
    path = _mutated_settings(tmp_path, 'id = "510802-0001"', 'id = "kiosk one"')
    assert any("kiosk.id" in p for p in _problems(path, load_settings))
    path = _mutated_settings(tmp_path / "b", "idle_warning_s = 30", "idle_warning_s = 300")
    assert any("idle_warning_s" in p for p in _problems(path, load_settings))


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "validate", str(CATALOGUE)]) == 0
    assert main(["config", "validate", str(DEFAULT)]) == 0
    bad = _mutated_catalogue(tmp_path, "    consultation_phone:", "    consultation_phon:")
    assert main(["catalogue", "validate", str(bad)]) == 2
    assert "consultation_phone" in capsys.readouterr().err
