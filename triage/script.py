"""Triage scripts: data an admin edits (config/triage/*.yaml), validated once, versioned by hash.

A step is one of:
- a question with `choices` (buttons on web and Telegram, numbers on SMS, keypad digits on voice);
  each choice may `set` fields (group, needs, language, consent, source) and names the `next` step;
- a `free_text` question: the answer is classified (group, needs, red flags) and the dialogue goes on
  to `free_text.next`; it may also offer choices (e.g. "skip");
- a `branch` without text: the first rule whose `if` holds names the next step, else `otherwise`;
  conditions look at fields and at what the classifier found (group, need, flag, risk, language,
  consent, source), each an exact value or a list of values;
- an ending: `end: handoff` (to the queue triage picks, or `queue:` to a named one) or `end: close`
  (after self-help information).
Every question also accepts "talk to someone" (the script's `talk_to_someone` labels, or 0), which
hands off at once. Texts are complete in `languages`; `partial_languages` may leave texts out, which
then come in `fallback_language`.

Any text mapping (a step's `text`, a choice's `label`, `acute_handoff`, ...) may carry a channel
variant: `voice: {sv: ..., en: ...}` (or `sms:`, `telegram:`) is said on that channel instead of the
plain text. A variant declares the plain text wrong for that channel, so it must give every language
the plain text gives: a phone prompt never falls back to a chat-only text. On the phone a free-text
question is asked only when its `text` has a `voice` variant (its choices are then the keypad);
otherwise the phone goes straight on to `free_text.next`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from triage.vocabulary import FLAGS, GROUPS, NEEDS, RISKS

Texts = dict[str, str | dict[str, str]]
"""Language → text, and optionally channel → (language → text): see the module docstring."""
CHANNEL_VARIANTS = ("voice", "sms", "telegram")
FIELDS = ("group", "needs", "language", "consent", "source")
CONDITIONS = ("group", "need", "flag", "risk", "language", "consent", "source")
PHRASES_DIGEST = "phrases_digest"
"""The key of a script's stored content that holds the digest of the phrase book it ran with."""


class ScriptError(Exception):
    """A triage script is invalid; the message names the file and the key."""


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    label: Texts
    set: dict[str, str | list[str]] = {}
    next: str

    @model_validator(mode="after")
    def _check_fields(self) -> Choice:
        for key, value in self.set.items():
            if key not in FIELDS:
                raise ValueError(f"set: unknown field {key!r} (one of {', '.join(FIELDS)})")
            if key == "group" and value not in GROUPS:
                raise ValueError(f"set.group: {value!r} is not one of {', '.join(GROUPS)}")
            if key == "needs":
                values = [value] if isinstance(value, str) else value
                bad = [v for v in values if v not in NEEDS]
                if bad:
                    raise ValueError(f"set.needs: {bad} not in {', '.join(NEEDS)}")
        return self


class FreeText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    next: str


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    when: dict[str, str | list[str]] = Field(alias="if")
    next: str

    @model_validator(mode="after")
    def _known(self) -> Rule:
        vocab = {"group": GROUPS, "need": NEEDS, "flag": FLAGS, "risk": RISKS}
        for key, value in self.when.items():
            if key not in CONDITIONS:
                raise ValueError(f"if: unknown condition {key!r} (one of {', '.join(CONDITIONS)})")
            allowed = vocab.get(key)
            values = [value] if isinstance(value, str) else value
            if allowed and any(v not in allowed for v in values):
                raise ValueError(f"if.{key}: {values} not in {', '.join(allowed)}")
        return self


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: Texts = {}
    choices: list[Choice] = []
    free_text: FreeText | None = None
    branch: list[Rule] = []
    otherwise: str | None = None
    end: Literal["handoff", "close"] | None = None
    queue: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [bool(self.choices or self.free_text), bool(self.branch), bool(self.end)]
        if sum(kinds) != 1:
            raise ValueError("a step has choices and/or free_text, or a branch, or an end")
        if self.branch and (self.otherwise is None or self.text):
            raise ValueError("a branch has no text and needs `otherwise`")
        if self.queue and self.end != "handoff":
            raise ValueError("queue: only on an `end: handoff` step")
        return self


class ScriptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    languages: list[str] = Field(min_length=1)
    partial_languages: list[str] = []
    fallback_language: str | None = None
    start: str
    talk_to_someone: Texts
    not_understood: Texts
    acute_handoff: Texts
    human_handoff: Texts = {}
    """Said when the person asks for a human (or is not understood twice): where they are now."""
    steps: dict[str, Step]

    @model_validator(mode="after")
    def _consistent(self) -> ScriptSpec:
        if self.start not in self.steps:
            raise ValueError(f"start: no step named {self.start!r}")
        if self.partial_languages and self.fallback_language not in self.languages:
            raise ValueError("fallback_language: must be one of languages when partial_languages are used")
        every = self.languages + self.partial_languages
        for lang in self.languages:
            for key in ("talk_to_someone", "not_understood", "acute_handoff", "human_handoff"):
                if key == "human_handoff" and not self.human_handoff:
                    continue
                if lang not in getattr(self, key):
                    raise ValueError(f"{key}: no text for language {lang!r}")
        for step_id, step in self.steps.items():
            self._check_step(step_id, step, every)
        for where, texts in self.all_texts():
            _check_variants(where, texts, self.languages)
            _check_declared(where, texts, every)
        self._check_reachable()
        return self

    def _check_reachable(self) -> None:
        """Every step can be reached from `start`: a step nobody reaches is a mistake (a renamed
        `next`), never a feature."""
        seen, todo = {self.start}, [self.start]
        while todo:
            step = self.steps[todo.pop()]
            targets = [c.next for c in step.choices] + [r.next for r in step.branch]
            targets += [t for t in (step.free_text.next if step.free_text else None, step.otherwise) if t]
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        for step_id in self.steps:
            if step_id not in seen:
                raise ValueError(f"steps.{step_id}: unreachable (no step leads to it from {self.start!r})")

    def all_texts(self) -> list[tuple[str, Texts]]:
        """Every text mapping of the script, with its key (`steps.who.choices.sells.label`)."""
        found: list[tuple[str, Texts]] = [(key, getattr(self, key)) for key in
                                          ("talk_to_someone", "not_understood", "acute_handoff", "human_handoff")]
        for step_id, step in self.steps.items():
            found.append((f"steps.{step_id}.text", step.text))
            found += [(f"steps.{step_id}.choices.{c.id}.label", c.label) for c in step.choices]
        return found

    def _check_step(self, step_id: str, step: Step, every: list[str]) -> None:
        where = f"steps.{step_id}"
        if not step.branch:
            for lang in self.languages:
                if lang not in step.text:
                    raise ValueError(f"{where}.text: no text for language {lang!r}")
        targets = [(f"{where}.choices.{c.id}.next", c.next) for c in step.choices]
        if step.free_text:
            targets.append((f"{where}.free_text.next", step.free_text.next))
        targets += [(f"{where}.branch.{i}.next", r.next) for i, r in enumerate(step.branch)]
        if step.otherwise:
            targets.append((f"{where}.otherwise", step.otherwise))
        for key, target in targets:
            if target not in self.steps:
                raise ValueError(f"{key}: no step named {target!r}")
        for choice in step.choices:
            for lang in self.languages:
                if lang not in choice.label:
                    raise ValueError(f"{where}.choices.{choice.id}.label: no text for language {lang!r}")
            language = choice.set.get("language")
            if language is not None and language not in every:
                raise ValueError(f"{where}.choices.{choice.id}.set.language: {language!r} is not a script language")

    def text(self, texts: Texts, lang: str, channel: str | None = None) -> str:
        """The text in `lang` (else the fallback language), the channel's variant where there is one."""
        table = plain(texts)
        variant = texts.get(channel or "")
        if channel in CHANNEL_VARIANTS and isinstance(variant, dict):
            table = variant
        return table.get(lang) or table[self.fallback_language or self.languages[0]]


def plain(texts: Texts) -> dict[str, str]:
    """The texts for every channel without a variant: language → text."""
    return {key: value for key, value in texts.items() if isinstance(value, str)}


def _check_variants(where: str, texts: Texts, complete: list[str]) -> None:
    """A channel variant must speak every language the plain text speaks (and every complete one)."""
    languages = set(plain(texts)) | set(complete if texts else ())
    for key, value in texts.items():
        if isinstance(value, str):
            continue
        if key not in CHANNEL_VARIANTS:
            raise ValueError(f"{where}.{key}: not a language text nor a channel variant "
                             f"({', '.join(CHANNEL_VARIANTS)})")
        for lang in sorted(languages - set(value)):
            raise ValueError(f"{where}.{key}: no text for language {lang!r} (the {key} would fall back to "
                             f"a text written for another channel)")


def _check_declared(where: str, texts: Texts, declared: list[str]) -> None:
    """A text in a language the script does not declare is a language half-translated: it is listed
    in neither `languages` (complete) nor `partial_languages` (falling back), so nobody could choose it."""
    for table in [plain(texts), *(v for v in texts.values() if isinstance(v, dict))]:
        for lang in table:
            if lang not in declared:
                raise ValueError(f"{where}.{lang}: language {lang!r} is half-translated: it is in neither "
                                 f"languages nor partial_languages (declare it, or translate every text)")


class TriageScript:
    """A validated script and its version: the SHA-256 of its canonical JSON, which includes the digest
    of the phrase book it runs with, so that a conversation pins both the dialogue and the phrases."""

    def __init__(self, spec: ScriptSpec, phrases_digest: str = "") -> None:
        self.spec = spec
        self.phrases_digest = phrases_digest
        self.content: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if phrases_digest:
            self.content[PHRASES_DIGEST] = phrases_digest
        canonical = json.dumps(self.content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.version = hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def from_content(cls, content: dict[str, Any], where: str = "<stored script>") -> TriageScript:
        """A script from its stored `content` (which carries the phrase digest it was published with)."""
        digest = content.get(PHRASES_DIGEST, "")
        if not isinstance(digest, str):
            raise ScriptError(f"{where}: {PHRASES_DIGEST}: not a digest")
        spec = {key: value for key, value in content.items() if key != PHRASES_DIGEST}
        try:
            return cls(ScriptSpec.model_validate(spec), digest)
        except ValidationError as e:
            raise ScriptError(_describe(where, e)) from None

    @classmethod
    def load(cls, path: Path, phrases_digest: str = "") -> TriageScript:
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ScriptError(f"{path}: {e}") from None
        if not isinstance(content, dict):
            raise ScriptError(f"{path}: a triage script is a mapping")
        if PHRASES_DIGEST in content:
            raise ScriptError(f"{path}: {PHRASES_DIGEST}: set from the phrase book, not written in a script")
        return cls.from_content({**content, PHRASES_DIGEST: phrases_digest}, str(path))


def _describe(where: str, error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        key = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {key + ': ' if key else ''}{err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def load_scripts(folder: Path, phrases_digest: str | None = None) -> dict[str, TriageScript]:
    """Every *.yaml script in the folder, by name, versioned with the phrase book's digest: the one
    given, or else that of the phrase book in the same folder (`phrases/`, loaded and validated here)."""
    if phrases_digest is None:
        from triage.phrasebook import load_phrasebook, phrases_folder  # it imports this module's ScriptError

        phrases_digest = load_phrasebook(phrases_folder(folder)).digest
    scripts: dict[str, TriageScript] = {}
    for path in sorted(folder.glob("*.yaml")):
        script = TriageScript.load(path, phrases_digest)
        if script.name in scripts:
            raise ScriptError(f"{path}: name: {script.name!r} is used by another script")
        scripts[script.name] = script
    if not scripts:
        raise ScriptError(f"{folder}: no triage script (*.yaml)")
    return scripts
