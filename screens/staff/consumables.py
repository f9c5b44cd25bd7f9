"""耗材: the printer's state in words, then large choices — 已补充纸卷 (confirmed against the
paper sensor: a printer that still reports no paper refuses it and says why), 已清除卡纸,
and 更换 of a part (paper roll, ribbon, A4 paper, toner). Each is recorded with who and when
(kiosk/staff/consumables.py) and is one audit entry; the newest records are listed."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.staff.consumables import ITEM_TEXT, Item, Record
from kiosk.staff.roles import Action
from screens.staff.checks_common import OK_MARK, attempt, desk
from screens.staff.frame import StaffScreen, named
from screens.widgets import Text, fit_height


class ConsumablesScreen(StaffScreen):
    screen_name = "staff_consumables"
    title = ("耗材管理", "Consumables")
    action = Action.CONSUMABLES

    def wipe_state(self) -> None:
        self.message = ("", "")

    def refill(self) -> None:
        self._did(attempt(self, lambda: desk(self).refill(self.session)))

    def clear_jam(self) -> None:
        self._did(attempt(self, lambda: desk(self).clear_jam(self.session)))

    def replaced(self, item: Item) -> None:
        self._did(attempt(self, lambda: desk(self).replaced(self.session, item)))

    def _did(self, record: Record | None) -> None:
        if record is not None:
            self.message = (f"{OK_MARK} 已记录：{record.zh}", f"{OK_MARK} recorded: {record.en}")
        self.render()

    def staff_body(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 2)
        box.add_widget(named(self.text(*desk(self).paper_text(), size=theme.body * 1.1),
                             "printer_state"))
        if self.message[0]:
            box.add_widget(named(self.text(*self.message, colour=theme.palette.ok),
                                 "consumables_message"))
        tall, font = theme.target * 1.6, theme.title * 0.8
        box.add_widget(self.button("已补充纸卷", "Paper refilled", self.refill, "refill",
                                   kind="primary", height=tall, font=font))
        box.add_widget(self.button("已清除卡纸", "Jam cleared", self.clear_jam, "clear_jam",
                                   height=tall, font=font))
        box.add_widget(Text(theme, self.pair("更换耗材", "Part replaced"), bold=True))
        grid = GridLayout(cols=2, spacing=theme.gap * 2, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for item in Item:
            grid.add_widget(self.button(*ITEM_TEXT[item], lambda i=item: self.replaced(i),
                                        f"replace_{item.value}", height=theme.target * 1.3))
        box.add_widget(grid)
        box.add_widget(self._recent())
        box.add_widget(Widget())
        return box

    def _recent(self) -> Widget:
        theme = self.ui.theme
        box = BoxLayout(orientation="vertical", spacing=theme.gap * 0.5)
        fit_height(box)
        box.add_widget(Text(theme, self.pair("最近记录", "Recent records"), bold=True))
        records = desk(self).consumables.recent(5)
        for n, record in enumerate(records):
            line = self.pair(f"{record.zh} · {record.staff_id}", record.en)
            box.add_widget(named(Text(theme, line, size=theme.small), f"consumable_{n}"))
        if not records:
            box.add_widget(Text(theme, self.pair("还没有记录", "No records yet"),
                                size=theme.small, colour=theme.palette.muted))
        return box
