"""An ICAO 9303 chip emulator (product code: the demo and the tests read it through the real
PC/SC stack). :class:`EmrtdCard` answers APDUs — applet selection, BAC, secure messaging,
READ BINARY by file or short EF identifier, EF.ATR/INFO — and :class:`VpcdCard` plugs it
into Debian's vsmartcard-vpcd, which pcscd then shows as a card in a reader.

Scriptable faults: ``tamper_dg2`` (DG2 no longer matches EF.SOD), ``bad_mac`` (responses
carry a wrong MAC), ``not_icao`` (no eMRTD applet), ``pulled_mid_read`` (the link drops in
the middle of DG2, as a passport lifted off the reader). Chips that differ from ours where
ICAO 9303 lets them: ``refuse_sfi`` (READ BINARY by short EF identifier answers 6986, no
current EF: files must be SELECTed), ``refuse_extended`` (the ATR still promises extended
length, but an extended APDU is answered 6700 in plain and ends secure messaging, as a chip
that does not take them or a reader between that turns them away). EF.SOD is signed by a
test document signer (:mod:`issuer`); ``sod_bad_signature`` serves it with a flipped bit in
the signature, ``forged_signer`` signed by a document signer whose certificate names the
test CSCA but was signed with another key.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from drivers.faults import Faults, names_of
from drivers.identity import Identity, MrzKey
from drivers.identity.emrtd import apdu, atr, bac, issuer, lds, mrz, tlv
from drivers.identity.emrtd.apdu import Command
from drivers.identity.emrtd.errors import BadCardReply
from drivers.identity.emrtd.lds import AID, EF_ATR_INFO, Ef
from drivers.identity.emrtd.sm import SecureChannel

EmrtdFault = Literal["tamper_dg2", "bad_mac", "not_icao", "pulled_mid_read", "refuse_sfi",
                     "refuse_extended", "sod_bad_signature", "forged_signer"]
VPCD_PORT = 0x8C7B                    # Debian's /etc/reader.conf.d/vpcd
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0, 1, 2, 4

_INS_SELECT, _INS_READ, _INS_CHALLENGE, _INS_AUTH = 0xA4, 0xB0, 0x84, 0x82


@dataclass
class ChipFiles:
    """The files on the chip. ``max_response``: the longest response data it sends (256 is a
    chip without extended length); ``signer``: the document signer of EF.SOD (this
    process's test one when None)."""

    mrz: str
    face: bytes
    face_format: str = "jpeg"
    face_size: tuple[int, int] = (0, 0)
    max_response: int = 65536
    signer: issuer.Signer | None = None
    files: dict[int, bytes] = field(init=False)

    def __post_init__(self) -> None:
        dg1 = lds.build_dg1(self.mrz)
        dg2 = lds.build_dg2(self.face, self.face_format, *self.face_size)
        self.signer = self.signer or issuer.ephemeral().document_signer
        self._security_object = lds.build_security_object({1: dg1, 2: dg2})
        self.files = {Ef.COM: lds.build_com([1, 2]), Ef.DG1: dg1, Ef.DG2: dg2,
                      Ef.SOD: issuer.sign_sod(self._security_object, self.signer)}
        self._bad_sods: dict[str, bytes] = {}

    def bad_sod(self, fault: str) -> bytes:
        """EF.SOD as the fault ``sod_bad_signature`` or ``forged_signer`` serves it."""
        if fault not in self._bad_sods:
            assert self.signer is not None
            if fault == "forged_signer":
                signer = issuer.forge_document_signer(self.signer)
                self._bad_sods[fault] = issuer.sign_sod(self._security_object, signer)
            else:
                self._bad_sods[fault] = issuer.sign_sod(self._security_object, self.signer,
                                                        corrupt=True)
        return self._bad_sods[fault]

    @property
    def extended(self) -> bool:
        return self.max_response > apdu.SHORT_MAX

    def atr_info(self) -> bytes:
        limit = min(self.max_response, 65535).to_bytes(2, "big")
        return tlv.encode(0x7F66, tlv.encode(0x02, limit) + tlv.encode(0x02, limit))


def files_for(identity: Identity, face: bytes, face_format: str = "jpeg",
              max_response: int = 65536, card_code: str = "",
              signer: issuer.Signer | None = None) -> ChipFiles:
    """A chip for ``identity`` (names from ``name_en``, "SURNAME, GIVEN"): a passport's TD3
    MRZ, or with ``card_code`` ("I", "A", "C") an ICAO card's TD1."""
    surname, _, given = (identity.name_en or identity.name).partition(",")
    names = surname.strip().upper(), given.strip().upper()
    birth = identity.birth_date.strftime("%y%m%d")
    expiry = identity.valid_to.strftime("%y%m%d") if identity.valid_to else "<<<<<<"
    sex = {"男": "M", "女": "F"}.get(identity.sex, "<")
    number = identity.document_number or identity.id_number
    issuer = identity.issuer if len(identity.issuer) == 3 else identity.nationality
    if card_code:
        text = mrz.build_td1(card_code, issuer, *names, number, identity.nationality, birth,
                             sex, expiry)
    else:
        text = mrz.build_td3(issuer, *names, number, identity.nationality, birth, sex, expiry)
    with Image.open(io.BytesIO(face)) as img:
        size = img.size
    return ChipFiles(text, face, face_format, size, max_response, signer)


class EmrtdCard:
    """The chip's state machine. ``process`` takes a command APDU, returns the response."""

    def __init__(self, chip: ChipFiles) -> None:
        self.chip = chip
        self.faults = Faults("eMRTD chip", names_of(EmrtdFault))
        self.apdus = 0
        self.reset()

    @property
    def atr(self) -> bytes:
        capability = (atr.EXTENDED_LENGTH | atr.LENGTH_INFO_IN_EF) if self.chip.extended else 0
        return atr.build(capability)

    @property
    def current(self) -> int | None:
        """The selected EF (the fault "pulled_mid_read" waits for DG2)."""
        return self._current

    def reset(self) -> None:
        self._applet = False
        self._channel: SecureChannel | None = None
        self._challenge: bytes | None = None
        self._current: int | None = None

    def inject(self, fault: EmrtdFault) -> None:
        self.faults.inject(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def process(self, raw: bytes) -> bytes:
        self.apdus += 1
        try:
            command = apdu.parse_command(raw)
        except BadCardReply:
            return apdu.response(b"", apdu.SW_WRONG_LENGTH)
        if "refuse_extended" in self.faults and apdu.is_extended(raw):
            self._channel = None
            return apdu.response(b"", apdu.SW_WRONG_LENGTH)
        if command.cla & 0x0C:
            return self._protected(command)
        self._channel = None                   # a plain command ends the secure channel
        return apdu.response(*self._plain(command))

    # --- before BAC -----------------------------------------------------------------------
    def _plain(self, command: Command) -> tuple[bytes, int]:
        if command.ins == _INS_SELECT and command.p1 == 0x04:
            if command.data != AID or "not_icao" in self.faults:
                return b"", apdu.SW_NOT_FOUND
            self.reset()
            self._applet = True
            return b"", apdu.SW_OK
        if not self._applet and command.ins in (_INS_SELECT, _INS_READ):
            return self._master_file(command)
        if command.ins == _INS_CHALLENGE and self._applet:
            self._challenge = os.urandom(bac.CHALLENGE_LEN)
            return self._challenge, apdu.SW_OK
        if command.ins == _INS_AUTH and self._applet:
            return self._authenticate(command.data)
        if command.ins in (_INS_SELECT, _INS_READ):
            return b"", apdu.SW_SECURITY_NOT_SATISFIED        # files need BAC first
        return b"", apdu.SW_INS_NOT_SUPPORTED

    def _master_file(self, command: Command) -> tuple[bytes, int]:
        """EF.ATR/INFO, the one file outside the applet: by short EF identifier, or SELECTed
        and then read (all a chip that refuses short EF identifiers allows)."""
        if command.ins == _INS_SELECT:
            if command.data != EF_ATR_INFO.to_bytes(2, "big"):
                return b"", apdu.SW_NOT_FOUND
            self._current = EF_ATR_INFO
            return b"", apdu.SW_OK
        if command.p1 & 0x80:
            if command.p1 & 0x1F != EF_ATR_INFO & 0x1F:
                return b"", apdu.SW_NOT_FOUND
            if "refuse_sfi" in self.faults:
                return b"", apdu.SW_NO_CURRENT_EF
            return self._read(self.chip.atr_info(), command.p2, command.le)
        if self._current != EF_ATR_INFO:
            return b"", apdu.SW_NO_CURRENT_EF
        return self._read(self.chip.atr_info(), (command.p1 << 8) | command.p2, command.le)

    def _authenticate(self, request: bytes) -> tuple[bytes, int]:
        challenge, self._challenge = self._challenge, None
        if challenge is None:
            return b"", apdu.SW_SECURITY_NOT_SATISFIED
        seed = mrz.key_seed(_key_of(self.chip.mrz))
        try:
            answer, keys = bac.card_answer(seed, request, challenge)
        except bac.AuthenticationFailed:
            return b"", apdu.SW_AUTH_FAILED
        self._channel = SecureChannel(keys)
        return answer, apdu.SW_OK

    # --- after BAC ------------------------------------------------------------------------
    def _protected(self, wrapped: Command) -> bytes:
        channel = self._channel
        if channel is None:
            return apdu.response(b"", apdu.SW_SECURITY_NOT_SATISFIED)
        try:
            command = channel.open_command(wrapped)
        except BadCardReply:
            self._channel = None                 # a bad MAC ends the session (9303-11 §9.8)
            return apdu.response(b"", apdu.SW_SM_DATA_WRONG)
        data, sw = self._file_command(command)
        sealed = channel.seal_response(data, sw)
        if "bad_mac" in self.faults:
            sealed = sealed[:-3] + bytes([sealed[-3] ^ 0xFF]) + sealed[-2:]
        return sealed

    def _file_command(self, command: Command) -> tuple[bytes, int]:
        if command.ins == _INS_SELECT and command.p1 == 0x02:
            fid = int.from_bytes(command.data, "big") if len(command.data) == 2 else -1
            if fid not in self.chip.files:
                return b"", apdu.SW_NOT_FOUND
            self._current = fid
            return b"", apdu.SW_OK
        if command.ins == _INS_READ:
            if command.p1 & 0x80 and "refuse_sfi" in self.faults:
                return b"", apdu.SW_NO_CURRENT_EF
            if command.p1 & 0x80:                # short EF identifier: select and read
                by_sfi = [f for f in self.chip.files if f & 0x1F == command.p1 & 0x1F]
                if not by_sfi:
                    return b"", apdu.SW_NOT_FOUND
                self._current, offset = by_sfi[0], command.p2
            else:
                offset = (command.p1 << 8) | command.p2
            if self._current is None:
                return b"", apdu.SW_NO_CURRENT_EF
            return self._read(self._content(self._current), offset, command.le)
        return b"", apdu.SW_INS_NOT_SUPPORTED

    def _content(self, fid: int) -> bytes:
        content = self.chip.files[fid]
        if fid == Ef.DG2 and "tamper_dg2" in self.faults:
            return content[:-1] + bytes([content[-1] ^ 0x01])
        bad_sod = self.faults.active & {"sod_bad_signature", "forged_signer"}
        if fid == Ef.SOD and bad_sod:
            return self.chip.bad_sod(min(bad_sod))
        return content

    def _read(self, content: bytes, offset: int, le: int | None) -> tuple[bytes, int]:
        if offset > len(content):
            return b"", apdu.SW_WRONG_PARAMS
        want = min(le or apdu.SHORT_MAX, self.chip.max_response)
        chunk = content[offset:offset + want]
        return chunk, apdu.SW_OK if len(chunk) == want else apdu.SW_END_OF_FILE


def _key_of(text: str) -> MrzKey:
    parsed = mrz.parse(text)
    return MrzKey(parsed.document_number, parsed.birth, parsed.expiry)


class VpcdCard:
    """Puts an :class:`EmrtdCard` into vsmartcard-vpcd's virtual reader: ``present`` connects
    (the card appears in pcscd), ``remove`` disconnects. vpcd frames every message with a
    two-byte length; a one-byte message is power off/on, reset or "send the ATR"."""

    # pcscd looks at vpcd's reader every 400 ms; a chip back sooner is never seen as having
    # left, and pcscd then neither powers it up nor reports it (a hand is slower than this)
    MIN_ABSENCE_S = 1.0

    def __init__(self, card: EmrtdCard, host: str = "127.0.0.1", port: int = VPCD_PORT) -> None:
        self.card, self.host, self.port = card, host, port
        self._left_at = 0.0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def present_now(self) -> bool:
        return self._sock is not None

    def present(self, timeout: float = 5.0) -> None:
        with self._lock:
            if self._sock is not None:
                return
            time.sleep(max(0.0, self._left_at + self.MIN_ABSENCE_S - time.monotonic()))
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
            # why: without it every APDU waits ~44 ms on Nagle's algorithm meeting a delayed
            # ACK (and see _recv_exact for the other direction)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            self.card.reset()
            self._sock = sock
            self._thread = threading.Thread(target=self._serve, args=(sock,),
                                            name="emrtd-vpcd", daemon=True)
            self._thread.start()

    def remove(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
            thread, self._thread = self._thread, None
            if sock is not None:
                self._left_at = time.monotonic()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _recv_message(sock)
                if message is None:
                    break
                reply = self._answer(message)
                if reply is not None:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
                if ("pulled_mid_read" in self.card.faults and self._mid_dg2()
                        and self.card.faults.consume("pulled_mid_read")):
                    break
        except OSError:
            pass
        with self._lock:
            if self._sock is sock:
                self._sock = None
                self._left_at = time.monotonic()
                with contextlib.suppress(OSError):
                    sock.close()

    def _answer(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            if message[0] == _GET_ATR:
                return self.card.atr
            if message[0] in (_POWER_OFF, _POWER_ON, _RESET):
                self.card.reset()
            return None
        return self.card.process(message)

    def _mid_dg2(self) -> bool:
        return self.card.current == Ef.DG2


def _recv_message(sock: socket.socket) -> bytes | None:
    head = _recv_exact(sock, 2)
    if head is None:
        return None
    return _recv_exact(sock, int.from_bytes(head, "big"))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        # why: vpcd writes a length and then the APDU; its second write waits for our ACK,
        # and Linux turns quick ACKs back off after each one, so ask again before every read
        with contextlib.suppress(AttributeError, OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
