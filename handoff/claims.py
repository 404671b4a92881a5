"""Claiming, reading and closing queued conversations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.crypto import pseudonym
from lotsa.models import Contact, Conversation, ConversationState, Message, Role, StaffUser, utcnow
from lotsa.pipeline import Pipeline, message_json

CLOSING_TEXT = {
    "sv": "Samtalet är avslutat. Du kan skriva igen när du vill. Är du i fara, ring 112.",
    "en": "The conversation has ended. You can write again whenever you want. If you are in danger, call 112.",
}
CLAIMED_TEXT = {
    "sv": "En samtalsstödjare är här nu.",
    "en": "A counsellor is here now.",
}


class NotAllowed(Exception):
    pass


@dataclass(frozen=True)
class Claim:
    ok: bool
    conversation: Conversation | None


def summary(conversation: Conversation, contact_key: str, pipeline: Pipeline, lang: str,
            claimed_by: str | None = None) -> dict[str, Any]:
    triage = conversation.triage or {}
    return {
        "id": conversation.id,
        "pseudonym": pseudonym(contact_key),
        "channel": conversation.channel,
        "state": conversation.state,
        "queue": conversation.queue,
        "queue_name": pipeline.queues.name(conversation.queue, lang),
        "risk": conversation.risk,
        "group": conversation.group,
        "language": conversation.language,
        "needs": triage.get("needs", []),
        "flags": triage.get("flags", []),
        "flag_words": triage.get("flag_words", []),
        "waiting_since": conversation.queued_at.isoformat() if conversation.queued_at else None,
        "claimed_by": claimed_by,
        "last_message_at": conversation.last_message_at.isoformat(),
    }


async def queue_lists(session: AsyncSession, pipeline: Pipeline, user: StaffUser, lang: str
                      ) -> dict[str, list[dict[str, Any]]]:
    """Waiting conversations by risk then waiting time, and the ones this counsellor holds."""
    waiting = (await session.execute(
        select(Conversation, Contact.key).join(Contact)
        .where(Conversation.state == ConversationState.QUEUED)
        .order_by(Conversation.risk_rank, Conversation.queued_at, Conversation.id))).all()
    mine = (await session.execute(
        select(Conversation, Contact.key).join(Contact)
        .where(Conversation.state == ConversationState.ACTIVE, Conversation.counsellor_id == user.id)
        .order_by(Conversation.claimed_at))).all()
    return {
        "waiting": [summary(c, key, pipeline, lang) for c, key in waiting],
        "mine": [summary(c, key, pipeline, lang, user.name) for c, key in mine],
    }


async def claim(pipeline: Pipeline, conversation_id: int, user: StaffUser) -> Claim:
    """Atomic: a conditional UPDATE, so of two counsellors claiming at once exactly one wins."""
    async with pipeline.db.write() as session:
        result = await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == ConversationState.QUEUED)
            .values(state=ConversationState.ACTIVE, counsellor_id=user.id, claimed_at=utcnow())
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return Claim(False, None)
        conversation = await session.get(Conversation, conversation_id, populate_existing=True)
        assert conversation is not None
        message = await pipeline.system_message(
            session, conversation, CLAIMED_TEXT.get(conversation.language or "sv", CLAIMED_TEXT["en"]))
    pipeline.publish_changes([(conversation, [message], True)])
    return Claim(True, conversation)


async def load(session: AsyncSession, conversation_id: int, user: StaffUser
               ) -> tuple[Conversation, str, list[Message], dict[int, str]]:
    """A conversation a counsellor may open: queued ones, their own, or any for a supervisor."""
    row = (await session.execute(select(Conversation, Contact.key).join(Contact)
                                 .where(Conversation.id == conversation_id))).first()
    if row is None:
        raise LookupError(conversation_id)
    conversation, key = row
    allowed = (user.role in (Role.SUPERVISOR, Role.ADMIN)
               or conversation.state == ConversationState.QUEUED
               or conversation.counsellor_id == user.id)
    if not allowed:
        raise NotAllowed(conversation_id)
    messages = list((await session.execute(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))).scalars())
    ids = {m.author_id for m in messages if m.author_id}
    names = dict((await session.execute(select(StaffUser.id, StaffUser.name)
                                        .where(StaffUser.id.in_(ids)))).tuples().all()) if ids else {}
    return conversation, key, messages, names


def transcript(messages: list[Message], names: dict[int, str]) -> list[dict[str, Any]]:
    return [message_json(m, names.get(m.author_id or 0)) for m in messages]


async def close(pipeline: Pipeline, conversation_id: int, user: StaffUser) -> Conversation:
    async with pipeline.db.write() as session:
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise LookupError(conversation_id)
        holder = conversation.counsellor_id == user.id or user.role in (Role.SUPERVISOR, Role.ADMIN)
        if conversation.state != ConversationState.ACTIVE or not holder:
            raise NotAllowed(conversation_id)
        conversation.state = ConversationState.CLOSED
        conversation.closed_at = utcnow()
        message = await pipeline.system_message(
            session, conversation, CLOSING_TEXT.get(conversation.language or "sv", CLOSING_TEXT["en"]))
    pipeline.publish_changes([(conversation, [message], True)])
    return conversation
