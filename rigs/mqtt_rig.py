"""Runs Mosquitto on loopback for tests, benchmarks and the demo: the fleet's MQTT 5 broker
(retained status, last wills, the config pointer, commands). One broker per
:class:`MosquittoBroker`, listening on 127.0.0.1 only, with its configuration, persistence
database and nothing else in a temporary directory it owns.

:meth:`MosquittoBroker.restart` brings the broker back on the same port, so a test can cut
every client off at once and watch them reconnect; with ``persistence=True`` retained
messages and persistent sessions survive it, as they survive a real broker's restart."""

from __future__ import annotations

import collections
import os
import pwd
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path

from rigs.pipes import drain

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
_START_ATTEMPTS = 3          # a free port picked by us can be taken before mosquitto binds it
_SBIN = Path("/usr/sbin/mosquitto")      # Debian's place; /usr/sbin is not on every PATH
_PASSWD_BIN = Path("/usr/bin/mosquitto_passwd")
_RUNNING = re.compile(r"mosquitto version \S+ running")
_SETUP_HINT = "install it (Debian: apt-get install mosquitto mosquitto-clients)"


def mosquitto_path() -> Path | None:
    """The ``mosquitto`` executable: on PATH, else Debian's /usr/sbin/mosquitto."""
    found = shutil.which("mosquitto")
    if found is not None:
        return Path(found)
    return _SBIN if os.access(_SBIN, os.X_OK) else None


def mosquitto_available() -> bool:
    """A ``mosquitto`` broker can be run (on PATH or at /usr/sbin/mosquitto)."""
    return mosquitto_path() is not None


def mosquitto_passwd_path() -> Path | None:
    """The ``mosquitto_passwd`` tool (Debian ships it with the broker, in /usr/bin)."""
    found = shutil.which("mosquitto_passwd")
    if found is not None:
        return Path(found)
    return _PASSWD_BIN if os.access(_PASSWD_BIN, os.X_OK) else None


def make_password_file(path: Path, users: Mapping[str, str]) -> Path:
    """Write a Mosquitto password file at ``path`` (replacing it) with ``users``: name →
    password, hashed by ``mosquitto_passwd -b``. Test and demo credentials only: the
    passwords pass through a command line."""
    tool = mosquitto_passwd_path()
    if tool is None:
        raise RuntimeError(f"mosquitto_passwd is not available; {_SETUP_HINT}")
    if not users:
        raise ValueError("a password file needs at least one user")
    path = Path(path)
    path.unlink(missing_ok=True)
    for index, (user, password) in enumerate(users.items()):
        if not user or ":" in user:
            raise ValueError(f"invalid MQTT user name {user!r}")
        create = ["-c"] if index == 0 else []
        done = subprocess.run([str(tool), *create, "-b", str(path), user, password],
                              capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"mosquitto_passwd failed for {user!r} "
                               f"(exit {done.returncode}): {done.stderr.strip()}")
    return path


class MosquittoBroker:
    """``mosquitto -c <conf>`` on 127.0.0.1, as a subprocess: plain MQTT (3.1, 3.1.1 and 5)
    on ``port``, or on a free port picked at the first start and kept across restarts.

    Anonymous clients are let in unless ``password_file`` is given; ``acl_file`` restricts
    topics per user; ``persistence`` keeps the in-memory database (retained messages,
    sessions, queued QoS 1/2 messages) in the broker's directory, saved when it stops."""

    def __init__(self, *, port: int = 0, password_file: Path | None = None,
                 acl_file: Path | None = None, persistence: bool = False) -> None:
        self.port = port
        self.password_file = None if password_file is None else Path(password_file).resolve()
        self.acl_file = None if acl_file is None else Path(acl_file).resolve()
        self.persistence = persistence
        self.root = Path(tempfile.mkdtemp(prefix="mosquitto-rig-"))
        self.process: subprocess.Popen[str] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=400)
        self._reader: threading.Thread | None = None
        # Whoever forgets stop() (or dies by an exception) still leaves no broker and no
        # directory behind once this object goes, at the latest when the interpreter exits.
        self._live: list[subprocess.Popen[str] | None] = [None]
        self._finalizer = weakref.finalize(self, _cleanup, self._live, self.root)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def config_path(self) -> Path:
        return self.root / "mosquitto.conf"

    def log(self) -> str:
        """Mosquitto's recent log lines (its stderr), oldest first."""
        return "".join(self._stderr)

    def config_text(self) -> str:
        lines = [f"listener {self.port} 127.0.0.1", "protocol mqtt",
                 "max_connections -1",          # the default, said out loud: no cap
                 "log_dest stderr", "log_type error", "log_type warning",
                 "log_type notice", "log_type information", "log_timestamp true"]
        if os.geteuid() == 0:
            # As root mosquitto drops to the user "mosquitto", who cannot read this
            # directory; naming the current user keeps it as it is.
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        if self.password_file is not None:
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        else:       # mosquitto 2: with a listener line, anonymous is refused unless said
            lines.append("allow_anonymous true")
        if self.acl_file is not None:
            lines.append(f"acl_file {self.acl_file}")
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.root}/",
                      "persistence_file mosquitto.db"]
        else:
            lines.append("persistence false")
        return "\n".join(lines) + "\n"

    def start(self) -> MosquittoBroker:
        """Start the broker; return once it accepts connections. Raises RuntimeError, with
        mosquitto's log, if it exits or does not come up."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"the broker is already running (pid {self.process.pid})")
        self.stop()                     # it died on its own: collect it, start afresh
        binary = mosquitto_path()
        if binary is None:
            raise RuntimeError(f"cannot start the MQTT broker: mosquitto is not installed "
                               f"(not on PATH nor at {_SBIN}); {_SETUP_HINT}")
        if not self.root.is_dir():
            raise RuntimeError("this broker was closed; make a new MosquittoBroker")
        for path in (self.password_file, self.acl_file):
            if path is not None and not path.is_file():
                raise RuntimeError(f"cannot start the MQTT broker: {path} does not exist")
        fixed = self.port != 0
        for _ in range(1 if fixed else _START_ATTEMPTS):
            if not fixed:
                self.port = _free_port()
            why = self._launch(binary)
            if why is None:
                return self
            self.stop()
            if "Address already in use" not in self.log():
                break
        port = self.port
        if not fixed:
            self.port = 0               # the next start() picks a free port again
        raise RuntimeError(f"mosquitto did not start on 127.0.0.1:{port} ({why}); "
                           f"its log:\n{self.log()}")

    def _launch(self, binary: Path) -> str | None:
        """Run mosquitto once; None when it is up, else why not."""
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        self._stderr.clear()
        # Own session: a Ctrl-C meant for pytest or the benchmark must not kill the broker
        # under it (stop() ends it, and the finalizer if nobody calls stop()).
        self.process = subprocess.Popen([str(binary), "-c", str(self.config_path)],
                                        cwd=self.root, text=True, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        self._live[0] = self.process
        lines: queue.Queue[str | None] = queue.Queue()
        log = self._stderr          # not self: the reader must not keep the broker object alive

        def sink(line: str) -> None:
            log.append(line)
            lines.put(line)

        # The reader keeps the pipe drained for the broker's whole life (a full pipe would
        # stall it) and lets start() wait with a timeout for the line saying it is up.
        self._reader = drain(self.process.stderr, sink, lambda: lines.put(None),
                             name="mosquitto-pipe")
        why = _await(lines, _RUNNING.search, "'running'", self.process)
        if why is not None:
            return why
        # "running" is logged just before mosquitto enters its loop, and a SIGTERM that
        # comes before it does is lost (the loop starts by setting its run flag). A probe
        # connection it logs was accepted by the loop itself: from then on stop() works.
        # (The line is a notice, on by default: connection_messages, log_type notice.)
        try:
            address = ("127.0.0.1", self.port)
            with socket.create_connection(address, timeout=_START_TIMEOUT) as probe:
                accepted = f"New connection from 127.0.0.1:{probe.getsockname()[1]} "
                return _await(lines, lambda line: accepted in line, "probe connection",
                              self.process)
        except OSError as error:
            return f"it does not accept connections ({error})"

    def stop(self) -> None:
        """Stop the broker (SIGTERM: with persistence it saves its database), SIGKILL if it
        has not gone within 5 s. The port and the directory are kept for a restart."""
        process, self.process, self._live[0] = self.process, None, None
        if process is None:
            return
        _terminate(process)
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None

    def restart(self) -> MosquittoBroker:
        """Stop, then start again on the same port (clients reconnect to the same URL)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the broker and delete its directory (persistence included)."""
        self.stop()
        self._finalizer()

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _await(lines: queue.Queue[str | None], match: Callable[[str], object], what: str,
           process: subprocess.Popen[str]) -> str | None:
    """Read log lines until one matches; None then, else why not (timeout, exit)."""
    while True:
        try:
            line = lines.get(timeout=_START_TIMEOUT)
        except queue.Empty:
            return f"no {what} line within {_START_TIMEOUT:.0f} s"
        if line is None:
            return f"it exited with status {process.wait()}"
        if match(line):
            return None


def _terminate(process: subprocess.Popen[str]) -> None:
    """SIGTERM, repeated (cheap insurance against a lost one), then SIGKILL after 5 s."""
    deadline = time.monotonic() + _STOP_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        process.terminate()
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait()


def _cleanup(processes: list[subprocess.Popen[str] | None], root: Path) -> None:
    for process in processes:
        if process is not None:
            _terminate(process)
    shutil.rmtree(root, ignore_errors=True)

