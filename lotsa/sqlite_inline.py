"""SQLite for SQLAlchemy's aiosqlite dialect, run on the event loop's own thread.

aiosqlite runs every call in a thread of its own: a statement through SQLAlchemy is four hops
there and back (cursor, execute, fetch, close), each a queue put, a thread wake-up and a callback
on the loop. At a dozen statements per inbound message that was about 90 hops per message, and
the largest part of its cost (benchmarks/RESULTS.md). SQLite itself answers these statements in
microseconds from its page cache, so this connection runs them in place. Only a COMMIT that wrote
goes to a thread: it waits for the disk (fsync, `synchronous=FULL`), and the loop serves others
meanwhile.

Running in place is safe because a statement never waits for another connection of this process:
writers take `Database`'s write lock before `BEGIN IMMEDIATE` (one writer at a time), and readers
in WAL mode never wait for writers. Another process holding the write lock (a `lotsa` command) is
waited for without blocking the loop: these connections have no busy timeout, and a statement that
finds the database locked is tried again after an asyncio sleep, for up to BUSY_SECONDS.

This module offers what SQLAlchemy's aiosqlite adapter uses of an aiosqlite connection, no more.
"""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

BUSY_SECONDS = 10.0
"""How long a statement waits for another process's lock before it fails (as busy_timeout did)."""


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class _InPlace:
    """Stands in for aiosqlite's work queue, where the adapter puts its isolation-level change."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as e:
            future.set_exception(e)


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        waited, attempt = 0.0, 0
        while True:
            try:
                if parameters is None:
                    self._cursor.execute(sql)
                else:
                    self._cursor.execute(sql, parameters)
                return self
            except sqlite3.OperationalError as e:
                if not _busy(e) or waited >= BUSY_SECONDS:
                    raise
            # Another process holds the lock: wait for it here, the loop serving others meanwhile
            # (SQLite's own busy handler would sleep on the loop's thread).
            pause = min(0.002 * 2 ** attempt, 0.05)
            await asyncio.sleep(pause)
            waited, attempt = waited + pause, attempt + 1

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._tx = _InPlace()
        self._committed_changes = connection.total_changes

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (`lotsa.sqlite_direct`)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        cursor = await self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        if self._conn.total_changes != self._committed_changes:
            # The only call that waits for the disk: off the loop. Nothing else uses this
            # connection meanwhile (its session awaits this commit).
            await asyncio.to_thread(self._conn.commit)
            self._committed_changes = self._conn.total_changes
        else:
            self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()
        self._committed_changes = self._conn.total_changes

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def creator(path: str) -> Callable[[], Any]:
    """`async_creator` for create_async_engine: a connection to the SQLite file at `path`."""
    async def connect() -> InlineConnection:
        # check_same_thread off: the commit runs in a worker thread, while the session waits for it.
        return InlineConnection(sqlite3.connect(path, check_same_thread=False, isolation_level=None))
    return connect
