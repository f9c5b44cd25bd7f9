"""The udev rules, the polkit rule and the scripts of deploy/ are well-formed. systemd 252
(Debian 12) has no ``udevadm verify`` (systemd 254), so the rules are parsed here by udev's
own grammar (udev(7)): comma-separated KEY[{attr}] OP "value"; match keys compare (==, !=),
assignment keys assign (=, +=, -=, :=). Where ``udevadm verify`` exists it runs too."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_rig import DEPLOY

RULES = DEPLOY / "udev/70-tongban-kiosk.rules"
MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM",
              "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR", "ATTRS", "SYSCTL", "ENV", "CONST",
              "TAG", "TAGS", "TEST", "PROGRAM", "RESULT"}
ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "ENV", "TAG", "RUN", "LABEL",
               "GOTO", "IMPORT", "OPTIONS", "ATTR", "SYSCTL", "SECLABEL"}
PAIR = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[A-Za-z0-9_.-]+)\})?\s*'
                  r'(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*')
KIOSK_GROUPS = {"dialout", "lp", "video", "audio", "plugdev"}


def parse_rule(line: str) -> list[tuple[str, str, str]]:
    """(key, op, value) of one rule line; ValueError names what is wrong."""
    pairs, rest = [], line
    while rest.strip():
        found = PAIR.match(rest)
        if not found:
            raise ValueError(f"not KEY OP \"value\": {rest!r}")
        key, op = found["key"], found["op"]
        allowed = MATCH_KEYS if op in ("==", "!=") else ASSIGN_KEYS
        if key not in allowed:
            raise ValueError(f"{key} cannot take {op}")
        pairs.append((key, op, found["value"]))
        rest = rest[found.end():]
        if rest and not rest.startswith(","):
            raise ValueError(f"missing comma before {rest!r}")
        rest = rest[1:]
    return pairs


def rule_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8").replace("\\\n", "")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_every_udev_rule_parses_matches_something_and_grants_only_to_a_group() -> None:
    lines = rule_lines(RULES)
    assert len(lines) >= 5
    for line in lines:
        pairs = parse_rule(line)
        assert any(op in ("==", "!=") for _, op, _ in pairs), line      # never every device
        assigned = {key: value for key, op, value in pairs if op not in ("==", "!=")}
        assert assigned, line
        if "MODE" in assigned:       # owner and group only, a group the kiosk user is in
            assert re.fullmatch(r"0[0-7][0-7]0", assigned["MODE"]), line
            assert assigned.get("GROUP") in KIOSK_GROUPS, line


@pytest.mark.parametrize("bad", [
    'SUBSYSTEM=="tty" GROUP="dialout"',          # no comma
    'SUBSYSTEM=="tty", GROUP=="dialout"',        # GROUP cannot be matched
    'SUBSYSTEM=="tty", MODE="0660',              # unterminated value
    'SUBSYSTEM="tty", GROUP="dialout"',          # SUBSYSTEM cannot be assigned
])
def test_the_rule_parser_refuses_what_udev_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_rule(bad)


def test_udevadm_verify_where_systemd_has_it() -> None:
    udevadm = shutil.which("udevadm")
    if udevadm is None or subprocess.run([udevadm, "verify", "--help"], capture_output=True,
                                         check=False, timeout=30).returncode != 0:
        pytest.skip("udevadm verify needs systemd >= 254 (Debian 12 has 252)")
    done = subprocess.run([udevadm, "verify", str(RULES)], capture_output=True, text=True,
                          check=False, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_polkit_rule_is_javascript() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/setup.sh installs it)")
    compile_only = "new Function(require('fs').readFileSync(process.argv[1], 'utf8'))"
    rule = DEPLOY / "polkit/60-tongban-kiosk-pcsc.rules"
    done = subprocess.run([node, "-e", compile_only, str(rule)], capture_output=True,
                          text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("script", ["install.sh", "uninstall.sh", "lib.sh", "chroot-test.sh"])
def test_the_shell_scripts_parse(script: str) -> None:
    done = subprocess.run(["bash", "-n", str(DEPLOY / script)], capture_output=True, text=True,
                          check=False, timeout=30)
    assert done.returncode == 0, done.stderr
