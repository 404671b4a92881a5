"""An independent count of a waiting conversation's place in line: who is ahead of it, counted
in the database. The service reads the whole line once per change instead (lotsa.waiting_line);
tests check that line against this count."""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.conversations import QUEUED, surge_last
from lotsa.models import LINE_SURGE, Conversation


async def queue_position(session: AsyncSession, conversation: Conversation) -> int | None:
    """The place in line of a waiting conversation: 1 is next (the order of `waiting_order`)."""
    if conversation.state != QUEUED or conversation.queued_at is None:
        return None
    mine = (1 if conversation.line_rank >= LINE_SURGE else 0, conversation.risk_rank, conversation.line_rank,
            conversation.queued_at)
    columns = (surge_last(), Conversation.risk_rank, Conversation.line_rank, Conversation.queued_at)
    before = [and_(*(column == value for column, value in zip(columns[:k], mine[:k], strict=True)),
                   columns[k] < mine[k]) for k in range(len(columns))]
    ahead = await session.scalar(
        select(func.count()).select_from(Conversation).where(
            Conversation.state == QUEUED, Conversation.queue == conversation.queue, or_(*before)))
    return int(ahead or 0) + 1
