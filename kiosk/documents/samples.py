"""A fictional receipt for previews, printer test pages, tests and benchmarks."""

from __future__ import annotations

from datetime import datetime

from kiosk.documents.model import Applicant, MaterialLine, Office, Receipt


def sample_receipt(materials: int = 6) -> Receipt:
    office = Office("广元市利州区政务服务中心", "0839-3266123", "自助终端", "510802-0001")
    applicant = Applicant("张明华", "13800138000", "北京市东城区示例胡同8号", "100010")
    lines = tuple(MaterialLine(f"材料{n}（示例）", 1, 2, "原件") for n in range(1, materials + 1))
    return Receipt("510802-0001-261121-0001-5", ("XT5108025001032026112100010001",),
                   datetime(2026, 11, 21, 15, 30), "企业职工基本养老保险关系转移接续",
                   "转入地申请", "跨省通办", ("重庆市渝中区社会保险事务中心",), 2,
                   applicant, office, lines, None, 15, "不收费", "12333", "12345", "邮寄",
                   "北京市东城区示例胡同8号")
