"""The operator's region table (TOML or CSV) → the signed region directory's document.

TOML: ``[[region]]`` and ``[[exchange]]`` tables (and ``[[revoked]]``); CSV: one row per key,
``code`` either a 6-digit region or ``exchange:<name>``; the first row of a code gives its
route, the later rows only add keys. Keys are the regions' public key files (``kiosk-region
keygen``), named relative to the table. The document is then read back with the kiosk's own
reader, so nothing is signed that a kiosk would refuse. docs/region-directory.md.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kiosk.fleet.errors import FleetError
from kiosk.routing.directory_format import (
    DIRECTORY_FORMAT,
    MAX_REGIONS,
    SCHEMA,
    DirectoryError,
    parse_directory,
)
from kiosk.transfer.keys import KeyFileError, load
from kiosk.transfer.suites import Role, key_id
from kiosk.untrusted import Untrusted, check_name

MAX_TABLE_BYTES = 4 << 20
MAX_ROWS = MAX_REGIONS * 4
CSV_COLUMNS = ("code", "name", "transport", "endpoint", "phone", "department", "departments",
               "provinces", "key_file", "not_before", "not_after")
_WANTED = {Role.ENCRYPT: ("应为办理地加密公钥（.pub）",
                         "must be a region's public encryption key (.pub)"),
           Role.SIGN: ("应为办理地状态签名公钥（.pub）",
                       "must be a region's public status signing key (.pub)")}
_ROUTE = ("name", "transport", "endpoint", "phone", "department", "departments", "provinces")


class TableError(FleetError):
    def __init__(self, where: str, zh: str, en: str) -> None:
        super().__init__(f"地区表格有误：{where}：{zh}", f"region table: {where}: {en}",
                         code="bad_table")


def build_document(table: Path, *, fleet: str, version: int,
                   issued: datetime | None = None) -> bytes:
    """The directory document for ``table``, checked by the kiosk's reader; or TableError,
    or FleetError(invalid) for what only the reader sees."""
    rows, revoked = read_table(table)
    regions: dict[str, Any] = {}
    exchanges: dict[str, Any] = {}
    for where, row in rows:
        code = str(row.get("code", ""))
        place, name = (exchanges, code[9:]) if code.startswith("exchange:") else (regions, code)
        if name in place:
            raise TableError(where, f"{code[:40]} 重复", f"{code[:40]} occurs twice")
        place[name] = _entry(row, where, table.parent, code)
    doc = {"format": DIRECTORY_FORMAT, "schema": SCHEMA, "fleet": fleet, "version": version,
           "issued": (issued or datetime.now(UTC)).isoformat(timespec="seconds"),
           "regions": dict(sorted(regions.items())), "exchanges": dict(sorted(exchanges.items())),
           "revoked": revoked}
    raw = json.dumps(doc, ensure_ascii=False, indent=1).encode()
    try:
        parse_directory(raw)
    except DirectoryError as exc:
        raise FleetError(exc.zh, exc.en, code="invalid") from None
    return raw


def read_table(table: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, str]]]:
    """(where, entry row) per region or exchange, and the revocations (TOML only)."""
    try:
        with table.open("rb") as handle:
            raw = handle.read(MAX_TABLE_BYTES + 1)
    except OSError as exc:
        raise TableError(str(table)[:200], "无法读取", f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_TABLE_BYTES:
        raise TableError(table.name, "文件过大", f"larger than {MAX_TABLE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError(table.name, "不是 UTF-8 文本", "not UTF-8 text") from None
    if table.suffix.lower() == ".toml":
        return _toml(text, table.name)
    if table.suffix.lower() == ".csv":
        return _csv(text, table.name), []
    raise TableError(table.name, "表格应为 .toml 或 .csv", "the table must be .toml or .csv")


def _toml(text: str, name: str) -> tuple[list[tuple[str, dict[str, Any]]],
                                         list[dict[str, str]]]:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise TableError(name, "TOML 语法错误", f"TOML syntax: {str(exc)[:200]}") from None
    unknown = sorted(set(data) - {"region", "exchange", "revoked"})
    if unknown:
        raise TableError(name, f"未知的表 {unknown[0][:40]}", f"unknown table {unknown[0][:40]!r}")
    rows = []
    for kind in ("region", "exchange"):
        items = data.get(kind, [])
        if not isinstance(items, list) or len(items) > MAX_REGIONS:
            raise TableError(f"[[{kind}]]", "应为表格数组", "must be an array of tables")
        for i, item in enumerate(items):
            where = f"[[{kind}]] #{i + 1}"
            if not isinstance(item, dict):
                raise TableError(where, "应为表", "must be a table")
            row = dict(item)
            if kind == "exchange":
                row["code"] = f"exchange:{_str(row.pop('id', None), where + ' id')}"
            rows.append((where, row))
    return rows, _revoked(data.get("revoked", []))


def _csv(text: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: dict[str, tuple[str, dict[str, Any]]] = {}
    try:
        _check_header(reader.fieldnames or [], name)
        for line in reader:
            if reader.line_num > MAX_ROWS:
                raise TableError(name, "行数过多", f"more than {MAX_ROWS} rows")
            _csv_row(rows, f"{name}:{reader.line_num}", line)
    except csv.Error as exc:
        raise TableError(f"{name}:{reader.line_num}", "CSV 格式错误",
                         f"CSV: {str(exc)[:200]}") from None
    return list(rows.values())


def _check_header(columns: list[str] | Any, name: str) -> None:
    missing = [c for c in ("code", "name", "transport") if c not in columns]
    unknown = [str(c)[:40] for c in columns if c not in CSV_COLUMNS]
    if missing or unknown:
        raise TableError(f"{name}:1", f"缺少列 {missing}，未知列 {unknown[:3]}",
                         f"missing columns {missing}, unknown columns {unknown[:3]}; the "
                         f"columns are {', '.join(CSV_COLUMNS)}")


def _csv_row(rows: dict[str, tuple[str, dict[str, Any]]], where: str,
             line: dict[str, str | Any]) -> None:
    if None in line:
        raise TableError(where, "列数多于表头", "more cells than the header has columns")
    cells = {k: (v or "").strip() for k, v in line.items()}
    key = ({"file": cells["key_file"], "not_before": cells.get("not_before", ""),
            "not_after": cells.get("not_after", "")} if cells.get("key_file") else None)
    code = cells["code"]
    if code not in rows:
        row: dict[str, Any] = {k: cells.get(k, "") for k in ("code", *_ROUTE)}
        row["departments"] = _pairs(cells.get("departments", ""), where)
        row["provinces"] = cells.get("provinces", "").split()
        row["keys"] = []
        rows[code] = (where, row)
    else:
        first = rows[code][1]
        if any(cells.get(k) and cells[k] != first[k] for k in _ROUTE[:5]) or \
                cells.get("departments") or cells.get("provinces"):
            raise TableError(where, f"{code[:40]} 的后续行只能添加密钥（路由各列留空或与首行相同）",
                             f"a later row of {code[:40]} only adds a key (leave the route "
                             "columns empty or as in its first row)")
    if key is not None:
        rows[code][1]["keys"].append(key)


def _pairs(text: str, where: str) -> dict[str, str]:
    """``hukou=户政科;shebao=社保中心`` → a dict."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        category, sep, department = part.partition("=")
        if not sep:
            raise TableError(where, "departments 应为 类别=部门;…", "departments is "
                             "category=department;...")
        out[category.strip()] = department.strip()
    return out


def _entry(row: dict[str, Any], where: str, folder: Path, code: str) -> dict[str, Any]:
    allowed = {"code", "keys", "status_keys", *_ROUTE}
    unknown = sorted(set(row) - allowed)
    if unknown:
        raise TableError(where, f"未知字段 {unknown[0][:40]}", f"unknown field "
                         f"{unknown[0][:40]!r}")
    departments = row.get("departments") or {}
    if not isinstance(departments, dict):
        raise TableError(where, "departments 应为表", "departments must be a table")
    keys = row.get("keys", [])
    if not isinstance(keys, list) or not keys:
        raise TableError(where, "至少需要一个密钥", "needs at least one key")
    entry = {"name": row.get("name"), "transport": row.get("transport"),
             "endpoint": row.get("endpoint", ""), "phone": row.get("phone", ""),
             "departments": {"": row.get("department"), **departments},
             "keys": [_key(k, f"{where} keys[{i}]", folder, code) for i, k in enumerate(keys)]}
    status_keys = row.get("status_keys", [])
    if not isinstance(status_keys, list):
        raise TableError(where, "status_keys 应为数组", "status_keys must be an array")
    if status_keys:      # the region's signing keys for case status events (optional)
        entry["status_keys"] = [_key(k, f"{where} status_keys[{i}]", folder, code, Role.SIGN)
                                for i, k in enumerate(status_keys)]
    if code.startswith("exchange:"):
        entry["provinces"] = row.get("provinces", [])
    return entry


def _key(item: object, where: str, folder: Path, code: str,
         role: Role = Role.ENCRYPT) -> dict[str, Any]:
    if not isinstance(item, dict) or set(item) - {"file", "not_before", "not_after"}:
        raise TableError(where, "应为 {file, not_before, not_after}", "must be "
                         "{file, not_before, not_after}")
    try:
        path = folder / check_name(item.get("file"))
        key = load(path)
    except Untrusted as exc:
        raise TableError(where, exc.zh, exc.en) from None
    except KeyFileError as exc:
        raise TableError(where, exc.zh, exc.en) from None
    if key.role is not role or key.private is not None:
        raise TableError(where, *_WANTED[role])
    if not code.startswith("exchange:") and key.owner != code:
        raise TableError(where, f"这是 {key.owner[:20]} 的密钥", f"the key of "
                         f"{key.owner[:20]}, not of {code}")
    return {"suite": key.suite, "key_id": key_id(key.public), "public": key.public.hex(),
            "not_before": _when(item.get("not_before"), f"{where}.not_before"),
            "not_after": _when(item.get("not_after"), f"{where}.not_after")}


def _when(value: object, where: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            value = None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat(timespec="seconds")
    if isinstance(value, date | datetime):
        raise TableError(where, "时间须带时区（如 +08:00）", "a time needs its zone (+08:00)")
    raise TableError(where, "应为带时区的时间，如 2026-12-01T00:00:00+08:00",
                     "must be a time with a zone, e.g. 2026-12-01T00:00:00+08:00")


def _revoked(items: object) -> list[dict[str, str]]:
    if not isinstance(items, list):
        raise TableError("[[revoked]]", "应为表格数组", "must be an array of tables")
    out = []
    for i, item in enumerate(items):
        where = f"[[revoked]] #{i + 1}"
        if not isinstance(item, dict):
            raise TableError(where, "应为表", "must be a table")
        out.append({"key_id": _str(item.get("key_id"), where),
                    "since": _when(item.get("since"), f"{where}.since"),
                    "reason": _str(item.get("reason", ""), where)})
    return out


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise TableError(where, "应为文本", "must be text")
    return value
