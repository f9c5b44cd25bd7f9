"""The one device-kind vocabulary: settings sections, matters' required devices, lifecycle,
events (``device.<kind>``) and the fleet heartbeat all use these names.

Long names on purpose: a face camera (人证核验) and an A4 printer join the document camera and
the receipt printer, so "camera" and "printer" alone would not say which.
"""

from __future__ import annotations

from enum import StrEnum


class DeviceKind(StrEnum):
    IDENTITY_READER = "identity_reader"
    DOCUMENT_CAMERA = "document_camera"
    BARCODE_DECODER = "barcode_decoder"   # a pure function on a page: never opened or polled
    RECEIPT_PRINTER = "receipt_printer"
    SPEAKER = "speaker"                   # optional: no matter requires it
    FACE_CAMERA = "face_camera"           # 人证核验: the live face
    FACE_MATCHER = "face_matcher"         # a pure function on two faces: never opened or polled


# How the built-in kinds are named to citizens and staff (Chinese, English).
LABELS = {DeviceKind.IDENTITY_READER: ("身份证阅读器", "identity reader"),
          DeviceKind.DOCUMENT_CAMERA: ("高拍仪", "document camera"),
          DeviceKind.BARCODE_DECODER: ("条码识别", "barcode decoder"),
          DeviceKind.RECEIPT_PRINTER: ("凭条打印机", "receipt printer"),
          DeviceKind.SPEAKER: ("语音播报", "speaker"),
          DeviceKind.FACE_CAMERA: ("人脸摄像头", "face camera"),
          DeviceKind.FACE_MATCHER: ("人脸比对", "face matcher")}

# The names settings files of schema 1 used; read by the settings migration only.
LEGACY_SECTIONS = {"identity": DeviceKind.IDENTITY_READER, "camera": DeviceKind.DOCUMENT_CAMERA,
                   "barcode": DeviceKind.BARCODE_DECODER, "printer": DeviceKind.RECEIPT_PRINTER,
                   "speaker": DeviceKind.SPEAKER}
