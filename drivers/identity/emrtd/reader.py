"""The PC/SC identity reader (pyscard's low-level ``smartcard.scard``): passports and ICAO
cards on any PC/SC reader, read with :class:`ChipSession`.

A monitor thread of our own (not pyscard's process-wide CardMonitor, whose observers outlive
a closed reader) blocks in SCardGetStatusChange — on the readers and on pcsc-lite's "reader
added/removed" pseudo-reader — and reports ``card_inserted`` / ``card_removed``. Each read
takes the card exclusively (secure messaging breaks if another program's APDU slips in) and
resets it afterwards, so the next read starts from the chip's master file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from smartcard import scard

from drivers.errors import DeviceError, DeviceFault
from drivers.identity import CardDataInvalid, CardNotFound, CardRemoved, Identity, MrzKey
from drivers.identity.emrtd import masterlist, mrz
from drivers.identity.emrtd.errors import BadMrzKey, MrzRequired
from drivers.identity.emrtd.reading import ChipSession, Counters, ReadPath
from drivers.identity.validate import first_problem
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

log = logging.getLogger(__name__)
PNP = "\\\\?PnP?\\Notification"          # pcsc-lite's pseudo-reader for readers coming and going
_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD,
         scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_W_UNRESPONSIVE_CARD,
         scard.SCARD_E_NOT_TRANSACTED, scard.SCARD_E_READER_UNAVAILABLE}


def _u32(hr: int) -> int:
    return hr & 0xFFFFFFFF


class PcscReader:
    """An IdentityReader for eMRTDs. ``reader``: part of the PC/SC reader's name to use (the
    first reader when empty); ``extended``: whether this reader passes extended APDUs;
    ``master_list``: the CSCA certificates to check document signers against (a PEM or DER
    file or an ICAO master list; None: identities say no master list was configured)."""

    def __init__(self, reader: str = "", extended: bool = True, poll_s: float = 1.0,
                 today: Callable[[], date] = date.today, name: str = "identity.pcsc",
                 master_list: Path | None = None) -> None:
        self.name, self.reader_filter, self.extended = name, reader, extended
        self.trust = masterlist.load(master_list) if master_list is not None else None
        self.poll_s, self._today = poll_s, today
        self._reporter = StatusReporter(name)
        self._cards: dict[str, bytes] = {}       # reader → ATR of the card in it
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._monitor_ctx: int | None = None
        self.last_counters = Counters()
        self.last_path: ReadPath | None = None   # by SFI or SELECT, short or extended

    # --- IdentityReader -------------------------------------------------------------------
    def open(self, sink: EventSink | None = None) -> None:
        self._reporter.set_sink(sink)
        self._stop.clear()
        self._monitor = threading.Thread(target=self._watch, name=f"{self.name}-monitor",
                                         daemon=True)
        self._monitor.start()

    def close(self) -> None:
        self._stop.set()
        ctx = self._monitor_ctx
        if ctx is not None:
            scard.SCardCancel(ctx)               # wake the monitor's blocking wait now
        if self._monitor is not None:
            self._monitor.join(timeout=self.poll_s + 2)
            self._monitor = None
        with self._cond:
            self._cards.clear()
            self._cond.notify_all()
        self._reporter.update(DeviceState.OFFLINE, detail="closed")

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def read(self, timeout: float, mrz_key: MrzKey | None = None) -> Identity:
        if mrz_key is None:
            raise MrzRequired()
        problem = mrz.key_problem(mrz_key)
        if problem is not None:
            raise BadMrzKey(*problem)
        with self._cond:
            self._cond.wait_for(lambda: bool(self._cards) or self._stop.is_set(),
                                timeout=max(timeout, 0.0))
            if self._stop.is_set():
                raise DeviceFault("读卡器未就绪", "The card reader is not open")
            if not self._cards:
                raise CardNotFound()
            reader, card_atr = next(iter(self._cards.items()))
        identity = self._read_card(reader, card_atr, mrz_key)
        problem = first_problem(identity)
        if problem is not None:
            raise CardDataInvalid(*problem)
        return identity

    # --- one read -------------------------------------------------------------------------
    def _read_card(self, reader: str, card_atr: bytes, key: MrzKey) -> Identity:
        ctx = establish_context()
        try:
            hr, card, protocol = scard.SCardConnect(
                ctx, reader, scard.SCARD_SHARE_EXCLUSIVE,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            if _u32(hr) in _GONE:
                raise CardRemoved()
            if hr != scard.SCARD_S_SUCCESS:
                raise _fault("connect", hr)
            try:
                session = ChipSession(transmitter(card, protocol), card_atr,
                                      reader_extended=self.extended, trust=self.trust)
                try:
                    return session.read_identity(key, self._today())
                finally:
                    self.last_counters, self.last_path = session.counters, session.path
            finally:
                scard.SCardDisconnect(card, scard.SCARD_RESET_CARD)
        finally:
            scard.SCardReleaseContext(ctx)

    # --- the monitor ----------------------------------------------------------------------
    def _watch(self) -> None:
        known: dict[str, int] = {}
        problem = ""
        while not self._stop.is_set():
            try:
                if self._monitor_ctx is None:
                    self._monitor_ctx = establish_context()
                self._wait_for_change(self._monitor_ctx, known)
                problem = ""
            except DeviceError as err:
                if err.en != problem:                    # once per problem, not every poll
                    log.warning("%s: %s", self.name, err.en)
                problem = err.en
                self._reporter.update(DeviceState.HARDWARE_ERROR, detail="pcscd unreachable")
                self._drop_context()
                known.clear()
                self._stop.wait(self.poll_s)
        self._drop_context()

    def _wait_for_change(self, ctx: int, known: dict[str, int]) -> None:
        hr, names = scard.SCardListReaders(ctx, [])
        if _u32(hr) == _u32(scard.SCARD_E_NO_READERS_AVAILABLE):
            names = []
        elif hr != scard.SCARD_S_SUCCESS:
            raise _fault("list readers", hr)
        readers = [n for n in names if self.reader_filter in n]
        self._forget_readers_gone(readers, known)
        if readers:
            self._reporter.update(DeviceState.ONLINE)
        else:
            self._reporter.update(DeviceState.NO_DEVICE, detail="no PC/SC reader")
        watch = [(r, known.get(r, scard.SCARD_STATE_UNAWARE)) for r in readers]
        watch.append((PNP, known.get(PNP, scard.SCARD_STATE_UNAWARE)))
        hr, states = scard.SCardGetStatusChange(ctx, int(self.poll_s * 1000), watch)
        if _u32(hr) in (_u32(scard.SCARD_E_TIMEOUT), _u32(scard.SCARD_E_CANCELLED)):
            return
        if hr != scard.SCARD_S_SUCCESS:
            raise _fault("watch readers", hr)
        for reader, event, card_atr in states:
            known[reader] = event & ~scard.SCARD_STATE_CHANGED
            if reader != PNP:
                present = bool(event & scard.SCARD_STATE_PRESENT) and \
                    not event & scard.SCARD_STATE_MUTE
                self._set_card(reader, bytes(card_atr) if present else None)

    def _forget_readers_gone(self, readers: list[str], known: dict[str, int]) -> None:
        for reader in [r for r in known if r != PNP and r not in readers]:
            del known[reader]
            self._set_card(reader, None)

    def _set_card(self, reader: str, card_atr: bytes | None) -> None:
        with self._cond:
            had = bool(self._cards)
            if card_atr is None:
                self._cards.pop(reader, None)
            else:
                self._cards[reader] = card_atr
            has = bool(self._cards)
            self._cond.notify_all()
        if has != had:
            self._reporter.emit("card_inserted" if has else "card_removed")

    def _drop_context(self) -> None:
        ctx, self._monitor_ctx = self._monitor_ctx, None
        if ctx is not None:
            scard.SCardReleaseContext(ctx)


def establish_context() -> Any:
    """A PC/SC context (one per thread that talks to pcscd)."""
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise _fault("connect to pcscd", hr)
    return ctx


def transmitter(card: Any, protocol: int) -> Callable[[bytes], bytes]:
    """SCardTransmit for a connected card, with PC/SC's errors as ours."""
    def transmit(raw: bytes) -> bytes:
        hr, reply = scard.SCardTransmit(card, protocol, list(raw))
        if _u32(hr) in _GONE:
            raise CardRemoved()
        if hr != scard.SCARD_S_SUCCESS:
            raise _fault("transmit", hr)
        return bytes(reply)
    return transmit


def _fault(what: str, hr: int) -> DeviceFault:
    return DeviceFault("读卡器故障，请联系现场工作人员",
                       f"PC/SC {what} failed: {scard.SCardGetErrorMessage(hr)} "
                       f"({_u32(hr):08X})")
