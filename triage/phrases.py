"""Fast matching of many phrase patterns (the syntax is described in triage.phrasebook).

Plain phrases go to spaCy's PhraseMatcher (hashing, fast whatever their number). Phrases with
`word~`, `a|b`, `*` or `...` are indexed by their first word (or prefix) and verified token by
token, so a message only pays for the few patterns that could start at each of its words.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from triage.normalize import fold

GAP = 4


@dataclass(frozen=True)
class _Part:
    kind: str  # "word", "prefix", "alt", "opt" (one optional token), "gap" (up to GAP tokens)
    values: tuple[str, ...] = ()

    def accepts(self, token: str) -> bool:
        if self.kind == "word":
            return token == self.values[0]
        if self.kind == "alt":
            return token in self.values
        return token.startswith(self.values[0])


def _parse(tokens: list[str]) -> list[_Part]:
    parts = []
    for token in tokens:
        if token == "*":
            parts.append(_Part("opt"))
        elif token == "...":
            parts.append(_Part("gap"))
        elif token.endswith("~"):
            parts.append(_Part("prefix", (token[:-1],)))
        elif "|" in token:
            parts.append(_Part("alt", tuple(token.split("|"))))
        else:
            parts.append(_Part("word", (token,)))
    if parts[0].kind in ("opt", "gap"):
        raise ValueError(f"a phrase cannot start with a wildcard: {' '.join(tokens)}")
    return parts


def _match_from(parts: list[_Part], words: list[str], i: int, j: int = 0) -> int | None:
    """The end of a match of parts[j:] starting at words[i], or None."""
    if j == len(parts):
        return i
    part = parts[j]
    if part.kind == "opt":
        return _match_from(parts, words, i, j + 1) or (
            _match_from(parts, words, i + 1, j + 1) if i < len(words) else None)
    if part.kind == "gap":
        for skip in range(GAP + 1):
            if i + skip > len(words):
                break
            end = _match_from(parts, words, i + skip, j + 1)
            if end is not None:
                return end
        return None
    if i < len(words) and part.accepts(words[i]):
        return _match_from(parts, words, i + 1, j + 1)
    return None


class PhraseSet:
    """Labelled phrases compiled once for a tokenizer; calling it on a doc gives (label, start, end).
    Phrases are folded like the messages are, so "её" or "vill dö" match however they are listed."""

    def __init__(self, nlp: Language, labelled: Mapping[str, Iterable[str]]) -> None:
        self.plain = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.by_word: dict[str, list[tuple[str, list[_Part]]]] = defaultdict(list)
        self.by_prefix: dict[str, list[tuple[str, list[_Part]]]] = defaultdict(list)
        plain: dict[str, list[Doc]] = defaultdict(list)
        for label, phrases in labelled.items():
            for phrase in phrases:
                tokens = [t.text for t in nlp.make_doc(fold(phrase))]
                if not any(t in ("*", "...") or t.endswith("~") or "|" in t for t in tokens):
                    plain[label].append(nlp.make_doc(" ".join(tokens)))
                    continue
                parts = _parse(tokens)
                first = parts[0]
                index = self.by_prefix if first.kind == "prefix" else self.by_word
                for value in first.values:
                    index[value].append((label, parts))
        for label, docs in plain.items():
            self.plain.add(label, docs)
        self.prefix_lengths = sorted({len(p) for p in self.by_prefix})

    def __call__(self, doc: Doc, words: list[str] | None = None) -> list[tuple[str, int, int]]:
        """Matches in a doc; `words` are its lower-case tokens when the caller has them already."""
        strings = doc.vocab.strings
        found = [(strings[m], s, e) for m, s, e in self.plain(doc)]
        words = words if words is not None else [t.lower_ for t in doc]
        for i, word in enumerate(words):
            candidates = list(self.by_word.get(word, ()))
            for length in self.prefix_lengths:
                if length > len(word):
                    break
                candidates += self.by_prefix.get(word[:length], ())
            for label, parts in candidates:
                end = _match_from(parts, words, i)
                if end is not None:
                    found.append((label, i, end))
        return found
