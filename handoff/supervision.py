"""What a supervisor sees: every open conversation with its holder, and every counsellor's presence."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.claims import QueueRow, active_rows, summary
from handoff.queues import QueueDirectory
from lotsa.models import StaffUser, utcnow

PRESENCES = ("available", "away")


def presence_of(user: StaffUser, chats: int, online_after: datetime) -> str:
    """offline (no console lately), away, busy (every chat slot taken) or available."""
    if user.console_seen_at is None or user.console_seen_at < online_after:
        return "offline"
    if user.presence == "away":
        return "away"
    return "busy" if chats >= user.max_chats else "available"


def chat_counts(active: Iterable[QueueRow]) -> dict[int, int]:
    """How many active conversations each counsellor holds, from the active rows."""
    return dict(Counter(c.counsellor_id for c, _, _ in active if c.counsellor_id is not None))


def me_json(user: StaffUser, chats: int, online_after: datetime) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "presence": presence_of(user, chats, online_after),
            "chosen": user.presence, "chats": chats, "max_chats": user.max_chats,
            "languages": list(user.languages), "queues": list(user.queues)}


def queues_json(queues: QueueDirectory, lang: str, now: datetime) -> list[dict[str, Any]]:
    return [{"id": q.id, "name": q.display_name(lang), "open": q.hours.is_open(now),
             "max_wait_s": int(q.max_wait.total_seconds()), "acute": q.spec.acute}
            for q in queues.configured.values()]


async def overview(session: AsyncSession, queues: QueueDirectory, lang: str, online_within: timedelta
                   ) -> dict[str, Any]:
    staff = (await session.execute(select(StaffUser).where(StaffUser.active.is_(True))
                                   .order_by(StaffUser.name))).scalars().all()
    return overview_of(staff, await active_rows(session), queues, lang, utcnow() - online_within)


def overview_of(staff: Iterable[StaffUser], active: list[QueueRow], queues: QueueDirectory, lang: str,
                online_after: datetime) -> dict[str, Any]:
    """Every open conversation by risk (then when it was taken), and every active staff member's
    presence, from rows already read (`active` in the order taken, `staff` by name)."""
    on_duty = [u for u in staff if u.active]
    names = {u.id: u.name for u in on_duty}
    counts = chat_counts(active)
    by_risk = sorted(active, key=lambda row: row[0].risk_rank)   # stable: taken order within a risk
    return {
        "active": [summary(c, key, queues, lang, names.get(c.counsellor_id or 0)) for c, key, _ in by_risk],
        "staff": [me_json(u, counts.get(u.id, 0), online_after) for u in on_duty],
    }
