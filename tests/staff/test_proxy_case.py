"""代办 on the emulated devices: the agent's card from the identity reader, the 委托书 from the
document camera, and the sealed package the region opens — the agent in the manifest's
assistance record, the 委托书 as its own material file (category 代办委托书, grade B)."""

from __future__ import annotations

from pathlib import Path

from intake.opening import open_package
from kiosk.assist import AssistKind
from kiosk.bootstrap import build_kiosk
from kiosk.catalogue.model import DeliveryOption, Necessity
from kiosk.demo.assisted import demo_authority
from kiosk.demo.hand import DemoHand
from kiosk.paths import DEMO_SETTINGS
from kiosk.service import KioskService
from kiosk.session import Contact
from kiosk.settings import load_settings
from kiosk.staff import casework
from kiosk.staff.authority import SignedIn
from kiosk.staff.case_devices import capture_mandate, read_agent
from kiosk.staff.demo import DEMO_CARD, DEMO_PIN
from kiosk.staff.session import Mode
from kiosk.transfer.keys import DeviceKeys, Registry

ROOT = Path(__file__).resolve().parents[2]
REGION_KEYS = ROOT / "assets" / "demo" / "regions"
AGENT_NAME = "王子涵"          # assets/demo/identities.toml: resident_young


def test_a_proxy_case_reaches_the_region_with_the_agent_and_the_mandate(tmp_path: Path) -> None:
    kiosk = build_kiosk(load_settings(DEMO_SETTINGS).with_data_dir(tmp_path / "data"))
    try:
        service = KioskService(kiosk)
        hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer)
        kiosk.open(service.now())
        signed = demo_authority(kiosk, service).sign_in(DEMO_CARD, DEMO_PIN, Mode.ASSIST)
        assert isinstance(signed, SignedIn)
        guide = signed.session
        session = service.start_session()
        matter = service.matter("GA-HJZM-001")
        service.choose(session, matter, "kinship")
        session.start_identify()
        hand.present_card("resident")            # the applicant's card (a copy the agent holds)
        service.identify(session)
        casework.begin_assist(guide, session, AssistKind.PROXY)
        hand.present_card("resident_young")      # the agent's own card
        assert read_agent(kiosk, guide, session) == AGENT_NAME
        hand.place("授权委托书", 1)
        assert capture_mandate(kiosk, session) == 1
        assert session.situation is not None
        for req in session.situation.materials:
            if req.necessity is Necessity.OPTIONAL:
                continue
            hand.place(req.options[0].name, 1)
            service.capture(session, req.options[0].id)
        assert session.review().accepted
        session.confirm(DeliveryOption.PICKUP, Contact("13800138000"))
        submitted = service.submit(session)
        service.deliver()
        guide.sign_out()
    finally:
        kiosk.close()
    data = tmp_path / "data"
    [sealed] = (data / "region").glob(f"*/{submitted.package_id}.tbk")   # its one route
    route = sealed.parent.name
    opened = open_package(sealed, REGION_KEYS / f"region-{route}-x25519-chacha20.key",
                          Registry([DeviceKeys(data / "keys", "510802-0001")
                                    .key("x25519-chacha20")]), tmp_path / "opened")
    manifest = opened.manifest
    assert manifest["assistance"]["kind"] == "代办"
    assert manifest["assistance"]["agent"]["name"] == AGENT_NAME
    mandate = [m for m in manifest["materials"] if m["category"] == "代办委托书"]
    assert len(mandate) == 1 and mandate[0]["evidence_grade"] == "B"
    assert mandate[0]["file"] in opened.files and mandate[0]["pages"] == 1
    assert AGENT_NAME not in (data / "staff" / "audit.log").read_text(encoding="utf-8")
