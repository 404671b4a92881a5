"""Text normalisation shared by the rules and the model: lower case, no diacritics, tidy spaces.

People type without diacritics on foreign keyboards ("pasaportul", "ar" for "är"), so both the
rules and the classifier see the same folded text.
"""
from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_SHORT_I = "\x01"  # Cyrillic й is a letter of its own, not и with a mark: kept through the fold


def fold(text: str) -> str:
    """Lower-case, strip diacritics, normalise apostrophes and white space."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("й", _SHORT_I))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text).replace(_SHORT_I, "й")
    text = text.replace("\u2019", "'").replace("`", "'")
    return _SPACE.sub(" ", text).strip()
