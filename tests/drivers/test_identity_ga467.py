"""The GA/T 467 reader backend through real transports: pyserial on a pty and on a TCP
socket (``socket://``), against the module emulator. Nothing of pyserial is mocked; the only
stand-in is the vendor's photo library (tests/drivers/data/fake_wlt.c), which is licensed
and cannot run here."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from drivers.errors import DeviceError
from drivers.identity import CardNotFound, CardRemoved, CardType, Identity
from drivers.identity.emulated import load_identities
from drivers.identity.ga467.emulator import EmulatedCard, Ga467Module, PtyModule, TcpModule
from drivers.identity.ga467.frame import Command, FrameTimeout
from drivers.identity.ga467.photo import PhotoDecodeFailed, VendorWltLibrary
from drivers.identity.ga467.reader import Ga467Reader
from drivers.identity.ga467.status import CardRejected, ModuleFault
from drivers.identity.ga467.text import LAYOUTS
from drivers.status import DeviceEvent

ROOT = Path(__file__).resolve().parents[2]
# The cards a GA/T 467 module reads (passports go through PC/SC: test_identity_pcsc.py).
IDENTITIES = {key: card for key, card in
              load_identities(ROOT / "assets" / "demo" / "identities.toml").items()
              if card.card_type in LAYOUTS}
WAIT_S = 10.0
# Identity fields each layout carries (the rest cannot come off that card).
_ON_CARD = {"name": "name", "name_en": "name_en", "sex": "sex", "nation": "nation_code",
            "address": "address", "number": "id_number", "issuer": "issuer",
            "pass_number": "document_number", "nationality": "nationality"}


def as_read(identity: Identity) -> Identity:
    """What a card of this identity yields: fields its layout lacks are empty."""
    carried = {_ON_CARD[name] for name, _, _ in LAYOUTS[identity.card_type] if name in _ON_CARD}
    if "nation_code" in carried:
        carried.add("nation")
    cleared = {f: "" for f in ("name_en", "nation_code", "nation", "address", "issuer",
                               "document_number") if f not in carried}
    if "nationality" not in carried:
        cleared["nationality"] = "CHN"
    out = dataclasses.replace(identity, **cleared)
    if not out.name:
        out = dataclasses.replace(out, name=out.name_en)
    return out


def same_person(read: Identity, expected: Identity) -> None:
    strip = {"photo": None, "photo_format": None, "raw_wlt": None}
    assert dataclasses.replace(read, **strip) == dataclasses.replace(as_read(expected), **strip)


@pytest.fixture
def module() -> Ga467Module:
    return Ga467Module(baudrate=115200)


@pytest.fixture(params=["pty", "tcp"])
def url(request: pytest.FixtureRequest, module: Ga467Module) -> Iterator[str]:
    line = PtyModule(module) if request.param == "pty" else TcpModule(module)
    yield line.port if isinstance(line, PtyModule) else line.url
    line.close()


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def reader(url: str, events: list[DeviceEvent]) -> Iterator[Ga467Reader]:
    r = Ga467Reader(url, response_timeout=0.5, poll_s=0.05)
    r.open(events.append)
    yield r
    r.close()


def test_reads_every_card_type(module: Ga467Module, reader: Ga467Reader) -> None:
    assert reader.status().usable and reader.sam_id.startswith("05.01-20100422-")
    kinds = set()
    for key, identity in IDENTITIES.items():
        module.present(identity)
        read = reader.read(WAIT_S)
        same_person(read, identity)
        assert read.raw_wlt is not None and len(read.raw_wlt) == 1024 and read.photo is None
        kinds.add(read.card_type)
        module.remove()
        assert key
    assert kinds == {CardType.RESIDENT, CardType.HMT_RESIDENCE, CardType.FOREIGNER_2017,
                     CardType.FOREIGNER_2023}


def test_expired_card_reads_and_says_so(module: Ga467Module, reader: Ga467Reader) -> None:
    module.present(IDENTITIES["resident_expired"])
    assert reader.read(WAIT_S).is_expired(date(2026, 11, 22))


def test_appended_address_replaces_the_printed_one(module: Ga467Module,
                                                   reader: Ga467Reader) -> None:
    moved = "四川省广元市利州区示例大道100号"
    module.present(EmulatedCard(IDENTITIES["resident"], extra_addresses=[moved]))
    assert reader.read(WAIT_S).address == moved


def test_fingerprint_read(module: Ga467Module, url: str) -> None:
    r = Ga467Reader(url, response_timeout=0.5, poll_s=0.05, fingerprint=True)
    r.open()
    try:
        module.present(EmulatedCard(IDENTITIES["resident"], fingerprints=bytes(1024)))
        same_person(r.read(WAIT_S), IDENTITIES["resident"])
        assert Command.READ_TEXT_PHOTO_FINGERPRINT in module.commands
    finally:
        r.close()


def test_no_card_times_out_as_card_not_found(module: Ga467Module, reader: Ga467Reader) -> None:
    module.present(IDENTITIES["resident"])
    module.inject("no_card")
    with pytest.raises(CardNotFound):
        reader.read(0.3)
    module.clear_faults()
    same_person(reader.read(WAIT_S), IDENTITIES["resident"])


def test_a_garbled_frame_is_resent(module: Ga467Module, reader: Ga467Reader) -> None:
    module.present(IDENTITIES["hmt"])
    module.commands.clear()
    module.inject("checksum_error")
    same_person(reader.read(WAIT_S), IDENTITIES["hmt"])
    assert module.commands.count(Command.FIND) >= 2      # the garbled answer was asked again


def test_card_pulled_mid_read_then_put_back(module: Ga467Module, reader: Ga467Reader) -> None:
    module.present(IDENTITIES["resident"])
    module.inject("card_removed_mid_read")
    with pytest.raises(CardRemoved) as err:
        reader.read(WAIT_S)
    assert "移开" in err.value.zh and err.value.en
    module.present(IDENTITIES["resident"])               # nothing restarted
    same_person(reader.read(WAIT_S), IDENTITIES["resident"])


def test_sam_self_test_failure_is_a_module_fault(module: Ga467Module,
                                                 reader: Ga467Reader) -> None:
    module.present(IDENTITIES["resident"])
    module.inject("sam_failure")
    with pytest.raises(ModuleFault) as err:
        reader.read(WAIT_S)
    assert err.value.sw3 == 0x60 and "自检" in err.value.zh
    module.clear_faults()
    same_person(reader.read(WAIT_S), IDENTITIES["resident"])


def test_silence_is_a_timeout_and_the_reader_recovers(module: Ga467Module,
                                                      reader: Ga467Reader) -> None:
    module.present(IDENTITIES["resident"])
    module.inject("silence")
    with pytest.raises(FrameTimeout) as err:
        reader.read(WAIT_S)
    assert isinstance(err.value, DeviceError) and "无响应" in err.value.zh
    module.clear_faults()
    same_person(reader.read(WAIT_S), IDENTITIES["resident"])
    assert reader.status().usable


def test_sam_failure_at_open_is_reported(module: Ga467Module, url: str) -> None:
    module.inject("sam_failure")
    r = Ga467Reader(url, response_timeout=0.5)
    with pytest.raises(ModuleFault):
        r.open()
    assert not r.status().usable
    r.close()


def test_unreachable_port_is_a_device_fault() -> None:
    r = Ga467Reader("/dev/does-not-exist", response_timeout=0.2)
    with pytest.raises(DeviceError) as err:
        r.open()
    assert "无法连接读卡器" in err.value.zh


def test_bad_card_data_is_refused(module: Ga467Module, reader: Ga467Reader) -> None:
    forged = dataclasses.replace(IDENTITIES["resident"], id_number="110101195803121230")
    module.present(forged)
    with pytest.raises(DeviceError) as err:
        reader.read(WAIT_S)
    assert err.value.code == "card_data_invalid" and "校验" in err.value.zh


def test_poller_reports_a_card_placed_and_lifted(module: Ga467Module, reader: Ga467Reader,
                                                 events: list[DeviceEvent]) -> None:
    seen = threading.Event()

    def kinds() -> list[str]:
        return [e.kind for e in events if e.kind.startswith("card_")]

    module.present(IDENTITIES["resident"])
    for _ in range(int(WAIT_S / 0.05)):
        if "card_inserted" in kinds():
            break
        seen.wait(0.05)
    module.remove()
    for _ in range(int(WAIT_S / 0.05)):
        if "card_removed" in kinds():
            break
        seen.wait(0.05)
    assert kinds()[:2] == ["card_inserted", "card_removed"]


def test_rejected_card_type(module: Ga467Module) -> None:
    assert isinstance(CardRejected(0x40, "无法识别的证件类型", "unknown"), DeviceError)


@pytest.fixture(scope="module")
def vendor_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the stand-in photo library")
    out = tmp_path_factory.mktemp("wlt") / "libfakewlt.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out),
                    str(Path(__file__).parent / "data" / "fake_wlt.c")], check=True)
    return out


def test_photo_plugin_decodes_through_ctypes(module: Ga467Module, url: str,
                                             vendor_library: Path) -> None:
    from io import BytesIO

    from PIL import Image

    r = Ga467Reader(url, response_timeout=0.5,
                    photo_decoder=VendorWltLibrary(str(vendor_library), mode=7))
    r.open()
    try:
        module.present(IDENTITIES["resident"])
        read = r.read(WAIT_S)
        module.present(EmulatedCard(IDENTITIES["resident"], wlt=b"X" * 1024))
        undecodable = r.read(WAIT_S)          # the library says no: identified, no photo
    finally:
        r.close()
    assert undecodable.photo is None and undecodable.raw_wlt == b"X" * 1024
    assert read.photo_format == "png" and read.photo is not None
    image = Image.open(BytesIO(read.photo))
    assert image.size == (102, 126)
    assert image.getpixel((5, 9)) == (5, 9, 7)           # BGR from the library → RGB
    with pytest.raises(PhotoDecodeFailed):
        VendorWltLibrary(str(vendor_library)).decode(b"X" * 1024)
    with pytest.raises(PhotoDecodeFailed):
        VendorWltLibrary("/nonexistent/libwlt.so")
