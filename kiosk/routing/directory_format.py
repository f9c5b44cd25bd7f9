"""The signed region directory's two documents, read strictly and bounded.

``directory/regions.json`` (format ``tongban-region-directory``) holds one entry per region
that runs its own endpoint (6-digit GB/T 2260 code) and the exchange routes; its ``revoked``
list names keys no kiosk may seal to. ``directory/revocations.json`` (format
``tongban-region-revocations``) is the fast path: only a revocation list, published without
rebuilding the directory. Both come through the fleet's TUF channel (kiosk/fleet/directory.py)
and are read here again whoever signed them: a size cap, counted entries, bounded strings,
valid keys of a known suite, times with a zone. See docs/region-directory.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.errors import KioskError
from kiosk.transfer.suites import SUITE_NAMES, CryptoError, Role, key_id, suite
from kiosk.untrusted import Untrusted, loads

DIRECTORY_FORMAT = "tongban-region-directory"
REVOCATIONS_FORMAT = "tongban-region-revocations"
SCHEMA = 1
MAX_DOCUMENT_BYTES = 8 << 20     # ~3,600 entries (every county, city, province) × ~1.5 KB
MAX_REGIONS = 5000               # GB/T 2260 lists ~3,200 counties, ~340 cities, 34 provinces
MAX_EXCHANGES = 64
MAX_KEYS = 8                     # per entry, all suites: a rotation overlaps two or three
MAX_DEPARTMENTS = 64
MAX_REVOKED = 10000
MAX_TEXT = 200
MAX_ENDPOINT = 500
REGION_CODE = re.compile(r"[1-9]\d{5}")
PROVINCE_CODE = re.compile(r"[1-9]\d")
CATEGORY = re.compile(r"[a-z_]{1,32}")
EXCHANGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
KEY_ID = re.compile(r"[0-9a-f]{16}")
PHONE = re.compile(r"[0-9+()\- ]{0,32}")
_ENTRY_FIELDS = {"name", "transport", "endpoint", "phone", "departments", "keys",
                 "status_keys"}
_KEY_FIELDS = {"suite", "key_id", "public", "not_before", "not_after"}
_REVOKED_FIELDS = {"key_id", "since", "reason"}


class DirectoryError(KioskError):
    """A region directory or revocation list that cannot be used; ``where`` names the field."""

    code = "invalid_directory"


@dataclass(frozen=True)
class RegionKey:
    suite: str
    key_id: str
    public: bytes
    not_before: datetime
    not_after: datetime

    def __repr__(self) -> str:     # the bytes say nothing to a reader of a log
        return f"RegionKey({self.suite}, {self.key_id}, {self.not_before}..{self.not_after})"


@dataclass(frozen=True)
class Entry:
    code: str                     # 6-digit region code, or "exchange:<name>"
    name: str
    transport: str                # "tus" or "directory"
    endpoint: str
    phone: str
    departments: dict[str, str]   # category → department; "" → the default
    keys: tuple[RegionKey, ...]
    provinces: tuple[str, ...] = ()   # exchanges: the 2-digit provinces served; () = all
    # the region's signing keys for the case status events it sends back (kiosk/casestatus)
    status_keys: tuple[RegionKey, ...] = ()


@dataclass(frozen=True)
class Revocation:
    key_id: str
    since: datetime
    reason: str


@dataclass(frozen=True)
class Directory:
    fleet: str
    version: int
    issued: datetime
    regions: dict[str, Entry]
    exchanges: dict[str, Entry]
    revoked: tuple[Revocation, ...]


@dataclass(frozen=True)
class Revocations:
    fleet: str
    version: int
    issued: datetime
    revoked: tuple[Revocation, ...]


class _Bad(Exception):
    def __init__(self, where: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.where, self.zh, self.en = where, zh, en


def parse_directory(raw: bytes) -> Directory:
    """``raw`` read as a directory document, or DirectoryError (never another exception)."""
    doc = _document(raw, DIRECTORY_FORMAT, "地区目录", "region directory")
    try:
        _fields(doc, {"format", "schema", "fleet", "version", "issued", "regions",
                      "exchanges", "revoked"}, "")
        regions = _mapping(doc.get("regions", {}), "regions", MAX_REGIONS)
        exchanges = _mapping(doc.get("exchanges", {}), "exchanges", MAX_EXCHANGES)
        return Directory(
            fleet=_text(doc.get("fleet"), "fleet"), version=_version(doc.get("version")),
            issued=_time(doc.get("issued"), "issued"),
            regions={_code(c, f"regions.{_s(c)}"): _entry(e, f"regions.{c}", c)
                     for c, e in regions.items()},
            exchanges={_exchange_name(n): _entry(e, f"exchanges.{n}", f"exchange:{n}")
                       for n, e in exchanges.items()},
            revoked=_revoked(doc.get("revoked", []), "revoked"))
    except _Bad as exc:
        raise _invalid("地区目录", "region directory", exc) from None


def parse_revocations(raw: bytes) -> Revocations:
    """``raw`` read as a revocation list, or DirectoryError."""
    doc = _document(raw, REVOCATIONS_FORMAT, "密钥吊销清单", "revocation list")
    try:
        _fields(doc, {"format", "schema", "fleet", "version", "issued", "revoked"}, "")
        return Revocations(fleet=_text(doc.get("fleet"), "fleet"),
                           version=_version(doc.get("version")),
                           issued=_time(doc.get("issued"), "issued"),
                           revoked=_revoked(doc.get("revoked", []), "revoked"))
    except _Bad as exc:
        raise _invalid("密钥吊销清单", "revocation list", exc) from None


def _document(raw: bytes, fmt: str, zh: str, en: str) -> dict[str, Any]:
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise DirectoryError(f"{zh}过大", f"{en} larger than {MAX_DOCUMENT_BYTES} bytes",
                             code="invalid_directory")
    try:
        doc = loads(raw, en)
    except Untrusted as exc:
        raise DirectoryError(f"{zh}不是有效的 JSON", exc.en, code="invalid_directory") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise DirectoryError(f"不是{zh}文件", f"not a {en} (format is not {fmt!r})",
                             code="invalid_directory")
    schema = doc.get("schema")
    if type(schema) is not int or schema < 1:
        raise DirectoryError(f"{zh}没有有效的 schema", f"{en}: no valid schema number",
                             code="invalid_directory")
    if schema > SCHEMA:
        raise DirectoryError(f"{zh}的版本 {schema} 需要更新的终端软件",
                             f"{en} schema {schema} needs a newer kiosk (this one reads up to "
                             f"{SCHEMA})", code="newer_schema")
    return doc


def _invalid(zh: str, en: str, exc: _Bad) -> DirectoryError:
    return DirectoryError(f"{zh}无效：{exc.where}：{exc.zh}",
                          f"invalid {en}: {exc.where}: {exc.en}", code="invalid_directory")


def _entry(value: object, where: str, code: str) -> Entry:
    fields = _ENTRY_FIELDS | ({"provinces"} if code.startswith("exchange:") else set())
    doc = _fields(value, fields, where)
    transport = doc.get("transport")
    endpoint = _text(doc.get("endpoint", ""), f"{where}.endpoint", MAX_ENDPOINT, empty=True)
    if transport == "tus" and not re.match(r"https?://[^\s/]", endpoint):
        raise _Bad(f"{where}.endpoint", "tus 渠道需要 http(s):// 地址",
                   "a tus route needs an http(s):// endpoint")
    if transport == "directory" and endpoint:
        raise _Bad(f"{where}.endpoint", "directory 渠道不写地址", "a directory route has no "
                   "endpoint")
    if transport not in ("tus", "directory"):
        raise _Bad(f"{where}.transport", "应为 tus 或 directory", "must be tus or directory")
    phone = _text(doc.get("phone", ""), f"{where}.phone", 32, empty=True)
    if not PHONE.fullmatch(phone):
        raise _Bad(f"{where}.phone", "电话只含数字、空格、+、-、括号",
                   "a phone holds digits, spaces, +, - and brackets only")
    return Entry(code=code, name=_text(doc.get("name"), f"{where}.name"),
                 transport=str(transport), endpoint=endpoint, phone=phone,
                 departments=_departments(doc.get("departments"), f"{where}.departments"),
                 keys=_keys(doc.get("keys", []), f"{where}.keys"),
                 status_keys=_keys(doc.get("status_keys", []), f"{where}.status_keys",
                                   Role.SIGN),
                 provinces=_provinces(doc.get("provinces", []), f"{where}.provinces"))


def _departments(value: object, where: str) -> dict[str, str]:
    found = _mapping(value, where, MAX_DEPARTMENTS)
    if "" not in found:
        raise _Bad(where, "缺少默认办理部门（键 \"\"）", 'no default department (key "")')
    out = {}
    for category, name in found.items():
        if category and not CATEGORY.fullmatch(category):
            raise _Bad(f"{where}.{_s(category)}", "事项类别应为小写字母和下划线",
                       "a category is [a-z_]{1,32}")
        label = category or '""'
        out[category] = _text(name, f"{where}.{label}")
    return out


def _keys(value: object, where: str, role: Role = Role.ENCRYPT) -> tuple[RegionKey, ...]:
    if not isinstance(value, list) or len(value) > MAX_KEYS:
        raise _Bad(where, f"应为至多 {MAX_KEYS} 个密钥的列表", f"must be a list of at most "
                   f"{MAX_KEYS} keys")
    keys = tuple(_key(item, f"{where}[{i}]", role) for i, item in enumerate(value))
    if len({k.key_id for k in keys}) != len(keys):
        raise _Bad(where, "同一密钥出现两次", "a key occurs twice")
    return keys


def _key(value: object, where: str, role: Role) -> RegionKey:
    doc = _fields(value, _KEY_FIELDS, where)
    name = doc.get("suite")
    if name not in SUITE_NAMES:
        raise _Bad(f"{where}.suite", "未知的密码套件", f"must be one of {', '.join(SUITE_NAMES)}")
    try:
        public = bytes.fromhex(_text(doc.get("public"), f"{where}.public", 256))
        suite(str(name)).check_public(public, role)
    except (ValueError, CryptoError):
        raise _Bad(f"{where}.public", "公钥无效", "not a valid public key of its suite") from None
    if doc.get("key_id") != key_id(public):
        raise _Bad(f"{where}.key_id", "key_id 与公钥不符", "key_id does not match the key")
    start, end = _time(doc.get("not_before"), f"{where}.not_before"), \
        _time(doc.get("not_after"), f"{where}.not_after")
    if end <= start:
        raise _Bad(where, "有效期结束早于开始", "not_after is not after not_before")
    # held in UTC: a lookup compares without converting zones each time
    return RegionKey(str(name), key_id(public), public, start.astimezone(UTC),
                     end.astimezone(UTC))


def _revoked(value: object, where: str) -> tuple[Revocation, ...]:
    if not isinstance(value, list) or len(value) > MAX_REVOKED:
        raise _Bad(where, f"应为至多 {MAX_REVOKED} 项的列表", f"must be a list of at most "
                   f"{MAX_REVOKED} items")
    out = []
    for i, item in enumerate(value):
        doc = _fields(item, _REVOKED_FIELDS, f"{where}[{i}]")
        kid = doc.get("key_id")
        if not isinstance(kid, str) or not KEY_ID.fullmatch(kid):
            raise _Bad(f"{where}[{i}].key_id", "应为 16 位十六进制", "must be 16 hex digits")
        out.append(Revocation(kid, _time(doc.get("since"), f"{where}[{i}].since"),
                              _text(doc.get("reason", ""), f"{where}[{i}].reason", empty=True)))
    return tuple(out)


def _provinces(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 40 or not all(
            isinstance(p, str) and PROVINCE_CODE.fullmatch(p) for p in value):
        raise _Bad(where, "应为两位省级代码的列表", "must be a list of 2-digit province codes")
    return tuple(value)


def _fields(value: object, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(where or "(top)", "应为对象", "must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _Bad(where or "(top)", f"未知字段 {_s(unknown[0])}", f"unknown field "
                   f"{_s(unknown[0])}")
    return value


def _mapping(value: object, where: str, most: int) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > most:
        raise _Bad(where, f"应为至多 {most} 项的对象", f"must be an object of at most {most} "
                   "items")
    return value


def _code(code: str, where: str) -> str:
    if not REGION_CODE.fullmatch(code):
        raise _Bad(where, "地区代码应为 6 位数字", "a region is its 6-digit GB/T 2260 code")
    return code


def _exchange_name(name: str) -> str:
    if not EXCHANGE_NAME.fullmatch(name):
        raise _Bad(f"exchanges.{_s(name)}", "交换渠道名应为小写字母、数字和连字符",
                   "an exchange name is [a-z0-9-], at most 32")
    return name


def _text(value: object, where: str, most: int = MAX_TEXT, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()) or len(value) > most:
        raise _Bad(where, f"应为{'' if empty else '非空'}文本（至多 {most} 字）",
                   f"must be {'' if empty else 'non-empty '}text of at most {most} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise _Bad(where, "含有控制字符", "holds a control character")
    return value


def _version(value: object) -> int:
    if type(value) is not int or not 1 <= value < 1 << 53:
        raise _Bad("version", "应为正整数", "must be a positive integer")
    return value


def _time(value: object, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) and \
            len(value) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _Bad(where, "应为带时区的 ISO 8601 时间", "must be an ISO 8601 time with a zone")
    return parsed


def _s(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
