"""The screens follow a fleet configuration swap: the real app, headless, on a FleetNode
whose repository is served over loopback (the fleet tests' rig). A version published while
a citizen is served waits for the session's end; then the screens show the new catalogue."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kivy.core.window import Window
from kivy.uix.modalview import ModalView
from ui_harness import ROOT, FakeClock, Harness

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fleet"))   # the fleet rig
from fleet_rig import Kiosks, Operator

from kiosk.fleet.node import FleetNode
from rigs.static_site import StaticSite
from screens.app import KioskApp

KIOSK = "510802-0001"                  # 利州区政务服务中心: open around the clock
OLD, NEW = "户籍类证明开具", "户口类证明开具"   # GA-HJZM-001, first on the matter list
ARTIFACTS = Path(os.environ.get("UI_ARTIFACTS", ROOT / "artifacts" / "screens"))


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    return Operator.make(tmp_path)


@pytest.fixture
def fleet(tmp_path: Path, operator: Operator,
          request: pytest.FixtureRequest) -> Iterator[tuple[Harness, FleetNode]]:
    """A fleet kiosk's app mounted on the window like ``open_kiosk`` does."""
    with StaticSite(operator.ws.repo.folder) as site:
        kiosks = Kiosks(tmp_path, operator, site)
        node = kiosks.node(KIOSK)
        try:
            clock = FakeClock()
            app = KioskApp(node.host.kiosk, clock=clock, host=node.host)
            try:
                Window.add_widget(app.build())
                harness = Harness(app, node.host.kiosk, clock, ARTIFACTS / request.node.name)
                harness.pump(3)
                yield harness, node
            finally:
                app.on_stop()
                for child in list(Window.children):
                    Window.remove_widget(child)
        finally:
            node.close()         # its kiosk's printer threads would keep the process alive


def ended_logs(caplog: pytest.LogCaptureFixture, session_id: str) -> int:
    """How many KioskServices handled this session's end (each logs it once)."""
    return sum(1 for r in caplog.records
               if r.name == "kiosk.service" and r.getMessage().startswith(
                   f"session {session_id} ended"))


def test_screens_follow_a_swap_applied_after_the_session(
        fleet: tuple[Harness, FleetNode], operator: Operator,
        caplog: pytest.LogCaptureFixture) -> None:
    h, node = fleet
    agent = node.agent
    assert agent is not None
    caplog.set_level(logging.INFO, logger="kiosk.service")
    local = h.app.kiosk                       # started on the local settings file
    operator.publish()
    agent.poll()                              # idle: v1 applied at once
    h.wait(lambda: h.app.kiosk is node.host.kiosk, "the screens on v1")
    v1 = h.app.kiosk
    assert v1 is not local and agent.config_report()["version"] == 1

    operator.edit("province/catalogue.yaml", f"name: {OLD}", f"name: {NEW}")
    assert operator.publish() == 2
    h.tap("start")                            # a citizen is being served
    h.wait_screen("matters")
    assert OLD in h.text_on_screen()
    agent.poll()
    h.pump(3)
    assert agent.config_report()["pending"] == 2
    assert node.host.kiosk is v1 and h.app.kiosk is v1 and h.screen == "matters"

    session = h.journey.session
    h.tap("cancel")
    h.tap("confirm")                          # the citizen leaves: session.ended
    h.wait_screen("attract")
    assert ended_logs(caplog, session.id) == 1   # v1's service only, not the swapped-out one
    agent.poll()
    h.wait(lambda: h.app.kiosk is node.host.kiosk, "the screens on v2")
    assert h.app.kiosk is not v1
    report = agent.config_report()
    assert (report["version"], report["pending"]) == (2, None)
    # the services of both swapped-out kiosks let go of the shared bus
    node.host.bus.publish("session.ended", {"session": "probe", "reason": "test"})
    assert ended_logs(caplog, "probe") == 1

    assert h.screen == "attract"
    h.tap("start")
    h.wait_screen("matters")
    shown = h.text_on_screen()
    assert NEW in shown and OLD not in shown
    h.screenshot("matters-after-swap")
    assert h.journey.session is not None and h.app.ui is not None
    assert h.app.ui.service.k is node.host.kiosk


def test_a_dialog_open_on_attract_goes_with_the_old_screens(
        fleet: tuple[Harness, FleetNode], operator: Operator) -> None:
    """A dialog sits on the window, not under the app's root: a swap must close it too."""
    h, node = fleet
    old_nav = h.app.nav
    h.tap("call_staff")                       # no session: the kiosk may swap meanwhile
    h.pump(3)
    assert old_nav is not None and old_nav.dialog is not None
    operator.publish()
    assert node.agent is not None
    node.agent.poll()
    h.wait(lambda: h.app.kiosk is node.host.kiosk, "the screens on v1")
    h.pump(3)
    assert old_nav.dialog is None
    assert not [w for w in Window.children if isinstance(w, ModalView)]
    assert h.screen == "attract"
