"""Speakers: the real eSpeak NG writing WAV files, replacement of stale prompts, a missing
binary, and the emulated speaker with its fault."""

from __future__ import annotations

import shutil
import threading
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.speaker import Speaker
from drivers.speaker.emulated import EmulatedSpeaker
from drivers.speaker.espeak import EspeakSpeaker
from drivers.status import DeviceEvent, DeviceState

WAIT_S = 30.0   # a bound on waiting for an outcome, never an assertion about speed
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")


class Events:
    """A sink that lets a test wait for an event."""

    def __init__(self) -> None:
        self.seen: list[DeviceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self._cond:
            self.seen.append(event)
            self._cond.notify_all()

    def wait(self, match: Callable[[DeviceEvent], bool]) -> DeviceEvent:
        with self._cond:
            assert self._cond.wait_for(lambda: any(map(match, self.seen)), WAIT_S), self.seen
            return next(e for e in self.seen if match(e))

    def of(self, kind: str) -> list[DeviceEvent]:
        with self._cond:
            return [e for e in self.seen if e.kind == kind]


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def espeak(tmp_path: Path, events: Events) -> Iterator[EspeakSpeaker]:
    speaker = EspeakSpeaker(output=tmp_path / "wav", rate=150)
    speaker.open(events)
    yield speaker
    speaker.close()


def _is_wav(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) > 44 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def _spoken(events: Events, text: str) -> Callable[[DeviceEvent], bool]:
    return lambda e: e.kind == "spoken" and e.data["text"] == text


def test_speakers_fulfil_the_protocol(tmp_path: Path) -> None:
    speakers: list[Speaker] = [EmulatedSpeaker(), EspeakSpeaker(output=tmp_path)]
    assert all(s.status().state is DeviceState.OFFLINE for s in speakers)


@needs_espeak
def test_espeak_writes_a_wav_for_chinese_text(espeak: EspeakSpeaker, events: Events) -> None:
    assert espeak.status().state is DeviceState.ONLINE
    espeak.say("请把身份证放在读卡区", "zh")
    done = events.wait(_spoken(events, "请把身份证放在读卡区"))
    path = Path(done.data["path"])
    assert path.name.endswith("-zh.wav") and _is_wav(path)
    assert not list(path.parent.glob(".*.part"))   # nothing half-written is left behind


@needs_espeak
def test_espeak_speaks_english_with_the_english_voice(espeak: EspeakSpeaker,
                                                      events: Events) -> None:
    espeak.say("-Please place your ID card on the reader", "en")   # a leading dash is text
    done = events.wait(_spoken(events, "-Please place your ID card on the reader"))
    assert done.data["lang"] == "en" and _is_wav(Path(done.data["path"]))


@needs_espeak
def test_the_newest_prompt_is_always_spoken_last(espeak: EspeakSpeaker, events: Events,
                                                 tmp_path: Path) -> None:
    long_text = "请核对您的申请材料，" * 40
    for text in (long_text, "请阅读办事指南", "请刷身份证"):
        espeak.say(text)
    events.wait(_spoken(events, "请刷身份证"))
    espeak.close()   # joins the worker: no event can follow
    spoken = [e.data["text"] for e in events.of("spoken")]
    assert spoken[-1] == "请刷身份证"
    assert len(spoken) == len(set(spoken))   # nothing said twice
    # Replaced prompts were cut short or never started: only spoken ones left a WAV.
    assert len(list((tmp_path / "wav").glob("*.wav"))) == len(spoken)


def _hanging_espeak(tmp_path: Path) -> Path:
    """A stand-in binary that never finishes: the worker stays busy until it is killed."""
    script = tmp_path / "espeak-ng"
    script.write_text("#!/bin/sh\nexec sleep 600\n")
    script.chmod(0o755)
    return script


def test_say_returns_while_the_worker_is_busy_and_kills_the_stale_prompt(
        tmp_path: Path, events: Events) -> None:
    speaker = EspeakSpeaker(output=tmp_path / "wav", binary=str(_hanging_espeak(tmp_path)))
    speaker.open(events)
    try:
        speaker.say("第一个提示")
        first = events.wait(lambda e: e.kind == "speaking")
        caller = threading.Thread(target=speaker.say, args=("第二个提示",))
        caller.start()
        caller.join(WAIT_S)
        assert not caller.is_alive(), "say() waited for the speech to finish"
        events.wait(lambda e: e.kind == "interrupted" and e.data["seq"] == first.data["seq"])
        events.wait(lambda e: e.kind == "speaking" and e.data["seq"] != first.data["seq"])
        speaker.stop()
        events.wait(lambda e: e.kind == "interrupted" and e.data["seq"] != first.data["seq"])
    finally:
        speaker.close()
    assert not events.of("spoken")
    assert not list((tmp_path / "wav").iterdir())   # killed prompts leave no files


def test_missing_binary_means_no_device_and_silent_prompts(tmp_path: Path,
                                                           events: Events) -> None:
    speaker = EspeakSpeaker(output=tmp_path, binary=str(tmp_path / "no-such-espeak"))
    speaker.open(events)
    assert speaker.status().state is DeviceState.NO_DEVICE
    assert not speaker.status().usable
    speaker.say("请刷身份证")      # no exception: voice is optional
    speaker.stop()
    speaker.close()
    assert speaker.status().state is DeviceState.OFFLINE
    assert not events.of("spoken") and not events.of("speaking")


def test_a_failing_synthesiser_is_a_hardware_error(tmp_path: Path, events: Events) -> None:
    script = tmp_path / "espeak-ng"
    script.write_text("#!/bin/sh\necho 'Error: The specified espeak-ng voice does not exist.'"
                      " >&2\nexit 1\n")
    script.chmod(0o755)
    speaker = EspeakSpeaker(output=tmp_path / "wav", binary=str(script))
    speaker.open(events)
    try:
        speaker.say("请刷身份证")
        error = events.wait(lambda e: e.kind == "error")
        assert "voice does not exist" in error.data["detail"]
        assert speaker.status().state is DeviceState.HARDWARE_ERROR
    finally:
        speaker.close()


def test_unknown_language_and_volume_are_programming_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        EspeakSpeaker(volume=300)
    with pytest.raises(ValueError):
        EmulatedSpeaker().say("hello", "fr")


def test_emulated_speaker_records_prompts(events: Events) -> None:
    speaker = EmulatedSpeaker()
    speaker.say("还没打开")          # closed: dropped
    speaker.open(events)
    speaker.say("请刷身份证")
    speaker.say("Please tap your card", "en")
    speaker.say("   ")               # nothing to say
    assert speaker.wait_for(2, WAIT_S)
    assert speaker.spoken == [("请刷身份证", "zh"), ("Please tap your card", "en")]
    assert speaker.last == ("Please tap your card", "en")
    assert not speaker.wait_for(3, 0)
    speaker.stop()
    assert speaker.stops == 1
    assert [e.data["text"] for e in events.of("spoken")] == ["请刷身份证", "Please tap your card"]
    speaker.close()


def test_emulated_unplugged_speaker_drops_prompts_silently(events: Events) -> None:
    speaker = EmulatedSpeaker(name="speaker.test")
    speaker.open(events)
    speaker.inject("unplugged")
    assert speaker.status().state is DeviceState.NO_DEVICE
    speaker.say("请刷身份证")
    assert speaker.spoken == []
    speaker.clear_faults()
    assert speaker.status().state is DeviceState.ONLINE
    speaker.say("请刷身份证")
    assert speaker.spoken == [("请刷身份证", "zh")]
    with pytest.raises(ValueError):
        speaker.inject("on_fire")
    states = [e.data["state"] for e in events.of("status")]
    assert states == ["online", "no_device", "online"]


CHIME = Path(__file__).resolve().parents[2] / "assets" / "sounds" / "chime.wav"


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


@needs_espeak
def test_espeak_plays_the_chime_before_the_words(tmp_path: Path, events: Events) -> None:
    speaker = EspeakSpeaker(output=tmp_path / "wav", chime=CHIME)
    speaker.open(events)
    try:
        speaker.say("请稍候")
        words = Path(events.wait(_spoken(events, "请稍候")).data["path"])
        speaker.chime("请稍候")
        chimed = Path(events.wait(lambda e: e.kind == "spoken" and "<audio" in e.data["text"])
                      .data["path"])
        # the chime is in the same utterance, in front of the same words
        assert _seconds(chimed) - _seconds(words) >= 0.9 * _seconds(CHIME)
        speaker.chime("a < b & </speak> c", "en")          # text stays text, not markup
        events.wait(lambda e: e.kind == "spoken" and "&lt;/speak&gt;" in e.data["text"])
        assert not events.of("error") and speaker.status().state is DeviceState.ONLINE
    finally:
        speaker.close()


@needs_espeak
def test_espeak_without_a_chime_file_says_the_words(tmp_path: Path, events: Events) -> None:
    speaker = EspeakSpeaker(output=tmp_path / "wav", chime=tmp_path / "missing.wav")
    speaker.open(events)
    try:
        speaker.chime("请稍候")
        events.wait(_spoken(events, "请稍候"))
    finally:
        speaker.close()


def test_the_emulated_speaker_counts_chimes() -> None:
    speaker = EmulatedSpeaker()
    speaker.chime("请稍候")                       # not open: nothing
    speaker.open()
    speaker.chime("请稍候")
    speaker.chime()
    assert speaker.chimes == 2 and speaker.spoken == [("请稍候", "zh")]
    speaker.inject("unplugged")
    speaker.chime("请稍候")
    assert speaker.chimes == 2
