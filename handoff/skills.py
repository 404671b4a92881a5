"""Who may take which conversation: a counsellor's languages and queues, and their capacity."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.models import Conversation, ConversationState, Role, StaffUser

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)


def supervises(user: StaffUser) -> bool:
    return user.role in SUPERVISING


def skilled_for(user: StaffUser, queue: str | None, language: str | None) -> bool:
    """An empty list of languages or queues means any."""
    if user.queues and queue not in user.queues:
        return False
    return not (user.languages and language and language not in user.languages)


def skill_filter(user: StaffUser) -> list[Any]:
    """The same rule as `skilled_for`, as SQL conditions on conversations."""
    conditions: list[Any] = []
    if user.queues:
        conditions.append(Conversation.queue.in_(list(user.queues)))
    if user.languages:
        conditions.append(Conversation.language.in_(list(user.languages)) | Conversation.language.is_(None))
    return conditions


async def active_count(session: AsyncSession, user_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.state == ConversationState.ACTIVE, Conversation.counsellor_id == user_id)) or 0)


async def lock_staff(session: AsyncSession, user_id: int) -> StaffUser | None:
    """The staff row, locked on PostgreSQL so concurrent claims by one person count right
    (SQLite writes are serialised by BEGIN IMMEDIATE already)."""
    return (await session.execute(select(StaffUser).where(StaffUser.id == user_id)
                                  .with_for_update())).scalar()
