"""The 日检 self-test: one check per device and per condition the hall must look at, each a
:class:`kiosk.ops.verdicts.Check` (ok / warn / fail, Chinese and English), built from what
exists — the devices' own status, a capture of the printed target, a test strip, the doctor's
network and disk checks, the guarded clock's report, the outbox backlog.

Each ``check_*`` function is on its own (the screen runs them one row at a time) and never
raises: a check that breaks is a fail with its reason. Blocking device calls go through the
kiosk's device workers. No check keeps personal data: a test card read is only "read or
not", never what it said.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drivers.camera import CapturedPage
from drivers.errors import BilingualError
from drivers.status import DeviceStatus, PaperLevel
from kiosk.devices.kinds import DeviceKind
from kiosk.documents.blocks import Block, Codes, Paragraph, Title
from kiosk.interaction.i18n import fill
from kiosk.ops import doctor, probes
from kiosk.ops.verdicts import FAIL, OK, WARN, Check
from kiosk.staff.inspection import Inspection, InspectionStore, Kind
from kiosk.staff.roles import Action
from kiosk.staff.session import StaffSession

if TYPE_CHECKING:
    from kiosk.bootstrap import Kiosk

TARGET_CODE = "TBSELFTEST:target:v1"     # the QR on assets/selftest/target (make_target.py)
CARD_WAIT_S, CAPTURE_WAIT_S, NETWORK_WAIT_S = 10.0, 10.0, 2.0
OUTBOX_WARN_AGE_S = 3600.0               # undelivered for an hour: someone should look


def _broke(name: str, exc: BaseException) -> Check:
    zh = getattr(exc, "zh", "") or f"检查出错：{type(exc).__name__}"
    en = getattr(exc, "en", "") or f"the check broke: {type(exc).__name__}"
    return Check(name, FAIL, zh, en, {"error": str(getattr(exc, "code", type(exc).__name__))})


def _status_check(name: str, what: tuple[str, str], status: DeviceStatus) -> Check | None:
    """A fail when the device cannot serve; None when it can (the caller goes on)."""
    if status.usable:
        return None
    return Check(name, FAIL, f"{what[0]}不可用：{status.state.value}",
                 f"{what[1]} not usable: {status.state.value}",
                 {"status": status.state.value, "detail": status.detail[:80]})


def check_identity(kiosk: Kiosk, read_card: bool = False,
                   timeout: float = CARD_WAIT_S) -> Check:
    """The reader's status; with ``read_card``, a read of the hall's test card (laid on the
    reader by the staff member) — the result is read or not, the data is dropped."""
    name = "identity_reader"
    try:
        status = kiosk.identity.status()
        bad = _status_check(name, ("身份证阅读器", "the ID reader"), status)
        if bad is not None or not read_card:
            return bad or Check(name, OK, "身份证阅读器在线", "the ID reader is online",
                                {"status": status.state.value, "card_read": False})
        identity = kiosk.run(DeviceKind.IDENTITY_READER,
                             lambda: kiosk.identity.read(timeout)).result()
        kind = identity.card_type.value
        del identity                       # the test card's data is not kept anywhere
        return Check(name, OK, "身份证阅读器在线，测试卡读取成功",
                     "the ID reader is online and read the test card",
                     {"status": status.state.value, "card_read": True, "card_type": kind})
    except Exception as exc:   # why: a broken check is a failed check, never a crash
        return _broke(name, exc)


def check_camera(kiosk: Kiosk, timeout: float = CAPTURE_WAIT_S) -> Check:
    """A still of the printed target on the plate: page found, sharpness, brightness,
    glare; and whether its QR was read (it is the target, not some other page)."""
    name = "document_camera"
    try:
        status = kiosk.camera.status()
        bad = _status_check(name, ("高拍仪", "the document camera"), status)
        if bad is not None:
            return bad
        page = kiosk.run(DeviceKind.DOCUMENT_CAMERA, lambda: kiosk.camera.capture(timeout)
                         ).result()
        return _judge_page(name, page, _target_read(kiosk, page))
    except Exception as exc:   # why: NoPageFound and device faults are this check's fail
        return _broke(name, exc)


def _target_read(kiosk: Kiosk, page: CapturedPage) -> bool:
    try:
        codes = kiosk.barcode.decode(page.jpeg)
    except BilingualError:
        return False
    return any(code.text == TARGET_CODE for code in codes)


def _judge_page(name: str, page: CapturedPage, target: bool) -> Check:
    q = page.quality
    detail: dict[str, Any] = {k: v for k, v in q.as_dict().items()
                              if k in ("page_found", "sharpness", "brightness", "glare",
                                       "reasons")}
    detail["target_read"] = target
    if not q.ok:
        why = "、".join(q.reasons) or "no_page"
        return Check(name, FAIL, f"测试卡拍摄质量不合格：{why}",
                     f"the target's picture failed: {why}", detail)
    if not target:
        return Check(name, WARN, "拍摄清晰，但未识别到测试卡二维码（请确认放的是日检测试卡）",
                     "the picture is good but the target's QR was not read (is the "
                     "self-test target on the plate?)", detail)
    return Check(name, OK, f"高拍仪正常：清晰度 {q.sharpness:.2f}，亮度 {q.brightness:.2f}",
                 f"camera good: sharpness {q.sharpness:.2f}, brightness {q.brightness:.2f}",
                 detail)


def test_strip(kiosk_id: str, at: datetime) -> list[Block]:
    """What the printer's test strip says: a Chinese line (the GB18030 font), the time, and
    a barcode and QR (their print quality is what a scanner needs)."""
    return [Title("日检测试条", size=14, subtitle="Self-test strip"),
            Paragraph(f"终端 {kiosk_id}  {at:%Y-%m-%d %H:%M}"),
            Paragraph("中文字符、条码和二维码清晰完整即为正常。"),
            Codes(qr=TARGET_CODE, code128=f"T{at:%Y%m%d%H%M}")]


def check_printer(kiosk: Kiosk, at: datetime, print_strip: bool = True) -> Check:
    name = "receipt_printer"
    try:
        status = kiosk.printer.status()
        bad = _status_check(name, ("凭条打印机", "the receipt printer"), status)
        if bad is not None:
            return bad
        detail: dict[str, Any] = {"status": status.state.value,
                                  "paper": status.paper.value if status.paper else None}
        if print_strip:
            job = kiosk.printing.job(f"selftest-{at:%Y%m%d%H%M%S}", "test",
                                     test_strip(kiosk.settings.kiosk.id, at))
            if not kiosk.printing.print(job, hold=False):
                return Check(name, FAIL, "测试条未打印：打印机缺纸",
                             "the test strip did not print: out of paper", detail)
            detail["strip_printed"] = True
        if status.paper is PaperLevel.LOW:
            return Check(name, WARN, "打印机正常，纸将用完，请补充纸卷",
                         "printer works, paper low: refill the roll", detail)
        return Check(name, OK, "打印机正常" + ("，测试条已打印" if print_strip else ""),
                     "printer works" + (", test strip printed" if print_strip else ""),
                     detail)
    except Exception as exc:   # why: a broken check is a failed check, never a crash
        return _broke(name, exc)


def check_network(kiosk: Kiosk, timeout: float = NETWORK_WAIT_S) -> list[Check]:
    """The doctor's checks: each tus endpoint and the broker, a TCP connection each."""
    try:
        checks = probes.check_network(kiosk.settings, timeout)
    except Exception as exc:   # why: a broken check is a failed check, never a crash
        return [_broke("network", exc)]
    return checks or [Check("network", OK, "无需联网的递送方式（目录递送）",
                            "no endpoint to reach (directory delivery)", {"skipped": True})]


def check_clock(kiosk: Kiosk) -> Check:
    try:
        report = kiosk.clock.report()
    except Exception as exc:   # why: a broken check is a failed check, never a crash
        return _broke("clock", exc)
    detail = report.as_dict()
    if report.far_off:
        return Check("clock", FAIL, "系统时间与可信时间不符，请联系运维人员",
                     "the clock disagrees with trusted time: call maintenance", detail)
    if report.jumps:
        return Check("clock", WARN, f"系统时间曾跳变 {report.jumps} 次",
                     fill("the wall clock jumped {n} {n:time|times}", n=report.jumps), detail)
    return Check("clock", OK, "系统时间正常", "the clock is steady", detail)


def check_disk(kiosk: Kiosk) -> Check:
    try:
        return doctor.check_disk(kiosk.settings)
    except Exception as exc:   # why: a broken check is a failed check, never a crash
        return _broke("disk", exc)


def check_outbox(kiosk: Kiosk, now: datetime) -> Check:
    """The backlog: overdue packages fail (the 2-hour rule), an hour-old one warns."""
    try:
        depth, oldest, late = kiosk.outbox.backlog(now)
    except Exception as exc:   # why: a broken check is a failed check, never a crash
        return _broke("outbox", exc)
    detail = {"depth": depth, "oldest_age_s": oldest, "overdue": late}
    if late:
        return Check("outbox", FAIL, f"{late} 件申请材料超过转送时限未送达",
                     fill("{n} {n:package|packages} past their transfer deadline", n=late), detail)
    if oldest is not None and oldest > OUTBOX_WARN_AGE_S:
        return Check("outbox", WARN, f"待发送 {depth} 件，最早一件已等待 {oldest / 60:.0f} 分钟",
                     f"{depth} waiting, the oldest for {oldest / 60:.0f} min", detail)
    return Check("outbox", OK, f"待发送 {depth} 件",
                 fill("{n} {n:package|packages} waiting", n=depth), detail)


Step = Callable[[], Check | list[Check]]


def steps(kiosk: Kiosk, now: Callable[[], datetime], *, read_card: bool = False,
          print_strip: bool = True) -> dict[str, Step]:
    """Every row of the 日检 screen, in order: name → the check (run on tap or in turn)."""
    return {
        "identity_reader": lambda: check_identity(kiosk, read_card),
        "document_camera": lambda: check_camera(kiosk),
        "receipt_printer": lambda: check_printer(kiosk, now(), print_strip),
        "network": lambda: check_network(kiosk),
        "clock": lambda: check_clock(kiosk),
        "disk": lambda: check_disk(kiosk),
        "outbox": lambda: check_outbox(kiosk, now()),
    }


def run_all(all_steps: dict[str, Step]) -> tuple[Check, ...]:
    done: list[Check] = []
    for step in all_steps.values():
        result = step()
        done.extend(result if isinstance(result, list) else [result])
    return tuple(done)


def record(session: StaffSession, store: InspectionStore, kind: Kind, checks: tuple[Check, ...],
           started_at: datetime, finished_at: datetime) -> Inspection:
    """Save the inspection as the signed-in staff member's, through ``perform`` (one audit
    entry: kind, verdict, the failed checks' names)."""
    made = Inspection(kind, session.staff_id, session.audit.kiosk_id, started_at, finished_at,
                      checks)

    def save() -> dict[str, Any]:
        store.save(made)
        return {"kind": kind.value, "verdict": made.verdict, "failed": made.failed[:8]}

    session.perform(Action.SELF_TEST, save)
    return made
