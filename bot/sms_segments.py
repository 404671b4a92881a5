"""How many SMS segments a text costs, counted as carriers (and Twilio, which bills per segment) do.

A text whose every character is in the GSM 03.38 alphabet goes as GSM-7: 160 septets in one
segment; a longer text is split into segments of 153 septets (the other 7 carry the header that
joins them again). A character of the extension table (`€`, `[`, `{`, …) costs two septets, an
escape and the character, and the pair is never split across two segments. A single character
outside the alphabet (`ă`, `•`, a Cyrillic letter, an emoji, a typographic quote) turns the whole
text into UCS-2: 70 UTF-16 code units in one segment, 67 per segment when split, a surrogate pair
(an emoji) never split.
"""
from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
"""The 128 characters of the GSM 03.38 default alphabet (less 0x1B, the escape to the extension table)."""
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""The default extension table: each costs the escape and itself, two septets."""

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsCost:
    encoding: str
    """"GSM-7" or "UCS-2"."""
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    segments: int
    offending: str = ""
    """The characters that forced UCS-2, in order of first appearance (empty for GSM-7)."""


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _pack(sizes: list[int], single: int, part: int) -> int:
    """Segments needed for characters of these sizes (units each), a character never split."""
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


def sms_cost(text: str) -> SmsCost:
    """The encoding, length in units and number of segments of `text` as one SMS body."""
    if is_gsm7(text):
        sizes = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SmsCost("GSM-7", sum(sizes), _pack(sizes, GSM7_SINGLE, GSM7_PART))
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    offending = "".join(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    return SmsCost("UCS-2", sum(sizes), _pack(sizes, UCS2_SINGLE, UCS2_PART), offending)


def segments(text: str) -> int:
    """How many segments `text` takes as one SMS."""
    return sms_cost(text).segments
