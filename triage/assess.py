"""Free-text assessment: who is writing, what they need, which red flags, in which language.

Red flags are the union of the rules (which say which words fired) and the model (which catches
phrasings the rules do not know); a flag is never lowered by either. Needs come from the model, plus
`interpreter` for anyone not writing Swedish or English.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language

from triage import classifier
from triage.language import LanguageDetector
from triage.normalize import fold
from triage.redflags import RedFlagRules
from triage.result import TriageResult
from triage.vocabulary import FLAGS, GROUPS, NEEDS

FLAG_THRESHOLD = 0.5
NEED_THRESHOLD = 0.5
HOTLINE_LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class Assessment:
    group: str
    confidence: float
    needs: tuple[str, ...]
    flags: tuple[str, ...]
    flag_words: tuple[str, ...]
    language: str | None

    def result(self, queue: str = "", default_language: str = "sv") -> TriageResult:
        return TriageResult(group=self.group, flags=self.flags, needs=self.needs,
                            language=self.language or default_language, queue=queue,
                            confidence=round(self.confidence, 4), flag_words=self.flag_words)


class Assessor:
    """Loaded once (under two seconds), then used for every message."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self.rules = RedFlagRules(nlp)
        self.languages = LanguageDetector()

    @classmethod
    def load(cls, model_dir: Path) -> Assessor:
        return cls(classifier.load(model_dir))

    @classmethod
    def rules_only(cls) -> Assessor:
        """Rules and language detection without a trained model (before `lotsa triage train`)."""
        return cls(spacy.blank("xx"))

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def assess_many(self, texts: Sequence[str], batch_size: int = 256) -> list[Assessment]:
        has_model = classifier.GROUP in self.nlp.pipe_names
        out = []
        for text, doc in zip(texts, self.nlp.pipe((fold(t) for t in texts), batch_size=batch_size), strict=True):
            cats = doc.cats
            found = self.rules.find(doc)
            flags = set(found.flags)
            words = list(found.words)
            for flag in FLAGS:
                if cats.get(f"flag:{flag}", 0.0) >= FLAG_THRESHOLD and flag not in flags:
                    flags.add(flag)
                    words.append(f"({flag}: model {cats[f'flag:{flag}']:.2f})")
            language = self.languages.detect(text)
            needs = {n for n in NEEDS if cats.get(f"need:{n}", 0.0) >= NEED_THRESHOLD}
            if language is not None and language not in HOTLINE_LANGUAGES:
                needs.add("interpreter")
            if has_model:
                group = max(GROUPS, key=lambda g: cats.get(g, 0.0))
                confidence = cats.get(group, 0.0)
            else:
                group, confidence = "other", 0.0
            out.append(Assessment(group, confidence, tuple(n for n in NEEDS if n in needs),
                                  tuple(f for f in FLAGS if f in flags), tuple(words), language))
        return out
