"""Queue configuration (config/queues.yaml), validated once at start."""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from triage.routing import QueueRule
from triage.vocabulary import GROUPS


class QueueConfigError(Exception):
    """queues.yaml is invalid; the message names the file and the key."""


class QueueSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: dict[str, str]
    groups: list[str] = Field(min_length=1)
    languages: list[str] = []
    acute: bool = False

    @model_validator(mode="after")
    def _groups_known(self) -> QueueSpec:
        bad = [g for g in self.groups if g not in GROUPS]
        if bad:
            raise ValueError(f"groups: {bad} not in {', '.join(GROUPS)}")
        return self

    def display_name(self, language: str) -> str:
        return self.name.get(language) or next(iter(self.name.values()))


class QueuesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    queues: list[QueueSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> QueuesFile:
        ids = [q.id for q in self.queues]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"queue ids used twice: {dupes}")
        if sum(q.acute for q in self.queues) > 1:
            raise ValueError("at most one queue is acute")
        return self


class QueueDirectory:
    """The configured queues, by id, in configuration order."""

    def __init__(self, queues: list[QueueSpec]) -> None:
        self.queues = {q.id: q for q in queues}

    @classmethod
    def load(cls, path: Path) -> QueueDirectory:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls(QueuesFile.model_validate(data).queues)
        except (OSError, yaml.YAMLError) as e:
            raise QueueConfigError(f"{path}: {e}") from None
        except ValidationError as e:
            raise QueueConfigError("; ".join(
                f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
                for err in e.errors())) from None

    def rules(self) -> list[QueueRule]:
        return [QueueRule(q.id, frozenset(q.groups), frozenset(q.languages), q.acute)
                for q in self.queues.values()]

    def name(self, queue_id: str | None, language: str) -> str:
        queue = self.queues.get(queue_id or "")
        return queue.display_name(language) if queue else (queue_id or "")
