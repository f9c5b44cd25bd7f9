"""人证核验 as a step (kiosk/face_step.py, kiosk/face_service.py), without Kivy: the policy of
tries, what each try's outcome leads to, the session's gate before any material, the evidence
in the manifest and the ledger note — and, on the real parts (the demo kiosk's emulated face
camera, dlib, the liveness judge), a whole step that leaves no picture anywhere and no name or
number in the log."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from drivers.camera import CapturedPage, PageQuality
from drivers.errors import DeviceFault
from drivers.face import FaceMatch, NoFace
from drivers.face.liveness import Verdict
from drivers.face.verify import LivenessFailed
from drivers.identity.emulated import BadIdentityData, load_identities
from kiosk.bootstrap import build_kiosk
from kiosk.demo.hand import DemoHand
from kiosk.errors import SessionError
from kiosk.face_step import FaceResult, after_try, needs_staff, staff_verified
from kiosk.service import KioskService
from kiosk.session import Session
from kiosk.settings import FaceSettings, load_settings
from kiosk.submission import Numbers, _face_note, face_evidence, ledger_note, manifest_header

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo.toml"
IDENTITIES = ROOT / "assets" / "demo" / "identities.toml"
AT = datetime(2026, 12, 7, 10, 0)
CARD = load_identities(IDENTITIES)["resident"]
MATCH = FaceMatch(True, 0.71, 0.5, "dlib-resnet-v1", liveness="passed")
OTHER = FaceMatch(False, 0.38, 0.5, "dlib-resnet-v1", liveness="passed")
SPOOF = LivenessFailed(Verdict(False, "still", (), 1.2))


# --- the policy ----------------------------------------------------------------------------
def test_each_kind_of_try_is_named_as_the_evidence_names_it() -> None:
    assert after_try(None, CARD, AT, MATCH, None).result is FaceResult.PASS
    mismatch = after_try(None, CARD, AT, OTHER, None)
    assert (mismatch.result, mismatch.score, mismatch.tries) == (FaceResult.MISMATCH, 0.38, 1)
    spoof = after_try(mismatch, CARD, AT, None, SPOOF)
    assert (spoof.result, spoof.liveness, spoof.tries) == (FaceResult.SPOOF, "still", 2)
    unusable = after_try(None, CARD, AT, None, NoFace(side="document"))
    assert unusable.result is FaceResult.NO_PHOTO and unusable.tries == 0
    fault = after_try(None, CARD, AT, None, DeviceFault("摄像头", "camera"))
    assert fault.result is FaceResult.SKIPPED and not fault.cleared


def test_staff_are_needed_after_the_last_try_and_at_once_without_a_photo() -> None:
    settings = FaceSettings(enabled=True, tries=3)
    check = None
    for outcome in (OTHER, None, OTHER):
        assert not needs_staff(check, settings)
        check = after_try(check, CARD, AT, outcome, SPOOF if outcome is None else None)
    assert check is not None and check.tries == 3 and needs_staff(check, settings)
    passed = after_try(after_try(None, CARD, AT, OTHER, None), CARD, AT, MATCH, None)
    assert passed.cleared and not needs_staff(passed, settings)
    no_photo = after_try(None, replace(CARD, photo=None), AT, None, NoFace(side="document"))
    assert needs_staff(no_photo, settings)


def test_staff_verification_keeps_the_tries_and_drops_the_matchers_score() -> None:
    failed = after_try(after_try(None, CARD, AT, OTHER, None), CARD, AT, None, SPOOF)
    check = staff_verified(failed, CARD, "G001", AT)
    assert check.cleared and check.result is FaceResult.STAFF_VERIFIED
    assert (check.tries, check.method, check.staff_id, check.score) == (2, "staff", "G001", None)
    assert check.as_evidence() == {"result": "staff_verified", "tries": 2, "method": "staff",
                                   "liveness": "still", "photo_source": "card_module",
                                   "staff_id": "G001"}


# --- the session's gate and the evidence downstream ------------------------------------------
class _App:
    """Just what face_evidence and the note read of an Application."""

    def __init__(self, face: object) -> None:
        self.face = face


def test_the_manifest_and_the_ledger_note_say_how_the_person_was_checked() -> None:
    passed = after_try(None, CARD, AT, MATCH, None)
    evidence = face_evidence(_App(passed))     # type: ignore[arg-type]
    assert evidence is not None and evidence.outcome == "match" and evidence.score == 0.71
    assert evidence.photo_source == "card_module" and evidence.liveness == "passed"
    by_staff = face_evidence(_App(staff_verified(passed, CARD, "G001", AT)))  # type: ignore[arg-type]
    assert by_staff is not None and by_staff.outcome == "staff_verified"
    assert by_staff.method == "staff" and by_staff.score is None
    assert face_evidence(_App(after_try(None, CARD, AT, OTHER, None))) is None  # type: ignore[arg-type]
    assert face_evidence(_App(None)) is None    # type: ignore[arg-type]
    assert _face_note(passed) == "人证核验通过（0.71，第1次）"
    assert "工作人员核验" in _face_note(staff_verified(passed, CARD, "G001", AT))


@pytest.mark.parametrize("face", ["none", "pass", "staff"])
def test_the_frozen_application_carries_the_check_into_the_manifest(
        tmp_path: Path, face: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session confirmed on the demo kiosk (no face step, a pass, staff by sight): the
    manifest header is valid each way, with face_check absent (never null) when not asked."""
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "ops"))
    from ops_citizen import confirmed_session

    kiosk = build_kiosk(load_settings(DEMO).with_data_dir(tmp_path / "data"))
    kiosk.open(datetime.now())
    try:
        service = KioskService(kiosk)
        hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer)
        original = Session.identified

        def identified_and_checked(session: Session, identity: object, today: object) -> None:
            original(session, identity, today)                      # type: ignore[arg-type]
            if face != "none":
                session.begin_face()
                check = after_try(None, CARD, AT, MATCH, None)
                session.record_face(check if face == "pass"
                                    else staff_verified(check, CARD, "g001", AT))
        monkeypatch.setattr(Session, "identified", identified_and_checked)
        session = confirmed_session(service, hand)
        assert session.application is not None
        numbers = Numbers("510802-2026-000001-0001-0", ("XT" + "0" * 28,))
        header = manifest_header(session.application, kiosk.settings.kiosk, numbers)
        dumped = header.model_dump(mode="json", exclude_none=True)["applicant"]
        expected = {"none": None, "pass": "match", "staff": "staff_verified"}[face]
        assert dumped.get("face_check", {}).get("outcome") == expected
        note = ledger_note(session.application)
        assert ("人证核验" in note) == (face != "none")
        session.cancel()
    finally:
        kiosk.close()


PAGE = CapturedPage(b"\xff\xd8page", 100, 100, 300, PageQuality(True, 0.9, 0.9, ()), ())


def test_no_page_is_taken_until_the_face_check_is_cleared(tmp_path: Path) -> None:
    kiosk = build_kiosk(load_settings(DEMO).with_data_dir(tmp_path / "data"))
    kiosk.open(datetime.now())
    try:
        service = KioskService(kiosk)
        session = _identified(service, kiosk, "resident")
        session.begin_face()
        with pytest.raises(SessionError) as refused:
            session.add_page("m1", PAGE)
        assert refused.value.code == "face_pending"
        with pytest.raises(SessionError):
            session.review()
        session.record_face(after_try(None, CARD, AT, OTHER, None))
        with pytest.raises(SessionError):
            session.add_page("m1", PAGE)
        session.record_face(after_try(session.face, CARD, AT, MATCH, None))
        assert session.add_page("m1", PAGE) == 1
        session.cancel()
        assert session.face is None and not session.face_pending
    finally:
        kiosk.close()


def test_a_card_with_no_photo_goes_to_staff_before_any_try(tmp_path: Path) -> None:
    kiosk = build_kiosk(load_settings(DEMO).with_data_dir(tmp_path / "data"))
    kiosk.open(datetime.now())
    try:
        service = KioskService(kiosk)
        session = _identified(service, kiosk, "resident_young")     # no photo in its entry
        check = service.face.begin(session)
        assert check is not None and check.result is FaceResult.NO_PHOTO
        assert service.face.needs_staff(session) and session.face_pending
        with pytest.raises(SessionError):
            service.face.attempt(session)         # no try can clear it: staff only
    finally:
        kiosk.close()


# --- the emulated card's photo ---------------------------------------------------------------
def test_the_emulated_card_carries_its_photo_and_refuses_one_outside_its_folder(
        tmp_path: Path) -> None:
    assert CARD.photo is not None and CARD.photo[:2] == b"\xff\xd8"
    assert load_identities(IDENTITIES)["resident_young"].photo is None
    entry = IDENTITIES.read_text(encoding="utf-8").split("[staff_demo]")[0]
    (tmp_path / "ids.toml").write_text(entry.replace("faces/applicant_card.jpg",
                                                     "../outside.jpg"), encoding="utf-8")
    (tmp_path.parent / "outside.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(BadIdentityData):
        load_identities(tmp_path / "ids.toml")


# --- the whole step on real parts ------------------------------------------------------------
@pytest.fixture
def demo_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[tuple[KioskService, DemoHand, Path, Path]]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))   # whatever uses tempfile: here
    monkeypatch.setenv("TMPDIR", str(scratch))
    kiosk = build_kiosk(load_settings(DEMO).with_data_dir(tmp_path / "data"))
    kiosk.open(datetime.now())
    hand = DemoHand.reach(kiosk.identity, kiosk.camera, kiosk.printer, kiosk.face_camera)
    unfollow = hand.follow_prompts(kiosk.bus)
    try:
        yield KioskService(kiosk), hand, tmp_path / "data", scratch
    finally:
        unfollow()
        kiosk.close()


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".npy", ".npz", ".raw", ".ppm", ".jp2")
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"BM", b"\x93NUMPY", b"\x00\x00\x00\x0cjP")
FRAME_BYTES = 640 * 480 * 3          # one raw frame of the demo's face camera


def pictures_under(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        raw_frame = len(data) >= FRAME_BYTES and any(data)   # the disk reserve is zeros
        if path.suffix.lower() in IMAGE_SUFFIXES or data.startswith(IMAGE_MAGIC) or raw_frame:
            found.append(str(path.relative_to(folder)))
    return found


def test_a_whole_step_keeps_no_picture_and_logs_no_one(
        demo_service: tuple[KioskService, DemoHand, Path, Path],
        caplog: pytest.LogCaptureFixture) -> None:
    service, hand, data, scratch = demo_service
    caplog.set_level(logging.DEBUG)
    session = _identified(service, service.k, "resident")
    hand.present_face("right")
    assert service.face.begin(session) is None          # a photo: a try is to run
    check = service.face.attempt(session)
    assert check.result is FaceResult.PASS and check.score is not None
    assert check.score >= 0.5 and check.liveness == "passed" and not session.face_pending
    assert pictures_under(data) == [] and pictures_under(scratch) == []
    identity = session.identity
    assert identity is not None
    assert identity.id_number not in caplog.text and identity.name not in caplog.text
    assert "face check try 1: pass" in caplog.text       # the log does say what happened
    for path in data.rglob("*"):
        if path.is_file():
            assert identity.id_number.encode() not in path.read_bytes(), path
    session.cancel()
    assert session.face is None


def test_someone_else_is_a_mismatch_and_the_step_does_not_clear(
        demo_service: tuple[KioskService, DemoHand, Path, Path]) -> None:
    service, hand, _data, _scratch = demo_service
    session = _identified(service, service.k, "resident")
    hand.present_face("other")
    service.face.begin(session)
    check = service.face.attempt(session)
    assert check.result is FaceResult.MISMATCH and check.score is not None
    assert check.score < 0.5 and session.face_pending


def _identified(service: KioskService, kiosk: object, card: str) -> Session:
    hand = DemoHand.reach(service.k.identity, None, None)
    session = service.start_session()
    service.choose(session, service.matter("GA-HJZM-001"))
    session.start_identify()
    hand.present_card(card)
    service.identify(session)
    return session
