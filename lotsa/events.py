"""Publish/subscribe of conversation events to the open consoles and chats.

`EventPublisher` is the interface every part uses; `EventBus` is the in-process implementation
(one worker, SQLite). Another implementation (PostgreSQL LISTEN/NOTIFY for several workers) can
replace it without touching callers. Events carry ids and small payloads: the database stays the
truth, and a subscriber that falls too far behind is dropped and catches up from it.

A change to the database announces its events with it (`write_announcing`, or
`Conversations.change()`): `publish_in` before the commit, in the transaction (with several workers a
NOTIFY, which PostgreSQL delivers only if and when the transaction commits), then `published` after
it (this process's subscribers). An event that changes nothing stored (typing, a throttle's state)
is `publish`ed alone.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from lotsa.db import Database

log = logging.getLogger(__name__)

QUEUE_TOPIC = "queue"
CONSOLE_TOPIC = "console"
SESSION_TOPIC = "session"
"""Staff sessions that ended (log-out, expiry, account disabled): every console socket listens."""
CONFIG_TOPIC = "config"
"""A configuration version was published (a triage script, texts, queues): every worker switches."""


RESYNC = "resync"
"""The kind of the event every subscription gets when events may have been missed (a worker's link
to the others was down): each re-reads what it shows. Its data: `since`, the Unix time from which
it may have missed them."""


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class Event:
    kind: str  # "message", "state", "typing", "note", "presence", "session_ended", "alert", "config", "resync"
    conversation_id: int
    data: dict[str, Any] = field(default_factory=dict)


Announcement = tuple[str, Event]
"""An event and the topic it goes to."""


class Subscription:
    def __init__(self, topics: set[str], size: int) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(size)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


class EventPublisher(ABC):
    """Where every change is announced, after its transaction committed."""

    @abstractmethod
    def publish(self, topic: str, event: Event) -> None:
        """Deliver `event` to every subscriber of `topic`; never blocks, never raises. For what
        changes nothing stored: a change announces its events with its commit (`write_announcing`)."""

    @abstractmethod
    async def publish_in(self, session: AsyncSession, announcements: Sequence[Announcement]) -> None:
        """In the transaction, before its commit: send what must reach other workers with it (and
        only if it commits)."""

    @abstractmethod
    def published(self, announcements: Sequence[Announcement]) -> None:
        """After the commit of a transaction that `publish_in` saw: this process's subscribers."""

    @abstractmethod
    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]:
        """An async context manager yielding a subscription to `topics` (async-iterate it)."""

    @abstractmethod
    def version(self, topic: str) -> int:
        """How many events were published on `topic` so far: what was read from the database
        before a publish may be out of date after it (see handoff.queue_state)."""

    @abstractmethod
    def close(self) -> None:
        """End every subscription (at shutdown)."""

    @abstractmethod
    async def start(self) -> None:
        """Connect what reaches other workers, if anything (the service's start)."""

    @abstractmethod
    async def stop(self) -> None:
        """Disconnect it, after `close` (the service's end)."""


class EventBus(EventPublisher):
    """The in-process publisher: subscribers in this process get a bounded queue each."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._size = queue_size
        self._versions: dict[str, int] = {}

    def version(self, topic: str) -> int:
        return self._versions.get(topic, 0)

    async def start(self) -> None:
        """Nothing to connect: one process."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def publish_in(self, session: AsyncSession, announcements: Sequence[Announcement]) -> None:
        """One process: nothing to send before the commit."""

    def published(self, announcements: Sequence[Announcement]) -> None:
        for topic, event in announcements:
            self.publish(topic, event)

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        sub = Subscription(set(topics), self._size)
        for topic in topics:
            self._subs.setdefault(topic, set()).add(sub)
        try:
            yield sub
        finally:
            self._remove(sub)

    def _remove(self, sub: Subscription) -> None:
        for topic in sub.topics:
            subs = self._subs.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[topic]

    def publish(self, topic: str, event: Event) -> None:
        self._versions[topic] = self._versions.get(topic, 0) + 1
        for sub in list(self._subs.get(topic, ())):
            self._offer(sub, event, topic)

    def _offer(self, sub: Subscription, event: Event, topic: str) -> None:
        try:
            sub.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("event subscriber fell behind and was dropped", extra={"topic": topic})
            self._remove(sub)
            sub.queue.get_nowait()
            sub.queue.put_nowait(None)

    def broadcast(self, event: Event) -> None:
        """Deliver `event` once to every subscription, whatever its topics, and make every shared
        read out of date (a resync)."""
        for topic in {*self._versions, QUEUE_TOPIC}:
            self._versions[topic] = self._versions.get(topic, 0) + 1
        for sub in {sub for subs in self._subs.values() for sub in subs}:
            self._offer(sub, event, "*")

    def close(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                self._remove(sub)
                if sub.queue.full():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)


@asynccontextmanager
async def write_announcing(db: Database, events: EventPublisher) -> AsyncIterator[tuple[AsyncSession,
                                                                                      list[Announcement]]]:
    """`db.write()` with a list for the events the change makes: they are announced with the commit
    (see the module's docstring), never if it rolls back."""
    announcements: list[Announcement] = []
    async with db.write() as session:
        yield session, announcements
        if announcements:
            await events.publish_in(session, announcements)
    if announcements:
        events.published(announcements)
