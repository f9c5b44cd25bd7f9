"""Device steps of the staff functions on a case: the 代办 agent's card from the identity
reader, and the 委托书's pages from the document camera. Like ``KioskService``, the blocking
reads run on each device's own worker thread; the staff screens call these with
``service.k`` (the kiosk: this module may not import the service, which imports staff
mode)."""

from __future__ import annotations

from drivers.camera import CapturedPage
from kiosk.bootstrap import Kiosk
from kiosk.devices.kinds import DeviceKind
from kiosk.session import Session
from kiosk.staff import casework
from kiosk.staff.session import StaffSession


def read_agent(k: Kiosk, staff: StaffSession, session: Session) -> str:
    """Wait for the agent's card and record it (one audit entry); return the agent's name
    for the screen."""
    timeout = k.settings.session.read_timeout_s
    identity = k.run(DeviceKind.IDENTITY_READER, lambda: k.identity.read(timeout)).result()
    casework.record_agent(staff, session, identity)
    return identity.name


def capture_mandate(k: Kiosk, session: Session) -> int:
    """One page of the 委托书 (sealed like any page); returns its number."""
    timeout = k.settings.session.capture_timeout_s
    page = k.run(DeviceKind.DOCUMENT_CAMERA, lambda: k.camera.capture(timeout)).result()
    return session.add_mandate_page(CapturedPage(page.jpeg, page.width, page.height, page.dpi,
                                                 page.quality, ()))
