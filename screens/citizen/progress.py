"""进度查询: the citizen scans the receipt's QR on the document camera or reads their ID card;
the screen shows the case's timeline in plain words (masked), reads it aloud on 朗读, says
where and when to collect a result waiting at the window, and once the case is decided
offers the second 好差评 — once.

It runs inside an ordinary session (started by the journey), so the idle warning, the
timeout and every way out end in the same wipe as an application: what was found is held on
this screen only and dropped by ``wipe_state``. The core is kiosk/progress.py.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.interaction.speech import Speech, card_reminder, speakable, spell
from kiosk.progress import CaseLine, CaseView, state_words
from kiosk.rating import Rating, RatingReason
from screens.base import error_text
from screens.citizen.frame import CitizenScreen
from screens.citizen.identify import CardAnimation, card_banner
from screens.citizen.rating import FACES, REASONS
from screens.widgets import KioskButton, Panel, Text, escape, fit_height

# the screen's own words, in both languages (shown with ui.pair: Chinese first in Chinese)
TEXTS = {
    "title": ("进度查询", "Check progress"),
    "how": ("请选择查询方式", "How would you like to look it up?"),
    "by_qr": ("扫描回执二维码", "Scan the receipt's QR code"),
    "by_card": ("读取身份证", "Read my ID card"),
    "qr_hint": ("请将受理回执平放在拍摄区，二维码朝上", "Lay your receipt flat on the plate, "
                                                     "QR code up"),
    "card_hint": ("请将身份证放在读卡区", "Place your ID card on the reader"),
    "scanning": ("正在识别二维码……", "Reading the code…"),
    "choose_case": ("您在本机办理的事项", "Your cases at this kiosk"),
    "case": ("受理编号 {n}", "Case {n}"),
    "applicant": ("申请人 {name}　受理时间 {t}", "Applicant {name}, received {t}"),
    "received_by": ("由本大厅 {k} 号终端受理", "Received at kiosk {k} of this hall"),
    "hall_wide": ("本大厅各终端受理的办件均可在此查询；窗口受理的，请到人工窗口查询",
                  "Cases from every kiosk of this hall can be looked up here; for one "
                  "received at a window, please ask there"),
    "now": ("当前状态：{s}", "Now: {s}"),
    "pickup": ("领取结果", "Collecting the result"),
    "rate": ("评价本次办理结果", "Rate how this case was handled"),
    "rate_title": ("请为办理结果评价（办结后评价）", "Rate the result of your case"),
    "rated": ("您已评价：{level}，谢谢！", "You rated it: {level}. Thank you!"),
    "thanks": ("谢谢您的评价", "Thank you for your rating"),
    "why": ("请告诉我们哪里不满意（可多选）", "Please tell us what was wrong (any number)"),
    "contact": ("是否同意工作人员联系您？", "May staff contact you about it?"),
    "yes": ("是，可以联系我", "Yes, contact me"),
    "no": ("否，不用联系", "No, thank you"),
    "submit": ("提交评价", "Submit"),
    "skip": ("不说明，结束", "Skip"),
    "home": ("返回首页", "Home"),
    "back": ("上一步", "Back"),
    "retry_qr": ("重新扫描", "Scan again"),
    "correct": ("提交补正材料", "Submit the requested materials"),
    "print_notice": ("打印补正通知书", "Print the correction notice"),
    "printing_notice": ("正在打印补正通知书……", "Printing the correction notice…"),
    "notice_printed": ("补正通知书已打印，请取走", "The correction notice is printed: please "
                                                  "take it"),
    "notice_unprinted": ("暂时无法打印，请到人工窗口领取补正通知书", "It cannot be printed "
                         "now: please ask for the notice at a window"),
    "elsewhere": ("其他终端或窗口受理的办件，请到人工窗口查询",
                  "For a case received elsewhere in the hall, please ask at a window"),
}
RATING_EN = {Rating.VERY_SATISFIED: "very satisfied", Rating.SATISFIED: "satisfied",
             Rating.BASICALLY_SATISFIED: "basically satisfied",
             Rating.DISSATISFIED: "dissatisfied", Rating.VERY_DISSATISFIED: "very dissatisfied"}


class ProgressScreen(CitizenScreen):
    screen_name = "progress"
    cancellable = False          # 返回首页 at the bottom ends the lookup (and wipes it)

    def __init__(self, ui: Any, nav: Any, journey: Any, **kwargs: Any) -> None:
        super().__init__(ui, nav, journey, **kwargs)
        self.wipe_state()

    def wipe_state(self) -> None:
        self.state = "choose"       # choose | scanning | reading | list | case | rate | failed
        self.way = ""               # qr | card: what "again" repeats after a failure
        self.message = ("", "")
        self.cases: list[CaseLine] = []
        self.view: CaseView | None = None
        self.thanked = False
        self.card_read = False      # the card was read: remind the citizen to take it back
        self.reasons: list[RatingReason] = []    # a bad second rating: why, and call back?
        self.contact: bool | None = None
        self.notice = ""            # the region's 补正通知书: "" | printing | printed | unprinted
        self.token = 0              # a late answer to an abandoned scan or read is ignored

    def p(self, key: str, **values: Any) -> str:
        """TEXTS[key] in both languages; a value given as (zh, en) goes into each its own."""
        zh, en = TEXTS[key]
        return self.ui.pair(zh.format(**_side(values, 0)), en.format(**_side(values, 1)))

    # --- layout --------------------------------------------------------------------------
    def build_header(self) -> Widget:
        box = super().build_header()
        theme = self.ui.theme
        box.add_widget(Text(theme, self.p("title"), size=theme.title, bold=True))
        return box

    def body(self) -> Widget:
        return {"choose": self._choose_body, "scanning": self._waiting_body,
                "reading": self._waiting_body, "list": self._list_body,
                "case": self._case_body, "rate": self._rate_body, "why": self._why_body,
                "failed": self._failed_body}[self.state]()

    def _choose_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(Text(theme, self.p("how"), size=theme.title * 0.85, halign="center"))
        box.add_widget(KioskButton(theme, self.p("by_qr"), self.scan, kind="primary",
                                    name="by_qr", height=theme.target * 2,
                                    font=theme.title * 0.9))
        box.add_widget(Text(theme, self.p("qr_hint"), halign="center",
                            colour=theme.palette.muted))
        box.add_widget(KioskButton(theme, self.p("by_card"), self.read_card, kind="primary",
                                    name="by_card", height=theme.target * 2,
                                    font=theme.title * 0.9))
        wide = self.ui.service.progress.hall is not None     # the hall case index runs
        box.add_widget(Text(theme, self.p("hall_wide" if wide else "elsewhere"), halign="center",
                            colour=theme.palette.muted))
        box.add_widget(Widget())
        return box

    def _waiting_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        hint = "qr_hint" if self.state == "scanning" else "card_hint"
        box.add_widget(named(Text(theme, self.p(hint), size=theme.title * 0.85,
                                  halign="center"), "progress_wait"))
        if self.state == "reading":
            box.add_widget(CardAnimation(theme))
        else:
            box.add_widget(Text(theme, self.p("scanning"), halign="center",
                                colour=theme.palette.muted))
            box.add_widget(Widget())
        return box

    def _failed_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(named(Text(theme, "× " + self.ui.pair(*self.message),
                                  size=theme.title * 0.85, colour=theme.palette.problem,
                                  halign="center"), "progress_message"))
        if self.card_read:
            box.add_widget(card_banner(self.ui, card_reminder()))
        box.add_widget(Widget())
        return box

    def _list_body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        if self.card_read:
            box.add_widget(card_banner(self.ui, card_reminder()))
        box.add_widget(Text(theme, self.p("choose_case"), bold=True))
        for line in self.cases:
            zh, en = state_words(line.state)
            if line.kiosk:
                zh, en = f"{zh}（{line.kiosk} 号终端受理）", f"{en} (kiosk {line.kiosk})"
            label = ui.pair(f"{line.matter_name}　{line.received_at:%Y-%m-%d}\n{zh}",
                            f"{line.matter_name_en}, {line.received_at:%Y-%m-%d}: {en}")
            box.add_widget(KioskButton(theme, label, lambda n=line.number: self.open_case(n),
                                        kind="choice", name=f"case_{line.number}",
                                        height=theme.target * 1.4))
        return self.scroll(box)

    def _case_body(self) -> Widget:
        view, ui, theme = self.view, self.ui, self.ui.theme
        assert view is not None
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        if self.card_read:
            box.add_widget(card_banner(ui, card_reminder()))
        box.add_widget(named(Text(theme, self.p("case", n=view.number), bold=True,
                                  size=theme.title * 0.85), "case_number"))
        box.add_widget(Text(theme, ui.pair(view.matter_name, view.matter_name_en)
                            + "\n" + self.p("applicant", name=escape(view.applicant_masked),
                                            t=f"{view.received_at:%Y-%m-%d %H:%M}"),
                            colour=theme.palette.muted))
        if view.kiosk:      # another kiosk of the hall received it (kiosk/hall)
            box.add_widget(named(Text(theme, self.p("received_by", k=view.kiosk),
                                      colour=theme.palette.muted), "received_by"))
        box.add_widget(named(Text(theme, self.p("now", s=state_words(view.state)), bold=True,
                                  size=theme.title * 0.85, colour=theme.palette.primary),
                             "case_state"))
        if view.correctable:          # 需补正, deadline not passed (screens/citizen/correction.py)
            box.add_widget(KioskButton(theme, self.p("correct"), self._correct, kind="primary",
                                        name="start_correction", height=theme.target * 1.6,
                                        font=theme.title * 0.9))
        elif view.correction_closed is not None:     # e.g. the deadline passed: say so
            box.add_widget(named(Text(theme, ui.pair(*view.correction_closed),
                                      colour=theme.palette.problem), "correction_closed"))
        if view.notice_to_print:      # the region's notice on paper (kiosk/region_notice.py)
            box.add_widget(self._notice_part())
        if view.pickup is not None:
            panel = named(Panel(theme, outline=theme.palette.ok), "pickup")
            fit_height(panel)
            panel.add_widget(Text(theme, self.p("pickup"), bold=True))
            panel.add_widget(Text(theme, ui.pair(*view.pickup), size=theme.title * 0.8))
            box.add_widget(panel)
        if not theme.landscape:
            box.add_widget(self._rating_part(view))  # above the steps: no scrolling to find it
            box.add_widget(self._steps(view))
            return self.scroll(box)
        # landscape: too little height for one column; the rating and steps beside the case
        row = BoxLayout(spacing=theme.gap * 3)
        steps = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        steps.add_widget(self._rating_part(view))
        steps.add_widget(self._steps(view))
        row.add_widget(self.scroll(box))
        row.add_widget(self.scroll(steps))
        return row

    def _notice_part(self) -> Widget:
        theme = self.ui.theme
        if not self.notice:
            return KioskButton(theme, self.p("print_notice"), self._print_notice,
                               name="print_notice", height=theme.target * 1.3)
        said = {"printing": "printing_notice", "printed": "notice_printed"}.get(
            self.notice, "notice_unprinted")
        colour = theme.palette.ok if self.notice == "printed" else (
            theme.palette.problem if self.notice == "unprinted" else theme.palette.muted)
        return named(Text(theme, self.p(said), colour=colour), "notice_state")

    def _steps(self, view: CaseView) -> Widget:
        ui, theme = self.ui, self.ui.theme
        panel = named(Panel(theme), "timeline")
        fit_height(panel)
        for step in reversed(view.steps):            # newest first: what matters now
            text = f"[b]{step.time:%m-%d %H:%M}[/b]　" + ui.pair(step.zh, step.en)
            if step.detail_zh:
                text += "\n" + ui.pair(step.detail_zh, step.detail_en)
            panel.add_widget(Text(theme, text))
        return panel

    def _rating_part(self, view: CaseView) -> Widget:
        theme = self.ui.theme
        if view.rating is not None:
            level = Rating(view.rating)
            words = self.p("thanks") if self.thanked else self.p(
                "rated", level=(level.value, RATING_EN[level]))
            return named(Text(theme, f"{FACES[level]}  {words}", colour=theme.palette.ok),
                         "rated")
        if view.can_rate:
            return KioskButton(theme, self.p("rate"), self._ask_rating, kind="primary",
                               name="rate_second")
        return Widget(size_hint_y=None, height=0)

    def _rate_body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        box.add_widget(Text(theme, self.p("rate_title"), bold=True))
        for rating in Rating:
            box.add_widget(KioskButton(theme, f"{FACES[rating]}  {ui.bi(rating.value)}",
                                        lambda r=rating: self._rate(r), kind="choice",
                                        name=f"rate_{rating.name.lower()}",
                                        height=theme.target * 1.3))
        box.add_widget(Widget())
        return box

    def _why_body(self) -> Widget:
        ui, theme = self.ui, self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 1.5)
        box.add_widget(Text(theme, self.p("why"), bold=True))
        for reason in RatingReason:
            chosen = reason in self.reasons
            box.add_widget(KioskButton(theme, ("✓ " if chosen else "") + ui.bi(REASONS[reason]),
                                        lambda r=reason: self._toggle(r), kind="choice",
                                        selected=chosen, name=f"reason_{reason.value}"))
        box.add_widget(Text(theme, self.p("contact"), bold=True))
        for answer, key in ((True, "yes"), (False, "no")):
            chosen = self.contact is answer
            box.add_widget(KioskButton(theme, ("✓ " if chosen else "") + self.p(key),
                                        lambda a=answer: self._answer_contact(a),
                                        kind="choice", selected=chosen, name=f"contact_{key}"))
        return self.scroll(box)

    def footer(self) -> list[Widget]:
        theme = self.ui.theme
        if self.state == "why":
            return [KioskButton(theme, self.p("skip"), self._why_done, name="skip",
                                size_hint_x=0.4),
                    KioskButton(theme, self.p("submit"), self._explain, kind="primary",
                                name="submit_rating")]
        buttons: list[Widget] = []
        if self.state in ("case", "rate") and (self.cases or self.state == "rate"):
            buttons.append(KioskButton(theme, self.p("back"), self._back, name="back",
                                       size_hint_x=0.4))
        if self.state == "failed":
            buttons.append(KioskButton(theme, self.p("back"), self._back, name="back",
                                       size_hint_x=0.4))
            again = self.scan if self.way == "qr" else self.read_card
            key = "retry_qr" if self.way == "qr" else "by_card"
            buttons.append(KioskButton(theme, self.p(key), again, kind="primary",
                                       name="again"))
        buttons.append(KioskButton(theme, self.p("home"), self.journey.cancel, name="home",
                                   kind="secondary"))
        return buttons

    # --- what is said --------------------------------------------------------------------
    def speech(self) -> Speech | None:
        if self.state == "case" and self.view is not None:
            return case_speech(self.view)
        if self.state == "failed":
            return Speech(*self.message) + (card_reminder() if self.card_read else Speech("", ""))
        if self.state == "why":           # every choice, as the first rating's screen says them
            heard = Speech(*TEXTS["why"])
            for reason in RatingReason:
                heard += self.ui.speech(REASONS[reason])
            return heard + Speech(*TEXTS["contact"])
        if self.state == "list" and self.card_read:
            return card_reminder() + Speech(*TEXTS["choose_case"])
        key = {"choose": "how", "scanning": "qr_hint", "reading": "card_hint",
               "list": "choose_case", "rate": "rate_title"}[self.state]
        return Speech(*TEXTS[key])

    # --- actions -------------------------------------------------------------------------
    def scan(self) -> None:
        self.way = "qr"
        self._ask("scanning", self.ui.service.progress.scan, self._found)

    def read_card(self) -> None:
        self.way = "card"
        self._ask("reading", self.ui.service.progress.cases_of_card, self._listed)

    def open_case(self, number: str) -> None:
        self._ask(self.state, lambda: self.ui.service.progress.view(number), self._found)

    def _ask(self, state: str, call: Any, done: Any) -> None:
        self.state, self.token = state, self.token + 1
        token = self.token
        self._show()
        self.ui.bridge.run(call, lambda result: self._answer(token, done, result),
                           lambda error: self._answer(token, self._failed, error))

    def _answer(self, token: int, then: Any, result: Any) -> None:
        if token == self.token and self.journey.session is not None:
            then(result)          # else: the citizen left (home, timeout) meanwhile

    def _found(self, view: CaseView) -> None:
        self.state, self.view, self.notice = "case", view, ""
        self._show(speak=True)

    def _listed(self, cases: list[CaseLine]) -> None:
        self.cases, self.card_read = cases, True
        if len(cases) == 1:
            self.open_case(cases[0].number)
            return
        self.state = "list"
        self._show(speak=True)

    def _failed(self, error: BaseException) -> None:
        self.state, self.message = "failed", error_text(error)
        self.card_read = self.way == "card" and getattr(error, "code", "") == "no_cases"
        self._show(speak=True)

    def _print_notice(self) -> None:
        view, token = self.view, self.token
        if view is None or self.notice:
            return
        self.notice = "printing"
        self._show()

        def done(printed: Any) -> None:
            if token == self.token and self.journey.session is not None:
                self.notice = "printed" if printed is True else "unprinted"
                self._show()
                self.ui.speak(Speech(*TEXTS[f"notice_{self.notice}"]))
        self.ui.bridge.run(lambda: self.ui.service.progress.print_notice(view), done, done)

    def _correct(self) -> None:
        if self.view is not None:
            self.nav.screen("correction").start(self.view.number)

    def _ask_rating(self) -> None:
        self.state = "rate"
        self._show(speak=True)

    def _rate(self, rating: Rating) -> None:
        view = self.view
        if view is None:
            return
        self.thanked = True
        then = self._ask_why if rating.is_bad else self._found
        self._ask("case", lambda: self.ui.service.progress.rate(view.number, rating), then)

    def _ask_why(self, view: CaseView) -> None:
        self.view, self.state = view, "why"
        self._show(speak=True)

    def _toggle(self, reason: RatingReason) -> None:
        if reason in self.reasons:
            self.reasons.remove(reason)
        else:
            self.reasons.append(reason)
        self._show()

    def _answer_contact(self, contact: bool) -> None:
        self.contact = contact
        self._show()

    def _explain(self) -> None:
        view = self.view
        if view is None:
            return
        reasons, contact = tuple(self.reasons), self.contact
        self._ask("case", lambda: self.ui.service.progress.explain(view.number, reasons,
                                                                    contact),
                  lambda _none: self._why_done())

    def _why_done(self) -> None:
        self.state = "case"
        self._show()

    def _back(self) -> None:
        self.state = {"rate": "case", "failed": "choose"}.get(self.state, "list")
        self._show()

    def _show(self, speak: bool = False) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.render()
            if speak:
                self.speak()


def named(widget: Any, name: str) -> Any:
    """``widget`` called ``name`` (the tests and the harness find widgets by name)."""
    widget.name = name
    return widget


def _side(values: dict[str, Any], index: int) -> dict[str, Any]:
    return {k: v[index] if isinstance(v, tuple) else v for k, v in values.items()}


def case_speech(view: CaseView) -> Speech:
    """Everything the case screen shows that matters, for someone who cannot read it."""
    zh, en = state_words(view.state)
    said = Speech(f"受理编号 {spell(view.number)}，{view.matter_name}",
                  f"Case {spell(view.number, 'en')}, {view.matter_name}")
    said += Speech(f"当前状态：{zh}", f"Now: {en}")
    if view.pickup is not None:
        said += Speech(*view.pickup)
    for step in reversed(view.steps):
        said += Speech(speakable(f"{step.time.month}月{step.time.day}日，{step.zh}"),
                       f"{step.time:%d %B}: {step.en}")
        if step.detail_zh:
            said += Speech(speakable(step.detail_zh), step.detail_en)
    return said
