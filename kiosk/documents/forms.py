"""The forms themselves: models → blocks, after the seed forms (003 appendices A–C,
004 attachments 1–3). Wording in quotes is the forms' own."""

from __future__ import annotations

from datetime import date, datetime

from kiosk.documents.blocks import Block, Cell, Codes, Grid, Meta, Paragraph, Spacer, Title
from kiosk.documents.model import (
    CorrectionNotice,
    LedgerRow,
    MaterialLine,
    Office,
    Receipt,
    ReferralSlip,
    RequiredMaterial,
    TransferSlip,
)

STATUTORY = ("属地办理部门收到申请材料后，在5个工作日内作出是否受理的决定；需要补正的，一次性告知"
             "需要补正的全部内容，逾期不告知的，自收到申请材料之日起即为受理。")
COMMITMENT = ("郑重承诺：我（单位）向{dept}申请办理（事项名称：{matter}），提交的以上材料真实合法"
              "有效，并对申请材料实质内容的真实性负责。如有虚假，愿意承担相应的法律责任。")
CHINESE_NUMERALS = "一二三四五六七八九十"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
# The seed forms say 一式三份 (applicant, receiving and handling departments). An unattended
# kiosk prints the applicant's copy only (nobody would take the other two from the tray); the
# same form goes electronically with the materials to the handling region, and the hall keeps
# its ledger row. Say that, rather than promise three copies the citizen never sees.
RECEIPT_COPIES = ("注：本通知书由自助终端出具：纸质件交申请人收执；电子件随申请材料转送属地办理"
                  "部门；受理（代收）部门登记台账存档。")
NOTICE_COPIES = ("注：本通知书由自助终端出具，纸质件交申请人收执，受理部门登记台账存档。"
                 "补全材料后，可到任一“跨域通办”窗口或自助终端重新申请。")
RELAYED_COPY = ("注：本通知由办理地出具，经本大厅自助终端转达申请人（打印件）；"
                "内容以办理地出具的通知书为准。")
# The receipt's group-label column: 受理(代收)信息 on one line at 11 pt on A4 (both of the
# receipt's grids share it, so the tables join)
LABEL_COLUMN = 2.6


def _d(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _t(moment: datetime) -> str:
    return f"{_d(moment)} {moment:%H:%M}"


def _days(n: int | None) -> str:
    if n is None:
        return "无法定时限"
    return "即办（当场办结）" if n == 0 else f"{n} 个工作日"


def _within(days: int) -> str:
    return "当日" if days == 0 else f"在 {days} 日内"


def region_department(region: str, department: str) -> str:
    """"呼和浩特市 呼和浩特市医疗保障局" says the city twice: the department alone then."""
    return department if department.startswith(region) else f"{region} {department}"


def _box(checked: bool) -> str:
    return "■" if checked else "□"


def _group(label: str, rows: list[tuple[Cell, ...]]) -> list[tuple[Cell, ...]]:
    """Prefix rows with a group label that spans them all (like 申请信息 on the form)."""
    return [(Cell(label if i == 0 else "", label=True, continued=i > 0, group=True), *row)
            for i, row in enumerate(rows)]


def receipt_blocks(r: Receipt) -> list[Block]:
    handling = "、".join(r.handling)
    a = r.applicant
    pickup = r.delivery == "窗口自取"
    info = [
        (Cell("申请事项", label=True), Cell(f"{r.matter_name}（{r.situation_name}）", span=4)),
        *_group("申请信息", [
            (Cell("姓名", label=True), Cell(a.name), Cell("电话", label=True), Cell(a.phone)),
            (Cell("通讯地址", label=True), Cell(a.address or "—"),
             Cell("邮政编码", label=True), Cell(a.postcode or "—")),
        ]),
        *_group("受理(代收)信息", [
            (Cell("受理(代收)部门", label=True), Cell(r.office.department),
             Cell("申请件数", label=True), Cell(f"{r.total_copies} 件")),
            (Cell("受理日期", label=True), Cell(_t(r.received_at)),
             Cell("受理人", label=True), Cell(r.office.staff)),
            (Cell("咨询方式", label=True),
             Cell(f"{r.office.phone}；事项咨询 {r.consultation_phone}", span=3)),
            (Cell("法定时限", label=True), Cell(_days(r.legal_days)),
             Cell("承诺办理总时限", label=True), Cell(_days(r.promised_days))),
            (Cell("收费情况", label=True), Cell(r.fees),
             Cell("投诉电话", label=True), Cell(r.complaint_phone)),
        ]),
        *_group("通办信息", [
            (Cell("通办类型", label=True), Cell(r.scope_label),
             Cell("受理终端", label=True), Cell(r.office.kiosk_id)),
            (Cell("办理地", label=True), Cell(handling, span=3)),
            (Cell("业务协同编号", label=True), Cell("、".join(r.transfer_numbers), span=3)),
        ]),
    ]
    columns = (LABEL_COLUMN, 2.6, 4.3, 2.7, 3.0)   # labels and values on one line each
    materials = _group("接收材料", _material_rows(r.materials, with_form=True))
    tail = [
        *_group("取件信息", [
            (Cell("取件方式", label=True),
             Cell(f"{_box(pickup)} 收件处自取   {_box(r.delivery == '邮寄')} 邮寄   "
                  f"{_box(r.delivery == '电子送达')} 电子送达", span=3)),
            _delivery_row(r),
        ]),
        (Cell("备注", label=True), Cell(_receipt_note(r), span=4)),
        (Cell("申请人签字", label=True), Cell("已通过身份证件核验，在自助终端确认提交", span=2),
         Cell("签字日期", label=True), Cell(_d(r.received_at.date()))),
    ]
    intro = (f"{a.name}：你申请办理的{r.matter_name}，属于{handling}的权限，"
             f"我单位负责将你的申请材料{_within(r.forward_within_days)}转报到{handling}。")
    return [
        Title("“跨域通办”受理(代收)通知书", subtitle="申请材料接收通知书"),
        Meta(f"编号：{r.case_number}", f"申请日期：{_d(r.received_at.date())}"),
        Paragraph(intro, indent=True),
        Spacer(1),
        Grid(columns, tuple(info), gap_after=0),
        Grid((LABEL_COLUMN, 1.2, 6.7, 1.2, 1.2, 2.3), tuple(materials), gap_after=0),
        Grid(columns, tuple(tail)),
        Codes(qr=r.tracking_url or r.case_number, code128=r.case_number.replace("-", ""),
              caption=f"受理编号 {r.case_number}"),
        Paragraph(RECEIPT_COPIES, size=9),
    ]


def _delivery_row(r: Receipt) -> tuple[Cell, ...]:
    if r.delivery == "窗口自取":
        return (Cell("取件地点", label=True), Cell(r.delivery_address or "—", span=3))
    if r.delivery == "邮寄":
        return (Cell("邮寄地址", label=True), Cell(r.delivery_address or "—", span=3))
    return (Cell("送达说明", label=True),
            Cell(f"办理结果以电子证照或电子文书送达，并短信通知 {r.applicant.phone}", span=3))


def _material_rows(lines: tuple[MaterialLine, ...], *, with_form: bool) -> list[tuple[Cell, ...]]:
    head = (Cell("序号", label=True), Cell("材料名称", label=True), Cell("份数", label=True),
            Cell("页数", label=True),
            Cell("原件或复印件" if with_form else "备注", label=True))
    rows: list[tuple[Cell, ...]] = [head]
    for n, m in enumerate(lines, start=1):
        last = m.original_or_copy if with_form else (m.note or m.original_or_copy)
        if with_form and m.note:
            last = f"{last}；{m.note}"
        rows.append((Cell(str(n)), Cell(m.name), Cell(str(m.copies), short=f"{m.copies}份"),
                     Cell(str(m.pages) if m.pages else "—",
                          short=f"共{m.pages}页" if m.pages else ""), Cell(last)))
    return rows


def _receipt_note(r: Receipt) -> str:
    note = STATUTORY
    if r.deferred:
        note += f"容缺受理：申请人已承诺补交{'、'.join(r.deferred)}。"
    note += "".join(r.remarks)
    return note + "凭本通知书编号可在任一“跨域通办”窗口或自助终端查询办理进度。"


def notice_blocks(n: CorrectionNotice) -> list[Block]:
    what = f"{'、'.join(n.submitted)}等材料" if n.submitted else "申请"
    again = "请在期限内补正" if n.case_number else "请补全后再次申请"     # relayed: same case
    body = (f"本部门于{_d(n.received_on)}收到你申请{n.matter_name}业务的{what}，经审查，"
            f"你提供的申请材料不全（或不符合法定形式），{again}。")
    blocks: list[Block] = [
        Title("“跨域通办”补正通知书", subtitle="一次性告知"),
        Meta(f"编号：{n.number}"),
        Paragraph(f"{n.applicant_name}（申请人）："),
        Paragraph(body, indent=True),
        Paragraph("需补全材料为：", indent=True),
    ]
    for i, item in enumerate(n.items):
        blocks.append(Paragraph(f"{_numeral(i + 1)}、{item}", indent=True))
    if n.deadline:
        blocks.append(Paragraph(f"请于{n.deadline}前补正。", indent=True))
    if n.case_number:       # the region's notice, relayed: the 补正 goes into the same case
        blocks.append(Paragraph(f"受理编号：{n.case_number}。补全后可凭受理回执或身份证到本大厅"
                                "自助终端“进度查询”提交补正材料，或到人工窗口提交。", indent=True))
    blocks += [
        Paragraph("特此通知。", indent=True),
        Spacer(6),
        Paragraph(f"部门名称：{n.office.department}", align="right"),
        Paragraph(f"转达单位：{n.office.staff}（{n.office.kiosk_id}）" if n.case_number
                  else f"经 办 人：{n.office.staff}（{n.office.kiosk_id}）", align="right"),
        Paragraph(f"联系电话：{n.office.phone}", align="right"),
        Paragraph(_d(n.issued_on), align="right"),
        Spacer(6),
        Paragraph(RELAYED_COPY if n.case_number else NOTICE_COPIES, size=9),
    ]
    return blocks


def _numeral(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens - 1]
    return f"{head}十{CHINESE_NUMERALS[ones - 1] if ones else ''}"


def slip_blocks(s: TransferSlip) -> list[Block]:
    rows: list[tuple[Cell, ...]] = [
            (Cell("序号", label=True), Cell("材料名称", label=True), Cell("数量", label=True),
             Cell("页数", label=True), Cell("备注", label=True))]
    for n, m in enumerate(s.materials, start=1):
        rows.append((Cell(str(n)), Cell(m.name), Cell(str(m.copies)),
                     Cell(str(m.pages) if m.pages else "—"),
                     Cell("；".join(x for x in (m.original_or_copy, m.note) if x))))
    a = s.applicant
    commitment = COMMITMENT.format(dept=s.handling_department, matter=s.matter_name)
    signed = (f"申请人（签名或盖章）：{a.name}（已于{_t(s.confirmed_at)}在自助终端通过身份证件核验"
              "并确认本承诺）")
    if s.agent:      # 代办: the agent confirmed, under the applicant's 委托书
        signed = (f"申请人：{a.name}；代办人：{s.agent}（受申请人委托，已于{_t(s.confirmed_at)}"
                  "在自助终端通过身份证件核验并代为确认本承诺，授权委托书随件转送）")
    rows += [
        (Cell("申请人承诺", label=True), Cell(f"{commitment}\n{signed}", span=4)),
        (Cell("联系电话", label=True), Cell(a.phone, span=4)),
        (Cell("收件地址", label=True), Cell(a.address or "—", span=4)),
        (Cell("接件单位", label=True),
         Cell(f"{s.office.department}（{s.sender_org_code}）\n{_d(s.sent_at.date())}", span=4)),
    ]
    return [
        Title("申请材料转办单"),
        Meta(f"业务协同编号：{s.transfer_number}", f"受理编号：{s.case_number}"),
        Meta(f"接收地：{_receiver(s.receiver_region, s.handling_department)}",
             f"发送时间：{_t(s.sent_at)}"),
        Grid((1.4, 5.6, 1.2, 1.2, 3.0), tuple(rows)),
    ]


def _receiver(region: str, department: str) -> str:
    code, _, name = region.partition(" ")     # "150102 呼和浩特市新城区"
    return f"{code} {region_department(name, department)}" if name else region_department(
        code, department)


def referral_slip_blocks(g: ReferralSlip) -> list[Block]:
    intro, rows = _come_back(g) if g.at_this_kiosk else _go_elsewhere(g)
    blocks: list[Block] = [
        Title("办事指引", subtitle="一次性告知"),
        Paragraph(intro, indent=True),
        Grid((3, 7), tuple((Cell(label, label=True), Cell(value)) for label, value in rows)),
    ]
    if g.situations:               # a blank line: the list is the part to read twice
        blocks += [Spacer(2), Paragraph("需要准备的材料", bold=True)]
    for n, situation in enumerate(g.situations, start=1):
        if len(g.situations) > 1:     # each situation has its own list: say which is which
            blocks.append(Paragraph(f"【情形{_numeral(n)}】{situation.name}", bold=True))
        blocks.append(Grid((1.2, 5.4, 1.0, 1.2, 2.2, 3.0),
                           tuple(_required_rows(situation.materials))))
    return [
        *blocks,
        Spacer(2),
        Paragraph(f"{g.office.department}（{g.office.kiosk_id}） 咨询电话：{g.office.phone}",
                  size=9),
        Paragraph(_d(g.issued_on), align="right", size=9),
    ]


def _go_elsewhere(g: ReferralSlip) -> tuple[str, list[tuple[str, str]]]:
    bring = "，并准备好下列材料" if g.situations else ""
    return (f"您选择的“{g.matter_name}”不能在本自助终端办理，请按以下指引前往办理{bring}。", [
        ("办理事项", g.matter_name), ("不能自助办理的原因", g.reason or "需现场核验或采集"),
        ("请前往", g.where), ("办公时间", g.hours or "以办理地公布为准"),
        ("联系电话", g.phone or g.consultation_phone), ("事项咨询", g.consultation_phone)])


def _come_back(g: ReferralSlip) -> tuple[str, list[tuple[str, str]]]:
    """A matter this kiosk takes, read while it was closed: when and where to come back."""
    bring = "和下列材料" if g.situations else ""
    rows = [("办理事项", g.matter_name), ("办理地点", f"本自助终端（{g.where}）"),
            ("本机服务时间", g.hours)]
    if g.reopens:
        rows.append(("下次开始服务", g.reopens))
    rows.append(("事项咨询", g.consultation_phone))
    return (f"您选择的“{g.matter_name}”可在本自助终端办理。请在本机服务时间内携带身份证件"
            f"{bring}前来办理。", rows)


def _required_rows(materials: tuple[RequiredMaterial, ...]) -> list[tuple[Cell, ...]]:
    rows: list[tuple[Cell, ...]] = [tuple(Cell(t, label=True) for t in (
        "序号", "材料名称", "份数", "页数", "原件或复印件", "备注"))]
    for n, m in enumerate(materials, start=1):
        if m.either_of:
            rows.append((Cell(str(n)), Cell(f"{m.name}（以下任选其一）"), Cell("", short=""),
                         Cell("", short=""), Cell(""), Cell(_remark(m))))
            rows += [_required_row("", f"{CIRCLED[i % len(CIRCLED)]}{o.name}", o)
                     for i, o in enumerate(m.either_of)]
        else:
            rows.append(_required_row(str(n), m.name, m))
    return rows


def _required_row(number: str, name: str, m: RequiredMaterial) -> tuple[Cell, ...]:
    copies = (str(m.copies), f"{m.copies}份") if m.copies else ("—", "")
    return (Cell(number), Cell(name), Cell(copies[0], short=copies[1]),
            Cell(m.pages or "—", short=f"{m.pages}页" if m.pages else ""),
            Cell(m.original_or_copy), Cell(_remark(m)))


def _remark(m: RequiredMaterial) -> str:
    """The necessity when it is not simply 必要 (options inherit their group's), and notes."""
    necessity = "" if m.necessity == "必要" or not m.necessity else m.necessity
    return "；".join(x for x in (necessity, m.note) if x)


def reprint_blocks(row: LedgerRow, office: Office, printed_at: datetime) -> list[Block]:
    """补打回执: the kiosk stopped between committing a case and printing its receipt. Only
    what the ledger keeps (masked name, no ID number) can be printed again: the full receipt
    existed in memory only, and the package is sealed to the handling region."""
    rows = [
        (Cell("受理编号", label=True), Cell(row.case_number)),
        (Cell("办理事项", label=True), Cell(row.matter_name)),
        (Cell("申请人", label=True), Cell(row.applicant_masked)),
        (Cell("申请件数", label=True), Cell(f"{row.count} 件")),
        (Cell("受理时间", label=True), Cell(_t(row.time))),
        (Cell("办理地", label=True), Cell(row.regions)),
        (Cell("转办编号", label=True), Cell(row.transfer_numbers.replace(",", "、") or "—")),
    ]
    return [
        Title("受理(代收)回执", subtitle="补打"),
        Paragraph("本机在打印回执前中断。您的申请材料已完整保存并将按时送达办理地；"
                  "请凭本回执的受理编号查询办理进度。", indent=True),
        Grid((3, 7), tuple(rows)),
        Codes(qr=row.case_number, code128=row.case_number.replace("-", "")),
        Paragraph(f"{office.department}（{office.kiosk_id}） 咨询电话：{office.phone}", size=9),
        Paragraph(f"补打时间：{_t(printed_at)}", align="right", size=9),
    ]
