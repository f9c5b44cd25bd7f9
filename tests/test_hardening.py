"""A kiosk process dumps no core (docs/privacy.md): a native crash must not write the session
key and decrypted pages to disk. Read in a real process started through the ``kiosk`` entry
point, as the kiosk and its tools start: RLIMIT_CORE 0 (hard limit too), not dumpable, umask
077 — except the umask for the operator's fleet tools, whose published repository a web
server reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prctl and /proc are Linux")

# main() as the console script calls it (argv from sys.argv), then the process looks at itself
PROBE = """
import ctypes, json, os, resource, sys
from {program} import main
code = main()
limits = [line.split()[-3:-1] for line in open("/proc/self/limits")
          if line.startswith("Max core file size")]
print(json.dumps({"code": code, "rlimit": resource.getrlimit(resource.RLIMIT_CORE),
                  "limits": limits[0], "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),
                  "umask": os.umask(0o022)}))
"""


def _probe(*args: str, probe: str = PROBE, program: str = "kiosk.cli") -> dict[str, Any]:
    probe = probe.replace("{program}", program)
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                          text=True, timeout=120, check=True, umask=0o022)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_kiosk_command_dumps_no_core_and_makes_owner_only_files() -> None:
    seen = _probe("catalogue", "validate")
    assert seen["code"] == 0
    assert seen["rlimit"] == [0, 0] and seen["limits"] == ["0", "0"]
    assert seen["dumpable"] == 0
    assert seen["umask"] == 0o077


def test_the_operators_fleet_tools_dump_no_core_but_keep_the_umask(tmp_path: Path) -> None:
    seen = _probe("build", "--tree", str(tmp_path),                  # no fleet.toml: exits 2
                  program="fleetops.cli")
    assert seen["code"] == 2
    assert seen["rlimit"] == [0, 0] and seen["dumpable"] == 0
    assert seen["umask"] == 0o022


def test_calling_main_in_a_process_leaves_that_process_alone() -> None:
    """Tests call main([...]) in pytest's own process: it must stay as it was."""
    seen = _probe("catalogue", "validate",
                  probe=PROBE.replace("code = main()", "code = main(sys.argv[1:])"))
    assert seen["code"] == 0 and seen["dumpable"] == 1 and seen["umask"] == 0o022
