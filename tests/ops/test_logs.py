"""The kiosk's log files: rotated at a size, capped in total, owner-only, redacted; the
nightly rotation prunes the oldest files to the cap."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.ops.logs import LOG_NAME, KioskLogFile, install_log_file, prune_logs, rotate_logs
from kiosk.ops_settings import Resources
from kiosk.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER, PHONE = "110101195803121237", "13800138000"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    base = load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path / "data")
    yield base.model_copy(update={"resources": Resources(
        disk_floor_mb=32, disk_reserve_mb=0, log_file_mb=0.01, log_total_mb=0.05)})
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, KioskLogFile)]:
        root.removeHandler(handler)
        handler.close()


def test_log_files_rotate_and_stay_under_the_total_cap(settings: Settings) -> None:
    handler = install_log_file(settings)
    assert install_log_file(settings) is handler          # once per process
    log = logging.getLogger("kiosk.test")
    for n in range(3000):                                  # ~200 KB of records: 4x the cap
        log.info("session %d ended for %s, phone %s", n, ID_NUMBER, PHONE)
    handler.flush()
    folder = settings.paths.data_dir / "logs"
    files = sorted(folder.iterdir())
    assert len(files) > 1, "the file rolled over"
    assert sum(f.stat().st_size for f in files) <= 0.05 * 2**20 + 0.01 * 2**20
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert ID_NUMBER not in text and PHONE not in text and "<id-number>" in text
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_nightly_rotation_rolls_over_and_prunes_the_oldest(settings: Settings) -> None:
    folder = settings.paths.data_dir / "logs"
    folder.mkdir(parents=True)
    for age, name in enumerate(["demo.log", "kiosk.log.9", "kiosk.log.8"]):   # stray, old
        path = folder / name
        path.write_bytes(b"x" * 20_000)
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    (folder / "notes.txt").write_text("not a log")
    handler = install_log_file(settings)
    logging.getLogger("kiosk.test").info("before the night")
    pruned = rotate_logs(settings)
    assert pruned.removed == ("demo.log",)                # the oldest, until under 50 KiB
    assert pruned.kept_bytes <= 0.05 * 2**20
    assert (folder / "kiosk.log.1").read_text(encoding="utf-8").endswith("before the night\n")
    assert (folder / LOG_NAME).stat().st_size == 0 and (folder / "notes.txt").exists()
    assert handler.stream is not None


def test_pruning_never_deletes_the_file_being_written(tmp_path: Path) -> None:
    (tmp_path / LOG_NAME).write_bytes(b"x" * 5000)
    assert prune_logs(tmp_path, 100).removed == ()
    assert prune_logs(tmp_path / "absent", 100).kept_bytes == 0


@pytest.mark.parametrize("bad", [{"disk_floor_mb": 64, "disk_reserve_mb": 64},
                                 {"log_file_mb": 20, "log_total_mb": 10},
                                 {"disk_floor_mb": 0}, {"disk_reserve_mb": -1}])
def test_resource_settings_are_validated(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Resources(**bad)
