"""The web back office's pages, rendered on the server as plain HTML (no script): sign-in,
the case list, a case with its history and the forms for exactly the moves NEXT allows.
Chinese first, English beside. Every value goes through :func:`esc` — names from a package
are text to show, never paths or markup."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any
from urllib.parse import urlencode

from intake.casework import REQUIRED
from kiosk.casestatus.event import DESTINATIONS, DETAILS, NEXT, ZH, CaseState

STYLE = """
body{font-family:"Noto Sans SC","Noto Sans CJK SC","Microsoft YaHei","WenQuanYi Micro Hei",
sans-serif;margin:1.5em;color:#222}
header{display:flex;justify-content:space-between;align-items:center;
border-bottom:2px solid #b22;margin-bottom:1em}
table{border-collapse:collapse;margin:.5em 0 1.2em}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}.en{color:#666;font-size:.85em;margin-left:.4em}
.error{background:#fde8e8;border:1px solid #b22;padding:.6em;margin:.6em 0}
form.move{border:1px solid #ccc;padding:.6em;margin:.6em 0;max-width:44em}
label{display:block;margin:.3em 0}input,select,textarea{font:inherit;margin-left:.4em}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
PAGE_SIZE = 50

# a move's details as form fields: (zh, en, kind); kind "date" | "lines" | "choice" | "text"
FIELDS: dict[str, tuple[str, str, str]] = {
    "document_number": ("受理文书编号", "acceptance document no.", "text"),
    "promised_by": ("承诺办结时间", "promised by", "date"),
    "department": ("承办部门", "department", "text"),
    "items": ("补正材料（每行一项）", "items to correct, one per line", "lines"),
    "deadline": ("补正期限", "deadline", "date"),
    "notice_number": ("补正通知书编号", "notice no.", "text"),
    "version": ("版本", "version", "text"),
    "kind": ("特别程序种类", "kind of procedure", "text"),
    "reason": ("理由", "reason", "text"),
    "until": ("预计结束", "until", "date"),
    "result": ("办理结果", "result", "text"),
    "certificate_name": ("结果证照名称", "certificate name", "text"),
    "certificate_number": ("结果证照编号", "certificate no.", "text"),
    "tracking_number": ("物流单号", "tracking no.", "text"),
    "carrier": ("寄递企业", "carrier", "text"),
    "destination": ("寄送目的地", "destination", "choice"),
    "window": ("窗口", "window", "text"),
    "collect_until": ("领取截止", "collect until", "date"),
    "hours": ("领取时间", "opening hours", "text"),
}
_DESTINATION_ZH = {"applicant": "申请人", "window": "收件窗口"}
_ACTIONS = {"file_download": '下载文件<span class="en">downloaded</span><br>',
            "move_refused": '<p class="error">超出岗位，已拒绝<span class="en">refused: '
                            "not the staff member's role</span></p>"}


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def both(zh: str, en: str) -> str:
    return f'{esc(zh)}<span class="en">{esc(en)}</span>'


def state_label(state: str | None) -> str:
    try:
        known = CaseState(str(state))
    except ValueError:
        return esc(state or "—")
    return both(ZH[known], known.value)


def page(title_zh: str, title_en: str, body: str, staff: str | None = None,
         csrf: str | None = None) -> bytes:
    who = ""
    if staff is not None and csrf is not None:
        who = (f'<form method="post" action="/sign-out">{esc(staff)} '
               f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
               f'<button type="submit">退出<span class="en">Sign out</span></button></form>')
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{esc(title_zh)} {esc(title_en)}</title><style>{STYLE}</style></head>"
            f'<body><header><h1>{both(title_zh, title_en)}</h1>{who}</header>{body}'
            "</body></html>").encode()


def error_box(zh: str, en: str) -> str:
    return f'<p class="error" role="alert">{both(zh, en)}</p>'


def sign_in_page(csrf: str, error: str = "") -> bytes:
    body = (f'{error}<form method="post" action="/sign-in">'
            f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
            f'<label>{both("工号", "Staff id")}<input name="staff_id" maxlength="32" '
            'autocomplete="username" required></label>'
            f'<label>{both("PIN", "PIN")}<input name="pin" type="password" maxlength="12" '
            'inputmode="numeric" autocomplete="current-password" required></label>'
            f'<button type="submit">登录<span class="en">Sign in</span></button></form>')
    return page("办理地后台", "Back office", body)


def list_page(rows: list[dict[str, Any]], state: CaseState | None, number: int,
              more: bool, staff: str, csrf: str) -> bytes:
    options = "".join(f'<option value="{s.value}"{" selected" if s is state else ""}>'
                      f"{esc(ZH[s])} {s.value}</option>" for s in CaseState)
    filters = (f'<form method="get" action="/cases"><label>{both("状态", "State")}'
               f'<select name="state"><option value="">全部 all</option>{options}</select>'
               f'</label><button type="submit">筛选<span class="en">Filter</span></button>'
               "</form>")
    head = "".join(f"<th>{both(zh, en)}</th>" for zh, en in (
        ("协同编号", "Transfer no."), ("办件编号", "Case no."), ("事项", "Matter"),
        ("状态", "State"), ("更新时间", "Updated")))
    body_rows = "".join(
        f'<tr><td><a href="/cases/{esc(r["transfer_number"])}">{esc(r["transfer_number"])}'
        f'</a></td><td>{esc(r["case_number"])}</td><td>{esc(r["matter"])}</td>'
        f'<td>{state_label(r["state"])}</td><td>{esc(r["updated_at"])}</td></tr>'
        for r in rows) or f'<tr><td colspan="5">{both("没有办件", "No cases")}</td></tr>'
    links = "".join(
        f'<a href="/cases?{esc(urlencode(_query(state, n)))}">{both(zh, en)}</a> '
        for n, zh, en, shown in ((number - 1, "上一页", "previous", number > 1),
                                 (number + 1, "下一页", "next", more)) if shown)
    body = (f"{filters}<table><tr>{head}</tr>{body_rows}</table>"
            f'<p>{both(f"第 {number} 页", f"page {number}")} {links}</p>')
    return page("办件列表", "Cases", body, staff, csrf)


def _query(state: CaseState | None, number: int) -> dict[str, str]:
    return ({"state": state.value} if state else {}) | {"page": str(number)}


def case_page(case: dict[str, Any], staff: str, csrf: str, error: str = "",
              allowed: frozenset[CaseState] = frozenset()) -> bytes:
    facts = "".join(f"<tr><th>{both(zh, en)}</th><td>{value}</td></tr>" for zh, en, value in (
        ("协同编号", "Transfer no.", esc(case["transfer_number"])),
        ("办件编号", "Case no.", esc(case["case_number"])),
        ("受理终端", "Kiosk", esc(case["kiosk_id"])),
        ("承办部门", "Department", esc(case["department"])),
        ("当前状态", "State", state_label(case["state"]))))
    body = (f'<p><a href="/cases">{both("← 办件列表", "cases")}</a></p>{error}'
            f"<table>{facts}</table>{_packages(case)}{_history(case)}{_audit(case)}"
            f"<h2>{both('办理', 'Move on')}</h2>{_move_forms(case, csrf, allowed)}")
    return page(f"办件 {case['case_number']}", "Case", body, staff, csrf)


def _table(heads: tuple[tuple[str, str], ...], rows: list[str]) -> str:
    head = "".join(f"<th>{both(zh, en)}</th>" for zh, en in heads)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _packages(case: dict[str, Any]) -> str:
    rows = [f'<tr><td>{esc(p["version"])}</td><td>{esc(p["package_id"])}</td>'
            f'<td>{_file_links(case["transfer_number"], p)}</td></tr>'
            for p in case["packages"]]
    return (f"<h2>{both('材料（各版本）', 'Packages (versions)')}</h2>"
            + _table((("版本", "Version"), ("材料包", "Package"), ("文件", "Files")), rows))


def _file_links(transfer: str, package: dict[str, Any]) -> str:
    """A download link per file, by its row id; the name from the package is only text."""
    return "<br>".join(
        f'<a href="/cases/{esc(transfer)}/files/{int(file_id)}" download>{esc(name)}</a>'
        for file_id, name in zip(package.get("file_ids", []), package["files"], strict=False))


def _history(case: dict[str, Any]) -> str:
    rows = [f'<tr><td>{esc(h["seq"])}</td><td>{state_label(h["state"])}</td>'
            f'<td>{esc(h["time"])}</td><td>{both("已发送", "sent") if h["sent"] else ""}'
            "</td></tr>" for h in case["history"]]
    return (f"<h2>{both('状态事件', 'Status events')}</h2>"
            + _table((("序号", "Seq"), ("状态", "State"), ("时间", "Time"),
                      ("推送", "Delivery")), rows))


def _audit(case: dict[str, Any]) -> str:
    rows = [f'<tr><td>{esc(a["at"])}</td><td>{esc(a["staff_id"])}</td>'
            f'<td>{state_label(a["from"])}</td><td>{state_label(a["to"])}</td>'
            f'<td>{_ACTIONS.get(a.get("action", "move"), "")}{_details(a["details"])}</td>'
            "</tr>" for a in case["audit"]]
    return (f"<h2>{both('操作记录', 'Audit')}</h2>"
            + _table((("时间", "Time"), ("工号", "Staff"), ("原状态", "From"),
                      ("新状态", "To"), ("办理信息", "Details")), rows))


def _details(details: dict[str, Any]) -> str:
    lines = []
    for name, value in details.items():
        zh = FIELDS.get(name, (name, name, ""))[0].split("（")[0]
        shown = "；".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"{esc(zh)}：{esc(shown)}")
    return "<br>".join(lines)


def _move_forms(case: dict[str, Any], csrf: str, allowed: frozenset[CaseState]) -> str:
    """A form for each move NEXT allows from here that the staff member's roles allow."""
    try:
        current = CaseState(case["state"]) if case["state"] else None
    except ValueError:
        return ""
    forms = []
    for state in sorted(NEXT[current] & allowed, key=list(CaseState).index):
        required = REQUIRED.get(state, frozenset())
        fields = "".join(_field(state, name, name in required)
                         for name in sorted(DETAILS[state], key=list(FIELDS).index))
        forms.append(
            f'<form class="move" method="post" action="/cases/{esc(case["transfer_number"])}'
            f'/move"><input type="hidden" name="csrf" value="{esc(csrf)}">'
            f'<input type="hidden" name="to" value="{state.value}">{fields}'
            f'<button type="submit">转为“{esc(ZH[state])}”'
            f'<span class="en">move to {state.value}</span></button></form>')
    return "".join(forms) or f"<p>{both('已无可办理的操作', 'No further moves')}</p>"


def _field(state: CaseState, name: str, required: bool) -> str:
    zh, en, kind = FIELDS.get(name, (name, name, "text"))
    control = f'name="{esc(name)}" id="{state.value}-{esc(name)}"' + (" required" if required
                                                                       else "")
    if kind == "lines":
        widget = f"<textarea {control} rows=\"3\" cols=\"40\"></textarea>"
    elif kind == "choice":
        options = "".join(f'<option value="{d}">{_DESTINATION_ZH.get(d, d)} {d}</option>'
                          for d in sorted(DESTINATIONS))
        widget = f"<select {control}>{options}</select>"
    else:
        widget = f'<input {control} type="{"date" if kind == "date" else "text"}" ' \
                 'maxlength="500">'
    mark = "*" if required else ""
    return f"<label>{both(zh + mark, en)}{widget}</label>"
