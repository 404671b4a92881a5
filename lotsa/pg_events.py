"""Events across worker processes: PostgreSQL LISTEN/NOTIFY behind the `EventPublisher` interface.

Every worker keeps the in-process `EventBus` for its own subscribers and sends what it publishes to
the others with NOTIFY; what it hears from the others it publishes on its own bus.

- **Once, not twice.** A worker delivers its own events locally and skips them when they come back
  from PostgreSQL (each payload names the worker it came from).
- **With the commit.** A change's events are NOTIFYs sent inside its own transaction
  (`publish_in`): PostgreSQL delivers them when, and only when, it commits, so a worker killed
  right after a commit has announced it already, and nothing is announced that a rollback took back.
  What changes nothing stored (typing) goes on the listening connection, in autocommit (`publish`).
- **Small payloads.** Ids, kinds, states. One channel per topic family (`lotsa_queue`,
  `lotsa_console`, `lotsa_session`, `lotsa_conversation`, `lotsa_config`). A message or note too
  long for NOTIFY's 8000-byte limit travels as its id; the listening worker reads it from the
  database (the truth).
- **Order.** PostgreSQL delivers notifications in commit order; one consumer per worker hands on
  what arrived in that order, re-reading where needed before the next event.
- **A lost connection.** The worker reconnects with backoff and, since it may have missed events,
  sends every local subscription a `resync` event (with the time from which it may have missed
  them): consoles read the queue again and the messages they hold since then, chats their messages
  and state since the last one they have, shared reads start over. Sockets stay open. Events it
  published on the listening connection meanwhile are sent after it reconnects.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # ships no type information
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.conversations import message_json
from lotsa.db import Database
from lotsa.events import (
    CONFIG_TOPIC,
    CONSOLE_TOPIC,
    QUEUE_TOPIC,
    RESYNC,
    SESSION_TOPIC,
    Announcement,
    Event,
    EventBus,
    EventPublisher,
    Subscription,
)
from lotsa.models import Message, StaffUser

log = logging.getLogger(__name__)

NOTIFY_LIMIT = 7900
"""Bytes of a NOTIFY payload we send at most (PostgreSQL refuses 8000 and more)."""
FAMILIES = {QUEUE_TOPIC: "lotsa_queue", CONSOLE_TOPIC: "lotsa_console", SESSION_TOPIC: "lotsa_session",
            CONFIG_TOPIC: "lotsa_config"}
CONVERSATION_CHANNEL = "lotsa_conversation"
MISSED_MARGIN = 2.0
"""Seconds before the last sign of life of a lost connection from which a resync re-reads: what
was committed just before it went may not have arrived yet."""
NOTIFY_IN = text("SELECT pg_notify(c, p) FROM unnest(CAST(:channels AS text[]), CAST(:payloads AS text[])) AS n(c, p)")
"""A transaction's notifications in one round trip, in order."""
MAX_UNSENT = 10_000
"""Events kept while the connection is down; beyond that the oldest go, and a resync follows."""


def channel_of(topic: str) -> str:
    return FAMILIES.get(topic, CONVERSATION_CHANNEL)


def connect_kwargs(url: str, application_name: str = "lotsa") -> dict[str, Any]:
    """asyncpg's connection arguments from a SQLAlchemy URL (`postgresql+asyncpg://…`); the
    application name tells the connections apart in pg_stat_activity."""
    parsed = make_url(url)
    return {"user": parsed.username, "password": parsed.password, "host": parsed.host,
            "port": parsed.port or 5432, "database": parsed.database,
            "server_settings": {"application_name": application_name}}


def encode(origin: str, serial: int, topic: str, event: Event) -> str:
    """The NOTIFY payload; a too-long message or note becomes its id (`serial` keeps two equal
    events in one transaction from being merged by PostgreSQL)."""
    body = {"o": origin, "n": serial, "t": topic, "k": event.kind, "c": event.conversation_id, "d": event.data}
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if len(payload.encode()) <= NOTIFY_LIMIT:
        return payload
    data = dict(event.data)
    for key in ("message", "note"):
        if isinstance(data.get(key), dict):
            data[key] = {"reread": data[key]["id"]}
    body["d"] = data
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


Reader = Callable[[AsyncSession, int], Awaitable[dict[str, Any] | None]]
"""Reads what an event's data carried (a message, a note) by its id, shaped as the event had it."""


async def read_message(session: AsyncSession, message_id: int) -> dict[str, Any] | None:
    row = (await session.execute(select(Message, StaffUser.name).outerjoin(
        StaffUser, Message.author_id == StaffUser.id).where(Message.id == message_id))).first()
    return message_json(row[0], row[1]) if row is not None else None


async def reread(db: Database, readers: Mapping[str, Reader], data: dict[str, Any]) -> dict[str, Any] | None:
    """An event's data with what was sent as its id read from the database (None: gone meanwhile)."""
    data = dict(data)
    async with db.read() as session:
        for key, value in list(data.items()):
            if isinstance(value, dict) and "reread" in value:
                if key not in readers:
                    return None
                data[key] = await readers[key](session, int(value["reread"]))
                if data[key] is None:
                    return None
    return data


def _set_lost(lost: asyncio.Future[None], _conn: object) -> None:
    if not lost.done():
        lost.set_result(None)


class PgEventBus(EventPublisher):
    def __init__(self, db: Database, readers: Mapping[str, Reader] | None = None, queue_size: int = 1000,
                 max_backoff: float = 5.0, keepalive: float = 5.0) -> None:
        self.db = db
        self.readers = {"message": read_message, **(readers or {})}
        self.local = EventBus(queue_size)
        self.origin = secrets.token_hex(8)
        self.max_backoff = max_backoff
        self.keepalive = keepalive
        self._unsent: deque[Announcement] = deque()
        self._overflowed = False
        self._serial = 0
        self._wake = asyncio.Event()
        self._heard: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()
        self.resyncs = 0
        """How many times this worker told its subscribers to re-read (diagnostics, tests)."""
        self.alive_at = time.time()
        """When the listening connection last showed it works (Unix time)."""

    # -- EventPublisher --------------------------------------------------------------------------

    def publish(self, topic: str, event: Event) -> None:
        self.local.publish(topic, event)
        if len(self._unsent) >= MAX_UNSENT:
            self._unsent.popleft()
            self._overflowed = True
        self._unsent.append((topic, event))
        self._wake.set()

    async def publish_in(self, session: AsyncSession, announcements: Sequence[Announcement]) -> None:
        if not announcements:
            return
        channels, payloads = [], []
        for topic, event in announcements:
            channels.append(channel_of(topic))
            payloads.append(self._encode(topic, event))
        await session.execute(NOTIFY_IN, {"channels": channels, "payloads": payloads})

    def published(self, announcements: Sequence[Announcement]) -> None:
        for topic, event in announcements:
            self.local.publish(topic, event)

    def _encode(self, topic: str, event: Event) -> str:
        self._serial += 1
        return encode(self.origin, self._serial, topic, event)

    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]:
        return self.local.subscribe(*topics)

    def version(self, topic: str) -> int:
        return self.local.version(topic)

    def close(self) -> None:
        self.local.close()

    async def start(self) -> None:
        """Connect (waiting for the first connection, so no event of a starting worker is lost)."""
        self._tasks = [asyncio.create_task(self._connection_loop(), name="pg-events"),
                       asyncio.create_task(self._hand_on(), name="pg-events-heard")]
        await self.connected.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the connection --------------------------------------------------------------------------

    async def _connection_loop(self) -> None:
        delay, first = 0.1, True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(**connect_kwargs(self.db.url, "lotsa-events"), timeout=10)
                lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                conn.add_termination_listener(partial(_set_lost, lost))
                for channel in {*FAMILIES.values(), CONVERSATION_CHANNEL}:
                    await conn.add_listener(channel, self._on_notify)
                if not first:
                    log.warning("event connection back: subscribers re-read")
                    self.resync(self.alive_at - MISSED_MARGIN)
                first, delay = False, 0.1
                self.alive_at = time.time()
                self.connected.set()
                await self._send_until_lost(conn, lost)
            except asyncio.CancelledError:
                if conn is not None:
                    await conn.close(timeout=2)
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
                log.warning("event connection lost; reconnecting", extra={"error": type(e).__name__,
                                                                          "retry_s": delay})
            if conn is not None and not conn.is_closed():
                conn.terminate()
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    async def _send_until_lost(self, conn: asyncpg.Connection, lost: asyncio.Future[None]) -> None:
        while not lost.done():
            if self._overflowed:
                self._overflowed = False
                self._unsent.clear()
                self._unsent.append((QUEUE_TOPIC, Event(RESYNC, 0, {"since": self.alive_at - MISSED_MARGIN})))
            if self._unsent:
                batch = list(self._unsent)
                args = [(channel_of(topic), self._encode(topic, event)) for topic, event in batch]
                await conn.executemany("SELECT pg_notify($1, $2)", args)
                for _ in batch:
                    self._unsent.popleft()
                self.alive_at = time.time()
                continue
            self._wake.clear()
            woken: asyncio.Future[Any] = asyncio.ensure_future(self._wake.wait())
            try:
                done, _ = await asyncio.wait({woken, lost}, timeout=self.keepalive)
            finally:
                woken.cancel()
            if not done:
                # A quiet connection would not notice a server that went away.
                await conn.fetchval("SELECT 1", timeout=self.keepalive)
                self.alive_at = time.time()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.alive_at = time.time()
        self._heard.put_nowait(payload)

    async def _hand_on(self) -> None:
        """Publish what other workers sent on this worker's bus, in the order it arrived."""
        while True:
            payload = await self._heard.get()
            try:
                body = json.loads(payload)
                if body.get("o") == self.origin:
                    continue
                if body["k"] == RESYNC:
                    self.resync(float(body["d"]["since"]))
                    continue
                data = body["d"]
                if any(isinstance(v, dict) and "reread" in v for v in data.values()):
                    data = await reread(self.db, self.readers, data)
                    if data is None:
                        continue   # erased meanwhile: nothing to show
                self.local.publish(body["t"], Event(body["k"], int(body["c"]), data))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event from another worker could not be handed on")

    def resync(self, since: float) -> None:
        """Events from `since` (Unix time) on may have been missed: every shared read is out of date,
        and every subscription gets a `resync` event and re-reads what it shows."""
        self.resyncs += 1
        self.local.broadcast(Event(RESYNC, 0, {"since": since}))


def publisher_for(db: Database, readers: Mapping[str, Reader] | None = None) -> EventPublisher:
    """LISTEN/NOTIFY across workers on PostgreSQL; the in-process bus on SQLite (one worker).
    `readers`: what else than messages an event may carry too big for NOTIFY (notes)."""
    return EventBus() if db.sqlite else PgEventBus(db, readers)
