"""Write assets/sounds/chime.wav: the staff-call chime, two soft tones (880 Hz, 660 Hz) at
eSpeak NG's own format (22 050 Hz, 16-bit mono), so it plays through the speaker backend
unchanged. Deterministic: running it again gives the same bytes.

    .venv/bin/python scripts/make_chime.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
TONES = ((880.0, 0.25), (660.0, 0.45))     # "ding-dong": Hz, seconds
PEAK = 12000                               # of 32767: loud enough in a hall, not harsh
OUT = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "chime.wav"


def samples() -> bytes:
    out = bytearray()
    for freq, seconds in TONES:
        count = int(RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / 200) * math.exp(-3.0 * i / count)   # no click, a decay
            out += struct.pack("<h", int(PEAK * envelope * math.sin(2 * math.pi * freq * i
                                                                     / RATE)))
    return bytes(out)


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples())
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
