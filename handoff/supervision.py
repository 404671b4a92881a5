"""What a supervisor sees: every open conversation with its holder, and every counsellor's presence."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.claims import summary
from lotsa.models import Contact, Conversation, ConversationState, StaffUser, utcnow
from lotsa.pipeline import Pipeline

PRESENCES = ("available", "away")


def presence_of(user: StaffUser, chats: int, online_after: datetime) -> str:
    """offline (no console lately), away, busy (every chat slot taken) or available."""
    if user.console_seen_at is None or user.console_seen_at < online_after:
        return "offline"
    if user.presence == "away":
        return "away"
    return "busy" if chats >= user.max_chats else "available"


async def chat_counts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Conversation.counsellor_id, func.count()).where(Conversation.state == ConversationState.ACTIVE)
        .group_by(Conversation.counsellor_id))
    return {uid: int(n) for uid, n in rows.tuples().all() if uid is not None}


def me_json(user: StaffUser, chats: int, online_after: datetime) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "presence": presence_of(user, chats, online_after),
            "chosen": user.presence, "chats": chats, "max_chats": user.max_chats,
            "languages": list(user.languages), "queues": list(user.queues)}


def queues_json(pipeline: Pipeline, lang: str, now: datetime) -> list[dict[str, Any]]:
    return [{"id": q.id, "name": q.display_name(lang), "open": q.hours.is_open(now),
             "max_wait_s": int(q.max_wait.total_seconds()), "acute": q.spec.acute}
            for q in pipeline.queues.configured.values()]


async def overview(session: AsyncSession, pipeline: Pipeline, lang: str, online_within: timedelta
                   ) -> dict[str, Any]:
    now = utcnow()
    online_after = now - online_within
    staff = (await session.execute(select(StaffUser).where(StaffUser.active.is_(True))
                                   .order_by(StaffUser.name))).scalars().all()
    names = {u.id: u.name for u in staff}
    counts = await chat_counts(session)
    active = (await session.execute(
        select(Conversation, Contact.key).join(Contact).where(Conversation.state == ConversationState.ACTIVE)
        .order_by(Conversation.risk_rank, Conversation.claimed_at))).all()
    return {
        "active": [summary(c, key, pipeline, lang, names.get(c.counsellor_id or 0)) for c, key in active],
        "staff": [me_json(u, counts.get(u.id, 0), online_after) for u in staff],
    }
