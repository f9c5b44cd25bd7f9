"""日检 (device self-test): start-of-day or end-of-day, one large row per device with its
result (✓ / ! / × and a sentence: never colour alone), 开始检查 runs every row in turn off the
UI thread, a row's own 检查 runs it again, and 保存记录 records the inspection (who, when,
which, each result: kiosk/staff/selftest.py) — one audit entry. The last records are listed
under the rows."""

from __future__ import annotations

from datetime import datetime

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.ops.verdicts import FAIL, OK, Check
from kiosk.staff.desk import Kind
from kiosk.staff.inspection import KIND_TEXT
from kiosk.staff.roles import Action
from screens.base import error_text
from screens.staff.checks_common import FAIL_MARK, OK_MARK, WARN_MARK, attempt, desk
from screens.staff.frame import StaffScreen, named
from screens.widgets import Panel, Text, escape, fit_height, fit_row

ROWS = (("identity_reader", "身份证阅读器", "ID card reader"),
        ("document_camera", "高拍仪（请放日检测试卡）", "Document camera (lay the target)"),
        ("receipt_printer", "凭条打印机（打印测试条）", "Receipt printer (test strip)"),
        ("network", "网络（递送与消息服务）", "Network (delivery, broker)"),
        ("clock", "系统时间", "Clock"),
        ("disk", "存储空间", "Disk space"),
        ("outbox", "待发送材料", "Outbox backlog"))
TARGET_LABEL = "日检测试卡"         # assets/demo/pages/index.toml: the printed target
VERDICT_TEXT = {OK: ("全部正常", "all good"), "warn": ("有警告项", "with warnings"),
                FAIL: ("有不合格项", "with failures")}


class SelfTestScreen(StaffScreen):
    screen_name = "staff_selftest"
    title = ("设备日检", "Daily self-test")
    action = Action.SELF_TEST
    plate_label = TARGET_LABEL      # what the demo strip's 放材料 lays on an emulated camera

    def wipe_state(self) -> None:
        self.kind: Kind | None = None
        self.read_card = False
        self.results: dict[str, list[Check]] = {}
        self.running: str | None = None
        self.queue: list[str] = []
        self.started_at: datetime | None = None
        self.message = ("", "")

    # --- running ---------------------------------------------------------------------------
    def choose_kind(self, kind: Kind) -> None:
        self.kind = kind
        self.render()

    def toggle_card(self) -> None:
        self.read_card = not self.read_card
        self.render()

    def start_all(self) -> None:
        self.results, self.message = {}, ("", "")
        self.queue = [name for name, _zh, _en in ROWS]
        self._next()

    def check_one(self, name: str) -> None:
        if self.running is None:
            self.queue = [name]
            self._next()

    def _next(self) -> None:
        if not self.staff.signed_in:
            self.running, self.queue = None, []
            return
        if not self.queue:
            self.running = None
            self.render()
            return
        name = self.queue.pop(0)
        self.running = name
        self.started_at = self.started_at or desk(self).clock()
        self.render()
        step = desk(self).check_steps(self.read_card)[name]
        self.ui.bridge.run(step, lambda result: self._done(name, result),
                           lambda error: self._failed(name, error))

    def _done(self, name: str, result: Check | list[Check]) -> None:
        if self.running != name:          # signed out (the screen was wiped) meanwhile
            return
        self.results[name] = result if isinstance(result, list) else [result]
        self._next()

    def _failed(self, name: str, error: BaseException) -> None:
        if self.running != name:
            return
        zh, en = error_text(error)
        self.results[name] = [Check(name, FAIL, zh, en)]
        self._next()

    def save(self) -> None:
        kind = self.kind or desk(self).default_kind()
        checks = tuple(c for name, _zh, _en in ROWS for c in self.results.get(name, []))
        started = self.started_at or desk(self).clock()
        made = attempt(self, lambda: desk(self).record_inspection(self.session, kind, checks,
                                                                  started))
        if made is not None:
            zh, en = VERDICT_TEXT.get(made.verdict, (made.verdict, made.verdict))
            self.message = (f"已保存{KIND_TEXT[kind][0]}记录：{_mark_of(made.verdict)} {zh}",
                            f"{KIND_TEXT[kind][1]} recorded: {en}")
            self.results, self.started_at = {}, None
            self.render()

    # --- layout ----------------------------------------------------------------------------
    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        kind = self.kind or desk(self).default_kind()
        kinds = BoxLayout(spacing=theme.gap * 2)
        for each in Kind:
            kinds.add_widget(self.button(*KIND_TEXT[each], lambda k=each: self.choose_kind(k),
                                         f"kind_{each.value}", kind="choice",
                                         selected=each is kind))
        kinds.add_widget(self.button("读取测试卡：开" if self.read_card else "读取测试卡：关",
                                     "Test card: on" if self.read_card else "Test card: off",
                                     self.toggle_card, "toggle_card", kind="choice",
                                     selected=self.read_card))
        box.add_widget(fit_row(kinds))
        if self.message[0]:
            box.add_widget(named(self.text(*self.message), "selftest_message"))
        rows = BoxLayout(orientation="vertical", spacing=theme.gap)
        for name, zh, en in ROWS:
            rows.add_widget(self._row(name, zh, en))
        rows.add_widget(self._recent())
        box.add_widget(self.scroll(rows))
        return box

    def _row(self, name: str, zh: str, en: str) -> Widget:
        theme = self.ui.theme
        checks = self.results.get(name)
        panel = Panel(theme, orientation="horizontal")
        fit_height(panel)
        words = BoxLayout(orientation="vertical", spacing=theme.gap * 0.5)
        fit_height(words)
        words.add_widget(Text(theme, self.pair(zh, en), bold=True))
        if self.running == name:
            state = self.pair("正在检查…", "Checking…")
            colour = theme.palette.muted
        elif checks is None:
            state, colour = self.pair("未检查", "Not checked"), theme.palette.muted
        else:
            state = "\n".join(f"{_mark(c)} {self.pair(c.zh, c.en)}" for c in checks)
            worst = _worst(checks)
            colour = (theme.palette.ok if worst == OK else theme.palette.problem
                      if worst == FAIL else theme.palette.warning)
        words.add_widget(named(Text(theme, state, colour=colour), f"result_{name}"))
        panel.add_widget(words)
        panel.add_widget(self.button("检查", "Check", lambda: self.check_one(name),
                                     f"check_{name}", size_hint_x=None, width=theme.mm(36),
                                     enabled=self.running is None))
        return panel

    def _recent(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 0.5)
        fit_height(box)
        box.add_widget(Text(theme, self.pair("最近的日检记录", "Recent records"), bold=True))
        records = desk(self).inspections.recent(5)
        for record in records:
            zh, en = KIND_TEXT[record.kind]
            verdict = VERDICT_TEXT.get(record.verdict, (record.verdict,))[0]
            line = (f"{record.finished_at:%m-%d %H:%M} {zh} / {en} · {record.staff_id} · "
                    f"{_mark_of(record.verdict)} {verdict}")
            box.add_widget(named(Text(theme, escape(line), size=theme.small),
                                 f"record_{record.finished_at:%H%M%S}"))
        if not records:
            box.add_widget(Text(theme, self.pair("还没有日检记录", "No records yet"),
                                size=theme.small, colour=theme.palette.muted))
        return box

    def staff_footer(self) -> list[Widget]:
        idle = self.running is None
        done = bool(self.results) and idle
        return [self.button("返回菜单", "Back to the menu", self.staff.menu, "back",
                            size_hint_x=0.3),
                self.button("开始检查", "Start", self.start_all, "start_all",
                            kind="primary" if not done else "secondary", enabled=idle),
                self.button("保存记录", "Save the record", self.save, "save_record",
                            kind="primary" if done else "secondary", enabled=done)]


def _worst(checks: list[Check]) -> str:
    verdicts = {c.verdict for c in checks}
    return FAIL if FAIL in verdicts else "warn" if "warn" in verdicts else OK


def _mark(check: Check) -> str:
    return _mark_of(check.verdict)


def _mark_of(verdict: str) -> str:
    return {OK: OK_MARK, FAIL: FAIL_MARK}.get(verdict, WARN_MARK)
