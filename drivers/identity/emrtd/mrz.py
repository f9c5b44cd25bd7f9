"""Machine-readable zones (ICAO 9303 parts 3–6): check digits, the BAC key seed from a typed
key, and the three formats DG1 carries (TD1 cards 3×30, TD2 2×36, TD3 passports 2×44)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from drivers.identity import MrzKey
from drivers.identity.emrtd.errors import BadCardReply

_WEIGHTS = (7, 3, 1)
_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_digit(field: str) -> str:
    total = 0
    for i, ch in enumerate(field):
        if ch in _DIGITS:
            value = int(ch)
        elif ch in _LETTERS:
            value = ord(ch) - ord("A") + 10
        elif ch == "<":
            value = 0
        else:
            raise ValueError(f"{ch!r} cannot be in an MRZ")
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def normalise_key(key: MrzKey) -> MrzKey:
    """Upper case, no spaces; a document number shorter than 9 is filled with '<'."""
    number = key.document_number.strip().upper().replace(" ", "")
    return MrzKey(number.ljust(9, "<"), key.birth.strip(), key.expiry.strip())


def key_problem(key: MrzKey) -> tuple[str, str] | None:
    """(Chinese, English) for what is wrong with a typed key, or None."""
    key = normalise_key(key)
    if not key.document_number.strip("<") or any(
            c not in _DIGITS + _LETTERS + "<" for c in key.document_number):
        return "证件号码只能包含字母和数字", "the document number takes letters and digits only"
    for value, zh, en in ((key.birth, "出生日期", "birth date"), (key.expiry, "有效期", "expiry")):
        if len(value) != 6 or not value.isdigit() or _yymmdd(value, 2000) is None:
            return f"{zh}应为六位数字 YYMMDD", f"the {en} must be six digits, YYMMDD"
    return None


def key_seed(key: MrzKey) -> bytes:
    """K_seed: SHA-1 of number, birth and expiry, each followed by its check digit."""
    key = normalise_key(key)
    info = "".join(f + check_digit(f) for f in (key.document_number, key.birth, key.expiry))
    return hashlib.sha1(info.encode("ascii")).digest()[:16]


@dataclass(frozen=True, repr=False)
class Mrz:
    """The fields of a parsed MRZ. Personal data: repr redacted."""

    document_code: str
    issuer: str
    document_number: str
    nationality: str
    birth: str               # YYMMDD as printed
    sex: str                 # M, F or <
    expiry: str              # YYMMDD
    surname: str
    given_names: str
    optional: str

    def __repr__(self) -> str:
        return f"Mrz(document_code={self.document_code}, <redacted>)"

    @property
    def name(self) -> str:
        return f"{self.surname}, {self.given_names}" if self.given_names else self.surname

    def birth_date(self, today: date) -> date | None:
        """Two-digit years: a birth year after this year's is last century's."""
        parsed = _yymmdd(self.birth, 2000)
        if parsed is not None and parsed > today:
            parsed = _yymmdd(self.birth, 1900)
        return parsed

    def expiry_date(self) -> date | None:
        return _yymmdd(self.expiry, 2000)


def parse(text: str) -> Mrz:
    """Parse a TD1, TD2 or TD3 MRZ (lines run together, as in DG1) and check every check
    digit; raise BadCardReply on a wrong length or a failing check digit."""
    text = text.replace("\n", "").replace("\r", "")
    if any(c not in _DIGITS + _LETTERS + "<" for c in text):
        raise BadCardReply("MRZ has characters outside A-Z 0-9 <")
    if len(text) == 90:
        return _parse_td1(text[:30], text[30:60], text[60:])
    if len(text) in (72, 88):
        width = len(text) // 2
        return _parse_td23(text[:width], text[width:])
    raise BadCardReply(f"MRZ of {len(text)} characters is no ICAO format")


def _parse_td1(l1: str, l2: str, l3: str) -> Mrz:
    number, optional = l1[5:14], l1[15:30]
    _check(number, l1[14], "document number")
    _check(l2[0:6], l2[6], "birth date")
    _check(l2[8:14], l2[14], "expiry date")
    _check(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29], "composite")
    surname, given = _names(l3)
    return Mrz(l1[0:2].strip("<"), l1[2:5].strip("<"), number.strip("<"), l2[15:18].strip("<"),
               l2[0:6], l2[7], l2[8:14], surname, given, (optional + l2[18:29]).strip("<"))


def _parse_td23(l1: str, l2: str) -> Mrz:
    width = len(l1)
    number = l2[0:9]
    _check(number, l2[9], "document number")
    _check(l2[13:19], l2[19], "birth date")
    _check(l2[21:27], l2[27], "expiry date")
    if width == 44:                                    # TD3: personal number has its own
        _check(l2[28:42], l2[42], "personal number", allow_filler=True)
        composite = l2[0:10] + l2[13:20] + l2[21:43]
        optional = l2[28:42]
    else:
        composite = l2[0:10] + l2[13:20] + l2[21:35]
        optional = l2[28:35]
    _check(composite, l2[width - 1], "composite")
    surname, given = _names(l1[5:])
    return Mrz(l1[0:2].strip("<"), l1[2:5].strip("<"), number.strip("<"), l2[10:13].strip("<"),
               l2[13:19], l2[20], l2[21:27], surname, given, optional.strip("<"))


def _check(field: str, digit: str, what: str, allow_filler: bool = False) -> None:
    if allow_filler and digit == "<" and not field.strip("<"):
        return
    if check_digit(field) != digit:
        raise BadCardReply(f"MRZ {what} check digit fails")


def _names(field: str) -> tuple[str, str]:
    surname, _, given = field.rstrip("<").partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _yymmdd(value: str, century: int) -> date | None:
    try:
        return date(century + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None


def _mrz_name(surname: str, given: str) -> str:
    return f"{surname}<<{given}".replace(" ", "<").replace(",", "")


def build_td1(code: str, issuer: str, surname: str, given: str, number: str,
              nationality: str, birth: str, sex: str, expiry: str) -> str:
    """An ICAO card's three 30-character lines, run together (the emulator's DG1)."""
    num = number.ljust(9, "<")
    l1 = f"{code:<<2}{issuer:<<3}{num}{check_digit(num)}".ljust(30, "<")
    l2 = f"{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}{nationality:<<3}"
    l2 = l2.ljust(29, "<")
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    return l1 + l2 + _mrz_name(surname, given).ljust(30, "<")[:30]


def build_td3(issuer: str, surname: str, given: str, number: str, nationality: str,
              birth: str, sex: str, expiry: str, personal: str = "") -> str:
    """A passport's two 44-character lines, run together (the emulator's DG1)."""
    name = _mrz_name(surname, given)
    l1 = f"P<{issuer:<<3}{name}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    pers = personal.ljust(14, "<")
    pers_cd = check_digit(pers) if personal else "<"
    body = (f"{num}{check_digit(num)}{nationality:<<3}{birth}{check_digit(birth)}{sex}"
            f"{expiry}{check_digit(expiry)}{pers}{pers_cd}")
    composite = body[0:10] + body[13:20] + body[21:43]
    return l1 + body + check_digit(composite)
