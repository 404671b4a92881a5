"""Why a flag was raised, in the counsellor's words: a short reason key (worded in the message
catalogue, `reasons.<key>`) and the person's own words as they wrote them.

The rules match folded text ("jag ar 16"); a counsellor must read what the person wrote ("jag är 16").
`OriginalText` maps a span of the folded text back to the written words: each whitespace-separated
word is folded on its own, so a folded offset falls in a known written word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from triage.normalize import fold

REASONS = ("age_under_18", "minor_stated", "paid_meetings", "control_by_others", "danger_words", "threat_now",
           "suicide_words", "suicide_signs", "overdose_taken", "classifier_with_words", "classifier_sure", "classifier_only")
"""Every reason key; the message catalogue words each one (`reasons.<key>`) in Swedish and English."""
_WORD = re.compile(r"\S+")
_EDGE = ".,;:!?()[]\"'«»“”„…"

Span = tuple[int, int]
"""Character offsets in the folded text."""


@dataclass(frozen=True)
class Evidence:
    """A flag, the reason key and the spans of folded text that raised it."""

    flag: str
    reason: str
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class FlagReason:
    """A flag, the reason key and the person's own words (empty for the classifier alone)."""

    flag: str
    reason: str
    words: str = ""

    def to_json(self) -> dict[str, str]:
        return {"flag": self.flag, "reason": self.reason, "words": self.words}


class OriginalText:
    """A message as written, with the map from its folded form back to it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words: list[tuple[int, int, int, int]] = []
        """Per written word: its folded start and end, its written start and end."""
        at = 0
        pieces = []
        for match in _WORD.finditer(text):
            folded = fold(match.group())
            if not folded:
                continue
            pieces.append(folded)
            self.words.append((at, at + len(folded), match.start(), match.end()))
            at += len(folded) + 1
        self.aligned = " ".join(pieces) == fold(text)

    def quote(self, span: Span) -> str:
        """The written words of a folded span; whole words where folding changed a word's length."""
        start, end = span
        if not self.aligned:
            return fold(self.text)[start:end]
        pieces = [w for w in self.words if w[0] < end and start < w[1]]
        if not pieces:
            return ""
        first, last = pieces[0], pieces[-1]
        begin = first[2] + (start - first[0] if first[1] - first[0] == first[3] - first[2] else 0)
        finish = last[3] - (last[1] - end if last[1] - last[0] == last[3] - last[2] and end < last[1] else 0)
        return self.text[begin:finish].strip(_EDGE + " ")

    def reason(self, evidence: Evidence) -> FlagReason:
        words = " … ".join(q for q in dict.fromkeys(self.quote(s) for s in evidence.spans) if q)
        return FlagReason(evidence.flag, evidence.reason, words)
