"""Queue configuration (config/queues.yaml), validated once at start.

Each queue has names per language, the groups and languages it serves, opening hours (local time,
with public holidays and single-date exceptions), the answer given out of hours and the longest
wait before a supervisor is alerted. Keys a queue leaves out come from `defaults`.

A queue can be closed (`closed: true`): routing passes it by, so nobody new lands in it, while its
settings stay for when it is opened again; whoever already waits in it stays there. A group is never
left without an open queue, and the acute queue is never closed.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from handoff.hours import WEEKDAYS, OpeningHours, Span
from lotsa.settings import ConfigError
from triage.routing import QueueRule
from triage.vocabulary import GROUPS


class QueueConfigError(ConfigError):
    """queues.yaml is invalid; the message names the file and the key."""


def _spans(value: list[str]) -> list[Span]:
    return [Span.parse(v) for v in value]


class OutOfHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: dict[str, str] = {}
    referrals: list[str] = []


class QueueSettings(BaseModel):
    """What a queue may set and `defaults` provides."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hours: dict[str, list[str]] | None = None
    holidays: list[str] | None = None
    exceptions: dict[date, list[str]] | None = None
    max_wait_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    out_of_hours: OutOfHours | None = None

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for day, spans in (value or {}).items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
            _spans(spans)
        return value

    @field_validator("holidays")
    @classmethod
    def _holiday_spans(cls, value: list[str] | None) -> list[str] | None:
        _spans(value or [])
        return value

    @field_validator("exceptions")
    @classmethod
    def _exception_spans(cls, value: dict[date, list[str]] | None) -> dict[date, list[str]] | None:
        for spans in (value or {}).values():
            _spans(spans)
        return value


class QueueSpec(QueueSettings):
    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: dict[str, str]
    groups: list[str] = Field(min_length=1)
    languages: list[str] = []
    acute: bool = False
    closed: bool = False

    @model_validator(mode="after")
    def _groups_known(self) -> QueueSpec:
        bad = [g for g in self.groups if g not in GROUPS]
        if bad:
            raise ValueError(f"groups: {bad} not in {', '.join(GROUPS)}")
        if not self.name or not all(isinstance(v, str) and v.strip() for v in self.name.values()):
            raise ValueError("name: give the queue a name in at least one language")
        if self.acute and self.closed:
            raise ValueError("closed: the acute queue is never closed")
        if not self.acute and {"sells", "buys"} <= set(self.groups):
            raise ValueError(f"groups: queue {self.id!r} serves both sells and buys: they are never mixed")
        return self

    def display_name(self, language: str) -> str:
        return self.name.get(language) or next(iter(self.name.values()))


class QueuesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = "Europe/Stockholm"
    holiday_calendar: str | None = "SE"
    defaults: QueueSettings = QueueSettings()
    queues: list[QueueSpec] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("holiday_calendar")
    @classmethod
    def _calendar(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"unknown holiday calendar {value!r} (a country code such as SE)")
        return value

    @model_validator(mode="after")
    def _unique(self) -> QueuesFile:
        """Rules across queues; each message starts with the key of the queue it is about
        (`queues.3.id: …`), so the editor and the form show it there."""
        seen: set[str] = set()
        for index, q in enumerate(self.queues):
            if q.id in seen:
                raise ValueError(f"queues.{index}.id: the id {q.id!r} is used twice (queue ids used twice)")
            seen.add(q.id)
        acute = [index for index, q in enumerate(self.queues) if q.acute]
        if len(acute) > 1:
            raise ValueError(f"queues.{acute[1]}.acute: at most one queue is acute")
        open_queues = [q for q in self.queues if not q.closed and not q.acute]
        for index, q in enumerate(self.queues):
            if not q.closed:
                continue
            alone = [g for g in q.groups if not any(g in other.groups for other in open_queues)]
            if alone:
                raise ValueError(f"queues.{index}.closed: no open queue would serve {', '.join(alone)}: "
                                 "open another queue for them first")
        return self


class Queue:
    """One configured queue with its defaults filled in."""

    def __init__(self, spec: QueueSpec, defaults: QueueSettings, timezone: str, calendar: str | None) -> None:
        self.spec = spec
        self.id = spec.id
        pick = {key: getattr(spec, key) if getattr(spec, key) is not None else getattr(defaults, key)
                for key in QueueSettings.model_fields}
        self.max_wait = timedelta(minutes=pick["max_wait_minutes"] or 15)
        if pick["hours"] is None:
            always = ["00:00-24:00"]
            pick.update(hours={day: always for day in WEEKDAYS}, holidays=always)
        self.hours = OpeningHours({d: _spans(s) for d, s in pick["hours"].items()}, _spans(pick["holidays"] or []),
                                  {d: _spans(s) for d, s in (pick["exceptions"] or {}).items()}, timezone, calendar)
        ooh_default = defaults.out_of_hours or OutOfHours()
        ooh = spec.out_of_hours or OutOfHours()
        self.out_of_hours_text = {**ooh_default.text, **ooh.text}
        self.out_of_hours_referrals = ooh.referrals or ooh_default.referrals

    def display_name(self, language: str) -> str:
        return self.spec.display_name(language)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) + ": " if loc else ""


class QueueDirectory:
    """The configured queues, by id, in configuration order."""

    def __init__(self, queues: list[QueueSpec], config: QueuesFile | None = None) -> None:
        config = config or QueuesFile(queues=queues, holiday_calendar=None)
        self.queues = {q.id: q for q in queues}
        self.configured = {q.id: Queue(q, config.defaults, config.timezone, config.holiday_calendar)
                           for q in queues}
        self.timezone = config.timezone

    @classmethod
    def load(cls, path: Path, known_referrals: set[str] | None = None) -> QueueDirectory:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            config = QueuesFile.model_validate(data)
        except (OSError, yaml.YAMLError) as e:
            raise QueueConfigError(f"{path}: {e}") from None
        except ValidationError as e:
            raise QueueConfigError("; ".join(
                f"{path}: {_where(err['loc'])}{err['msg'].removeprefix('Value error, ')}"
                for err in e.errors())) from None
        directory = cls(config.queues, config)
        if known_referrals is not None:
            for queue in directory.configured.values():
                unknown = [r for r in queue.out_of_hours_referrals if r not in known_referrals]
                if unknown:
                    raise QueueConfigError(f"{path}: queues.{queue.id}.out_of_hours.referrals: "
                                           f"{unknown} are not in referrals.yaml")
        return directory

    def rules(self) -> list[QueueRule]:
        """The open queues, in configuration order: what routing chooses from."""
        return [QueueRule(q.id, frozenset(q.groups), frozenset(q.languages), q.acute)
                for q in self.queues.values() if not q.closed]

    def takes_new(self, queue_id: str | None) -> bool:
        """A configured queue that is not closed."""
        queue = self.queues.get(queue_id or "")
        return queue is not None and not queue.closed

    def name(self, queue_id: str | None, language: str) -> str:
        queue = self.queues.get(queue_id or "")
        return queue.display_name(language) if queue else (queue_id or "")

    def get(self, queue_id: str | None) -> Queue | None:
        return self.configured.get(queue_id or "")

    def is_open(self, queue_id: str | None, when: datetime) -> bool:
        queue = self.get(queue_id)
        return queue is None or queue.hours.is_open(when)
