"""A private PC/SC stack for tests, benchmarks and the demo: ``pcscd --foreground`` with its
own reader configuration, whose only reader is vsmartcard-vpcd on a free loopback port pair;
an emulated chip (:class:`VpcdCard`) connects there and pcscd shows it as a card.

pcsc-lite 1.9 always serves on /run/pcscd/pcscd.comm, so only one pcscd may run: the rig
refuses to start beside another one instead of killing it. Stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from smartcard import scard

from drivers.errors import DeviceFault

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PID_FILE = Path("/run/pcscd/pcscd.pid")
SOCKET = Path("/run/pcscd/pcscd.comm")
READER_NAME = "Tongban Virtual PCD"


class RigUnavailable(DeviceFault):
    code = "pcsc_rig_unavailable"

    def __init__(self, en: str) -> None:
        super().__init__("无法启动虚拟读卡环境", en)


class PcscRig:
    """``with PcscRig() as rig:`` — pcscd up with vpcd listening on ``rig.port`` (slot 0) and
    ``rig.port + 1`` (slot 1)."""

    def __init__(self, log_path: Path | None = None) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.log_path = log_path

    @property
    def reader_names(self) -> list[str]:
        return [f"{READER_NAME} 00 00", f"{READER_NAME} 00 01"]

    def start(self, timeout: float = 10.0) -> PcscRig:
        daemon = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(daemon).exists() or not VPCD_DRIVER.exists():
            raise RigUnavailable("pcscd or vsmartcard-vpcd is not installed "
                                 "(apt install pcscd vsmartcard-vpcd)")
        running = _running_pcscd()
        if running or _socket_alive():
            raise RigUnavailable(
                f"another pcscd ({f'pid {running}' if running else 'socket-activated'}) "
                "owns /run/pcscd; stop it first (systemctl stop pcscd.socket pcscd)")
        self.port = _free_port_pair()
        self._dir = tempfile.TemporaryDirectory(prefix="tongban-pcsc-")
        conf = Path(self._dir.name) / "conf"
        conf.mkdir()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:{self.port}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID {self.port}\n")
        log = open(self.log_path or os.devnull, "ab")   # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen([daemon, "--foreground", "--config", str(conf)],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RigUnavailable("pcscd did not start its virtual reader "
                                     "(is this root? pcscd writes /run/pcscd)")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def wait_for_card(self, present: bool, slot: int = 0, timeout: float = 10.0) -> None:
        """Block until pcscd itself sees a card in ``slot`` (or none): vpcd notices a chip
        connecting or leaving only at its next poll, and a chip put back before that looks
        to pcscd as if it never left."""
        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != scard.SCARD_S_SUCCESS:
            raise RigUnavailable("cannot reach pcscd")
        try:
            reader, state = self.reader_names[slot], scard.SCARD_STATE_UNAWARE
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                hr, states = scard.SCardGetStatusChange(ctx, 200, [(reader, state)])
                if hr == scard.SCARD_S_SUCCESS:
                    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                    if bool(state & scard.SCARD_STATE_PRESENT) == present:
                        return
            raise RigUnavailable(f"pcscd did not see the card {'come' if present else 'go'}")
        finally:
            scard.SCardReleaseContext(ctx)

    def __enter__(self) -> PcscRig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _running_pcscd() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _socket_alive() -> bool:
    """Someone answers on pcscd's socket (systemd holds it open for socket activation)."""
    with socket.socket(socket.AF_UNIX) as probe:
        return probe.connect_ex(str(SOCKET)) == 0


def _free_port_pair() -> int:
    """A port p with p and p + 1 free on loopback (vpcd opens one per slot)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65535 and not _listening(port + 1) and not _listening(port):
            return port
    raise RigUnavailable("no free port pair for vpcd")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
