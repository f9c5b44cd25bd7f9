"""The demo's hand at the face camera: through the FaceStage protocol, emulators only."""

from __future__ import annotations

from pathlib import Path

from drivers.face.emulated import EmulatedFaceCamera
from kiosk.demo.hand import DemoHand

FACES = Path(__file__).resolve().parents[1] / "assets" / "demo" / "faces"


def test_the_hand_puts_people_in_front_of_the_emulated_face_camera() -> None:
    camera = EmulatedFaceCamera(FACES)
    hand = DemoHand.reach(None, None, None, camera)
    hand.present_face("other")
    assert camera.scene == "other"
    hand.act("blink")
    hand.present_face()
    assert camera.scene == "right"


def test_a_real_face_camera_gets_no_hand() -> None:
    class RealCamera:
        def start(self) -> None: ...
    hand = DemoHand.reach(None, None, None, RealCamera())
    hand.present_face("photo")          # nothing to reach: no error, nothing done
    hand.act("blink")
    assert hand._stage is None
