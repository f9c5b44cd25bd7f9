"""Speaker backend on eSpeak NG (Debian's ``espeak-ng``), run as a subprocess.

One worker thread per speaker runs one ``espeak-ng`` process at a time. ``say`` only leaves
the prompt for the worker and kills the process still speaking, so it returns at once and the
citizen never hears the previous screen's prompt to its end.

``output`` is "default" (the sound device) or a directory: each utterance is then written
there as ``NNNNNN-LANG.wav`` (renamed into place when complete, so a reader never sees half a
file). That is how tests and headless machines run the real synthesiser.

The attention chime is a WAV file (``chime``) played by eSpeak NG itself, as an SSML
``<audio>`` element in front of the words: one process, one sound device, nothing else
installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from drivers.speaker import check_lang
from drivers.status import DeviceState, DeviceStatus, EventSink, StatusReporter

VOICES = {"zh": "cmn", "en": "en"}   # eSpeak NG voice per prompt language


@dataclass(frozen=True)
class _Prompt:
    seq: int
    text: str
    lang: str
    ssml: bool = False


class EspeakSpeaker:
    """Speaker backend; ``rate`` in words per minute (slower than eSpeak's 175 for older
    citizens), ``volume`` is eSpeak's amplitude 0–200."""

    def __init__(self, output: str | Path = "default", rate: int = 150, volume: int = 100,
                 binary: str = "espeak-ng", name: str = "speaker.espeak",
                 chime: Path | None = None) -> None:
        if not 0 <= volume <= 200:
            raise ValueError("volume is eSpeak's amplitude, 0 to 200")
        self.name = name
        self._out_dir = None if str(output) == "default" else Path(output)
        self._rate, self._volume, self._binary = rate, volume, binary
        self._chime = chime if chime is not None and chime.is_file() else None
        self._reporter = StatusReporter(name)
        # Reentrant: a sink may call back into say() from the worker's events.
        self._cond = threading.Condition(threading.RLock())
        self._seq = 0                          # bumped by say() and stop(): newest wins
        self._pending: _Prompt | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._path: str | None = None          # the resolved binary; None = not installed

    def open(self, sink: EventSink | None = None) -> None:
        self._reporter.set_sink(sink)
        self._path = shutil.which(self._binary)
        if self._path is None:   # voice is optional: report it, never fail start-up
            self._reporter.update(DeviceState.NO_DEVICE, detail=f"{self._binary} not found")
            return
        if self._out_dir is not None:
            self._out_dir.mkdir(parents=True, exist_ok=True)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._reporter.update(DeviceState.ONLINE)

    def close(self) -> None:
        with self._cond:
            thread, self._thread = self._thread, None
            self._drop_and_interrupt()
            self._cond.notify_all()
        if thread is not None:
            thread.join()
        self._reporter.update(DeviceState.OFFLINE)

    def status(self) -> DeviceStatus:
        return self._reporter.status

    def say(self, text: str, lang: str = "zh") -> None:
        check_lang(lang)
        with self._cond:
            if self._thread is None or not text.strip():
                return   # not installed, not open, or nothing to say: silently nothing
            self._drop_and_interrupt()
            self._pending = _Prompt(self._seq, text, lang)
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._drop_and_interrupt()

    def chime(self, then: str = "", lang: str = "zh") -> None:
        if self._chime is None:        # no chime file: the words alone
            self.say(then, lang)
            return
        check_lang(lang)
        document = f"<speak><audio src={quoteattr(str(self._chime))}/>{escape(then)}</speak>"
        with self._cond:
            if self._thread is None:
                return
            self._drop_and_interrupt()
            self._pending = _Prompt(self._seq, document, lang, ssml=True)
            self._cond.notify_all()

    # --- the worker ------------------------------------------------------------------------
    def _drop_and_interrupt(self) -> None:
        """With the lock held: forget the queued prompt and kill the one being spoken."""
        self._seq += 1
        self._pending = None
        if self._proc is not None:
            _kill(self._proc)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._thread is None)
                if self._thread is None:
                    return
                prompt, self._pending = self._pending, None
            assert prompt is not None
            self._speak(prompt)

    def _speak(self, prompt: _Prompt) -> None:
        final = self._wav_path(prompt)
        part = final.with_name(f".{final.name}.part") if final else None
        try:
            proc = subprocess.Popen(self._command(prompt, part), stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    start_new_session=True)   # own group: kill takes it all
        except OSError as exc:
            self._failed(DeviceState.NO_DEVICE if isinstance(exc, FileNotFoundError)
                         else DeviceState.HARDWARE_ERROR, str(exc))
            return
        with self._cond:
            self._proc = proc
            if prompt.seq != self._seq:   # replaced while the process was starting
                _kill(proc)
        self._reporter.emit("speaking", seq=prompt.seq, lang=prompt.lang)
        _, err = proc.communicate(prompt.text.encode("utf-8"))
        with self._cond:
            self._proc = None
        self._finish(prompt, proc.returncode, err.decode("utf-8", "replace"), part, final)

    def _finish(self, prompt: _Prompt, returncode: int, stderr: str, part: Path | None,
                final: Path | None) -> None:
        if returncode < 0:   # killed: a newer prompt or stop() took over
            _remove(part)
            self._reporter.emit("interrupted", seq=prompt.seq, lang=prompt.lang)
            return
        # eSpeak NG exits 0 even when it cannot open the sound device; it says so on stderr.
        error = next((line for line in stderr.splitlines()
                      if line.lower().startswith("error")), "")
        if returncode != 0 or error:
            _remove(part)
            self._failed(DeviceState.HARDWARE_ERROR, error or f"exit status {returncode}")
            return
        if part is not None and final is not None:
            os.replace(part, final)
        self._reporter.update(DeviceState.ONLINE)
        self._reporter.emit("spoken", seq=prompt.seq, text=prompt.text, lang=prompt.lang,
                            path=str(final) if final else None)

    def _failed(self, state: DeviceState, detail: str) -> None:
        self._reporter.update(state, detail=detail)
        self._reporter.emit("error", detail=detail)

    def _command(self, prompt: _Prompt, wav: Path | None) -> list[str]:
        # The text goes on stdin (-b 1: UTF-8), never argv: a prompt starting with "-"
        # must not be read as an option.
        cmd = [self._path or self._binary, "-v", VOICES[prompt.lang], "-s", str(self._rate),
               "-a", str(self._volume), "-b", "1", *(["-m"] if prompt.ssml else [])]
        return [*cmd, "-w", str(wav)] if wav is not None else cmd

    def _wav_path(self, prompt: _Prompt) -> Path | None:
        if self._out_dir is None:
            return None
        return self._out_dir / f"{prompt.seq:06d}-{prompt.lang}.wav"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
