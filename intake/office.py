"""``kiosk-region office``: the handling department's back office as a small web page —
sign in with staff id and PIN, list the cases, open one, move it on, sign out. Every move
goes through :func:`intake.casework.move_signed_in`, the command line's audited path; the
page only turns a form into its arguments and a refusal into a bilingual message (HTTP 400).

Requests come from a browser on the department's network: the path is matched exactly
(else 404), the request line, headers and body are bounded, a POST must be a URL-encoded
form of known fields with the session's CSRF token, and nothing from the request is ever a
file name. Each request opens its own connection to the database. No access log: it would
list case numbers."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from intake import casework, office_files, roles, staff
from intake.db import connect
from intake.feed import use_tls
from intake.office_pages import PAGE_SIZE, STYLE_HASH, case_page, error_box, list_page, page
from intake.office_pages import sign_in_page as sign_in_html
from intake.office_session import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    Session,
    Sessions,
    looks_like_token,
    new_token,
    same_token,
)
from intake.statusout import StatusSigner
from kiosk.casestatus.event import DETAILS, LIST_DETAILS, TRANSFER_NUMBER, CaseState
from kiosk.errors import KioskError

MAX_URL = 1000
MAX_HEADERS = 40
MAX_BODY = 16 << 10
MAX_FIELDS = 40
_CASE = re.compile(r"/cases/(" + TRANSFER_NUMBER.pattern + r")(/move)?")
_FILE = re.compile(r"/cases/(" + TRANSFER_NUMBER.pattern + r")/files/([^/]{1,20})")
_CHUNK = 1 << 16
_DETAIL_NAMES = frozenset().union(*DETAILS.values())
_HEADERS = {"Content-Security-Policy": f"default-src 'none'; style-src '{STYLE_HASH}'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


class BadRequest(Exception):
    """A request the office refuses with ``status`` and a bilingual line."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(en)
        self.status, self.zh, self.en = status, zh, en


class OfficeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: Path, signer: StatusSigner,
                 idle: timedelta, clock: Callable[[], datetime]) -> None:
        super().__init__(address, OfficeHandler)
        self.db, self.signer, self.clock = db, signer, clock
        self.sessions = Sessions(idle)
        self.secure = False                         # cookies get Secure once TLS is on

    def use_tls(self, cert: Path, key: Path) -> None:
        use_tls(self, cert, key)
        self.secure = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass        # a client that hangs up or fails the TLS handshake is not our error


class OfficeHandler(BaseHTTPRequestHandler):
    server: OfficeServer
    server_version = "tongban-region-office"
    sys_version = ""
    timeout = 15

    def setup(self) -> None:
        super().setup()
        handshake = getattr(self.request, "do_handshake", None)
        if handshake is not None:
            handshake()

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        try:
            if len(self.path) > MAX_URL or len(self.headers) > MAX_HEADERS:
                raise BadRequest(431 if len(self.headers) > MAX_HEADERS else 414,
                                 "请求过长", "Request too large")
            self._route(method)
        except BadRequest as exc:
            self._send(exc.status, page("出错了", "Error", error_box(exc.zh, exc.en)))
        except _Answered:
            pass
        except (sqlite3.Error, KioskError):        # the database gone or locked meanwhile
            self._send(503, page("暂不可用", "Unavailable", error_box(
                "数据库暂不可用，请稍后再试", "The database is busy; try again")))

    def _route(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        case = _CASE.fullmatch(path)
        routes: dict[tuple[str, str], Callable[[], None]] = {
            ("GET", "/"): lambda: self._redirect("/cases"),
            ("GET", "/sign-in"): lambda: self._sign_in_form(),
            ("POST", "/sign-in"): self._sign_in,
            ("POST", "/sign-out"): self._sign_out,
            ("GET", "/cases"): lambda: self._list(query),
        }
        if (method, path) in routes:
            return routes[method, path]()
        if case and method == ("POST" if case[2] else "GET"):
            return self._move(case[1]) if case[2] else self._case(case[1], "")
        download = _FILE.fullmatch(path)
        if download and method == "GET":
            return self._download(download[1], download[2])
        raise BadRequest(404, "没有这个页面", "No such page")

    # --- signing in and out -------------------------------------------------------------
    def _sign_in_form(self, error: str = "", status: int = 200) -> None:
        token = new_token()
        self._send(status, sign_in_html(token, error), {SIGN_IN_COOKIE: token})

    def _sign_in(self) -> None:
        form = self._form({"staff_id", "pin"})
        if not looks_like_token(self._cookie(SIGN_IN_COOKIE)) or not same_token(
                form.get("csrf"), str(self._cookie(SIGN_IN_COOKIE))):
            raise BadRequest(403, "表单已失效，请重新打开登录页", "The form expired; reload")
        now = self.server.clock()
        staff_id = form.get("staff_id", "")
        try:
            with _connection(self.server.db) as conn:
                name = staff.sign_in(conn, staff_id, form.get("pin", ""), now)
                staff.record(conn, now, staff_id, "web_sign_in")
                stamp = staff.pin_stamp(conn, staff_id) or ""
        except KioskError as exc:
            return self._sign_in_form(error_box(exc.zh, exc.en), 403)
        token = self.server.sessions.open(staff_id, name, stamp, now)
        self._redirect("/cases", {SESSION_COOKIE: token, SIGN_IN_COOKIE: ""})

    def _sign_out(self) -> None:
        session = self._session()
        self._form(set())
        with _connection(self.server.db) as conn:
            staff.record(conn, self.server.clock(), session.staff_id, "web_sign_out")
        self.server.sessions.close(self._cookie(SESSION_COOKIE))
        self._redirect("/sign-in", {SESSION_COOKIE: ""})

    # --- cases --------------------------------------------------------------------------
    def _list(self, query: str) -> None:
        session = self._session()
        params = _parse(query, {"state", "page"})
        try:
            state = CaseState(params["state"]) if params.get("state") else None
            number = int(params.get("page", "1"))
        except ValueError:
            raise BadRequest(400, "筛选条件有误", "Bad filter") from None
        if not 1 <= number <= 100_000:
            raise BadRequest(400, "页码有误", "Bad page number")
        with _connection(self.server.db) as conn:
            rows = casework.list_cases(conn, state, limit=PAGE_SIZE + 1,
                                       offset=(number - 1) * PAGE_SIZE)
        self._send(200, list_page(rows[:PAGE_SIZE], state, number, len(rows) > PAGE_SIZE,
                                  session.name, session.csrf))

    def _case(self, transfer: str, error: str, status: int = 200) -> None:
        session = self._session()
        try:
            with _connection(self.server.db) as conn:
                case = casework.show(conn, transfer)
                held = staff.roles_of(conn, session.staff_id)
        except KioskError:
            raise BadRequest(404, "没有这个办件", "No such case") from None
        who = f"{session.name}（{roles.labels(held) or '无岗位'}）"
        self._send(status, case_page(case, who, session.csrf, error, roles.moves_for(held)))

    def _move(self, transfer: str) -> None:
        session = self._session()
        form = self._form({"to"} | _DETAIL_NAMES)
        try:
            state = CaseState(form.pop("to", ""))
        except ValueError:
            return self._case(transfer, error_box("请选择要转入的状态", "Choose a state"), 400)
        details: dict[str, object] = {k: v for k, v in form.items() if v and k != "csrf"}
        for name in LIST_DETAILS & set(details):      # a textarea: one item a line
            details[name] = [line.strip() for line in form[name].splitlines() if line.strip()]
        try:
            with _connection(self.server.db) as conn:
                casework.move_signed_in(conn, self.server.signer, session.staff_id,
                                        transfer, state, details, self.server.clock())
        except KioskError as exc:       # a move outside the role: a forged form, 403
            status = 403 if exc.code == "role_forbidden" else 400
            return self._case(transfer, error_box(exc.zh, exc.en), status)
        self._redirect(f"/cases/{transfer}")

    def _download(self, transfer: str, file_id: str) -> None:
        """One of the case's files, by its row id (office_files.py), audited."""
        session = self._session()
        with _connection(self.server.db) as conn:
            found = office_files.find(conn, transfer, file_id)
            opened = office_files.open_regular(found.path) if found else None
            if found is None or opened is None:
                raise BadRequest(404, "没有这个文件", "No such file")
            office_files.audit_download(conn, self.server.clock(), session.staff_id,
                                        transfer, found)
        handle, size = opened
        with handle:
            self.send_response(200)
            for name, value in _HEADERS.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Disposition", office_files.disposition(found.name))
            self.send_header("Content-Length", str(size))
            self.end_headers()
            left = size            # what fstat said: a file grown since is cut there
            while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)

    # --- the request's parts ------------------------------------------------------------
    def _session(self) -> Session:
        now = self.server.clock()
        session = self.server.sessions.find(self._cookie(SESSION_COOKIE), now)
        if session is not None:
            with _connection(self.server.db) as conn:       # PIN reset or locked: out
                if staff.pin_stamp(conn, session.staff_id) != session.stamp:
                    self.server.sessions.close(self._cookie(SESSION_COOKIE))
                    session = None
        if session is None:
            if self.command == "GET":
                self._redirect("/sign-in")
                raise _Answered
            raise BadRequest(403, "请先登录", "Sign in first")
        return session

    def _cookie(self, name: str) -> str | None:
        raw = self.headers.get("Cookie")
        if raw is None or len(raw) > 4096:
            return None
        jar = cookies.SimpleCookie()
        try:
            jar.load(raw)
        except cookies.CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel is not None else None

    def _form(self, names: set[str] | frozenset[str]) -> dict[str, str]:
        """The POST's URL-encoded form: known fields only, each once, with a CSRF token
        matching the session's (the sign-in form checks its own)."""
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise BadRequest(415, "只接受表单提交", "Only form posts are accepted")
        length_text = self.headers.get("Content-Length", "")
        if not length_text.isdigit() or len(length_text) > 7:
            raise BadRequest(411, "缺少内容长度", "Content-Length required")
        if int(length_text) > MAX_BODY:
            raise BadRequest(413, "表单过大", "Form too large")
        try:        # a browser percent-encodes every byte that is not plain ASCII
            text = self.rfile.read(int(length_text)).decode("ascii")
        except UnicodeDecodeError:
            raise BadRequest(400, "表单格式有误", "Malformed form") from None
        form = _parse(text, names | {"csrf"})
        if self.path != "/sign-in":
            session = self._session()
            if not same_token(form.get("csrf"), session.csrf):
                raise BadRequest(403, "表单已失效，请刷新页面后重试",
                                 "The form expired or was not ours; reload and try again")
        return form

    def _redirect(self, where: str, set_cookies: dict[str, str] | None = None) -> None:
        self._send(303, b"", set_cookies, {"Location": where})

    def _send(self, status: int, body: bytes, set_cookies: dict[str, str] | None = None,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (_HEADERS | (extra or {})).items():
            self.send_header(name, value)
        for name, value in (set_cookies or {}).items():
            self.send_header("Set-Cookie", self._cookie_line(name, value))
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _cookie_line(self, name: str, value: str) -> str:
        line = f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"
        if not value:
            line += "; Max-Age=0"
        return line + ("; Secure" if self.server.secure else "")

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, too many or too long headers,
        a method it has no handler for) as our page; an unknown method is 405, not 501."""
        code = 405 if code == 501 else code
        self.close_connection = True
        self._send(code, page("请求有误", "Bad request", error_box(
            f"请求无法处理（{code}）", f"The request cannot be handled ({code})")))

    def log_message(self, format: str, *args: object) -> None:
        pass        # the access log would list case numbers: nothing is kept


class _Answered(Exception):
    """The request was answered (a redirect to sign in) before its handler finished."""


def _parse(text: str, names: set[str] | frozenset[str]) -> dict[str, str]:
    """A URL-encoded string of ``names`` (each at most once, UTF-8), else BadRequest."""
    try:
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text),
                         max_num_fields=MAX_FIELDS, encoding="utf-8", errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(400, "表单格式有误", "Malformed form") from None
    unknown = set(pairs) - names
    if unknown or any(len(v) != 1 for v in pairs.values()):
        raise BadRequest(400, "表单含未知或重复的字段", "Unknown or repeated form fields")
    return {k: v[0] for k, v in pairs.items()}


def _connection(db: Path) -> closing[sqlite3.Connection]:
    """The region's database for one request, closed after it."""
    return closing(connect(db, create=False))
