"""The 补正 follow-up package and its receipt: pure functions of the correction session, the
kiosk's identity and the time (the sealing and printing are the service's, kiosk/service.py).

The package is the same case (case number, the asking regions' transfer numbers) at the next
version: the manifest's optional ``version``, ``correction_of`` (the original package id),
``notice_number`` and ``correction_items`` say so (docs/case-status.md, 补正).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, cast

from kiosk.application import StoredPage
from kiosk.correction import CorrectionSession
from kiosk.documents.blocks import Block, Cell, Codes, Grid, Paragraph, Spacer, Title
from kiosk.documents.model import LedgerRow, Office
from kiosk.documents.render import images_to_pdf
from kiosk.manifest import (
    DeliveryRef,
    Header,
    ManifestApplicant,
    MatterRef,
    Receiver,
    Sender,
    SituationRef,
)
from kiosk.package import MaterialFile
from kiosk.privacy import mask_name
from kiosk.settings import KioskIdentity

CATEGORY = "补正材料"
Delivery = Literal["窗口自取", "邮寄", "电子送达"]


def correction_header(s: CorrectionSession, kiosk: KioskIdentity, receivers: list[Receiver],
                      original_package_id: str) -> Header:
    case, ident = s.case, s.identity
    assert ident is not None          # start_correction's identify step set it
    matter = case.matter
    situation = matter.situation(s.situation or None)
    follow_up: dict[str, object] = {"version": case.version, "correction_items":
                                    [i.text for i in case.items]}
    if original_package_id:
        follow_up["correction_of"] = original_package_id
    if case.notice_number:
        follow_up["notice_number"] = case.notice_number
    return Header(
        case_number=case.case_number, kiosk_id=kiosk.id,
        sender=Sender(org_code=kiosk.org_code, department=kiosk.department,
                      region_code=kiosk.region_code),
        receivers=receivers,
        matter=MatterRef(code=matter.code, name=matter.name, mode=matter.mode.value,
                         scope=matter.scope.label, case_type=matter.case_type.value,
                         situation=SituationRef(code=situation.code, name=situation.name)),
        applicant=ManifestApplicant(
            card_type=ident.card_type.value, name=ident.name, name_en=ident.name_en,
            id_number=ident.id_number, document_number=ident.document_number,
            nationality=ident.nationality, phone="", verified_by="id_card_read"),
        # the address stays the original's; the method is the one the case was sent with
        delivery=DeliveryRef(method=cast(Delivery, s.delivery)),
        **follow_up)  # type: ignore[arg-type]


def material_files(s: CorrectionSession,
                   image: Callable[[StoredPage], bytes]) -> list[MaterialFile]:
    """One PDF per requested item, in the notice's order."""
    files = []
    for n, item in enumerate(s.case.items, start=1):
        pages = s.pages.get(item.item_id, [])
        pdf = images_to_pdf([(image(p), p.width, p.height, p.dpi) for p in pages],
                            title=item.name)
        files.append(MaterialFile(n, item.item_id, item.item_id, item.name,
                                  item.original_or_copy, len(pages), pdf, False, False,
                                  CATEGORY))
    return files


def receipt_blocks(s: CorrectionSession, office: Office, at: datetime) -> list[Block]:
    """The 补正 receipt: 补正材料已提交, the case, its version, each item received."""
    case = s.case
    name = mask_name(s.identity.name) if s.identity else ""
    rows = [("办件编号", case.case_number), ("事项名称", case.matter.name),
            ("申请人", name), ("材料版本", f"第{case.version}版（补正）"),
            ("提交时间", at.strftime("%Y年%m月%d日 %H:%M"))]
    if case.notice_number:
        rows.append(("补正通知书编号", case.notice_number))
    items = tuple((Cell(str(n)), Cell(i.text), Cell(f"{len(s.pages.get(i.item_id, []))}页"))
                  for n, i in enumerate(case.items, start=1))
    return [
        Title("补正材料接收凭证", subtitle="补正材料已提交"),
        Paragraph("您的补正材料已提交，将随原办件转送办理地，请留意办理进度。", indent=True),
        Grid((3, 7), tuple((Cell(k, label=True), Cell(v)) for k, v in rows)),
        Paragraph("已接收的补正材料", bold=True),
        Grid((1, 7, 2), ((Cell("序号", label=True), Cell("补正事项", label=True),
                          Cell("页数", label=True)), *items)),
        Spacer(2),
        Paragraph(f"{office.department}（{office.kiosk_id}） 咨询电话：{office.phone}", size=9),
    ]


def reprint_blocks(row: LedgerRow, office: Office, printed_at: datetime) -> list[Block]:
    """补打 of a 补正 receipt (kiosk/recovery.py): the kiosk stopped between committing the
    follow-up package and printing its receipt. Only what the ledger keeps can be printed
    again (the items and page counts were in memory only; the package is sealed)."""
    rows = (("办件编号", row.case_number), ("事项名称", row.matter_name),
            ("申请人", row.applicant_masked), ("办理地", row.regions))
    return [
        Title("补正材料接收凭证", subtitle="补打"),
        Paragraph("本机在打印凭证前中断。您的补正材料已完整保存，将随原办件转送办理地；"
                  "请凭办件编号查询办理进度。", indent=True),
        Grid((3, 7), tuple((Cell(k, label=True), Cell(v)) for k, v in rows)),
        Codes(qr=row.case_number, code128=row.case_number.replace("-", "")),
        Paragraph(f"{office.department}（{office.kiosk_id}） 咨询电话：{office.phone}", size=9),
        Paragraph(f"补打时间：{printed_at:%Y年%m月%d日 %H:%M}", align="right", size=9),
    ]
