"""Rows of the inbound path written with Core INSERTs instead of the ORM's unit of work.

Every inbound message and every automatic reply is a `messages` row, and on a provider channel an
`outbox` row too. Flushed as ORM objects they were the largest part of an inbound message's cost
(the unit of work sorting, bookkeeping and building their INSERTs: benchmarks/RESULTS.md). Here a
message is *staged* on the write session (`stage`) and written by one prepared INSERT each, with
its outbox row, the next time the session runs a statement or when the change ends (`write`), in
the order they were staged, so the transcript keeps its order. Staged rows are written before any
statement of the session (the `do_orm_execute` hook below), as the ORM's autoflush wrote pending
objects: a query or a DELETE in the same transaction sees them. The `Message` object stays a plain
(transient) instance with its id and creation time filled in, which is what events publish.

A new contact or conversation is inserted at once (`insert_now`) and then joins the session as a
persistent object whose every column is loaded: later changes to it are flushed as UPDATEs, as
before, without a unit-of-work flush for the INSERT.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, insert, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.dml import Insert

from lotsa import sqlite_direct
from lotsa.models import Base, Message, OutboxItem, utcnow
from lotsa.sqlite_direct import Direct, Prepared, connection_of

__all__ = ["WriteSession", "connection_of", "insert_now", "keep", "new_message", "stage", "undo", "update_changed", "write"]

_MESSAGES = cast(Table, Message.__table__)
_OUTBOX = cast(Table, OutboxItem.__table__)
_INSERT_MESSAGE = insert(_MESSAGES)
_INSERT_OUTBOX = insert(_OUTBOX)
_MESSAGE_MANAGER = inspect(Message).class_manager
_MESSAGE_KEYS = ("conversation_id", "channel", "provider_message_id", "direction", "author", "author_id", "text",
                 "meta", "created_at")
_OUTBOX_KEYS = ("conversation_id", "channel", "idempotency_key", "state", "attempts", "next_attempt_at",
                "created_at", "message_id")
_PREPARED_MESSAGE = Prepared(_INSERT_MESSAGE, _MESSAGE_KEYS)
_PREPARED_OUTBOX = Prepared(_INSERT_OUTBOX, _OUTBOX_KEYS)
_STAGED = "lotsa_staged_messages"
_INSERTED = "lotsa_inserted_rows"
_INSERTS: dict[str, Insert] = {}
_PREPARED: dict[tuple[str, tuple[str, ...]], Prepared] = {}

Staged = tuple[Message, dict[str, Any] | None]


class WriteSession(Session):
    """The session class of write transactions: staged messages are written before each statement."""


def new_message(**values: Any) -> Message:
    """A `Message` for `stage`: the plain object without the instrumented constructor's attribute
    events (it is never added to a session; what is not given reads as None)."""
    message: Message = _MESSAGE_MANAGER.new_instance()
    inspect(message).dict.update(values)
    return message


def stage(session: AsyncSession, message: Message, outbox: dict[str, Any] | None = None) -> None:
    """Write `message` (and `outbox`, its outbox row without `message_id`) before the session's
    next statement or when the change ends."""
    if message.created_at is None:
        message.created_at = utcnow()
    if message.meta is None:
        message.meta = {}
    session.info.setdefault(_STAGED, []).append((message, outbox))


def undo(session: AsyncSession) -> None:
    """The change under way was rolled back (its savepoint): forget what it staged, and take the
    objects it inserted out of the session (the ORM takes out what it inserted itself; these it
    believes were loaded)."""
    session.info.pop(_STAGED, None)
    for row in session.info.pop(_INSERTED, []):
        if row in session:
            session.expunge(row)


def keep(session: AsyncSession) -> None:
    """The change under way was kept (its savepoint released)."""
    session.info.pop(_INSERTED, None)


async def write(session: AsyncSession) -> None:
    """Write what is staged now: each message gets its id."""
    if session.info.get(_STAGED):
        direct = await sqlite_direct.of(session)
        if direct is not None:
            _write_directly(session, direct)
        else:
            await session.run_sync(_write_staged)


def _message_row(message: Message) -> dict[str, Any]:
    """The INSERT's parameters of a staged message."""
    return {key: getattr(message, key) for key in _MESSAGE_KEYS}


def _write_directly(session: AsyncSession | Session, direct: Direct) -> None:
    """`_write_staged` by sqlite3 calls: one INSERT per message (its id is needed), the outbox rows
    in one executemany."""
    staged: list[Staged] | None = session.info.pop(_STAGED, None)
    if not staged:
        return
    outbox_rows = []
    for message, outbox in staged:
        cursor = _PREPARED_MESSAGE.execute(direct, _message_row(message))
        message.id = cast(int, cursor.lastrowid)
        if outbox is not None:
            outbox_rows.append({**outbox, "message_id": message.id})
    if outbox_rows:
        _PREPARED_OUTBOX.executemany(direct, outbox_rows)


def _write_staged(session: Session) -> None:
    direct = sqlite_direct.known(session)
    if direct is not None:
        _write_directly(session, direct)
        return
    staged: list[Staged] | None = session.info.pop(_STAGED, None)
    if not staged:
        return
    connection = session.connection()
    outbox_rows = []
    for message, outbox in staged:
        result = connection.execute(_INSERT_MESSAGE, _message_row(message))
        key = result.inserted_primary_key
        assert key is not None
        message.id = key[0]
        if outbox is not None:
            outbox_rows.append({**outbox, "message_id": message.id})
    if outbox_rows:
        connection.execute(_INSERT_OUTBOX, outbox_rows)


async def insert_now(session: AsyncSession, row: Base) -> None:
    """INSERT the new ORM object `row` now (the columns not set take their defaults) and add it to
    the session as persistent and fully loaded, with its id."""
    table = cast(Table, row.__table__)
    given = inspect(row).dict
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.key in given:
            values[column.key] = given[column.key]
        elif column.default is not None:
            default = cast(Any, column.default)
            values[column.key] = default.arg(None) if default.is_callable else default.arg
        elif not column.primary_key:
            values[column.key] = None
    await write(session)
    direct = await sqlite_direct.of(session)
    if direct is not None:
        names = tuple(values)
        prepared = _PREPARED.get((table.name, names))
        if prepared is None:
            prepared = _PREPARED[(table.name, names)] = Prepared(insert(table), names)
        (primary,) = table.primary_key.columns
        values[primary.key] = prepared.execute(direct, values).lastrowid
    else:
        statement = _INSERTS.get(table.name)
        if statement is None:
            statement = _INSERTS[table.name] = insert(table)
        result = await (await connection_of(session)).execute(statement, values)
        key = result.inserted_primary_key
        assert key is not None
        values.update(zip((c.key for c in table.primary_key.columns), key, strict=True))
    # As the ORM's loading does: the values straight into the instance's dict, then committed.
    inspect(row).dict.update(values)
    make_transient_to_detached(row)
    session.add(row)
    session.info.setdefault(_INSERTED, []).append(row)


async def update_changed(session: AsyncSession, rows: Iterable[Base]) -> None:
    """On SQLite's inline connection: each of `rows` that has changed columns is UPDATEd now by one
    sqlite3 call setting just those columns, and told it is stored, so the session's flush finds
    nothing left to do for it (the unit of work cost more than the statement). Anything else (other
    databases, a change that is not plain columns) is left to the flush."""
    direct = sqlite_direct.known(session)
    if direct is None:
        return
    for row in rows:
        state = inspect(row)
        if not state.modified or state.key is None or state.expired_attributes:
            continue
        table = cast(Table, row.__table__)
        names = tuple(sorted(state.committed_state))
        if not names or any(name not in table.c for name in names):
            continue
        prepared = _PREPARED.get((table.name, ("update", *names)))
        if prepared is None:
            (primary,) = table.primary_key.columns
            prepared = _PREPARED[(table.name, ("update", *names))] = Prepared(
                update(table).where(primary == bindparam("_pk")), names)
        values = {name: state.dict[name] for name in names}
        values["_pk"] = state.key[1][0]
        if prepared.execute(direct, values).rowcount != 1:
            raise StaleDataError(f"{table.name} {values['_pk']} was not there to update")
        # Stored: the attributes' changes are now their committed values (as after a flush).
        state._commit_all(state.dict, session.sync_session.identity_map)


@event.listens_for(WriteSession, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(_STAGED):
        _write_staged(state.session)
