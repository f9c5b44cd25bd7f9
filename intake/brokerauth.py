"""How ``kiosk-region publish`` proves itself to the broker: a user name with a password read
from a file (never argv, where ``ps`` shows it), and with ``mqtts://`` TLS 1.2+ checked
against a CA file (or the system's CAs), optionally with a client certificate for mutual TLS.
The same shape as the kiosk's ``[fleet]`` settings (kiosk/fleet/broker.py); that helper takes
the kiosk's own settings object, so the region's side is this small copy."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path

from paho.mqtt.client import Client

from drivers.fileio import read_bounded, shown
from kiosk.errors import KioskError

MAX_SECRET_BYTES = 1024
MAX_PEM_BYTES = 1 << 20
_ADDRESS = re.compile(r"(?:(?P<scheme>mqtts?)://)?(?P<host>[A-Za-z0-9.:-]{1,253}|"
                      r"\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})/?")
_USER = re.compile(r"[^\x00-\x20:\x7f]{1,64}")       # Mosquitto's password file splits on ':'


class BrokerAuthError(KioskError):
    code = "broker_settings"


@dataclass(frozen=True)
class BrokerAuth:
    username: str = ""
    password_file: Path | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


def broker_address(text: str) -> tuple[str, int, bool]:
    """``HOST:PORT``, ``mqtt://HOST:PORT`` or ``mqtts://HOST:PORT`` → host, port, TLS."""
    match = _ADDRESS.fullmatch(text)
    port = int(match["port"]) if match else -1
    if match is None or not 0 <= port <= 65535:
        raise KioskError(f"--broker 应为 主机:端口 或 mqtt(s)://主机:端口：{text[:60]!r}",
                         f"--broker must be HOST:PORT or mqtt(s)://HOST:PORT: {text[:60]!r}",
                         code="bad_address")
    return match["host"].strip("[]"), port, match["scheme"] == "mqtts"


def check(auth: BrokerAuth) -> None:
    """Refuse settings that cannot work before connecting anywhere."""
    if auth.username and not _USER.fullmatch(auth.username):
        raise BrokerAuthError("消息服务器用户名无效（1–64 个字符，不含空白与冒号）",
                              "--username: 1-64 characters, no spaces or ':'")
    if auth.password_file is not None and not auth.username:
        raise BrokerAuthError("--password-file 需要 --username", "--password-file needs "
                              "--username")
    if not auth.tls and (auth.ca_file or auth.cert_file or auth.key_file):
        raise BrokerAuthError("证书文件只用于 mqtts://", "--ca-file, --cert-file and "
                              "--key-file need an mqtts:// broker")
    if (auth.cert_file is None) != (auth.key_file is None):
        raise BrokerAuthError("--cert-file 与 --key-file 须同时给出",
                              "--cert-file and --key-file go together")


def read_password(path: Path) -> str:
    """The first line of ``path``: a regular file of at most 1 KiB, UTF-8, not empty."""
    data = read_bounded(path, MAX_SECRET_BYTES)
    try:
        text = data.decode("utf-8").strip("\r\n")
    except UnicodeDecodeError:
        text = ""
    if not text or "\n" in text:
        raise BrokerAuthError(f"密码文件应只有一行密码：{shown(path)}",
                              f"A password file holds one line, the password: {shown(path)}")
    return text


def apply(client: Client, auth: BrokerAuth) -> None:
    """Credentials and TLS on ``client`` (before it connects)."""
    check(auth)
    if auth.username:
        password = read_password(auth.password_file) if auth.password_file else None
        client.username_pw_set(auth.username, password)
    if auth.tls:
        client.tls_set_context(_tls_context(auth))


def _tls_context(auth: BrokerAuth) -> ssl.SSLContext:
    """TLS 1.2+, the broker's certificate checked against ``ca_file`` (else the system's CAs)
    and its host name, with the client certificate when given."""
    for path in (auth.ca_file, auth.cert_file, auth.key_file):
        if path is not None:      # missing, a folder or a device: a typed refusal first
            read_bounded(path, MAX_PEM_BYTES)
    try:
        context = ssl.create_default_context(
            cafile=None if auth.ca_file is None else str(auth.ca_file))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if auth.cert_file and auth.key_file:
            context.load_cert_chain(auth.cert_file, auth.key_file)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise BrokerAuthError(f"TLS 证书文件无法使用：{exc}",
                              f"The TLS certificate files cannot be used: {exc}") from None
    return context
