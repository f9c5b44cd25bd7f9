"""deploy/install.sh and deploy/uninstall.sh into a skeleton root (``--root DIR
--files-only``): the user, owner-only folders, the settings it writes, the unit links, and
that an upgrade, a rollback and an uninstall keep settings, data, keys and the outbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from deploy_rig import REPO, account, needs_root, owner_mode, run_script

pytestmark = needs_root

PREFIX = "opt/tongban-kiosk"
ETC = "etc/tongban-kiosk"
STATE = "var/lib/tongban-kiosk"
LOGS = "var/log/tongban-kiosk"


def ids(root: Path) -> tuple[int, int]:
    return int(account(root, "passwd", "kiosk")[2]), int(account(root, "group", "kiosk")[2])


def releases(root: Path) -> list[str]:
    return sorted(p.name for p in (root / PREFIX / "releases").iterdir())


def current(root: Path) -> str:
    return (root / PREFIX / "current").readlink().name


def test_the_kiosk_user_is_unprivileged_with_its_device_groups(installed: Path) -> None:
    user = account(installed, "passwd", "kiosk")
    assert int(user[2]) < 1000 and user[2] != "0"          # a system user, not root
    assert (user[5], user[6]) == ("/var/lib/tongban-kiosk", "/usr/sbin/nologin")
    for group in ("dialout", "lp", "video", "audio", "plugdev"):
        assert "kiosk" in account(installed, "group", group)[3].split(",")
    assert account(installed, "shadow", "kiosk")[1] in ("!", "*", "!*")   # no password


def test_folders_and_files_are_owner_only(installed: Path) -> None:
    uid, gid = ids(installed)
    assert owner_mode(installed / ETC) == (0, gid, 0o750)            # the app reads, root writes
    assert owner_mode(installed / ETC / "keys") == (0, gid, 0o750)
    assert owner_mode(installed / ETC / "settings.toml") == (0, gid, 0o640)
    assert owner_mode(installed / STATE) == (uid, gid, 0o700)
    assert owner_mode(installed / LOGS) == (uid, gid, 0o700)
    for path in (installed / PREFIX).rglob("*"):
        if path.is_symlink():
            continue
        owner, _, mode = owner_mode(path)
        assert owner == 0 and not mode & 0o022, path            # nobody but root changes code
    for name in ("udev/rules.d/70-tongban-kiosk.rules", "pam.d/tongban-kiosk",
                 "X11/xorg.conf.d/10-tongban-kiosk.conf", "systemd/system/tongban-kiosk.service"):
        assert owner_mode(installed / "etc" / name) == (0, 0, 0o644)


def test_a_technicians_world_readable_file_is_closed_on_the_next_run(installed: Path) -> None:
    secret = installed / ETC / "mqtt-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o666)
    assert run_script("install.sh", installed, "--files-only").returncode == 0
    assert owner_mode(secret) == (0, ids(installed)[1], 0o640)


def test_the_units_are_enabled_for_boot(installed: Path) -> None:
    system = installed / "etc/systemd/system"
    assert (system / "default.target").readlink().name == "graphical.target"
    for wants, name in (("graphical.target.wants", "tongban-kiosk.service"),
                        ("graphical.target.wants", "tongban-kiosk-display.service"),
                        ("timers.target.wants", "tongban-kiosk-nightly.timer")):
        assert (system / wants / name).is_symlink()


def test_the_settings_are_the_documented_defaults_with_the_releases_paths(
        installed: Path, tmp_path: Path) -> None:
    written = (installed / ETC / "settings.toml").read_text(encoding="utf-8").splitlines()
    default = (REPO / "config/default.toml").read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(default, written, strict=True) if a != b]
    app = "/opt/tongban-kiosk/current/app"
    assert changed == [
        ('nightly = ""', 'nightly = "03:00-04:00"'),           # the window the timer runs in
        ('catalogue = "catalogue.yaml"', f'catalogue = "{app}/config/catalogue.yaml"'),
        ('assets = "../assets"', f'assets = "{app}/assets"'),
        ('log_dir = "logs"', 'log_dir = "/var/log/tongban-kiosk"')]   # the unit's LogsDirectory
    # …and they validate against the release the installer copied (moved into the skeleton).
    moved = tmp_path / "moved.toml"
    moved.write_text("\n".join(written).replace(app, str(installed / PREFIX / "current/app"))
                     + "\n", encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "kiosk", "config", "validate", str(moved)],
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stderr


def test_upgrade_keeps_settings_data_keys_and_outbox(installed: Path) -> None:
    settings = installed / ETC / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + "# the hall's edit\n",
                        encoding="utf-8")
    kept = {settings: settings.read_bytes()}
    for name in ("outbox/spool/pkg.tbk", "keys/device-ed25519.key", "ledger.sqlite"):
        path = installed / STATE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"citizen's sealed data")
        kept[path] = path.read_bytes()
    first = current(installed)
    upgraded = run_script("install.sh", installed, "--files-only")
    assert upgraded.returncode == 0, upgraded.stderr
    assert {path: path.read_bytes() for path in kept} == kept
    now = current(installed)
    assert now != first and releases(installed) == sorted([first, now])


def test_two_releases_stay_and_rollback_returns_to_the_previous(installed: Path) -> None:
    for _ in range(2):
        assert run_script("install.sh", installed, "--files-only").returncode == 0
    assert len(releases(installed)) == 2                   # the oldest of three was pruned
    newest = current(installed)
    back = run_script("install.sh", installed, "--rollback")
    assert back.returncode == 0, back.stderr
    assert current(installed) == next(r for r in releases(installed) if r != newest)


def test_uninstall_removes_the_program_and_keeps_the_halls_data(installed: Path) -> None:
    (installed / STATE / "outbox").mkdir()
    (installed / STATE / "outbox/pkg.tbk").write_bytes(b"not yet delivered")
    done = run_script("uninstall.sh", installed)
    assert done.returncode == 0, done.stderr
    assert not (installed / PREFIX).exists()
    gone = ("systemd/system/tongban-kiosk.service", "udev/rules.d/70-tongban-kiosk.rules",
            "pam.d/tongban-kiosk", "systemd/system/graphical.target.wants/tongban-kiosk.service")
    assert [name for name in gone if (installed / "etc" / name).exists()] == []
    assert (installed / STATE / "outbox/pkg.tbk").read_bytes() == b"not yet delivered"
    assert (installed / ETC / "settings.toml").is_file()
    assert account(installed, "passwd", "kiosk")            # the owner of what stays
    again = run_script("install.sh", installed, "--files-only")
    assert again.returncode == 0 and (installed / STATE / "outbox/pkg.tbk").is_file()


@pytest.mark.parametrize("args", [["--bogus"], ["--wheelhouse"]])
def test_bad_arguments_are_refused_in_both_languages(installed: Path, args: list[str]) -> None:
    done = run_script("install.sh", installed, "--files-only", *args)
    assert done.returncode != 0
    if args == ["--bogus"]:
        assert "未知参数 --bogus" in done.stderr and "unknown argument --bogus" in done.stderr


def test_a_full_install_into_another_root_is_refused(installed: Path) -> None:
    done = run_script("install.sh", installed)
    assert done.returncode != 0 and "--root needs --files-only" in done.stderr
