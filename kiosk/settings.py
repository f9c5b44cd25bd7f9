"""Kiosk settings (TOML): a typed schema with a version; every key is documented in
config/default.toml. Relative paths are resolved against the settings file's folder."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from drivers.fileio import shown
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import LEGACY_SECTIONS
from kiosk.devices.registry import Problem, Registry
from kiosk.errors import ConfigError
from kiosk.ops_settings import ClockSettings, Power, Resources
from kiosk.validation import load_model

SETTINGS_SCHEMA_VERSION = 2
OptionValue = str | int | float | bool | list[int]    # list: e.g. a size [width, height]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KioskIdentity(_Section):
    id: str = Field(pattern=r"^\d{6}-\d{4}$")     # GB/T 2260 code of the hall + serial
    name: str
    department: str                               # receiving department on receipts
    org_code: str = ""                            # its 统一社会信用代码
    address: str = ""
    phone: str                                    # the hall's consultation phone
    staff_label: str = "自助终端"                  # shown as 受理人 for unassisted sessions

    @property
    def region_code(self) -> str:
        return self.id[:6]


class Hours(_Section):
    open: time = time(0, 0)
    close: time = time(23, 59, 59)
    closed_weekdays: tuple[int, ...] = ()         # 0 = Monday
    maintenance: tuple[str, ...] = ()             # "HH:MM-HH:MM" daily maintenance windows
    closed_dates: tuple[date, ...] = ()           # public holidays: closed whatever the day
    open_dates: tuple[date, ...] = ()             # 调休 working days: open on a closed weekday
    nightly: str = ""                             # "HH:MM-HH:MM": restart + nightly job; ""

    @model_validator(mode="after")
    def _consistent(self) -> Hours:
        if self.open >= self.close:
            raise ValueError("开始服务时间须早于结束时间 / hours.open must be before "
                             "hours.close")
        both = sorted(set(self.closed_dates) & set(self.open_dates))
        if both:
            raise ValueError(f"{both[0]} 同时列为闭馆日和调休工作日 / is in both closed_dates "
                             "and open_dates")
        if self.nightly:
            _check_window(self.nightly)
        return self

    @field_validator("closed_weekdays")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value

    @field_validator("maintenance")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for window in value:
            _check_window(window)
        return value


def _check_window(window: str) -> None:
    """ "HH:MM-HH:MM" within one day (a window over midnight is two windows)."""
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", window):
        raise ValueError(f"时间段 {window!r} 应写作 HH:MM-HH:MM / window {window!r} is not "
                         "HH:MM-HH:MM")
    if window[:5] >= window[6:]:
        raise ValueError(f"时间段 {window!r} 结束早于开始（跨零点请分成两段）/ window "
                         f"{window!r} ends before it starts (split one over midnight)")


class SessionSettings(_Section):
    idle_timeout_s: float = Field(120, gt=0)      # no touch for this long → warning
    idle_warning_s: float = Field(30, ge=0)       # countdown shown before the wipe
    read_timeout_s: float = Field(30, gt=0)       # waiting for a card
    capture_timeout_s: float = Field(20, gt=0)
    capture_dwell_s: float = Field(1.5, ge=0)     # a good page held this still → auto-capture


class FaceSettings(_Section):
    """人证核验 in the citizen's journey (docs/face.md). ``enabled``: the step runs after the
    card read (a kiosk with a face camera); the matcher's threshold is the face_matcher
    device's own option."""

    enabled: bool = False
    tries: int = Field(3, ge=1, le=3)             # the manifest records at most 3
    time_limit_s: float = Field(15, ge=2, le=60)  # one try's liveness challenge


class DeviceConfig(_Section):
    """One device as written: ``backend`` and its ``options``, checked against the device
    registry's typed model for that backend when the settings load."""

    backend: str
    options: dict[str, OptionValue] = {}


class Devices(_Section):
    """``[devices.<kind>]`` for each kind of kiosk.devices.kinds; a kind left out runs its
    registry default (emulated devices, the zxing decoder)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, DeviceConfig] = Field(init=False)
    status_poll_s: float = Field(60, gt=0)        # idle status checks (paper, cover, ...)

    @property
    def configured(self) -> dict[str, DeviceConfig]:
        return dict(self.__pydantic_extra__ or {})

    def get(self, kind: str) -> DeviceConfig | None:
        return self.configured.get(kind)


class UiSettings(_Section):
    orientation: Literal["portrait", "landscape"] = "portrait"   # 1080×1920 or 1920×1080
    language: Literal["zh_CN", "en"] = "zh_CN"    # the language a session starts in
    voice: bool = True                            # spoken prompts (the citizen can turn off)
    screen_dpi: float = Field(96, gt=0)           # the panel's physical dpi: mm-sized targets
    fullscreen: bool = True


class Route(_Section):
    """Where one handling region's packages go."""

    transport: Literal["tus", "directory"] = "tus"
    endpoint: str = ""                            # tus: the region's upload URL
    key: Path                                     # its public key (``kiosk region keygen``)

    @model_validator(mode="after")
    def _endpoint(self) -> Route:
        if self.transport == "tus" and not re.match(r"^https?://", self.endpoint):
            raise ValueError("a tus route needs endpoint = \"http(s)://...\"")
        return self


class Transfer(_Section):
    suite: Literal["x25519-chacha20", "sm2-sm4"] = "x25519-chacha20"
    directory: Path = Path("region")              # directory routes: relative to data_dir
    transfer_deadline_hours: float = Field(2, gt=0)
    retention_days: float = Field(30, ge=0)       # ciphertext kept this long after delivery
    chunk_kib: int = Field(256, ge=64)            # tus: the first and the smallest PATCH
    chunk_seconds: float = Field(2, ge=0)         # later PATCHes: about this long each (0: fixed)
    connect_timeout_s: float = Field(10, gt=0)
    read_timeout_s: float = Field(30, gt=0)
    retry_min_s: float = Field(5, gt=0)           # backoff between attempts, with jitter
    retry_max_s: float = Field(900, gt=0)
    poll_s: float = Field(15, gt=0)               # the uploader's idle check
    routes: dict[str, Route] = {}
    # A region directory document installed with the settings (as `kiosk-fleet directory
    # build --out` writes it), for a kiosk outside a fleet; a fleet's signed one wins.
    directory_file: Path | None = None

    @field_validator("routes")
    @classmethod
    def _region_codes(cls, value: dict[str, Route]) -> dict[str, Route]:
        for code in value:
            if not re.fullmatch(r"\d{6}", code):
                raise ValueError(f"route {code!r}: a region is its 6-digit GB/T 2260 code")
        return value


class Fleet(_Section):
    """How this kiosk joins its fleet. Local only: a fleet bundle never changes it (trust and
    the broker's credentials must not be movable by the configuration they protect)."""

    name: str = ""                                # the fleet (topic root); "" = standalone
    repository: str = ""                          # base URL of the published TUF repository
    root: Path = Path("fleet-root.json")          # pinned root metadata: the trust anchor
    poll_s: float = Field(300, gt=0)              # configuration check (the MQTT pointer: at once)
    broker: str = ""                              # mqtt://host:1883 or mqtts://host:8883
    heartbeat_s: float = Field(30, gt=0)          # status republished at least this often
    username: str = ""                            # per-kiosk broker credentials
    password_file: Path | None = None
    ca_file: Path | None = None                   # mqtts: the broker's CA
    cert_file: Path | None = None                 # mqtts: client certificate (mutual TLS)
    key_file: Path | None = None

    @model_validator(mode="after")
    def _urls(self) -> Fleet:
        if self.repository and not re.match(r"^https?://", self.repository):
            raise ValueError("fleet.repository must be an http(s):// URL")
        if self.broker and not re.match(r"^mqtts?://[^/:]+(:\d+)?/?$", self.broker):
            raise ValueError("fleet.broker must be mqtt://host[:port] or mqtts://host[:port]")
        if self.broker and not self.repository:
            raise ValueError("fleet.broker needs fleet.repository (the heartbeat reports the "
                             "configuration the kiosk runs)")
        if (self.repository or self.broker) and not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,40}",
                                                                  self.name):
            raise ValueError("fleet.name (lower-case letters, digits, -) is needed with a "
                             "repository or broker")
        return self


class Hall(_Section):
    """The hall behind the kiosk: how long a citizen's call for staff waits for an answer
    before the screen gives the guide desk's phone instead."""

    call_wait_s: float = Field(120, gt=0)
    phone: str = ""                               # the guide desk's; "" = kiosk.phone
    # the hall case index (kiosk/hall, docs/hall-cards.md): on with id, kiosk_keys and a
    # fleet broker; applicant_key_file adds lookups by ID card across the hall's kiosks
    id: str = Field("", pattern=r"^([A-Za-z0-9_-]{1,64})?$")   # fleet.toml's hall of this kiosk
    kiosk_keys: Path | None = None                # the hall kiosks' exported public keys
    applicant_key_file: Path | None = None        # the hall secret: 64 hex digits, 0600
    card_days: int = Field(90, gt=0, le=3650)     # a card unchanged this long expires
    index_max_cards: int = Field(100_000, gt=0, le=10_000_000)


class EvaluationSettings(_Section):
    """The hall's 好差评 interface (kiosk/evaluation). Ratings are always kept; with no
    endpoint they wait on the kiosk until one is configured."""

    endpoint: str = ""                            # http(s)://… ; "" = keep only
    codes: Literal["gbt39046", "reversed"] = "gbt39046"   # the endpoint's code tables
    channel_code: str = Field("", max_length=16)  # the endpoint's code for a self-service kiosk
    timeout_s: float = Field(10, gt=0)
    retry_min_s: float = Field(30, gt=0)
    retry_max_s: float = Field(3600, gt=0)
    poll_s: float = Field(60, gt=0)

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s]+$", value):
            raise ValueError("evaluation.endpoint must be \"http(s)://...\" or empty")
        return value


class CaseStatus(_Section):
    """Signed case status events back from the handling regions (kiosk/casestatus,
    docs/case-status.md): over the fleet broker (``fleet.broker``) when there is one, and/or
    pulled from HTTPS feeds for halls without a broker."""

    mqtt: bool = True                             # subscribe on fleet.broker (if set)
    session_expiry_s: int = Field(14 * 86400, gt=0)   # the broker keeps our events this long
    feeds: list[str] = Field(default_factory=list, max_length=16)   # https://… feed bases
    feed_tokens: dict[str, Path] = Field(default_factory=dict)   # feed base → token file
    poll_s: float = Field(300, gt=0)
    timeout_s: float = Field(10, gt=0)
    max_age_days: int = Field(30, gt=0)           # an event older than this is stale
    collect_days: int = Field(14, gt=0)           # result at the window not collected: alert

    @field_validator("feeds")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^https?://[^\s/]+[^\s]*$", url):
                raise ValueError("casestatus.feeds must be http(s):// URLs")
        return value

    @model_validator(mode="after")
    def _tokens_for_feeds(self) -> CaseStatus:
        for url in self.feed_tokens:
            if url not in self.feeds:
                raise ValueError(f"casestatus.feed_tokens: {url[:80]!r} is not in feeds")
        return self


class Paths(_Section):
    data_dir: Path = Path("/var/lib/tongban-kiosk")
    catalogue: Path = Path("catalogue.yaml")
    assets: Path = Path("../assets")


class Settings(_Section):
    schema_version: Literal[2]
    kiosk: KioskIdentity
    hours: Hours = Hours()
    session: SessionSettings = SessionSettings()
    face: FaceSettings = FaceSettings()
    devices: Devices = Devices()
    transfer: Transfer = Transfer()
    paths: Paths = Paths()
    ui: UiSettings = UiSettings()
    fleet: Fleet = Fleet()
    hall: Hall = Hall()
    evaluation: EvaluationSettings = EvaluationSettings()
    casestatus: CaseStatus = CaseStatus()
    resources: Resources = Resources()     # kiosk/ops_settings.py: disk, logs, clock, UPS
    clock: ClockSettings = ClockSettings()
    power: Power = Power()

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: object) -> object:
        """Files of schema 1 still load (deployed kiosks keep theirs until the fleet's next
        bundle); see :func:`migrate_v1`."""
        if isinstance(data, dict) and data.get("schema_version") == 1:
            return migrate_v1(data)
        return data

    @model_validator(mode="after")
    def _warning_fits(self) -> Settings:
        if self.session.idle_warning_s >= self.session.idle_timeout_s:
            raise ValueError("session.idle_warning_s must be shorter than idle_timeout_s")
        return self

    def resolved(self, base: Path) -> Settings:
        """A copy with relative paths made absolute against ``base``."""
        def fix(p: Path) -> Path:
            return p if p.is_absolute() else (base / p).resolve()

        def fix_optional(p: Path | None) -> Path | None:
            return None if p is None else fix(p)
        paths = Paths(data_dir=fix(self.paths.data_dir), catalogue=fix(self.paths.catalogue),
                      assets=fix(self.paths.assets))
        routes = {code: r.model_copy(update={"key": fix(r.key)})
                  for code, r in self.transfer.routes.items()}
        f = self.fleet
        fleet = f.model_copy(update={
            "root": fix(f.root), "password_file": fix_optional(f.password_file),
            "ca_file": fix_optional(f.ca_file), "cert_file": fix_optional(f.cert_file),
            "key_file": fix_optional(f.key_file)})
        status = self.casestatus.model_copy(update={"feed_tokens": {
            url: fix(p) for url, p in self.casestatus.feed_tokens.items()}})
        hall = self.hall.model_copy(update={
            "kiosk_keys": fix_optional(self.hall.kiosk_keys),
            "applicant_key_file": fix_optional(self.hall.applicant_key_file)})
        return self.model_copy(update={"paths": paths, "fleet": fleet, "casestatus": status,
                                       "hall": hall,
                                       "transfer": self.transfer.model_copy(
                                           update={"routes": routes, "directory_file":
                                                   fix_optional(self.transfer.directory_file)})})

    def with_data_dir(self, data_dir: Path) -> Settings:
        return self.model_copy(
            update={"paths": self.paths.model_copy(update={"data_dir": data_dir.resolve()})})


# A kiosk's own settings file states these sections itself. Left out (a file cut short, a
# section forgotten), their defaults would run it on emulated devices with nowhere to deliver.
REQUIRED_SECTIONS = ("devices", "devices.identity_reader", "devices.document_camera",
                     "devices.barcode_decoder", "devices.receipt_printer", "transfer", "paths")


def migrate_v1(data: dict[str, object]) -> dict[str, object]:
    """Schema 1 → 2: device sections take the device-kind names (``[devices.printer]`` →
    ``[devices.receipt_printer]``), and ``[delivery]`` — sending packages to the handling
    region — is ``[transfer]`` (送达, delivery, is what the citizen chooses for the result)."""
    out = {k: v for k, v in data.items() if k != "delivery"}
    devices = data.get("devices")
    if isinstance(devices, dict):
        out["devices"] = {str(LEGACY_SECTIONS.get(k, k)): v for k, v in devices.items()}
    if "delivery" in data:
        out["transfer"] = data["delivery"]
    out["schema_version"] = 2
    return out


def device_problems(settings: Settings, registry: Registry = BUILTIN) -> list[Problem]:
    """Unknown kinds, unknown backends and every bad option, located under ``devices``."""
    return [p for kind, conf in settings.devices.configured.items()
            for p in registry.problems(kind, conf.backend, conf.options)]


def load_settings(path: Path, registry: Registry = BUILTIN) -> Settings:
    """Load and validate a kiosk's settings file (devices against ``registry``), or raise
    ConfigError naming the file, line and key."""
    settings = load_model(path, Settings, check=lambda s: device_problems(s, registry))
    missing = [name for name in REQUIRED_SECTIONS if not _stated(settings, name)]
    if missing:
        where = shown(path)
        raise ConfigError(where, [f"{where}: 缺少 [{name}] 一节（文件可能不完整）/ section "
                                  f"[{name}] is missing (is the file complete?)"
                                  for name in missing])
    return settings.resolved(path.resolve().parent)


def _stated(model: BaseModel, dotted: str) -> bool:
    """Whether the file gave the section ``dotted`` (not just its defaults)."""
    for part in dotted.split("."):
        if part not in model.model_fields_set:
            return False
        model = getattr(model, part)
    return True
