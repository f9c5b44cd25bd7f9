"""A city signing its own kiosks (TUF delegation), end to end on loopback: the city keeps its
own key and a copy of the province's tree, publishes into the province's repository, the
province delegates its kiosks' paths to that key, and the kiosks follow. Then what a city
must not be able to do: sign for another city's kiosk, publish with a key the province did
not name, go live without the province's timer checking its signature, or keep signing after
the province has taken its kiosks back."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fleet_rig import Kiosks, Operator, edit_layer

from fleetops.delegation import delegate, new_city_key, read_public_key, revoke, role_name
from fleetops.layers import Tree
from fleetops.operator import Workspace
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.errors import FleetError
from kiosk.fleet.node import FleetNode

CHENGDU, GUANGYUAN = "510100", "510800"
WUHOU, LIZHOU = "510107-0001", "510802-0001"
OLD_PHONE, NEW_PHONE = "028-12345", "028-88886666"


@dataclass
class City:
    """A city's workspace: the province's tree (without its keys), the city's own key, and
    the province's repository folder to publish into."""

    code: str
    tree_dir: Path
    repo: Repository
    public_key: Path

    @classmethod
    def make(cls, tmp: Path, operator: Operator, code: str) -> City:
        tree = tmp / f"city-{code}"
        shutil.copytree(operator.tree_dir, tree, ignore=shutil.ignore_patterns(".fleet"))
        keys = KeyStore(tree / ".fleet" / "keys")
        # reads the province's repository; writes only into uploads/city-<code>/ (shared
        # here with the province's upload area, as a synced folder would be)
        repo = Repository(operator.ws.repo.folder, keys, operator.ws.repo.uploads)
        return cls(code, tree, repo, new_city_key(keys, code))

    def publish(self, *kiosk_ids: str, version: int | None = None) -> int:
        ws = Workspace(Tree.load(self.tree_dir), self.repo)
        version = version or ws.repo.bundle_version() + 1
        bundles = [ws.build(ws.tree.inventory.kiosk(k), version) for k in kiosk_ids]
        ws.repo.publish_delegated(role_name(self.code), bundles, version=version)
        return version

    def edit(self, rel: str, old: str, new: str) -> None:
        edit_layer(self.tree_dir, rel, old, new)


def _delegate(operator: Operator, city: City) -> None:
    kiosks = [k.id for k in operator.reload().tree.inventory.select(cities=(city.code,))]
    delegate(operator.ws.repo, city.code, read_public_key(city.public_key), kiosks)


def _running(node: FleetNode) -> tuple[int | None, str]:
    node.agent.poll()   # type: ignore[union-attr]
    return node.agent.store.state().current, node.host.kiosk.settings.kiosk.phone  # type: ignore[union-attr]


def test_a_delegated_city_publishes_and_only_its_kiosks_follow(
        tmp_path: Path, operator: Operator, kiosks: Kiosks) -> None:
    assert operator.publish() == 1
    wuhou, lizhou = kiosks.node(WUHOU), kiosks.node(LIZHOU)
    assert _running(wuhou) == (1, OLD_PHONE) and _running(lizhou)[0] == 1

    city = City.make(tmp_path, operator, CHENGDU)
    city.edit(f"city/{CHENGDU}/settings.toml", OLD_PHONE, NEW_PHONE)
    assert city.publish(WUHOU) == 2
    assert _running(wuhou) == (1, OLD_PHONE), "not live before the province delegates"

    _delegate(operator, city)
    assert _running(wuhou) == (2, NEW_PHONE)
    assert _running(lizhou)[0] == 1
    assert operator.ws.repo.listed() == {LIZHOU: 1, "510802-0002": 1, WUHOU: 2}
    # the kiosk runs exactly the city's build: the province's layers under the city's own
    applied = wuhou.agent.store.versions / "2"   # type: ignore[union-attr]
    city_ws = Workspace(Tree.load(city.tree_dir), city.repo)
    built = city_ws.build(city_ws.tree.inventory.kiosk(WUHOU), 2)
    for name, data in built.files.items():
        assert (applied / name).read_bytes() == data, name
    assert built.layers == ("defaults", "province", f"city/{CHENGDU}", "hall/wuhou-zwzx")

    # the province's next publish leaves the city's kiosk to the city ...
    with pytest.raises(FleetError) as refused:
        operator.publish()
    assert refused.value.code == "delegated"
    assert operator.publish(cities=(GUANGYUAN,)) == 3
    assert _running(lizhou)[0] == 3 and _running(wuhou) == (2, NEW_PHONE)

    # ... and a city's publish goes live at the province's timer, not before
    city.edit(f"city/{CHENGDU}/settings.toml", NEW_PHONE, "028-66668888")
    assert city.publish(WUHOU) == 4
    assert _running(wuhou)[0] == 2
    operator.ws.repo.refresh_timestamp()
    assert _running(wuhou) == (4, "028-66668888")


def test_a_city_key_is_trusted_for_its_own_kiosks_only(
        tmp_path: Path, operator: Operator, kiosks: Kiosks) -> None:
    operator.publish()
    lizhou = kiosks.node(LIZHOU)
    assert _running(lizhou)[0] == 1
    city = City.make(tmp_path, operator, CHENGDU)
    city.publish(WUHOU)
    _delegate(operator, city)
    # Chengdu signs a newer bundle for a Guangyuan kiosk: the metadata may say so, but no
    # kiosk looks there for it (the delegation names Chengdu's kiosks' paths only)
    city.edit("hall/lizhou-zwzx/settings.toml", "0839-", "999-")
    assert city.publish(LIZHOU) == 3
    operator.ws.repo.refresh_timestamp()
    assert _running(lizhou)[0] == 1
    assert lizhou.host.kiosk.settings.kiosk.phone == "0839-3266123"
    assert lizhou.agent.store.state().refused is None   # type: ignore[union-attr]
    assert operator.ws.repo.listed()[LIZHOU] == 1


def test_metadata_signed_by_a_key_the_province_did_not_name_never_goes_live(
        tmp_path: Path, operator: Operator, kiosks: Kiosks) -> None:
    operator.publish()
    wuhou = kiosks.node(WUHOU)
    city = City.make(tmp_path, operator, CHENGDU)
    city.publish(WUHOU)
    impostor = City.make(tmp_path / "impostor", operator, CHENGDU)

    with pytest.raises(FleetError) as wrong_key:
        delegate(operator.ws.repo, CHENGDU, read_public_key(impostor.public_key), [WUHOU])
    assert wrong_key.value.code == "untrusted"

    _delegate(operator, city)
    assert _running(wuhou)[0] == 2
    # someone with write access to the city's upload area, but not its key, uploads v3 and
    # junk: the province's timer checks every file, takes in none and keeps going
    role = role_name(CHENGDU)
    upload = operator.ws.repo.uploads / role / "metadata"
    impostor.edit(f"city/{CHENGDU}/settings.toml", OLD_PHONE, "000")
    impostor.publish(WUHOU)
    assert (upload / f"2.{role}.json").is_file()
    (upload / f"3.{role}.json").write_bytes(b"not json")
    (upload / f"4.{role}.json").write_text('{"signed": {}, "signatures": []}')
    (upload / f"0009.{role}.json").write_bytes((upload / f"1.{role}.json").read_bytes())
    (upload / f"99.{role}.json").write_bytes((upload / f"1.{role}.json").read_bytes())
    (upload / f"evil.{role}.json").write_bytes(b"{}")
    operator.ws.repo.refresh_timestamp()
    snapshot = operator.ws.repo.load("snapshot").signed
    assert snapshot.meta[f"{role}.json"].version == 1
    assert sorted(p.name for p in operator.ws.repo.metadata_dir.glob(f"*.{role}.json")) == [
        f"1.{role}.json"]
    assert _running(wuhou) == (2, OLD_PHONE)
    assert operator.ws.repo.listed()[WUHOU] == 2


def test_the_province_refuses_a_delegation_that_would_leave_a_kiosk_behind(
        tmp_path: Path, operator: Operator, kiosks: Kiosks) -> None:
    operator.publish()
    city = City.make(tmp_path, operator, CHENGDU)
    with pytest.raises(FleetError) as nothing:
        _delegate(operator, city)
    assert nothing.value.code == "not_published"
    assert city.publish(WUHOU) == 2   # uploaded, not yet taken in: the counter is still 1
    assert operator.publish() == 2    # so the province's v2 for every kiosk: the same number
    with pytest.raises(FleetError) as older:
        _delegate(operator, city)
    assert older.value.code == "not_published"
    assert operator.ws.repo.delegated_roles() == {}


def test_revoked_the_province_signs_again_and_the_city_is_ignored(
        tmp_path: Path, operator: Operator, kiosks: Kiosks) -> None:
    operator.publish()
    wuhou = kiosks.node(WUHOU)
    city = City.make(tmp_path, operator, CHENGDU)
    city.edit(f"city/{CHENGDU}/settings.toml", OLD_PHONE, NEW_PHONE)
    city.publish(WUHOU, version=1000)        # a city that numbers far ahead
    _delegate(operator, city)
    assert _running(wuhou) == (1000, NEW_PHONE)

    ws = operator.reload()
    version = ws.repo.bundle_version() + 1   # counts the city's listed entries
    assert version == 1001
    revoke(ws.repo, CHENGDU, [ws.build(ws.tree.inventory.kiosk(WUHOU), version)])
    assert _running(wuhou) == (1001, OLD_PHONE)
    assert ws.repo.delegated_roles() == {}

    city.edit(f"city/{CHENGDU}/settings.toml", NEW_PHONE, "028-1")
    city.publish(WUHOU)
    ws.repo.refresh_timestamp()
    assert _running(wuhou) == (1001, OLD_PHONE)
    state = json.loads((wuhou.agent.store.folder / "state.json").read_text())  # type: ignore[union-attr]
    assert state["refused"] is None
