"""``kiosk-fleet directory …`` on a copy of the demo operator tree: build (dry run) from TOML
and CSV, the refusals an operator meets (each bilingual, exit status 2, no traceback), and
a fuzzed table reader."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from directory_rig import RegionTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetops.cli import main
from fleetops.directory_table import CSV_COLUMNS, build_document
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.errors import FleetError
from kiosk.routing.directory_format import parse_directory

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "assets" / "demo" / "fleet", tree)
    Repository(tree / "public", KeyStore(tree / ".fleet" / "keys")).init()
    return tree


@pytest.fixture
def table(tmp_path: Path) -> RegionTable:
    made = RegionTable(tmp_path / "table")
    made.add("510802", "广元市利州区", departments={"hukou": "利州区户政科"},
             valid=(("2026-01-01T00:00:00+08:00", "2027-01-31T00:00:00+08:00"),
                    ("2026-12-01T00:00:00+08:00", "2028-12-31T00:00:00+08:00")))
    made.add("exchange:sichuan", "四川省政务数据交换平台", provinces=["51"], transport="tus",
             endpoint="https://exchange.example.cn/files")
    return made


def _run(capsys: pytest.CaptureFixture[str], tree: Path, *argv: str | Path
         ) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([*map(str, argv), "--tree", str(tree)])
    except SystemExit as exit_:          # argparse's own refusals
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _refused(capsys: pytest.CaptureFixture[str], tree: Path, *argv: str | Path) -> str:
    code, _out, err = _run(capsys, tree, *argv)
    assert code != 0 and CJK.search(err) and re.search(r"[A-Za-z]{3,} [a-z]+", err), err
    assert "Traceback" not in err
    return err


def test_build_from_toml_and_csv_gives_the_same_document(
        capsys: pytest.CaptureFixture[str], tree: Path, table: RegionTable) -> None:
    docs = []
    for path in (table.toml(), table.csv()):
        out_file = path.with_suffix(".json")
        code, out, err = _run(capsys, tree, "directory", "build", "--table", path,
                              "--out", out_file)
        assert code == 0, err
        for key in table.keys["510802"]:
            assert key.key_id in out                   # what `revoke` takes
        assert "dry run" in out
        doc = json.loads(out_file.read_bytes())
        doc.pop("issued")
        docs.append(doc)
    assert docs[0] == docs[1]
    assert docs[0]["version"] == 1 and docs[0]["fleet"] == "demo-sichuan"
    assert docs[0]["regions"]["510802"]["departments"] == {"": "广元市利州区政务服务中心",
                                                           "hukou": "利州区户政科"}
    assert docs[0]["exchanges"]["sichuan"]["provinces"] == ["51"]
    assert not (tree / "public" / "targets" / "directory").exists()      # nothing signed


def test_build_warns_of_lapsed_and_expiring_keys(
        capsys: pytest.CaptureFixture[str], tree: Path, table: RegionTable) -> None:
    soon = datetime.now(UTC) + timedelta(days=10)
    table.add("510824", "苍溪县", valid=(("2025-01-01T00:00:00+08:00",
                                            "2025-06-30T00:00:00+08:00"),))
    table.add("510812", "朝天区", valid=(("2026-01-01T00:00:00+08:00",
                                            soon.isoformat(timespec="seconds")),))
    code, out, err = _run(capsys, tree, "directory", "build", "--table", table.toml())
    assert code == 0, err
    warned = [line for line in out.splitlines() if line.startswith("警告 / warning")]
    assert len(warned) == 2, out
    lapsed, expiring = sorted(warned, key=lambda line: "510824" not in line)
    assert "510824" in lapsed and "no key valid now" in lapsed
    assert "510812" in expiring and "rotate" in expiring


def test_refusals_are_bilingual(capsys: pytest.CaptureFixture[str], tree: Path,
                                table: RegionTable, tmp_path: Path) -> None:
    good = table.toml()
    assert "16" in _refused(capsys, tree, "directory", "revoke", "xyz", "--reason", "r")
    _refused(capsys, tree, "directory", "build")                          # no --table
    _refused(capsys, tree, "directory", "publish", "--table", tmp_path / "missing.toml")
    odd = tmp_path / "table" / "regions.xlsx"
    odd.write_bytes(b"PK")
    assert ".csv" in _refused(capsys, tree, "directory", "build", "--table", odd)
    text = good.read_text(encoding="utf-8")
    cases = {
        "not_before": text.replace("+08:00", "", 1),                     # no zone
        "needs at least one key": '[[region]]\ncode = "510802"\nname = "x"\n'
                                  'transport = "directory"\ndepartment = "d"\n',
        "unknown field": text.replace('code = "510802"', 'code = "510802"\ncolour = "red"'),
        "not of 510801": text.replace('code = "510802"', 'code = "510801"'),
        "syntax": text + "\n[[region\n",
    }
    for expected, broken in cases.items():
        bad = tmp_path / "table" / "broken.toml"
        bad.write_text(broken, encoding="utf-8")
        assert expected in _refused(capsys, tree, "directory", "build", "--table", bad)
    rows = table.csv().read_text(encoding="utf-8").splitlines()
    conflicting = tmp_path / "table" / "conflict.csv"
    conflicting.write_text("\n".join([*rows, rows[2].replace("510802,,", "510802,其他,")]),
                           encoding="utf-8")
    assert "conflict.csv:5" in _refused(capsys, tree, "directory", "build", "--table", conflicting)
    for name, text in (("big-header.csv", "x" * 200_000 + "\n"),
                       ("big-cell.csv", "code,name,transport\n" + "x" * 200_000 + "\n")):
        big = tmp_path / "table" / name
        big.write_text(text, encoding="utf-8")
        assert "CSV" in _refused(capsys, tree, "directory", "build", "--table", big)


def test_revoke_twice_and_without_reason(capsys: pytest.CaptureFixture[str], tree: Path,
                                         table: RegionTable) -> None:
    key_id = table.keys["510802"][0].key_id
    code, out, _err = _run(capsys, tree, "directory", "revoke", key_id, "--reason", "泄露")
    assert code == 0 and "not in the published directory" in out    # none published yet
    assert _run(capsys, tree, "directory", "publish", "--table", table.toml())[0] == 0
    listed = table.keys["510802"][1].key_id
    code, out, _err = _run(capsys, tree, "directory", "revoke", listed, "--reason", "泄露")
    assert code == 0 and "warning" not in out
    assert "already" in _refused(capsys, tree, "directory", "revoke", key_id,
                                 "--reason", "again")
    other = table.keys["exchange:sichuan"][0].key_id
    _refused(capsys, tree, "directory", "revoke", other, "--reason", " ")


def test_the_real_program(tree: Path, table: RegionTable) -> None:
    run = [sys.executable, "-m", "fleetops", "directory"]
    ok = subprocess.run([*run, "build", "--table", str(table.toml()), "--tree", str(tree)],
                        capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0 and "1 regions, 1 exchanges, 3 keys" in ok.stdout, ok.stderr
    bad = subprocess.run([*run, "publish", "--table", str(table.folder / "nope.csv"),
                          "--tree", str(tree)], capture_output=True, text=True, timeout=120,
                         check=False)
    assert bad.returncode != 0 and CJK.search(bad.stderr) and "Traceback" not in bad.stderr


_cell = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | \
    st.sampled_from(["510802", "exchange:x", "tus", "directory", "https://a.cn/f",
                     "keys/510802-0.pub", "2026-01-01T00:00:00+08:00", "a=b;c", "51 52"])


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=st.just(list(CSV_COLUMNS)) | st.lists(
           st.sampled_from([*CSV_COLUMNS, "extra"]), min_size=1, max_size=12, unique=True),
       rows=st.lists(st.lists(_cell, min_size=11, max_size=12), max_size=5))
def test_fuzz_csv_tables_build_or_refuse(table: RegionTable, header: list[str],
                                         rows: list[list[str]]) -> None:
    table.toml()     # keys on disk
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    _build_or_refuse(table.folder, "fuzz.csv", text.getvalue().encode())


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fuzz_raw_tables_build_or_refuse(table: RegionTable, raw: bytes) -> None:
    _build_or_refuse(table.folder, "fuzz.toml", raw)
    _build_or_refuse(table.folder, "fuzz.csv", raw)
    _build_or_refuse(table.folder, "fuzz.csv", b"code,name,transport\n" + raw)


def _build_or_refuse(folder: Path, name: str, raw: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=folder, suffix=Path(name).suffix) as handle:
        handle.write(raw)
        handle.flush()
        try:
            parse_directory(build_document(Path(handle.name), fleet="f", version=1))
        except FleetError as exc:
            assert exc.zh and exc.en and len(exc.en) < 2000
