"""`kiosk demo --headless --scenario assisted`: a guide signs in mid-session, checks the
originals, approves one 容缺 item and signs out. The receipt, the ledger, the manifest (opened
as the region opens it) and the audit log must all tell the same story."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from intake.opening import open_package
from kiosk.catalogue import load_catalogue
from kiosk.cli import main
from kiosk.demo.assisted import first_with_rongque
from kiosk.package import SCHEMA_PATH
from kiosk.staff.demo import demo_roster
from kiosk.transfer.keys import DeviceKeys, Registry

ROOT = Path(__file__).resolve().parents[2]
REGION_KEYS = ROOT / "assets" / "demo" / "regions"
CATALOGUE = load_catalogue(ROOT / "config" / "catalogue.yaml")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("assisted")
    capture = subprocess.run(
        [sys.executable, "-m", "kiosk", "demo", "--headless", "--scenario", "assisted",
         "--out", str(out)], capture_output=True, text=True, timeout=600, check=False)
    assert capture.returncode == 0, capture.stderr[-2000:]
    return out, json.loads(capture.stdout.strip().splitlines()[-1])


def _audit(out: Path) -> list[dict[str, object]]:
    text = (out / "data" / "staff" / "audit.log").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _manifests(out: Path, summary: dict[str, object]) -> list[dict[str, object]]:
    data = out / "data"
    kiosk_key = DeviceKeys(data / "keys", "510802-0001").key("x25519-chacha20")
    opened = []
    # one sealed copy per route the applicant's parties resolved to (issue 23)
    for sealed in sorted((data / "region").glob(f"*/{summary['package_id']}.tbk")):
        route = sealed.parent.name
        package = open_package(sealed, REGION_KEYS / f"region-{route}-x25519-chacha20.key",
                               Registry([kiosk_key]), out / "opened" / route)
        opened.append(package.manifest)
    assert opened, "no package delivered"
    return opened


def test_the_case_is_accepted_with_the_guide_and_the_audit_chain_verifies(
        run: tuple[Path, dict[str, object]]) -> None:
    out, summary = run
    assert summary["outcome"] == "accepted" and summary["staff"] == "demo01"
    assert (summary["matter"], ) == (first_with_rongque(CATALOGUE)[0], )
    check = subprocess.run([sys.executable, "-m", "kiosk", "audit", "verify", "--data-dir",
                            str(out / "data")], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    actions = [e["action"] for e in _audit(out)]
    assert actions[0] == "staff.sign_in" and actions[-1] == "staff.sign_out"
    assert actions.count("case.approve_rongque") == 1 and actions.count("case.assist") == 1
    assert {e["after"].get("result") for e in _audit(out)
            if e["action"] != "staff.sign_out"} <= {"done", "ok"}


def test_receipt_ledger_manifest_and_audit_agree(run: tuple[Path, dict[str, object]]) -> None:
    out, summary = run
    guide = demo_roster().staff[0]
    entries = _audit(out)
    verified = {str(e["after"]["material"]) for e in entries
                if e["action"] == "case.verify_original"}
    approved = next(e["after"] for e in entries if e["action"] == "case.approve_rongque")

    paper = "".join(re.sub(r"\n\s*", "", p.read_text(encoding="utf-8"))   # lines wrap
                    for p in (out / "paper").glob("*.txt"))
    assert f"{guide.name}（帮办）" in paper                            # 受理人
    assert paper.count("原件已核验，与扫描件一致") == len(verified) > 0
    deadline = str(approved["deadline"])
    y, m, d = (int(x) for x in deadline.split("-"))
    assert f"容缺，限{y}年{m}月{d}日前补交" in paper
    assert "原件待核验" not in paper

    with sqlite3.connect(out / "data" / "ledger.sqlite") as conn:
        staff, state, note = conn.execute(
            "SELECT staff, state, note FROM ledger WHERE case_number = ?",
            (summary["case_number"],)).fetchone()
        owed = conn.execute("SELECT requirement_id, deadline FROM rongque").fetchall()
    assert (staff, state) == (guide.name, "容缺待补")
    assert f"原件已核验{len(verified)}项" in note and deadline in note
    assert owed == [(approved["material"], deadline)]

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for manifest in _manifests(out, summary):
        jsonschema.validate(manifest, schema)
        assistance = manifest["assistance"]
        assert (assistance["kind"], assistance["staff_id"], assistance["staff_name"]) == (
            "帮办", guide.id, guide.name)
        # one reference ties the audit entries, the manifest and the ledger row together
        assert {e["after"]["ref"] for e in entries if e["action"].startswith("case.")} == {
            assistance["ref"]}
        assert f"审计记录 {assistance['ref']}" in note
        assert {c["requirement_id"] for c in assistance["original_checks"]} == verified
        assert [(r["requirement_id"], r["deadline"]) for r in assistance["rongque"]] == owed
        grades = {m["requirement_id"]: m["evidence_grade"] for m in manifest["materials"]}
        assert grades == {**{rid: "B" for rid in verified}, approved["material"]: "D"}


def test_an_unassisted_demo_has_no_staff_in_its_manifest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The control: without staff, no assistance record, 自助终端 and 原件待核验."""
    assert main(["demo", "--headless", "--out", str(tmp_path), "--matter", "GA-HKQY-003"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for manifest in _manifests(tmp_path, summary):
        assert "assistance" not in manifest
        assert {m["evidence_grade"] for m in manifest["materials"]} <= {"C", "D"}
    paper = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "paper").glob("*.txt"))
    assert "原件待核验" in paper and "自助终端" in paper and "原件已核验" not in paper
