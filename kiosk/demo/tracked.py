"""`kiosk demo --scenario tracked`: the case after the receipt (issue 24), on one machine.

A citizen's case is sent from the demo kiosk; the handling region (``kiosk-region`` as a child
process, kiosk/demo/region_side.py) takes it in, and its staff move it on: 受理 → 补正 (a
follow-up package for the same case, the kiosk's own 补正 session) → 办结 → 寄到窗口 → 到窗口 →
领取. After each step the region's signed status events come back to the kiosk and its ledger
follows. Each step is printed in Chinese with English beside; the run ends with the timeline
as ``kiosk status`` prints it.

How things travel is the caller's (:class:`Carriage`): the demo copies what the kiosk's
directory route wrote into the region's upload store (no tus server in the product) and
sends the region's events over a Mosquitto of its own when the machine has one
(kiosk/demo/mqtt_leg.py), else pulls them from ``kiosk-region feed`` with the kiosk's own
feed client; the end-to-end test uses the tus server and Mosquitto.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.bootstrap import Kiosk
from kiosk.casestatus.feed import FeedClient
from kiosk.catalogue.model import DeliveryOption
from kiosk.demo.citizen import DEMO_PHONE, Scenario, _capture_all, _settle, demo_kiosk
from kiosk.demo.hand import DemoHand
from kiosk.demo.mqtt_leg import MqttLeg, local_mosquitto, mosquitto_binary, subscribed
from kiosk.demo.region_side import RegionSide
from kiosk.service import KioskService
from kiosk.session import Contact, Rating, Session
from kiosk.settings import Settings
from kiosk.transfer.keys import DeviceKeys, write_public

REPO = Path(__file__).resolve().parents[2]
DEMO_REGIONS = REPO / "assets" / "demo" / "regions"
FLEET = "demo"
# (state, `case move` details, what it means in Chinese, in English)
MOVES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("decided", ("--result", "准予许可"), "办理地办结：准予许可", "decided: granted"),
    ("dispatched", ("--tracking-number", "SF1234567890", "--destination", "window",
                    "--window", "3号窗口"),
     "结果已寄往本大厅 3 号窗口", "result sent to window 3 of this hall"),
    ("arrived_at_window", ("--window", "3号窗口", "--collect-until", "2027-01-31"),
     "结果已到窗口，请凭受理通知书领取", "result at the window, collect with your receipt"),
    ("collected", (), "申请人已领取", "collected by the applicant"),
)


@dataclass
class Carriage:
    """How packages reach the region (``deliver``: after the kiosk's outbox pass) and how
    the region's new events reach the kiosk (``bring``: returns how many came)."""

    deliver: Callable[[Kiosk, KioskService], None]
    bring: Callable[[Kiosk, RegionSide], int]


@dataclass
class Tracked:
    case_number: str = ""
    transfer_number: str = ""
    packages: list[str] = field(default_factory=list)
    events: int = 0


def confirmed_session(service: KioskService, kiosk: Kiosk, matter_code: str) -> Session:
    """The scripted citizen (kiosk/demo/citizen.py) up to a confirmed application."""
    hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer, kiosk.face_camera)
    session = service.start_session()
    service.choose(session, service.matter(matter_code), None)
    session.start_identify()
    hand.present_card("resident")
    service.identify(session)
    _settle(service, session, {})
    _capture_all(service, hand, session, Scenario.COMPLETE)
    if not session.review().accepted:
        raise LookupError(f"{matter_code}: the demo citizen's materials are not accepted")
    assert session.identity is not None
    matter = service.matter(matter_code)
    delivery = (DeliveryOption.POST if DeliveryOption.POST in matter.delivery_options
                else matter.delivery_options[0])
    session.confirm(delivery, Contact(DEMO_PHONE, session.identity.address, "100010"))
    return session


def correct(service: KioskService, kiosk: Kiosk, case_number: str) -> str:
    """The applicant comes back for the 补正: the kiosk's own correction session (the same
    card, a page for each item asked for, the follow-up package sealed into the outbox).
    Returns the follow-up package's id."""
    hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer, kiosk.face_camera)
    session = service.start_correction(case_number)
    hand.present_card("resident")
    service.corrections.identify(session)
    for item in session.case.items:
        hand.place(item.name, 1)
        service.corrections.capture(session, item.item_id)
        hand.clear_plate()
    return service.corrections.submit(session).package_id


def receiving_region(transfer_number: str) -> str:
    """``XT`` + the sending hall's code + the **receiving** region's code + …"""
    return transfer_number[8:14]


def story(kiosk: Kiosk, matter_code: str, region_for: Callable[[str], RegionSide],
          carriage: Carriage, say: Callable[[str, str], None]) -> Tracked:
    service, done = KioskService(kiosk), Tracked()
    kiosk.open(service.now())
    first = confirmed_session(service, kiosk, matter_code)
    submitted = service.submit(first)
    first.rate(Rating.VERY_SATISFIED)
    first.finish()                           # the kiosk is free for the next citizen
    done.case_number, done.transfer_number = submitted.case_number, submitted.transfer_numbers[0]
    done.packages.append(submitted.package_id)
    say(f"自助终端受理，受理编号 {done.case_number}",
        f"the kiosk takes the case, number {done.case_number}")
    region = region_for(receiving_region(done.transfer_number))
    carriage.deliver(kiosk, service)
    region.intake()
    region.add_staff()

    def step(zh: str, en: str) -> None:
        done.events += carriage.bring(kiosk, region)
        say(zh, en)

    step("办理地已接收（签名状态消息已送达本机）", "the region received it (signed event applied)")
    region.move(done.transfer_number, "accepted", (
        "--document-number", "演示受字〔2026〕1号", "--promised-by", "2027-01-15"))
    step("办理地已受理", "accepted by the handling department")
    region.move(done.transfer_number, "correction_required", (
        "--item", "户口簿首页复印件", "--deadline", "2027-01-05"))
    step("办理地要求补正：户口簿首页复印件", "correction required: household register page")
    done.packages.append(correct(service, kiosk, done.case_number))
    carriage.deliver(kiosk, service)
    region.intake()
    step("补正材料已送达办理地（同一受理编号，第 2 版）",
         "the follow-up package arrived (same case, version 2)")
    for state, details, zh, en in MOVES:
        region.move(done.transfer_number, state, details)
        step(zh, en)
    return done


def kiosk_status(case_number: str, data_dir: Path) -> str:
    """The timeline as ``kiosk status --case N`` prints it (the real command, a child)."""
    done = subprocess.run([sys.executable, "-m", "kiosk", "status", "--case", case_number,
                           "--data-dir", str(data_dir)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    return done.stdout + done.stderr


def demo_region(root: Path, kiosks: Path, suite: str) -> Callable[[str], RegionSide]:
    """The demo's handling regions: their published demo keys (assets/demo/regions)."""
    def make(code: str) -> RegionSide:
        return RegionSide(root / code, root / code / "store",
                          DEMO_REGIONS / f"region-{code}-{suite}.key",
                          DEMO_REGIONS / f"region-{code}-status-{suite}.key", kiosks)
    return make


def copy_directory_route(kiosk: Kiosk, service: KioskService, store: Path) -> None:
    """The demo's routes are folders (``data/region/<code>/<package>.tbk``); what the tus
    server would leave, ``delivered/<package>.<code>``, is a copy of each."""
    service.deliver()
    folder = kiosk.settings.paths.data_dir / kiosk.settings.transfer.directory
    for sent in folder.glob("*/*.tbk"):
        code = sent.parent.name
        target = store / code / "store" / "delivered" / f"{sent.stem}.{code}"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sent, target)


def run(settings: Settings, matter_code: str, out: Path,
        say: Callable[[str, str], None], mqtt: bool) -> Tracked:
    """The headless demo: directory route → region store; events over a local Mosquitto
    (``mqtt``) or else the pull feed."""
    settings = settings.model_copy(update={"transfer": settings.transfer.model_copy(
        update={"directory_file": DEMO_REGIONS / "directory.json"})})
    regions = out / "regions"
    with ExitStack() as stack:
        if mqtt:
            url = stack.enter_context(local_mosquitto(out / "broker"))
            settings = settings.model_copy(update={"fleet": settings.fleet.model_copy(
                update={"name": FLEET, "broker": url})})
        kiosk = stack.enter_context(demo_kiosk(settings, out))
        kiosks = out / "registered-kiosks"
        kiosks.mkdir(parents=True, exist_ok=True)
        export_kiosk_key(kiosk, kiosks)
        feeds: dict[str, FeedClient] = {}

        def pull(kiosk: Kiosk, region: RegionSide) -> int:
            if region.root.name not in feeds:
                status = kiosk.case_status
                feeds[region.root.name] = stack.enter_context(closing(FeedClient(
                    stack.enter_context(region.feed()), kiosk.settings.kiosk.id,
                    status.receiver, status.store, kiosk.settings.casestatus.timeout_s)))
            return feeds[region.root.name].pull()

        bring: Callable[[Kiosk, RegionSide], int] = pull
        if mqtt:
            subscriber = subscribed(kiosk)
            stack.callback(subscriber.stop)
            bring = MqttLeg(subscriber, settings.fleet.broker, FLEET)
        make = demo_region(regions, kiosks, settings.transfer.suite)
        return story(kiosk, matter_code, make,
                     Carriage(lambda k, s: copy_directory_route(k, s, regions), bring), say)


def export_kiosk_key(kiosk: Kiosk, folder: Path) -> Path:
    """What a region registers: this kiosk's public signing key (``kiosk keys export``)."""
    settings = kiosk.settings
    key = DeviceKeys(settings.paths.data_dir / "keys", settings.kiosk.id).key(
        settings.transfer.suite)
    path = folder / f"{settings.kiosk.id}.pub"
    write_public(path, key)
    return path


def demo(settings: Settings, matter_code: str, out: Path) -> int:
    """``kiosk demo --scenario tracked``: each step on a line, then the case's timeline."""
    count = iter(range(1, 100))

    def say(zh: str, en: str) -> None:
        print(f"{next(count)}. {zh} / {en}", flush=True)

    mqtt = mosquitto_binary() is not None
    way = ("经本机 Mosquitto（MQTT 5）", "over a local Mosquitto (MQTT 5)") if mqtt else (
        "经拉取订阅源（本机未装 Mosquitto）", "over the pull feed (no Mosquitto here)")
    print(f"演示：受理之后的办件跟踪（办理地程序为本机子进程，状态消息{way[0]}送回）/ "
          f"Demo: the case after the receipt (the region's program runs here as a child "
          f"process; its status events come back {way[1]})", flush=True)
    done = run(settings, matter_code, out, say, mqtt)
    print(f"本机收到并应用状态消息 {done.events} 条 / status events applied: {done.events}")
    print(kiosk_status(done.case_number, out / "data"), end="")
    return 0
