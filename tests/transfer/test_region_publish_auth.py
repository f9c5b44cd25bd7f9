"""``kiosk-region publish`` to a broker that wants credentials and TLS: a real Mosquitto on
loopback with a password file, an mqtts listener under a CA made here, and client
certificates required. The right credentials deliver; a wrong password, a wrong CA or no
client certificate is a typed refusal with exit 2, and every event stays unsent. The
password is read from a file and never shows in the output."""

from __future__ import annotations

import queue
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from region_rig import Fixture, Region, make_region, region_cli
from tls_rig import Issued, TestCA

from kiosk.casestatus.wire import status_root, status_topic
from rigs.mqtt_rig import (
    MosquittoBroker,
    make_password_file,
    mosquitto_available,
    mosquitto_passwd_path,
)

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not mosquitto_available() or mosquitto_passwd_path() is None,
                                 reason="needs mosquitto and mosquitto_passwd")]
USER, PASSWORD = "region-510802", "pw-Kx9-ignored-by-nobody"
KIOSK_USER, KIOSK_PASSWORD = "kiosk-510802-0001", "kiosk-pw-7Qe"


class TlsBroker(MosquittoBroker):
    """The rig's broker with its one listener on TLS, client certificates required."""

    def __init__(self, server: Issued, ca: Path, password_file: Path) -> None:
        super().__init__(password_file=password_file)
        self.tls_lines = [f"cafile {ca}", f"certfile {server.cert}", f"keyfile {server.key}",
                          "require_certificate true", "tls_version tlsv1.2"]

    def config_text(self) -> str:
        lines = super().config_text().splitlines()
        return "\n".join(lines[:2] + self.tls_lines + lines[2:]) + "\n"



@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | Issued]:
    folder = tmp_path_factory.mktemp("pki")
    ca, other = TestCA(folder), TestCA(folder, "another CA")
    return {"ca": ca.cert, "other_ca": other.cert, "server": ca.issue("broker", server=True),
            "client": ca.issue("region-publisher", server=False)}


@pytest.fixture
def broker(pki: dict[str, Path | Issued], tmp_path: Path) -> Iterator[TlsBroker]:
    passwords = make_password_file(tmp_path / "passwd", {USER: PASSWORD,
                                                         KIOSK_USER: KIOSK_PASSWORD})
    server, ca = pki["server"], pki["ca"]
    assert isinstance(server, Issued) and isinstance(ca, Path)
    running = TlsBroker(server, ca, passwords).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def region(tmp_path: Path, make_keys: Fixture, make_package: Fixture,
           seal_to_file: Fixture) -> Region:
    region = make_region(tmp_path, make_keys, make_package, seal_to_file)
    for seed in (1, 2, 3):
        package_id, data, _ = region.sealed(seed)
        region.put(data, f"u{seed}", package_id=package_id)
    assert region_cli(region.intake_argv()).returncode == 0
    return region


def _secret(folder: Path, text: str) -> Path:
    path = folder / "broker-password"
    path.write_text(text, encoding="utf-8")
    return path


def _publish(region: Region, broker: TlsBroker, pki: dict[str, Path | Issued], password: Path,
             *, ca: str = "ca", client_cert: bool = True, timeout: str = "60"
             ) -> subprocess.CompletedProcess[str]:
    client = pki["client"]
    assert isinstance(client, Issued)
    certs = ["--cert-file", str(client.cert), "--key-file", str(client.key)] \
        if client_cert else []
    return region_cli(["publish", "--db", str(region.db), "--broker",
                       f"mqtts://127.0.0.1:{broker.port}", "--fleet", "demo", "--once",
                       "--timeout", timeout, "--username", USER, "--password-file",
                       str(password), "--ca-file", str(pki[ca]), *certs])


def _unsent(region: Region) -> int:
    return int(region.rows("SELECT COUNT(*) FROM outgoing WHERE sent_at IS NULL")[0][0])


def test_the_right_credentials_over_mutual_tls_deliver(
        region: Region, broker: TlsBroker, pki: dict[str, Path | Issued], tmp_path: Path
        ) -> None:
    kiosk = _subscriber(broker, pki)
    try:
        done = _publish(region, broker, pki, _secret(tmp_path, PASSWORD + "\n"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "sent 3"
        assert _unsent(region) == 0
        assert PASSWORD not in done.stdout + done.stderr
        got = [kiosk.messages.get(timeout=20).payload for _ in range(3)]   # delivered
        assert got == [bytes(r[0]) for r in region.rows("SELECT wire FROM outgoing ORDER BY id")]
    finally:
        kiosk.client.disconnect()
        kiosk.client.loop_stop()


class _Subscribed:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.messages: queue.Queue[MQTTMessage] = queue.Queue()


def _subscriber(broker: TlsBroker, pki: dict[str, Path | Issued]) -> _Subscribed:
    """The receiving kiosk on the same TLS listener, with its own user and certificate."""
    client_cert, ca = pki["client"], pki["ca"]
    assert isinstance(client_cert, Issued) and isinstance(ca, Path)
    client = Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="kiosk-sub",
                    protocol=MQTTProtocolVersion.MQTTv5)
    client.username_pw_set(KIOSK_USER, KIOSK_PASSWORD)
    client.tls_set(ca_certs=str(ca), certfile=str(client_cert.cert),
                   keyfile=str(client_cert.key))
    ready: queue.Queue[object] = queue.Queue()
    subscribed = _Subscribed(client)
    client.on_message = lambda c, u, message: subscribed.messages.put(message)
    client.on_subscribe = lambda c, u, mid, codes, props: ready.put(codes)
    client.connect("127.0.0.1", broker.port, keepalive=30)
    client.loop_start()
    client.subscribe(status_topic(status_root("demo"), "510802-0001"), qos=1)
    ready.get(timeout=20)
    return subscribed


def test_a_wrong_password_is_a_typed_refusal_and_nothing_is_marked_sent(
        region: Region, broker: TlsBroker, pki: dict[str, Path | Issued], tmp_path: Path
        ) -> None:
    done = _publish(region, broker, pki, _secret(tmp_path, "not-the-password"))
    assert done.returncode == 2
    assert "拒绝登录" in done.stderr and "refused the login" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "not-the-password" not in done.stderr
    assert _unsent(region) == 3


def test_a_broker_certificate_from_another_ca_is_refused_at_once(
        region: Region, broker: TlsBroker, pki: dict[str, Path | Issued], tmp_path: Path
        ) -> None:
    done = _publish(region, broker, pki, _secret(tmp_path, PASSWORD), ca="other_ca")
    assert done.returncode == 2
    assert "TLS" in done.stderr and "certificate" in done.stderr, done.stderr
    assert _unsent(region) == 3


def test_without_a_client_certificate_nothing_is_sent(
        region: Region, broker: TlsBroker, pki: dict[str, Path | Issued], tmp_path: Path
        ) -> None:
    done = _publish(region, broker, pki, _secret(tmp_path, PASSWORD), client_cert=False,
                    timeout="5")
    assert done.returncode == 2 and " / " in done.stderr and "Traceback" not in done.stderr
    assert _unsent(region) == 3


@pytest.mark.parametrize("case", [
    "password-without-user", "ca-on-plain-mqtt", "cert-without-key", "password-missing",
    "password-dev-zero", "password-empty", "password-two-lines", "password-folder",
    "password-not-utf8", "user-with-colon", "user-with-space", "user-too-long",
    "ca-not-pem", "ca-missing", "broker-ftp", "broker-no-port"])
def test_bad_broker_settings_are_typed_refusals(region: Region, tmp_path: Path,
                                                case: str) -> None:
    secret = _secret(tmp_path, PASSWORD)
    args = {"--broker": "mqtts://127.0.0.1:1", "--username": USER,
            "--password-file": str(secret)}
    extra: list[str] = []
    match case:
        case "password-without-user":
            del args["--username"]
        case "ca-on-plain-mqtt":
            args["--broker"] = "mqtt://127.0.0.1:1"
            extra = ["--ca-file", str(secret)]
        case "cert-without-key":
            extra = ["--cert-file", str(secret)]
        case "password-missing":
            args["--password-file"] = str(tmp_path / "nowhere")
        case "password-dev-zero":
            args["--password-file"] = "/dev/zero"
        case "password-empty":
            secret.write_text("")
        case "password-two-lines":
            secret.write_text("one\ntwo\n")
        case "password-folder":
            args["--password-file"] = str(tmp_path)
        case "password-not-utf8":
            secret.write_bytes(b"\xff\xfe\xfa")
        case "user-with-colon":
            args["--username"] = "a:b"
        case "user-with-space":
            args["--username"] = "a b"
        case "user-too-long":
            args["--username"] = "u" * 65
        case "ca-not-pem":
            extra = ["--ca-file", str(secret)]
        case "ca-missing":
            extra = ["--ca-file", str(tmp_path / "ca.pem")]
        case "broker-ftp":
            args["--broker"] = "ftp://127.0.0.1:1"
        case "broker-no-port":
            args["--broker"] = "mqtts://127.0.0.1"
    done = region_cli(["publish", "--db", str(region.db), "--fleet", "demo", "--once",
                       "--timeout", "5", *[x for kv in args.items() for x in kv], *extra])
    assert done.returncode == 2 and " / " in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr
    assert "acknowledged" not in done.stderr      # refused before trying the broker
    assert _unsent(region) == 3
