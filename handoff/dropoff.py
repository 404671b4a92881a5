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

from lotsa.db import Database
from lotsa.models import LINE_FRONT, Conversation, ConversationState, Message, Note, StaffUser, utcnow
from lotsa.pipeline import Pipeline

log = logging.getLogger(__name__)

RETURNED_TEXT = {
    "sv": "Samtalsstödjaren tappade anslutningen. Du står först i kön och nästa lediga svarar dig.",
    "en": "The counsellor lost their connection. You are first in the queue; the next one free will answer.",
}
RETURNED_NOTE = "Back in the queue: the counsellor's console was offline too long."


async def heartbeat(db: Database, user_id: int, now: datetime | None = None) -> None:
    """An open console socket says its counsellor is still there."""
    async with db.write() as session:
        await session.execute(update(StaffUser).where(StaffUser.id == user_id)
                              .values(console_seen_at=now or utcnow()).execution_options(synchronize_session=False))


async def requeue_dropped(pipeline: Pipeline, drop_after: timedelta, now: datetime | None = None) -> list[int]:
    """Hand back every conversation whose counsellor has not been seen since `now - drop_after`."""
    now = now or utcnow()
    cutoff = now - drop_after
    changes: list[tuple[Conversation, list[Message], bool]] = []
    dropped = (select(Conversation.id, Conversation.counsellor_id)
               .join(StaffUser, Conversation.counsellor_id == StaffUser.id)
               .where(Conversation.state == ConversationState.ACTIVE,
                      or_(StaffUser.console_seen_at.is_(None), StaffUser.console_seen_at < cutoff)))
    async with pipeline.db.read() as session:   # usually nobody: no write lock taken for nothing
        if not (await session.execute(dropped.limit(1))).first():
            return []
    async with pipeline.db.write() as session:
        rows = (await session.execute(dropped.with_for_update(of=Conversation, skip_locked=True))).all()
        for conversation_id, counsellor_id in rows:
            result = await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == ConversationState.ACTIVE,
                       Conversation.counsellor_id == counsellor_id)
                .values(state=ConversationState.QUEUED, counsellor_id=None, claimed_at=None,
                        queued_at=now, line_rank=LINE_FRONT)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                continue
            conversation = await session.get(Conversation, conversation_id, populate_existing=True)
            assert conversation is not None
            session.add(Note(conversation_id=conversation_id, author_id=None, kind="returned", text=RETURNED_NOTE))
            message = await pipeline.system_message(
                session, conversation, RETURNED_TEXT.get(conversation.language or "sv", RETURNED_TEXT["en"]))
            changes.append((conversation, [message], True))
    if changes:
        log.info("conversations handed back to the queue", extra={"count": len(changes)})
        pipeline.publish_changes(changes)
    return [c.id for c, _, _ in changes]


async def sweep_forever(pipeline: Pipeline, drop_after: timedelta, every: float) -> None:
    """The background task: sweep every `every` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await requeue_dropped(pipeline, drop_after)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("drop-off sweep failed")
