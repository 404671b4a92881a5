"""When a message to a phone someone else may read must wait: the "is it safe to write now?" rule.

A counsellor writing soon after the person did is answering them: it goes out at once. After a
longer pause the person may no longer be alone with their phone, so the service first sends a
neutral check (their code word, if they chose one) and holds the message until they answer. A
quiet time window the person chose ("not 22-07") delays even the check.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Stockholm")


def in_quiet(local: datetime, start: int, end: int) -> bool:
    hour = local.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def quiet_end(now: datetime, start: int, end: int) -> datetime:
    """The first moment after `now` outside the quiet window (now itself when outside it)."""
    local = now.astimezone(LOCAL)
    if not in_quiet(local, start, end):
        return now
    candidate = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(now.tzinfo)


def hold_until(now: datetime, last_inbound: datetime | None, after: timedelta,
               quiet: list[int] | None) -> datetime | None:
    """None: write now. Otherwise the time the safety check may be sent (the message itself waits
    for the person's answer)."""
    if last_inbound is not None and now - last_inbound <= after:
        return None
    if quiet:
        return quiet_end(now, quiet[0], quiet[1])
    return now
