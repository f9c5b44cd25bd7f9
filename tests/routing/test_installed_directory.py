"""A region directory installed with the settings (`transfer.directory_file`) for a kiosk
outside a fleet — and the acceptance run of issue 23: a card from a province with no entry
of its own goes through the national exchange, the package is delivered, only the
exchange's key opens it, and the manifest names the applicant's county."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_route_cli import identity_file, kiosk  # tests/routing, on pytest's path

from fleetops.directory_table import build_document
from intake.opening import open_package
from kiosk.bootstrap import installed_directory
from kiosk.errors import BilingualError, ConfigError
from kiosk.paths import REPO
from kiosk.transfer.keys import DeviceKeys, Registry

REGIONS = REPO / "assets" / "demo" / "regions"
DOCUMENT = REGIONS / "directory.json"


def test_the_installed_demo_document_is_the_table_built() -> None:
    """directory.json is what the operator's tool makes of directory.toml (no drift)."""
    built = build_document(REGIONS / "directory.toml", fleet="demo-sichuan", version=1,
                           issued=datetime(2026, 12, 7, tzinfo=UTC))
    assert DOCUMENT.read_bytes() == built


def _settings_with_directory(tmp_path: Path) -> Path:
    """The demo settings with the installed directory, the repository's paths made absolute
    (the printer's paper stays where the run puts it, never in the checkout)."""
    text = (REPO / "config" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('"../assets', f'"{REPO}/assets').replace(
        'catalogue = "catalogue.yaml"', f'catalogue = "{REPO}/config/catalogue.yaml"')
    text = text.replace("[transfer]\n", f'[transfer]\ndirectory_file = "{DOCUMENT}"\n', 1)
    path = tmp_path / "demo-with-directory.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_card_from_a_province_without_an_entry_goes_through_the_exchange(
        tmp_path: Path) -> None:
    settings = _settings_with_directory(tmp_path)
    out = tmp_path / "run"
    done = kiosk("demo", "--headless", "--settings", str(settings), "--matter", "GA-HJZM-001",
                 "--out", str(out),
                 "--identity", str(identity_file(tmp_path, "resident_guangdong")))
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["outcome"] == "accepted" and summary["delivered"], summary
    [party] = summary["parties"]
    assert (party["region"], party["fallback"]) == ("440305", "exchange")
    data = out / "data"
    [sealed] = (data / "region").rglob(f"{summary['package_id']}.tbk")
    assert sealed.parent.name == "exchange-national"          # no colon in a file name
    registry = Registry([DeviceKeys(data / "keys", "510802-0001").key("x25519-chacha20")])
    with pytest.raises(BilingualError):                       # a region's key: not for it
        open_package(sealed, REGIONS / "region-510802-x25519-chacha20.key", registry,
                     tmp_path / "wrong")
    opened = open_package(sealed, REGIONS / "region-000000-x25519-chacha20.key", registry,
                          tmp_path / "opened")
    [receiver] = opened.manifest["receivers"]
    assert receiver["region_code"] == "440305"                 # 深圳市南山区: the applicant's
    with sqlite3.connect(data / "ledger.sqlite") as db:
        [(regions,)] = db.execute("SELECT regions FROM ledger").fetchall()
    assert regions == "广东省深圳市南山区"                   # 通办具体地区


@pytest.mark.parametrize(("content", "says"), [
    (b"{", "directory_file"),
    (b'{"format": "tongban-region-directory", "schema": 1}', "directory_file"),
    (b"\xff\xfe" * 10, "directory_file"),
])
def test_a_bad_installed_document_is_a_config_error(tmp_path: Path, content: bytes,
                                                    says: str) -> None:
    path = tmp_path / "directory.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        installed_directory(path, "x25519-chacha20")
    assert says in str(info.value.problems)


@pytest.mark.parametrize("name", ["none.json", "../../etc", "/dev/zero", "."])
def test_a_missing_or_irregular_installed_document_is_a_config_error(tmp_path: Path,
                                                                      name: str) -> None:
    with pytest.raises(ConfigError) as info:      # never read into memory, never a traceback
        installed_directory(tmp_path / name, "x25519-chacha20")
    assert "transfer.directory_file" in str(info.value.problems)
