"""The web back office's sessions: after a staff member signs in with their PIN, a random
token in a cookie (HttpOnly, SameSite=Strict, Secure over TLS) names their session, which
ends on sign-out, after ``idle`` without a request, or when their PIN is reset or their id
locked out (the session keeps a stamp of the PIN hash; :func:`intake.staff.pin_stamp`).

Each session has its own CSRF token, which every form carries and every POST must return.
The sign-in form, before any session, is protected the same way by a double-submitted
token (a cookie and the form's field must agree). Kept in memory only: a restart signs
everyone out, which is the safe way round."""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_SESSIONS = 500            # bounded memory: the oldest idle session makes room
SESSION_COOKIE = "office_session"
SIGN_IN_COOKIE = "office_sign_in"
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def looks_like_token(text: str | None) -> bool:
    return text is not None and len(text) == 43 and set(text) <= _TOKEN_CHARS


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Session:
    staff_id: str
    name: str
    stamp: str                                 # of the PIN hash at sign-in
    last_seen: datetime
    csrf: str = field(default_factory=new_token)


class Sessions:
    """Token → Session, each dropped after ``idle`` without a request."""

    def __init__(self, idle: timedelta) -> None:
        self.idle = idle
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, staff_id: str, name: str, stamp: str, now: datetime) -> str:
        token = new_token()
        with self._lock:
            self._expire(now)
            if len(self._by_token) >= MAX_SESSIONS:
                oldest = min(self._by_token, key=lambda t: self._by_token[t].last_seen)
                del self._by_token[oldest]
            self._by_token[token] = Session(staff_id, name, stamp, now)
        return token

    def find(self, token: str | None, now: datetime) -> Session | None:
        """The live session ``token`` names (its idle clock restarted), or None."""
        if not looks_like_token(token):
            return None
        with self._lock:
            self._expire(now)
            session = self._by_token.get(str(token))
            if session is not None:
                session.last_seen = now
            return session

    def close(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(str(token), None)

    def _expire(self, now: datetime) -> None:
        stale = [t for t, s in self._by_token.items() if now - s.last_seen > self.idle]
        for token in stale:
            del self._by_token[token]
