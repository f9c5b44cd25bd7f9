"""Who may read a kiosk's pull feed: that kiosk only, by a bearer token the region issues it
(``kiosk-region feed-token``). The feed lists case numbers, states, 物流单号 and deadlines, so
anyone else gets 401 (no token, or one we did not issue) or 403 (another kiosk's token).

The region keeps only each token's SHA-256, one line per kiosk in a tokens file
(``<kiosk id> <64 hex>``), so a copy of that file reads nothing. Tokens are 32 random bytes
(64 hex digits): a hash lookup over them leaks nothing an attacker can steer, and the
decision for the asked kiosk is a constant-time comparison.

Bearer tokens rather than mutual TLS: they work through the hall's HTTPS proxy and a
gateway's TLS terminator, and a kiosk already has a file-based secret store; the feed still
runs under TLS (``--cert/--key``) so the token never travels in clear."""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import re
import secrets
import threading
from pathlib import Path

from drivers.fileio import FileRefused, read_bounded, shown
from kiosk.errors import KioskError
from kiosk.fsutil import private_file, write_atomic

MAX_TOKENS_BYTES = 4 << 20               # 50,000 kiosks' lines
MAX_AUTHORIZATION = 200                  # "Bearer " + 64: anything longer is not ours
_LINE = re.compile(r"(?P<kiosk>[0-9]{6}-[0-9]{4}) (?P<hash>[0-9a-f]{64})")
_BEARER = re.compile(r"Bearer (?P<token>[0-9a-f]{64})")
KIOSK_ID = re.compile(r"[0-9]{6}-[0-9]{4}")


class Access(enum.Enum):
    GRANTED = 200
    NO_TOKEN = 401         # none, malformed or not one we issued
    OTHER_KIOSK = 403      # a token we issued, to another kiosk


class FeedTokenError(KioskError):
    code = "feed_tokens"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class FeedTokens:
    """The tokens file, read once (bounded, every line strict)."""

    def __init__(self, by_kiosk: dict[str, str]) -> None:
        self.by_kiosk = by_kiosk
        self.by_hash = {digest: kiosk for kiosk, digest in by_kiosk.items()}

    @classmethod
    def load(cls, path: Path) -> FeedTokens:
        return cls(_parse(path, read_bounded(path, MAX_TOKENS_BYTES)))

    def check(self, authorization: str | None, kiosk_id: str) -> Access:
        """May the bearer of ``authorization`` (the request's header) read ``kiosk_id``'s
        feed?"""
        if authorization is None or len(authorization) > MAX_AUTHORIZATION:
            return Access.NO_TOKEN
        match = _BEARER.fullmatch(authorization)
        if match is None:
            return Access.NO_TOKEN
        digest = token_hash(match["token"])
        expected = self.by_kiosk.get(kiosk_id, "0" * 64)
        if hmac.compare_digest(digest, expected):
            return Access.GRANTED
        return Access.OTHER_KIOSK if digest in self.by_hash else Access.NO_TOKEN


class TokenFile:
    """The tokens file as the feed uses it: re-read when it changes (another inode, size or
    time: ``feed-token`` replaces it whole), so a re-issued token counts, and the old one
    stops, without a restart. A file that turns bad or goes refuses everyone (FeedTokenError,
    the feed's 503) until it is mended: never the last good table, which may hold a token
    just revoked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: object = _stamp(path)
        self._tokens = FeedTokens.load(path)       # a bad file at start: the feed won't start

    def check(self, authorization: str | None, kiosk_id: str) -> Access:
        return self._current().check(authorization, kiosk_id)

    def _current(self) -> FeedTokens:
        stamp = _stamp(self.path)
        with self._lock:
            if stamp != self._stamp:
                self._stamp = _UNLOADED           # until a load succeeds: load again
                try:
                    self._tokens = FeedTokens.load(self.path)
                except FileRefused as exc:
                    raise FeedTokenError(exc.zh, exc.en) from None
                self._stamp = stamp
            return self._tokens


_UNLOADED = object()      # matches no stamp, not even a missing file's None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _parse(path: Path, data: bytes) -> dict[str, str]:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise _bad(path, "不是 ASCII 文本", "not ASCII text") from None
    tokens: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line.strip())
        if match is None or match["kiosk"] in tokens:
            raise _bad(path, f"第 {number} 行无效或重复", f"line {number} is invalid or repeated")
        tokens[match["kiosk"]] = match["hash"]
    return tokens


def _bad(path: Path, zh: str, en: str) -> FeedTokenError:
    return FeedTokenError(f"订阅令牌文件无效：{shown(path)}（{zh}）",
                          f"Invalid feed tokens file: {shown(path)} ({en})")


def issue(tokens_file: Path, kiosk_id: str, out: Path) -> None:
    """A new token for ``kiosk_id``, written to ``out`` (0600, for the kiosk's
    ``[casestatus] feed_tokens``); its hash replaces the kiosk's line in ``tokens_file``, so
    the kiosk's previous token stops working at the feed's next request."""
    if not KIOSK_ID.fullmatch(kiosk_id):
        raise FeedTokenError(f"终端编号应为 6 位区划-4 位序号：{kiosk_id[:40]!r}",
                             f"A kiosk id is NNNNNN-NNNN: {kiosk_id[:40]!r}", code="bad_kiosk")
    existing = FeedTokens.load(tokens_file).by_kiosk if tokens_file.exists() else {}
    token = secrets.token_hex(32)
    try:
        out.unlink(missing_ok=True)
        private_file(out)
        out.write_text(token + "\n", encoding="ascii")
    except OSError as exc:
        raise FeedTokenError(f"无法写入令牌：{shown(out)}（{exc.strerror}）",
                             f"Cannot write the token: {shown(out)} ({exc.strerror})") from None
    existing[kiosk_id] = token_hash(token)
    lines = "".join(f"{kiosk} {digest}\n" for kiosk, digest in sorted(existing.items()))
    write_atomic(tokens_file, ("# kiosk-region feed-token: kiosk id, SHA-256 of its token\n"
                               + lines).encode("ascii"))
