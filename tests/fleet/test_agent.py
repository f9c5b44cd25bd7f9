"""The kiosk's agent against a real repository over HTTP: first configuration, a no-change
poll, applying only between sessions, post-apply rollback, offline operation, start-up."""

from __future__ import annotations

from fleet_rig import OPEN_HOURS, Kiosks, Operator

from drivers.status import DeviceState
from kiosk.fleet.agent import running_settings
from kiosk.fleet.host import APPLIED_TOPIC
from kiosk.fleet.store import ConfigStore
from kiosk.lifecycle import KioskState

KIOSK = "510802-0002"


def test_first_poll_applies_the_kiosks_layered_configuration(kiosks: Kiosks,
                                                             operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    settings = node.host.kiosk.settings
    assert node.agent.store.state().current == 1
    assert settings.kiosk.name == "利州区某银行网点 政务自助终端"       # hall layer
    assert settings.kiosk.phone == "0839-12345"                      # city layer
    assert settings.ui.orientation == "landscape"                    # kiosk layer
    assert settings.hours.closed_weekdays == (6,)
    assert settings.paths.data_dir == kiosks.tmp / KIOSK             # local, never the bundle's
    assert len(settings.transfer.routes) == 10


def test_a_poll_with_nothing_new_is_one_conditional_request(kiosks: Kiosks,
                                                            operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    kiosks.site.log.reset()
    node.agent.poll()
    log = kiosks.site.log
    assert log.paths == ["/metadata/2.root.json", "/metadata/timestamp.json"]
    assert log.not_modified == 1             # timestamp: 304, no body
    assert node.agent.config_report()["last_check"] == "ok"


def test_a_new_version_waits_for_the_session_to_end(kiosks: Kiosks,
                                                    operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    agent = node.agent
    assert agent is not None
    agent.poll()
    kiosk = node.host.kiosk
    kiosk.lifecycle.begin_session(OPEN_HOURS)
    operator.edit("hall/lizhou-icbc/settings.toml", 'close = 17:30:00', 'close = 18:00:00')
    operator.publish()
    agent.poll()
    assert node.host.kiosk is kiosk                       # not swapped mid-session
    assert agent.config_report()["pending"] == 2
    assert agent.store.state().current == 1
    kiosk.lifecycle.end_session(OPEN_HOURS)
    agent.poll()
    assert node.host.kiosk is not kiosk
    assert node.host.kiosk.settings.hours.close.hour == 18
    assert agent.store.state().current == 2


def test_a_device_not_found_rolls_back_to_the_running_configuration(
        kiosks: Kiosks, operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    agent = node.agent
    assert agent is not None
    agent.poll()
    layer = operator.tree_dir / "layers" / "kiosk" / KIOSK / "settings.toml"
    layer.write_text(layer.read_text(encoding="utf-8") + '\n[devices.receipt_printer]'
                     '\nbackend = "file"\noptions = { path = "/dev/usb/lp-none" }\n',
                     encoding="utf-8")
    operator.publish()
    swapped_in: list[object] = []
    node.host.bus.subscribe(APPLIED_TOPIC, lambda _t, payload: swapped_in.append(payload["kiosk"]))
    agent.poll()
    # the restored kiosk is a new object on the old settings: the screens are told to follow
    assert swapped_in == [node.host.kiosk]
    state = agent.store.state()
    assert state.current == 1 and state.last_known_good == 1
    assert 2 in state.bad
    assert state.refused is not None and state.refused["code"] == "post_check"
    printer = node.host.kiosk.printer.status()
    assert printer.state is not DeviceState.NO_DEVICE       # the old printer is back
    assert node.host.kiosk.lifecycle.state is KioskState.AVAILABLE
    alerts = [a for a in node.host.kiosk.lifecycle.alerts if a["code"] == "config_refused"]
    assert alerts and alerts[-1]["en"]


def test_no_network_keeps_serving(kiosks: Kiosks, operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    offline = kiosks.node("510802-0001", repository="http://127.0.0.1:9/")
    assert offline.agent is not None
    offline.agent.poll()
    assert offline.agent.config_report()["last_check"] == "unreachable"
    assert offline.host.kiosk.lifecycle.state is KioskState.AVAILABLE
    offline.host.kiosk.lifecycle.begin_session(OPEN_HOURS)   # still serves citizens


def test_start_up_uses_the_applied_version_then_last_known_good(kiosks: Kiosks,
                                                                operator: Operator) -> None:
    operator.publish()
    node = kiosks.node(KIOSK)
    assert node.agent is not None
    node.agent.poll()
    local = kiosks.local(KIOSK)
    store = ConfigStore(local.paths.data_dir / "fleet")
    settings, version = running_settings(local, store)
    assert version == 1 and settings.ui.orientation == "landscape"
    (store.versions / "1" / "settings.toml").write_text("schema_version = 1\n[kiosk\n")
    settings, version = running_settings(local, store)
    assert version is None and settings == local      # broken on disk: the local file
