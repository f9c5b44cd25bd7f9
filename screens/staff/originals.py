"""原件核验: the checklist of the case's materials whose original the catalogue asks for, each
with its scanned pages as thumbnails and one large toggle — 原件已核验 when the original in the
guide's hand matches the scan. A material not scanned yet cannot be checked (it says so).
Each tap is one staff function (``case.verify_original``, one audit entry); the receipt then
prints 原件已核验，与扫描件一致 for it and the manifest records who checked it and when."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.catalogue.model import AlternativeGroup, SingleRequirement
from kiosk.interaction.i18n import fill
from kiosk.session import Session
from kiosk.staff import casework
from kiosk.staff.roles import Action
from screens.citizen.page_viewer import PageImages
from screens.staff.casebase import CaseScreen
from screens.staff.frame import named
from screens.widgets import Panel, Picture, Text, fit_height

THUMBS_SHOWN = 2          # pages beside a material: enough to compare; the rest are counted


class OriginalsScreen(CaseScreen):
    screen_name = "staff_originals"
    title = ("原件核验", "Check the originals")
    action = Action.VERIFY_ORIGINAL

    def wipe_state(self) -> None:
        self._images: PageImages | None = None

    def case_body(self, session: Session) -> Widget:
        theme = self.ui.theme
        self._images = PageImages(session.page_image)
        box = BoxLayout(orientation="vertical", spacing=theme.gap, size_hint_y=None)
        fit_height(box)
        box.add_widget(self.text("请逐项对照原件与扫描件，一致的请点“原件已核验”。",
                                 "Compare each original with its scan; tap “original checked” "
                                 "when they match.", colour=theme.palette.muted))
        for req in casework.needs_original(session):
            box.add_widget(self._row(session, req))
        return self.scroll(box)

    def _row(self, session: Session, req: SingleRequirement | AlternativeGroup) -> Widget:
        theme = self.ui.theme
        pages = [p for m in req.options for p in session.pages.get(m.id, [])]
        checked = session.assist is not None and session.assist.original(req.id) is not None
        row = Panel(theme, orientation="horizontal", size_hint_y=None,
                    height=theme.target * 2.6, spacing=theme.gap, padding=theme.gap)
        row.name = f"original_row_{req.id}"
        thumbs = BoxLayout(size_hint_x=0.3, spacing=theme.mm(1))
        for page in pages[:THUMBS_SHOWN]:
            picture = Picture()
            assert self._images is not None
            picture.show(self._images.thumbnail(page))
            thumbs.add_widget(picture)
        if not pages:
            thumbs.add_widget(Text(theme, self.pair("未扫描", "not scanned"),
                                   colour=theme.palette.problem, halign="center"))
        row.add_widget(thumbs)
        words = BoxLayout(orientation="vertical", size_hint_x=0.37, pos_hint={"center_y": 0.5})
        fit_height(words)       # the row grows with the names (two languages, long names)
        words.bind(minimum_height=lambda *_: setattr(
            row, "height", max(theme.target * 2.6, words.minimum_height + theme.gap * 2)))
        words.add_widget(Text(theme, self.pair(req.label, req.label_en), bold=True))
        more = len(pages) - THUMBS_SHOWN
        count = self.pair(f"共 {len(pages)} 页" + (f"（另 {more} 页未显示）" if more > 0 else ""),
                          fill("{n} {n:page|pages}", n=len(pages)))
        words.add_widget(Text(theme, count, size=theme.small, colour=theme.palette.muted))
        row.add_widget(words)
        row.add_widget(self._toggle(req.id, checked, bool(pages)))
        return row

    def _toggle(self, requirement_id: str, checked: bool, scanned: bool) -> Widget:
        theme = self.ui.theme
        zh, en = (("✓ 原件已核验", "✓ Original checked") if checked else
                  ("核验原件", "Check original") if scanned else ("请先扫描", "Scan first"))
        button = self.button(zh, en, lambda: self.toggle(requirement_id, not checked),
                             f"original_{requirement_id}", kind="choice", selected=checked,
                             enabled=scanned, size_hint_x=0.33, height=theme.target * 1.6)
        return named(button, f"original_{requirement_id}")

    def toggle(self, requirement_id: str, verified: bool) -> None:
        session = self.case
        if session is None:
            return
        if self.act(lambda: casework.verify_original(self.session, session, requirement_id,
                                                     verified=verified)):
            self.render()
