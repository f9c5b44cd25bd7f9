"""What each GA/T 467 status byte (SW3) means, as typed errors in Chinese and English."""

from __future__ import annotations

from drivers.errors import DeviceError, DeviceFault

OK, NO_CONTENT, FOUND = 0x90, 0x91, 0x9F
NOT_FOUND, SELECT_FAILED, READ_FAILED = 0x80, 0x81, 0x41
CHECKSUM_ERROR, LENGTH_ERROR = 0x10, 0x11
SAM_SELF_TEST_FAILED = 0x60


class ModuleFault(DeviceFault):
    """The security module refused or failed (not the citizen's doing): call staff."""

    code = "ga467_module_fault"

    def __init__(self, sw3: int, zh: str, en: str) -> None:
        super().__init__(f"读卡模块故障（{zh}），请联系现场工作人员",
                         f"The card module failed ({en}): please call staff")
        self.sw3 = sw3


class CardRejected(DeviceError):
    """The card itself did not pass (authentication or an unknown card type)."""

    code = "ga467_card_rejected"

    def __init__(self, sw3: int, zh: str, en: str) -> None:
        super().__init__(f"证件无法读取（{zh}），请联系现场工作人员",
                         f"This card cannot be read ({en}): please call staff")
        self.sw3 = sw3


# SW3 → (Chinese, English, the error's class). 0x90/0x91/0x9F/0x80/0x81/0x41 are handled by
# the reader itself (success, no content, found, not found, select and read failures).
_ERRORS: dict[int, tuple[str, str, type[ModuleFault] | type[CardRejected]]] = {
    CHECKSUM_ERROR: ("收到的数据校验和错", "it received a frame with a bad checksum", ModuleFault),
    LENGTH_ERROR: ("收到的数据长度错", "it received a frame with a bad length", ModuleFault),
    0x21: ("命令错误", "it does not know the command", ModuleFault),
    0x23: ("越权操作", "the operation is not permitted", ModuleFault),
    0x24: ("无法识别的错误", "an unrecognised error", ModuleFault),
    0x31: ("证件认证安全模块失败", "the card did not accept the security module", CardRejected),
    0x32: ("安全模块认证证件失败", "the security module did not accept the card", CardRejected),
    0x33: ("信息验证失败", "the card's data failed verification", CardRejected),
    0x37: ("指纹信息验证错误", "the fingerprint data failed verification", CardRejected),
    0x3F: ("信息长度错误", "the card's data has a bad length", CardRejected),
    0x40: ("无法识别的证件类型", "an unknown kind of card", CardRejected),
    0x47: ("取随机数失败", "getting a random number failed", ModuleFault),
    SAM_SELF_TEST_FAILED: ("安全模块自检失败", "the security module failed its self-test",
                           ModuleFault),
    0x66: ("安全模块未经授权", "the security module is not authorised", ModuleFault),
}


def error_for(sw3: int) -> DeviceError:
    zh, en, kind = _ERRORS.get(sw3, (f"未知状态 {sw3:02X}", f"unknown status {sw3:02X}",
                                     ModuleFault))
    return kind(sw3, zh, en)
