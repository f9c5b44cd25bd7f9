"""The identity device a kiosk builds from its settings, on real transports: a GA/T 467
module on TCP (pyserial ``socket://``) and a passport chip through pcscd and vpcd."""

from __future__ import annotations

from pathlib import Path

from drivers.identity import CardType, MrzKey
from drivers.identity.emrtd.emulator import EmrtdCard, VpcdCard, files_for
from drivers.identity.emulated import load_identities
from drivers.identity.ga467.emulator import Ga467Module, TcpModule
from drivers.status import DeviceState
from kiosk.bootstrap import device_context
from kiosk.devices.builtin import BUILTIN
from kiosk.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
CARDS = load_identities(ROOT / "assets" / "demo" / "identities.toml")


def test_ga467_plus_pcsc_reads_cards_without_a_key_and_passports_with_one(pcsc_rig,
                                                                          tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path)
    module = Ga467Module()
    line = TcpModule(module)
    face = (ROOT / "assets" / "demo" / "face.jpg").read_bytes()
    chip = VpcdCard(EmrtdCard(files_for(CARDS["passport"], face)), port=pcsc_rig.port)
    reader = BUILTIN.make("identity_reader", "ga467+pcsc", {
        "port": line.url, "reader": pcsc_rig.reader_names[0]}, device_context(settings))
    reader.open()
    try:
        module.present(CARDS["resident"])
        chip.present()
        assert reader.read(10).card_type is CardType.RESIDENT
        passport = reader.read(10, MrzKey("EJ0000001", "880923", "330410"))
        assert (passport.card_type, passport.document_number) == (CardType.EMRTD, "EJ0000001")
        assert reader.status().state is DeviceState.ONLINE
    finally:
        reader.close()
        line.close()
        chip.remove()
        pcsc_rig.wait_for_card(present=False)
