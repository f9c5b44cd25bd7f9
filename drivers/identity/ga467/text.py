"""The 256-byte text block of a GA/T 467 read (UCS-2LE, space padded), in its four layouts.

The character at byte 248 names the layout: a space (or NUL) for the resident ID card, ``J``
for the Hong Kong / Macao / Taiwan residents' residence permit, ``I`` for the 2017 foreigner's
permanent residence card and ``Y`` for its 2023 successor. Offsets: docs/ga467.md.
"""

from __future__ import annotations

from datetime import date

from drivers.errors import DeviceError
from drivers.identity import LONG_TERM, CardType, Identity
from drivers.identity.nations import nation_code, nation_name

TEXT_LEN = 256
TYPE_AT = 248
SEXES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
_TYPE_CHARS = {" ": CardType.RESIDENT, "\0": CardType.RESIDENT, "J": CardType.HMT_RESIDENCE,
               "I": CardType.FOREIGNER_2017, "Y": CardType.FOREIGNER_2023}

# (field, byte offset, byte length) per layout; fields not listed are absent on that card.
_RESIDENT = (("name", 0, 30), ("sex", 30, 2), ("nation", 32, 4), ("birth", 36, 16),
             ("address", 52, 70), ("number", 122, 36), ("issuer", 158, 30),
             ("valid_from", 188, 16), ("valid_to", 204, 16))
LAYOUTS: dict[CardType, tuple[tuple[str, int, int], ...]] = {
    CardType.RESIDENT: _RESIDENT,
    CardType.HMT_RESIDENCE: (*(f for f in _RESIDENT if f[0] != "nation"),
                             ("pass_number", 220, 18), ("issue_count", 238, 4)),
    CardType.FOREIGNER_2017: (("name_en", 0, 120), ("sex", 120, 2), ("number", 122, 30),
                              ("nationality", 152, 6), ("name", 158, 30),
                              ("valid_from", 188, 16), ("valid_to", 204, 16),
                              ("birth", 220, 16), ("version", 236, 4),
                              ("authority_code", 240, 8)),
    CardType.FOREIGNER_2023: (("name", 0, 30), ("sex", 30, 2), ("renewals", 32, 4),
                              ("birth", 36, 16), ("name_en", 52, 70), ("number", 122, 36),
                              ("valid_from", 188, 16), ("valid_to", 204, 16),
                              ("name_en_more", 220, 22), ("nationality", 242, 6),
                              ("previous_link", 250, 6)),
}


class BadTextBlock(DeviceError):
    """The text read off the card cannot be understood (a damaged card or a misread)."""

    code = "card_text_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__("证件信息无法识别，请重新放置证件或联系工作人员",
                         f"The card's data cannot be understood: {detail}")
        self.detail = detail


def card_type_of(block: bytes) -> CardType:
    if len(block) != TEXT_LEN:
        raise BadTextBlock(f"text block of {len(block)} bytes, not {TEXT_LEN}")
    char = _decode(block[TYPE_AT:TYPE_AT + 2])[:1] or " "
    try:
        return _TYPE_CHARS[char]
    except KeyError:
        raise BadTextBlock(f"unknown card type {char!r}") from None


def parse_text(block: bytes, extra_addresses: list[str] | None = None) -> Identity:
    """The Identity in a text block (the photo is added by the reader)."""
    card_type = card_type_of(block)
    raw = {name: _decode(block[at:at + size]).strip()
           for name, at, size in LAYOUTS[card_type]}
    name_en = (raw.get("name_en", "") + raw.get("name_en_more", "")).strip()
    nation = raw.get("nation", "")
    address = raw.get("address", "")
    if extra_addresses:                  # 追加住址: the newest registered address is last
        address = extra_addresses[-1]
    return Identity(
        card_type=card_type,
        name=raw.get("name") or name_en,
        name_en=name_en,
        sex=SEXES.get(raw["sex"], raw["sex"]),
        nation_code=nation,
        nation=nation_name(nation) if nation else "",
        birth_date=_date(raw["birth"], "birth date"),
        address=address,
        id_number=raw["number"].upper(),
        issuer=raw.get("issuer", ""),
        valid_from=_date(raw["valid_from"], "valid-from date"),
        valid_to=None if raw["valid_to"] == LONG_TERM else _date(raw["valid_to"], "expiry"),
        document_number=raw.get("pass_number", ""),
        nationality=raw.get("nationality") or "CHN",
    )


def build_text(identity: Identity, extra: dict[str, str] | None = None) -> bytes:
    """A text block for ``identity`` (the module emulator's side). ``extra`` fills fields the
    Identity does not hold (``issue_count``, ``version``, ``authority_code``, …)."""
    values = dict(extra or {})
    values.update({
        # a foreigner without a Chinese name: Identity.name fell back to the English one
        "name": "" if identity.name == identity.name_en else identity.name,
        "sex": next((code for code, name in SEXES.items() if name == identity.sex), "0"),
        "nation": identity.nation_code or (nation_code(identity.nation) if identity.nation
                                           else ""),
        "birth": identity.birth_date.strftime("%Y%m%d"),
        "address": identity.address, "number": identity.id_number, "issuer": identity.issuer,
        "valid_from": identity.valid_from.strftime("%Y%m%d") if identity.valid_from else "",
        "valid_to": identity.valid_to.strftime("%Y%m%d") if identity.valid_to else LONG_TERM,
        "pass_number": identity.document_number, "nationality": identity.nationality,
        "name_en": identity.name_en,
    })
    layout = LAYOUTS[identity.card_type]
    if identity.card_type is CardType.FOREIGNER_2023:     # the English name in two parts
        values["name_en"], values["name_en_more"] = identity.name_en[:35], identity.name_en[35:]
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, at, size in layout:
        encoded = values.get(name, "").encode("utf-16-le")
        if len(encoded) > size:
            raise ValueError(f"{name} is longer than its {size // 2} characters")
        block[at:at + len(encoded)] = encoded
    type_char = next(c for c, t in _TYPE_CHARS.items() if t is identity.card_type)
    block[TYPE_AT:TYPE_AT + 2] = type_char.encode("utf-16-le")
    return bytes(block)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-16-le").replace("\0", " ")
    except UnicodeDecodeError:
        raise BadTextBlock("not UCS-2 text") from None


def _date(text: str, what: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise BadTextBlock(f"{what} {text!r} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise BadTextBlock(f"{what} {text!r} is not a real date") from None
