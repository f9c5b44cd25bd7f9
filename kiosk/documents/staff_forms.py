"""The forms staff print from the 台账, per case, after seed 003: appendix D 审批流程登记卡
(table D.1) and appendix B 申请材料转办单 (table B.1), in the seed tables' rows and order.

Both are made from what the kiosk keeps about a case: its ledger row (name and phone masked),
the matter from the catalogue, and the outbox's deliveries. The full applicant data and the
materials list went, sealed, to the handling region, and the kiosk cannot read them back:
the forms say so where the seed form has those fields, rather than leave them looking
forgotten. The card's 办理 and 送达 stages are the handling region's to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.documents.blocks import Block, Cell, Codes, Grid, Meta, Paragraph, Title
from kiosk.documents.forms import COMMITMENT, region_department

SPECIAL_STAGES = ("勘验", "评审", "整改")      # seed 003 D.1: not counted in the time limit
SLIP_ROWS = 8                                 # the seed form's numbered material rows
NOT_KEPT = "本终端不留存（随件加密送达办理地）"


@dataclass(frozen=True)
class Stage:
    name: str                  # 收件 / 流转 / 办理 / 送达
    received: datetime | None = None
    finished: datetime | None = None
    opinion: str = ""
    responsible: str = ""


@dataclass(frozen=True)
class RegistrationCard:
    """审批流程登记卡 (seed 003 appendix D)."""

    matter_name: str
    applicant_masked: str
    phone_masked: str
    case_number: str
    promised: str              # 承诺时限: "15 个工作日"
    received_at: datetime
    stages: tuple[Stage, ...]  # 收件, 流转, 办理, 送达
    printed_at: datetime
    kiosk_id: str


@dataclass(frozen=True)
class SlipCopy:
    """申请材料转办单 (seed 003 appendix B), one per receiving region, as the kiosk's
    台账 keeps it."""

    transfer_number: str
    case_number: str
    matter_name: str
    region: str                # "150102 呼和浩特市新城区"
    handling_department: str
    count: int                 # 申请件数 (the ledger's 数量)
    applicant_masked: str
    phone_masked: str
    confirmed_at: datetime
    department: str            # 接件单位
    kiosk_id: str
    sent_at: datetime | None   # delivered to the region, when the outbox says so
    printed_at: datetime


def _t(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""


def registration_card_blocks(c: RegistrationCard) -> list[Block]:
    def label(text: str, span: int = 1) -> Cell:
        return Cell(text, span=span, label=True)

    rows: list[tuple[Cell, ...]] = [
        (label("申请事项"), Cell(c.matter_name, span=5)),
        (label("申请人姓名"), Cell(c.applicant_masked, span=5)),
        (label("联系人"), Cell(c.applicant_masked, span=3), label("联系电话"),
         Cell(c.phone_masked or "—")),
        (label("受理编号"), Cell(c.case_number, span=3), label("承诺时限"), Cell(c.promised)),
        (label("受理时间"), Cell(_t(c.received_at), span=5)),
        (label("办理环节", 2), label("接件时间"), label("办结时间"), label("办理意见"),
         label("责任人")),
    ]
    for n, stage in enumerate(c.stages, start=1):
        rows.append((Cell(str(n)), Cell(stage.name), Cell(_t(stage.received)),
                     Cell(_t(stage.finished)), Cell(stage.opinion), Cell(stage.responsible)))
    rows.append((label("特殊环节", 6),))
    rows += [(Cell(str(n)), Cell(name), Cell(""), Cell(""), Cell(""), Cell(""))
             for n, name in enumerate(SPECIAL_STAGES, start=1)]
    return [
        Title("审批流程登记卡"),
        Meta(f"受理编号：{c.case_number}", f"打印时间：{_t(c.printed_at)}"),
        Grid((2.0, 1.4, 2.8, 2.8, 3.6, 2.6), tuple(rows)),
        Paragraph("注：特殊环节（勘验、评审、整改）所需时间不计入承诺时限。本卡由自助终端"
                  f"（{c.kiosk_id}）据台账生成，申请人姓名、电话已脱敏；办理、送达环节由属地"
                  "办理部门填写，与申请材料一起归档。", size=9),
    ]


def slip_copy_blocks(s: SlipCopy) -> list[Block]:
    rows: list[tuple[Cell, ...]] = [
        (Cell("序号", label=True), Cell("材料名称", label=True), Cell("数量", label=True),
         Cell("页数", label=True), Cell("备注", label=True)),
        (Cell("1"), Cell("申请材料（明细见随件电子转办单）"), Cell(str(s.count)), Cell("—"),
         Cell("电子件已加密转送")),
    ]
    rows += [(Cell(str(n)), Cell(""), Cell(""), Cell(""), Cell(""))
             for n in range(2, SLIP_ROWS + 1)]
    commitment = COMMITMENT.format(dept=s.handling_department, matter=s.matter_name)
    signed = (f"申请人（签名或盖章）：{s.applicant_masked}（已于{_t(s.confirmed_at)}在自助终端"
              "通过身份证件核验并确认本承诺）")
    rows += [
        (Cell("申请人承诺", label=True), Cell(f"{commitment}\n{signed}", span=4)),
        (Cell("联系电话", label=True), Cell(s.phone_masked or "—", span=4)),
        (Cell("收件地址", label=True), Cell(NOT_KEPT, span=4)),
        (Cell("接件单位", label=True),
         Cell(f"{s.department}（{s.kiosk_id}）\n{s.confirmed_at.year}年{s.confirmed_at.month}月"
              f"{s.confirmed_at.day}日", span=4)),
    ]
    sent = _t(s.sent_at) or "尚未送达"
    return [
        Title("申请材料转办单", subtitle="台账补打件"),
        Meta(f"业务协同编号：{s.transfer_number}", f"受理编号：{s.case_number}"),
        Meta(f"接收地：{_receiver(s.region, s.handling_department)}", f"送达时间：{sent}"),
        Grid((1.4, 5.6, 1.2, 1.2, 3.0), tuple(rows)),
        Codes(qr=s.transfer_number, code128=s.transfer_number,
              caption=f"业务协同编号 {s.transfer_number}"),
        Paragraph(f"注：据台账补打（{_t(s.printed_at)}），申请人姓名、电话已脱敏；原转办单随"
                  "申请材料加密送达办理地。", size=9),
    ]


def _receiver(region: str, department: str) -> str:
    code, _, name = region.partition(" ")
    return f"{code} {region_department(name, department)}" if name else department
