"""The region directory through the real fleet path: the operator publishes it from a table
into the TUF repository served on loopback, kiosks take it in on their poll (no bundle
rebuilt), revocations arrive apart, and a tampered or wrongly signed directory is refused
while the last good one keeps routing — also across a restart."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from directory_rig import EXPIRED, RegionTable
from fleet_rig import Kiosks, Operator

from fleetops.cli import main
from fleetops.directory import publish_target
from fleetops.directory_table import build_document
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.directory import ALERT, REGIONS_TARGET
from kiosk.fleet.node import FleetNode
from kiosk.routing.directory import RegionDirectory
from kiosk.routing.lookup import RegionRoute, RegionUnavailable
from kiosk.transfer.envelope import Recipient

KIOSK = "510802-0001"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _table(tmp_path: Path) -> RegionTable:
    table = RegionTable(tmp_path / "table")
    table.add("510802", "广元市利州区", departments={"hukou": "广元市公安局利州区分局"})
    table.add("510800", "广元市", phone="0839-3000000")
    table.add("510824", "苍溪县", valid=(EXPIRED,), phone="0839-5222222")
    table.add("exchange:national", "全国一体化政务服务平台", phone="12345")
    return table


def _cli(operator: Operator, *argv: str | Path) -> int:
    return main([*map(str, argv), "--tree", str(operator.tree_dir),
                 "--repo", str(operator.ws.repo.folder)])


def _node(kiosks: Kiosks, operator: Operator) -> FleetNode:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    return node


def _directory(node: FleetNode) -> RegionDirectory:
    current = node.host.kiosk.region_directory()
    assert isinstance(current, RegionDirectory), "no signed directory in use"
    return current


def _route(answer: RegionRoute | RegionUnavailable) -> RegionRoute:
    assert isinstance(answer, RegionRoute), answer
    return answer


def _published(tmp_path: Path, kiosks: Kiosks, operator: Operator
               ) -> tuple[RegionTable, FleetNode]:
    table = _table(tmp_path)
    node = _node(kiosks, operator)
    assert node.host.kiosk.region_directory() is None      # nothing published yet
    assert _cli(operator, "directory", "publish", "--table", table.toml()) == 0
    assert node.agent is not None
    node.agent.poll()
    return table, node


def test_published_directory_routes_own_city_and_exchange(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    assert node.agent is not None
    bundle_before = node.agent.store.state().current
    directory = _directory(node)
    own = _route(directory.lookup("510802", "hukou", NOW))
    assert (own.fallback, own.department) == ("own", "广元市公安局利州区分局")
    assert own.recipient == Recipient("510802", table.keys["510802"][0].public)
    city = _route(directory.lookup("510812", "hukou", NOW))
    assert (city.served_by, city.fallback, city.phone) == ("510800", "city", "0839-3000000")
    far = _route(directory.lookup("440305", "hukou", NOW))          # 深圳南山: no entry
    assert (far.served_by, far.recipient.public_key) == (
        "exchange:national", table.keys["exchange:national"][0].public)
    expired = directory.lookup("510824", "hukou", NOW)              # own entry, key lapsed
    assert isinstance(expired, RegionUnavailable)
    assert (expired.reason, expired.phone) == ("no_valid_key", "0839-5222222")
    report = node.agent.config_report()
    assert report["directory"] == {"version": 1, "revocations": None, "error": None}
    # its own target: the kiosk's configuration version did not move
    assert node.agent.store.state().current == bundle_before
    assert operator.ws.repo.bundle_version() == bundle_before


def test_revocation_published_apart_reaches_the_kiosk(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    key_id = table.keys["510802"][0].key_id
    assert _cli(operator, "directory", "revoke", key_id, "--reason", "私钥泄露 / key leaked") == 0
    assert node.agent is not None
    node.agent.poll()
    answer = _directory(node).lookup("510802", "hukou", NOW)
    assert isinstance(answer, RegionUnavailable)
    assert answer.reason == "revoked" and answer.phone == "0839-3260000"
    assert "吊销" in answer.zh and "revoked" in answer.en
    assert node.agent.config_report()["directory"]["revocations"] == 1
    # the next directory version does not bring the key back
    assert _cli(operator, "directory", "publish", "--table", table.toml()) == 0
    node.agent.poll()
    assert node.agent.config_report()["directory"]["version"] == 2
    assert _directory(node).lookup("510802", "x", NOW).reason == "revoked"  # type: ignore[union-attr]
    # the directory's versions are its own: the bundles' counter and listing ignore them
    assert operator.ws.repo.bundle_version() == node.agent.store.state().current == 1
    assert set(operator.ws.repo.listed()) == {"510802-0001", "510802-0002", "510107-0001"}


def _kept_v1(node: FleetNode, code: str) -> None:
    assert node.agent is not None
    report = node.agent.config_report()["directory"]
    assert report["version"] == 1 and report["error"]["code"] == code, report
    assert _route(_directory(node).lookup("510802", "hukou", NOW)).served_by == "510802"
    alerts = [a for a in node.host.kiosk.lifecycle.alerts if a["code"] == ALERT]
    assert [a["reason"] for a in alerts] == [code]
    assert alerts[0]["zh"] and alerts[0]["en"]


def test_tampered_directory_is_refused_and_the_last_good_kept(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    table.add("510812", "广元市朝天区")
    assert _cli(operator, "directory", "publish", "--table", table.toml()) == 0
    served = max((operator.ws.repo.targets_dir / "directory").glob("*.regions.json"),
                 key=lambda p: p.stat().st_mtime_ns)
    served.write_bytes(served.read_bytes().replace("朝天区".encode(), "青川县".encode()))
    assert node.agent is not None
    node.agent.poll()
    _kept_v1(node, "tampered")
    node.agent.poll()                         # refused again: alerted once
    _kept_v1(node, "tampered")


def test_a_refused_directory_does_not_hold_back_a_revocation(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    assert _cli(operator, "directory", "publish", "--table", table.toml()) == 0
    served = max((operator.ws.repo.targets_dir / "directory").glob("*.regions.json"),
                 key=lambda p: p.stat().st_mtime_ns)
    served.write_bytes(served.read_bytes()[:-2])
    key_id = table.keys["510802"][0].key_id
    assert _cli(operator, "directory", "revoke", key_id, "--reason", "私钥泄露") == 0
    assert node.agent is not None
    node.agent.poll()
    report = node.agent.config_report()["directory"]
    assert (report["version"], report["revocations"]) == (1, 1)
    assert report["error"]["code"] == "tampered"
    assert _directory(node).lookup("510802", "hukou", NOW).reason == "revoked"  # type: ignore[union-attr]


def test_wrongly_signed_directory_is_refused(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    # someone with the online keys but not the targets key: a targets version of their own
    keys = tmp_path / "stolen-keys"
    shutil.copytree(operator.tree_dir / ".fleet" / "keys", keys)
    stolen = KeyStore(keys)
    stolen.retire("targets")
    stolen.generate("targets")
    forged = Repository(operator.ws.repo.folder, stolen)
    table.add("510812", "广元市朝天区")
    publish_target(forged, REGIONS_TARGET, build_document(
        table.toml(), fleet="demo-sichuan", version=2), 2)
    assert node.agent is not None
    node.agent.poll()
    _kept_v1(node, "untrusted")


def test_wrong_fleet_directory_is_refused(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    publish_target(operator.ws.repo, REGIONS_TARGET, build_document(
        table.toml(), fleet="demo-chongqing", version=2), 2)
    assert node.agent is not None
    node.agent.poll()
    _kept_v1(node, "wrong_fleet")


def test_restart_routes_with_the_stored_directory(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    _, node = _published(tmp_path, kiosks, operator)
    node.close()
    kiosks.nodes.remove(node)
    offline = kiosks.node(KIOSK, repository="http://127.0.0.1:9/",    # nobody listens
                          broker="mqtt://127.0.0.1:9")                  # (never started)
    assert offline.agent is not None and offline.heartbeat is not None
    offline.agent.poll()
    assert offline.agent.config_report()["directory"]["version"] == 1
    # what the retained heartbeat says: the directory in use, and why it was not updated
    beat = offline.heartbeat.status()["config"]["directory"]
    assert beat["version"] == 1 and beat["error"]["code"] == "unreachable"
    assert _route(_directory(offline).lookup("510802", "hukou", NOW)).fallback == "own"


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": "x"}'])
def test_a_damaged_stored_copy_is_not_used(tmp_path: Path, kiosks: Kiosks,
                                           operator: Operator, damage: bytes) -> None:
    _, node = _published(tmp_path, kiosks, operator)
    assert node.directory is not None
    stored = node.directory.folder / "regions.json"
    node.close()
    kiosks.nodes.remove(node)
    stored.write_bytes(damage)
    again = kiosks.node(KIOSK, repository="http://127.0.0.1:9/")
    assert again.host.kiosk.region_directory() is None


def test_an_older_directory_version_is_refused(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    assert _cli(operator, "directory", "publish", "--table", table.toml()) == 0
    assert node.agent is not None
    node.agent.poll()
    assert node.agent.config_report()["directory"]["version"] == 2
    # a newer targets version that lists the directory's version 1 again
    publish_target(operator.ws.repo, REGIONS_TARGET, build_document(
        table.toml(), fleet="demo-sichuan", version=1), 1)
    node.agent.poll()
    report = node.agent.config_report()["directory"]
    assert report["version"] == 2 and report["error"]["code"] == "rollback"


def test_a_directory_that_cannot_be_stored_leaves_the_one_in_use(
        tmp_path: Path, kiosks: Kiosks, operator: Operator) -> None:
    table, node = _published(tmp_path, kiosks, operator)
    assert node.directory is not None
    stored = node.directory.folder / "regions.json"
    stored.unlink()
    stored.mkdir()                       # the data disk refuses the write
    table.add("510812", "广元市朝天区")
    assert _cli(operator, "directory", "publish", "--table", table.toml()) == 0
    assert node.agent is not None
    node.agent.poll()
    _kept_v1(node, "unwritable")
