"""The retention policy: what Lotsa forgets, and when.

- A conversation with nothing new for `retention_days` is closed (if it was not) and reduced to the
  anonymous statistics it feeds: its transcript and outbox are deleted, its triage keeps only
  group, flags, risk, needs, language, queue and outcome. Its statistics row
  (`statistics_records`, written when it closed) is kept and loses its link to the conversation.
- The encrypted reply address of a person without an open conversation is erased once their last
  conversation has been closed for `reply_address_grace_hours`.
- A pseudonymous contact not seen for `retention_days` is unlinked (its key replaced by a random
  one), so a person writing again later is not recognised.

`lotsa purge` applies it now; the service applies it every `purge_interval_minutes`.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, exists, select, update

from lotsa.conversations import Change, Conversations
from lotsa.db import Database, affected
from lotsa.models import (
    Contact,
    Conversation,
    ConversationState,
    Message,
    OutboxItem,
    StatisticsRecord,
    TriageRecord,
    utcnow,
)

log = logging.getLogger(__name__)

BATCH = 500
KEPT_FOR_STATISTICS = ("group", "flags", "risk", "needs", "language", "queue", "source", "handoff", "outcome",
                       "out_of_hours")
"""What a conversation row keeps once its transcript is erased: the anonymous statistics."""


@dataclass
class PurgeReport:
    conversations_reduced: int = 0
    messages_deleted: int = 0
    reply_addresses_erased: int = 0
    contacts_unlinked: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


async def reduce_to_statistics(change: Change, conversations: Sequence[Conversation], now: datetime,
                               mark: dict[str, Any] | None = None) -> int:
    """Delete the transcripts and outbox of these conversations and keep only their statistics
    (plus `mark`); the open ones are closed (erased). Returns the number of messages deleted."""
    ids = [c.id for c in conversations]
    if not ids:
        return 0
    session = change.session
    await session.execute(delete(OutboxItem).where(OutboxItem.conversation_id.in_(ids)))
    deleted = await session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    # The statistics rows stay; their link to the conversation (kept only while feedback may come) goes.
    await session.execute(update(StatisticsRecord).where(StatisticsRecord.conversation_id.in_(ids))
                          .values(conversation_id=None).execution_options(synchronize_session=False))
    for conversation in conversations:
        triage = conversation.triage or TriageRecord()
        kept = {k: v for k, v in triage.items() if k in KEPT_FOR_STATISTICS} | (mark or {})
        conversation.triage = cast(TriageRecord, kept)
        conversation.triage_state = {}
        conversation.purged_at = now
        change.erase(conversation, now)
    return affected(deleted)


async def purge(conversations: Conversations, *, retention_days: int, reply_address_grace_hours: int,
                now: datetime | None = None) -> PurgeReport:
    now = now or utcnow()
    report = PurgeReport()
    cutoff = now - timedelta(days=retention_days)
    while True:
        async with conversations.change() as change:
            old = (await change.session.execute(
                select(Conversation).where(Conversation.last_message_at < cutoff,
                                           Conversation.purged_at.is_(None))
                .order_by(Conversation.id).limit(BATCH).with_for_update())).scalars().all()
            if not old:
                break
            report.messages_deleted += await reduce_to_statistics(change, old, now)
            report.conversations_reduced += len(old)
    await _forget_contacts(conversations.db, report, cutoff, now - timedelta(hours=reply_address_grace_hours))
    if any(asdict(report).values()):
        log.info("retention applied", extra=report.as_dict())
    return report


async def _forget_contacts(db: Database, report: PurgeReport, cutoff: datetime, grace_cutoff: datetime) -> None:
    """Erase reply addresses no longer needed; unlink contacts not seen since `cutoff`."""
    async with db.write() as session:
        still_open = exists().where(Conversation.contact_id == Contact.id,
                                    Conversation.state != ConversationState.CLOSED)
        recently_closed = exists().where(Conversation.contact_id == Contact.id,
                                         Conversation.closed_at >= grace_cutoff)
        holders = (await session.execute(
            select(Contact).where(Contact.reply_address.is_not(None), ~still_open, ~recently_closed)
            .with_for_update())).scalars().all()
        for contact in holders:
            contact.reply_address = None
        report.reply_addresses_erased = len(holders)

        stale = (await session.execute(
            select(Contact).where(Contact.last_seen_at < cutoff, ~Contact.key.contains(":"),
                                  ~still_open).with_for_update())).scalars().all()
        for contact in stale:
            contact.key = f"unlinked:{secrets.token_hex(16)}"
            contact.reply_address = None
            contact.prefs = {}
        report.contacts_unlinked = len(stale)


async def run_periodically(conversations: Conversations, interval: timedelta, retention_days: int,
                           reply_address_grace_hours: int) -> None:
    """The background task: apply the policy now and then; a failed round is logged and retried."""
    while True:
        try:
            await purge(conversations, retention_days=retention_days, reply_address_grace_hours=reply_address_grace_hours)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention round failed; trying again later")
        await asyncio.sleep(interval.total_seconds())
