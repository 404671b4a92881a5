"""The anonymous statistics row of a conversation, written in the transaction that closes (or
erases) it, so retention can later erase everything else and a year's report still works.

What a row keeps is coarse on purpose: the day, month, hour and weekday the contact came in
(Europe/Stockholm time), never the time itself; the wait rounded to 10 seconds; a campaign name
only when it looks like one (else `other`). No contact key, no text, no staff id.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.models import Conversation, StatisticsRecord, TriageRecord, WrapUp

ZONE = ZoneInfo("Europe/Stockholm")
WAIT_STEP_SECONDS = 10
CELL_KEY_RANGE = 2**31
"""Record keys are uniform in [0, 2³¹): the Cell Key Method adds them up modulo this range."""
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
ANSWERS = ("answered", "left_before_answer", "out_of_hours", "ended_in_triage")


def period_keys(at: datetime) -> dict[str, object]:
    """The Stockholm day, month, hour and weekday of a UTC instant."""
    local = at.astimezone(ZONE)
    return {"day": local.date(), "month": f"{local:%Y-%m}", "hour": local.hour, "weekday": local.weekday()}


def coarse_source(source: str | None) -> str:
    """A campaign name as entry links carry it; anything else (a name, a long string) is `other`."""
    if not source:
        return "none"
    value = source.strip().lower()
    return value if _SOURCE.fullmatch(value) else "other"


def rounded_wait(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    seconds = max(0.0, (end - start).total_seconds())
    return int(round(seconds / WAIT_STEP_SECONDS)) * WAIT_STEP_SECONDS


def answer_of(conversation: Conversation, triage: TriageRecord) -> str:
    if conversation.claimed_at is not None or conversation.counsellor_id is not None:
        return "answered"
    if conversation.queued_at is None:
        return "ended_in_triage"
    return "out_of_hours" if triage.get("out_of_hours") else "left_before_answer"


def build_record(conversation: Conversation, wrapup: WrapUp | None, first_time: bool) -> StatisticsRecord:
    triage: TriageRecord = conversation.triage or TriageRecord()
    answer = answer_of(conversation, triage)
    claimed = conversation.claimed_at
    return StatisticsRecord(
        conversation_id=conversation.id, cell_key=secrets.randbelow(CELL_KEY_RANGE),
        **period_keys(conversation.created_at), channel=conversation.channel,
        group=conversation.group or triage.get("group") or "other",
        flags=sorted(set(triage.get("flags", []))),
        needs=sorted(set(wrapup.needs if wrapup is not None and wrapup.needs else triage.get("needs", []))),
        language=conversation.language or triage.get("language") or "unknown",
        queue=conversation.queue or triage.get("queue") or "none", risk=conversation.risk or "routine",
        outcome=wrapup.outcome if wrapup is not None else "no_wrapup",
        referrals=sorted(set(wrapup.referrals)) if wrapup is not None else [],
        source=coarse_source(triage.get("source")), first_time=first_time, answer=answer,
        wait_seconds=rounded_wait(conversation.queued_at, claimed) if answer == "answered" else None,
        reviewed_group=wrapup.group if wrapup is not None else None,
        reviewed_flags=sorted(set(wrapup.flags)) if wrapup is not None and wrapup.flags is not None else None,
    )


async def write_records(session: AsyncSession, conversations: Iterable[Conversation]) -> None:
    """Add the statistics row of each conversation that has none yet (called by
    `Conversations.change()` for the ones closed or erased in it, before the commit)."""
    for conversation in conversations:
        exists = await session.scalar(select(StatisticsRecord.id)
                                      .where(StatisticsRecord.conversation_id == conversation.id))
        if exists is not None:
            continue
        wrapup = await session.get(WrapUp, conversation.id)
        earlier = await session.scalar(select(func.count(Conversation.id)).where(
            Conversation.contact_id == conversation.contact_id, Conversation.id < conversation.id))
        session.add(build_record(conversation, wrapup, not earlier))
