"""Engine, sessions and migrations.

SQLite (the default) runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE`: it takes the write lock up front, so it waits (busy timeout) instead of failing
with SQLITE_BUSY when a read lock would later need upgrading. Reads start a plain deferred BEGIN and
never block writers.

In this process one write transaction runs at a time (`Database.write` holds a lock from before
`BEGIN IMMEDIATE` to after the commit): several pooled connections each opening `BEGIN IMMEDIATE`
made SQLite's busy handler sleep them in steps of up to 100 ms. With no writer of this process
ever waiting for another inside SQLite, statements run on the event loop's thread
(`lotsa.sqlite_inline`) instead of a thread hop each.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from lotsa import sqlite_inline
from lotsa.direct_writes import WriteSession

_WRITE = "lotsa_write"


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a cursor result)."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, say when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Inline connections wait for another process's lock themselves, off the loop's thread.
        inline = isinstance(getattr(dbapi_connection, "driver_connection", None), sqlite_inline.InlineConnection)
        cursor.execute(f"PRAGMA busy_timeout={0 if inline else 10000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def _ensure_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if is_sqlite(url) and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
        database = make_url(url).database
        inline = {"async_creator": sqlite_inline.creator(database)} if database and database != ":memory:" else {}
        engine = create_async_engine(url, pool_size=8, max_overflow=4, **inline)
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    """Sessions for one database: `read()` for queries, `write()` for one atomic write transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sqlite = is_sqlite(url)
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = async_sessionmaker(self.engine.execution_options(**{_WRITE: True}),
                                         expire_on_commit=False, sync_session_class=WriteSession)
        self._one_writer = asyncio.Lock() if self.sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction, committed when the block ends without an exception."""
        if self._one_writer is None:
            async with self._write() as session, session.begin():
                yield session
            return
        async with self._one_writer, self._write() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str, secret: bytes | None = None) -> Config:
    """`secret`: the secret key, for a migration that encrypts what was stored in plain text."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("lotsa") / "migrations"))
    cfg.attributes["database_url"] = url
    if secret is not None:
        cfg.attributes["secret_key"] = secret
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, secret: bytes | None = None) -> None:
    """Apply every migration (blocking; call from a thread inside an event loop)."""
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url, secret), "head")
