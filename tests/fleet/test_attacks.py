"""Attacks on the configuration channel, through the real repository over HTTP: each is
refused with its reason recorded, and the kiosk keeps serving on last-known-good."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from fleet_rig import OPEN_HOURS, Kiosks, Operator
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata

from fleetops import repo as repo_module
from kiosk.fleet import check
from kiosk.fleet.node import FleetNode
from kiosk.lifecycle import KioskState

KIOSK, OTHER = "510802-0001", "510107-0001"


def _applied_v1(kiosks: Kiosks, operator: Operator) -> FleetNode:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    assert node.agent.store.state().current == 1
    return node


def _refused(node: FleetNode, code: str) -> None:
    """Refused for ``code``, still on version 1, still serving."""
    assert node.agent is not None
    state = node.agent.store.state()
    assert state.refused is not None, "nothing was refused"
    assert state.refused["code"] == code, state.refused
    assert state.current == 1 and state.last_known_good == 1
    kiosk = node.host.kiosk
    assert kiosk.lifecycle.state is KioskState.AVAILABLE
    assert kiosk.settings.kiosk.name.startswith("广元市利州区")
    assert any(a.get("reason") == code for a in kiosk.lifecycle.alerts)
    kiosk.lifecycle.begin_session(OPEN_HOURS)


def _bundle_file(operator: Operator, kiosk_id: str) -> Path:
    folder = operator.ws.repo.targets_dir / "kiosks" / kiosk_id
    newest = max(folder.glob("*.bundle.zip"), key=lambda p: p.stat().st_mtime_ns)
    return newest


def test_tampered_bundle(kiosks: Kiosks, operator: Operator) -> None:
    node = _applied_v1(kiosks, operator)
    operator.publish()
    target = _bundle_file(operator, KIOSK)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    assert node.agent is not None
    node.agent.poll()
    _refused(node, "tampered")


def test_another_kiosks_bundle_in_its_place(kiosks: Kiosks, operator: Operator) -> None:
    node = _applied_v1(kiosks, operator)
    operator.publish()
    shutil.copy(_bundle_file(operator, OTHER), _bundle_file(operator, KIOSK))
    assert node.agent is not None
    node.agent.poll()
    _refused(node, "tampered")


def test_a_signed_bundle_built_for_another_kiosk(kiosks: Kiosks, operator: Operator) -> None:
    """Even the operator's own keys cannot give one kiosk another's configuration."""
    node = _applied_v1(kiosks, operator)
    ws = operator.reload()
    ws.repo.publish([ws.build(ws.tree.inventory.kiosk(OTHER), 2)], version=2)
    info = ws.repo.load("targets").signed.targets[f"kiosks/{OTHER}/bundle.zip"]
    path = f"kiosks/{KIOSK}/bundle.zip"
    targets = ws.repo.load("targets").signed
    targets.targets[path] = type(info)(info.length, info.hashes, path, info.unrecognized_fields)
    shutil.copy(_bundle_file(operator, OTHER), ws.repo.targets_dir / "kiosks" / KIOSK
                / f"{info.hashes['sha256']}.bundle.zip")
    targets.version += 1          # signed with the real targets key: TUF accepts it
    ws.repo._write(Metadata(targets), ws.repo.keys.signers("targets"),
                   f"{targets.version}.targets.json")
    ws.repo._snapshot_and_timestamp(targets.version)
    assert node.agent is not None
    node.agent.poll()
    _refused(node, "wrong_kiosk")


def test_rollback_to_older_metadata(kiosks: Kiosks, operator: Operator) -> None:
    node = _applied_v1(kiosks, operator)
    metadata = operator.ws.repo.metadata_dir
    old_timestamp = (metadata / "timestamp.json").read_bytes()
    operator.edit("hall/lizhou-zwzx/settings.toml", "1号机", "一号机")
    operator.publish()
    assert node.agent is not None
    node.agent.poll()
    assert node.agent.store.state().current == 2
    (metadata / "timestamp.json").write_bytes(old_timestamp)     # a mirror replays v1
    node.agent.poll()
    state = node.agent.store.state()
    assert state.refused is not None and state.refused["code"] == "rollback"
    assert state.current == 2
    assert node.host.kiosk.settings.kiosk.name.endswith("一号机")


def test_expired_timestamp_freezes_nothing(kiosks: Kiosks, operator: Operator,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The timer that re-signs timestamp stopped: the kiosk refuses, alerts, keeps serving."""
    node = _applied_v1(kiosks, operator)
    monkeypatch.setitem(repo_module.EXPIRY, "timestamp", timedelta(days=-1))
    operator.ws.repo.refresh_timestamp()
    assert node.agent is not None
    node.agent.poll()
    _refused(node, "expired")


def test_metadata_signed_by_an_unknown_key(kiosks: Kiosks, operator: Operator) -> None:
    node = _applied_v1(kiosks, operator)
    operator.publish()
    path = operator.ws.repo.metadata_dir / "timestamp.json"
    forged = Metadata.from_bytes(path.read_bytes())
    forged.signed.version += 1
    forged.signatures.clear()
    forged.sign(CryptoSigner.generate_ed25519())
    path.write_bytes(forged.to_bytes())
    assert node.agent is not None
    node.agent.poll()
    _refused(node, "untrusted")


def test_key_rotation_is_followed(kiosks: Kiosks, operator: Operator) -> None:
    node = _applied_v1(kiosks, operator)
    for role in ("timestamp", "snapshot", "targets", "root"):
        operator.ws.repo.rotate_key(role)
    operator.edit("hall/lizhou-zwzx/settings.toml", "1号机", "一号机")
    operator.publish()
    assert node.agent is not None
    node.agent.poll()
    assert node.agent.store.state().current == 2
    assert node.host.kiosk.settings.kiosk.name.endswith("一号机")
    trusted = Metadata.from_file(str(node.agent.client._metadata_dir / "root.json"))
    assert trusted.signed.version == 5


def test_a_misspelt_device_option_is_refused_before_the_swap(
        kiosks: Kiosks, operator: Operator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle from an operator tool that did not check device options (an older one): the
    kiosk's own check names the key, refuses the bundle and keeps its printer."""
    node = _applied_v1(kiosks, operator)
    printer = node.host.kiosk.printer
    layer = operator.tree_dir / "layers" / "kiosk" / KIOSK / "settings.toml"
    layer.parent.mkdir(parents=True)
    layer.write_text('[devices.receipt_printer]\nbackend = "network"\n'
                     'options = { hots = "10.0.0.9", prot = 9100 }\n', encoding="utf-8")
    with monkeypatch.context() as unchecked:
        unchecked.setattr(check, "device_problems", lambda settings: [])
        operator.publish()
    assert node.agent is not None
    node.agent.poll()
    _refused(node, "invalid")
    refused = node.agent.store.state().refused
    assert refused is not None and "hots" in str(refused) and "prot" in str(refused)
    assert node.host.kiosk.printer is printer
