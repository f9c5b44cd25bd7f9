"""``kiosk region …``, ``kiosk keys …`` and ``kiosk outbox …`` on the demo settings, and
routing: a matter whose region has no route cannot start; a route key of the wrong suite
stops the kiosk at start-up with the setting named."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from intake.cli import main as region_main
from kiosk.bootstrap import build_kiosk
from kiosk.cli import main
from kiosk.errors import ConfigError
from kiosk.lifecycle import Reason
from kiosk.service import KioskService
from kiosk.settings import load_settings
from kiosk.transfer.keys import DeviceKeys, load
from kiosk.transfer.suites import SUITE_NAMES, Role

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ROOT / "assets" / "demo" / "regions"
KIOSK_ID = "510802-0001"
DEMO_NAME = "张明华"                         # assets/demo/identities.toml: resident
CJK = re.compile(r"[\u4e00-\u9fff]")


def _settings(folder: Path, data_dir: Path, *, drop_route: str = "",
              route_suite: tuple[str, str] = ("", "")) -> Path:
    """config/demo.toml with absolute paths, data under ``data_dir``; optionally without
    ``drop_route``'s route, or with route ``route_suite[0]`` keyed for suite ``[1]``."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    for old, new in {
        '"../assets/demo/regions/': f'"{REGIONS}/',
        'data_dir = "../var/demo"': f'data_dir = "{data_dir}"',
        'catalogue = "catalogue.yaml"': f'catalogue = "{ROOT / "config" / "catalogue.yaml"}"',
        'assets = "../assets"': f'assets = "{ROOT / "assets"}"',
    }.items():
        assert old in text, old
        text = text.replace(old, new)
    if drop_route:
        route = re.compile(rf'\[transfer\.routes\.{drop_route}\]\ntransport = "directory"\n'
                           r'key = "[^"]*"\n')
        text, dropped = route.subn("", text)
        assert dropped == 1
    if route_suite[0]:
        old = f"region-{route_suite[0]}-x25519-chacha20.pub"
        assert old in text
        text = text.replace(old, f"region-{route_suite[0]}-{route_suite[1]}.pub")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _bilingual(err: str) -> None:
    assert CJK.search(err) and re.search(r"[A-Za-z]{4,} [a-z]+", err) and " / " in err, err
    assert "Traceback" not in err


# --- the region's keys ----------------------------------------------------------------------


def test_region_keygen_writes_both_suites(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "region-keys"
    assert region_main(["keygen", "--region", "500103", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in SUITE_NAMES:
        private_path = out / f"region-500103-{name}.key"
        public_path = out / f"region-500103-{name}.pub"
        assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
        private, public = load(private_path), load(public_path)
        assert (private.owner, private.role, private.suite) == ("500103", Role.ENCRYPT, name)
        assert private.private is not None and public.private is None
        assert public.public == private.public and private.key_id in printed
        assert "private" not in json.loads(public_path.read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"region-500103-{n}.{ext}" for n in SUITE_NAMES for ext in ("key", "pub"))


def test_region_keygen_never_overwrites_a_key(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = ["keygen", "--region", "500103", "--out", str(tmp_path)]
    assert region_main(args) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert region_main(args) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_region_keygen_again_fails_with_a_clear_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["keygen", "--region", "500103", "--out", str(tmp_path)]
    assert region_main(args) == 0
    capsys.readouterr()
    assert region_main(args) == 2
    _bilingual(capsys.readouterr().err)


# --- the kiosk's keys -----------------------------------------------------------------------


def test_keys_show_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(tmp_path, tmp_path / "data")
    assert main(["keys", "show", "--settings", str(settings)]) == 0
    shown = capsys.readouterr().out
    device = DeviceKeys(tmp_path / "data" / "keys", KIOSK_ID)
    for name in SUITE_NAMES:
        key = device.key(name)
        line = next(line for line in shown.splitlines() if name in line)
        assert key.key_id in line and key.public.hex() in line
        assert line.startswith("*") == (name == "x25519-chacha20")     # transfer.suite
    for suite_args, name in (([], "x25519-chacha20"), (["--suite", "sm2-sm4"], "sm2-sm4")):
        export = tmp_path / f"kiosk-{name}.pub"
        assert main(["keys", "export", "--settings", str(settings), "--out", str(export),
                     *suite_args]) == 0
        exported, key = load(export), device.key(name)
        assert (exported.key_id, exported.owner, exported.suite) == (key.key_id, KIOSK_ID, name)
        assert exported.private is None and "private" not in json.loads(export.read_text())
        assert key.key_id in capsys.readouterr().out
    assert main(["keys", "show", "--settings", str(settings)]) == 0
    assert capsys.readouterr().out == shown                  # the keys were not regenerated


# --- after a demo run: the outbox and the region's side -------------------------------------


@dataclass(frozen=True)
class DemoRun:
    out: Path
    settings: Path               # data_dir = out/data, where the demo kept its data
    summary: dict[str, object]
    kiosk_pub: Path              # `kiosk keys export`

    @property
    def sealed(self) -> Path:
        return self.out / "data" / "region" / "500103" / f"{self.summary['package_id']}.tbk"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    base = tmp_path_factory.mktemp("demo")
    out, printed = base / "run", io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["demo", "--headless", "--matter", "GA-HJZM-001",
                     "--choose", "handling=500103",     # the 户籍地 the applicant picked
                     "--settings", str(_settings(base / "config", base / "unused")),
                     "--out", str(out)])
        settings = _settings(base / "status", out / "data")
        kiosk_pub = base / "kiosk.pub"
        assert main(["keys", "export", "--settings", str(settings),
                     "--out", str(kiosk_pub)]) == 0
    summary = json.loads(next(line for line in printed.getvalue().splitlines()
                              if line.startswith("{")))
    assert code == 0 and summary["outcome"] == "accepted", summary
    yield DemoRun(out, settings, summary, kiosk_pub)


def test_outbox_status_shows_the_delivered_package(
        demo_run: DemoRun, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "status", "--json", "--settings", str(demo_run.settings)]) == 0
    printed = capsys.readouterr().out
    status = json.loads(printed)
    assert status["counts"] == {"queued": 0, "uploading": 0, "delivered": 1, "purged": 0}
    (entry,) = status["packages"]
    assert (entry["package_id"], entry["case_number"], entry["region"], entry["state"]) == (
        demo_run.summary["package_id"], demo_run.summary["case_number"], "500103", "delivered")
    assert entry["size"] == demo_run.sealed.stat().st_size and not entry["receipt_owed"]
    assert DEMO_NAME not in printed
    assert main(["outbox", "status", "--settings", str(demo_run.settings)]) == 0
    assert "delivered: 1" in capsys.readouterr().out


def test_outbox_deliver_once_with_nothing_due(
        demo_run: DemoRun, capsys: pytest.CaptureFixture[str]) -> None:
    before = demo_run.sealed.read_bytes()
    assert main(["outbox", "deliver", "--once", "--settings", str(demo_run.settings)]) == 0
    assert "delivered" not in capsys.readouterr().out         # nothing was sent again
    assert demo_run.sealed.read_bytes() == before


def test_region_opens_the_delivered_package(
        demo_run: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "opened"
    assert region_main(["open", str(demo_run.sealed),
                 "--key", str(REGIONS / "region-500103-x25519-chacha20.key"),
                 "--kiosks", str(demo_run.kiosk_pub), "--out", str(out)]) == 0
    opened = json.loads(capsys.readouterr().out)
    assert (opened["package_id"], opened["case_number"], opened["kiosk_id"]) == (
        demo_run.summary["package_id"], demo_run.summary["case_number"], KIOSK_ID)
    folder = Path(opened["folder"])
    assert folder == out / str(demo_run.summary["package_id"])
    assert "receipt.pdf" in opened["files"]
    for name in opened["files"]:
        assert (folder / name).is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["applicant"]["name"] == DEMO_NAME        # decrypted for the region


def test_region_open_refuses_another_regions_key(
        demo_run: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "opened"
    assert region_main(["open", str(demo_run.sealed),
                 "--key", str(REGIONS / "region-110101-x25519-chacha20.key"),
                 "--kiosks", str(demo_run.kiosk_pub), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    _bilingual(captured.err)
    assert "another key" in captured.err and captured.out == ""
    assert not out.exists() or list(out.iterdir()) == []


def test_region_open_refuses_a_flipped_byte(
        demo_run: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blob = bytearray(demo_run.sealed.read_bytes())
    blob[len(blob) // 2] ^= 0x04
    copy = tmp_path / "copy.tbk"
    copy.write_bytes(bytes(blob))
    out = tmp_path / "opened"
    assert region_main(["open", str(copy),
                 "--key", str(REGIONS / "region-500103-x25519-chacha20.key"),
                 "--kiosks", str(demo_run.kiosk_pub), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    _bilingual(captured.err)
    assert "tampered" in captured.err and captured.out == ""
    assert list(out.iterdir()) == []


# --- routing --------------------------------------------------------------------------------


class _Noon(datetime):
    """A fixed Tuesday noon: inside the demo's service hours whenever the test runs."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return datetime(2025, 3, 4, 12, 0, tzinfo=tz)


def test_matter_without_a_route_is_unavailable(tmp_path: Path) -> None:
    """A fixed party's region is known before anyone is identified: no route, no start. The
    applicant's own regions are checked after the card is read (tests/routing)."""
    settings = load_settings(_settings(tmp_path, tmp_path / "data", drop_route="110101"))
    assert "110101" not in settings.transfer.routes
    kiosk = build_kiosk(settings)
    try:
        kiosk.open(_Noon.now())
        availability = {m.code: a for m, a in KioskService(kiosk, _Noon).matters()}
    finally:
        kiosk.close()
    blocked = availability["SF-GZ-017"]          # fixed: 北京市东城区 北京市长安公证处
    assert not blocked.available and blocked.reason is Reason.NO_ROUTE
    assert blocked.zh and blocked.en
    others = [m for m in kiosk.catalogue.matters if m.kiosk_can_take and m.code != "SF-GZ-017"]
    assert others and all(availability[m.code].available for m in others)


def test_route_key_of_the_wrong_suite_stops_start_up(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _settings(tmp_path, tmp_path / "data", route_suite=("500103", "sm2-sm4"))
    with pytest.raises(ConfigError) as info:
        build_kiosk(load_settings(path))
    problems = "\n".join(info.value.problems)
    assert "transfer.routes.500103.key" in problems and "sm2-sm4" in problems
    assert len(info.value.problems) == 1 and info.value.zh and info.value.en
    assert main(["outbox", "status", "--settings", str(path)]) == 2
    assert "transfer.routes.500103.key" in capsys.readouterr().err


def test_config_validate_checks_the_route_keys(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A route key of the other suite: `config validate` says so, as start-up would."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    wrong = text.replace("../assets/demo/regions/region-500103-x25519-chacha20.pub",
                         str(ROOT / "assets/demo/regions/region-500103-sm2-sm4.pub"))
    wrong = wrong.replace('"../assets', f'"{ROOT}/assets').replace(
        'catalogue = "catalogue.yaml"', f'catalogue = "{ROOT}/config/catalogue.yaml"')
    path = tmp_path / "wrong.toml"
    path.write_text(wrong, encoding="utf-8")
    assert main(["config", "validate", str(path)]) == 2
    assert "transfer.routes.500103.key" in capsys.readouterr().err


# --- start-up after a crash between commit and receipt --------------------------------------


def test_start_up_reprints_an_owed_receipt_and_closes_an_interrupted_case(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["demo", "--headless", "--matter", "GA-HJZM-001", "--out", str(out)]) == 0
    capsys.readouterr()
    data = out / "data"
    # the crash: the receipt of the committed case never confirmed; and a second case whose
    # ledger row was written but whose package never reached the outbox
    with sqlite3.connect(data / "outbox" / "outbox.sqlite") as conn:
        conn.execute("UPDATE deliveries SET receipt_owed = 1")
        [case] = conn.execute("SELECT DISTINCT case_number FROM deliveries").fetchone()
    with sqlite3.connect(data / "ledger.sqlite") as conn:
        conn.execute("INSERT INTO ledger SELECT 'lost-1', time, department, matter_code, "
                     "matter_name, count, case_type, applicant_masked, phone_masked, window, "
                     "staff, state, scope, regions, transfer_numbers, 'never-sealed', note "
                     "FROM ledger WHERE case_number = ?", (case,))
    kiosk = build_kiosk(load_settings(_settings(tmp_path / "s", data)))
    try:
        kiosk.open(datetime.now())
        [job] = kiosk.printer.virtual.wait_for_jobs(1)
        text = "\n".join(job.transcript)
        assert "补打" in text and case in text.replace("\n", "")
        assert "张*华" in text and DEMO_NAME not in text     # only what the ledger keeps
        assert kiosk.outbox.owed_receipts() == []
        assert kiosk.ledger.find("lost-1").state == "受理中断"   # type: ignore[union-attr]
        assert kiosk.ledger.find(case).state == "已代收待流转"   # type: ignore[union-attr]
    finally:
        kiosk.close()
