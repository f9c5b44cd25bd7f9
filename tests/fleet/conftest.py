"""The fleet rig: the demo operator tree in a temp folder with fresh keys, its repository
served over HTTP on loopback (rigs.static_site), Mosquitto on loopback, and
kiosks built from local settings that point at both. Nothing is mocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_rig import Kiosks, Operator

from rigs.mqtt_rig import MosquittoBroker, mosquitto_available
from rigs.static_site import StaticSite


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    return Operator.make(tmp_path)


@pytest.fixture
def site(operator: Operator) -> Iterator[StaticSite]:
    with StaticSite(operator.ws.repo.folder) as served:
        yield served


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (scripts/setup.sh installs it)")
    with MosquittoBroker() as running:
        yield running


@pytest.fixture
def kiosks(tmp_path: Path, operator: Operator, site: StaticSite) -> Iterator[Kiosks]:
    made = Kiosks(tmp_path, operator, site)
    yield made
    for node in made.nodes:
        node.close()

