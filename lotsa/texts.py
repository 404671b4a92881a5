"""The message catalogue: every text a person or a counsellor is shown, as data.

One YAML file per language in `config/texts/` (`sv.yaml`, `en.yaml`, and any other language a
script or channel speaks). Each file maps sections to keys to texts; deeper mappings are allowed
and read as dotted keys (`vocabulary.group.sells`). Swedish and English are complete and carry the
same keys; another language may give a part of them, and what it does not give is said in English.
A text's placeholders (`{position}`) must be the same in every language, so a translation can never
make the server fail at the moment it speaks.

Validated once at start: an error names the file and the key.
"""
from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from triage.explain import REASONS

DEFAULT_LANGUAGE = "sv"
"""The language of a person who has not chosen one (the line is Swedish)."""
FALLBACK_LANGUAGE = "en"
"""What a text missing in the person's language is said in."""
COMPLETE = (DEFAULT_LANGUAGE, FALLBACK_LANGUAGE)


class CatalogueError(ValueError):
    """The catalogue is not valid; the message names the file and the key."""


def placeholders(text: str) -> frozenset[str]:
    """The `{name}` fields of a text (a doubled brace is a literal one)."""
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError as e:
        raise CatalogueError(str(e)) from None


def _flatten(data: Mapping[str, Any], prefix: str, where: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key or "." in key:
            raise CatalogueError(f"{where}: {prefix}{key!r} is not a valid key (a word without dots)")
        name = prefix + key
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + ".", where))
        elif isinstance(value, str) and value.strip():
            flat[name] = value
        else:
            raise CatalogueError(f"{where}: {name}: must be a non-empty text")
    return flat


def _read(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise CatalogueError(f"{path.name}: cannot be read: {e}") from None
    if not isinstance(data, Mapping):
        raise CatalogueError(f"{path.name}: must be a mapping of sections to texts")
    return _flatten(data, "", path.name)


def _check(texts: dict[str, dict[str, str]]) -> None:
    for lang in COMPLETE:
        if lang not in texts:
            raise CatalogueError(f"{lang}.yaml: missing (Swedish and English must both be complete)")
    reference = texts[DEFAULT_LANGUAGE]
    for key in sorted(set(texts[FALLBACK_LANGUAGE]) ^ set(reference)):
        where = FALLBACK_LANGUAGE if key not in texts[FALLBACK_LANGUAGE] else DEFAULT_LANGUAGE
        raise CatalogueError(f"{where}.yaml: {key}: missing (Swedish and English carry the same keys)")
    _check_reasons(reference)
    fields: dict[str, dict[str, frozenset[str]]] = {}
    for lang, table in sorted(texts.items()):
        fields[lang] = {}
        for key, text in sorted(table.items()):
            if key not in reference:
                raise CatalogueError(f"{lang}.yaml: {key}: unknown key (not in sv.yaml)")
            try:
                fields[lang][key] = placeholders(text)
            except CatalogueError as e:
                raise CatalogueError(f"{lang}.yaml: {key}: {e}") from None
    for lang, found_fields in sorted(fields.items()):
        for key, found in sorted(found_fields.items()):
            if found != fields[DEFAULT_LANGUAGE][key]:
                raise CatalogueError(f"{lang}.yaml: {key}: placeholders {sorted(found)} differ from "
                                     f"sv.yaml's {sorted(fields[DEFAULT_LANGUAGE][key])}")


def _check_reasons(reference: Mapping[str, str]) -> None:
    """A catalogue with a `reasons` section words every flag reason triage gives (triage.explain.REASONS)
    and nothing else: the console shows a counsellor these, never a raw key. (A catalogue without the
    section is a partial one, as in tests.)"""
    given = {key.removeprefix("reasons.") for key in reference if key.startswith("reasons.")}
    if not given:
        return
    for key in REASONS:
        if key not in given:
            raise CatalogueError(f"{DEFAULT_LANGUAGE}.yaml: reasons.{key}: missing (a flag reason triage gives)")
    for key in sorted(given - set(REASONS)):
        raise CatalogueError(f"{DEFAULT_LANGUAGE}.yaml: reasons.{key}: unknown flag reason "
                             f"(one of {', '.join(REASONS)})")


@dataclass(frozen=True)
class Catalogue:
    texts: Mapping[str, Mapping[str, str]]
    """Language → dotted key → text."""

    @classmethod
    def load(cls, directory: Path) -> Catalogue:
        """Every `<language>.yaml` of the folder, validated."""
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise CatalogueError(f"{directory}: no texts (sv.yaml, en.yaml, …)")
        return cls.from_tables({path.stem: _read(path) for path in files})

    @classmethod
    def from_tables(cls, texts: dict[str, dict[str, str]]) -> Catalogue:
        _check(texts)
        return cls(texts)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.texts))

    @property
    def digest(self) -> str:
        """SHA-256 of the content: which version of the texts is in use."""
        canonical = json.dumps(self.texts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def language(self, lang: str | None) -> str:
        """The language a text is looked up in first: the person's, or the default when unknown."""
        if lang is not None and lang in self.texts:
            return lang
        return DEFAULT_LANGUAGE if lang is None else FALLBACK_LANGUAGE

    def text(self, key: str, lang: str | None, **values: Any) -> str:
        """The text in the person's language (English where that language lacks it), filled in."""
        table = self.texts[self.language(lang)]
        raw = table.get(key)
        if raw is None:
            raw = self.texts[FALLBACK_LANGUAGE].get(key)
            if raw is None:
                raise KeyError(f"no text {key!r} in the catalogue")
        return raw.format(**values) if values else raw

    def spoken(self, key: str, lang: str | None, **values: Any) -> tuple[str, str]:
        """The text and the language it is really in (the person's, or English where theirs lacks it):
        what a voice must speak it in."""
        own = self.language(lang)
        if key in self.texts[own]:
            return self.text(key, own, **values), own
        return self.text(key, FALLBACK_LANGUAGE, **values), FALLBACK_LANGUAGE

    def has(self, key: str, lang: str) -> bool:
        """Whether `lang`'s own file gives `key` (no fallback)."""
        return key in self.texts.get(lang, {})

    def section(self, prefix: str, lang: str | None) -> dict[str, str]:
        """Every text under `prefix.` (without the prefix), e.g. the strings a page's script uses."""
        start = prefix + "."
        merged = {k: v for k, v in self.texts[FALLBACK_LANGUAGE].items() if k.startswith(start)}
        merged.update({k: v for k, v in self.texts[self.language(lang)].items() if k.startswith(start)})
        return {k[len(start):]: v for k, v in sorted(merged.items())}
