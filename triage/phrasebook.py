"""The phrase book: the phrases the red-flag rules and the group cues match, kept as data an admin
edits (config/triage/phrases/*.yaml), validated once at start and versioned by a hash of its content.

One file per table: a file per red flag (`suicide`, `immediate_danger`, `trafficking`, `minor`),
`exchange` (sex or images for money, goods or a bed), `idioms` (figures of speech that cancel a
suicide or danger match), `cues` (who is writing), `context` (wording around a flag phrase that
means it is no indicator: a topic asked about, reassurance, danger that is over, a class of people,
everyday uses of the words) and `needs` (what would help).

Phrases are folded text (triage.normalize.fold: lower case, no diacritics), tokens separated by
spaces: `word~` matches any token starting with `word`; `*` is one optional token of any kind; `...`
is up to four tokens of any kind; `a|b` is either word. A phrase cannot start with `*` or `...`.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, cast

import spacy
import yaml
from lingua import Language
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from spacy.language import Language as Pipeline

from triage.normalize import fold
from triage.script import ScriptError
from triage.vocabulary import GROUPS, NEEDS

FLAG_FILES = ("suicide", "immediate_danger", "trafficking", "minor")
"""In the order the rules compile them, which is the order a message's flag words are reported in."""
WILDCARDS = ("*", "...")
LANGUAGES = frozenset({lang.iso_code_639_1.name.lower() for lang in Language.all()} | {"other"})
"""ISO 639-1 codes (those language detection knows), and `other` for words shared by many languages."""

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class PhraseBookError(ScriptError):
    """The phrase book is invalid; the message names the file, the key and the phrase.

    A kind of ScriptError: the phrases are part of what a triage version is, and whoever reports an
    invalid triage script at start reports an invalid phrase book the same way."""


def _check_phrases(phrases: list[str]) -> list[str]:
    seen: set[str] = set()
    for phrase in phrases:
        if not phrase.strip():
            raise ValueError("an empty phrase")
        if phrase.split()[0] in WILDCARDS:
            raise ValueError(f"{phrase!r} starts with a wildcard ({' or '.join(WILDCARDS)} cannot come first)")
        if fold(phrase) != phrase:
            raise ValueError(f"{phrase!r} is not folded text: write {fold(phrase)!r}")
        for word in phrase.split():
            if "|" in word:
                _check_alternatives(phrase, word)
        if phrase in seen:
            raise ValueError(f"{phrase!r} is listed twice")
        seen.add(phrase)
    return phrases


@cache
def _tokenizer() -> Pipeline:
    return spacy.blank("xx")


def _check_alternatives(phrase: str, word: str) -> None:
    """`a|b` is one token of the message that is either word. An alternative of several words written with spaces
    around `|` ("hela kartan | hela burken", "tog alla |svalde"), an empty one, one with `~` or `-`, or one the tokenizer splits
    ("don't|do") would never match what its writer meant, and nothing would say so: refused here."""
    alternatives = word.split("|")
    if not all(alternatives):
        raise ValueError(f"{phrase!r}: `|` joins whole words with no space around it (a|b); an alternative of "
                         "several words cannot be written: write a phrase for each")
    for alternative in alternatives:
        if any(c in alternative for c in "~-") or len(_tokenizer().make_doc(alternative)) != 1:
            raise ValueError(f"{phrase!r}: an alternative in {word!r} is one whole word, without `~` or `-` and "
                             f"not split by the tokenizer ({alternative!r} is not): write a phrase for each")


def _check_language(key: str) -> str:
    if key not in LANGUAGES:
        raise ValueError(f"unknown language {key!r} (an ISO 639-1 code such as sv, en, ro, bg, or other)")
    return key


def _check_group(key: str) -> str:
    if key not in GROUPS:
        raise ValueError(f"unknown group {key!r} (one of {', '.join(GROUPS)})")
    return key


Phrases = Annotated[list[str], AfterValidator(_check_phrases)]
LanguageKey = Annotated[str, AfterValidator(_check_language)]
GroupKey = Annotated[str, AfterValidator(_check_group)]


def _check_need(key: str) -> str:
    if key not in NEEDS:
        raise ValueError(f"unknown need {key!r} (one of {', '.join(NEEDS)})")
    return key


NeedKey = Annotated[str, AfterValidator(_check_need)]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FlagFile(_File):
    phrases: dict[LanguageKey, Phrases]
    """Any one of these raises the flag."""
    substrings: Phrases = []
    """Matched inside the text, for scripts written without spaces (Thai); never ASCII text."""
    support: dict[LanguageKey, Phrases] = {}
    """Not enough alone, but back the classifier's say on the flag (evidence a counsellor can see)."""


class SuicideFile(FlagFile):
    signs: Phrases = []
    weak: Phrases = []
    means: Phrases = []
    taken: Phrases = []
    """An overdose or a means already taken: suicide and immediate danger both."""
    taken_substrings: Phrases = []
    """`taken` for scripts written without spaces (Thai): matched inside the text; never ASCII text."""


class DangerFile(FlagFile):
    urgent: Phrases = []
    threat: Phrases = []


class ByLanguageFile(_File):
    phrases: dict[LanguageKey, Phrases]


class ExchangeFile(ByLanguageFile):
    substrings: Phrases = []
    """Matched inside the text, for scripts written without spaces (Thai); never ASCII text."""


class ListFile(_File):
    phrases: Phrases


class CuesFile(_File):
    groups: dict[GroupKey, Phrases]
    substrings: dict[GroupKey, Phrases] = {}
    """Per group: matched inside the text, for scripts written without spaces (Thai); never ASCII text."""


CONTEXT_KINDS = ("topic", "subject", "reassuring", "over", "class", "incidental", "role", "client", "paying",
                 "animal")


class ContextFile(_File):
    """Per kind, per language. `topic`: the message asks about a subject (a thesis, a training day, a
    novel); then `subject` words (that name the subject: "trafficking", "year 8") raise no flag.
    `reassuring`: a trafficking phrase in the same sentence does not count ("has her own passport").
    `over`: danger that is over ("moved abroad", "safe now") cancels danger phrases unless something
    happens now, and a trafficking phrase in its own sentence ("in jail for pimping"). `class`: a flag phrase in the same sentence after it is said of people in general
    ("women who"). `incidental`: a flag phrase inside one is an everyday use ("passport office"). `role`:
    the writer states a work role; a `subject` word in a question is then asked about. `client`: the one
    who holds the writer is a client, or the writer has locked themself in to hide ("a client won't let me
    leave", "I locked myself in"): danger, not control by others, so a trafficking phrase it overlaps or
    that follows closely in the same sentence does not count. `paying`: the exchange is a minor paying, or
    a parent selling or buying ("I'm 16 and paid a girl", "my mum sells sex"): exchange words near it do not
    make a minor a trafficking victim (the README's convention). `animal`: a pet or an animal named just
    before an overdose, poison or pills swallowed ("my dog ate rat poison") is the one who swallowed it: no
    overdose and no suicide."""

    topic: dict[LanguageKey, Phrases] = {}
    subject: dict[LanguageKey, Phrases] = {}
    reassuring: dict[LanguageKey, Phrases] = {}
    over: dict[LanguageKey, Phrases] = {}
    class_: dict[LanguageKey, Phrases] = Field(default={}, alias="class")
    incidental: dict[LanguageKey, Phrases] = {}
    role: dict[LanguageKey, Phrases] = {}
    client: dict[LanguageKey, Phrases] = {}
    paying: dict[LanguageKey, Phrases] = {}
    animal: dict[LanguageKey, Phrases] = {}


class NeedsFile(_File):
    """Per need, per language: a phrase says the need (added to what the classifier finds)."""

    needs: dict[NeedKey, dict[LanguageKey, Phrases]]
    substrings: dict[NeedKey, Phrases] = {}
    """Per need: matched inside the text, for scripts written without spaces (Thai); never ASCII text."""


SCHEMAS: dict[str, type[_File]] = {"suicide": SuicideFile, "immediate_danger": DangerFile, "trafficking": FlagFile,
                                   "minor": FlagFile, "exchange": ExchangeFile, "idioms": ListFile, "cues": CuesFile,
                                   "context": ContextFile, "needs": NeedsFile}


@dataclass(frozen=True, eq=False)
class PhraseBook:
    """The validated phrase tables. `digest` is the SHA-256 of their canonical JSON: a triage version
    includes it, so a conversation records which phrases it was triaged with."""

    folder: Path
    digest: str
    flags: Mapping[str, Mapping[str, tuple[str, ...]]]
    """Per flag, per language: any one raises the flag."""
    substrings: Mapping[str, tuple[str, ...]]
    signs: tuple[str, ...]
    """Suicide said without the word (a farewell, a dose, a place to jump): enough alone."""
    weak: tuple[str, ...]
    """Weak signs of suicide: two of them, or one with a means, raise the flag."""
    means: tuple[str, ...]
    taken: tuple[str, ...]
    """An overdose or a means already taken: suicide and immediate danger both."""
    taken_substrings: tuple[str, ...]
    urgent: tuple[str, ...]
    threat: tuple[str, ...]
    """Urgency and a threat in one message raise immediate danger."""
    exchange: Mapping[str, tuple[str, ...]]
    exchange_substrings: tuple[str, ...]
    idioms: tuple[str, ...]
    cues: Mapping[str, tuple[str, ...]]
    support: Mapping[str, tuple[str, ...]]
    """Per flag, all languages: words that back the classifier's say on it."""
    context: Mapping[str, tuple[str, ...]]
    """Per kind (CONTEXT_KINDS), all languages."""
    needs: Mapping[str, tuple[str, ...]]
    """Per need, all languages."""
    need_substrings: Mapping[str, tuple[str, ...]]
    cue_substrings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def flag_phrases(self, flag: str) -> list[str]:
        """Every phrase of a flag, all languages together (people mix languages)."""
        return [p for phrases in self.flags[flag].values() for p in phrases]


def _describe(path: Path, error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        key = ".".join(str(p) for p in err["loc"] if p != "[key]")
        parts.append(f"{path}: {key + ': ' if key else ''}{err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _read(path: Path, schema: type[_File]) -> _File:
    try:
        content = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as e:
        raise PhraseBookError(f"{path}: {e}") from None
    if not isinstance(content, dict):
        raise PhraseBookError(f"{path}: a phrase file is a mapping")
    try:
        return schema.model_validate(content)
    except ValidationError as e:
        raise PhraseBookError(_describe(path, e)) from None


def _read_folder(folder: Path) -> dict[str, _File]:
    if not folder.is_dir():
        raise PhraseBookError(f"{folder}: no phrase book folder")
    names = sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    unknown = [n for n in names if n.removesuffix(".yaml") not in SCHEMAS]
    if unknown:
        raise PhraseBookError(f"{folder / unknown[0]}: unknown phrase file (the files are "
                              f"{', '.join(f'{s}.yaml' for s in SCHEMAS)})")
    missing = [s for s in SCHEMAS if f"{s}.yaml" not in names]
    if missing:
        raise PhraseBookError(f"{folder / (missing[0] + '.yaml')}: missing (every phrase file is needed)")
    return {stem: _read(folder / f"{stem}.yaml", schema) for stem, schema in SCHEMAS.items()}


def _tuples(by_key: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(phrases) for key, phrases in by_key.items()}


def digest_of(files: Mapping[str, BaseModel]) -> str:
    """SHA-256 of the canonical JSON of the validated files (so formatting and comments do not count)."""
    content: dict[str, Any] = {stem: model.model_dump(mode="json") for stem, model in files.items()}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _build(folder: Path) -> PhraseBook:
    files = _read_folder(folder)
    flags = {flag: cast(FlagFile, files[flag]) for flag in FLAG_FILES}
    suicide, danger = cast(SuicideFile, files["suicide"]), cast(DangerFile, files["immediate_danger"])
    exchange, idioms = cast(ExchangeFile, files["exchange"]), cast(ListFile, files["idioms"])
    return PhraseBook(
        folder=folder, digest=digest_of(files),
        flags={flag: _tuples(f.phrases) for flag, f in flags.items()},
        substrings={flag: tuple(f.substrings) for flag, f in flags.items()},
        signs=tuple(suicide.signs), weak=tuple(suicide.weak), means=tuple(suicide.means), taken=tuple(suicide.taken),
        taken_substrings=tuple(suicide.taken_substrings),
        urgent=tuple(danger.urgent), threat=tuple(danger.threat), exchange=_tuples(exchange.phrases),
        exchange_substrings=tuple(exchange.substrings),
        idioms=tuple(idioms.phrases), cues=_tuples(cast(CuesFile, files["cues"]).groups),
        support={flag: _joined(f.support) for flag, f in flags.items()},
        context=_context(cast(ContextFile, files["context"])),
        needs={need: _joined(by_language) for need, by_language in cast(NeedsFile, files["needs"]).needs.items()},
        need_substrings=_tuples(cast(NeedsFile, files["needs"]).substrings),
        cue_substrings=_tuples(cast(CuesFile, files["cues"]).substrings))


def _joined(by_language: Mapping[str, list[str]]) -> tuple[str, ...]:
    """Every language's phrases together, each once (people mix languages)."""
    return tuple(dict.fromkeys(p for phrases in by_language.values() for p in phrases))


def _context(file: ContextFile) -> dict[str, tuple[str, ...]]:
    return {kind: _joined(getattr(file, "class_" if kind == "class" else kind)) for kind in CONTEXT_KINDS}


_loaded: dict[tuple[Path, tuple[tuple[str, int, int], ...]], PhraseBook] = {}


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        stats = [(p.name, p.stat()) for p in sorted(folder.iterdir())]
    except OSError:
        return ()
    return tuple((name, s.st_mtime_ns, s.st_size) for name, s in stats)


def load_phrasebook(folder: Path) -> PhraseBook:
    """Read and validate a phrase book folder (raises PhraseBookError naming file, key and phrase).

    The script loader (for the digest) and the assessor both load the config's folder at start: the
    second call gets the book the first one validated, unless a file changed in between."""
    key = (folder.resolve(), _signature(folder))
    book = _loaded.get(key) if key[1] else None
    if book is None:
        book = _build(folder)
        _loaded.clear()
        _loaded[key] = book
    return book


def phrases_folder(triage_folder: Path) -> Path:
    """Where a configuration's phrase book is: `phrases/` next to its scripts and its model."""
    return triage_folder / "phrases"
