"""Voice prompts, and the kiosk wiring of the speaker, the camera feed and the new settings."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from drivers.speaker.emulated import EmulatedSpeaker
from drivers.speaker.espeak import EspeakSpeaker
from drivers.status import DeviceState
from kiosk.bootstrap import build_kiosk, device_context
from kiosk.devices.builtin import BUILTIN
from kiosk.devices.kinds import DeviceKind
from kiosk.errors import ConfigError
from kiosk.interaction.autocapture import CaptureState
from kiosk.interaction.camera_feed import CameraFeed
from kiosk.interaction.voice import Voice, speaker_lang
from kiosk.lifecycle import KioskState
from kiosk.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 30.0


def _demo(tmp_path: Path) -> Settings:
    return load_settings(ROOT / "config" / "demo.toml").with_data_dir(tmp_path)


class BrokenSpeaker(EmulatedSpeaker):
    def say(self, text: str, lang: str = "zh") -> None:
        raise OSError("sound card on fire")

    def stop(self) -> None:
        raise OSError("sound card on fire")

    def chime(self, then: str = "", lang: str = "zh") -> None:
        raise OSError("sound card on fire")


def test_voice_speaks_the_citizens_language() -> None:
    speaker = EmulatedSpeaker()
    speaker.open()
    voice = Voice(speaker, enabled=True)
    voice.prompt("请刷身份证", "Please tap your ID card", "zh_CN")
    voice.prompt("请刷身份证", "Please tap your ID card", "en")
    assert speaker.spoken == [("请刷身份证", "zh"), ("Please tap your ID card", "en")]
    voice.enabled = False
    voice.prompt("请刷身份证", "Please tap your ID card", "zh_CN")
    assert len(speaker.spoken) == 2
    voice.silence()
    assert speaker.stops == 1
    assert (speaker_lang("zh_CN"), speaker_lang("en"), speaker_lang("en_GB")) == ("zh", "en",
                                                                                   "en")


def test_a_broken_speaker_never_breaks_the_screen() -> None:
    voice = Voice(BrokenSpeaker(), enabled=True)
    voice.prompt("请刷身份证", "Please tap your ID card", "zh_CN")
    voice.chime("请稍候", "Please wait", "zh_CN")
    voice.silence()


def test_the_staff_call_chime_sounds_even_with_voice_off() -> None:
    speaker = EmulatedSpeaker()
    speaker.open()
    voice = Voice(speaker, enabled=True)
    voice.chime("请稍候", "Please wait", "en")
    voice.enabled = False
    voice.chime("请稍候", "Please wait", "zh_CN")      # for the hall: the chime, no words
    assert speaker.chimes == 2 and speaker.spoken == [("Please wait", "en")]


def test_shipped_settings_have_the_new_keys() -> None:
    default = load_settings(ROOT / "config" / "default.toml")
    demo = load_settings(ROOT / "config" / "demo.toml")
    assert default.devices.configured["speaker"].backend == "espeak"
    assert demo.devices.configured["speaker"].backend == "emulated"
    for settings in (default, demo):
        assert settings.session.capture_dwell_s == 1.5
        assert settings.devices.configured["document_camera"].options["preview_size"] == [1280, 720]
        assert settings.devices.configured["document_camera"].options["preview_fps"] == 15
        assert settings.ui.orientation == "portrait" and settings.ui.language == "zh_CN"
        assert settings.ui.voice and settings.ui.screen_dpi == 96
    assert default.ui.fullscreen and not demo.ui.fullscreen


@pytest.mark.parametrize("line, key", [('orientation = "portrait"', 'orientation = "sideways"'),
                                       ('language = "zh_CN"', 'language = "fr"'),
                                       ("screen_dpi = 96", "screen_dpi = 0"),
                                       ("fullscreen = true", "full_screen = true")])
def test_bad_ui_settings_are_refused(tmp_path: Path, line: str, key: str) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    path = tmp_path / "config" / "default.toml"
    text = path.read_text(encoding="utf-8")
    assert line in text
    path.write_text(text.replace(line, key), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert any("ui." in p for p in info.value.problems), info.value.problems


def test_speaker_backends_from_settings(tmp_path: Path) -> None:
    settings = _demo(tmp_path)
    espeak = BUILTIN.make("speaker", "espeak", {"output": "voice", "rate": 140, "volume": 120},
                          device_context(settings))
    assert isinstance(espeak, EspeakSpeaker)
    assert isinstance(BUILTIN.make("speaker", "emulated", {}, device_context(settings)),
                      EmulatedSpeaker)
    with pytest.raises(ConfigError):
        BUILTIN.make("speaker", "festival", {}, device_context(settings))


@pytest.mark.parametrize("size", [[1280], [0, 720], "1280x720"])
def test_a_bad_preview_size_names_the_key(tmp_path: Path, size: Any) -> None:
    settings = _demo(tmp_path)
    with pytest.raises(ConfigError) as info:
        BUILTIN.make("document_camera", "emulated", {"preview_size": size},
                     device_context(settings))
    assert "devices.document_camera.options.preview_size" in info.value.problems[0]


def test_the_speaker_is_a_device_but_never_blocks_a_matter(tmp_path: Path) -> None:
    kiosk = build_kiosk(_demo(tmp_path))
    try:
        assert kiosk.devices[DeviceKind.SPEAKER] is kiosk.speaker
        now = datetime.now()
        kiosk.open(now)
        assert kiosk.speaker.status().state is DeviceState.ONLINE
        before = {m.code: kiosk.lifecycle.matter_availability(m, now).available
                  for m in kiosk.catalogue.matters}
        speaker: Any = kiosk.speaker
        speaker.inject("unplugged")
        kiosk.refresh(now)
        assert kiosk.speaker.status().state is DeviceState.NO_DEVICE
        assert kiosk.lifecycle.state is KioskState.AVAILABLE
        after = {m.code: kiosk.lifecycle.matter_availability(m, now).available
                 for m in kiosk.catalogue.matters}
        assert after == before and any(after.values())
    finally:
        kiosk.close()


def test_the_kiosk_makes_a_camera_feed(tmp_path: Path) -> None:
    settings = _demo(tmp_path)
    session = settings.session.model_copy(update={"capture_dwell_s": 0.2})
    kiosk = build_kiosk(settings.model_copy(update={"session": session}))
    try:
        kiosk.open(datetime.now())
        feed = kiosk.camera_feed()
        assert isinstance(feed, CameraFeed)
        feed.start()
        camera: Any = kiosk.camera
        # a page from before the step is never shot: the plate is seen empty first
        assert feed.wait_for(lambda view: feed.plate_clear, WAIT_S) is not None
        camera.place("申请表")
        shot = feed.wait_for(lambda view: view.advice.state is CaptureState.SHOOT, WAIT_S)
        assert shot is not None and shot.frame.image.shape == (720, 1280, 3)
        feed.stop()
    finally:
        kiosk.close()
