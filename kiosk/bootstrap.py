"""Builds a kiosk from settings: the ONLY place that picks device backends.

Backends are imported lazily, so a kiosk without a PC/SC stack never loads pyscard.
Device I/O runs on one worker thread per device; device events go onto the bus.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

from drivers.barcode import BarcodeDecoder
from drivers.camera import DocumentCamera
from drivers.identity import IdentityReader
from drivers.printer import ReceiptPrinter
from drivers.printer.program import PrinterProfile
from drivers.speaker import Speaker
from drivers.status import DeviceEvent
from kiosk.bus import EventBus
from kiosk.camera_feed import CameraFeed
from kiosk.catalogue import Catalogue, load_catalogue
from kiosk.catalogue.model import DeviceKind
from kiosk.delivery.courier import Courier
from kiosk.delivery.outbox import Outbox, OutboxEntry
from kiosk.documents import Renderer
from kiosk.errors import ConfigError, KioskError
from kiosk.fsutil import owner_only_dir
from kiosk.ledger import Ledger
from kiosk.lifecycle import KioskState, Lifecycle
from kiosk.printing import PrintService
from kiosk.recovery import close_interrupted_cases, reprint_owed_receipts
from kiosk.settings import DeviceSettings, Settings
from kiosk.submission import office
from kiosk.tempstore import SCRATCH_DIR, sweep_interrupted

T = TypeVar("T")
FONT = Path("fonts/NotoSansSC-Regular.otf")   # under paths.assets


def load_named(spec: str) -> Any:
    """``"package.module:name"``, imported on first use: kiosk/ names device backends
    without importing their libraries (the layers contract), and unused ones cost nothing."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _identity_emulated(opts: dict[str, Any], s: Settings) -> Any:
    identities = load_named("drivers.identity.emulated:load_identities")(
        s.paths.assets / str(opts.get("identities", "demo/identities.toml")))
    reader = load_named("drivers.identity.emulated:EmulatedIdentityReader")(identities)
    if opts.get("present"):
        reader.present(str(opts["present"]))
    return reader


def _identity_ga467(opts: dict[str, Any], s: Settings) -> Any:
    """A GA/T 467 module on ``port`` (a device, or any pyserial URL such as socket://)."""
    decoder = None
    if opts.get("photo_library"):
        decoder = load_named("drivers.identity.ga467.photo:VendorWltLibrary")(
            str(opts["photo_library"]), symbol=str(opts.get("photo_symbol", "unpack")),
            mode=int(opts.get("photo_mode", 0)))
    return load_named("drivers.identity.ga467.reader:Ga467Reader")(
        str(opts.get("port", "/dev/ttyUSB0")), baudrate=int(opts.get("baudrate", 115200)),
        fingerprint=bool(opts.get("fingerprint", False)), photo_decoder=decoder)


def _identity_pcsc(opts: dict[str, Any], s: Settings) -> Any:
    """Passports and ICAO cards on a PC/SC reader (``reader``: part of its name)."""
    return load_named("drivers.identity.emrtd.reader:PcscReader")(
        reader=str(opts.get("reader", "")), extended=bool(opts.get("extended", True)))


def _identity_ga467_pcsc(opts: dict[str, Any], s: Settings) -> Any:
    """Both: the ID-card module for cards, the PC/SC reader for passports."""
    return load_named("drivers.identity.combined:CombinedReader")(
        _identity_ga467(opts, s), _identity_pcsc(opts, s))


def _camera_emulated(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.camera.emulated:EmulatedCamera")(
        s.paths.assets / str(opts.get("pages", "demo/pages")), s.paths.assets / FONT,
        dpi=int(opts.get("dpi", 150)), preview_fps=float(opts.get("preview_fps", 15)),
        preview_size=_size_option(opts, "camera", "preview_size", (1280, 720)))


def _camera_opencv(opts: dict[str, Any], s: Settings) -> Any:
    """A UVC 高拍仪 on V4L2: ``device`` is an index or a /dev/videoN path."""
    device = opts.get("device", 0)
    fourcc = str(opts.get("fourcc", "MJPG"))
    if len(fourcc) != 4:
        raise ConfigError("settings", [f"devices.camera.options.fourcc: `{fourcc}`; "
                                       "应为四个字符 / expected four characters, e.g. MJPG"])
    return load_named("drivers.camera.opencv_camera:OpenCvCamera")(
        int(device) if str(device).isdigit() else str(device), fourcc=fourcc,
        preview_size=_size_option(opts, "camera", "preview_size", (1920, 1080)),
        still_size=_size_option(opts, "camera", "still_size", (3264, 2448)),
        fps=float(opts.get("fps", 15)), warmup_frames=int(opts.get("warmup_frames", 5)),
        drain_frames=int(opts.get("drain_frames", 4)), **_page_options(opts))


def _camera_replay(opts: dict[str, Any], s: Settings) -> Any:
    """A recording played as the camera; paths under paths.assets unless absolute."""
    stills = str(opts.get("stills", ""))
    return load_named("drivers.camera.replay:ReplayCamera")(
        s.paths.assets / str(opts.get("source", "demo/replay")),
        stills=s.paths.assets / stills if stills else None, fps=float(opts.get("fps", 15)),
        loop=bool(opts.get("loop", True)), **_page_options(opts))


def _page_options(opts: dict[str, Any]) -> dict[str, Any]:
    """How a real camera's still becomes the page (drivers.camera.pipeline.still_to_page)."""
    mode = str(opts.get("mode", "colour"))
    if mode not in ("colour", "grey", "bw"):
        raise ConfigError("settings", [f"devices.camera.options.mode: `{mode}`; "
                                       "可选 / one of: colour, grey, bw"])
    return {"dpi": int(opts.get("dpi", 200)), "mode": mode,
            "jpeg_quality": int(opts.get("jpeg_quality", 85))}


def _size_option(opts: dict[str, Any], kind: str, key: str,
                 default: tuple[int, int]) -> tuple[int, int]:
    value = opts.get(key, list(default))
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and v > 0 for v in value)):
        raise ConfigError("settings", [f"devices.{kind}.options.{key}: `{value}`; "
                                       "应为 [宽, 高] / expected [width, height] in pixels"])
    return value[0], value[1]


def _speaker_emulated(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.speaker.emulated:EmulatedSpeaker")()


def _speaker_espeak(opts: dict[str, Any], s: Settings) -> Any:
    output = str(opts.get("output", "default"))
    return load_named("drivers.speaker.espeak:EspeakSpeaker")(
        output if output == "default" else s.paths.data_dir / output,
        rate=int(opts.get("rate", 150)), volume=int(opts.get("volume", 100)))


def _barcode_pyzbar(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.barcode.pyzbar_backend:PyzbarDecoder")()


def _barcode_zxing(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.barcode.zxing_backend:ZxingDecoder")()


def _printer_emulated(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.printer.emulated:EmulatedPrinter")(
        s.paths.data_dir / str(opts.get("out", "printer")),
        dots_per_line=int(opts.get("dots_per_line", 576)))


def _printer_loopback(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.printer.loopback:LoopbackPrinter")(
        s.paths.data_dir / str(opts.get("out", "printer")), s.paths.assets / FONT,
        dots_per_line=int(opts.get("dots_per_line", 576)))


def _printer_network(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.printer.network:NetworkPrinter")(
        str(opts.get("host", "127.0.0.1")), int(opts.get("port", 9100)),
        timeout=float(opts.get("timeout", 3.0)), dots_per_line=int(opts.get("dots_per_line", 576)))


def _printer_serial(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.printer.serial_link:SerialPrinter")(
        str(opts.get("url", "/dev/ttyUSB0")), baudrate=int(opts.get("baudrate", 9600)),
        timeout=float(opts.get("timeout", 3.0)), dots_per_line=int(opts.get("dots_per_line", 576)))


def _printer_usb(opts: dict[str, Any], s: Settings) -> Any:
    def hex_option(key: str, default: str) -> int:
        return int(str(opts.get(key, default)), 16)
    return load_named("drivers.printer.usb_link:UsbPrinter")(
        hex_option("vendor_id", "0x0416"), hex_option("product_id", "0x5011"),
        in_ep=hex_option("in_ep", "0x81"), out_ep=hex_option("out_ep", "0x03"),
        timeout=float(opts.get("timeout", 3.0)), dots_per_line=int(opts.get("dots_per_line", 576)))


def _printer_file(opts: dict[str, Any], s: Settings) -> Any:
    return load_named("drivers.printer.file:FilePrinter")(
        Path(str(opts.get("path", "/dev/usb/lp0"))), int(opts.get("dots_per_line", 576)))


BACKENDS: dict[tuple[str, str], Callable[[dict[str, Any], Settings], Any]] = {
    ("identity", "emulated"): _identity_emulated,
    ("identity", "ga467"): _identity_ga467,
    ("identity", "pcsc"): _identity_pcsc,
    ("identity", "ga467+pcsc"): _identity_ga467_pcsc,
    ("camera", "emulated"): _camera_emulated,
    ("camera", "opencv"): _camera_opencv,
    ("camera", "replay"): _camera_replay,
    ("barcode", "pyzbar"): _barcode_pyzbar,
    ("barcode", "zxing"): _barcode_zxing,
    ("printer", "emulated"): _printer_emulated,
    ("printer", "loopback"): _printer_loopback,
    ("printer", "network"): _printer_network,
    ("printer", "file"): _printer_file,
    ("printer", "serial"): _printer_serial,
    ("printer", "usb"): _printer_usb,
    ("speaker", "emulated"): _speaker_emulated,
    ("speaker", "espeak"): _speaker_espeak,
}


def open_printer(url: str, dots_per_line: int = 576) -> ReceiptPrinter:
    """A printer by URL, opened: ``tcp://HOST[:PORT]``, ``file:///PATH``,
    ``serial:DEVICE-OR-PYSERIAL-URL[?baudrate=N]`` (e.g. ``serial:/dev/ttyUSB0?baudrate=9600``,
    ``serial:socket://127.0.0.1:9100``) or ``usb://VID:PID[?in=0x81&out=0x03]``."""
    parsed = urlparse(url)
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    printer: ReceiptPrinter
    if parsed.scheme == "tcp":
        printer = load_named("drivers.printer.network:NetworkPrinter")(
            parsed.hostname or "127.0.0.1", parsed.port or 9100, dots_per_line=dots_per_line)
    elif parsed.scheme == "file":
        printer = load_named("drivers.printer.file:FilePrinter")(Path(parsed.path), dots_per_line)
    elif parsed.scheme == "serial":
        target = url.removeprefix("serial:").split("?", 1)[0]
        printer = load_named("drivers.printer.serial_link:SerialPrinter")(
            target, baudrate=int(query.get("baudrate", 9600)), dots_per_line=dots_per_line)
    elif parsed.scheme == "usb":
        vendor, _, product = parsed.netloc.partition(":")
        printer = load_named("drivers.printer.usb_link:UsbPrinter")(
            int(vendor, 16), int(product, 16), in_ep=int(query.get("in", "0x81"), 16),
            out_ep=int(query.get("out", "0x03"), 16), dots_per_line=dots_per_line)
    else:
        raise KioskError(f"不支持的打印机地址：{url}",
                         f"Unsupported printer URL {url}: use tcp://, file://, serial: or usb://",
                         code="bad_printer_url")
    printer.open()
    return printer


def make_device(kind: str, conf: DeviceSettings, settings: Settings) -> Any:
    factory = BACKENDS.get((kind, conf.backend))
    if factory is None:
        known = sorted(b for k, b in BACKENDS if k == kind)
        raise ConfigError("settings", [f"devices.{kind}.backend: 未知的后端 / unknown backend "
                                       f"`{conf.backend}`; 可选 / one of: {', '.join(known)}"])
    return factory(dict(conf.options), settings)


def printer_profile(conf: DeviceSettings, dots_per_line: int) -> PrinterProfile:
    """What the configured printer model can do (options of devices.printer)."""
    charset = str(conf.options.get("charset", "gbk"))
    if charset not in ("gbk", "gb18030"):
        raise ConfigError("settings", [f"devices.printer.options.charset: `{charset}`; "
                                       "可选 / one of: gbk, gb18030"])
    return PrinterProfile(dots_per_line=dots_per_line,
                          charset="gb18030" if charset == "gb18030" else "gbk",
                          native_qr=bool(conf.options.get("native_qr", True)),
                          cutter=bool(conf.options.get("cutter", True)))


@dataclass
class Kiosk:
    """Everything one kiosk runs on, wired once at start-up and passed explicitly."""

    settings: Settings
    catalogue: Catalogue
    bus: EventBus
    lifecycle: Lifecycle
    identity: IdentityReader
    camera: DocumentCamera
    barcode: BarcodeDecoder
    printer: ReceiptPrinter
    speaker: Speaker
    ledger: Ledger
    courier: Courier
    renderer: Renderer
    printing: PrintService = field(init=False)
    _workers: dict[str, ThreadPoolExecutor] = field(default_factory=dict)
    _stop_polling: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        profile = printer_profile(self.settings.devices.printer, self.printer.dots_per_line)
        logo = str(self.settings.devices.printer.options.get("logo", ""))
        self.printing = PrintService(
            self.printer, lambda call: self.run(DeviceKind.RECEIPT_PRINTER, call), profile,
            self.renderer, logo=(self.settings.paths.assets / logo).read_bytes() if logo else None)

    @property
    def outbox(self) -> Outbox:
        return self.courier.outbox

    @property
    def devices(self) -> dict[DeviceKind, Any]:
        return {DeviceKind.IDENTITY_READER: self.identity,
                DeviceKind.DOCUMENT_CAMERA: self.camera,
                DeviceKind.RECEIPT_PRINTER: self.printer,
                DeviceKind.SPEAKER: self.speaker}   # reported, but no matter requires it

    def camera_feed(self, clock: Callable[[], float] | None = None) -> CameraFeed:
        """A live view of the document camera with page detection and auto-capture; the
        capture screen starts it on entry and stops it on leaving."""
        detect = load_named("drivers.camera.detect:detect_page")   # OpenCV, loaded on first use
        return CameraFeed(self.camera, detect, clock or time.monotonic,
                          dwell_s=self.settings.session.capture_dwell_s)

    def open(self, now: datetime) -> None:
        sweep_interrupted(self.settings.paths.data_dir / SCRATCH_DIR)   # no session runs yet
        for kind, device in self.devices.items():
            device.open(self._sink(kind))
        self.refresh(now)
        # what a crash between commit and receipt left (see kiosk/recovery.py)
        close_interrupted_cases(self.outbox, self.ledger, now)
        reprint_owed_receipts(self.outbox, self.ledger, self.printing, office(self.settings),
                              now)

    def start_uploader(self) -> None:
        """Deliver the outbox on a daemon thread, every ``delivery.poll_s`` and after each
        commit."""
        self.courier.uploader.run(self.settings.delivery.poll_s)

    def refresh(self, now: datetime) -> None:
        """Read every device's status into the lifecycle (start-up, idle polls, tests)."""
        for kind, device in self.devices.items():
            status = device.status()
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

    def run(self, kind: DeviceKind, call: Callable[[], T]) -> Future[T]:
        """Run blocking device I/O on that device's own worker thread."""
        worker = self._workers.get(kind.value)
        if worker is None:
            worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=kind.value)
            self._workers[kind.value] = worker
        return worker.submit(call)

    def close(self) -> None:
        self._stop_polling.set()
        for worker in self._workers.values():
            worker.shutdown(wait=True)
        for device in self.devices.values():
            device.close()
        self.ledger.close()
        self.courier.close()
        self.lifecycle.stop()

    def _sink(self, kind: DeviceKind) -> Callable[[DeviceEvent], None]:
        def sink(event: DeviceEvent) -> None:
            self.bus.publish(f"device.{kind.value}", event)
        return sink


def build_kiosk(settings: Settings, bus: EventBus | None = None) -> Kiosk:
    """``bus``: the one to keep when a new configuration replaces a running kiosk (its
    subscribers — the screens, the heartbeat — carry on)."""
    catalogue = load_catalogue(settings.paths.catalogue)
    data = settings.paths.data_dir
    owner_only_dir(data)   # and what is already in it: ledger, outbox, log, printed images
    bus = bus or EventBus()
    devices = settings.devices
    routed = frozenset(settings.delivery.routes)
    lifecycle = Lifecycle(bus, settings.hours, routed)

    def overdue(entry: OutboxEntry) -> None:
        lifecycle.alert("delivery_overdue", {
            "case_number": entry.case_number, "region": entry.region,
            "zh": f"受理编号 {entry.case_number} 的材料未在时限内送达 {entry.region}",
            "en": f"Case {entry.case_number} not delivered to {entry.region} in time"})

    courier = Courier.build(settings, overdue)   # first: a bad route key stops start-up here
    return Kiosk(
        settings=settings,
        catalogue=catalogue,
        bus=bus,
        lifecycle=lifecycle,
        identity=make_device("identity", devices.identity, settings),
        camera=make_device("camera", devices.camera, settings),
        barcode=make_device("barcode", devices.barcode, settings),
        printer=make_device("printer", devices.printer, settings),
        speaker=make_device("speaker", devices.speaker, settings),
        ledger=Ledger(data / "ledger.sqlite"),
        courier=courier,
        renderer=Renderer(settings.paths.assets / FONT),
    )
