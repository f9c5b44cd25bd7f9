"""The catalogue's handling parties (schema 2, issue 23): rules, validation, the version-1
migration and `kiosk catalogue list --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from kiosk.catalogue import load_catalogue
from kiosk.catalogue.handling import handled_by, party_phrase
from kiosk.catalogue.model import HandlingRule, Matter, Mode
from kiosk.errors import ConfigError
from kiosk.paths import DEFAULT_CATALOGUE, REPO

CATALOGUE = load_catalogue(DEFAULT_CATALOGUE)
BASE: dict[str, Any] = {
    "code": "T-1", "name": "测试", "department": "公安", "mode": "全程网办",
    "scope": {"kind": "跨省通办"}, "time_limits": {"promised_days": 7},
    "consultation_phone": "12345",
    "situations": [{"code": "only", "name": "唯一", "materials": [{"id": "form", "name": "表"}]}],
}
HOUSEHOLD = {"role": "handling", "rule": "household", "department": "{place}公安机关"}
FIXED_REGION = {"code": "500103", "name": "重庆市渝中区", "department": "重庆市公安局渝中区分局"}


def test_every_rule_is_in_the_shipped_catalogue() -> None:
    rules = {p.rule for m in CATALOGUE.matters for p in m.handling}
    assert rules == set(HandlingRule)
    joint = [m for m in CATALOGUE.matters if m.mode is Mode.JOINT]
    assert joint and all(len(m.handling) >= 2 for m in joint)
    assert CATALOGUE.matter("GA-HKQY-003").handling[0].rule is HandlingRule.HOUSEHOLD
    assert all(m.category for m in CATALOGUE.matters)


def test_a_fixed_party_needs_its_region_and_only_it_has_one() -> None:
    with pytest.raises(ValidationError, match="fixed party needs"):
        Matter.model_validate({**BASE, "category": "hukou",
                               "handling": [{"role": "handling", "rule": "fixed"}]})
    with pytest.raises(ValidationError, match="only a fixed party"):
        Matter.model_validate({**BASE, "category": "hukou",
                               "handling": [{**HOUSEHOLD, "region": FIXED_REGION}]})
    with pytest.raises(ValidationError, match="needs `department`"):
        Matter.model_validate({**BASE, "category": "hukou",
                               "handling": [{"role": "handling", "rule": "property"}]})


@pytest.mark.parametrize(("change", "message"), [
    ({"mode": "多地联办"}, "at least two handling parties"),
    ({"handling": [HOUSEHOLD, HOUSEHOLD]}, "role twice"),
    ({"category": "Hukou!"}, "category"),
    ({"handling": []}, "handling"),
    ({"handling": [{**HOUSEHOLD, "rule": "wherever"}]}, "rule"),
])
def test_bad_parties_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Matter.model_validate({**BASE, "category": "hukou", "handling": [HOUSEHOLD], **change})


def test_a_version_1_catalogue_still_loads_as_fixed_parties(tmp_path: Path) -> None:
    matter = {**BASE, "department": "医保", "handling_regions": [FIXED_REGION]}
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "matters": [matter]},
                                   allow_unicode=True), encoding="utf-8")
    [loaded] = load_catalogue(path).matters
    [party] = loaded.handling
    assert (party.role, party.rule, party.region and party.region.code) == (
        "handling", HandlingRule.FIXED, "500103")
    assert loaded.category == "medical_insurance" and loaded.fixed_parties


def test_version_2_refuses_the_old_key(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    matter = {**BASE, "handling_regions": [FIXED_REGION]}
    path.write_text(yaml.safe_dump({"schema_version": 2, "matters": [matter]},
                                   allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalogue(path)
    assert any("handling_regions" in p for p in info.value.problems)


def test_the_guide_says_the_rule_not_a_district() -> None:
    zh, en = handled_by(CATALOGUE.matter("GA-HJZM-001"))
    assert zh == "由您户籍所在地的公安机关（户籍派出所）办理"
    assert en == "Handled by Public security of your registered residence"
    move = CATALOGUE.matter("GA-HKQY-003")
    assert [party_phrase(p)[0] for p in move.handling] == [
        "您迁出地的公安机关（户籍派出所）", "您迁入地的公安机关（户籍派出所）"]
    fixed = CATALOGUE.matter("SF-GZ-017")
    assert party_phrase(fixed.handling[0])[0] == "北京市长安公证处"


def test_catalogue_list_json_shows_each_rule() -> None:
    done = subprocess.run([sys.executable, "-m", "kiosk", "catalogue", "list", "--json"],
                          capture_output=True, text=True, cwd=REPO, check=True, timeout=120)
    rows = {r["code"]: r for r in json.loads(done.stdout)}
    assert rows["GA-HJZM-001"]["handling"] == [{"role": "handling", "rule": "household"}]
    assert rows["GA-HKQY-003"]["handling"] == [{"role": "move_out", "rule": "household"},
                                               {"role": "move_in", "rule": "destination"}]
    assert rows["ZR-BDC-018"]["handling"] == [{"role": "handling", "rule": "property"}]
    assert rows["YB-YDJY-011"]["category"] == "medical_insurance"


def test_a_fleet_bundle_with_a_version_1_catalogue_is_migrated_in_place(tmp_path: Path) -> None:
    from kiosk.catalogue.model import CATALOGUE_SCHEMA_VERSION
    from kiosk.fleet.check import CATALOGUE_MIGRATIONS, migrate

    path = tmp_path / "catalogue.yaml"
    matter = {**BASE, "handling_regions": [FIXED_REGION]}
    path.write_text(yaml.safe_dump({"schema_version": 1, "matters": [matter]},
                                   allow_unicode=True), encoding="utf-8")
    migrate(path, CATALOGUE_SCHEMA_VERSION, CATALOGUE_MIGRATIONS)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 2 and "handling_regions" not in data["matters"][0]
    [loaded] = load_catalogue(path).matters
    assert loaded.handling[0].region is not None
    assert loaded.handling[0].region.code == "500103"
