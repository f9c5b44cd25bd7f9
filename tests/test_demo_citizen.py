"""`kiosk demo --headless`: the whole citizen journey on emulated devices, end to end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from intake.opening import open_package
from kiosk.catalogue import load_catalogue
from kiosk.cli import main
from kiosk.demo.citizen import skipped_for_missing
from kiosk.package import SCHEMA_PATH
from kiosk.transfer.keys import DeviceKeys, Registry

ROOT = Path(__file__).resolve().parent.parent
REGION_KEYS = ROOT / "assets" / "demo" / "regions"
CATALOGUE = load_catalogue(ROOT / "config" / "catalogue.yaml")
TAKEABLE = [m.code for m in CATALOGUE.matters if m.kiosk_can_take]
DEMO_NAME, DEMO_ID = "张明华", "110101195803121237"   # assets/demo/identities.toml: resident


def _demo(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> dict[str, object]:
    code = main(["demo", "--headless", "--out", str(out), *args])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    summary["exit"] = code
    return summary


@pytest.mark.parametrize("matter", TAKEABLE)
def test_complete_application_is_received_and_delivered(
        matter: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = _demo(capsys, tmp_path, "--matter", matter)
    assert summary["exit"] == 0 and summary["outcome"] == "accepted", summary
    assert (tmp_path / "receipt.png").stat().st_size > 10_000
    assert (tmp_path / "receipt.pdf").read_bytes().startswith(b"%PDF")
    parties = summary["parties"]
    assert isinstance(parties, list) and len(parties) == len(CATALOGUE.matter(matter).handling)
    regions = sorted({p["route"] for p in parties})       # one sealed copy per route
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = tmp_path / "data"
    kiosk_key = DeviceKeys(data / "keys", "510802-0001").key("x25519-chacha20")
    for region in regions:
        opened = open_package(   # verifies the signature, decrypts, checks every sha256
            data / "region" / region / f"{summary['package_id']}.tbk",
            REGION_KEYS / f"region-{region}-x25519-chacha20.key", Registry([kiosk_key]),
            tmp_path / "opened" / region)
        jsonschema.validate(opened.manifest, schema)
        assert opened.manifest["case_number"] == summary["case_number"]
        assert "receipt.pdf" in opened.files
    assert summary["delivered"] == [summary["package_id"]]
    assert list((data / "tmp").iterdir()) == [], "session scratch not wiped"


def test_missing_materials_are_all_named_at_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matter = CATALOGUE.matter("RS-YLZY-007")
    skipped = skipped_for_missing(matter.situations[0])
    assert len(skipped) == 3            # two required items and one either/or group
    summary = _demo(capsys, tmp_path, "--matter", matter.code, "--scenario", "missing")
    assert summary["outcome"] == "correction_notice"
    missing = summary["missing"]
    assert isinstance(missing, list) and len(missing) == 3, missing
    group = next(r for r in matter.situations[0].materials if r.id in skipped
                 and len(r.options) > 1)
    assert any(all(o.name in line for o in group.options) for line in missing)
    assert (tmp_path / "notice.png").exists() and (tmp_path / "notice.pdf").exists()
    assert not (tmp_path / "receipt.png").exists()
    region = tmp_path / "data" / "region"
    assert not region.exists() or not any(region.rglob("*.tbk"))


def test_expired_card_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = _demo(capsys, tmp_path, "--matter", TAKEABLE[0], "--scenario", "expired-id")
    assert summary["outcome"] == "document_expired"
    assert "过有效期" in str(summary["reason"])
    assert not (tmp_path / "receipt.png").exists()


def test_paper_out_refuses_before_taking_documents(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = _demo(capsys, tmp_path, "--matter", TAKEABLE[0], "--scenario", "paper-out")
    assert summary["outcome"] == "matter_unavailable"
    assert "打印" in str(summary["reason"])
    assert not any((tmp_path / "data" / "tmp").glob("*/*"))


def test_no_personal_data_in_logs_or_ledger(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _demo(capsys, tmp_path, "--matter", "RS-YLZY-007")
    _demo(capsys, tmp_path / "b", "--matter", "RS-YLZY-007", "--scenario", "missing")
    for log in (tmp_path / "data" / "kiosk.log", tmp_path / "b" / "data" / "kiosk.log"):
        text = log.read_text(encoding="utf-8")
        assert "session" in text                       # the log is really written
        assert DEMO_NAME not in text and DEMO_ID not in text
        assert "13800138000" not in text
    with sqlite3.connect(tmp_path / "data" / "ledger.sqlite") as conn:
        dump = "\n".join(conn.iterdump())
    assert "张*华" in dump and DEMO_NAME not in dump and DEMO_ID not in dump


def test_no_file_in_the_data_folder_holds_the_name_or_id_number(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every file the kiosk leaves (database, WAL, log, spool, gateway folder, keys), in
    every encoding the kiosk writes text in."""
    _demo(capsys, tmp_path, "--matter", "GA-HJZM-001")
    _demo(capsys, tmp_path, "--matter", "RS-YLZY-007", "--scenario", "missing")
    needles = {DEMO_ID.encode(), DEMO_ID.encode("utf-16-le")} | {
        DEMO_NAME.encode(codec) for codec in ("utf-8", "gbk", "utf-16-le", "utf-16-be")}
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert any(p.suffix == ".tbk" for p in files) and any(p.name == "kiosk.log" for p in files)
    for path in files:
        blob = path.read_bytes()
        assert not any(n in blob for n in needles), path
    # the control: the printed paper (outside the data folder) does carry the name
    paper = b"".join(p.read_bytes() for p in (tmp_path / "paper").glob("*.txt"))
    assert DEMO_NAME.encode() in paper


def test_catalogue_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(CATALOGUE.matters)
    assert {"code", "name", "mode", "scope", "kiosk_can_take"} <= set(rows[0])


def test_matter_not_for_the_kiosk_prints_where_to_go(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matter = next(m for m in CATALOGUE.matters if not m.kiosk_can_take)
    summary = _demo(capsys, tmp_path, "--matter", matter.code)
    assert summary["exit"] == 0 and summary["outcome"] == "not_at_kiosk"
    assert (tmp_path / "guide-slip.png").exists()
    printed = next((tmp_path / "paper").glob("job-*.txt")).read_text(encoding="utf-8")
    assert "办事指引" in printed and "请前往" in printed
    assert matter.elsewhere is not None and matter.elsewhere.where[:10] in printed.replace(
        "\n", "")
