"""Reading an eMRTD over any APDU transport: select the applet, learn how long a response
may be, Basic Access Control, then EF.COM, DG1, DG2 and EF.SOD under secure messaging, each
data group checked against the issuer's hash, and EF.SOD's signatures against the
configured CSCA master list (:mod:`passive`). The PC/SC backend gives it ``transmit``; the
tests and the fuzzer give it the emulator directly.

Chips differ where ICAO 9303 lets them: some refuse READ BINARY by short EF identifier (the
session then SELECTs each file, as most readers do), and some chips or readers refuse the
extended-length APDUs a chip's ATR promises (the session then starts BAC again and reads in
short APDUs)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from drivers.errors import DeviceFault
from drivers.identity import (
    CardDataInvalid,
    CardRemoved,
    CardType,
    ChipEvidence,
    Identity,
    MrzKey,
)
from drivers.identity.emrtd import apdu, atr, bac, lds, mrz, passive, sm, tlv
from drivers.identity.emrtd.apdu import Command
from drivers.identity.emrtd.errors import (
    AccessDenied,
    BadCardReply,
    CardStatus,
    DocumentTampered,
    NotAnEmrtd,
)
from drivers.identity.emrtd.lds import AID, EF_ATR_INFO, Ef
from drivers.identity.emrtd.masterlist import MasterList
from drivers.identity.emrtd.sm import SecureChannel

log = logging.getLogger(__name__)
Transmit = Callable[[bytes], bytes]
NAIVE_CHUNK = 0xDF          # what most eMRTD readers ask for: fits short APDUs with any SM
_SEXES = {"M": "男", "F": "女"}
# READ BINARY by short EF identifier refused: no current EF (what 9303 lets a chip answer),
# function not supported, wrong P1-P2 (at offset 0 only the identifier can be wrong)
SFI_REFUSED = frozenset({apdu.SW_NO_CURRENT_EF, 0x6A81, 0x6A86, apdu.SW_WRONG_PARAMS})
# an extended APDU refused in plain: wrong length, or the secure-messaging objects garbled
# (a chip that reads the extended length bytes as short ones finds them so)
EXTENDED_REFUSED = frozenset({apdu.SW_WRONG_LENGTH, apdu.SW_SM_DATA_MISSING,
                              apdu.SW_SM_DATA_WRONG})


@dataclass
class Counters:
    apdus: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True)
class ReadPath:
    """How a chip was read in the end: by short EF identifier or SELECT, and the longest
    response asked for (256: short APDUs)."""

    by_sfi: bool
    max_response: int


class ChipSession:
    """One read of one chip. ``chunk`` fixes the plain bytes per READ BINARY and reads each
    file's header first, then SELECTs (the naive way, for the benchmark's baseline); by
    default each file is read by short EF identifier with the largest response the card
    allows, learned from its ATR and EF.ATR/INFO. ``by_sfi`` and ``max_response`` say how
    the chip was read in the end (after any fallback)."""

    def __init__(self, transmit: Transmit, card_atr: bytes = b"",
                 reader_extended: bool = True, chunk: int | None = None,
                 trust: MasterList | None = None) -> None:
        self._transmit = transmit
        self.trust = trust
        self.atr = card_atr
        self.reader_extended = reader_extended
        self.chunk = chunk
        self.counters = Counters()
        self._channel: SecureChannel | None = None
        self._key: MrzKey | None = None
        self.max_response = apdu.SHORT_MAX
        self.by_sfi = True
        self.extended_proven = False     # an extended APDU went through: no fallback after

    # --- the whole read -------------------------------------------------------------------
    def read_identity(self, key: MrzKey, today: date) -> Identity:
        if self.chunk is None:
            self.max_response = self.learn_max_response()
        self._start(key)
        files = {ef: self.read_file(ef) for ef in (Ef.COM, Ef.DG1, Ef.DG2, Ef.SOD)}
        listed = lds.parse_com(files[Ef.COM])
        if lds.TAG_DG1 not in listed or lds.TAG_DG2 not in listed:
            raise BadCardReply("EF.COM does not list DG1 and DG2")
        sod = lds.parse_sod(files[Ef.SOD])
        for number, ef in ((1, Ef.DG1), (2, Ef.DG2)):
            if not lds.check_hash(sod, number, files[ef]):
                raise DocumentTampered(f"DG{number}")
        evidence = passive.authenticate(sod, (1, 2), self.trust, today)
        return _identity(mrz.parse(lds.parse_dg1(files[Ef.DG1])),
                         lds.parse_dg2(files[Ef.DG2]), today, evidence)

    @property
    def path(self) -> ReadPath:
        return ReadPath(self.by_sfi, self.max_response)

    # --- steps ----------------------------------------------------------------------------
    def select_applet(self) -> None:
        _, sw = self._plain(Command(0x00, 0xA4, 0x04, 0x0C, AID))
        if sw != apdu.SW_OK:
            raise NotAnEmrtd()

    def _start(self, key: MrzKey) -> None:
        self._key = key
        self.select_applet()
        self.authenticate(key)

    def learn_max_response(self) -> int:
        """256 unless both the card (ATR, EF.ATR/INFO) and the reader take extended APDUs."""
        caps = atr.capabilities(self.atr)
        if not (caps & atr.EXTENDED_LENGTH and self.reader_extended):
            return apdu.SHORT_MAX
        if not caps & atr.LENGTH_INFO_IN_EF:
            return apdu.SHORT_MAX             # extended, but no stated limit: stay safe
        # EF.ATR/INFO sits in the MF: read it by short EF identifier before the applet
        data, sw = self._plain(Command(0x00, 0xB0, 0x80 | (EF_ATR_INFO & 0x1F), 0, le=256))
        if sw in SFI_REFUSED:
            data, sw = self._plain_selected(EF_ATR_INFO)
        if sw not in (apdu.SW_OK, apdu.SW_END_OF_FILE):
            return apdu.SHORT_MAX
        try:
            limits = [int.from_bytes(v, "big") for t, v in tlv.items(tlv.find(data, 0x7F66))
                      if t == 0x02]
        except BadCardReply:
            return apdu.SHORT_MAX
        return max(apdu.SHORT_MAX, limits[1]) if len(limits) >= 2 else apdu.SHORT_MAX

    def authenticate(self, key: MrzKey) -> None:
        seed = mrz.key_seed(key)
        rnd_icc, sw = self._plain(Command(0x00, 0x84, 0x00, 0x00, le=bac.CHALLENGE_LEN))
        if sw != apdu.SW_OK or len(rnd_icc) != bac.CHALLENGE_LEN:
            raise CardStatus("GET CHALLENGE", sw)
        request, rnd_ifd, k_ifd = bac.terminal_request(seed, rnd_icc)
        reply, sw = self._plain(Command(0x00, 0x82, 0x00, 0x00, request, le=bac.AUTH_LEN))
        if sw == apdu.SW_AUTH_FAILED:
            raise AccessDenied()
        if sw != apdu.SW_OK:
            raise CardStatus("EXTERNAL AUTHENTICATE", sw)
        self._channel = SecureChannel(bac.terminal_finish(seed, reply, rnd_icc, rnd_ifd, k_ifd))

    def _plain_selected(self, fid: int) -> tuple[bytes, int]:
        """SELECT ``fid`` then READ BINARY, both in plain (before BAC)."""
        _, sw = self._plain(Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
        if sw != apdu.SW_OK:
            return b"", sw
        return self._plain(Command(0x00, 0xB0, 0x00, 0x00, le=256))

    def read_file(self, ef: Ef) -> bytes:
        if self.chunk is not None:
            return self._read_naive(ef, self.chunk)
        try:
            return self._read_whole(ef)
        except (CardStatus, CardRemoved, DeviceFault) as err:
            if not self._extended_refused(err):
                raise
        # why: after a refused APDU neither side's send sequence counter can be trusted, so
        # start over: a fresh BAC, then short APDUs (a card really gone fails the SELECT)
        log.info("eMRTD: extended-length APDUs refused; reading in short APDUs")
        self.max_response = apdu.SHORT_MAX
        self._restart()
        return self._read_whole(ef)

    def _restart(self) -> None:
        """The applet and BAC again: a fresh channel after one a refusal ended."""
        if self._key is None:
            raise CardStatus("secure messaging not established", apdu.SW_SECURITY_NOT_SATISFIED)
        self._start(self._key)

    def _extended_refused(self, err: Exception) -> bool:
        """Whether ``err`` is the first extended APDU of this read being turned away (by the
        chip in a plain status, or by the reader as a failed transmission)."""
        if self.extended_proven or self.max_response <= apdu.SHORT_MAX:
            return False
        if isinstance(err, CardStatus):
            return self._channel is None and err.sw in EXTENDED_REFUSED
        return True

    def _read_whole(self, ef: Ef) -> bytes:
        step = sm.largest_read(self.max_response)
        first = self._read_by_sfi(ef, step) if self.by_sfi else None
        if first is None:
            self._select(ef)
            first, _ = self._protected(Command(0x00, 0xB0, 0x00, 0x00, le=step))
        return self._read_rest(first, step)

    def _read_by_sfi(self, ef: Ef, step: int) -> bytes | None:
        """The file's first bytes by short EF identifier; None (and SELECT from now on) when
        the chip refuses that — in a protected status, or in a plain one that ended secure
        messaging (then BAC again)."""
        try:
            first, _ = self._protected(Command(0x00, 0xB0, 0x80 | ef.sfi, 0x00, le=step))
            return first
        except CardStatus as err:
            if err.sw not in SFI_REFUSED:
                raise
            log.info("eMRTD: READ BINARY by short EF identifier refused (%04X); selecting "
                     "each file", err.sw)
        self.by_sfi = False
        if self._channel is None:
            self._restart()
        return None

    def _select(self, ef: Ef) -> None:
        _, sw = self._protected(Command(0x00, 0xA4, 0x02, 0x0C, ef.to_bytes(2, "big")))
        if sw != apdu.SW_OK:
            raise CardStatus(f"SELECT {ef.name}", sw)

    def _read_naive(self, ef: Ef, chunk: int) -> bytes:
        self._select(ef)
        head, _ = self._protected(Command(0x00, 0xB0, 0x00, 0x00, le=4))
        return self._read_rest(head, chunk)

    def _read_rest(self, data: bytes, step: int) -> bytes:
        header, length = tlv.header_size(data)
        total = header + length
        while len(data) < total:
            if len(data) > 0x7FFF:
                raise BadCardReply("file longer than READ BINARY's 15-bit offset reaches")
            want = min(step, total - len(data))
            offset = len(data)
            more, _ = self._protected(Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=want))
            if not more:
                raise BadCardReply("READ BINARY returned nothing before the file's end")
            data += more
        return data[:total]

    # --- transport ------------------------------------------------------------------------
    def _send(self, raw: bytes) -> tuple[bytes, int]:
        self.counters.apdus += 1
        self.counters.bytes_out += len(raw)
        reply = self._transmit(raw)
        self.counters.bytes_in += len(reply)
        return apdu.split_response(reply)

    def _plain(self, command: Command) -> tuple[bytes, int]:
        return self._send(command.to_bytes())

    def _protected(self, command: Command) -> tuple[bytes, int]:
        channel = self._channel
        if channel is None:
            raise CardStatus("secure messaging not established", apdu.SW_SECURITY_NOT_SATISFIED)
        raw = channel.protect(command)
        data, sw = self._send(raw)
        if not data:                          # a plain status: the chip ended the channel
            self._channel = None
            raise CardStatus(f"{command.ins:02X}", sw)
        plain, inner = channel.unprotect(data, sw)
        self.extended_proven = self.extended_proven or apdu.is_extended(raw)
        if inner not in (apdu.SW_OK, apdu.SW_END_OF_FILE):
            raise CardStatus(f"{command.ins:02X}", inner)
        return plain, inner


def _identity(zone: mrz.Mrz, face: lds.Face, today: date, evidence: ChipEvidence
              ) -> Identity:
    birth, expiry = zone.birth_date(today), zone.expiry_date()
    if birth is None or expiry is None:
        raise CardDataInvalid("机读码日期无效", "the MRZ's dates are not real dates")
    photo = _face(face)
    return Identity(
        card_type=CardType.EMRTD, name=zone.name, name_en=zone.name,
        id_number=zone.document_number, document_number=zone.document_number,
        birth_date=birth, valid_from=None, valid_to=expiry,
        sex=_SEXES.get(zone.sex, ""), nationality=zone.nationality, issuer=zone.issuer,
        photo=photo[0] if photo else None, photo_format=photo[1] if photo else None,
        chip=evidence,
    )


def _face(face: lds.Face) -> tuple[bytes, str] | None:
    """A face that does not decode must not stop the citizen being identified: the data
    group passed its hash check, so it is the issuer's, in a format we cannot show."""
    try:
        return lds.face_image(face)
    except BadCardReply as err:
        log.warning("eMRTD face image: %s", err.detail)
        return None
