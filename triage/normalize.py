"""Text normalisation shared by the rules and the model: lower case, no diacritics, tidy spaces.

People type without diacritics on foreign keyboards ("pasaportul", "ar" for "är"), so both the
rules and the classifier see the same folded text.
"""
from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"(?![0-9])\d")
_SHORT_I = "\x01"  # Cyrillic й is a letter of its own, not и with a mark: kept through the fold
_UNMARKED = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "đ": "d", "ı": "i", "ð": "d", "þ": "th",
                           "\u200c": None, "\u200d": None})
"""Letters that are not a base letter with a mark, but that people type as one ("zabiła" as "zabila"), and
the zero-width (non-)joiners, which Persian writes inside words or leaves out ("نمی‌خواهم", "نمیخواهم")."""


def _ascii_digits(text: str) -> str:
    """Persian, Arabic-Indic and other decimal digits as 0-9, so "۱۷ سالمه" is read as an age."""
    if text.isascii():
        return text
    return _DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)


def fold(text: str) -> str:
    """Lower-case, strip diacritics, write digits as 0-9, normalise apostrophes and white space."""
    text = unicodedata.normalize("NFKD", _ascii_digits(text).casefold().replace("й", _SHORT_I))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text).replace(_SHORT_I, "й").translate(_UNMARKED)
    text = text.replace("\u2019", "'").replace("`", "'")
    return _SPACE.sub(" ", text).strip()
