"""Opening hours per weekday, public holidays and single-date exceptions, in local time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Span:
    """[start, end) minutes after local midnight; end 1440 is midnight at the end of the day."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Span:
        try:
            first, last = text.split("-")
            start, end = _minutes(first), _minutes(last)
        except ValueError:
            raise ValueError(f"{text!r} is not HH:MM-HH:MM") from None
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"{text!r}: the start must come before the end, within one day")
        return cls(start, end)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.strip().split(":")
    if len(minutes) != 2 or not 0 <= int(minutes) < 60:
        raise ValueError(hhmm)
    return int(hours) * 60 + int(minutes)


class OpeningHours:
    """When a queue is staffed. `holiday_spans` apply on the calendar's public holidays;
    `exceptions` (single dates) win over both."""

    def __init__(self, weekly: dict[str, list[Span]], holiday_spans: list[Span],
                 exceptions: dict[date, list[Span]], timezone: str, calendar: str | None) -> None:
        self.weekly = [weekly.get(day, []) for day in WEEKDAYS]
        self.holiday_spans = holiday_spans
        self.exceptions = exceptions
        self.zone = ZoneInfo(timezone)
        self.calendar = holidays.country_holidays(calendar) if calendar else None

    def spans_on(self, day: date) -> list[Span]:
        if day in self.exceptions:
            return self.exceptions[day]
        if self.calendar is not None and day in self.calendar:
            return self.holiday_spans
        return self.weekly[day.weekday()]

    def holiday_name(self, day: date) -> str | None:
        return self.calendar.get(day) if self.calendar is not None else None

    def is_open(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(s.start <= minute < s.end for s in self.spans_on(local.date()))

    def next_opening(self, when: datetime, horizon_days: int = 14) -> datetime | None:
        """The next moment the queue opens (or `when` itself if open), None if not within the horizon."""
        if self.is_open(when):
            return when
        local = when.astimezone(self.zone)
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for span in sorted(self.spans_on(day), key=lambda s: s.start):
                start = datetime.combine(day, time(span.start // 60, span.start % 60), self.zone)
                if start > local:
                    return start
        return None

    @property
    def always(self) -> bool:
        whole = [Span(0, 24 * 60)]
        return all(spans == whole for spans in self.weekly) and self.holiday_spans == whole \
            and all(spans == whole for spans in self.exceptions.values())
