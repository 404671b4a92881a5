"""A counsellor who drops off (no console socket for longer than the configured time) gets their
conversations put back in the queue, first in line.

The state is in the database, not in memory: every open console socket, in any worker process,
stamps `staff_users.console_seen_at`; the sweep (run by every worker) hands back conversations whose
holder has not been seen since the cutoff, with a conditional UPDATE, so two workers sweeping at
once cannot both hand back the same conversation.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from lotsa.conversations import Change, Conversations
from lotsa.db import Database
from lotsa.models import Conversation, ConversationState, Note, StaffUser, utcnow

log = logging.getLogger(__name__)

RETURNED_NOTE = "Back in the queue: the counsellor's console was offline too long."


async def hand_back_first_in_line(change: Change, conversation_id: int, counsellor_id: int, now: datetime,
                                  note: str = RETURNED_NOTE) -> bool:
    """Put a held conversation back in its queue, first in line, with a note for the next counsellor
    and the 'returned' message to the person; False when it was no longer theirs to hand back."""
    conversation = await change.hand_back(conversation_id, counsellor_id, now)
    if conversation is None:
        return False
    change.session.add(Note(conversation_id=conversation_id, author_id=None, kind="returned", text=note))
    await change.say_system(conversation, "handoff.returned")
    return True


async def heartbeat(db: Database, user_id: int, now: datetime | None = None) -> None:
    """An open console socket says its counsellor is still there."""
    async with db.write() as session:
        await session.execute(update(StaffUser).where(StaffUser.id == user_id)
                              .values(console_seen_at=now or utcnow()).execution_options(synchronize_session=False))


async def requeue_dropped(conversations: Conversations, drop_after: timedelta, now: datetime | None = None
                          ) -> list[int]:
    """Hand back every conversation whose counsellor has not been seen since `now - drop_after`."""
    now = now or utcnow()
    cutoff = now - drop_after
    dropped = (select(Conversation.id, Conversation.counsellor_id)
               .join(StaffUser, Conversation.counsellor_id == StaffUser.id)
               .where(Conversation.state == ConversationState.ACTIVE,
                      or_(StaffUser.console_seen_at.is_(None), StaffUser.console_seen_at < cutoff)))
    async with conversations.db.read() as session:   # usually nobody: no write lock taken for nothing
        if not (await session.execute(dropped.limit(1))).first():
            return []
    handed_back: list[int] = []
    async with conversations.change() as change:
        rows = (await change.session.execute(dropped.with_for_update(of=Conversation, skip_locked=True))).all()
        for conversation_id, counsellor_id in rows:
            if await hand_back_first_in_line(change, conversation_id, counsellor_id, now):
                handed_back.append(conversation_id)
    if handed_back:
        log.info("conversations handed back to the queue", extra={"count": len(handed_back)})
    return handed_back


async def sweep_forever(conversations: Conversations, drop_after: timedelta, every: float) -> None:
    """The background task: sweep every `every` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await requeue_dropped(conversations, drop_after)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("drop-off sweep failed")
