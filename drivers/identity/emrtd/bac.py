"""Basic Access Control (ICAO 9303 part 11 §4.3): both sides of the mutual authentication,
so the reader and the card emulator share one implementation of the arithmetic."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from drivers.identity.emrtd import crypto
from drivers.identity.emrtd.errors import BadCardReply

CHALLENGE_LEN = 8
AUTH_LEN = 40                      # E(32) || MAC(8), both ways


@dataclass(frozen=True)
class SessionKeys:
    enc: bytes
    mac: bytes
    ssc: int                       # the send sequence counter's starting value


class AuthenticationFailed(Exception):
    """The other side's cryptogram does not verify (card side: wrong key → 6300)."""


def terminal_request(seed: bytes, rnd_icc: bytes) -> tuple[bytes, bytes, bytes]:
    """The EXTERNAL AUTHENTICATE data, with the terminal's nonce and key half to keep."""
    rnd_ifd, k_ifd = os.urandom(8), os.urandom(16)
    k_enc, k_mac = crypto.derive_key(seed, crypto.ENC), crypto.derive_key(seed, crypto.MAC)
    e_ifd = crypto.encrypt(k_enc, rnd_ifd + rnd_icc + k_ifd)
    return e_ifd + crypto.mac(k_mac, e_ifd), rnd_ifd, k_ifd


def terminal_finish(seed: bytes, reply: bytes, rnd_icc: bytes, rnd_ifd: bytes,
                    k_ifd: bytes) -> SessionKeys:
    """Check the card's answer and derive the session keys."""
    if len(reply) != AUTH_LEN:
        raise BadCardReply(f"BAC answer of {len(reply)} bytes")
    k_enc, k_mac = crypto.derive_key(seed, crypto.ENC), crypto.derive_key(seed, crypto.MAC)
    e_icc, m_icc = reply[:32], reply[32:]
    if not hmac.compare_digest(crypto.mac(k_mac, e_icc), m_icc):
        raise BadCardReply("BAC answer MAC fails")
    plain = crypto.decrypt(k_enc, e_icc)
    if plain[:8] != rnd_icc or plain[8:16] != rnd_ifd:
        raise BadCardReply("BAC answer nonces do not match")
    return _session(k_ifd, plain[16:32], rnd_icc, rnd_ifd)


def card_answer(seed: bytes, request: bytes, rnd_icc: bytes) -> tuple[bytes, SessionKeys]:
    """The card's side: verify the terminal's cryptogram, answer, derive the same keys."""
    k_enc, k_mac = crypto.derive_key(seed, crypto.ENC), crypto.derive_key(seed, crypto.MAC)
    if len(request) != AUTH_LEN:
        raise AuthenticationFailed("wrong length")
    e_ifd, m_ifd = request[:32], request[32:]
    if not hmac.compare_digest(crypto.mac(k_mac, e_ifd), m_ifd):
        raise AuthenticationFailed("MAC")
    plain = crypto.decrypt(k_enc, e_ifd)
    rnd_ifd, k_ifd = plain[:8], plain[16:32]
    if plain[8:16] != rnd_icc:
        raise AuthenticationFailed("challenge")
    k_icc = os.urandom(16)
    e_icc = crypto.encrypt(k_enc, rnd_icc + rnd_ifd + k_icc)
    return e_icc + crypto.mac(k_mac, e_icc), _session(k_ifd, k_icc, rnd_icc, rnd_ifd)


def _session(k_ifd: bytes, k_icc: bytes, rnd_icc: bytes, rnd_ifd: bytes) -> SessionKeys:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
    ssc = int.from_bytes(rnd_icc[-4:] + rnd_ifd[-4:], "big")
    return SessionKeys(crypto.derive_key(seed, crypto.ENC), crypto.derive_key(seed, crypto.MAC),
                       ssc)
