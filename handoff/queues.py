"""Queue configuration (config/queues.yaml), validated once at start.

Each queue has names per language, the groups and languages it serves, opening hours (local time,
with public holidays and single-date exceptions), the answer given out of hours and the longest
wait before a supervisor is alerted. Keys a queue leaves out come from `defaults`.
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
        ids = [q.id for q in self.queues]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"queue ids used twice: {dupes}")
        if sum(q.acute for q in self.queues) > 1:
            raise ValueError("at most one queue is acute")
        for q in self.queues:
            if not q.acute and {"sells", "buys"} <= set(q.groups):
                raise ValueError(f"queue {q.id!r} serves both sells and buys: they are never mixed")
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
                f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
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
        return [QueueRule(q.id, frozenset(q.groups), frozenset(q.languages), q.acute)
                for q in self.queues.values()]

    def name(self, queue_id: str | None, language: str) -> str:
        queue = self.queues.get(queue_id or "")
        return queue.display_name(language) if queue else (queue_id or "")

    def get(self, queue_id: str | None) -> Queue | None:
        return self.configured.get(queue_id or "")

    def is_open(self, queue_id: str | None, when: datetime) -> bool:
        queue = self.get(queue_id)
        return queue is None or queue.hours.is_open(when)
