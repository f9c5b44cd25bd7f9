"""补打回执: find the case — the receipt's QR on the document camera, the number typed on a
pad, or among the newest 20 — then print it again, marked 补打 第N次 with who and when
(kiosk/staff/reprint.py). Each find and each reprint is one audit entry."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.documents.model import LedgerRow
from kiosk.staff.roles import Action
from screens.base import error_text
from screens.keyboard import NumericKeypad
from screens.staff.frame import StaffScreen, named
from screens.widgets import Panel, Text, escape, fit_height, fit_row

CASE_DIGITS = 21
WAYS = (("scan", "扫描回执二维码", "Scan the receipt"),
        ("type", "输入受理编号", "Type the number"),
        ("recent", "最近 20 件", "Newest 20"))


def dashed(digits: str) -> str:
    """510802000126120700426 → 510802-0001-261207-0042-6, as far as typed."""
    cuts, parts, start = (6, 4, 6, 4, 1), [], 0
    for length in cuts:
        if start < len(digits):
            parts.append(digits[start:start + length])
        start += length
    return "-".join(parts)


class ReprintScreen(StaffScreen):
    screen_name = "staff_reprint"
    title = ("补打回执", "Reprint a receipt")
    action = Action.REPRINT

    def wipe_state(self) -> None:
        self.way = "scan"
        self.typed = ""
        self.row: LedgerRow | None = None
        self.recent: list[LedgerRow] = []
        self.message = ("", "")
        self.scanning = False
        self._number_label: Text | None = None
        self._find_button: Any = None

    # --- finding -------------------------------------------------------------------------
    def choose_way(self, way: str) -> None:
        self.way, self.row, self.message = way, None, ("", "")
        if way == "recent":
            ok, _ = self.perform(Action.CASE_LOOKUP, self._load_recent)
            if not ok:
                return
        self.render()

    def _load_recent(self) -> dict[str, Any]:
        self.recent = self.ui.service.recent_cases()
        return {"via": "recent", "shown": len(self.recent)}

    def scan(self) -> None:
        self.scanning, self.message = True, ("正在识别，请把回执平放在拍摄区", "Reading the code: "
                                             "lay the receipt flat under the camera")
        self.render()
        self.ui.bridge.run(self.ui.service.scan_case_code, self._scanned, self._scan_failed)

    def _scanned(self, number: str | None) -> None:
        self.scanning = False
        if not self.staff.signed_in:
            return
        if number is None:
            self.message = ("没有识别到受理编号，请摆正回执再试，或输入编号",
                            "No case number found: straighten the receipt, or type it")
            self.render()
            return
        self._look_up(number, "scan")

    def _scan_failed(self, error: BaseException) -> None:
        self.scanning = False
        if self.staff.signed_in:
            self.message = error_text(error)
            self.render()

    def _typed(self, text: str) -> None:
        self.typed = text
        if self._number_label is not None:
            self._number_label.text = dashed(text) or "—"
        if self._find_button is not None:
            self._find_button.set_enabled(len(text) == CASE_DIGITS)

    def find_typed(self) -> None:
        self._look_up(self.typed, "typed")

    def pick(self, row: LedgerRow) -> None:
        self.row, self.message = row, ("", "")
        self.render()

    def _look_up(self, text: str, via: str) -> None:
        found: list[LedgerRow] = []

        def run() -> dict[str, Any]:
            row = self.ui.service.find_case(text)
            if row is not None:
                found.append(row)
            return {"via": via, "found": "yes" if row else "no"}
        ok, _ = self.perform(Action.CASE_LOOKUP, run)
        if not ok:
            return
        if found:
            self.pick(found[0])
        else:
            self.message = ("没有找到该受理编号的回执（编号有误，或不是本机受理的件）",
                            "No receipt with this case number here (a wrong number, or "
                            "another kiosk's case)")
            self.render()

    # --- printing ------------------------------------------------------------------------
    def reprint(self) -> None:
        row = self.row
        if row is None:
            return
        result: list[tuple[int, bool]] = []

        def run() -> dict[str, Any]:
            n, printed = self.ui.service.reprint_receipt(row, self.session.name)
            result.append((n, printed))
            return {"reprint": n, "printed": "yes" if printed else "no"}
        ok, _ = self.perform(Action.REPRINT, run, case=row.case_number)
        if not ok or not result:
            return
        n, printed = result[0]
        self.message = ((f"已补打（第{n}次），请取走回执", f"Reprinted (copy {n}): take it")
                        if printed else
                        ("打印机缺纸或故障，未能补打；请处理打印机后重试",
                         "Not printed: the printer is out of paper or faulty"))
        self.render()

    # --- layout --------------------------------------------------------------------------
    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        ways = BoxLayout(spacing=theme.gap * 2)
        for way, zh, en in WAYS:
            ways.add_widget(self.button(zh, en, lambda w=way: self.choose_way(w),
                                        f"way_{way}", kind="choice",
                                        selected=way == self.way and self.row is None))
        box.add_widget(fit_row(ways))
        if self.message[0]:
            box.add_widget(named(self.text(*self.message, colour=theme.palette.problem
                                           if "未" in self.message[0] or "没有" in
                                           self.message[0] else theme.palette.text),
                                 "reprint_message"))
        if self.row is not None:
            box.add_widget(self._case_panel(self.row))
            box.add_widget(Widget())
        elif self.way == "scan":
            box.add_widget(self.button("开始识别", "Read the code", self.scan, "scan_now",
                                       kind="primary", enabled=not self.scanning,
                                       height=theme.target * 1.6, font=theme.title * 0.8))
            box.add_widget(Widget())
        elif self.way == "type":
            box.add_widget(self._typing())
        else:
            box.add_widget(self._recent_list())
        return box

    def _typing(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        self._number_label = named(Text(theme, dashed(self.typed) or "—", size=theme.title,
                                        halign="center"), "typed_number")
        box.add_widget(self._number_label)
        box.add_widget(NumericKeypad(theme, self._typed, {
            "clear": self.pair("清空", "Clear"), "delete": self.pair("删除", "Delete")},
            text=self.typed, max_length=CASE_DIGITS))
        self._find_button = self.button("查找", "Find", self.find_typed, "find_typed",
                                        kind="primary",
                                        enabled=len(self.typed) == CASE_DIGITS)
        box.add_widget(self._find_button)
        box.add_widget(Widget())
        return box

    def _recent_list(self) -> Widget:
        theme = self.ui.theme
        rows = BoxLayout(orientation="vertical", spacing=theme.gap)
        for row in self.recent:
            label = (f"{row.case_number}\n{row.matter_name} · "
                     f"{row.applicant_masked} · {row.time:%m-%d %H:%M}")
            rows.add_widget(self.button(label, "", lambda r=row: self.pick(r),
                                        f"case_{row.case_number}", font=theme.small * 1.1))
        if not self.recent:
            rows.add_widget(self.text("本机还没有受理过的件", "No cases at this kiosk yet"))
        return self.scroll(rows)

    def _case_panel(self, row: LedgerRow) -> Widget:
        theme = self.ui.theme
        panel = Panel(theme)
        fit_height(panel)
        for zh, en, value in (("受理编号", "Case number", row.case_number),
                              ("办理事项", "Matter", row.matter_name),
                              ("申请人", "Applicant", row.applicant_masked),
                              ("受理时间", "Accepted", f"{row.time:%Y-%m-%d %H:%M}")):
            panel.add_widget(Text(theme, f"{zh} {en}{self.ui.colon}{escape(value)}"))
        panel.add_widget(self.button("补打此回执", "Reprint this receipt", self.reprint,
                                     "reprint_now", kind="primary",
                                     height=theme.target * 1.5, font=theme.title * 0.8))
        return panel
