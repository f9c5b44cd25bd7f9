"""Composes a kiosk from settings: devices (through the registry in kiosk.devices), ledger,
courier, renderer and lifecycle, wired once at start-up and passed explicitly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from drivers.barcode import BarcodeDecoder
from drivers.camera import DocumentCamera
from drivers.face import FaceMatcher
from drivers.face.camera import FaceCamera
from drivers.fileio import FileRefused, read_bounded
from drivers.identity import IdentityReader
from drivers.printer import ReceiptPrinter
from drivers.printer.program import PrinterProfile
from drivers.speaker import Speaker
from kiosk.bus import EventBus
from kiosk.casestatus.service import CaseStatusService
from kiosk.casestatus.store import StatusStore
from kiosk.catalogue import Catalogue, load_catalogue
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.manager import DeviceManager
from kiosk.devices.options import PrinterOptions
from kiosk.devices.registry import DeviceContext, Registry, load_named
from kiosk.documents import Renderer
from kiosk.errors import ConfigError
from kiosk.evaluation.store import EvaluationStore
from kiosk.evaluation.upload import EvaluationUploader
from kiosk.fsutil import owner_only_dir
from kiosk.interaction.camera_feed import CameraFeed
from kiosk.ledger import Ledger
from kiosk.lifecycle import KioskState, Lifecycle
from kiosk.ops.clock import GuardedClock
from kiosk.ops.disk import DiskGuard, apply_floor
from kiosk.paths import FONT
from kiosk.printing import PrintService
from kiosk.recovery import close_interrupted_cases, reprint_owed_receipts
from kiosk.rongque_watch import alert_overdue
from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import MAX_DOCUMENT_BYTES, DirectoryError, parse_directory
from kiosk.routing.lookup import RegionDirectoryLookup
from kiosk.routing.resolve import HandlingResolver
from kiosk.routing.settings_directory import SettingsDirectory, SignedFirst
from kiosk.settings import Settings
from kiosk.submission import office
from kiosk.tempstore import SCRATCH_DIR, sweep_interrupted
from kiosk.transfer.courier import Courier
from kiosk.transfer.outbox import Outbox, OutboxEntry

T = TypeVar("T")
DirectorySource = Callable[[], RegionDirectoryLookup | None]


def no_signed_directory() -> RegionDirectoryLookup | None:
    return None


def installed_directory(path: Path, suite: str) -> RegionDirectory:
    """The directory document named by ``transfer.directory_file``, read and checked as the
    fleet's is (without the fleet's signatures: it is as trusted as the settings naming it)."""
    try:
        return RegionDirectory(parse_directory(read_bounded(path, MAX_DOCUMENT_BYTES)), suite)
    except (FileRefused, DirectoryError) as exc:
        raise ConfigError(str(path), [f"transfer.directory_file: {exc.zh} / {exc.en}"]
                          ) from exc


def printer_profile(options: PrinterOptions) -> PrinterProfile:
    """What the configured printer model can do (the options every printer backend has)."""
    return PrinterProfile(dots_per_line=options.dots_per_line, charset=options.charset,
                          native_qr=options.native_qr, cutter=options.cutter)


def device_context(settings: Settings) -> DeviceContext:
    return DeviceContext(assets=settings.paths.assets, data_dir=settings.paths.data_dir)


@dataclass
class Kiosk:
    """Everything one kiosk runs on, wired once at start-up and passed explicitly."""

    settings: Settings
    catalogue: Catalogue
    bus: EventBus
    lifecycle: Lifecycle
    devices: DeviceManager
    ledger: Ledger
    courier: Courier
    renderer: Renderer
    printing: PrintService = field(init=False)
    disk: DiskGuard = field(init=False)       # the disk floor and the commit reserve
    clock: GuardedClock = field(init=False)   # case numbers and deadlines: no jumps
    evaluations: EvaluationStore = field(init=False)   # 好差评 kept until delivered
    evaluation_upload: EvaluationUploader | None = field(init=False)   # None: no endpoint
    handling: HandlingResolver = field(init=False)   # each applicant's handling regions
    case_status: CaseStatusService = field(init=False)   # signed status events coming back
    _stop_polling: threading.Event = field(default_factory=threading.Event)
    # the fleet's signed region directory in use, or None (then the settings' routes answer);
    # asked per application: a directory update arrives without rebuilding the kiosk
    region_directory: DirectorySource = no_signed_directory

    def __post_init__(self) -> None:
        self.disk = DiskGuard(self.settings.paths.data_dir, self.settings.resources)
        self.clock = GuardedClock(self.settings.clock, self.lifecycle)
        self.evaluations = EvaluationStore(self.settings.paths.data_dir / "evaluation.sqlite")
        self.evaluation_upload = (
            EvaluationUploader(self.evaluations, self.settings.evaluation, self.lifecycle)
            if self.settings.evaluation.endpoint else None)
        # status events from the handling regions: started with the uploader
        self.case_status = CaseStatusService(
            self.settings, StatusStore(self.ledger.path), lambda: self.region_directory(),
            self.lifecycle)
        # the fleet's signed directory when there is one, else the settings' routes
        self.courier.routing.directory_endpoint = self._directory_endpoint
        self.handling = HandlingResolver(
            SignedFirst(lambda: self.region_directory(),
                        SettingsDirectory(self.courier.routing, self.settings.transfer)),
            self.settings.kiosk.region_code)
        options = self.devices.specs[DeviceKind.RECEIPT_PRINTER].options
        assert isinstance(options, PrinterOptions)   # every printer backend's options are
        logo = options.logo
        self.printing = PrintService(
            self.printer, lambda call: self.run(DeviceKind.RECEIPT_PRINTER, call),
            printer_profile(options), self.renderer,
            logo=(self.settings.paths.assets / logo).read_bytes() if logo else None)

    # the kinds every journey uses, typed; any other kind: ``kiosk.devices[kind]``
    @property
    def identity(self) -> IdentityReader:
        device: IdentityReader = self.devices[DeviceKind.IDENTITY_READER]
        return device

    @property
    def camera(self) -> DocumentCamera:
        device: DocumentCamera = self.devices[DeviceKind.DOCUMENT_CAMERA]
        return device

    @property
    def barcode(self) -> BarcodeDecoder:
        device: BarcodeDecoder = self.devices[DeviceKind.BARCODE_DECODER]
        return device

    @property
    def printer(self) -> ReceiptPrinter:
        device: ReceiptPrinter = self.devices[DeviceKind.RECEIPT_PRINTER]
        return device

    @property
    def speaker(self) -> Speaker:
        device: Speaker = self.devices[DeviceKind.SPEAKER]
        return device

    @property
    def face_camera(self) -> FaceCamera:
        device: FaceCamera = self.devices[DeviceKind.FACE_CAMERA]
        return device

    @property
    def face_matcher(self) -> FaceMatcher:
        device: FaceMatcher = self.devices[DeviceKind.FACE_MATCHER]
        return device

    @property
    def outbox(self) -> Outbox:
        return self.courier.outbox

    def camera_feed(self, clock: Callable[[], float] | None = None) -> CameraFeed:
        """A live view of the document camera with page detection and auto-capture; the
        capture screen starts it on entry and stops it on leaving."""
        # OpenCV, loaded on first use; one tracker per feed: it remembers the last page seen
        detect = load_named("drivers.camera.track:PageTracker")()
        return CameraFeed(self.camera, detect, clock or time.monotonic,
                          dwell_s=self.settings.session.capture_dwell_s)

    def _directory_endpoint(self, name: str) -> tuple[str, str] | None:
        """Where the region directory in use sends a route's packages (the uploader's view)."""
        directory = self.region_directory()
        return directory.endpoint_of(name) if isinstance(directory, RegionDirectory) else None

    def open(self, now: datetime) -> None:
        sweep_interrupted(self.settings.paths.data_dir / SCRATCH_DIR)   # no session runs yet
        threading.Thread(target=self.renderer.warm, name="font-warm", daemon=True).start()
        self.devices.open()
        self.refresh(now)
        # what a crash between commit and receipt left (see kiosk/recovery.py)
        close_interrupted_cases(self.outbox, self.ledger, now)
        reprint_owed_receipts(self.outbox, self.ledger, self.printing, office(self.settings),
                              now)

    def start_uploader(self) -> None:
        """Deliver the outbox on a daemon thread, every ``transfer.poll_s`` and after each
        commit."""
        self.courier.uploader.run(self.settings.transfer.poll_s)
        if self.evaluation_upload is not None:
            self.evaluation_upload.run()
        self.case_status.start()     # and take in the regions' status events (MQTT, feeds)

    def wake_evaluation_upload(self) -> None:
        if self.evaluation_upload is not None:
            self.evaluation_upload.wake()

    def refresh(self, now: datetime) -> None:
        """Read every device's status into the lifecycle (start-up, idle polls, tests), and
        the disk against its floor."""
        apply_floor(self.disk, self.lifecycle, now)
        alert_overdue(self.ledger, self.lifecycle, now.date())   # 容缺 items past deadline
        self.case_status.overdue(self.outbox)   # no 接收, 补正 late, result not collected
        for kind, status in self.devices.statuses().items():
            self.lifecycle.device_status(kind, status, now)
            if kind is DeviceKind.RECEIPT_PRINTER and status.usable and self.printing.pending:
                self.printing.retry_pending()   # paper is back: the held receipt, once

    def start_polling(self, clock: Callable[[], datetime] = datetime.now) -> None:
        """Check device status every ``devices.status_poll_s`` while idle, on a daemon thread
        (a kiosk must notice paper-out before the next citizen, not during their session)."""
        self._stop_polling.clear()
        interval = self.settings.devices.status_poll_s

        def loop() -> None:
            while not self._stop_polling.wait(interval):
                if self.lifecycle.state is not KioskState.ACTIVE:
                    self.refresh(clock())

        threading.Thread(target=loop, name="status-poll", daemon=True).start()

    def run(self, kind: str, call: Callable[[], T]) -> Future[T]:
        """Run blocking device I/O on that device's own worker thread."""
        return self.devices.run(kind, call)

    def close(self) -> None:
        self._stop_polling.set()
        self.case_status.stop()
        self.case_status.store.close()
        self.devices.close()
        self.ledger.close()
        self.courier.close()
        if self.evaluation_upload is not None:
            self.evaluation_upload.close()
        self.evaluations.close()
        self.lifecycle.stop()


def build_kiosk(settings: Settings, bus: EventBus | None = None,
                registry: Registry = BUILTIN,
                directory: DirectorySource = no_signed_directory) -> Kiosk:
    """``bus``: the one to keep when a new configuration replaces a running kiosk (its
    subscribers — the screens, the heartbeat — carry on). ``registry``: the device backends
    (tests extend it with devices of their own). ``directory``: the fleet's signed region
    directory (kiosk/fleet/directory.py), when the kiosk is in a fleet."""
    catalogue = load_catalogue(settings.paths.catalogue)
    data = settings.paths.data_dir
    owner_only_dir(data)   # and what is already in it: ledger, outbox, log, printed images
    bus = bus or EventBus()
    routed = frozenset(settings.transfer.routes)
    lifecycle = Lifecycle(bus, settings.hours, routed, {k.name: k.zh for k in registry.kinds})

    def overdue(entry: OutboxEntry) -> None:
        lifecycle.alert("delivery_overdue", {
            "case_number": entry.case_number, "region": entry.region,
            "zh": f"受理编号 {entry.case_number} 的材料未在时限内送达 {entry.region}",
            "en": f"Case {entry.case_number} not delivered to {entry.region} in time"})

    courier = Courier.build(settings, overdue)   # first: a bad route key stops start-up here
    if directory is no_signed_directory and settings.transfer.directory_file is not None:
        installed = installed_directory(settings.transfer.directory_file,
                                        settings.transfer.suite)
        directory = lambda: installed      # noqa: E731  (the same one for every lookup)
    return Kiosk(
        settings=settings,
        catalogue=catalogue,
        bus=bus,
        lifecycle=lifecycle,
        devices=DeviceManager.build(settings.devices.configured, registry,
                                    device_context(settings), bus.publish),
        ledger=Ledger(data / "ledger.sqlite"),
        courier=courier,
        renderer=Renderer(settings.paths.assets / FONT),
        region_directory=directory,
    )
