"""The device registry: typed options that name a misspelt key wherever settings are read
(``kiosk config validate``, the fleet's check before a swap), and a new device kind added
with one registry entry and one options model."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from fake_sensor import BACKEND, KIND, FakeProximitySensor

from drivers.status import DeviceEvent, DeviceState
from kiosk.bootstrap import build_kiosk
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.urls import printer_options
from kiosk.errors import ConfigError, KioskError
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
TYPO = '\n[devices.receipt_printer]\nbackend = "network"\noptions = { hots = "10.0.0.9" }\n'


def _settings(tmp_path: Path, extra: str) -> Path:
    """The demo settings with its printer section replaced by ``extra``, data in tmp."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    head, _, rest = text.partition("[devices.receipt_printer]")
    rest = rest[rest.index("\n[devices.speaker]"):]
    text = (head + rest + extra).replace('data_dir = "../var/demo"',
                                         f'data_dir = "{tmp_path / "data"}"')
    path = tmp_path / "config" / "settings.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace('"../assets', f'"{ROOT / "assets"}')
                    .replace('"catalogue.yaml"', f'"{ROOT / "config" / "catalogue.yaml"}"'),
                    encoding="utf-8")
    return path


def test_config_validate_names_a_misspelt_printer_option(tmp_path: Path) -> None:
    path = _settings(tmp_path, TYPO)
    line = path.read_text(encoding="utf-8").splitlines().index(
        'options = { hots = "10.0.0.9" }') + 1
    proc = subprocess.run([sys.executable, "-m", "kiosk", "config", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"{path}:{line}:" in proc.stderr
    assert "devices.receipt_printer.options.hots" in proc.stderr
    assert "未知的键 / unknown key `hots`" in proc.stderr and "`host`" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("section, found", [
    ('[devices.receipt_printer]\nbackend = "nope"\n', "unknown backend `nope`"),
    ('[devices.receipt_printer]\nbackend = "network"\noptions = { port = "x" }\n', "port"),
    ('[devices.printer_a4]\nbackend = "emulated"\n', "unknown key `printer_a4`"),
    ('[devices.document_camera]\nbackend = "opencv"\noptions = { fourcc = "MJPEG" }\n',
     "expected four characters"),
])
def test_every_device_setting_is_checked_on_load(tmp_path: Path, section: str,
                                                 found: str) -> None:
    text = _settings(tmp_path, "").read_text(encoding="utf-8")
    if "document_camera" in section:
        head, _, rest = text.partition("[devices.document_camera]")
        text = head + rest[rest.index("\n[devices.barcode_decoder]"):]
    path = tmp_path / "config" / "settings.toml"
    path.write_text(text + "\n" + section, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert any(found in p for p in info.value.problems), info.value.problems


def test_schema_1_sections_still_load(tmp_path: Path) -> None:
    path = _settings(tmp_path, '\n[devices.printer]\nbackend = "emulated"\n'
                               'options = { dots_per_line = 384 }\n')
    path.write_text(path.read_text(encoding="utf-8")
                    .replace("schema_version = 2", "schema_version = 1")
                    .replace("[devices.identity_reader]", "[devices.identity]"),
                    encoding="utf-8")
    settings = load_settings(path)
    assert settings.schema_version == 2
    printer = settings.devices.configured["receipt_printer"]
    assert printer.options == {"dots_per_line": 384}
    assert "identity_reader" in settings.devices.configured


def test_a_new_device_kind_is_one_registry_entry(tmp_path: Path) -> None:
    registry = BUILTIN.extended(kinds=[KIND], backends=[BACKEND])
    path = _settings(tmp_path, '\n[devices.receipt_printer]\nbackend = "emulated"\n'
                               '\n[devices.proximity_sensor]\nbackend = "emulated"\n'
                               'options = { range_cm = 50 }\n')
    with pytest.raises(ConfigError):        # the built-in registry does not know the kind
        load_settings(path)
    settings = load_settings(path, registry)
    kiosk = build_kiosk(settings, registry=registry)
    events: list[DeviceEvent] = []
    kiosk.bus.subscribe("device.proximity_sensor", lambda _t, e: events.append(e))
    try:
        kiosk.open(datetime.now())
        sensor = kiosk.devices["proximity_sensor"]
        assert isinstance(sensor, FakeProximitySensor) and sensor.range_cm == 50
        assert kiosk.devices.statuses()["proximity_sensor"].state is DeviceState.ONLINE
        sensor.someone_near()
        assert [e.kind for e in events][-1] == "presence"
        assert kiosk.run("proximity_sensor", lambda: "on its own thread").result() \
            == "on its own thread"
    finally:
        kiosk.close()
    assert sensor.closed


def test_a_new_kinds_options_are_typed_too(tmp_path: Path) -> None:
    registry = BUILTIN.extended(kinds=[KIND], backends=[BACKEND])
    path = _settings(tmp_path, '\n[devices.proximity_sensor]\nbackend = "emulated"\n'
                               'options = { range = 50 }\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, registry)
    assert any("unknown key `range`" in p and "`range_cm`" in p for p in info.value.problems)


@pytest.mark.parametrize("url, backend, options", [
    ("tcp://10.0.0.9:9101", "network", {"host": "10.0.0.9", "port": 9101}),
    ("file:///dev/usb/lp0", "file", {"path": "/dev/usb/lp0"}),
    ("serial:socket://127.0.0.1:9100?baudrate=19200", "serial",
     {"url": "socket://127.0.0.1:9100", "baudrate": 19200}),
    ("usb://0416:5011?out=0x02", "usb",
     {"vendor_id": "0416", "product_id": "5011", "in_ep": "0x81", "out_ep": "0x02"}),
])
def test_a_printer_url_becomes_the_backends_options(url: str, backend: str,
                                                    options: dict[str, object]) -> None:
    assert printer_options(url) == (backend, options)
    spec = BUILTIN.spec("receipt_printer", backend, options)   # valid for the backend
    assert spec.backend.name == backend


@pytest.mark.parametrize("url", ["lpt://1", "tcp://host:port", "serial:/dev/ttyS0?baudrate=x"])
def test_a_bad_printer_url_is_a_typed_error(url: str) -> None:
    with pytest.raises(KioskError) as info:
        printer_options(url)
    assert info.value.code == "bad_printer_url"
