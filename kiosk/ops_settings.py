"""Settings of the unattended kiosk PC: disk and logs, the clock, the UPS.

Apart from kiosk/settings.py so that kiosk/ops (which reads the lifecycle, which reads the
settings) is never imported by the settings; every key is documented in config/default.toml.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MIB = 1024 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Section):
    disk_floor_mb: float = Field(512, gt=0)        # free space under this: no new session
    disk_reserve_mb: float = Field(64, ge=0)       # held in a file, released for a commit
    log_dir: Path = Path("logs")                   # relative: under paths.data_dir
    log_file_mb: float = Field(10, gt=0)           # one log file rotates at this size
    log_total_mb: float = Field(100, gt=0)         # all log files together, at most

    @model_validator(mode="after")
    def _sizes(self) -> Resources:
        if self.disk_reserve_mb >= self.disk_floor_mb:
            raise ValueError("resources.disk_reserve_mb must be under disk_floor_mb (the floor "
                             "keeps room for a session's scratch as well as its package)")
        if self.log_file_mb > self.log_total_mb:
            raise ValueError("resources.log_file_mb must not exceed log_total_mb")
        return self

    def logs(self, data_dir: Path) -> Path:
        return self.log_dir if self.log_dir.is_absolute() else data_dir / self.log_dir


class ClockSettings(_Section):
    max_skew_s: float = Field(300, gt=0)           # wall clock vs trusted time: "far off"
    jump_s: float = Field(30, gt=0)                # wall vs monotonic divergence: "a jump"


class Power(_Section):
    """A UPS through Network UPS Tools' upsd (its TCP protocol); ``ups_host`` "" = none."""

    ups_host: str = ""
    ups_port: int = Field(3493, ge=1, le=65535)
    ups_name: str = "ups"
    poll_s: float = Field(5, gt=0)
    timeout_s: float = Field(3, gt=0)              # one question to upsd
    min_runtime_s: float = Field(180, ge=0)        # battery.runtime under this: shut down
    shutdown_command: tuple[str, ...] = ("systemctl", "poweroff")

    @field_validator("ups_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|"
                                      r"\[?[0-9A-Fa-f:]+\]?", value):
            raise ValueError(f"power.ups_host {value!r} is not a host name or address")
        return value

    @field_validator("ups_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):   # NUT's names: no spaces
            raise ValueError(f"power.ups_name {value!r}: letters, digits, _ . - only")
        return value

    @field_validator("shutdown_command")
    @classmethod
    def _command(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or not value[0]:
            raise ValueError("power.shutdown_command needs a program to run")
        return value
