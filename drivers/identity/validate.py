"""Checks every reader applies to what it read (and the emulator to its demo data): the
number's GB 11643 check digit, the birth date inside it, the prefix its card type uses, the
sex it encodes, and validity dates in order."""

from __future__ import annotations

from drivers.identity import CardType, Identity, idnumber

# Card types whose number follows GB 11643 (birth date inside, MOD 11-2 check digit).
GB11643_TYPES = {CardType.RESIDENT, CardType.HMT_RESIDENCE, CardType.FOREIGNER_2023}
_HMT_PREFIXES = ("810000", "820000", "830000")


def first_problem(identity: Identity) -> tuple[str, str] | None:
    """(Chinese, English) for the first thing wrong with ``identity``, or None."""
    number = identity.id_number
    if identity.valid_from and identity.valid_to and identity.valid_to < identity.valid_from:
        return "有效期止早于起始日期", "valid_to is before valid_from"
    if identity.card_type not in GB11643_TYPES:
        return None if number else ("缺少证件号码", "id_number is missing")
    if not idnumber.is_valid(number):
        return "证件号码校验失败", "id_number fails the GB 11643 check"
    if idnumber.birth_date(number) != identity.birth_date:
        return "证件号码与出生日期不符", "id_number does not match birth_date"
    prefix_ok = {
        CardType.RESIDENT: number[0] in "12345678",
        CardType.HMT_RESIDENCE: number.startswith(_HMT_PREFIXES),
        CardType.FOREIGNER_2023: number.startswith("9"),
    }[identity.card_type]
    if not prefix_ok:
        return "证件号码与证件类型不符", "id_number does not fit the card type"
    # GB 11643: an odd 17th digit is a man, even a woman (the 2023 permit is not documented so).
    checks_sex = identity.card_type is not CardType.FOREIGNER_2023 and identity.sex in ("男", "女")
    if checks_sex and (int(number[16]) % 2 == 1) != (identity.sex == "男"):
        return "证件号码与性别不符", "id_number does not match sex"
    return None
