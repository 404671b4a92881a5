"""What the classifier sees: the folded words, then one token per group cue and per rule-flag
that fired. Training and prediction go through the same featurizer."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from spacy.language import Language
from spacy.tokens import Doc

from triage.normalize import fold
from triage.phrasebook import PhraseBook
from triage.phrases import PhraseSet
from triage.redflags import Flags, RedFlagRules

SHORT = 2
SHORT_LETTERS = 24
"""A message of this many words or fewer, and no longer than SHORT_LETTERS characters, is marked short:
greetings and tests mostly. The length matters for scripts written without spaces (Thai), where a whole
message is one or two words."""
PREFIX = 5
"""Longer words also count by their first letters, so inflections and typos share evidence."""
FIRST_PERSON = frozenset({"jag", "mig", "mej", "min", "mitt", "mina", "i", "im", "i'm", "me", "my", "myself", "eu", "ma",
                          "mi", "meu", "mea", "imi", "аз", "ме", "ми", "мен", "съм", "az", "yo", "я", "мне", "ja"})
THIRD_PERSON = frozenset({"hon", "han", "henne", "honom", "hennes", "hans", "she", "he", "her", "him", "his", "hers",
                          "ea", "el", "ei", "lui", "тя", "той", "нея", "него", "ѝ", "му", "ella", "она", "он", "ona"})


class Featurizer:
    def __init__(self, nlp: Language, phrases: PhraseBook) -> None:
        self.nlp = nlp
        self.rules = RedFlagRules(nlp, phrases)
        self.cues = PhraseSet(nlp, phrases.cues)
        self.needs = PhraseSet(nlp, phrases.needs)
        self.need_substrings = phrases.need_substrings
        self.cue_substrings = phrases.cue_substrings

    def __call__(self, texts: Sequence[str], languages: Sequence[str | None]) -> Iterable[tuple[Flags, Doc]]:
        for text, language in zip(texts, languages, strict=True):
            folded = fold(text)
            doc = self.nlp.make_doc(folded)   # doc.text is `folded` again, rebuilt from the tokens at each use
            words = [t.text for t in doc]
            lowered = [w.lower() for w in words]
            flags = self.rules.find(doc, language, lowered)
            for group, _, _ in self.cues(doc, lowered):
                flags.cues[group] = flags.cues.get(group, 0) + 1
            flags.needs.update(need for need, _, _ in self.needs(doc, lowered))
            if not folded.isascii():
                flags.needs.update(n for n, subs in self.need_substrings.items() if any(x in folded for x in subs))
                for group, subs in self.cue_substrings.items():
                    hits = sum(x in folded for x in subs)
                    if hits:
                        flags.cues[group] = flags.cues.get(group, 0) + hits
            extra = sorted(f"zzcue_{group}" for group in flags.cues)
            extra += [f"zzp_{w[:PREFIX]}" for w in words if len(w) > PREFIX + 1 and w.isalpha()]
            first = sum(w in FIRST_PERSON for w in words)
            third = sum(w in THIRD_PERSON for w in words)
            if first or third:
                extra.append("zzself" if first > third else "zzother" if third > first else "zzboth")
            extra += [f"zzrule_{f}" for f in sorted(flags.flags)]
            if sum(1 for w in words if w.isalpha()) <= SHORT and len(folded) <= SHORT_LETTERS:
                extra.append("zzshort")
            yield flags, Doc(self.nlp.vocab, words=words + extra)
