"""Supervisor alerts raised by the service, once per alert whatever the number of workers.

Consoles already show who waits too long from their queue frames; this adds the event a supervisor
is woken by: an `alert` frame, sent once when an acute contact starts waiting and once when a wait
passes its queue's `max_wait_minutes`. The `supervisor_alerts` row (unique per conversation and
reason) is written in the same transaction that finds the alert, and the event is announced with its
commit, so two workers checking at once cannot both raise it; one worker checks (lotsa.leadership).
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from handoff.queues import QueueDirectory
from lotsa.db import Database
from lotsa.events import QUEUE_TOPIC, Event, EventPublisher, write_announcing
from lotsa.models import Conversation, ConversationState, SupervisorAlert, utcnow

log = logging.getLogger(__name__)

ACUTE, WAIT = "acute", "wait"


async def raise_alerts(db: Database, events: EventPublisher, queues: QueueDirectory) -> list[tuple[int, str]]:
    """Record and announce the alerts not raised yet: (conversation id, reason) of each."""
    now = utcnow()
    raised: list[tuple[int, str]] = []
    async with write_announcing(db, events) as (session, announcements):
        waiting = (await session.execute(
            select(Conversation.id, Conversation.queue, Conversation.queued_at, Conversation.risk)
            .where(Conversation.state == ConversationState.QUEUED, Conversation.queued_at.is_not(None)))).all()
        if not waiting:
            return []
        known = set((await session.execute(
            select(SupervisorAlert.conversation_id, SupervisorAlert.reason)
            .where(SupervisorAlert.conversation_id.in_([row[0] for row in waiting])))).all())
        for conversation_id, queue_id, queued_at, risk in waiting:
            queue = queues.get(queue_id)
            due = [ACUTE] if risk == ACUTE else []
            if queue is not None and queued_at is not None and now - queued_at > queue.max_wait:
                due.append(WAIT)
            for reason in due:
                if (conversation_id, reason) not in known:
                    session.add(SupervisorAlert(conversation_id=conversation_id, reason=reason, raised_at=now))
                    raised.append((conversation_id, reason))
                    announcements.append((QUEUE_TOPIC, Event("alert", conversation_id, {"reason": reason})))
    for conversation_id, reason in raised:
        log.info("supervisor alert", extra={"conversation": conversation_id, "reason": reason})
    return raised


async def check_forever(db: Database, events: EventPublisher, queues: QueueDirectory, every: float) -> None:
    """The background task: check every `every` seconds until cancelled."""
    while True:
        try:
            await raise_alerts(db, events, queues)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("supervisor alert check failed")
        await asyncio.sleep(every)
