"""Messages and their outbox items written with Core INSERTs instead of the ORM's unit of work.

Every inbound message and every automatic reply is a `messages` row, and on a provider channel an
`outbox` row too. Flushed as ORM objects they were the largest part of an inbound message's cost
(the unit of work sorting, bookkeeping and building their INSERTs: benchmarks/RESULTS.md). Here a
message is *staged* on the write session (`stage`) and written by one prepared INSERT each, with
its outbox row, the next time the session runs a statement or when the change ends (`write`), in
the order they were staged, so the transcript keeps its order. Staged rows are written before any
statement of the session (the `do_orm_execute` hook below), as the ORM's autoflush wrote pending
objects: a query or a DELETE in the same transaction sees them. The `Message` object stays a plain
(transient) instance with its id and creation time filled in, which is what events publish.
"""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from lotsa.models import Message, OutboxItem, utcnow

_MESSAGES = cast(Table, Message.__table__)
_OUTBOX = cast(Table, OutboxItem.__table__)
_INSERT_MESSAGE = insert(_MESSAGES)
_INSERT_OUTBOX = insert(_OUTBOX)
_STAGED = "lotsa_staged_messages"

Staged = tuple[Message, dict[str, Any] | None]


class WriteSession(Session):
    """The session class of write transactions: staged messages are written before each statement."""


def stage(session: AsyncSession, message: Message, outbox: dict[str, Any] | None = None) -> None:
    """Write `message` (and `outbox`, its outbox row without `message_id`) before the session's
    next statement or when the change ends."""
    if message.created_at is None:
        message.created_at = utcnow()
    if message.meta is None:
        message.meta = {}
    session.info.setdefault(_STAGED, []).append((message, outbox))


def discard(session: AsyncSession) -> None:
    """Forget what is staged (the change that staged it was undone)."""
    session.info.pop(_STAGED, None)


async def write(session: AsyncSession) -> None:
    """Write what is staged now: each message gets its id."""
    if session.info.get(_STAGED):
        await session.run_sync(_write_staged)


def _write_staged(session: Session) -> None:
    staged: list[Staged] | None = session.info.pop(_STAGED, None)
    if not staged:
        return
    connection = session.connection()
    outbox_rows = []
    for message, outbox in staged:
        result = connection.execute(_INSERT_MESSAGE, {
            "conversation_id": message.conversation_id, "channel": message.channel,
            "provider_message_id": message.provider_message_id, "direction": message.direction,
            "author": message.author, "author_id": message.author_id, "text": message.text, "meta": message.meta,
            "created_at": message.created_at})
        key = result.inserted_primary_key
        assert key is not None
        message.id = key[0]
        if outbox is not None:
            outbox_rows.append({**outbox, "message_id": message.id})
    if outbox_rows:
        connection.execute(_INSERT_OUTBOX, outbox_rows)


@event.listens_for(WriteSession, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(_STAGED):
        _write_staged(state.session)
