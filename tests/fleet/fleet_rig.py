"""The fleet test rig's parts (see conftest.py): the operator's workspace and kiosks built
against the loopback repository."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fleetops.layers import Tree
from fleetops.operator import Workspace
from fleetops.repo import KeyStore, Repository
from kiosk.fleet.node import FleetNode
from kiosk.settings import Fleet, Settings, load_settings
from rigs.static_site import StaticSite

ROOT = Path(__file__).resolve().parents[2]
DEMO_TREE = ROOT / "assets" / "demo" / "fleet"
FLEET = "demo-sichuan"
KIOSKS = ("510802-0001", "510802-0002", "510107-0001")
# A Wednesday morning: inside every demo hall's hours (the bank branch opens 08:30-17:30).
OPEN_HOURS = datetime(2026, 11, 18, 10, 0)


@dataclass
class Operator:
    tree_dir: Path
    ws: Workspace

    @classmethod
    def make(cls, tmp: Path) -> Operator:
        """The demo operator tree in ``tmp`` with fresh keys and an initialised repository."""
        tree = tmp / "tree"
        shutil.copytree(DEMO_TREE, tree, symlinks=False)
        ws = Workspace(Tree.load(tree), Repository(tmp / "public",
                                                   KeyStore(tree / ".fleet" / "keys")))
        ws.repo.init()
        return cls(tree, ws)

    def reload(self) -> Workspace:
        """After editing the tree: the inventory and layers read again."""
        self.ws = Workspace(Tree.load(self.tree_dir), self.ws.repo)
        return self.ws

    def publish(self, **select: tuple[str, ...]) -> int:
        ws = self.reload()
        version = ws.repo.bundle_version() + 1
        ws.repo.publish([ws.build(t, version) for t in ws.tree.inventory.select(**select)],
                        version=version)
        return version

    def edit(self, rel: str, old: str, new: str) -> None:
        edit_layer(self.tree_dir, rel, old, new)


def edit_layer(tree_dir: Path, rel: str, old: str, new: str) -> None:
    """Replace ``old`` once in ``layers/<rel>`` of an operator's (or a city's) tree."""
    path = tree_dir / "layers" / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@dataclass
class Kiosks:
    """Builds fleet kiosks in the test's temp folder and closes them at the end."""

    tmp: Path
    operator: Operator
    site: StaticSite
    nodes: list[FleetNode] = field(default_factory=list)

    def local(self, kiosk_id: str, *, broker: str = "", repository: str | None = None,
              heartbeat_s: float = 30) -> Settings:
        demo = load_settings(ROOT / "config" / "demo.toml")
        root = self.tmp / f"{kiosk_id}-root.json"
        shutil.copy(self.operator.ws.repo.metadata_dir / "1.root.json", root)
        fleet = Fleet(name=FLEET, repository=self.site.url if repository is None else repository,
                      root=root, poll_s=3600, broker=broker, heartbeat_s=heartbeat_s)
        kiosk = demo.kiosk.model_copy(update={"id": kiosk_id})
        return demo.with_data_dir(self.tmp / kiosk_id).model_copy(
            update={"kiosk": kiosk, "fleet": fleet})

    def node(self, kiosk_id: str, **options: object) -> FleetNode:
        built = FleetNode.build(self.local(kiosk_id, **options),  # type: ignore[arg-type]
                                background=False, clock=lambda: OPEN_HOURS)
        self.nodes.append(built)
        return built
