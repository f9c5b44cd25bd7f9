"""Runs the reference tus server (``tus-server/server.mjs``) on loopback for tests, benchmarks
and the demo. What it received is read back from its root directory: ``finished.jsonl`` (one
line per finished upload, duplicates included) and ``delivered/`` (the first copy of each
``<package_id>.<receiver>``). With ``s3=`` a bucket (rigs/s3_rig.py) holds the uploads and
the delivered claims instead (its credentials reach the server through its environment)."""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigs.pipes import drain

if TYPE_CHECKING:
    from rigs.s3_rig import Bucket

SERVER_DIR = Path(__file__).resolve().parent / "tus-server"
_START_TIMEOUT = 20.0
_SETUP_HINT = "run scripts/setup.sh (or npm ci in rigs/tus-server)"


def node_available() -> bool:
    """Node is on PATH and the server's npm dependencies are installed."""
    return shutil.which("node") is not None and (SERVER_DIR / "node_modules").is_dir()


class TusServer:
    """The reference tus server (@tus/server + @tus/file-store, or @tus/s3-store with ``s3``)
    on loopback, as a subprocess. ``s3_part_size``: S3Store's part size (S3 refuses parts
    under 5 MiB but the last)."""

    def __init__(self, root: Path, *, port: int = 0, max_size: int | None = None,
                 s3: Bucket | None = None, s3_part_size: int | None = None) -> None:
        self.root = Path(root)
        self.port = port
        self.max_size = max_size
        self.s3 = s3
        self.s3_part_size = s3_part_size
        self.process: subprocess.Popen[str] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/files"

    def start(self) -> TusServer:
        node = shutil.which("node")
        if node is None or not (SERVER_DIR / "node_modules").is_dir():
            missing = ("node is not on PATH" if node is None
                       else f"{SERVER_DIR / 'node_modules'} is missing")
            raise RuntimeError(f"cannot start the tus server: {missing}; {_SETUP_HINT}")
        self.root.mkdir(parents=True, exist_ok=True)
        command = [node, str(SERVER_DIR / "server.mjs"), "--root", str(self.root),
                   "--port", str(self.port), "--stdin-lifeline"]
        if self.max_size is not None:
            command += ["--max-size", str(self.max_size)]
        env = None
        if self.s3 is not None:
            command += ["--s3-bucket", self.s3.name, "--s3-endpoint", self.s3.endpoint,
                        "--s3-region", self.s3.region, "--s3-path-style"]
            if self.s3_part_size is not None:
                command += ["--s3-part-size", str(self.s3_part_size)]
            env = {**os.environ, **self.s3.env()}
        # Own session: a Ctrl-C meant for pytest or the demo must not kill the server under it.
        # Its stdin stays open as a lifeline: if this process dies, the server exits.
        self.process = subprocess.Popen(command, cwd=SERVER_DIR, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True,
                                        env=env)
        lines: queue.Queue[str | None] = queue.Queue()
        # Reader threads keep both pipes drained for the server's whole life, so it never
        # blocks on a full pipe, and let start() wait with a timeout instead of a blocking read.
        drain(self.process.stdout, lines.put, lambda: lines.put(None), name="tus-server-pipe")
        errors = drain(self.process.stderr, self._stderr.append, name="tus-server-pipe")
        try:
            line = lines.get(timeout=_START_TIMEOUT)
            why = "it exited" if line is None else f"it printed {line.strip()!r}"
        except queue.Empty:
            line, why = None, f"no 'listening' line within {_START_TIMEOUT:.0f} s"
        if line is None or not line.startswith("listening "):
            self.stop()
            errors.join(timeout=2)
            raise RuntimeError(f"the tus server did not start ({why}); its stderr:\n"
                               + "".join(self._stderr) + f"\nIf modules are missing, {_SETUP_HINT}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdin is not None:     # stdout and stderr are closed by their readers
            process.stdin.close()

    def __enter__(self) -> TusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def finishes(self) -> list[dict[str, Any]]:
        """Every finished upload in order, duplicates included."""
        journal = self.root / "finished.jsonl"
        if not journal.exists():
            return []
        return [json.loads(line) for line in journal.read_text("utf-8").splitlines() if line]

    def delivered(self) -> dict[str, Path]:
        """``"<package_id>.<receiver>"`` → the delivered file (the first finished copy)."""
        folder = self.root / "delivered"
        if not folder.is_dir():
            return {}
        return {path.name: path for path in sorted(folder.iterdir()) if path.is_file()}

