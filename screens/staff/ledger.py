"""台账: the ledger listed and filtered with large buttons — the period (today, 7 days, this
month, 30 days), the state and the scope (the choices seen in the period) — masked as the
export is, newest first with the full count (kiosk/staff/ledger_view.py). A case opens its
审批流程登记卡 or 申请材料转办单 as a picture; 保存为 PDF saves it under the kiosk's data
folder and says where (the kiosk has no A4 printer). Each list, preview and save is one
audit entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

from kivy.core.image import Image as CoreImage
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.staff.desk import FORM_TITLES, Filter, Form, Layout
from kiosk.staff.ledger_view import ViewPage, ViewRow
from kiosk.staff.roles import Action
from screens.staff.checks_common import attempt, desk
from screens.staff.frame import StaffScreen, named
from screens.widgets import Picture, escape, fit_row

PERIODS = (("today", "今天", "Today"), ("week", "近 7 天", "7 days"),
           ("month", "本月", "This month"), ("days30", "近 30 天", "30 days"))
FORM_EN = {Form.REGISTRATION: "Approval record card", Form.TRANSFER: "Transfer slip"}
ANY = ("全部", "All")


def period_range(period: str, today: date) -> tuple[date, date]:
    first = {"today": today, "week": today - timedelta(days=6),
             "month": today.replace(day=1), "days30": today - timedelta(days=29)}[period]
    return first, today


class LedgerScreen(StaffScreen):
    screen_name = "staff_ledger"
    title = ("台账查询", "Ledger")
    action = Action.LEDGER_VIEW

    def wipe_state(self) -> None:
        self.period = "week"
        self.state: str | None = None
        self.scope: str | None = None
        self.page: ViewPage | None = None
        self.case: ViewRow | None = None
        self.form: Form | None = None
        self.preview: bytes | None = None
        self.message = ("", "")

    def on_pre_enter(self, *args: object) -> None:
        if self.allowed() and self.page is None:
            self._load()
        super().on_pre_enter(*args)

    # --- choosing --------------------------------------------------------------------------
    def choose_period(self, period: str | None) -> None:
        self.period, self.state, self.scope = period or "week", None, None
        self._load()
        self.render()

    def choose_state(self, state: str | None) -> None:
        self.state = state
        self._load()
        self.render()

    def choose_scope(self, scope: str | None) -> None:
        self.scope = scope
        self._load()
        self.render()

    def _load(self) -> None:
        first, last = period_range(self.period, desk(self).clock().date())
        flt = Filter(first, last, self.state, self.scope)
        page = attempt(self, lambda: desk(self).view(self.session, flt))
        self.page, self.case, self.form, self.preview = page, None, None, None

    def open_case(self, row: ViewRow) -> None:
        self.case, self.message = row, ("", "")
        self.render()

    def show_form(self, form: Form) -> None:
        case = self.case
        if case is None:
            return
        picture = attempt(self, lambda: desk(self).form_png(self.session, form,
                                                            case.case_number))
        if picture is not None:
            self.form, self.preview = form, picture
        self.render()

    def save_pdf(self) -> None:
        case, form = self.case, self.form
        if case is None or form is None:
            return
        path: Path | None = attempt(self, lambda: desk(self).save_form(self.session, form,
                                                                       case.case_number))
        if path is not None:
            self.message = (f"已保存为 PDF：{path}（本机无 A4 打印机，请拷贝后打印）",
                            f"saved as PDF: {path} (no A4 printer here: copy it to print)")
        self.render()

    def export(self, layout: Layout) -> None:
        first, last = period_range(self.period, desk(self).clock().date())
        done = attempt(self, lambda: desk(self).export(self.session,
                                                       Filter(first, last, None, None), layout))
        if done is not None:
            self.message = (f"已导出 {done.rows} 件（脱敏，整段期间）：{done.path}",
                            f"exported {done.rows} cases (masked, the whole period): "
                            f"{done.path}")
        self.render()

    def back_to_case(self) -> None:
        self.form, self.preview, self.message = None, None, ("", "")
        self.render()

    def back_to_list(self) -> None:
        self.case, self.form, self.preview, self.message = None, None, None, ("", "")
        self.render()

    # --- layout ----------------------------------------------------------------------------
    def staff_body(self) -> Widget:
        if self.case is not None and self.preview is not None:
            return self._preview_body()
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        box.add_widget(self._choices("period", [(p, zh, en) for p, zh, en in PERIODS],
                                     self.period, self.choose_period))
        page = self.page
        states = [(None, *ANY), *((s, s, self.ui.tr.other(s)) for s in
                                  (page.states if page else ()))]
        scopes = [(None, *ANY), *((s, s, self.ui.tr.other(s)) for s in
                                  (page.scopes if page else ()))]
        box.add_widget(self._choices("state", states, self.state, self.choose_state))
        box.add_widget(self._choices("scope", scopes, self.scope, self.choose_scope))
        if page is not None:
            box.add_widget(named(self.text(f"共 {page.total} 件（最新的在前）",
                                           f"{page.total} cases (newest first)", bold=True),
                                 "ledger_count"))
        if self.case is None and self.message[0]:
            box.add_widget(named(self.text(*self.message, colour=theme.palette.ok),
                                 "ledger_message"))
        box.add_widget(self._case_panel() if self.case is not None else self._list())
        if self.case is None and self.session.may(Action.LEDGER_EXPORT):
            box.add_widget(self._exports())
        return box

    def _exports(self) -> Widget:
        """导出 in each seed's columns (XLSX; CSV from the shell: kiosk ledger export)."""
        row = BoxLayout(spacing=self.ui.theme.gap)
        for layout, zh, en in ((Layout.APPENDIX_C, "导出台账（附录C格式）", "Export (appendix C)"),
                               (Layout.GUANGYUAN, "导出台账（附件3格式）",
                                "Export (attachment 3)")):
            row.add_widget(self.button(zh, en, lambda v=layout: self.export(v),
                                       f"export_{layout.value}"))
        return fit_row(row)

    def _choices(self, what: str, options: list[tuple[str | None, str, str]],
                 chosen: str | None, choose: Callable[[str | None], None]) -> Widget:
        theme = self.ui.theme
        row = BoxLayout(spacing=theme.gap)
        for value, zh, en in options[:6]:      # a period's states and scopes are few
            row.add_widget(self.button(zh, en, lambda v=value: choose(v),
                                       f"{what}_{value or 'all'}", kind="choice",
                                       selected=value == chosen, font=theme.small * 1.1))
        return fit_row(row)

    def _list(self) -> Widget:
        theme = self.ui.theme
        rows = BoxLayout(orientation="vertical", spacing=theme.gap)
        for row in self.page.rows if self.page else ():
            label = (f"{row.case_number}  {row.time:%m-%d %H:%M}\n{row.matter_name} · "
                     f"{row.applicant} · {row.phone} · {row.state}")
            rows.add_widget(self.button(label, "", lambda r=row: self.open_case(r),
                                        f"case_{row.case_number}", font=theme.small * 1.1))
        if self.page is not None and not self.page.rows:
            rows.add_widget(self.text("此期间没有符合条件的件", "No cases match in this period"))
        return self.scroll(rows)

    def _case_panel(self) -> Widget:
        theme, case = self.ui.theme, self.case
        assert case is not None
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        for zh, en, value in (("受理编号", "Case number", case.case_number),
                              ("办理事项", "Matter", case.matter_name),
                              ("申请人", "Applicant", f"{case.applicant} · {case.phone}"),
                              ("办理状态", "State", case.state),
                              ("受理时间", "Accepted", f"{case.time:%Y-%m-%d %H:%M}")):
            box.add_widget(self.text(f"{zh}：{escape(value)}", f"{en}: {escape(value)}"))
        for form in Form:
            box.add_widget(self.button(f"查看{FORM_TITLES[form]}", f"Show the {FORM_EN[form]}",
                                       lambda f=form: self.show_form(f), f"show_{form.value}",
                                       kind="primary", height=theme.target * 1.4))
        box.add_widget(self.button("返回列表", "Back to the list", self.back_to_list,
                                   "back_to_list"))
        box.add_widget(Widget())
        return box

    def _preview_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap)
        if self.message[0]:
            box.add_widget(named(self.text(*self.message, colour=theme.palette.ok),
                                 "ledger_message"))
        picture = named(Picture(), "form_preview")
        picture.show(CoreImage(BytesIO(self.preview or b""), ext="png").texture)
        box.add_widget(picture)
        actions = BoxLayout(spacing=theme.gap * 2)
        actions.add_widget(self.button("保存为 PDF", "Save as PDF", self.save_pdf, "save_pdf",
                                       kind="primary"))
        actions.add_widget(self.button("返回", "Back", self.back_to_case, "back_to_case"))
        box.add_widget(fit_row(actions))
        return box
