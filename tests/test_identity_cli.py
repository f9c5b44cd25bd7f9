"""``kiosk devices identity`` against the GA/T 467 emulator on a TCP port (real pyserial
``socket://`` transport; the CLI runs as its own process)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.identity.emulated import load_identities
from drivers.identity.ga467.emulator import Ga467Module, TcpModule

ROOT = Path(__file__).resolve().parent.parent
CARDS = load_identities(ROOT / "assets" / "demo" / "identities.toml")


@pytest.fixture
def line() -> Iterator[tuple[Ga467Module, str]]:
    module = Ga467Module()
    server = TcpModule(module)
    yield module, server.url
    server.close()


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_reads_a_card_as_json_and_saves_the_photo(line: tuple[Ga467Module, str],
                                                  tmp_path: Path) -> None:
    module, url = line
    module.present(CARDS["resident"])
    photo = tmp_path / "photo.wlt"
    done = kiosk("devices", "identity", "--backend", "ga467", "--port", url, "--json",
                 "--photo-out", str(photo))
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["card_type"] == "resident" and fields["id_number"] == "110101195803121237"
    assert fields["valid_to"] is None and fields["nation"] == "汉"
    assert len(photo.read_bytes()) == 1024           # no decoder configured: the raw WLT


def test_no_card_exits_non_zero_with_one_line(line: tuple[Ga467Module, str]) -> None:
    _, url = line
    done = kiosk("devices", "identity", "--backend", "ga467", "--port", url, "--timeout", "0.5")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("card_not_found:")


def test_emulator_by_hand() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "devices", "emulate", "ga467"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("GA/T 467 module on /dev/pts/")
    proc.stdout.readline()
    proc.stdin.write("present hmt\nfault nonsense\nquit\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "ok"
    assert proc.stdout.readline().startswith("!")
    assert proc.wait(timeout=30) == 0


# --- eMRTD over PC/SC (the pcsc_rig fixture: pcscd + vsmartcard-vpcd) ---------------------
PASSPORT_KEY = "EJ0000001,880923,330410"


def test_reads_a_passport_over_pcsc_as_json(pcsc_rig, tmp_path: Path) -> None:
    from drivers.identity.emrtd.emulator import EmrtdCard, VpcdCard, files_for

    face = (ROOT / "assets" / "demo" / "face.jp2").read_bytes()
    link = VpcdCard(EmrtdCard(files_for(CARDS["passport"], face, "jp2")), port=pcsc_rig.port)
    link.present()
    try:
        photo = tmp_path / "face.png"
        done = kiosk("devices", "identity", "--backend", "pcsc", "--reader",
                     pcsc_rig.reader_names[0], "--mrz", PASSPORT_KEY, "--json",
                     "--photo-out", str(photo))
        wrong = kiosk("devices", "identity", "--backend", "pcsc", "--mrz",
                      "EJ0000001,880923,330411")
    finally:
        link.remove()
        pcsc_rig.wait_for_card(present=False)
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert (fields["card_type"], fields["document_number"], fields["birth_date"]) == \
        ("emrtd", "EJ0000001", "1988-09-23")
    assert photo.read_bytes().startswith(b"\x89PNG")
    assert wrong.returncode == 1 and wrong.stderr.startswith("emrtd_access_denied:")


def test_pcsc_needs_the_mrz_key() -> None:
    done = kiosk("devices", "identity", "--backend", "pcsc")
    assert done.returncode == 2 and "--mrz" in done.stderr


def test_emrtd_emulator_by_hand(pcsc_rig) -> None:
    from drivers.identity import MrzKey
    from drivers.identity.emrtd.reader import PcscReader

    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "devices", "emulate", "emrtd",
                             "--vpcd-port", str(pcsc_rig.port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    reader = PcscReader(reader=pcsc_rig.reader_names[0], poll_s=0.2)
    reader.open()
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"eMRTD chip for vpcd on 127.0.0.1:{pcsc_rig.port}")
        assert proc.stdout.readline().startswith("commands:")
        proc.stdin.write("fault nonsense\npresent passport\n")
        proc.stdin.flush()
        assert proc.stdout.readline().startswith("! unknown eMRTD fault")
        assert proc.stdout.readline() == "ok\n"
        key = MrzKey(*PASSPORT_KEY.split(","))
        assert reader.read(10, key).name_en == "LIU, YANG"
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        reader.close()
        proc.kill()
        pcsc_rig.wait_for_card(present=False)
