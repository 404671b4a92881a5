"""Who would land where: every group and language (and acute risk), the queue routing picks under a
draft of the queues, and whether that queue is open now and at 23:00 tonight (the queues' own time
zone). The real routing (triage.routing) and opening hours (handoff.hours); nothing is written."""
from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from handoff.queues import QueueDirectory
from triage.result import TriageResult
from triage.routing import pick_queue
from triage.vocabulary import GROUPS

LATE = time(23, 0)


def _languages(*directories: QueueDirectory) -> list[str]:
    return sorted({"sv", "en"} | {lang for queues in directories for q in queues.queues.values() for lang in q.languages})


def _landing(queues: QueueDirectory, group: str, language: str, flags: tuple[str, ...], now: datetime,
             late: datetime, lang: str) -> dict[str, Any]:
    queue = pick_queue(TriageResult(group=group, flags=flags, language=language), queues.rules())
    return {"queue": queue, "queue_name": queues.name(queue, lang), "open_now": queues.is_open(queue, now),
            "open_late": queues.is_open(queue, late)}


def preview(queues: QueueDirectory, now: datetime, lang: str, active: QueueDirectory | None = None) -> dict[str, Any]:
    """Every case under `queues`; with `active`, also where it lands under the active version and
    whether that `changed` (another queue, or open at another time)."""
    zone = ZoneInfo(queues.timezone)
    late = datetime.combine(now.astimezone(zone).date(), LATE, tzinfo=zone)
    languages = _languages(queues, *([active] if active is not None else []))
    cases: list[tuple[str, str, tuple[str, ...]]] = [(group, language, ()) for group in GROUPS
                                                     for language in languages]
    cases.append(("other", languages[0], ("immediate_danger",)))
    rows = []
    for group, language, flags in cases:
        row = {"group": group, "language": language, "acute": bool(flags),
               **_landing(queues, group, language, flags, now, late, lang)}
        if active is not None:
            before = _landing(active, group, language, flags, now, late, lang)
            row["active"] = before
            row["changed"] = any(before[key] != row[key] for key in ("queue", "open_now", "open_late"))
        rows.append(row)
    return {"now": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "late": late.strftime("%Y-%m-%d %H:%M"),
            "rows": rows}
