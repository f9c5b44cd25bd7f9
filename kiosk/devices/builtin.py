"""The built-in backends of every device kind, and the registry that holds them.

Each factory turns typed options into a driver object; drivers are imported by name on first
use (see :func:`load_named`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.devices import options as o
from kiosk.devices.kinds import LABELS
from kiosk.devices.kinds import DeviceKind as K
from kiosk.devices.registry import Backend, DeviceContext, Kind, Registry, load_named
from kiosk.paths import CHIME, FONT


def _identity_emulated(opts: o.EmulatedIdentityOptions, ctx: DeviceContext) -> Any:
    identities = load_named("drivers.identity.emulated:load_identities")(
        ctx.assets / opts.identities)
    reader = load_named("drivers.identity.emulated:EmulatedIdentityReader")(identities)
    if opts.present:
        reader.present(opts.present)
    return reader


def _identity_ga467(opts: o.Ga467Options, ctx: DeviceContext) -> Any:
    decoder = None
    if opts.photo_library:
        decoder = load_named("drivers.identity.ga467.photo:VendorWltLibrary")(
            opts.photo_library, symbol=opts.photo_symbol, mode=opts.photo_mode)
    return load_named("drivers.identity.ga467.reader:Ga467Reader")(
        opts.port, baudrate=opts.baudrate, fingerprint=opts.fingerprint, photo_decoder=decoder)


def _identity_pcsc(opts: o.PcscOptions, ctx: DeviceContext) -> Any:
    """Passports and ICAO cards; ``master_list``: the CSCAs passive authentication checks
    each chip's document signer against (relative: under paths.data_dir, where the fleet
    channel puts it)."""
    return load_named("drivers.identity.emrtd.reader:PcscReader")(
        reader=opts.reader, extended=opts.extended,
        master_list=ctx.data_dir / opts.master_list if opts.master_list else None)


def _identity_ga467_pcsc(opts: o.Ga467PcscOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.identity.combined:CombinedReader")(
        _identity_ga467(opts, ctx), _identity_pcsc(opts, ctx))


def _camera_emulated(opts: o.EmulatedCameraOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.camera.emulated:EmulatedCamera")(
        ctx.assets / opts.pages, ctx.assets / FONT, dpi=opts.dpi,
        preview_fps=opts.preview_fps, preview_size=opts.preview_size)


def _page(opts: o.PageOptions) -> dict[str, Any]:
    return {"dpi": opts.dpi, "mode": opts.mode, "jpeg_quality": opts.jpeg_quality}


def _camera_opencv(opts: o.OpenCvCameraOptions, ctx: DeviceContext) -> Any:
    device = opts.device
    return load_named("drivers.camera.opencv_camera:OpenCvCamera")(
        int(device) if str(device).isdigit() else str(device), fourcc=opts.fourcc,
        preview_size=opts.preview_size, still_size=opts.still_size, fps=opts.fps,
        warmup_frames=opts.warmup_frames, drain_frames=opts.drain_frames, **_page(opts))


def _camera_replay(opts: o.ReplayCameraOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.camera.replay:ReplayCamera")(
        ctx.assets / opts.source, stills=ctx.assets / opts.stills if opts.stills else None,
        fps=opts.fps, loop=opts.loop, **_page(opts))


def _barcode(spec: str) -> Any:
    return lambda opts, ctx: load_named(spec)()


def _barcode_cascade(opts: o.CascadeOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.barcode.cascade:CascadeDecoder")(
        budget_ms=opts.budget_ms, max_passes=opts.max_passes)


def _printer_emulated(opts: o.RecordingPrinterOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.printer.emulated:EmulatedPrinter")(
        ctx.data_dir / opts.out, dots_per_line=opts.dots_per_line)


def _printer_loopback(opts: o.RecordingPrinterOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.printer.loopback:LoopbackPrinter")(
        ctx.data_dir / opts.out, ctx.assets / FONT, dots_per_line=opts.dots_per_line)


def _printer_network(opts: o.NetworkPrinterOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.printer.network:NetworkPrinter")(
        opts.host, opts.port, timeout=opts.timeout, dots_per_line=opts.dots_per_line)


def _printer_serial(opts: o.SerialPrinterOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.printer.serial_link:SerialPrinter")(
        opts.url, baudrate=opts.baudrate, timeout=opts.timeout,
        dots_per_line=opts.dots_per_line)


def _printer_usb(opts: o.UsbPrinterOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.printer.usb_link:UsbPrinter")(
        opts.vendor_id, opts.product_id, in_ep=opts.in_ep, out_ep=opts.out_ep,
        timeout=opts.timeout, dots_per_line=opts.dots_per_line)


def _printer_file(opts: o.FilePrinterOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.printer.file:FilePrinter")(Path(opts.path), opts.dots_per_line)


def _speaker_emulated(opts: o.SpeakerOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.speaker.emulated:EmulatedSpeaker")()


def _speaker_espeak(opts: o.SpeakerOptions, ctx: DeviceContext) -> Any:
    output = opts.output
    return load_named("drivers.speaker.espeak:EspeakSpeaker")(
        output if output == "default" else ctx.data_dir / output, rate=opts.rate,
        volume=opts.volume, chime=ctx.assets / CHIME)


def _face_emulated(opts: o.EmulatedFaceCameraOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.face.emulated:EmulatedFaceCamera")(
        ctx.assets / opts.faces, person=opts.person, other=opts.other, present=opts.present,
        size=opts.size, fps=opts.fps, act_s=opts.act_s)


def _face_opencv(opts: o.OpenCvFaceCameraOptions, ctx: DeviceContext) -> Any:
    device = opts.device
    return load_named("drivers.face.opencv_camera:OpenCvFaceCamera")(
        int(device) if str(device).isdigit() else str(device), size=opts.size, fps=opts.fps,
        fourcc=opts.fourcc)


def _face_replay(opts: o.ReplayFaceCameraOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.face.replay:ReplayFaceCamera")(
        ctx.assets / opts.source, fps=opts.fps, loop=opts.loop)


def _matcher_dlib(opts: o.DlibMatcherOptions, ctx: DeviceContext) -> Any:
    return load_named("drivers.face.dlib_matcher:DlibMatcher")(threshold=opts.threshold)


KINDS = (
    Kind(K.IDENTITY_READER, *LABELS[K.IDENTITY_READER], "emulated"),
    Kind(K.DOCUMENT_CAMERA, *LABELS[K.DOCUMENT_CAMERA], "emulated"),
    Kind(K.BARCODE_DECODER, *LABELS[K.BARCODE_DECODER], "cascade", managed=False),
    Kind(K.RECEIPT_PRINTER, *LABELS[K.RECEIPT_PRINTER], "emulated"),
    Kind(K.SPEAKER, *LABELS[K.SPEAKER], "emulated"),
    Kind(K.FACE_CAMERA, *LABELS[K.FACE_CAMERA], "emulated"),
    Kind(K.FACE_MATCHER, *LABELS[K.FACE_MATCHER], "dlib", managed=False),
)

BACKENDS = (
    Backend(K.IDENTITY_READER, "emulated", o.EmulatedIdentityOptions, _identity_emulated),
    Backend(K.IDENTITY_READER, "ga467", o.Ga467Options, _identity_ga467),
    Backend(K.IDENTITY_READER, "pcsc", o.PcscOptions, _identity_pcsc),
    Backend(K.IDENTITY_READER, "ga467+pcsc", o.Ga467PcscOptions, _identity_ga467_pcsc),
    Backend(K.DOCUMENT_CAMERA, "emulated", o.EmulatedCameraOptions, _camera_emulated),
    Backend(K.DOCUMENT_CAMERA, "opencv", o.OpenCvCameraOptions, _camera_opencv),
    Backend(K.DOCUMENT_CAMERA, "replay", o.ReplayCameraOptions, _camera_replay),
    Backend(K.BARCODE_DECODER, "cascade", o.CascadeOptions, _barcode_cascade),
    Backend(K.BARCODE_DECODER, "zxing", o.Options,
            _barcode("drivers.barcode.zxing_backend:ZxingDecoder")),
    Backend(K.BARCODE_DECODER, "pyzbar", o.Options,
            _barcode("drivers.barcode.pyzbar_backend:PyzbarDecoder")),
    Backend(K.RECEIPT_PRINTER, "emulated", o.RecordingPrinterOptions, _printer_emulated),
    Backend(K.RECEIPT_PRINTER, "loopback", o.RecordingPrinterOptions, _printer_loopback),
    Backend(K.RECEIPT_PRINTER, "network", o.NetworkPrinterOptions, _printer_network),
    Backend(K.RECEIPT_PRINTER, "file", o.FilePrinterOptions, _printer_file),
    Backend(K.RECEIPT_PRINTER, "serial", o.SerialPrinterOptions, _printer_serial),
    Backend(K.RECEIPT_PRINTER, "usb", o.UsbPrinterOptions, _printer_usb),
    Backend(K.SPEAKER, "emulated", o.SpeakerOptions, _speaker_emulated),
    Backend(K.SPEAKER, "espeak", o.SpeakerOptions, _speaker_espeak),
    Backend(K.FACE_CAMERA, "emulated", o.EmulatedFaceCameraOptions, _face_emulated),
    Backend(K.FACE_CAMERA, "opencv", o.OpenCvFaceCameraOptions, _face_opencv),
    Backend(K.FACE_CAMERA, "replay", o.ReplayFaceCameraOptions, _face_replay),
    Backend(K.FACE_MATCHER, "dlib", o.DlibMatcherOptions, _matcher_dlib),
)

BUILTIN = Registry(KINDS, BACKENDS)
