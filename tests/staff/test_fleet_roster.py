"""The roster as a signed hall layer: ``kiosk-fleet staff add|change|revoke|list`` on a copy
of the demo operator tree (ID number and PIN through standard input, never argv), the bundle
carrying it, a kiosk signing in with it, a damaged roster refused at build; and the signed
``staff_open`` command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleetops.cli import main, workspace
from kiosk.fleet.commands import CommandVerifier, keys_document, sign_command
from kiosk.fleet.errors import FleetError
from kiosk.staff.audit import AuditLog
from kiosk.staff.authority import Refused, SignedIn, StaffAuthority
from kiosk.staff.roles import Role
from kiosk.staff.roster import ROSTER_FILE, read_roster, read_secret
from kiosk.staff.session import Mode

ROOT = Path(__file__).resolve().parents[2]
HALL, KIOSK = "lizhou-zwzx", "510802-0001"
CARD, PIN = "51080219850612003X", "482913"


def _fleet(tree: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleetops", *argv, "--tree", str(tree)],
                          input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "assets" / "demo" / "fleet", tree)
    return tree


def _add(tree: Path, staff_id: str = "g001", card: str = CARD, pin: str = PIN,
         roles: str = "guide,window") -> subprocess.CompletedProcess[str]:
    return _fleet(tree, "staff", "add", "--hall", HALL, "--id", staff_id, "--name", "李小红",
                  "--roles", roles, "--valid-until", "2030-12-31",
                  stdin=f"{card}\n{pin}\n{pin}\n")


def test_added_staff_signs_in_on_the_kiosk_from_the_built_bundle(tree: Path,
                                                                 tmp_path: Path) -> None:
    done = _add(tree)
    assert done.returncode == 0, done.stderr
    assert "hall.key" in done.stderr                       # the install note for the new key
    layer = tree / "layers" / "hall" / HALL / ROSTER_FILE
    text = layer.read_text(encoding="utf-8")
    assert CARD not in text and CARD.lower() not in text and PIN not in text
    assert main(["init", "--tree", str(tree)]) == 0
    ws = workspace(_args(tree))
    bundle = ws.build(ws.tree.inventory.kiosk(KIOSK), 1)
    roster = read_roster(bundle.files[ROSTER_FILE])
    other = ws.build(ws.tree.inventory.kiosk("510107-0001"), 1)
    assert ROSTER_FILE not in other.files                    # another hall: no roster
    secret = read_secret(tree / ".fleet" / "staff" / f"{HALL}.key")
    assert secret is not None
    clock = lambda: datetime(2026, 12, 7, 9, tzinfo=UTC)       # noqa: E731
    authority = StaffAuthority(tmp_path / "k", lambda: roster, secret,
                               AuditLog(tmp_path / "k", KIOSK, clock), clock)
    result = authority.sign_in(CARD, PIN, Mode.SERVICE)
    assert isinstance(result, SignedIn) and result.session.roles == {Role.GUIDE, Role.WINDOW}


def _args(tree: Path) -> object:
    import argparse
    return argparse.Namespace(tree=tree, repo=None, root_keys=None, uploads=None)


def test_change_revoke_and_list(tree: Path) -> None:
    assert _add(tree).returncode == 0
    assert _add(tree, "s001", "510802197001010011", "111111", "supervisor").returncode == 0
    again = _add(tree, "g002", CARD)                          # the same card twice
    assert again.returncode != 0 and " / " in again.stderr
    changed = _fleet(tree, "staff", "change", "--hall", HALL, "--id", "g001", "--new-pin",
                     "--roles", "guide", stdin="222222\n222222\n")
    assert changed.returncode == 0, changed.stderr
    mismatch = _fleet(tree, "staff", "change", "--hall", HALL, "--id", "g001", "--new-pin",
                      stdin="333333\n444444\n")
    assert mismatch.returncode != 0 and "不一致" in mismatch.stderr
    assert _fleet(tree, "staff", "revoke", "--hall", HALL, "--id", "s001").returncode == 0
    listed = _fleet(tree, "staff", "list", "--hall", HALL)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert any(line.startswith("g001") and "window" not in line for line in lines)
    assert any(line.startswith("s001") and "revoked" in line for line in lines)
    roster = read_roster((tree / "layers" / "hall" / HALL / ROSTER_FILE).read_bytes())
    assert roster.staff[0].card not in listed.stdout


@pytest.mark.parametrize(("argv", "stdin"), [
    (["--roles", "janitor"], f"{CARD}\n{PIN}\n{PIN}\n"),
    (["--roles", "guide", "--valid-until", "someday"], f"{CARD}\n{PIN}\n{PIN}\n"),
    (["--roles", "guide"], f"{CARD}\n12345\n12345\n"),
    (["--roles", "guide"], f"not-a-number\n{PIN}\n{PIN}\n")])
def test_add_refusals_are_bilingual(tree: Path, argv: list[str], stdin: str) -> None:
    base = ["staff", "add", "--hall", HALL, "--id", "g009", "--name", "王五",
            "--valid-until", "2030-01-01"]
    done = _fleet(tree, *base, *argv, stdin=stdin)
    assert done.returncode != 0 and " / " in done.stderr and "Traceback" not in done.stderr
    assert not (tree / "layers" / "hall" / HALL / ROSTER_FILE).exists()


def test_unknown_hall_is_refused(tree: Path) -> None:
    done = _fleet(tree, "staff", "list", "--hall", "nowhere")
    assert done.returncode != 0 and "nowhere" in done.stderr


def test_a_damaged_roster_fails_the_build(tree: Path) -> None:
    assert _add(tree).returncode == 0
    layer = tree / "layers" / "hall" / HALL / ROSTER_FILE
    doc = json.loads(layer.read_text(encoding="utf-8"))
    doc["staff"][0]["pin"]["n"] = 2 ** 30                       # a memory bomb for scrypt
    layer.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["init", "--tree", str(tree)]) == 0
    ws = workspace(_args(tree))
    with pytest.raises(FleetError) as info:
        ws.build(ws.tree.inventory.kiosk(KIOSK), 1)
    assert info.value.code == "invalid" and "roster" in info.value.en


def test_staff_open_command_is_signed_with_its_staff_id(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    keys = tmp_path / "keys.json"
    keys.write_bytes(keys_document([key.public_key()]))
    verifier = CommandVerifier(KIOSK)
    command = verifier.verify(sign_command(key, KIOSK, "staff_open", staff="m007"), keys)
    assert command.command == "staff_open" and command.staff == "m007"
    forged = json.loads(sign_command(key, KIOSK, "staff_open", staff="m007"))
    forged["staff"] = "s001"                                    # another person: signature fails
    with pytest.raises(FleetError) as info:
        verifier.verify(json.dumps(forged).encode(), keys)
    assert info.value.code == "bad_signature"
    for staff, name in ((None, "staff_open"), ("m007", "maintenance_on"),
                        ("110101199003071234", "staff_open")):
        with pytest.raises(FleetError):
            sign_command(key, KIOSK, name, staff=staff)
    refused = StaffAuthority(tmp_path / "k", lambda: None, None,
                             AuditLog(tmp_path / "k", KIOSK), lambda: datetime.now(UTC))
    refused.on_emergency_event("staff.emergency_open", {
        "staff": command.staff, "id": command.id, "issued_at": command.issued_at.isoformat()})
    assert isinstance(refused.open_emergency("m007", Mode.SERVICE), SignedIn)
    assert isinstance(refused.open_emergency("m007", Mode.SERVICE), Refused)
