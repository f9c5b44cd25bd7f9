"""A receipt printer named by URL (the ``kiosk print`` tools): the URL becomes the backend's
options and the printer is built through the registry, like the kiosk's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from drivers.printer import ReceiptPrinter
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.devices.registry import DeviceContext, Registry
from kiosk.errors import KioskError


def printer_options(url: str) -> tuple[str, dict[str, Any]]:
    """``tcp://HOST[:PORT]``, ``file:///PATH``, ``serial:DEVICE-OR-PYSERIAL-URL[?baudrate=N]``
    (e.g. ``serial:/dev/ttyUSB0?baudrate=9600``, ``serial:socket://127.0.0.1:9100``) or
    ``usb://VID:PID[?in=0x81&out=0x03]`` → (backend, options)."""
    try:
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        if parsed.scheme == "tcp":
            return "network", {"host": parsed.hostname or "127.0.0.1",
                               "port": parsed.port or 9100}
        if parsed.scheme == "file":
            return "file", {"path": parsed.path}
        if parsed.scheme == "serial":
            target = url.removeprefix("serial:").split("?", 1)[0]
            return "serial", {"url": target, "baudrate": int(query.get("baudrate", 9600))}
        if parsed.scheme == "usb":
            vendor, _, product = parsed.netloc.partition(":")
            return "usb", {"vendor_id": vendor, "product_id": product,
                           "in_ep": query.get("in", "0x81"), "out_ep": query.get("out", "0x03")}
    except ValueError:
        pass   # a bad IPv6 address, a port or baud rate that is no number: as a bad scheme
    raise KioskError(f"不支持的打印机地址：{url}",
                     f"Unsupported printer URL {url}: use tcp://, file://, serial: or usb://",
                     code="bad_printer_url")


def open_printer(url: str, dots_per_line: int = 576,
                 registry: Registry = BUILTIN) -> ReceiptPrinter:
    """The printer at ``url``, built and opened."""
    backend, options = printer_options(url)
    printer: ReceiptPrinter = registry.make(DeviceKind.RECEIPT_PRINTER, backend,
                            {**options, "dots_per_line": dots_per_line},
                            DeviceContext(assets=Path("."), data_dir=Path(".")))
    printer.open()
    return printer
