"""``kiosk doctor --json`` through the real command line (``python -m kiosk``) on the demo's
settings with emulated devices: all ok; then a broken setting, an unreachable delivery
endpoint (a closed loopback port), a missing region key and an open data folder, each a
fail with exit status 1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def settings_file(tmp: Path, extra: str = "", swap: tuple[str, str] = ("", "")) -> Path:
    """demo.toml with absolute paths and its own data folder (owner-only, as installed)."""
    data = tmp / "data"
    (data / "keys").mkdir(parents=True, exist_ok=True, mode=0o700)
    data.chmod(0o700)
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    if swap[0]:
        assert swap[0] in text
        text = text.replace(*swap)
    text = text.replace('data_dir = "../var/demo"', f'data_dir = "{data}"')
    text = text.replace('"../', f'"{ROOT}/').replace('catalogue = "catalogue.yaml"',
                                                     f'catalogue = "{ROOT}/config/catalogue.yaml"')
    path = tmp / "kiosk.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def doctor(settings: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "kiosk", "doctor", "--json", "--settings",
                           str(settings), "--timeout", "2"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    return done.returncode, json.loads(done.stdout)


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["verdict"] for c in report["checks"]}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port          # closed again: a connection there is refused


ROUTE = '[transfer.routes.510107]\ntransport = "directory"'


def tus_route(endpoint: str) -> tuple[str, str]:
    """The demo's route to 510107 as a tus upload to ``endpoint``."""
    return ROUTE, f'[transfer.routes.510107]\ntransport = "tus"\nendpoint = "{endpoint}"'


def test_a_sound_demo_kiosk_passes(tmp_path: Path) -> None:
    code, report = doctor(settings_file(tmp_path))
    seen = verdicts(report)
    assert code == 0 and report["ok"], report
    for name in ("settings", "transfer_keys", "device.identity_reader",
                 "device.document_camera", "device.receipt_printer", "permissions.data",
                 "permissions.keys", "disk", "clock.signed_time", "fleet_trust", "power",
                 "service"):
        assert seen[name] == "ok", (name, report)
    for check in report["checks"]:
        assert check["zh"] and check["en"]


def test_a_broken_setting_fails(tmp_path: Path) -> None:
    code, report = doctor(settings_file(tmp_path, "\n[power]\nups_name = \"my ups\"\n"))
    assert code == 1 and not report["ok"]
    assert verdicts(report) == {"settings": "fail"}
    assert "ups_name" in report["checks"][0]["en"]


def test_an_unreachable_delivery_endpoint_fails(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}/files/"
    code, report = doctor(settings_file(tmp_path, swap=tus_route(endpoint)))
    assert code == 1
    assert verdicts(report)["network.route.510107"] == "fail"
    assert verdicts(report)["transfer_keys"] == "ok"


def test_a_missing_region_key_fails(tmp_path: Path) -> None:
    key = "../assets/demo/regions/region-510107-x25519-chacha20.pub"
    code, report = doctor(settings_file(tmp_path, swap=(key, str(tmp_path / "absent.pub"))))
    assert code == 1
    assert verdicts(report)["transfer_keys"] == "fail"


def test_an_open_data_folder_fails(tmp_path: Path) -> None:
    path = settings_file(tmp_path)
    (tmp_path / "data").chmod(0o755)
    code, report = doctor(path)
    assert code == 1 and verdicts(report)["permissions.data"] == "fail"


@pytest.mark.parametrize("fleet", ["missing", "expired"])
def test_fleet_trust_needs_an_unexpired_root(tmp_path: Path, fleet: str) -> None:
    root = tmp_path / "fleet-root.json"
    if fleet == "expired":
        root.write_text(json.dumps({"signed": {"_type": "root",
                                               "expires": "2020-01-01T00:00:00Z"}}))
    extra = ('\n[fleet]\nname = "demo-fleet"\nrepository = "http://127.0.0.1:1/"\n'
             f'root = "{root}"\n')
    code, report = doctor(settings_file(tmp_path, extra))
    assert code == 1 and verdicts(report)["fleet_trust"] == "fail"
