"""The conversation state machine: the one place that changes a conversation's state.

Every change happens inside `Conversations.change()`, one database transaction. The `Change` it
yields moves conversations from state to state (only along `TRANSITIONS`), writes the messages
that go with the move, and remembers the events to publish; they are announced with the commit
(`EventPublisher.publish_in` inside the transaction: with several workers a NOTIFY, which PostgreSQL
delivers only when the transaction commits) and handed to this process's subscribers after it, so
no console or chat ever sees a change that was rolled back, and none misses one that was committed.

| transition            | from                        | to     | event published                   |
|-----------------------|-----------------------------|--------|-----------------------------------|
| open                  | (new)                       | triage | state (queue topic)               |
| answer                | triage                      | triage | the messages only                 |
| enqueue               | triage                      | queued | state                             |
| requeue               | queued                      | queued | state (routed again: risk, group) |
| update                | triage, queued, active      | same   | state (what consoles show changed)|
| claim                 | queued                      | active | state                             |
| transfer_to_queue     | queued, active              | queued | state                             |
| transfer_to_colleague | queued, active              | active | state                             |
| hand_back             | active                      | queued | state (first in line)             |
| close                 | triage, queued, active      | closed | state                             |
| erase                 | any                         | closed | state, with `erased`              |

Each message written or received in the transaction is published as a `message` event on the
conversation's topic and the console topic; a state event goes to the conversation's topic and
the queue topic.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa import direct_writes, sqlite_direct
from lotsa.db import Database, affected
from lotsa.events import CONSOLE_TOPIC, QUEUE_TOPIC, Announcement, Event, EventPublisher, conversation_topic
from lotsa.models import (
    LINE_FRONT,
    LINE_NORMAL,
    LINE_SURGE,
    RISK_RANK,
    Author,
    Contact,
    Conversation,
    ConversationState,
    Message,
    StaffUser,
    TriageRecord,
    utcnow,
)
from lotsa.outgoing import Outgoing
from lotsa.statistics_records import write_records

log = logging.getLogger(__name__)

TRIAGE, QUEUED, ACTIVE, CLOSED = (ConversationState.TRIAGE, ConversationState.QUEUED, ConversationState.ACTIVE,
                                  ConversationState.CLOSED)
OPEN_STATES = frozenset({TRIAGE, QUEUED, ACTIVE})

TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "answer": (frozenset({TRIAGE}), TRIAGE),
    "enqueue": (frozenset({TRIAGE}), QUEUED),
    "requeue": (frozenset({QUEUED}), QUEUED),
    "update": (OPEN_STATES, None),
    "claim": (frozenset({QUEUED}), ACTIVE),
    "transfer_to_queue": (frozenset({QUEUED, ACTIVE}), QUEUED),
    "transfer_to_colleague": (frozenset({QUEUED, ACTIVE}), ACTIVE),
    "hand_back": (frozenset({ACTIVE}), QUEUED),
    "close": (OPEN_STATES, CLOSED),
    "erase": (OPEN_STATES | {CLOSED}, CLOSED),
}
"""Transition → (the states it may start from, the state it ends in; None: stays). `open` creates
a conversation in triage and is not listed: it has no state to start from."""
SILENT = frozenset({"answer"})
"""Transitions whose only events are their messages."""


class InvalidTransition(RuntimeError):
    """A caller asked for a move the state machine does not allow: a bug, never a person's input."""


def message_json(message: Message, author_name: str | None = None) -> dict[str, Any]:
    """A message as the protocols carry it (docs/protocol.md)."""
    return {
        "id": message.id,
        "author": message.author,
        "author_name": author_name,
        "text": message.text,
        "choices": [{"id": c[0], "label": c[1]} for c in message.meta.get("choices", [])],
        "cid": message.meta.get("cid"),
        "greeting": bool(message.meta.get("greeting")),
        "at": message.created_at.isoformat(),
    }


_CONTACT_BY_KEY = select(Contact).where(Contact.key == bindparam("key"))
"""Built once: building a statement costs more than SQLite takes to answer it."""


async def contact_by_key(session: AsyncSession, contact_key: str) -> Contact | None:
    """The pseudonymous contact with this keyed-hash key, if any."""
    return (await session.execute(_CONTACT_BY_KEY, {"key": contact_key})).scalar()


async def open_conversation(session: AsyncSession, contact_key: str, *, lock: bool = False) -> Conversation | None:
    """The contact's conversation that is not closed (the newest), if any."""
    query = (select(Conversation).join(Contact).where(Contact.key == contact_key, Conversation.state != CLOSED)
             .order_by(Conversation.id.desc()).limit(1))
    if lock:
        query = query.with_for_update(of=Conversation)
    return (await session.execute(query)).scalar()


def waiting_order() -> tuple[Any, ...]:
    """The order of a queue's line: surge newcomers last (lotsa.flood), then risk, then handed back
    first, then arrival."""
    return (surge_last(), Conversation.risk_rank, Conversation.line_rank, Conversation.queued_at, Conversation.id)


def surge_last() -> Any:
    """1 for a surge newcomer (waits behind everyone), else 0: the first key of `waiting_order`."""
    return case((Conversation.line_rank >= LINE_SURGE, 1), else_=0)


@dataclass
class _Touched:
    conversation: Conversation
    messages: list[Message] = field(default_factory=list)
    transition: str | None = None
    """The last transition that publishes a state event, if any."""


class Change:
    """One transaction's changes to conversations. Made by `Conversations.change()`."""

    def __init__(self, session: AsyncSession, outgoing: Outgoing) -> None:
        self.session = session
        self.outgoing = outgoing
        self.author_names: dict[int, str] = {}
        self.outbox_written = False
        self.delayed = False
        """A message written in this change waits (held behind a safe-contact check, or sent later)."""
        self._touched: dict[int, _Touched] = {}
        self.ended: list[Conversation] = []
        """Closed or erased while open here: each gets its statistics row before the commit."""
        self.also: list[Announcement] = []
        """Events of what else the transaction changed (`announce`)."""

    # -- bookkeeping ------------------------------------------------------------------------------

    def _entry(self, conversation: Conversation) -> _Touched:
        entry = self._touched.get(id(conversation))
        if entry is None:
            entry = self._touched[id(conversation)] = _Touched(conversation)
        return entry

    def _move(self, conversation: Conversation, transition: str) -> None:
        allowed, target = TRANSITIONS[transition]
        if conversation.state not in allowed:
            raise InvalidTransition(f"{transition} from {conversation.state} (conversation {conversation.id})")
        if target is not None:
            conversation.state = target
        if transition not in SILENT:
            self._entry(conversation).transition = transition

    async def store(self) -> None:
        """Write what the change holds: staged messages, the touched conversations' changed columns
        (by sqlite3 on SQLite: `direct_writes.update_changed`), then whatever else the session holds."""
        await direct_writes.write(self.session)
        await direct_writes.update_changed(self.session, [t.conversation for t in self._touched.values()])
        await self.session.flush()

    def touched(self) -> list[tuple[Conversation, list[Message], str | None]]:
        return [(t.conversation, t.messages, t.transition) for t in self._touched.values()]

    def announce(self, topic: str, event: Event) -> None:
        """An event of something else this transaction changed (a presence, an account): announced
        with the conversations' events."""
        self.also.append((topic, event))

    # -- transitions ----------------------------------------------------------------------------------

    async def open(self, contact_id: int, channel: str, script_version: str, triage_state: dict[str, Any],
                   language: str | None, *, surge: bool = False) -> Conversation:
        """A new conversation in triage; `surge`: a newcomer beyond the flood limits (lotsa.flood),
        who will wait behind everyone who came before (its line rank survives enqueue and requeue)."""
        conversation = Conversation(contact_id=contact_id, channel=channel, script_version=script_version,
                                    triage_state=triage_state, language=language, state=TRIAGE,
                                    line_rank=LINE_SURGE if surge else LINE_NORMAL)
        await direct_writes.insert_now(self.session, conversation)
        self._entry(conversation).transition = "open"
        return conversation

    def answer(self, conversation: Conversation, triage_state: dict[str, Any], language: str | None) -> None:
        """A triage step answered: the next one is asked."""
        self._move(conversation, "answer")
        conversation.triage_state = triage_state
        conversation.language = language

    def enqueue(self, conversation: Conversation, *, queue: str, group: str, risk: str,
                triage: TriageRecord) -> None:
        """Triage ended: the conversation waits in `queue`, ordered by risk."""
        self._move(conversation, "enqueue")
        conversation.triage = triage
        conversation.group, conversation.queue = group, queue
        conversation.risk, conversation.risk_rank = risk, RISK_RANK[risk]
        conversation.queued_at = utcnow()

    def requeue(self, conversation: Conversation, queue: str) -> None:
        """A waiting conversation is routed again (its risk or group changed)."""
        self._move(conversation, "requeue")
        conversation.queue = queue

    def update(self, conversation: Conversation) -> None:
        """Something consoles show of an open conversation changed (risk, a callback asked for)."""
        self._move(conversation, "update")

    async def claim(self, conversation_id: int, staff_id: int, now: datetime) -> Conversation | None:
        """The conditional UPDATE: of several counsellors claiming at once exactly one wins."""
        result = await self.session.execute(
            update(Conversation).where(Conversation.id == conversation_id, Conversation.state == QUEUED)
            .values(state=ACTIVE, counsellor_id=staff_id, claimed_at=now, line_rank=LINE_NORMAL)
            .execution_options(synchronize_session=False))
        if affected(result) != 1:
            return None
        await self.session.execute(update(StaffUser).where(StaffUser.id == staff_id).values(console_seen_at=now)
                                   .execution_options(synchronize_session=False))
        return await self._reloaded(conversation_id, "claim")

    async def hand_back(self, conversation_id: int, counsellor_id: int, now: datetime) -> Conversation | None:
        """Back to the queue, first in line, unless someone else changed it first (conditional)."""
        result = await self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == ACTIVE,
                   Conversation.counsellor_id == counsellor_id)
            .values(state=QUEUED, counsellor_id=None, claimed_at=None, queued_at=now, line_rank=LINE_FRONT)
            .execution_options(synchronize_session=False))
        if affected(result) != 1:
            return None
        return await self._reloaded(conversation_id, "hand_back")

    async def _reloaded(self, conversation_id: int, transition: str) -> Conversation:
        conversation = await self.session.get(Conversation, conversation_id, populate_existing=True)
        assert conversation is not None
        self._entry(conversation).transition = transition
        return conversation

    def transfer_to_queue(self, conversation: Conversation, queue: str, now: datetime) -> None:
        self._move(conversation, "transfer_to_queue")
        conversation.queue = queue
        conversation.counsellor_id = None
        conversation.claimed_at = None
        conversation.queued_at = now
        conversation.line_rank = LINE_FRONT

    def transfer_to_colleague(self, conversation: Conversation, colleague_id: int, now: datetime) -> None:
        self._move(conversation, "transfer_to_colleague")
        conversation.counsellor_id = colleague_id
        conversation.claimed_at = now
        conversation.line_rank = LINE_NORMAL

    def close(self, conversation: Conversation, now: datetime | None = None) -> None:
        self._move(conversation, "close")
        conversation.closed_at = now or utcnow()
        self.ended.append(conversation)

    def erase(self, conversation: Conversation, now: datetime) -> None:
        """Closed for good, its transcript gone (retention or the person's own erasure)."""
        was_open = conversation.state != CLOSED
        self._move(conversation, "erase")
        if was_open:
            conversation.closed_at = now
            self.ended.append(conversation)
        else:
            self._touched.pop(id(conversation), None)   # nobody follows a closed one: nothing to tell

    # -- messages --------------------------------------------------------------------------------

    def received(self, conversation: Conversation, message: Message) -> None:
        """A message from the person, stored by the caller: published with the change."""
        self._entry(conversation).messages.append(message)

    def say(self, conversation: Conversation, author: str, text: str, meta: dict[str, Any] | None = None,
            author_id: int | None = None, *, held: bool = False, send_at: datetime | None = None) -> Message:
        """Write to the person now (through the outbox on provider channels)."""
        message = self.outgoing.add(self.session, conversation, author, text, meta, author_id, held=held,
                                    send_at=send_at)
        self._entry(conversation).messages.append(message)
        self.outbox_written = self.outbox_written or conversation.channel in self.outgoing.outbox_channels
        self.delayed = self.delayed or held or send_at is not None
        return message

    async def say_safely(self, conversation: Conversation, author: str, text: str,
                         author_id: int | None = None) -> Message:
        """Write to the person, held behind an "is it ok to write now?" check when their phone has
        been quiet for a while (safe contact)."""
        checks = await self.outgoing.safe_check(self.session, conversation)
        for check in checks or []:
            self._entry(conversation).messages.append(check)
        message = self.say(conversation, author, text, author_id=author_id, held=checks is not None)
        await direct_writes.write(self.session)
        return message

    async def say_system(self, conversation: Conversation, key: str, **values: Any) -> Message:
        """A message from the service itself, from the catalogue in the conversation's language."""
        text = self.outgoing.texts.text(key, conversation.language, **values)
        return await self.say_safely(conversation, Author.SYSTEM, text)


class Together:
    """Several changes in one transaction (group commit), each in a savepoint of its own: a change
    whose block raises is undone alone, the others are committed together. Made by
    `Conversations.together()`."""

    def __init__(self, session: AsyncSession, outgoing: Outgoing) -> None:
        self.session = session
        self.outgoing = outgoing
        self.changes: list[Change] = []
        self.undone = False

    @asynccontextmanager
    async def change(self) -> AsyncIterator[Change]:
        # On SQLite's inline connection the savepoint is a sqlite3 call of our own around the ORM's
        # (which the ORM emits only if its flush has work left: `Change.store` leaves it little).
        # Elsewhere the ORM's, emitted at once: the ORM emits it only when the session is next
        # asked for its connection, and the Core statements of a change do not ask it (they reuse
        # the transaction's connection: `sqlite_direct.connection_of`).
        direct = await sqlite_direct.of(self.session)
        if direct is not None:
            sqlite_direct.run(direct, "SAVEPOINT lotsa_change")
        change: Change | None = None
        try:
            async with self.session.begin_nested():
                if direct is None:
                    await self.session.connection()
                change = Change(self.session, self.outgoing)
                yield change
                await change.store()
        except BaseException:
            if direct is not None:
                sqlite_direct.run(direct, "ROLLBACK TO lotsa_change")
                sqlite_direct.run(direct, "RELEASE lotsa_change")
            direct_writes.undo(self.session)
            if change is not None:
                # What `store` wrote by sqlite3 is undone by the rollback, which the ORM does not
                # know of: the conversations are read again before anything publishes them (settle).
                for conversation, _, _ in change.touched():
                    if inspect(conversation).persistent:
                        self.session.expire(conversation)
            self.undone = True
            raise
        if direct is not None:
            sqlite_direct.run(direct, "RELEASE lotsa_change")
        direct_writes.keep(self.session)
        self.changes.append(change)

    async def settle(self) -> None:
        """After a change was undone, its savepoint's rollback expired what it had changed: what
        the changes kept will publish is read again first (never lazily, outside the session)."""
        if not self.undone:
            return
        for change in self.changes:
            for conversation, _, _ in change.touched():
                if inspect(conversation).expired_attributes:
                    await self.session.refresh(conversation)


class Conversations:
    """Opens changes and publishes their events after the commit."""

    def __init__(self, db: Database, events: EventPublisher, outgoing: Outgoing,
                 on_outbox: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.events = events
        self.outgoing = outgoing
        self.on_outbox = on_outbox
        self.on_message: Callable[[str, str], None] = lambda channel, direction: None

    @asynccontextmanager
    async def change(self) -> AsyncIterator[Change]:
        """One transaction; its events are announced with its commit."""
        async with self.db.write() as session:
            change = Change(session, self.outgoing)
            yield change
            await write_records(session, change.ended)
            await change.store()
            announcements = announcements_of(change)
            await self.events.publish_in(session, announcements)
        self.published([change], announcements)

    @asynccontextmanager
    async def together(self) -> AsyncIterator[Together]:
        """One transaction for several changes (`Together.change()`); the events of those kept are
        announced, in order, with its commit."""
        async with self.db.write() as session:
            together = Together(session, self.outgoing)
            yield together
            await session.flush()
            await together.settle()
            announcements = [a for change in together.changes for a in announcements_of(change)]
            await self.events.publish_in(session, announcements)
        self.published(together.changes, announcements)

    def published(self, changes: list[Change], announcements: list[Announcement]) -> None:
        """After the commit: this process's subscribers, the message counters, the outbox relay."""
        self.events.published(announcements)
        for change in changes:
            for conversation, messages, _ in change.touched():
                for message in messages:
                    self.on_message(conversation.channel, message.direction)
        if any(change.outbox_written for change in changes):
            self.on_outbox()


def announcements_of(change: Change) -> list[Announcement]:
    """The events a change makes: each message on its conversation's topic and the console topic, each
    state change on its conversation's topic and the queue topic, then what else it announced."""
    announcements: list[Announcement] = []
    for conversation, messages, transition in change.touched():
        # The holder rides along: a console shows the message (and follows the claim) at once,
        # without waiting for its next queue frame.
        holder = conversation.counsellor_id
        for message in messages:
            payload = message_json(message, change.author_names.get(message.author_id or 0))
            event = Event("message", conversation.id, {"message": payload, "counsellor": holder})
            announcements += [(conversation_topic(conversation.id), event), (CONSOLE_TOPIC, event)]
        if transition is not None:
            data: dict[str, Any] = {"state": conversation.state, "counsellor": holder, "transition": transition}
            if transition == "erase":
                data["erased"] = True
            event = Event("state", conversation.id, data)
            announcements += [(conversation_topic(conversation.id), event), (QUEUE_TOPIC, event)]
    return announcements + change.also
