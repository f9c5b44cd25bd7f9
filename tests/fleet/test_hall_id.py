"""The kiosk's hall (``[hall] id``, the hall case index's topics: kiosk/hall) comes from the
signed bundle's ``hall/<id>`` layer, which the operator's inventory names; a hall layer that
states another id is refused (the operator's build already checks with the kiosk's reader)."""

from __future__ import annotations

import pytest
from fleet_rig import Kiosks, Operator

from kiosk.fleet.errors import FleetError

KIOSK = "510802-0002"          # hall lizhou-icbc in the demo inventory


def test_the_hall_id_comes_from_the_bundles_hall_layer(kiosks: Kiosks,
                                                       operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    assert node.agent.store.state().current == 1
    assert node.host.kiosk.settings.hall.id == "lizhou-icbc"


def test_a_hall_layer_naming_another_hall_is_refused(operator: Operator) -> None:
    """The operator's build checks a bundle with the kiosk's own reader: it never goes out."""
    operator.edit("hall/lizhou-icbc/settings.toml", "[hours]",
                  "[hall]\nid = \"wuhou-zwzx\"\n\n[hours]")
    with pytest.raises(FleetError, match="wuhou-zwzx") as refused:
        operator.publish(kiosks=(KIOSK,))
    assert refused.value.code == "invalid" and "lizhou-icbc" in refused.value.en
