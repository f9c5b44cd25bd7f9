"""Emulated identity reader: cards come from a TOML file, a script places and pulls them.

The demo and the UI tests use it instead of hardware, so it behaves like a reader on the
worker thread: ``read`` blocks until a card is placed (or the timeout passes), and faults can
be injected to rehearse every error screen.
"""

from __future__ import annotations

import threading
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from drivers.errors import DeviceError, DeviceFault
from drivers.faults import Faults, names_of
from drivers.fileio import FileRefused, read_bounded, shown
from drivers.identity import (
    LONG_TERM,
    CardNotFound,
    CardReadFailed,
    CardRemoved,
    CardType,
    Identity,
    MrzKey,
)
from drivers.identity.validate import first_problem
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

IdentityFault = Literal["card_removed_mid_read", "read_failed", "module_fault", "silence"]

_TEXT_FIELDS = ("name", "name_en", "sex", "nation_code", "nation", "address", "issuer",
                "document_number", "nationality")
_DATE_FIELDS = ("birth_date", "valid_from", "valid_to")
_KNOWN_FIELDS = frozenset({"card_type", "id_number", "photo", *_TEXT_FIELDS, *_DATE_FIELDS})
MAX_PHOTO_BYTES = 64 << 10       # a chip's photo is a few kilobytes


MAX_IDENTITIES_BYTES = 1 << 20   # the demo's cards are a few kilobytes


class BadIdentityData(DeviceError):
    """An entry in the emulated identities file is malformed; names the entry's key."""

    code = "bad_identity_data"

    def __init__(self, key: str, zh: str, en: str) -> None:
        super().__init__(f"演示身份数据“{key}”有误：{zh}", f"Bad demo identity '{key}': {en}")
        self.key = key


def load_identities(path: Path) -> dict[str, Identity]:
    """Read and validate every card in ``path``; raise BadIdentityData on the first bad one."""
    try:
        tables = tomllib.loads(read_bounded(path, MAX_IDENTITIES_BYTES).decode("utf-8"))
    except FileRefused as exc:
        raise BadIdentityData(shown(path.name), exc.zh, exc.en) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        zh, en = f"无法读取文件（{exc}）", f"cannot read file ({exc})"
        raise BadIdentityData(shown(path.name), zh, en) from exc
    if not tables:
        raise BadIdentityData(shown(path.name), "文件中没有证件", "the file holds no cards")
    identities: dict[str, Identity] = {}
    for key, table in tables.items():
        if not isinstance(table, dict):
            raise BadIdentityData(key, "应为表", "expected a table")
        identities[key] = _parse_identity(key, table, path.parent)
    return identities


def _parse_identity(key: str, table: dict[str, Any], folder: Path | None = None) -> Identity:
    unknown = sorted(set(table) - _KNOWN_FIELDS)
    if unknown:
        raise BadIdentityData(key, f"未知字段 {unknown}", f"unknown fields {unknown}")
    try:
        card_type = CardType(table.get("card_type", ""))
    except ValueError:
        raise BadIdentityData(key, "证件类型无效", "invalid card_type") from None
    # Any: the values are all str, but mypy cannot match **dict to Identity's mixed fields.
    text: dict[str, Any] = {f: _text(key, table, f) for f in _TEXT_FIELDS if f in table}
    text["name"] = text.get("name") or text.get("name_en", "")
    if not text["name"]:
        raise BadIdentityData(key, "缺少姓名", "name (or name_en) is missing")
    birth = _date(key, table, "birth_date")
    if birth is None:
        raise BadIdentityData(key, "缺少出生日期", "birth_date is missing")
    identity = Identity(
        card_type=card_type,
        id_number=_text(key, table, "id_number").upper(),
        birth_date=birth,
        valid_from=_date(key, table, "valid_from"),
        valid_to=_date(key, table, "valid_to"),
        **_photo(key, table, folder),
        **text,
    )
    _check_number(key, identity)
    return identity


def _photo(key: str, table: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """``photo``: the card's photo, a JPEG beside the identities file (人证核验 compares the
    live face with it); a name inside that folder only, read bounded."""
    name = _text(key, table, "photo")
    if not name:
        return {}
    base = (folder or Path(".")).resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base):
        raise BadIdentityData(key, "照片须在证件数据文件所在文件夹内",
                              "photo must be a file beside the identities file")
    try:
        return {"photo": read_bounded(path, MAX_PHOTO_BYTES), "photo_format": "jpeg"}
    except FileRefused as exc:
        raise BadIdentityData(key, exc.zh, exc.en) from exc


def _text(key: str, table: dict[str, Any], field: str) -> str:
    value = table.get(field, "")
    if not isinstance(value, str):
        raise BadIdentityData(key, f"{field} 应为文本", f"{field} must be a string")
    return value


def _date(key: str, table: dict[str, Any], field: str) -> date | None:
    value = table.get(field)
    if value is None or (field == "valid_to" and value == LONG_TERM):
        return None
    if isinstance(value, date):  # TOML dates; a datetime is a date too, keep its day
        return date(value.year, value.month, value.day)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadIdentityData(key, f"{field} 不是有效日期", f"{field} is not a date") from None


def _check_number(key: str, identity: Identity) -> None:
    """Why: a typo in demo data should fail at start-up, not as a puzzling checker result."""
    problem = first_problem(identity)
    if problem is not None:
        raise BadIdentityData(key, *problem)


class EmulatedIdentityReader:
    """An IdentityReader whose cards are placed and pulled by a script or a test.

    The sink is called with the reader's lock held so events arrive in the order they
    happened; a sink must only enqueue (the core's bus does).
    """

    def __init__(self, identities: dict[str, Identity], name: str = "identity.emulated") -> None:
        self.name = name
        self._identities = dict(identities)
        self._cond = threading.Condition()  # an RLock inside: a sink may call back in
        self._card: Identity | None = None
        self._open = False
        self._reporter = StatusReporter(name)
        # no fault events: a reader module reports a fault through its status, as a real one does
        self._faults = Faults(name, names_of(IdentityFault))

    # --- IdentityReader -------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        with self._cond:
            self._reporter.set_sink(sink)
            self._open = True
            self._refresh_status()

    def close(self) -> None:
        with self._cond:
            self._open = False
            self._refresh_status()
            self._cond.notify_all()  # a waiting read ends now instead of at its timeout

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def read(self, timeout: float, mrz: MrzKey | None = None) -> Identity:
        # The emulated module hands over the placed card whatever the key (no BAC here).
        with self._cond:
            self._cond.wait_for(self._should_wake, timeout=max(timeout, 0.0))
            self._raise_if_broken()
            if self._card is None or "silence" in self._faults:
                raise CardNotFound()
            if self._faults.consume("card_removed_mid_read"):
                self._take_card()
                raise CardRemoved()
            if self._faults.consume("read_failed"):
                raise CardReadFailed("(emulated fault)")
            return self._card

    # --- scripting ------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        return list(self._identities)

    def present(self, card: str | Identity) -> None:
        """Place a card (a key from the identities file, or an Identity) on the reader."""
        identity = card if isinstance(card, Identity) else self._lookup(card)
        with self._cond:
            if self._card is not None:
                self._take_card()
            self._card = identity
            self._reporter.emit("card_inserted", card_type=identity.card_type.value)
            self._cond.notify_all()

    def remove(self) -> None:
        with self._cond:
            if self._card is not None:
                self._take_card()

    def inject(self, fault: IdentityFault) -> None:
        with self._cond:
            self._faults.inject(fault)
            self._refresh_status()
            self._cond.notify_all()  # a waiting read must see a module fault at once

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._refresh_status()
            self._cond.notify_all()

    # --- internals (call with the lock held) ----------------------------------------------
    def _lookup(self, key: str) -> Identity:
        try:
            return self._identities[key]
        except KeyError:
            raise KeyError(f"no emulated identity {key!r}; known: {self.keys}") from None

    def _should_wake(self) -> bool:
        if not self._open or "module_fault" in self._faults:
            return True
        return self._card is not None and "silence" not in self._faults

    def _raise_if_broken(self) -> None:
        if not self._open:
            raise DeviceFault("读卡器未就绪", "The card reader is not open")
        if "module_fault" in self._faults:
            raise DeviceFault("读卡模块故障，请联系现场工作人员",
                              "The card reader module is faulty: please call staff")

    def _take_card(self) -> None:
        card_type = self._card.card_type.value if self._card else ""
        self._card = None
        self._reporter.emit("card_removed", card_type=card_type)

    def _refresh_status(self) -> None:
        if not self._open:
            self._reporter.update(DeviceState.OFFLINE, detail="closed")
        elif "module_fault" in self._faults:
            self._reporter.update(DeviceState.HARDWARE_ERROR, detail="module_fault")
        else:
            self._reporter.update(DeviceState.ONLINE)
