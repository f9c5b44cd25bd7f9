"""`kiosk route explain` and the headless demo with `--identity` / `--choose` (issue 23):
real subprocesses and real packages, opened with the region keys."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from intake.opening import open_package
from kiosk.errors import BilingualError
from kiosk.paths import REPO
from kiosk.transfer.keys import DeviceKeys, Registry

IDENTITIES = (REPO / "assets" / "demo" / "identities.toml").read_text(encoding="utf-8")
REGION_KEYS = REPO / "assets" / "demo" / "regions"


def identity_file(folder: Path, key: str) -> Path:
    """One table of the demo identities, alone in a file (the format `--identity` reads)."""
    block = re.search(rf"^\[{key}\]\n.*?(?=^\[|\Z)", IDENTITIES, re.S | re.M)
    assert block is not None
    path = folder / f"{key}.toml"
    path.write_text(block.group(0), encoding="utf-8")
    return path


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=300)


def explain(tmp_path: Path, matter: str, card: str, *choices: str
            ) -> subprocess.CompletedProcess[str]:
    args = ["route", "explain", "--matter", matter,
            "--identity", str(identity_file(tmp_path, card)), "--json"]
    for choice in choices:
        args += ["--choose", choice]
    return kiosk(*args)


def test_explain_prints_each_party(tmp_path: Path) -> None:
    done = explain(tmp_path, "GA-HKQY-003", "resident_chongqing", "move_in=510824")
    assert done.returncode == 0, done.stderr
    parties = json.loads(done.stdout)["parties"]
    assert [{k: p[k] for k in ("role", "region", "route")} for p in parties] == [
        {"role": "move_out", "region": "500104", "route": "500000"},
        {"role": "move_in", "region": "510824", "route": "510824"}]
    assert all(set(p) >= {"role", "region", "department", "route", "key_id"} for p in parties)
    assert parties[0]["department"] == "重庆市大渡口区公安机关（户籍派出所）"


def test_explain_a_region_without_route_exits_1_with_reason_and_phone(tmp_path: Path) -> None:
    done = explain(tmp_path, "GA-HJZM-001", "resident_shandong")
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert out["parties"] == [] and out["unavailable"]["region"] == "371002"
    assert out["unavailable"]["reason"] == "no_route" and out["unavailable"]["phone"]
    assert "山东省威海市环翠区" in out["unavailable"]["zh"]


def test_explain_asks_for_an_unresolved_address(tmp_path: Path) -> None:
    done = explain(tmp_path, "GA-HJZM-001", "resident_old_address")
    assert done.returncode == 2 and "--choose handling=" in done.stderr
    assert " / " in done.stderr and "Traceback" not in done.stderr


# Regression and fuzz cases: each a typed, bilingual error with exit 2, never a traceback.
BAD_FILES = {
    "empty": "",
    "two cards": IDENTITIES,
    "not toml": "[resident\nname = ",
    "bad check digit": '[x]\ncard_type = "resident"\nname = "甲"\nbirth_date = 1980-01-01\n'
                       'id_number = "110101198001010010"\n',
    "unknown field": '[x]\ncard_type = "resident"\nname = "甲"\nbirth_date = 1980-01-01\n'
                     'id_number = "110101198001010011"\nsecret = "x"\n',
    "binary": "\x00\xff\xfe" * 100,
    "huge": "# " + "x" * 2_000_000,
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_identity_files_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "card.toml"
    path.write_text(BAD_FILES[name], encoding="utf-8", errors="surrogateescape")
    done = kiosk("route", "explain", "--matter", "GA-HJZM-001", "--identity", str(path))
    assert done.returncode == 2, (name, done.stdout, done.stderr)
    assert " / " in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("args", [
    ["--choose", "handling"],                      # no code
    ["--choose", "handling=51080"],                # five digits
    ["--choose", "handling=510802", "--choose", "handling=510824"],   # twice
    ["--choose", "../x=510802"],                   # a role is a name, never a path
    ["--choose", "handling=510800"],               # a city, not a county
    ["--choose", "nobody=510802"],                 # no such party
    ["--matter", "NO-SUCH"],
    ["--matter", "\x1b[31m"],
])
def test_bad_arguments_are_refused(tmp_path: Path, args: list[str]) -> None:
    card = identity_file(tmp_path, "resident")
    base = ["route", "explain", "--identity", str(card)]
    if "--matter" not in args:
        base += ["--matter", "ZR-BDC-018"]
    done = kiosk(*base, *args)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert " / " in done.stderr and "Traceback" not in done.stderr
    assert "\x1b" not in done.stderr


def test_fuzzed_choices_never_crash(tmp_path: Path) -> None:
    """In-process: every mangled --choose is a BilingualError or a clean parse."""
    import random

    from kiosk.cli.route import choices

    rng = random.Random(23)
    alphabet = "handlig_=0123456789 ８\x00/.é"
    for _ in range(2000):
        item = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        try:
            parsed = choices([item])
        except BilingualError as exc:
            assert exc.zh and exc.en
        else:
            [(role, code)] = parsed.items()
            assert re.fullmatch(r"[a-z][a-z_]*", role) and re.fullmatch(r"[0-9]{6}", code)


def test_demo_with_a_card_from_a_province_without_its_own_route(tmp_path: Path) -> None:
    """重庆市大渡口区 has no route of its own: the province's key opens the package, no other
    key does, and the manifest names the applicant's county."""
    out = tmp_path / "run"
    done = kiosk("demo", "--headless", "--matter", "GA-HJZM-001", "--out", str(out),
                 "--identity", str(identity_file(tmp_path, "resident_chongqing")))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["outcome"] == "accepted"
    [party] = summary["parties"]
    assert (party["region"], party["route"], party["fallback"]) == ("500104", "500000",
                                                                     "province")
    data = out / "data"
    sealed = data / "region" / "500000" / f"{summary['package_id']}.tbk"
    registry = Registry([DeviceKeys(data / "keys", "510802-0001").key("x25519-chacha20")])
    with pytest.raises(BilingualError):    # the county's neighbour's key: not for it
        open_package(sealed, REGION_KEYS / "region-500103-x25519-chacha20.key", registry,
                     tmp_path / "wrong")
    opened = open_package(sealed, REGION_KEYS / "region-500000-x25519-chacha20.key",
                          registry, tmp_path / "opened")
    [receiver] = opened.manifest["receivers"]
    assert (receiver["region_code"], receiver["region_name"]) == ("500104", "重庆市大渡口区")
    assert receiver["department"] == "重庆市大渡口区公安机关（户籍派出所）"
    assert "transfer-slip-500104.pdf" in opened.files
    with sqlite3.connect(data / "ledger.sqlite") as db:
        [(regions,)] = db.execute("SELECT regions FROM ledger").fetchall()
    assert regions == "重庆市大渡口区"                     # 通办具体地区


def test_demo_region_without_route_takes_no_document_and_prints_the_guide(
        tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = kiosk("demo", "--headless", "--matter", "GA-HJZM-001", "--out", str(out),
                 "--identity", str(identity_file(tmp_path, "resident_guangdong")))
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["outcome"] == "region_unavailable", summary
    assert "12345" in summary["reason"]["zh"] and "12345" in summary["reason"]["en"]
    assert (out / "guide-slip.png").stat().st_size > 10_000
    assert not (out / "receipt.png").exists()
    assert not list((out / "data" / "outbox").rglob("*.tbk"))
    printed = (out / "printed").glob("*") if (out / "printed").exists() else []
    assert not [p for p in printed if "receipt" in p.name]
