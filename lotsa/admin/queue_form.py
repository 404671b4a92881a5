"""The queues document as a form, and the form as the queues document.

The form is what a coordinator edits at /admin/queues instead of YAML: per queue its id, a name per
language, closed or open, acute, the groups and languages it serves, opening hours per weekday, the
hours on public holidays, single-date exceptions, the longest wait and the out-of-hours answer; the
same settings once more as the defaults that queues leave to them. A form is made from the active
version, read back from the posted fields (kept as typed, so a refused form is shown again as it was
sent) and written out as the YAML document that publish, history, diff and rollback already handle.

Field names (also the HTML ids): `timezone`, `holiday_calendar`, `d-…` for the defaults and `q3-…`
for the fourth queue; a problem is keyed by the name of the field (or fieldset) it is shown next to.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import yaml

from handoff.hours import WEEKDAYS, Span
from handoff.queues import QueueSettings, QueuesFile
from triage.language import LANGUAGES
from triage.vocabulary import GROUPS

KNOWN_LANGUAGES = tuple(sorted(LANGUAGES.values()))
"""The languages detection tells apart: what a queue can serve."""
WHOLE_DAY = "00:00-24:00"
EXCEPTION = re.compile(r"^(\d{4}-\d{2}-\d{2}):?\s*(.*)$")
MAX_QUEUES = 50
SETTING_FIELDS = {"hours": "hours", "holidays": "holidays", "exceptions": "exceptions",
                  "max_wait_minutes": "max_wait", "out_of_hours": "ooh"}
QUEUE_FIELDS = {"id": "id", "name": "names", "groups": "groups", "languages": "languages", "acute": "acute",
                "closed": "closed", **SETTING_FIELDS}


class Posted(Protocol):
    """A posted form (aiohttp's MultiDictProxy)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getall(self, key: str, default: Any = None) -> list[Any]: ...


@dataclass
class SettingsForm:
    """What a queue may set and the defaults provide, as typed: spans "09:00-12:00, 13:00-21:00",
    exceptions one date a line ("2026-12-24 10:00-14:00"; a date alone: closed that day)."""

    hours: dict[str, str] = field(default_factory=lambda: dict.fromkeys(WEEKDAYS, ""))
    holidays: str = ""
    exceptions: str = ""
    max_wait: str = ""
    ooh: dict[str, str] = field(default_factory=dict)
    referrals: list[str] = field(default_factory=list)


@dataclass
class QueueForm:
    id: str = ""
    names: dict[str, str] = field(default_factory=dict)
    closed: bool = False
    acute: bool = False
    groups: list[str] = field(default_factory=list)
    languages: str = ""
    own_hours: bool = False
    own_holidays: bool = False
    own_exceptions: bool = False
    settings: SettingsForm = field(default_factory=SettingsForm)
    new: bool = False
    """Not in the active version yet: may still be removed from the draft."""


@dataclass
class QueuesForm:
    timezone: str = "Europe/Stockholm"
    holiday_calendar: str = ""
    defaults: SettingsForm = field(default_factory=SettingsForm)
    queues: list[QueueForm] = field(default_factory=list)
    header: str = ""
    """The comment lines at the top of the document, kept as they were."""


# -- from the document ---------------------------------------------------------------------------------

def _spans(spans: Iterable[str] | None) -> str:
    return ", ".join(spans or [])


def _exceptions(exceptions: Mapping[date, list[str]] | None) -> str:
    return "\n".join(f"{day.isoformat()} {_spans(spans)}".rstrip() for day, spans in sorted((exceptions or {}).items()))


def _settings(settings: QueueSettings, fallback: SettingsForm | None = None) -> SettingsForm:
    """A settings form; where `settings` leaves a key out, the fallback's (the defaults') values."""
    base = fallback or SettingsForm()
    ooh = settings.out_of_hours
    return SettingsForm(
        hours={day: _spans((settings.hours or {}).get(day)) for day in WEEKDAYS} if settings.hours is not None
        else dict(base.hours),
        holidays=_spans(settings.holidays) if settings.holidays is not None else base.holidays,
        exceptions=_exceptions(settings.exceptions) if settings.exceptions is not None else base.exceptions,
        max_wait=str(settings.max_wait_minutes) if settings.max_wait_minutes is not None else "",
        ooh=dict(ooh.text) if ooh else {}, referrals=list(ooh.referrals) if ooh else [])


def header_of(content: str) -> str:
    lines = []
    for line in content.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def from_document(content: str) -> QueuesForm:
    """The form of a (valid) queues document."""
    config = QueuesFile.model_validate(yaml.safe_load(content))
    defaults = _settings(config.defaults)
    if config.defaults.hours is None:     # no hours at all: open around the clock, holidays too
        defaults.hours = dict.fromkeys(WEEKDAYS, WHOLE_DAY)
        defaults.holidays = WHOLE_DAY
    queues = [QueueForm(id=q.id, names=dict(q.name), closed=q.closed, acute=q.acute, groups=list(q.groups),
                        languages=", ".join(q.languages), own_hours=q.hours is not None,
                        own_holidays=q.holidays is not None, own_exceptions=q.exceptions is not None,
                        settings=_settings(q, defaults))
              for q in config.queues]
    return QueuesForm(timezone=config.timezone, holiday_calendar=config.holiday_calendar or "", defaults=defaults,
                      queues=queues, header=header_of(content))


def blank_queue(defaults: SettingsForm) -> QueueForm:
    """A new queue: the defaults' hours to start from, marked new."""
    return QueueForm(settings=SettingsForm(hours=dict(defaults.hours), holidays=defaults.holidays,
                                           exceptions=defaults.exceptions), new=True)


# -- from the posted fields -------------------------------------------------------------------------------

def _text(posted: Posted, key: str, limit: int = 2000) -> str:
    value = posted.get(key, "")
    return value.replace("\r\n", "\n").replace("\x00", "")[:limit] if isinstance(value, str) else ""


def _many(posted: Posted, key: str) -> list[str]:
    return [v for v in posted.getall(key, []) if isinstance(v, str)][:100]


def _posted_settings(posted: Posted, prefix: str, languages: Iterable[str]) -> SettingsForm:
    return SettingsForm(
        hours={day: _text(posted, f"{prefix}-hours-{day}", 200) for day in WEEKDAYS},
        holidays=_text(posted, f"{prefix}-holidays", 200), exceptions=_text(posted, f"{prefix}-exceptions", 5000),
        max_wait=_text(posted, f"{prefix}-max_wait", 10),
        ooh={lang: _text(posted, f"{prefix}-ooh-{lang}") for lang in languages},
        referrals=_many(posted, f"{prefix}-referrals"))


def from_post(posted: Posted, languages: Iterable[str]) -> QueuesForm:
    """The form as sent: `languages` are those with a name and an out-of-hours text field."""
    languages = tuple(languages)
    count = _text(posted, "queue_count", 4)
    queues = []
    for i in range(min(int(count) if count.isdigit() else 0, MAX_QUEUES)):
        p = f"q{i}"
        queues.append(QueueForm(
            id=_text(posted, f"{p}-id", 64).strip(), names={lang: _text(posted, f"{p}-name-{lang}", 200)
                                                             for lang in languages},
            closed=posted.get(f"{p}-closed") == "1", acute=posted.get(f"{p}-acute") == "1",
            groups=_many(posted, f"{p}-groups"), languages=_text(posted, f"{p}-languages", 200),
            own_hours=posted.get(f"{p}-own_hours") == "1", own_holidays=posted.get(f"{p}-own_holidays") == "1",
            own_exceptions=posted.get(f"{p}-own_exceptions") == "1",
            settings=_posted_settings(posted, p, languages), new=posted.get(f"{p}-new") == "1"))
    return QueuesForm(timezone=_text(posted, "timezone", 64).strip(),
                      holiday_calendar=_text(posted, "holiday_calendar", 16).strip(),
                      defaults=_posted_settings(posted, "d", languages), queues=queues)


# -- to the document -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with a field: `code` is the catalogue key under admin.queues_form.problem, worded
    with `values`; `model` carries the document model's own message."""

    code: str
    values: dict[str, str] = field(default_factory=dict)


class _Reader:
    """Turns typed values into the document's, collecting a problem per field."""

    def __init__(self) -> None:
        self.problems: dict[str, FieldProblem] = {}

    def spans(self, text: str, where: str, label: str = "") -> list[str]:
        spans = [part.strip() for part in text.split(",") if part.strip()]
        for span in spans:
            try:
                Span.parse(span)
            except ValueError:
                self.problems.setdefault(where, FieldProblem("bad_span", {"value": f"{label}{span}"}))
        return [re.sub(r"\s*-\s*", "-", span) for span in spans]

    def exceptions(self, text: str, where: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in (line.strip() for line in text.splitlines()):
            if not line:
                continue
            match = EXCEPTION.match(line)
            try:
                day = date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                day = None
            if match is None or day is None:
                self.problems.setdefault(where, FieldProblem("bad_date", {"value": line}))
                continue
            found[day.isoformat()] = self.spans(match.group(2), where, f"{day.isoformat()}: ")
        return found

    def minutes(self, text: str, where: str) -> int | None:
        text = text.strip()
        if not text:
            return None
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 24 * 60:
            self.problems[where] = FieldProblem("bad_minutes", {"value": text})
            return None
        return int(text)

    def languages(self, text: str, where: str) -> list[str]:
        codes = [code.strip().lower() for code in re.split(r"[,\s]+", text) if code.strip()]
        unknown = [code for code in codes if code not in KNOWN_LANGUAGES]
        if unknown:
            self.problems[where] = FieldProblem("bad_language", {"value": ", ".join(unknown),
                                                                 "known": ", ".join(KNOWN_LANGUAGES)})
        return list(dict.fromkeys(codes))


def _settings_data(reader: _Reader, settings: SettingsForm, prefix: str, *, hours: bool = True,
                   holidays: bool = True, exceptions: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if hours:
        weekly = {day: reader.spans(settings.hours.get(day, ""), f"{prefix}-hours", f"{day}: ") for day in WEEKDAYS}
        data["hours"] = {day: spans for day, spans in weekly.items() if spans}
    if holidays:
        data["holidays"] = reader.spans(settings.holidays, f"{prefix}-holidays")
    if exceptions:
        data["exceptions"] = reader.exceptions(settings.exceptions, f"{prefix}-exceptions")
    wait = reader.minutes(settings.max_wait, f"{prefix}-max_wait")
    if wait is not None:
        data["max_wait_minutes"] = wait
    text = {lang: value.strip() for lang, value in settings.ooh.items() if value.strip()}
    if text or settings.referrals:
        data["out_of_hours"] = {key: value for key, value in (("text", text), ("referrals", settings.referrals))
                                if value}
    return data


def to_data(form: QueuesForm) -> tuple[dict[str, Any], dict[str, FieldProblem]]:
    """The document's data and the problems found in the typed values (field → message)."""
    reader = _Reader()
    queues = []
    for i, q in enumerate(form.queues):
        p = f"q{i}"
        queue: dict[str, Any] = {"id": q.id, "name": {lang: n.strip() for lang, n in q.names.items() if n.strip()}}
        for flag in ("acute", "closed"):
            if getattr(q, flag):
                queue[flag] = True
        queue["groups"] = [g for g in GROUPS if g in q.groups]
        languages = reader.languages(q.languages, f"{p}-languages")
        if languages:
            queue["languages"] = languages
        queue.update(_settings_data(reader, q.settings, p, hours=q.own_hours, holidays=q.own_holidays,
                                    exceptions=q.own_exceptions))
        queues.append(queue)
    data: dict[str, Any] = {"timezone": form.timezone, "holiday_calendar": form.holiday_calendar or None,
                            "defaults": _settings_data(reader, form.defaults, "d"), "queues": queues}
    return data, reader.problems


def _flow(value: Any) -> str:
    """One value on one line, quoted where YAML needs it."""
    return yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, sort_keys=False,
                          width=1 << 30).strip()[1:-1]


def _settings_lines(data: Mapping[str, Any], indent: str) -> list[str]:
    lines = []
    if "hours" in data:
        lines.append(f"{indent}hours:" + ("" if data["hours"] else " {}"))
        lines += [f"{indent}  {day}: {_flow(spans)}" for day, spans in data["hours"].items()]
    if "holidays" in data:
        lines.append(f"{indent}holidays: {_flow(data['holidays'])}")
    if "exceptions" in data:
        lines.append(f"{indent}exceptions:" + ("" if data["exceptions"] else " {}"))
        lines += [f"{indent}  {_flow(day)}: {_flow(spans)}" for day, spans in data["exceptions"].items()]
    if "max_wait_minutes" in data:
        lines.append(f"{indent}max_wait_minutes: {data['max_wait_minutes']}")
    if "out_of_hours" in data:
        ooh = data["out_of_hours"]
        lines.append(f"{indent}out_of_hours:")
        if ooh.get("text"):
            lines.append(f"{indent}  text:")
            lines += [f"{indent}    {lang}: {_flow(text)}" for lang, text in ooh["text"].items()]
        if ooh.get("referrals"):
            lines.append(f"{indent}  referrals: {_flow(ooh['referrals'])}")
    return lines


def to_yaml(data: Mapping[str, Any], header: str = "") -> str:
    """The document as a person would write it: a queue's names, groups and hours on one line each."""
    lines = [line for line in header.splitlines() if line.startswith("#")]
    lines.append(f"timezone: {_flow(data['timezone'])}")
    lines.append(f"holiday_calendar: {_flow(data['holiday_calendar'])}")
    defaults = _settings_lines(data["defaults"], "  ")
    lines += ["", "defaults:" + ("" if defaults else " {}"), *defaults, "", "queues:"]
    for queue in data["queues"]:
        lines.append(f"  - id: {_flow(queue['id'])}")
        lines.append(f"    name: {_flow(queue['name'])}")
        lines += [f"    {key}: {_flow(queue[key])}" for key in ("acute", "closed", "groups", "languages")
                  if key in queue]
        lines += _settings_lines(queue, "    ")
    return "\n".join(lines) + "\n"


def to_document(form: QueuesForm) -> tuple[str | None, dict[str, FieldProblem]]:
    """The YAML document of the form, or None and the problems of the typed values."""
    data, problems = to_data(form)
    return (None, problems) if problems else (to_yaml(data, form.header), {})


def field_of(key: str, message: str, form: QueuesForm) -> str | None:
    """The form field a validation problem (its key as the YAML editor shows it: `queues.3.hours.mon`,
    `queues.sells.out_of_hours.referrals`, `defaults.max_wait_minutes`) belongs next to; None: the
    whole form."""
    parts = key.split(".") if key else []
    if parts[:1] in (["timezone"], ["holiday_calendar"]):
        return parts[0]
    if parts[:1] == ["defaults"] and len(parts) > 1 and parts[1] in SETTING_FIELDS:
        return "d-" + _setting_field(parts[1:])
    if parts[:1] != ["queues"] or len(parts) < 2:
        return None
    index = int(parts[1]) if parts[1].isdigit() else next(
        (i for i, q in enumerate(form.queues) if q.id == parts[1]), None)
    if index is None or index >= len(form.queues):
        return None
    if len(parts) > 2 and parts[2] in QUEUE_FIELDS:
        return f"q{index}-" + (_setting_field(parts[2:]) if parts[2] in SETTING_FIELDS else QUEUE_FIELDS[parts[2]])
    return f"q{index}-names" if message.startswith("name") else f"q{index}-groups"


def _setting_field(parts: list[str]) -> str:
    if parts[0] == "out_of_hours":
        return "referrals" if "referrals" in parts else "ooh"
    return SETTING_FIELDS[parts[0]]


def same_queues(draft: str, active: str) -> bool:
    """The two documents configure the same queues, however differently they are written."""
    return QueuesFile.model_validate(yaml.safe_load(draft)) == QueuesFile.model_validate(yaml.safe_load(active))
