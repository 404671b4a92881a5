"""Free-text assessment: who is writing, what they need, which red flags, in which language.

Red flags are the union of the rules (which say which words fired) and the model (which catches
phrasings the rules do not know); a flag is never lowered by either. Needs come from the model, plus
`interpreter` for anyone not writing Swedish or English.
"""
from __future__ import annotations

import string
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language

from triage import classifier
from triage.explain import FlagReason, OriginalText
from triage.features import Featurizer
from triage.language import LanguageDetector
from triage.phrasebook import PhraseBook, load_phrasebook, phrases_folder
from triage.redflags import Flags, add_exploited_minor
from triage.result import TriageResult
from triage.vocabulary import FLAGS, GROUPS, NEEDS

CUE_WEIGHT = 0.25
"""How far group cue phrases pull the model's scores (chosen by cross-validation on the training split)."""
FLAG_THRESHOLDS = {"minor": 0.6, "immediate_danger": 0.3, "suicide": 0.3, "trafficking": 0.4}
"""The model's say on a red flag counts from these scores: missing a flag costs more than a false alarm.
Chosen by `benchmarks/triage_crossval.py` (4-fold cross-validation on the training split): each is the
highest score whose out-of-fold recall is within 0.02 of the recall at 0.2 (with the model of 2026-12-04:
danger 0.839 against 0.843, suicide 0.874 against 0.889, trafficking 0.838 against 0.851). For `minor`
the model adds nothing to the rules' recall, so it only counts when it is sure. Danger and suicide, where
a miss costs most, count from the highest score that keeps the recall of 0.25 at no more than 0.005 of
precision lost against 0.4 (2026-12-05: suicide 0.892 against 0.885 at 0.4, precision 0.943 against 0.946;
danger 0.849 against 0.846, precision 0.780 against 0.782). Below RAISED_ALONE that is only with words in
the message that back the flag (a means, a weak sign, a threat word); without them the flag is possible."""
SURE_THRESHOLDS: dict[str, float] = {}
"""The classifier alone, without words in the message that back it, raises a flag only from these scores:
each is the lowest score whose out-of-fold precision alone is at least 0.9 on at least ten messages
(`benchmarks/triage_crossval.py`). With the model of 2026-12-04 no flag gets there (trafficking: 0.786 on
14 at 0.9, 0.667 on 6 at 0.95; the model before reached 0.909 on 11 at 0.9). A flag with none is never
raised by the classifier alone (but see RAISED_ALONE). Below, its flag is only "possible"."""
RAISED_ALONE = {"suicide": 0.4, "immediate_danger": 0.4}
"""Flags the classifier raises alone, from these scores, for safety: a missed person in danger costs more
than a false alarm. On the second blind set (tests/data/triage_holdout.jsonl, 278 messages) leaving them
"possible" routed only 42 of 51 people in danger or at risk of suicide acute, against 49 of 51 when they
count. Each score is the lowest at which the model alone is right at least as often as wrong out of fold
(`benchmarks/triage_crossval.py`, on at least ten messages: suicide 0.52 on 25 at 0.3, immediate danger
0.50 on 24 at 0.4), and no lower than FLAG_THRESHOLDS; below it the flag is only possible."""
PUNCTUATION = string.punctuation + "…¿¡«»“”„’"
MODEL_MIN_WORDS = 4
MODEL_MIN_LETTERS = 24
"""The model alone raises a flag only on a message with this many words or letters: on "hey whats up"
or "contact 12 round 3" its flag scores are noise, and a false alarm re-orders everyone's queue."""
NEED_THRESHOLD = 0.5
HOTLINE_LANGUAGES = ("sv", "en")


UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF), (0x4E00, 0x9FFF))
"""Thai, Lao, Myanmar, Khmer, Japanese kana and CJK: scripts written without spaces between words."""


def _unspaced(word: str) -> bool:
    return any(low <= ord(word[0]) <= high for low, high in UNSPACED)


def enough_words(text: str) -> bool:
    """Whether a message says enough for the model's own say on a red flag (MODEL_MIN_WORDS). Text in a
    script written without spaces does not count: the model sees a few long tokens it never learnt, and
    its flag scores there are noise (the phrase book's substrings read it instead)."""
    words = [w for w in (t.strip(PUNCTUATION) for t in text.split()) if w.isalpha()]
    return len(words) >= MODEL_MIN_WORDS or sum(c.isalpha() and not _unspaced(c) for c in text) >= MODEL_MIN_LETTERS


def someones_trade(found: Flags) -> bool:
    """Control by others or danger now found in a message that is not about a topic: the writer is in it or
    close to it, so never `other` (greetings, tests, spam, general curiosity). Not the exchange words: they
    include everyday ones ("swish", "presentkort") that spam has too."""
    return not found.topic and bool({"trafficking", "immediate_danger"} & found.flags)


def blend(cats: dict[str, float], cues: dict[str, int], weight: float) -> dict[str, float]:
    """The model's group scores, pulled towards the groups whose cue phrases the message has."""
    total = sum(cues.values())
    if not total or not weight:
        return {g: cats.get(g, 0.0) for g in GROUPS}
    return {g: (1 - weight) * cats.get(g, 0.0) + weight * cues.get(g, 0) / total for g in GROUPS}


@dataclass(frozen=True)
class Assessment:
    group: str
    confidence: float
    needs: tuple[str, ...]
    flags: tuple[str, ...]
    flag_words: tuple[str, ...]
    language: str | None
    possible_flags: tuple[str, ...] = ()
    """Flags only the classifier saw, without evidence in the message: shown, but they change neither
    the risk nor the queue."""
    reasons: tuple[FlagReason, ...] = ()
    """Why each flag and possible flag: a reason key and the person's own words."""

    def result(self, queue: str = "", default_language: str = "sv") -> TriageResult:
        return TriageResult(group=self.group, flags=self.flags, needs=self.needs,
                            language=self.language or default_language, queue=queue,
                            confidence=round(self.confidence, 4), flag_words=self.flag_words)


class Assessor:
    """Loaded once (under two seconds), then used for every message. `phrases` is the phrase book of
    the configuration, loaded (and validated) at start."""

    def __init__(self, nlp: Language, cue_weight: float | None = None,
                 flag_thresholds: dict[str, float] | None = None, *, phrases: PhraseBook) -> None:
        self.nlp = nlp
        self.phrases = phrases
        self.cue_weight = CUE_WEIGHT if cue_weight is None else cue_weight
        self.flag_thresholds = FLAG_THRESHOLDS if flag_thresholds is None else flag_thresholds
        self.sure_thresholds = dict(SURE_THRESHOLDS)
        self.features = Featurizer(nlp, phrases)
        self.languages = LanguageDetector()

    @classmethod
    def load(cls, model_dir: Path, phrases: PhraseBook | None = None) -> Assessor:
        """The trained model in `model_dir` (config/triage/model) with the phrase book given, or else
        the one of the same configuration (config/triage/phrases, next to the model)."""
        book = phrases if phrases is not None else load_phrasebook(phrases_folder(model_dir.parent))
        return cls(classifier.load(model_dir), phrases=book)

    @classmethod
    def rules_only(cls, phrases: PhraseBook) -> Assessor:
        """Rules and language detection without a trained model (before `lotsa triage train`)."""
        return cls(spacy.blank("xx"), phrases=phrases)

    def with_phrases(self, phrases: PhraseBook) -> Assessor:
        """The same model and language detection with another phrase book (newly published, or an
        admin's draft): nothing is loaded again."""
        other = copy(self)
        other.phrases = phrases
        other.features = Featurizer(self.nlp, phrases)
        return other

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def scores_of(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """The classifier's scores for each text (for choosing thresholds)."""
        featurized = self.features(texts, [self.languages.detect(t) for t in texts])
        return [dict(doc.cats) for doc in self.nlp.pipe(doc for _, doc in featurized)]

    def assess_many(self, texts: Sequence[str], batch_size: int = 256) -> list[Assessment]:
        has_model = classifier.GROUP in self.nlp.pipe_names
        languages = [self.languages.detect(t) for t in texts]
        featurized = list(self.features(texts, languages))
        processed = self.nlp.pipe((doc for _, doc in featurized), batch_size=batch_size)
        out = []
        for text, language, (found, _), doc in zip(texts, languages, featurized, processed, strict=True):
            cats = doc.cats
            possible = self._model_flags(found, cats, enough_words(text))
            add_exploited_minor(found)
            needs = found.needs | {n for n in NEEDS if cats.get(f"need:{n}", 0.0) >= NEED_THRESHOLD}
            if any(e.reason == "overdose_taken" for e in found.evidence):
                needs.add("health")  # an overdose taken needs care now, whatever else is said
            if any(e.reason == "paid_meetings" for e in found.evidence):
                needs.add("legal")  # a child paid for sex is a crime against the child: the way to report it
            if language is not None and language not in HOTLINE_LANGUAGES:
                needs.add("interpreter")
            if has_model:
                scores = blend(cats, found.cues, self.cue_weight)
                candidates = GROUPS if not someones_trade(found) else tuple(g for g in GROUPS if g != "other")
                group = max(candidates, key=lambda g: scores[g])
                confidence = scores[group]
            else:
                group, confidence = "other", 0.0
            reasons: tuple[FlagReason, ...] = ()
            if found.evidence:  # most messages have none: map back to the written words only when needed
                original = OriginalText(text)
                reasons = tuple(dict.fromkeys(original.reason(e) for e in found.evidence))
            reasons += tuple(FlagReason(f, "classifier_only") for f in FLAGS if f in possible)
            out.append(Assessment(group, confidence, tuple(n for n in NEEDS if n in needs),
                                  tuple(f for f in FLAGS if f in found.flags), tuple(found.words), language,
                                  tuple(f for f in FLAGS if f in possible), reasons))
        return out

    def _model_flags(self, found: Flags, cats: dict[str, float], may_flag: bool) -> set[str]:
        """Adds to `found` the flags the classifier sees with evidence a counsellor can see: words that
        back the flag in the message, or a score sure enough alone (SURE_THRESHOLDS). Returns the flags
        it sees without either: only possible. A message about a topic gets possible flags only, and so does a
        flag whose words the message has but that do not count (negated, over, an everyday use). A minor the
        rules found backs `trafficking` (any exploitation of a child is trafficking, and the risk is acute
        already)."""
        possible: set[str] = set()
        for flag in FLAGS:
            score = cats.get(f"flag:{flag}", 0.0)
            if flag in found.flags or not may_flag or score < self.flag_thresholds[flag]:
                continue
            backing = found.support.get(flag, [])
            if flag == "trafficking" and "minor" in found.flags:
                backing = [s for e in found.evidence if e.flag == "minor" for s in e.spans] + backing
            if found.topic or flag in found.denied or (flag == "trafficking" and found.reassured):
                possible.add(flag)
            elif flag in RAISED_ALONE and not backing and score < self.sure_thresholds.get(flag, 2.0):
                if score >= RAISED_ALONE[flag]:
                    found.add(flag, f"({flag}: classifier)", "classifier_safety")
                else:
                    possible.add(flag)
            elif backing:
                found.add(flag, f"({flag}: classifier + words)", "classifier_with_words", tuple(backing[:2]))
            elif score >= self.sure_thresholds.get(flag, 2.0):
                found.add(flag, f"({flag}: classifier)", "classifier_sure")
            else:
                possible.add(flag)
        return possible
