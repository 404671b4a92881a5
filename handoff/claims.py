"""Claiming ("take next" and a chosen conversation), reading and closing conversations."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from handoff.queues import QueueDirectory
from handoff.skills import active_count, lock_staff, skill_filter, skilled_for, supervises
from handoff.wrapup import WrapUpForm
from lotsa import feedback
from lotsa.conversations import Conversations, message_json, waiting_order
from lotsa.crypto import pseudonym
from lotsa.errors import Refused
from lotsa.models import (
    LINE_NORMAL,
    LINE_SURGE,
    Contact,
    Conversation,
    ConversationState,
    Message,
    Note,
    StaffUser,
    TriageRecord,
    WrapUp,
    utcnow,
)
from lotsa.texts import Catalogue


@dataclass(frozen=True)
class Claim:
    ok: bool
    conversation: Conversation | None
    reason: str = ""
    """Why not: already_claimed, at_capacity, not_skilled, nothing_waiting."""


def earlier_count() -> Any:
    """How many conversations the same pseudonymous contact had before this one (a correlated
    subquery: "has written before: n times", never who they are)."""
    before = aliased(Conversation)
    return (select(func.count(before.id)).where(before.contact_id == Conversation.contact_id,
                                                before.id < Conversation.id)
            .correlate(Conversation).scalar_subquery())


async def earlier_of(session: AsyncSession, conversation: Conversation) -> int:
    return int(await session.scalar(select(func.count(Conversation.id)).where(
        Conversation.contact_id == conversation.contact_id, Conversation.id < conversation.id)) or 0)


def flag_reasons(triage: TriageRecord, lang: str, texts: Catalogue | None = None) -> list[dict[str, str]]:
    """Why each flag and possible flag: the reason key, the person's own words and, with the message
    catalogue, the reason in the counsellor's language (`reasons.<key>`)."""
    reasons = [{"flag": r["flag"], "reason": r["reason"], "words": r["words"]}
               for r in triage.get("flag_reasons", [])]
    if texts is not None:
        for reason in reasons:
            reason["text"] = texts.text(f"reasons.{reason['reason']}", lang)
    return reasons


def summary(conversation: Conversation, contact_key: str, queues: QueueDirectory, lang: str,
            claimed_by: str | None = None, user: StaffUser | None = None, earlier: int | None = None,
            texts: Catalogue | None = None) -> dict[str, Any]:
    """A conversation as the console shows it. `possible_flags` (the classifier alone) change neither
    risk nor queue; `flag_reasons` say why each flag, worded when `texts` is given."""
    triage = conversation.triage or TriageRecord()
    queue = queues.get(conversation.queue)
    return {
        "id": conversation.id,
        "pseudonym": pseudonym(contact_key),
        "channel": conversation.channel,
        "state": conversation.state,
        "queue": conversation.queue,
        "queue_name": queues.name(conversation.queue, lang),
        "risk": conversation.risk,
        "group": conversation.group,
        "language": conversation.language,
        "needs": triage.get("needs", []),
        "flags": triage.get("flags", []),
        "flag_words": triage.get("flag_words", []),
        "possible_flags": triage.get("possible_flags", []),
        "flag_reasons": flag_reasons(triage, lang, texts),
        "waiting_since": conversation.queued_at.isoformat() if conversation.queued_at else None,
        "claimed_by": claimed_by,
        "last_message_at": conversation.last_message_at.isoformat(),
        "front": conversation.line_rank < LINE_NORMAL,
        "surge": conversation.line_rank >= LINE_SURGE,
        "max_wait_s": int(queue.max_wait.total_seconds()) if queue else None,
        "can_take": skilled_for(user, conversation.queue, conversation.language) if user is not None else None,
        "earlier": earlier,
    }


QueueRow = tuple[Conversation, str, int]
"""A conversation, its contact's key and how many conversations that contact had before."""
WITHOUT_DIALOGUE = defer(Conversation.triage_state, raiseload=True)
"""The queue's rows leave out the triage dialogue's state: nobody shows it, and decoding it for every
waiting conversation after every change was a good part of the queue read's time."""


async def waiting_rows(session: AsyncSession) -> list[QueueRow]:
    """Waiting conversations in line order (lotsa.conversations.waiting_order): surge newcomers
    last, then by risk, then first-in-line, then waiting time."""
    rows = await session.execute(
        select(Conversation, Contact.key, earlier_count()).join(Contact).options(WITHOUT_DIALOGUE)
        .where(Conversation.state == ConversationState.QUEUED)
        .order_by(*waiting_order()))
    return [(c, key, n) for c, key, n in rows.tuples()]


async def active_rows(session: AsyncSession, counsellor_id: int | None = None) -> list[QueueRow]:
    """Active conversations in the order they were taken: everyone's, or one counsellor's."""
    query = (select(Conversation, Contact.key, earlier_count()).join(Contact).options(WITHOUT_DIALOGUE)
             .where(Conversation.state == ConversationState.ACTIVE)
             .order_by(Conversation.claimed_at, Conversation.id))
    if counsellor_id is not None:
        query = query.where(Conversation.counsellor_id == counsellor_id)
    return [(c, key, n) for c, key, n in (await session.execute(query)).tuples()]


def lists_of(waiting: list[QueueRow], active: list[QueueRow], queues: QueueDirectory, user: StaffUser, lang: str
             ) -> dict[str, list[dict[str, Any]]]:
    """The console's lists from rows already read: every waiting conversation, and those of
    `active` that this counsellor holds."""
    return {
        "waiting": [summary(c, key, queues, lang, user=user, earlier=n) for c, key, n in waiting],
        "mine": [summary(c, key, queues, lang, user.name, user=user, earlier=n)
                 for c, key, n in active if c.counsellor_id == user.id],
    }


async def queue_lists(session: AsyncSession, queues: QueueDirectory, user: StaffUser, lang: str
                      ) -> dict[str, list[dict[str, Any]]]:
    """Waiting conversations by risk, then first-in-line, then waiting time; and the ones this
    counsellor holds."""
    return lists_of(await waiting_rows(session), await active_rows(session, user.id), queues, user, lang)


async def claim(conversations: Conversations, conversation_id: int, user: StaffUser) -> Claim:
    """Claim one chosen conversation: within the counsellor's skills (a supervisor may take any)
    and capacity."""
    async with conversations.change() as change:
        session = change.session
        staff = await lock_staff(session, user.id)
        if staff is None:
            return Claim(False, None, "not_skilled")
        target = await session.get(Conversation, conversation_id)
        if target is None or target.state != ConversationState.QUEUED:
            return Claim(False, None, "already_claimed")
        if not supervises(staff) and not skilled_for(staff, target.queue, target.language):
            return Claim(False, None, "not_skilled")
        if await active_count(session, staff.id) >= staff.max_chats:
            return Claim(False, None, "at_capacity")
        conversation = await change.claim(conversation_id, staff.id, utcnow())
        if conversation is None:
            return Claim(False, None, "already_claimed")
        await change.say_system(conversation, "handoff.claimed")
    return Claim(True, conversation)


async def take_next(conversations: Conversations, user: StaffUser) -> Claim:
    """The first waiting conversation this counsellor may take (risk, first-in-line, wait)."""
    async with conversations.change() as change:
        session = change.session
        staff = await lock_staff(session, user.id)
        if staff is None:
            return Claim(False, None, "not_skilled")
        if await active_count(session, staff.id) >= staff.max_chats:
            return Claim(False, None, "at_capacity")
        candidates = (await session.execute(
            select(Conversation.id).where(Conversation.state == ConversationState.QUEUED, *skill_filter(staff))
            .order_by(*waiting_order()).limit(10).with_for_update(skip_locked=True))).scalars().all()
        for candidate in candidates:
            conversation = await change.claim(candidate, staff.id, utcnow())
            if conversation is not None:
                await change.say_system(conversation, "handoff.claimed")
                break
        else:
            return Claim(False, None, "nothing_waiting")
    return Claim(True, conversation)


async def load(session: AsyncSession, conversation_id: int, user: StaffUser
               ) -> tuple[Conversation, str, list[Message], dict[int, str]]:
    """A conversation a counsellor may open: queued ones, their own, or any for a supervisor."""
    row = (await session.execute(select(Conversation, Contact.key).join(Contact)
                                 .where(Conversation.id == conversation_id))).first()
    if row is None:
        raise Refused("not_found", "No such conversation.", 404)
    conversation, key = row
    allowed = (supervises(user) or conversation.state == ConversationState.QUEUED
               or conversation.counsellor_id == user.id)
    if not allowed:
        raise Refused("not_yours", "This conversation is someone else's.", 403)
    messages = list((await session.execute(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))).scalars())
    ids = {m.author_id for m in messages if m.author_id}
    if conversation.counsellor_id:
        ids.add(conversation.counsellor_id)
    names = dict((await session.execute(select(StaffUser.id, StaffUser.name)
                                        .where(StaffUser.id.in_(ids)))).tuples().all()) if ids else {}
    return conversation, key, messages, names


async def notes_of(session: AsyncSession, conversation_id: int) -> list[dict[str, Any]]:
    rows = (await session.execute(
        select(Note, StaffUser.name).outerjoin(StaffUser, Note.author_id == StaffUser.id)
        .where(Note.conversation_id == conversation_id).order_by(Note.id))).all()
    return [note_json(note, name) for note, name in rows]


def note_json(note: Note, author_name: str | None) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind, "author_name": author_name, "text": note.text,
            "at": note.created_at.isoformat()}


def transcript(messages: list[Message], names: dict[int, str]) -> list[dict[str, Any]]:
    return [message_json(m, names.get(m.author_id or 0)) for m in messages]


async def messages_since(session: AsyncSession, conversation_ids: set[int], since: datetime
                         ) -> list[tuple[int, dict[str, Any]]]:
    """(conversation, message) of every message written in these conversations since `since`, in order."""
    rows = (await session.execute(
        select(Message, StaffUser.name).outerjoin(StaffUser, Message.author_id == StaffUser.id)
        .where(Message.conversation_id.in_(conversation_ids), Message.created_at >= since)
        .order_by(Message.id))).all()
    return [(message.conversation_id, message_json(message, name)) for message, name in rows]


async def close(conversations: Conversations, conversation_id: int, user: StaffUser, wrapup: WrapUpForm
                ) -> Conversation:
    """Close a conversation the counsellor holds (a supervisor: any active one), with its wrap-up."""
    async with conversations.change() as change:
        session = change.session
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise Refused("not_found", "No such conversation.", 404)
        holder = conversation.counsellor_id == user.id or supervises(user)
        if conversation.state != ConversationState.ACTIVE or not holder:
            raise Refused("not_yours", "You do not hold this conversation.", 409)
        change.close(conversation)
        session.add(WrapUp(conversation_id=conversation.id, counsellor_id=user.id, outcome=wrapup.outcome,
                           referrals=list(wrapup.referrals), needs=list(wrapup.needs), group=wrapup.group,
                           flags=None if wrapup.flags is None else list(wrapup.flags)))
        await change.say_system(conversation, "handoff.closed")
        feedback.ask(change, conversation)
    return conversation
