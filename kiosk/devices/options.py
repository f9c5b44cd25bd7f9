"""Typed options of every built-in backend: one model per backend, unknown keys refused.

A misspelt key (``hots`` for ``host``) is an error naming the key when the settings load
(``kiosk config validate``, the fleet's check before a swap), never a silent default.
Paths are relative to ``paths.assets`` (inputs) or ``paths.data_dir`` (outputs) as documented
in config/default.toml.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


class Options(BaseModel):
    """Base of every backend's options (a backend without options uses it as is)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _size(value: tuple[int, int]) -> tuple[int, int]:
    if not all(v > 0 for v in value):
        raise ValueError("应为 [宽, 高] / expected [width, height] in pixels")
    return value


def _hex(value: object) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 16)
    except ValueError:
        raise ValueError("应为十六进制数 / expected a hex number such as \"0x0416\"") from None


def _fourcc(value: str) -> str:
    if len(value) != 4:
        raise ValueError("应为四个字符 / expected four characters, e.g. MJPG")
    return value


Size = Annotated[tuple[int, int], AfterValidator(_size)]
Hex = Annotated[int, BeforeValidator(_hex)]
Seconds = Annotated[float, Field(gt=0)]


# -- identity readers ----------------------------------------------------------------------
class EmulatedIdentityOptions(Options):
    identities: str = "demo/identities.toml"      # under paths.assets
    present: str = ""                             # the card placed at start ("" = none)


class Ga467Options(Options):
    port: str = "/dev/ttyUSB0"                    # a device or any pyserial URL (socket://...)
    baudrate: int = Field(115200, gt=0)
    fingerprint: bool = False
    photo_library: str = ""                       # the vendor's WLT decoder (.so); "" = no photo
    photo_symbol: str = "unpack"
    photo_mode: int = 0


class PcscOptions(Options):
    reader: str = ""                              # part of the PC/SC reader's name; "" = first
    extended: bool = True                         # the reader passes extended-length APDUs
    master_list: str = ""                         # CSCA certificates, under paths.data_dir


class Ga467PcscOptions(Ga467Options, PcscOptions):
    """Both readers: cards to the GA/T 467 module, passports to the PC/SC reader."""


# -- document cameras ----------------------------------------------------------------------
class EmulatedCameraOptions(Options):
    pages: str = "demo/pages"                     # under paths.assets
    dpi: int = Field(150, gt=0)
    preview_fps: float = Field(15, gt=0)
    preview_size: Size = (1280, 720)


class PageOptions(Options):
    """How a real camera's still becomes the page (drivers.camera.pipeline.still_to_page)."""

    dpi: int = Field(200, gt=0)
    mode: Literal["colour", "grey", "bw"] = "colour"
    jpeg_quality: int = Field(85, ge=1, le=100)


class OpenCvCameraOptions(PageOptions):
    device: int | str = 0                         # an index or a /dev/videoN path
    fourcc: Annotated[str, AfterValidator(_fourcc)] = "MJPG"
    preview_size: Size = (1920, 1080)
    still_size: Size = (3264, 2448)
    fps: float = Field(15, gt=0)
    warmup_frames: int = Field(5, ge=0)
    drain_frames: int = Field(4, ge=0)


class ReplayCameraOptions(PageOptions):
    source: str = "demo/replay"                   # under paths.assets unless absolute
    stills: str = ""
    fps: float = Field(15, gt=0)
    loop: bool = True


# -- receipt printers ----------------------------------------------------------------------
class PrinterOptions(Options):
    """What every receipt printer model declares, whatever its link."""

    dots_per_line: int = Field(576, gt=0)         # 576: 80 mm paper; 384: 58 mm
    charset: Literal["gbk", "gb18030"] = "gbk"    # the printer's double-byte font
    native_qr: bool = True
    cutter: bool = True
    logo: str = ""                                # a PNG under paths.assets; "" = none


class RecordingPrinterOptions(PrinterOptions):
    out: str = "printer"                          # printed jobs, under paths.data_dir


class NetworkPrinterOptions(PrinterOptions):
    host: str = "127.0.0.1"
    port: int = Field(9100, gt=0, lt=65536)
    timeout: Seconds = 3.0


class SerialPrinterOptions(PrinterOptions):
    url: str = "/dev/ttyUSB0"                     # a device or any pyserial URL
    baudrate: int = Field(9600, gt=0)
    timeout: Seconds = 3.0


class UsbPrinterOptions(PrinterOptions):
    vendor_id: Hex = 0x0416
    product_id: Hex = 0x5011
    in_ep: Hex = 0x81
    out_ep: Hex = 0x03
    timeout: Seconds = 3.0


class FilePrinterOptions(PrinterOptions):
    path: str = "/dev/usb/lp0"


# -- barcode decoders ----------------------------------------------------------------------
class CascadeOptions(Options):
    """The decoding cascade's bounds (drivers/barcode/cascade.py): no pass starts after
    ``budget_ms`` and at most ``max_passes`` run, whatever the picture. The kiosk's default
    budget is 300 ms: the citizen waits for it at every page (config/default.toml)."""

    budget_ms: float = Field(300.0, gt=0, le=10_000)
    max_passes: int = Field(24, ge=1, le=64)


# -- speakers ------------------------------------------------------------------------------
class SpeakerOptions(Options):
    """eSpeak NG's; the emulated speaker takes (and ignores) the same keys, so switching
    backend is one line."""

    rate: int = Field(150, gt=0)                  # words per minute
    volume: int = Field(100, ge=0, le=200)
    output: str = "default"                       # the sound device, or a folder under data_dir


# -- face cameras (人证核验) -----------------------------------------------------------------
class EmulatedFaceCameraOptions(Options):
    """``present``: who stands in front at start — "nobody" unless the demo says otherwise, so
    a kiosk whose settings leave the face camera out never passes anyone on an emulator."""

    faces: str = "demo/faces"                     # under paths.assets: <key>.jpg, faces.json
    person: str = "applicant"
    other: str = "other"
    present: Literal["right", "other", "photo", "nobody"] = "nobody"
    size: Size = (640, 480)
    fps: float = Field(15, gt=0)
    act_s: float = Field(1.0, gt=0, le=10)        # seconds the person takes for one move


class OpenCvFaceCameraOptions(Options):
    device: int | str = 0                         # an index or a /dev/videoN path
    size: Size = (640, 480)
    fps: float = Field(15, gt=0)
    fourcc: Annotated[str, AfterValidator(_fourcc)] = "MJPG"


class ReplayFaceCameraOptions(Options):
    source: str = "demo/faces/replay"             # a video or images, under paths.assets
    fps: float = Field(15, gt=0)
    loop: bool = False


# -- face matchers (人证核验) ----------------------------------------------------------------
class DlibMatcherOptions(Options):
    """The score is 1 − the distance between dlib's descriptors; the default threshold comes
    from benchmarks/face.py (docs/face.md): false accepts under 1e-3 for every document photo
    quality measured. Higher: fewer impostors accepted, more people sent to staff."""

    threshold: float = Field(0.50, gt=0, lt=1)
