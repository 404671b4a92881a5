"""Triage scripts: data an admin edits (config/triage/*.yaml), validated once, versioned by hash.

A script is a set of steps. A step has a text per language and either choices (each may set
fields and names the next step) or `end: handoff`. Every choice step also accepts "talk to
someone" (the script's `talk_to_someone` labels, or 0), which hands off at once.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from triage.vocabulary import GROUPS, NEEDS

Texts = dict[str, str]


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
            if key == "group" and value not in GROUPS:
                raise ValueError(f"set.group: {value!r} is not one of {', '.join(GROUPS)}")
            if key == "needs":
                values = [value] if isinstance(value, str) else value
                bad = [v for v in values if v not in NEEDS]
                if bad:
                    raise ValueError(f"set.needs: {bad} not in {', '.join(NEEDS)}")
            if key not in ("group", "needs", "language", "source"):
                raise ValueError(f"set: unknown field {key!r}")
        return self


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: Texts
    choices: list[Choice] = []
    end: Literal["handoff"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if bool(self.choices) == bool(self.end):
            raise ValueError("a step has either choices or end: handoff")
        return self


class ScriptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    languages: list[str] = Field(min_length=1)
    start: str
    talk_to_someone: Texts
    not_understood: Texts
    acute_handoff: Texts
    steps: dict[str, Step]

    @model_validator(mode="after")
    def _consistent(self) -> ScriptSpec:
        if self.start not in self.steps:
            raise ValueError(f"start: no step named {self.start!r}")
        for lang in self.languages:
            for key in ("talk_to_someone", "not_understood", "acute_handoff"):
                if lang not in getattr(self, key):
                    raise ValueError(f"{key}: no text for language {lang!r}")
        for step_id, step in self.steps.items():
            for lang in self.languages:
                if lang not in step.text:
                    raise ValueError(f"steps.{step_id}.text: no text for language {lang!r}")
            for choice in step.choices:
                where = f"steps.{step_id}.choices.{choice.id}"
                if choice.next not in self.steps:
                    raise ValueError(f"{where}.next: no step named {choice.next!r}")
                for lang in self.languages:
                    if lang not in choice.label:
                        raise ValueError(f"{where}.label: no text for language {lang!r}")
                language = choice.set.get("language")
                if language is not None and language not in self.languages:
                    raise ValueError(f"{where}.set.language: {language!r} not in languages")
        return self


class TriageScript:
    """A validated script and its version (SHA-256 of its canonical JSON)."""

    def __init__(self, spec: ScriptSpec) -> None:
        self.spec = spec
        self.content: dict[str, Any] = spec.model_dump(mode="json")
        canonical = json.dumps(self.content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.version = hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def from_content(cls, content: dict[str, Any], where: str = "<stored script>") -> TriageScript:
        try:
            return cls(ScriptSpec.model_validate(content))
        except ValidationError as e:
            raise ScriptError(_describe(where, e)) from None

    @classmethod
    def load(cls, path: Path) -> TriageScript:
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ScriptError(f"{path}: {e}") from None
        if not isinstance(content, dict):
            raise ScriptError(f"{path}: a triage script is a mapping")
        return cls.from_content(content, str(path))


def _describe(where: str, error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        key = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {key + ': ' if key else ''}{err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def load_scripts(folder: Path) -> dict[str, TriageScript]:
    """Every *.yaml script in the folder, by name."""
    scripts: dict[str, TriageScript] = {}
    for path in sorted(folder.glob("*.yaml")):
        script = TriageScript.load(path)
        if script.name in scripts:
            raise ScriptError(f"{path}: name: {script.name!r} is used by another script")
        scripts[script.name] = script
    if not scripts:
        raise ScriptError(f"{folder}: no triage script (*.yaml)")
    return scripts
