"""The kiosk's configuration versions on disk, under ``<data_dir>/fleet/``:

```
versions/<N>/      an unpacked, validated bundle (never changed once there)
state.json         current, last_known_good, pending, the last refusal; written atomically
tuf/ downloads/    python-tuf's metadata and bundle cache
```
``current`` is what the kiosk runs; ``last_known_good`` the newest version that passed its
post-apply checks (where a failed one goes back to). A version is staged whole (temp folder,
validation, rename) before it can be pointed at, so a crash mid-update leaves the pointers on
something complete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.fleet.bundle import Bundle
from kiosk.fleet.check import effective_settings
from kiosk.fleet.errors import FleetError
from kiosk.fsutil import fsync_dir, write_atomic
from kiosk.settings import Settings

KEEP_VERSIONS = 3


@dataclass(frozen=True)
class StoreState:
    current: int | None = None
    last_known_good: int | None = None
    pending: int | None = None
    applied_at: str | None = None
    refused: dict[str, Any] | None = None     # the last refusal: version, code, en, at
    bad: tuple[int, ...] = field(default=())  # versions that failed their post-apply checks


class ConfigStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.versions = folder / "versions"
        self.versions.mkdir(parents=True, exist_ok=True)

    def state(self) -> StoreState:
        path = self.folder / "state.json"
        if not path.exists():
            return StoreState()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return StoreState(**{**raw, "bad": tuple(raw.get("bad", ()))})

    def save(self, state: StoreState) -> None:
        write_atomic(self.folder / "state.json",
                     json.dumps(asdict(state), ensure_ascii=False, indent=1).encode())

    def stage(self, bundle: Bundle, local: Settings) -> Settings:
        """Unpack, migrate and validate ``bundle``; on success it is pending."""
        state = self.state()
        if bundle.version in state.bad:
            raise FleetError(f"版本 {bundle.version} 曾在本机应用失败",
                             f"version {bundle.version} failed here before", code="post_check")
        tmp = self.versions / f".{bundle.version}.staging"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            bundle.write_to(tmp)
            effective_settings(tmp, local)      # refuses before anything points at it
            final = self.versions / str(bundle.version)
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
            fsync_dir(self.versions)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.save(replace(self.state(), pending=bundle.version))
        return self.settings_of(bundle.version, local)   # paths now under versions/<N>

    def settings_of(self, version: int, local: Settings) -> Settings:
        return effective_settings(self.versions / str(version), local)

    def applied(self, version: int) -> None:
        """``version`` runs and passed its checks: it is current and last-known-good."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.save(replace(self.state(), current=version, last_known_good=version,
                          pending=None, applied_at=now))
        self._prune(version)

    def failed(self, version: int) -> None:
        """``version`` failed its post-apply checks here: never staged again."""
        state = self.state()
        self.save(replace(state, pending=None, bad=(*state.bad, version)))

    def refused(self, version: int | None, error: FleetError) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.save(replace(self.state(), refused={"version": version, "code": error.code,
                                                  "en": error.en, "zh": error.zh, "at": now}))

    def clear_refusal(self) -> None:
        if self.state().refused is not None:
            self.save(replace(self.state(), refused=None))

    def _prune(self, keep: int) -> None:
        """Keep the newest few versions (staff can still read what ran before)."""
        state = self.state()
        numbered = sorted((int(p.name) for p in self.versions.iterdir() if p.name.isdigit()),
                          reverse=True)
        protected = {keep, state.last_known_good, state.pending}
        for number in numbered[KEEP_VERSIONS:]:
            if number not in protected:
                shutil.rmtree(self.versions / str(number), ignore_errors=True)
