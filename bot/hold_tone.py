"""Lotsa's own hold tone: a soft two-note chime every few seconds, generated as a small WAV (8 kHz,
16-bit mono, what a phone line carries) so that no external music URL is ever fetched by Twilio."""
from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

RATE = 8000
SECONDS = 16
"""Length of one play: the hold loop speaks between plays, so this bounds the time without a word."""
EVERY = 4.0
"""A chime starts every EVERY seconds: the longest silence in the file is under EVERY."""
NOTES = ((523.25, 0.0), (659.25, 0.35))
"""(frequency in Hz, start within the chime in seconds): C5 then E5."""
VOLUME = 0.18


def _sample(t: float) -> float:
    into = t % EVERY
    value = 0.0
    for frequency, start in NOTES:
        age = into - start
        if 0 <= age < 1.2:
            envelope = min(1.0, age / 0.02) * math.exp(-age * 4.0)
            value += envelope * math.sin(2 * math.pi * frequency * age)
    return VOLUME * value


@cache
def hold_tone() -> bytes:
    """The WAV file's bytes (built once per process)."""
    frames = b"".join(struct.pack("<h", int(32767 * _sample(n / RATE))) for n in range(RATE * SECONDS))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return buffer.getvalue()
