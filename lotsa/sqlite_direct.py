"""The inbound path's statements run as plain `sqlite3` calls on SQLite's inline connection.

SQLite answers each statement of an inbound message in a few microseconds from its page cache;
SQLAlchemy's execution around it (an execution context, parameter coercion, a result object, the
greenlet switch) cost about 0.15 ms per statement, about ten statements per message: the largest
part of a message's CPU after the ORM flushes were gone (benchmarks/RESULTS.md, third round).

A `Prepared` statement is an ordinary Core statement compiled once for the connection's dialect.
Its parameters go through the same bind processors SQLAlchemy would apply (UTC datetimes as text,
JSON serialised), and its result rows through the same result processors, so what is stored and
read is what the Core statement would store and read; the SQL is the Core statement's own.

It runs on the `sqlite3.Connection` of the session's own transaction (`of`), so it is inside the
same transaction and savepoint as everything else the session does, and bypasses only the ORM's
autoflush, as Core statements on the session's connection did before. On any other database
(PostgreSQL, or SQLite through plain aiosqlite in memory) `of` answers None and callers keep their
Core statements.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement

from lotsa.sqlite_inline import InlineConnection

_DIRECT = "lotsa_sqlite_direct"
_CONNECTION = "lotsa_connection"


class Counter:
    """Statements run here (SQLAlchemy's `before_cursor_execute` does not see them): read by
    benchmarks.inbound_cost. An `executemany` counts once, as it does for SQLAlchemy."""

    statements = 0


@dataclass(frozen=True)
class Direct:
    raw: sqlite3.Connection
    dialect: Dialect


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """The connection of the session's transaction, for Core statements; asked of the session once
    per transaction (each `session.connection()` is a greenlet switch and the ORM's bookkeeping)."""
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return cast(AsyncConnection, kept[1])
    connection = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), connection)
    return connection


async def of(session: AsyncSession) -> Direct | None:
    """The session's transaction's sqlite3 connection (with its dialect), or None when the
    database is not SQLite on an inline connection."""
    connection = await connection_of(session)
    kept = session.info.get(_DIRECT)
    if kept is not None and kept[0] is connection:
        return cast(Direct | None, kept[1])
    sync = connection.sync_connection
    driver = getattr(sync.connection.dbapi_connection, "driver_connection", None) if sync is not None else None
    direct = Direct(driver.raw, connection.dialect) if isinstance(driver, InlineConnection) else None
    session.info[_DIRECT] = (connection, direct)
    return direct


def known(session: Any) -> Direct | None:
    """The `Direct` of the session's transaction if `of` found one already (for synchronous code)."""
    kept = session.info.get(_DIRECT)
    return cast(Direct | None, kept[1]) if kept is not None else None


def run(direct: Direct, sql: str) -> None:
    """A statement without parameters (a savepoint's)."""
    Counter.statements += 1
    direct.raw.execute(sql)


class _Compiled:
    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled: Any = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        self.sql: str = compiled.string
        if "POSTCOMPILE" in self.sql:
            raise ValueError("an expanding parameter (IN) cannot be compiled once: " + self.sql)
        self.defaults: dict[str, Any] = compiled.construct_params(_check=False)
        processors = compiled._bind_processors
        self.binds = [(name, processors.get(name)) for name in compiled.positiontup or ()]
        self.keys = [entry.keyname for entry in getattr(compiled, "_result_columns", None) or ()]
        self.readers = [entry.type._cached_result_processor(dialect, None)
                        for entry in getattr(compiled, "_result_columns", None) or ()]

    def parameters(self, given: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, process in self.binds:
            value = given[name] if name in given else self.defaults[name]
            values.append(process(value) if process is not None else value)
        return tuple(values)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return {key: (read(value) if read is not None else value)
                for key, read, value in zip(self.keys, self.readers, values, strict=True)}


class Prepared:
    """A Core statement compiled once (per dialect and set of column keys) and run by sqlite3."""

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = tuple(column_keys) if column_keys else None
        self._compiled: _Compiled | None = None

    def _for(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None:
            self._compiled = _Compiled(self.statement, dialect, self.column_keys)
        return self._compiled

    def execute(self, direct: Direct, parameters: Mapping[str, Any]) -> sqlite3.Cursor:
        compiled = self._for(direct.dialect)
        Counter.statements += 1
        return direct.raw.execute(compiled.sql, compiled.parameters(parameters))

    def executemany(self, direct: Direct, rows: Iterable[Mapping[str, Any]]) -> sqlite3.Cursor:
        compiled = self._for(direct.dialect)
        Counter.statements += 1
        return direct.raw.executemany(compiled.sql, [compiled.parameters(row) for row in rows])

    def first(self, direct: Direct, parameters: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a SELECT as {column key: value}, processed as SQLAlchemy would."""
        found = self.execute(direct, parameters).fetchone()
        return None if found is None else self._for(direct.dialect).row(found)
